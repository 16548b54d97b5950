"""The composition root: builds the application service on the configured event store."""

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import PersistenceError

from fourpi.config import (
    Database,
    MasterKeyError,
    database_from_environment,
    master_key_source,
)
from fourpi.domain.application import InvolvementRecords
from fourpi.storage.store_access import (
    no_store_there,
    postgres_unreachable,
    sqlite_folder_unmade,
    sqlite_unopened,
)

if TYPE_CHECKING:
    from fourpi.projections.views import ImpactViews

log = logging.getLogger("fourpi.keys")

EVENTS_TABLE = "fourpi_events"
"""The event log's table (the library names it after the application, `fourpi`)."""


def postgres_connection(database: Database) -> Any:
    """A plain connection to the store's server, with the URL's own parameters; a
    failure is a StoreUnavailable that says what to check."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    try:
        # make_conninfo lets libpq judge the URL's parameters: one it does not know
        # is refused by name.
        conninfo = make_conninfo(
            host=database.host,
            port=database.port,
            user=database.user,
            password=database.password,
            dbname=database.dbname,
            **({"connect_timeout": "10"} | dict(database.options)),
        )
        return psycopg.connect(conninfo, autocommit=True)
    except psycopg.Error as error:
        raise postgres_unreachable(database, error) from None


def prepare_storage(database: Database) -> None:
    """Make the place the event store's tables go: a folder for SQLite, a schema for PostgreSQL."""
    if database.backend == "sqlite":
        if database.sqlite_path != ":memory:":
            try:
                Path(database.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise sqlite_folder_unmade(database, error) from None
        return
    from psycopg import sql

    with postgres_connection(database) as connection:
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(database.schema)
            )
        )


@contextmanager
def making_tables_alone(database: Database) -> Iterator[None]:
    """On PostgreSQL, hold the schema's advisory lock while the store's tables are
    made or checked: processes started together (`fourpi serve --workers N`) would
    otherwise change the same catalog rows at once, and one of them fail ("tuple
    concurrently updated", or a duplicate type for a table made twice). SQLite needs
    nothing: its writes are one at a time. Taken again further in, it is held once."""
    held = _tables_locks.__dict__.setdefault("held", set())
    if database.backend == "sqlite" or database.schema in held:
        yield  # held already by this thread, further out: taken once
        return
    import psycopg

    with postgres_connection(database) as connection:
        with reaching(database):
            connection.execute(
                "SELECT pg_advisory_lock(hashtext(%s))", (database.schema,)
            )
        held.add(database.schema)
        try:
            yield
        finally:
            held.discard(database.schema)
            # A connection the server ended (restarting) took its lock with it.
            with contextlib.suppress(psycopg.OperationalError):
                connection.execute(
                    "SELECT pg_advisory_unlock(hashtext(%s))", (database.schema,)
                )


_tables_locks = threading.local()
"""The schemas whose advisory lock this thread holds (see `making_tables_alone`)."""


def store_exists(database: Database) -> bool:
    """Whether anything was ever recorded there: the SQLite file, or the log's table
    in the PostgreSQL schema. Asking makes nothing."""
    if database.backend == "sqlite":
        return (
            database.sqlite_path == ":memory:" or Path(database.sqlite_path).is_file()
        )
    with postgres_connection(database) as connection:
        found = connection.execute(
            "SELECT to_regclass(%s)", (f'"{database.schema}".{EVENTS_TABLE}',)
        ).fetchone()
    return found is not None and found[0] is not None


def open_records(
    database: Database | str | None = None, *, existing: bool = False
) -> InvolvementRecords:
    """The application service on the given database (or the configured default).

    existing: the store must already be there (for a command that only reads): one
    that is not is refused, naming where it was looked for, and nothing is made.
    """
    if not isinstance(database, Database):
        database = database_from_environment(database)
    # A master key that is missing, malformed or unreadable is wrong whatever the
    # store holds: told first, before anything is made there.
    master_key_readable(database)
    if existing and not store_exists(database):
        raise no_store_there(database)
    prepare_storage(database)
    new_key_file = master_key_file_to_be_made(database)
    with reaching(database), making_tables_alone(database):
        records = InvolvementRecords(env=database.eventsourcing_env())
    if new_key_file is not None and new_key_file.exists():
        log.warning(
            "made a new master key file at %s: it unlocks every person's personal "
            "data in this store. Back it up, apart from the database: without it no "
            "personal data can be read, and nothing can recover it.",
            new_key_file,
        )
    return records


def master_key_file_to_be_made(database: Database) -> Path | None:
    """The default master key file, when opening this store will make it."""
    try:
        source = master_key_source(
            database.backend, memory=database.sqlite_path == ":memory:"
        )
    except MasterKeyError:
        return None  # the store itself refuses, saying so
    if source.create and source.path is not None and not source.path.exists():
        return source.path
    return None


def open_views(
    database: Database | str | None = None,
    records: InvolvementRecords | None = None,
    *,
    existing: bool = False,
) -> "ImpactViews":
    """The impact views of the given database, reading its log through `records`."""
    from fourpi.projections.views import ImpactViews

    if not isinstance(database, Database):
        database = database_from_environment(database)
    owned = records is None
    if records is None:
        records = open_records(database, existing=existing)
    with reaching(database), making_tables_alone(database):
        # Records opened here are the views' own: closing the views closes them too.
        return ImpactViews(database, records, owns_records=owned)


@contextmanager
def reaching(database: Database) -> Iterator[None]:
    """Opening the store: a file SQLite cannot open, or a connection refused or
    ended on the way (PostgreSQL restarting while a process starts), is a
    StoreUnavailable that says what to check, not the driver's traceback."""
    try:
        yield
    except (PersistenceError, sqlite3.DatabaseError) as error:
        # sqlite3's own for a file that is not a SQLite store ('file is not a
        # database'): the library raises it unwrapped.
        if database.backend == "sqlite":
            raise sqlite_unopened(database, error) from None
        raise postgres_unreachable(database, error) from None
    except Exception as error:
        if database.backend == "sqlite" or not connection_failed(error):
            raise
        raise postgres_unreachable(database, error) from None


def connection_failed(error: Exception) -> bool:
    """Whether the driver failed to reach the server or lost its connection."""
    import psycopg

    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def master_key_readable(database: Database) -> None:
    """Refuse (MasterKeyError) a master key that is not configured, or that cannot
    be read or is not a key, without touching the store; the default key file
    that opening a SQLite store would make is left to be made."""
    from fourpi.privacy.keystore import load_master_key

    source = master_key_source(
        database.backend, memory=database.sqlite_path == ":memory:"
    )
    if source.ephemeral or (
        source.create and source.path is not None and not source.path.exists()
    ):
        return
    load_master_key(source, os.environ, warn=False)  # the store's own load warns
