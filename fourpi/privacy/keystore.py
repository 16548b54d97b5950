"""Per-person keys for personal data: each is 256 random bits, wrapped under a master key held outside the database and kept in a table apart from the events; destroying one erases its person's personal data for good.

Nothing here logs or raises with a key in it: a master key is named by its id, a
short fingerprint that cannot be turned back into the key.
"""

import base64
import binascii
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from uuid import UUID

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eventsourcing.persistence import (
    ConnectionPoolClosedError,
    InfrastructureFactory,
    IntegrityError,
    InterfaceError,
)
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteFactory,
)

from fourpi.config import (
    MASTER_KEY_FILE_VARIABLE,
    MASTER_KEY_VARIABLE,
    MasterKeyError,
    MasterKeySource,
    master_key_source,
)
from fourpi.domain.errors import InvalidInput
from fourpi.storage.postgres_reads import read_rows

KEY_BYTES = 32
NONCE_BYTES = 12
KEYS_TABLE = "fourpi_personal_keys"
"""One row per person: their wrapped key, or NULL once it is destroyed (a tombstone,
so a destroyed key is never made again)."""
META_TABLE = "fourpi_key_store"
"""The master key's id and a check value, so a wrong master key fails at once."""
KEYS_FORMAT = "fourpi-personal-keys"
CHECK_CONTEXT = b"master key check"
CHECK_PLAINTEXT = b"fourpi: this store's personal keys are wrapped under this key"

logger = logging.getLogger("fourpi.keys")


class SubjectErased(InvalidInput):
    """Personal data about an erased person was about to be written: refused."""


class PersonalKeyTaken(IntegrityError):
    """A new key's row was not stored, in the transaction of the events encrypted
    under it, because the person already had a row: another writer stored their first
    key just before, or they were erased. The transaction is rolled back, so none of
    those events is stored; the event store encrypts them again under the stored key
    (or refuses them with SubjectErased)."""


def new_master_key() -> str:
    """A fresh master key, as $FOURPI_MASTER_KEY and key files hold it."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode().rstrip("=")


MOST_KEY_FILE_BYTES = 4096
"""The most a master key file may hold: a key is 43 characters, with room to spare
for spaces and line ends."""


def parse_master_key(text: str, origin: str) -> bytes:
    cleaned = text.strip()
    try:
        raw = base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise MasterKeyError(
            f"{origin}: not a master key: it must be the base64url of {KEY_BYTES} "
            "bytes (43 characters), as `fourpi keys new-master-key` prints one "
            "(the value itself is not shown)"
        )
    return raw


class MasterKey:
    """The key every person's key is wrapped under; it never leaves this object."""

    __slots__ = ("_aead", "_secret", "id", "source")

    def __init__(self, secret: bytes, source: MasterKeySource) -> None:
        if len(secret) != KEY_BYTES:
            raise MasterKeyError(f"a master key is {KEY_BYTES} bytes")
        self._secret = secret
        self._aead = AESGCM(secret)
        self.source = source
        self.id = self.derive("key id")[:8].hex()
        """A fingerprint that names the key in messages without revealing it."""

    def __repr__(self) -> str:
        return f"MasterKey(id={self.id}, from {self.source.display})"

    def derive(self, purpose: str) -> bytes:
        """A key of its own for one purpose (HKDF-SHA256), independent of the others."""
        return HKDF(
            algorithm=SHA256(),
            length=KEY_BYTES,
            salt=None,
            info=f"fourpi/{purpose}".encode(),
        ).derive(self._secret)

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, data_key, b"fourpi/wrap\0" + context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], b"fourpi/wrap\0" + context
            )
        except InvalidTag:
            raise MasterKeyError(
                f"a personal key does not unwrap under the master key (id {self.id}) "
                f"from {self.source.display}: it is the wrong master key, or the key "
                "store was altered"
            ) from None


def load_master_key(
    source: MasterKeySource, environ: Any, *, warn: bool = True
) -> MasterKey:
    """The master key from where the configuration says it is (warn: say so if its
    file can be read by others; once a process is enough)."""
    if source.ephemeral:
        return MasterKey(os.urandom(KEY_BYTES), source)
    if source.variable is not None:
        return MasterKey(
            parse_master_key(environ.get(source.variable) or "", f"${source.variable}"),
            source,
        )
    assert source.path is not None
    path = source.path
    if source.create and not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(descriptor, "w") as out:
                out.write(new_master_key() + "\n")
            logger.info("created a new master key file at %s", path)
    try:
        # Read no further than a key could need: a file of another kind, or an
        # endless one (/dev/zero), is refused as not a key, not read for ever.
        with path.open("rb") as file:
            held = file.read(MOST_KEY_FILE_BYTES + 1)
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise MasterKeyError(
            f"{path}: no such master key file (${MASTER_KEY_FILE_VARIABLE} names it)"
        ) from None
    except OSError as error:
        raise MasterKeyError(
            f"{path}: the master key file cannot be read ({error.strerror})"
        ) from None
    if warn and mode & 0o077:
        logger.warning(
            "the master key file %s can be read by others: `chmod 600` it", path
        )
    text = held.decode(errors="replace") if len(held) <= MOST_KEY_FILE_BYTES else ""
    return MasterKey(parse_master_key(text, str(path)), source)


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


# Where the keys are kept: a table in the store's own database.


@dataclass(frozen=True)
class KeyRow:
    participant_id: UUID
    organisation_id: UUID
    wrapped_key: bytes | None
    created_at: str
    destroyed_at: str | None


class KeyTable:
    """The key store's two tables on one backend."""

    def create_tables(self) -> None:
        raise NotImplementedError

    def meta(self, name: str) -> str | None:
        raise NotImplementedError

    def put_meta_if_absent(self, name: str, value: str) -> None:
        raise NotImplementedError

    def row(self, participant_id: UUID) -> KeyRow | None:
        raise NotImplementedError

    def insert_if_absent(self, row: KeyRow) -> None:
        raise NotImplementedError

    def replace(self, row: KeyRow) -> KeyRow | None:
        """Write the row whatever was there (deleting the old one first); the old row."""
        raise NotImplementedError

    def rows(self) -> Iterator[KeyRow]:
        raise NotImplementedError

    def count(self) -> int:
        """How many rows (keys and tombstones) the table holds."""
        raise NotImplementedError

    def wrapped_keys(self) -> dict[str, bytes | None]:
        """Every row's wrapped key (None for a tombstone) by the participant id as
        text, read in one go."""
        raise NotImplementedError

    def scrub(self) -> tuple[str, ...]:
        """Make the database's files forget deleted rows, as far as the backend can."""
        return ()


class MemoryKeyTable(KeyTable):
    """For the in-memory (POPO) store: keys live and die with the process."""

    def __init__(self) -> None:
        self.keys: dict[UUID, KeyRow] = {}
        self.metadata: dict[str, str] = {}
        self.lock = threading.Lock()

    def create_tables(self) -> None:
        pass

    def meta(self, name: str) -> str | None:
        return self.metadata.get(name)

    def put_meta_if_absent(self, name: str, value: str) -> None:
        with self.lock:
            self.metadata.setdefault(name, value)

    def row(self, participant_id: UUID) -> KeyRow | None:
        return self.keys.get(participant_id)

    def insert_if_absent(self, row: KeyRow) -> None:
        with self.lock:
            self.keys.setdefault(row.participant_id, row)

    def replace(self, row: KeyRow) -> KeyRow | None:
        with self.lock:
            old = self.keys.get(row.participant_id)
            self.keys[row.participant_id] = row
            return old

    def rows(self) -> Iterator[KeyRow]:
        yield from sorted(self.keys.values(), key=lambda r: r.created_at)

    def count(self) -> int:
        return len(self.keys)

    def wrapped_keys(self) -> dict[str, bytes | None]:
        with self.lock:
            return {str(i): row.wrapped_key for i, row in self.keys.items()}


def row_of(stored: Any) -> KeyRow:
    wrapped = stored["wrapped_key"]
    return KeyRow(
        participant_id=UUID(str(stored["participant_id"])),
        organisation_id=UUID(str(stored["organisation_id"])),
        wrapped_key=None if wrapped is None else bytes(wrapped),
        created_at=str(stored["created_at"]),
        destroyed_at=None
        if stored["destroyed_at"] is None
        else str(stored["destroyed_at"]),
    )


COLUMNS = "participant_id, organisation_id, wrapped_key, created_at, destroyed_at"


def keys_table_statement(table: str, blob: str) -> str:
    """The keys table, as the key store and the event recorders (which insert new keys
    in the events' transaction) both create it if absent."""
    return (
        f"CREATE TABLE IF NOT EXISTS {table} ("
        "participant_id TEXT PRIMARY KEY, organisation_id TEXT NOT NULL, "
        f"wrapped_key {blob}, created_at TEXT NOT NULL, destroyed_at TEXT)"
    )


def values_of(row: KeyRow) -> tuple[Any, ...]:
    return (
        str(row.participant_id),
        str(row.organisation_id),
        row.wrapped_key,
        row.created_at,
        row.destroyed_at,
    )


NEW_KEYS_AT_ONCE = 500
"""New key rows per INSERT statement (5 parameters each, far below every limit)."""


def new_keys_statements(
    table: str, placeholder: str, rows: Sequence[KeyRow]
) -> list[tuple[str, list[Any], int]]:
    """How to insert people's new key rows inside the transaction storing the events
    encrypted under them: each statement, its parameters, and how many rows it must
    insert (check_new_keys_inserted). A row is never overwritten: a person's first
    stored key is their key, and a tombstone stays one."""
    marks = "(" + ", ".join([placeholder] * 5) + ")"
    statements = []
    for start in range(0, len(rows), NEW_KEYS_AT_ONCE):
        chunk = rows[start : start + NEW_KEYS_AT_ONCE]
        statements.append(
            (
                f"INSERT INTO {table} ({COLUMNS}) VALUES "
                + ", ".join([marks] * len(chunk))
                + " ON CONFLICT (participant_id) DO NOTHING",
                [value for row in chunk for value in values_of(row)],
                len(chunk),
            )
        )
    return statements


def check_new_keys_inserted(inserted: int, expected: int) -> None:
    """PersonalKeyTaken unless every new key row was inserted, failing the transaction
    of the events encrypted under them."""
    if inserted != expected:
        raise PersonalKeyTaken(
            "a new personal key was not stored: the person already has one (or is "
            "erased)"
        )


class SQLKeyTable(KeyTable):
    """What SQLite and PostgreSQL share: the same statements, placeholders aside."""

    placeholder = "?"
    blob = "BLOB"
    datastore: Any

    def keys_table(self) -> str:
        return KEYS_TABLE

    def meta_table(self) -> str:
        return META_TABLE

    def create_tables(self) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(keys_table_statement(self.keys_table(), self.blob))
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {self.meta_table()} "
                "(name TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )

    def meta(self, name: str) -> str | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT value FROM {self.meta_table()} WHERE name = {self.placeholder}",
                (name,),
            )
            found = cursor.fetchone()
        return None if found is None else str(found["value"])

    def put_meta_if_absent(self, name: str, value: str) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self.meta_table()} (name, value) VALUES "
                f"({self.placeholder}, {self.placeholder}) ON CONFLICT (name) DO NOTHING",
                (name, value),
            )

    def row(self, participant_id: UUID) -> KeyRow | None:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT {COLUMNS} FROM {self.keys_table()} "
                f"WHERE participant_id = {self.placeholder}",
                (str(participant_id),),
            )
            found = cursor.fetchone()
        return None if found is None else row_of(found)

    def insert_statement(self) -> str:
        marks = ", ".join([self.placeholder] * 5)
        return f"INSERT INTO {self.keys_table()} ({COLUMNS}) VALUES ({marks})"

    def insert_if_absent(self, row: KeyRow) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                self.insert_statement() + " ON CONFLICT (participant_id) DO NOTHING",
                values_of(row),
            )

    def replace(self, row: KeyRow) -> KeyRow | None:
        """Put the row in place of the person's, returning the one replaced.

        Deleted and inserted again, never updated in place: on SQLite the deleted
        cell is overwritten with zeros (secure_delete). The delete comes first and
        hands back the old row: a transaction that read first and wrote after would,
        on SQLite, fail at once with "database is locked" whenever another writer
        committed in between, where one that writes first waits its turn."""
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"DELETE FROM {self.keys_table()} "
                f"WHERE participant_id = {self.placeholder} RETURNING {COLUMNS}",
                (str(row.participant_id),),
            )
            found = cursor.fetchone()
            cursor.execute(self.insert_statement(), values_of(row))
        return None if found is None else row_of(found)

    def rows(self) -> Iterator[KeyRow]:
        after = ""
        while True:
            with self.datastore.transaction(commit=False) as cursor:
                cursor.execute(
                    f"SELECT {COLUMNS} FROM {self.keys_table()} "
                    f"WHERE participant_id > {self.placeholder} "
                    "ORDER BY participant_id LIMIT 1000",
                    (after,),
                )
                page = [row_of(found) for found in cursor.fetchall()]
            if not page:
                return
            yield from page
            after = str(page[-1].participant_id)

    def count(self) -> int:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT COUNT(*) AS n FROM {self.keys_table()}")
            return int(cursor.fetchone()["n"])

    def wrapped_keys(self) -> dict[str, bytes | None]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT participant_id, wrapped_key FROM {self.keys_table()}"
            )
            return {
                str(found["participant_id"]): None
                if found["wrapped_key"] is None
                else bytes(found["wrapped_key"])
                for found in cursor.fetchall()
            }


class SQLiteKeyTable(SQLKeyTable):
    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore

    def scrub(self) -> tuple[str, ...]:
        return (checkpoint_sqlite(self.datastore),)


class PostgresKeyTable(SQLKeyTable):
    placeholder = "%s"
    blob = "BYTEA"

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore
        self.schema = datastore.schema

    def keys_table(self) -> str:
        return f'"{self.schema}".{KEYS_TABLE}'

    def meta_table(self) -> str:
        return f'"{self.schema}".{META_TABLE}'

    def row(self, participant_id: UUID) -> KeyRow | None:
        found = read_rows(
            self.datastore,
            f"SELECT {COLUMNS} FROM {self.keys_table()} WHERE participant_id = %s",
            (str(participant_id),),
        )
        return row_of(found[0]) if found else None

    def scrub(self) -> tuple[str, ...]:
        return (vacuum_postgres(self.datastore, [KEYS_TABLE]),)


# Making the database's files forget what was deleted


def checkpoint_sqlite(datastore: Any, *, seconds: float = 10.0) -> str:
    """Copy the write-ahead log into the database file and truncate it to nothing, so
    no old page (which secure_delete could not reach) survives in the -wal file."""
    if datastore.pool.is_sqlite_memory_mode:
        return "SQLite: in memory, nothing is on disk"
    deadline = time.monotonic() + seconds
    while True:
        with datastore.get_connection(commit=True) as connection:
            busy = connection._sqlite_conn.execute(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).fetchone()[0]
        if not busy:
            return "SQLite: deleted content overwritten with zeros; write-ahead log checkpointed and truncated"
        if time.monotonic() >= deadline:
            return (
                "SQLite: deleted content overwritten with zeros, but another process "
                "kept the write-ahead log open: it is truncated at the next "
                "checkpoint (run `fourpi participants erase` again to force one)"
            )
        time.sleep(0.05)


def vacuum_postgres(datastore: Any, tables: Iterable[str]) -> str:
    """Rewrite the tables without their deleted rows (best effort: see the README
    for what PostgreSQL still keeps on disk)."""
    from psycopg import sql

    names = list(tables)
    try:
        with datastore.get_connection() as connection:
            # The pool's connections are in autocommit mode, as VACUUM needs.
            connection.execute("SET lock_timeout = '5s'")
            try:
                for name in names:
                    connection.execute(
                        sql.SQL("VACUUM (FULL) {}.{}").format(
                            sql.Identifier(datastore.schema), sql.Identifier(name)
                        )
                    )
            finally:
                connection.execute("RESET lock_timeout")
    except Exception as error:  # best effort: the erasure itself has happened
        logger.warning("VACUUM FULL after an erasure failed: %s", type(error).__name__)
        return (
            f"PostgreSQL: VACUUM FULL of {', '.join(names)} did not run "
            f"({type(error).__name__}); run it later"
        )
    return f"PostgreSQL: {', '.join(names)} rewritten without the deleted rows (VACUUM FULL)"


STATEMENTS_KEPT = 128
"""Statements each SQLite connection keeps prepared (Python's own default). The
library opens its connections with `cached_statements=True`, which is 1: every
statement but the last one run was parsed again each time, some 0.15M instructions
of a registration's 2.9M, and most of what this round's check that a person read
is unchanged added to a role (bench.instructions)."""


class SecureSQLiteConnectionPool(SQLiteConnectionPool):
    def get_connection(
        self, timeout: float | None = None, *, is_writer: bool | None = None
    ) -> SQLiteConnection:
        """As the library's, but a reader of a file (in WAL mode, which no writer
        blocks) does not queue behind writers: the library's queue is held by a
        writer waiting for the one connection for writing, so a reader waited as
        long as whoever held it; and a command in its turn (fourpi.storage.sealing)
        holds it while it reads, so would wait for ever."""
        if is_writer is not False or self.is_sqlite_memory_mode:
            return super().get_connection(timeout, is_writer=is_writer)
        if self._closed:
            raise ConnectionPoolClosedError
        with self._no_readers:
            self._num_readers += 1
        try:
            connection = self._get_connection(
                self.pool_timeout if timeout is None else timeout
            )
        except BaseException:
            with self._no_readers:
                self._num_readers -= 1
            raise
        connection.is_writer = False
        return connection

    def _create_connection(self) -> SQLiteConnection:
        # The library's connection (eventsourcing.sqlite), but for the statements kept.
        try:
            c = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,
                cached_statements=STATEMENTS_KEPT,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as error:
            raise InterfaceError(error) from error
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            mode = c.execute("PRAGMA journal_mode;").fetchone()[0]
            if mode.lower() != "wal":
                c.execute("PRAGMA journal_mode=WAL;")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        c.row_factory = sqlite3.Row
        # Deleted content is overwritten with zeros, in the file and its -wal.
        c.execute("PRAGMA secure_delete = ON")
        return SQLiteConnection(sqlite_conn=c, max_age=self.max_age)


class SecureSQLiteFactory(SQLiteFactory):
    """The library's SQLite factory, with every connection in secure_delete mode."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        old = self.datastore.pool
        self.datastore.pool = SecureSQLiteConnectionPool(
            db_name=old.db_name, lock_timeout=old.lock_timeout
        )
        old.close()


# The store


@dataclass(frozen=True)
class ImportedKeys:
    live: int
    erased: int
    present: int


ABSENT = object()


@dataclass
class Remembered:
    """What one remembered() block has read."""

    keys: dict[UUID, bytes | None] = field(default_factory=dict)
    """Keys asked for, unwrapped (None: destroyed or never made)."""
    wrapped: dict[str, bytes | None] | None = None
    """The whole table's wrapped keys once read in bulk, until each is asked for."""
    misses: int = 0
    bulk_tried: bool = False


class PersonalKeyStore:
    """Every person's data key: made when they are registered (stored with their first
    events), destroyed when they are erased. Reads go to the database each time (a
    destroyed key stops decrypting in every process at once); `remembered()` lets one
    batch reuse what it read."""

    def __init__(self, master: MasterKey, table: KeyTable) -> None:
        self.master = master
        self.table = table
        self._receipt_key = master.derive("command receipts")
        self._memo = threading.local()
        table.create_tables()
        self.check_master_key()

    def __repr__(self) -> str:
        return f"PersonalKeyStore(master key id {self.master.id})"

    @property
    def receipt_key(self) -> bytes:
        return self._receipt_key

    def check_master_key(self) -> None:
        check = base64.b64encode(
            self.master.wrap(CHECK_PLAINTEXT, CHECK_CONTEXT)
        ).decode()
        self.table.put_meta_if_absent("master_key_id", self.master.id)
        self.table.put_meta_if_absent("master_key_check", check)
        stored_id = self.table.meta("master_key_id")
        stored = self.table.meta("master_key_check") or ""
        try:
            matches = (
                self.master.unwrap(base64.b64decode(stored), CHECK_CONTEXT)
                == CHECK_PLAINTEXT
            )
        except (MasterKeyError, binascii.Error, ValueError):
            matches = False
        if not matches:
            raise MasterKeyError(
                f"the master key from {self.master.source.display} (id "
                f"{self.master.id}) is not the one this store's personal keys are "
                f"wrapped under (id {stored_id}): set ${MASTER_KEY_VARIABLE} or "
                f"${MASTER_KEY_FILE_VARIABLE} to that key"
            )

    @staticmethod
    def context(participant_id: UUID) -> bytes:
        return participant_id.bytes

    # Using keys

    def key_for_writing(self, participant_id: UUID, organisation_id: UUID) -> bytes:
        """The person's key, made and stored now (in a transaction of its own) if they
        have none; refused once destroyed. The event store does not use this: it makes
        new keys with key_for_event, stored with the events that first use them."""
        row = self.table.row(participant_id)
        if row is None:
            self.table.insert_if_absent(
                self.new_key(participant_id, organisation_id)[1]
            )
            # Another writer may have made one first: theirs is the key.
            row = self.table.row(participant_id)
            assert row is not None
        return self.live_key(row)

    def key_for_event(
        self,
        participant_id: UUID,
        organisation_id: UUID,
        made: dict[UUID, bytes],
        *,
        presumed_new: bool = False,
    ) -> tuple[bytes, KeyRow | None]:
        """The person's key for events about to be stored, and, when they have none
        yet, the row of the key made now: that row must be inserted in the transaction
        that stores the events encrypted under it (fourpi.storage.sealing does), never alone,
        so no key outlives a failed write and no event is stored under an unstored key.

        `made` is the keys of one batch of events: every event of the batch about the
        same person uses the same key, and only the first carries its new row.
        Refused (SubjectErased) once the person's key is destroyed.

        `presumed_new`: the person is presumed to have no key, and none is read (the
        batch registers them under a new id). Should one be stored after all (an id
        used again, a tombstone), the insert of the new row is refused
        (PersonalKeyTaken) and the batch is encrypted again, reading the key then
        (fourpi.privacy.shredding.PersonalEventStore)."""
        key = made.get(participant_id)
        if key is not None:
            return key, None
        row = None if presumed_new else self.table.row(participant_id)
        new: KeyRow | None = None
        if row is None:
            key, new = self.new_key(participant_id, organisation_id)
        else:
            key = self.live_key(row)
        made[participant_id] = key
        return key, new

    def new_key(
        self, participant_id: UUID, organisation_id: UUID
    ) -> tuple[bytes, KeyRow]:
        """A fresh key for the person and its row (wrapped), not stored yet."""
        data_key = os.urandom(KEY_BYTES)
        return data_key, KeyRow(
            participant_id,
            organisation_id,
            self.master.wrap(data_key, self.context(participant_id)),
            utc_now(),
            None,
        )

    def live_key(self, row: KeyRow) -> bytes:
        """The row's key unwrapped; SubjectErased for a tombstone."""
        if row.wrapped_key is None:
            raise SubjectErased(
                "participant_id",
                f"participant {row.participant_id} is erased: nothing new about them "
                "may be recorded",
            )
        return self.master.unwrap(row.wrapped_key, self.context(row.participant_id))

    bulk_after_misses = 64
    """Inside remembered(), after this many people's keys were read one by one, the
    whole table is read in one query (a catch-up meets most people; a short one reads
    only the few it needs)."""
    bulk_limit = 200_000
    """The most rows read in one go (~45 MB while the block lasts, at ~220 bytes a
    row); a larger table is read a row at a time, as outside remembered()."""

    def key_for_reading(self, participant_id: UUID) -> bytes | None:
        """The person's key, or None once it is destroyed (or was never restored)."""
        memo: Remembered | None = getattr(self._memo, "block", None)
        if memo is None:
            return self.read_key(participant_id)
        if participant_id in memo.keys:
            return memo.keys[participant_id]
        key = self.remembered_key(memo, participant_id)
        memo.keys[participant_id] = key
        return key

    def read_key(self, participant_id: UUID) -> bytes | None:
        """The person's key as its row in the database holds it now."""
        row = self.table.row(participant_id)
        if row is None or row.wrapped_key is None:
            return None
        return self.master.unwrap(row.wrapped_key, self.context(participant_id))

    def remembered_key(self, memo: "Remembered", participant_id: UUID) -> bytes | None:
        if memo.wrapped is None and not memo.bulk_tried:
            memo.misses += 1
            if memo.misses > self.bulk_after_misses:
                memo.bulk_tried = True
                if self.table.count() <= self.bulk_limit:
                    memo.wrapped = self.table.wrapped_keys()
        if memo.wrapped is not None:
            wrapped = memo.wrapped.pop(str(participant_id), ABSENT)
            if wrapped is None:
                return None
            if wrapped is not ABSENT:
                assert isinstance(wrapped, bytes)
                return self.master.unwrap(wrapped, self.context(participant_id))
            # No row when the table was read: a key made since is read now.
        return self.read_key(participant_id)

    @contextmanager
    def remembered(self) -> Iterator[None]:
        """Within this block (and thread) each key is read from the database once.

        After the first few people (bulk_after_misses) the whole table is read in one
        query, each key unwrapped only when asked for; a person with no row in it is
        read alone (their key may be new). What the block read is dropped when it
        ends: a key destroyed meanwhile by another process may still open data inside
        the block, never after it (one destroyed in this thread stops at once)."""
        outer = getattr(self._memo, "block", None)
        if outer is None:
            self._memo.block = Remembered()
        try:
            yield
        finally:
            if outer is None:
                self._memo.block = None

    def is_destroyed(self, participant_id: UUID) -> bool:
        row = self.table.row(participant_id)
        return row is not None and row.wrapped_key is None

    def destroy(self, participant_id: UUID, organisation_id: UUID) -> bool:
        """Destroy the person's key for good, leaving a tombstone so none is made
        again; True when a live key was destroyed now."""
        existing = self.table.row(participant_id)
        if existing is not None and existing.wrapped_key is None:
            return False
        old = self.table.replace(
            KeyRow(
                participant_id,
                existing.organisation_id if existing else organisation_id,
                None,
                existing.created_at if existing else utc_now(),
                utc_now(),
            )
        )
        memo: Remembered | None = getattr(self._memo, "block", None)
        if memo is not None:
            memo.keys[participant_id] = None
            if memo.wrapped is not None:
                memo.wrapped.pop(str(participant_id), None)
        return old is not None and old.wrapped_key is not None

    def scrub(self) -> tuple[str, ...]:
        return self.table.scrub()

    # Backing up and restoring: wrapped keys only, never a plain one

    def export(self, out: IO[bytes]) -> int:
        """Every key as stored (wrapped under the master key) and every tombstone."""
        out.write(
            orjson.dumps(
                {"format": KEYS_FORMAT, "version": 1, "master_key_id": self.master.id}
            )
            + b"\n"
        )
        count = 0
        for row in self.table.rows():
            out.write(
                orjson.dumps(
                    {
                        "participant_id": str(row.participant_id),
                        "organisation_id": str(row.organisation_id),
                        "wrapped_key": None
                        if row.wrapped_key is None
                        else base64.b64encode(row.wrapped_key).decode(),
                        "created_at": row.created_at,
                        "destroyed_at": row.destroyed_at,
                    }
                )
                + b"\n"
            )
            count += 1
        return count

    def read(self, path: Path) -> list[KeyRow]:
        """The keys of an export file, each checked to unwrap under this master key:
        read whole before anything is restored, so a file refused changes nothing."""
        return list(read_keys(path, self.master))

    def import_(
        self, keys: Path | list[KeyRow], *, erased: Iterable[UUID] = ()
    ) -> ImportedKeys:
        """Restore keys exported with the same master key (a file, or the keys read
        from one). A key of anyone erased (in the file, in this store, or in
        `erased`: the log's erasures) stays destroyed."""
        rows = self.read(keys) if isinstance(keys, Path) else keys
        gone = set(erased)
        live = tombstones = present = 0
        for row in rows:
            if row.wrapped_key is not None and row.participant_id in gone:
                row = KeyRow(
                    row.participant_id,
                    row.organisation_id,
                    None,
                    row.created_at,
                    row.destroyed_at or utc_now(),
                )
            existing = self.table.row(row.participant_id)
            if row.wrapped_key is None:
                if existing is None or existing.wrapped_key is not None:
                    self.table.replace(row)
                tombstones += 1
            elif existing is None:
                self.table.insert_if_absent(row)
                live += 1
            else:
                present += 1
        return ImportedKeys(live=live, erased=tombstones, present=present)


def read_keys(path: Path, master: MasterKey) -> Iterator[KeyRow]:
    """The keys of an export file, each checked to unwrap under this master key."""
    with path.open("rb") as lines:
        header_line = lines.readline()
        try:
            header = orjson.loads(header_line)
        except orjson.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("format") != KEYS_FORMAT:
            raise ValueError(
                f"{path}: not a key store exported by `fourpi export --keys`"
            )
        if header.get("master_key_id") != master.id:
            raise MasterKeyError(
                f"{path}: its keys are wrapped under the master key with id "
                f"{header.get('master_key_id')}, not this one (id {master.id}, from "
                f"{master.source.display}): restore with the same master key"
            )
        for number, line in enumerate(lines, start=2):
            try:
                item = orjson.loads(line)
                wrapped = item["wrapped_key"]
                row = KeyRow(
                    participant_id=UUID(item["participant_id"]),
                    organisation_id=UUID(item["organisation_id"]),
                    wrapped_key=None if wrapped is None else base64.b64decode(wrapped),
                    created_at=str(item["created_at"]),
                    destroyed_at=item["destroyed_at"],
                )
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
                raise ValueError(
                    f"{path}, line {number}: not an exported key "
                    f"({type(error).__name__})"
                ) from None
            if row.wrapped_key is not None:
                master.unwrap(
                    row.wrapped_key, PersonalKeyStore.context(row.participant_id)
                )
            yield row


def is_postgres(datastore: Any) -> bool:
    """Whether this is the library's PostgreSQL datastore (psycopg is imported only
    when it could be)."""
    if datastore is None:
        return False
    from eventsourcing.postgres import PostgresDatastore

    return isinstance(datastore, PostgresDatastore)


def open_key_store(
    environ: Any, factory: InfrastructureFactory[Any]
) -> PersonalKeyStore:
    """The key store beside the events of the store this factory opens."""
    from eventsourcing.sqlite import SQLiteDatastore

    datastore = getattr(factory, "datastore", None)
    table: KeyTable
    if isinstance(datastore, SQLiteDatastore):
        table = SQLiteKeyTable(datastore)
        source = master_key_source(
            "sqlite", environ, memory=datastore.pool.is_sqlite_memory_mode
        )
    elif is_postgres(datastore):
        table = PostgresKeyTable(datastore)
        source = master_key_source("postgresql", environ)
    else:
        table = MemoryKeyTable()
        source = master_key_source("sqlite", environ, memory=True)
    return PersonalKeyStore(load_master_key(source, environ), table)
