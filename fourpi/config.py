"""Configuration from the environment: where the event store lives, with documented defaults."""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from fourpi.domain.record import parse_digits

DATABASE_URL_VARIABLE = "FOURPI_DATABASE_URL"


def default_database_path() -> Path:
    """$XDG_DATA_HOME/fourpi/fourpi.sqlite3, so every directory sees the same record."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "fourpi" / "fourpi.sqlite3"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


class DatabaseURLError(ValueError):
    pass


@dataclass(frozen=True)
class Database:
    """A parsed database URL: SQLite (a file) or PostgreSQL (a server and schema)."""

    url: str
    backend: str
    sqlite_path: str = ""
    host: str = ""
    port: int = 5432
    user: str = ""
    password: str = ""
    dbname: str = ""
    schema: str = "public"
    options: tuple[tuple[str, str], ...] = ()
    """The URL's parameters other than schema (sslmode, connect_timeout, ...), given
    to the driver as they are: psycopg refuses one it does not know, by name."""

    @property
    def display(self) -> str:
        """The URL with any password hidden, for messages and logs."""
        if self.backend == "sqlite":
            return self.url
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}?schema={self.schema}"

    @property
    def server(self) -> str:
        """The PostgreSQL server, as host:port, for messages."""
        return f"{self.host}:{self.port}"

    def eventsourcing_env(self) -> dict[str, str]:
        """The settings eventsourcing's persistence modules read."""
        common = {"TRANSCODER_TOPIC": "fourpi.storage.transcoder:OrjsonTranscoder"}
        if self.backend == "sqlite":
            return common | {
                # The library's SQLite, with secure_delete on every connection.
                "PERSISTENCE_MODULE": "fourpi.privacy.keystore:SecureSQLiteFactory",
                "APPLICATION_RECORDER_TOPIC": "fourpi.storage.sealing:SealingSQLiteRecorder",
                "SQLITE_DBNAME": self.sqlite_path,
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        return common | {
            "PERSISTENCE_MODULE": "fourpi.storage.postgres_factory:OptionsPostgresFactory",
            "APPLICATION_RECORDER_TOPIC": "fourpi.storage.sealing_postgres:SealingPostgresRecorder",
            # The library's database functions insert without the sealing hook.
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_LOCK_TIMEOUT": "30",
            # The URL's other parameters reach the driver (fourpi.storage.postgres_factory).
            "POSTGRES_CONNECTION_OPTIONS": urlencode(self.options),
        }


def without_password(url: str) -> str:
    """The URL as messages show it: a password in it replaced by ***."""
    scheme, separator, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if not (separator and at and ":" in user):
        return url
    return f"{scheme}://{user.partition(':')[0]}:***@{host}{slash}{path}"


def parse_database_url(url: str) -> Database:
    """sqlite:///relative/path, sqlite:////absolute/path, or postgresql://user:password@host:port/dbname?schema=name."""
    shown = without_password(url)
    try:
        parts = urlsplit(url)
    except ValueError:  # urllib's only complaint here: an unclosed [
        raise DatabaseURLError(
            f"database URL {shown!r}: an IPv6 host goes in brackets, as "
            "postgresql://user@[::1]:5432/dbname"
        ) from None
    if parts.scheme == "sqlite":
        raw = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not raw:
            raise DatabaseURLError(
                f"database URL {shown!r}: a SQLite URL is sqlite:///path/to/file.sqlite3"
            )
        path = (
            raw if raw == ":memory:" else str(Path(unquote(raw)).expanduser().resolve())
        )
        return Database(url=f"sqlite:///{path}", backend="sqlite", sqlite_path=path)
    if parts.scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise DatabaseURLError(
                f"database URL {shown!r}: name the database, as in "
                "postgresql://user@127.0.0.1:5432/dbname"
            )
        parameters = parse_qsl(parts.query, keep_blank_values=True)
        schema = dict(parameters).get("schema", "public")
        if not schema.replace("_", "").isalnum():
            raise DatabaseURLError(
                f"database URL {shown!r}: schema must be letters, digits and underscores"
            )
        try:
            port = parts.port
        except ValueError:  # not digits, or past 65535
            port = 0
        if port == 0:
            raise DatabaseURLError(
                f"database URL {shown!r}: the port must be a number from 1 to 65535, "
                "as postgresql://user@127.0.0.1:5432/dbname"
            )
        return Database(
            url=url,
            backend="postgresql",
            host=parts.hostname or "127.0.0.1",
            port=port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
            dbname=dbname,
            schema=schema,
            options=tuple((k, v) for k, v in parameters if k != "schema"),
        )
    raise DatabaseURLError(
        f"database URL {shown!r}: the scheme must be sqlite or postgresql"
    )


def database_from_environment(url: str | None = None) -> Database:
    """The --database option, else $FOURPI_DATABASE_URL, else the default SQLite file."""
    chosen = url or os.environ.get(DATABASE_URL_VARIABLE) or default_database_url()
    return parse_database_url(chosen)


MASTER_KEY_VARIABLE = "FOURPI_MASTER_KEY"
MASTER_KEY_FILE_VARIABLE = "FOURPI_MASTER_KEY_FILE"


def default_master_key_path() -> Path:
    """$XDG_DATA_HOME/fourpi/master.key: beside the default SQLite database."""
    return default_database_path().parent / "master.key"


class MasterKeyError(ValueError):
    """The master key is missing, malformed, unreadable, or not the one the store's
    personal keys are wrapped under. The message never holds the key."""


@dataclass(frozen=True)
class MasterKeySource:
    """Where the master key, which wraps every person's key, is read from: outside
    the database, so a copy of the database alone reads no personal data.

    variable: $FOURPI_MASTER_KEY, the base64url of 32 bytes;
    path: a file holding the same (from $FOURPI_MASTER_KEY_FILE, or the default);
    create: the default file is made, readable by its owner only, on first use;
    ephemeral: an in-memory database gets a random key that dies with it.
    """

    variable: str | None = None
    path: Path | None = None
    create: bool = False
    ephemeral: bool = False

    @property
    def display(self) -> str:
        if self.variable is not None:
            return f"${self.variable}"
        if self.path is not None:
            return f"the key file {self.path}"
        return "a key for this in-memory database only"


def master_key_source(
    backend: str, environ: Mapping[str, str] | None = None, *, memory: bool = False
) -> MasterKeySource:
    """$FOURPI_MASTER_KEY, else $FOURPI_MASTER_KEY_FILE, else (SQLite only) the default
    key file beside the default database; PostgreSQL must be told which key to use."""
    environ = os.environ if environ is None else environ
    if environ.get(MASTER_KEY_VARIABLE):
        return MasterKeySource(variable=MASTER_KEY_VARIABLE)
    named = environ.get(MASTER_KEY_FILE_VARIABLE)
    if named:
        return MasterKeySource(path=Path(named).expanduser())
    if backend == "sqlite":
        if memory:
            return MasterKeySource(ephemeral=True)
        return MasterKeySource(path=default_master_key_path(), create=True)
    raise MasterKeyError(
        f"no master key is configured: a {backend} store needs one, the same in "
        f"every process. Set ${MASTER_KEY_VARIABLE} to the base64url of 32 random "
        f"bytes (`fourpi keys new-master-key` prints one), or "
        f"${MASTER_KEY_FILE_VARIABLE} to a file holding it. Keep it outside the "
        "database and back it up: without it no personal data can be read."
    )


PUBLIC_URL_VARIABLE = "FOURPI_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def public_url(environ: Mapping[str, str] | None = None) -> str:
    """Where people reach the web app, for the links we give them: http or https,
    a host, perhaps a port and a path, and nothing after them (a ? or # would end
    the path before the link's own); else ValueError naming the setting."""
    environ = os.environ if environ is None else environ
    given = environ.get(PUBLIC_URL_VARIABLE) or DEFAULT_PUBLIC_URL
    try:
        parts = urlsplit(given)
        usable = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and (parts.port is None or parts.port > 0)
            and not ("?" in given or "#" in given)
        )
    except ValueError:  # a port past 65535, or not digits; an unclosed [
        usable = False
    if not usable:
        raise ValueError(
            f"${PUBLIC_URL_VARIABLE}: must be where people reach the web app, as "
            f"https://fourpi.example.org, not {given!r}"
        )
    return given.rstrip("/")


GROUP_COMMIT_VARIABLE = "FOURPI_GROUP_COMMIT"
SWITCH_VALUES = {
    "1": True,
    "on": True,
    "yes": True,
    "true": True,
    "y": True,
    "0": False,
    "off": False,
    "no": False,
    "false": False,
    "n": False,
}


def group_commit_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """FOURPI_GROUP_COMMIT: whether saves made at the same time by different requests
    are committed together, in one transaction (on by default; `off` commits each save
    in a transaction of its own). Either way a save returns only once its events are
    committed, and an optimistic-concurrency conflict fails only its own save."""
    return switch(GROUP_COMMIT_VARIABLE, True, environ)


def switch(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    """An on/off setting from its environment variable; unset or empty: the default."""
    environ = os.environ if environ is None else environ
    raw = (environ.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in SWITCH_VALUES:
        raise ValueError(f"${name}: must be on or off, not {raw!r}")
    return SWITCH_VALUES[raw]


def environment_int(name: str, default: int, least: tuple[int, str] = (0, "")) -> int:
    """A whole-number setting, read by the one rule for numbers given as text
    (parse_digits): int() would take '٣' as 3 and '1_000' as 1000. `least` is the
    smallest value that still lets the thing work, and why."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    number = parse_digits(raw)
    if number is None:
        raise ValueError(
            f"${name}: must be a whole number in digits 0 to 9, not {raw!r}"
        )
    smallest, why = least
    if number < smallest:
        raise ValueError(f"${name}: must be at least {smallest} ({why}), not {raw!r}")
    return number


TIME_ZONE_VARIABLE = "FOURPI_TIME_ZONE"
DEFAULT_TIME_ZONE = "Europe/London"


def time_zone(environ: Mapping[str, str] | None = None) -> ZoneInfo:
    """FOURPI_TIME_ZONE: the time zone the organisation works in, by its name in the
    IANA database (Europe/London by default). It decides what date a moment falls on
    (today, the day a note was given, the day an as-of time judges reviews by) and
    what a time typed without its zone means; moments are kept in UTC whatever it is."""
    environ = os.environ if environ is None else environ
    return _zone_named(
        (environ.get(TIME_ZONE_VARIABLE) or "").strip() or DEFAULT_TIME_ZONE
    )


NO_PLACE = {
    "localtime": "that is this machine's own setting, not a place's",
    "Factory": "that is IANA's mark for a zone not yet chosen",
}
"""Files in the zone folder that ZoneInfo opens but that name no place: `localtime`
follows the server's own setting, so two servers would date one moment differently."""


@lru_cache(maxsize=8)
def _zone_named(name: str) -> ZoneInfo:
    # available_timezones leaves out what the folder holds beside the zones
    # (posixrules, and the right/ and posix/ copies of every zone).
    if name in available_timezones() and name not in NO_PLACE:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    why = f" ({NO_PLACE[name]})" if name in NO_PLACE else ""
    raise ValueError(
        f"${TIME_ZONE_VARIABLE}: must be a time zone name from the IANA database, "
        f"such as {DEFAULT_TIME_ZONE} or UTC, not {name!r}{why}"
    )


MOST_WAIT_SECONDS = 600
SECONDS = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?")


def environment_seconds(name: str, default: float) -> float:
    """A number of seconds to wait, from 0 to MOST_WAIT_SECONDS, in ASCII digits
    with an optional decimal part: float() would take '٣', '1_0', inf and nan."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if not SECONDS.fullmatch(raw) or float(raw) > MOST_WAIT_SECONDS:
        raise ValueError(
            f"${name}: must be a number of seconds from 0 to {MOST_WAIT_SECONDS}, "
            f"such as 5 or 0.5, not {raw!r}"
        )
    return float(raw)


SLOWEST_BODY_BYTES_PER_SECOND = 10_000
"""The slowest a request body may come past its first FOURPI_REQUEST_WAIT_SECONDS
(80 kbit/s, which any link manages): each 10,000 bytes that arrive give it a
second more."""


def request_wait_seconds(default: float) -> float:
    """FOURPI_REQUEST_WAIT_SECONDS, more than 0: at 0 every connection would be
    closed as it opened, before its request came."""
    name = "FOURPI_REQUEST_WAIT_SECONDS"
    seconds = environment_seconds(name, default)
    if seconds <= 0:
        raise ValueError(f"${name}: must be more than 0 seconds, not {seconds:g}")
    return seconds


@dataclass(frozen=True)
class ApiLimits:
    """Limits against abuse of the API; each can be set by its environment variable."""

    max_depth: int = 12
    """FOURPI_MAX_QUERY_DEPTH: how deeply a query may nest fields."""
    max_tokens: int = 2_000
    """FOURPI_MAX_QUERY_TOKENS: how many tokens a query document may have."""
    max_aliases: int = 15
    """FOURPI_MAX_QUERY_ALIASES: how many aliases a query may use."""
    max_body_bytes: int = 100_000
    """FOURPI_MAX_BODY_BYTES: the largest request body accepted."""
    request_wait_seconds: float = 10.0
    """FOURPI_REQUEST_WAIT_SECONDS: how long a request's head (its request line and
    headers) may take to arrive, and then its body, with a second more for each
    SLOWEST_BODY_BYTES_PER_SECOND bytes of the body that arrive."""
    max_page_size: int = 100
    """FOURPI_MAX_PAGE_SIZE: the most events one page of a connection may hold."""
    read_wait_seconds: float = 5.0
    """FOURPI_READ_WAIT_SECONDS: how long a live read waits for the views to catch up."""
    max_query_cost: int = 1_000
    """FOURPI_MAX_QUERY_COST: the most one request may cost (see fourpi.graphql.limits):
    a field costs 1, each distinct set of answers 100, an integrity check 400."""
    max_bad_tokens: int = 20
    """FOURPI_MAX_BAD_TOKENS: wrong bearer tokens one client address may send in a
    minute before it is refused (429) until the minute is over."""

    @classmethod
    def from_environment(cls) -> "ApiLimits":
        """Each limit as its variable sets it, refused below the least that still lets
        a query through (API_LIMITS_LEAST)."""

        def limit(name: str, default: int) -> int:
            return environment_int(name, default, API_LIMITS_LEAST[name])

        return cls(
            max_depth=limit("FOURPI_MAX_QUERY_DEPTH", cls.max_depth),
            max_tokens=limit("FOURPI_MAX_QUERY_TOKENS", cls.max_tokens),
            max_aliases=limit("FOURPI_MAX_QUERY_ALIASES", cls.max_aliases),
            max_body_bytes=limit("FOURPI_MAX_BODY_BYTES", cls.max_body_bytes),
            request_wait_seconds=request_wait_seconds(cls.request_wait_seconds),
            max_page_size=limit("FOURPI_MAX_PAGE_SIZE", cls.max_page_size),
            read_wait_seconds=environment_seconds(
                "FOURPI_READ_WAIT_SECONDS", cls.read_wait_seconds
            ),
            max_query_cost=limit("FOURPI_MAX_QUERY_COST", cls.max_query_cost),
            max_bad_tokens=limit("FOURPI_MAX_BAD_TOKENS", cls.max_bad_tokens),
        )


API_LIMITS_LEAST: dict[str, tuple[int, str]] = {
    "FOURPI_MAX_QUERY_DEPTH": (2, "a field and one inside it"),
    "FOURPI_MAX_QUERY_TOKENS": (100, "a short query"),
    "FOURPI_MAX_QUERY_ALIASES": (0, "a query needs none"),
    "FOURPI_MAX_BODY_BYTES": (1_000, "a short query and its JSON"),
    "FOURPI_MAX_PAGE_SIZE": (1, "one event a page"),
    "FOURPI_MAX_QUERY_COST": (500, "a set of answers with its integrity check"),
    "FOURPI_MAX_BAD_TOKENS": (1, "else one mistyped token shuts a client out"),
}
"""The least each API limit may be set to: below it no query, or no client, gets
through, and the API would be up yet useless."""


def check_contributor_settings() -> None:
    """A bad session, personal-link, email or small-number pattern setting, named
    before anything starts (a bad time zone is named for every command, FourPIGroup)."""
    from fourpi.accounts import SessionLimits
    from fourpi.notices import MailSettings
    from fourpi.personal_links import link_days
    from fourpi.projections.disclosure import pattern_seconds

    SessionLimits.from_environment()
    link_days()
    MailSettings.from_environment()
    pattern_seconds()
