"""Why the configured event store cannot be reached, made or found, told in one to three lines that say what is wrong and what to check; and when it is only busy (its write lock held past the wait)."""

import re
import sqlite3
import sys

from eventsourcing.persistence import ConnectionUnavailableError

from fourpi.config import DATABASE_URL_VARIABLE, Database

WHERE_TO_CHECK = f"--database (or ${DATABASE_URL_VARIABLE})"


class StoreUnavailable(Exception):
    """The store cannot be used: the message says why and what to check, never as a
    traceback; the command line exits 1 with it.

    passing: the server did not answer, or ended the connection (restarting, failing
    over), so the same start may work later; else (a wrong name, password or
    parameter) it never will until the settings change."""

    def __init__(self, message: str, *, passing: bool = False) -> None:
        super().__init__(message)
        self.passing = passing


def sqlite_folder_unmade(database: Database, error: OSError) -> StoreUnavailable:
    folder = database.sqlite_path.rsplit("/", 1)[0] or "/"
    reason = error.strerror or str(error)
    return StoreUnavailable(
        f"cannot make the folder {folder} for the SQLite store: {reason}.\n"
        f"Check the path in {WHERE_TO_CHECK}."
    )


def sqlite_unopened(database: Database, error: Exception) -> StoreUnavailable:
    return StoreUnavailable(
        f"cannot open the SQLite store {database.sqlite_path}: {error}.\n"
        f"Check the path in {WHERE_TO_CHECK}, and that this user may write there."
    )


DRIVER_PREFIX = re.compile(
    r"^(connection failed: )?(connection to server at [^)]*?(\)|\"), port \d+ failed: )?"
    r"(FATAL: +)?",
)


def driver_reason(error: Exception) -> str:
    """The driver's own words, without its 'connection to server ... failed' preamble."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
    return DRIVER_PREFIX.sub("", first).strip().rstrip(".")


def postgres_unreachable(database: Database, error: Exception) -> StoreUnavailable:
    """A refused connection, an unknown database or role, a failed password, a
    parameter the driver refuses: each named, with what to check."""
    reason = driver_reason(error)
    server = f"the PostgreSQL server at {database.server}"
    # Only a name, a password or a parameter the server refused is lasting: any
    # other failure (refused, timed out, the database not accepting connections
    # yet, the connection ended) may pass.
    passing = False
    if re.search(r'database ".*" does not exist', reason):
        advice = f"Create it (createdb {database.dbname}) or name another database in"
    elif re.search(r'role ".*" does not exist', reason):
        advice = "Create the role on the server, or name another user in"
    elif "password" in reason.lower():
        advice = "Check the user and password in"
    elif "invalid" in reason.lower() and "option" in reason.lower():
        advice = "Check the parameters after '?' in"
    else:
        passing = True
        if "refused" in reason.lower() or "timeout expired" in reason.lower():
            advice = "Is the server running there? Check the host and port in"
        elif any(words in reason.lower() for words in CONNECTION_ENDED):
            advice = (
                "The server ended the connection (restarting, or failing over?): try "
                "again once it answers, and check"
            )
        else:
            advice = "Check"
    return StoreUnavailable(
        f"cannot use {server} (database {database.dbname!r}, user "
        f"{database.user!r}): {reason}.\n{advice} {WHERE_TO_CHECK}.",
        passing=passing,
    )


CONNECTION_ENDED = (
    "terminating connection",
    "server closed the connection",
    "connection is closed",
    "connection is lost",
    "the connection is bad",
)
"""What the driver says of a connection the server ended (PostgreSQL restarting,
failing over, or an administrator's pg_terminate_backend)."""


def no_store_there(database: Database) -> StoreUnavailable:
    """A command that only reads, pointed at a store that does not exist."""
    where = (
        database.sqlite_path
        if database.backend == "sqlite"
        else f"schema {database.schema!r} of {database.display}"
    )
    return StoreUnavailable(
        f"no fourpi store at {where}: nothing has been recorded there, and a command "
        f"that only reads makes none.\nCheck {WHERE_TO_CHECK}."
    )


STORE_BUSY = (
    "The store is busy with other work (such as an import of a whole log), so "
    "nothing was recorded or read. Try again in a minute."
)
STORE_UNREACHABLE = (
    "The store did not answer (it may be restarting), so this could not be done "
    "now. Send it again in a moment: a write sent again with the same "
    "idempotencyKey is recorded once."
)
STORE_BUSY_RETRY_SECONDS = 60
"""What a request refused as the store is busy is asked to wait."""
STORE_UNREACHABLE_RETRY_SECONDS = 5
"""What a request refused as the store did not answer is asked to wait."""
POSTGRES_LOCK_NOT_AVAILABLE = "55P03"


def store_busy(error: BaseException | None) -> bool:
    """Whether the store refused because another held its write lock for longer than
    a request waits (SQLite's "database is locked", PostgreSQL's lock timeout), or
    this process's pool lent no connection within its wait (its one connection for
    writing held by a command in its turn, fourpi.storage.sealing): the request did
    nothing, and the same request later will. Read along the chain of causes, as
    the library wraps the driver's error in its own."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, sqlite3.OperationalError) and "locked" in str(seen):
            return True
        if isinstance(seen, ConnectionUnavailableError):
            return True
        if getattr(seen, "sqlstate", None) == POSTGRES_LOCK_NOT_AVAILABLE:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def store_unreachable(error: BaseException | None) -> bool:
    """Whether PostgreSQL did not answer: it refused or ended the connection
    (restarting, failing over), or the pool lent none within its wait as it could
    not connect. Read along the chain of causes, as `store_busy`."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is None:
        return False  # only a PostgreSQL store loads its driver
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, psycopg.OperationalError | psycopg.InterfaceError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def store_refusal(error: BaseException | None) -> tuple[str, int] | None:
    """What a request that failed as the store was busy or did not answer is told,
    and how many seconds it is asked to wait before sending it again; None for any
    other failure (unexpected: logged with an id)."""
    if store_busy(error):
        return STORE_BUSY, STORE_BUSY_RETRY_SECONDS
    if store_unreachable(error):
        return STORE_UNREACHABLE, STORE_UNREACHABLE_RETRY_SECONDS
    return None
