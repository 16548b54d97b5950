"""The composition root: builds the application service on the configured event store."""

from pathlib import Path
from typing import TYPE_CHECKING

from fourpi.config import Database, database_from_environment
from fourpi.domain.application import InvolvementRecords

if TYPE_CHECKING:
    from fourpi.projections.views import ImpactViews


def prepare_storage(database: Database) -> None:
    """Make the place the event store's tables go: a folder for SQLite, a schema for PostgreSQL."""
    if database.backend == "sqlite":
        if database.sqlite_path != ":memory:":
            Path(database.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=database.host,
        port=database.port,
        user=database.user,
        password=database.password,
        dbname=database.dbname,
        autocommit=True,
        connect_timeout=10,
    ) as connection:
        connection.execute(
            sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                sql.Identifier(database.schema)
            )
        )


def open_records(database: Database | str | None = None) -> InvolvementRecords:
    """The application service on the given database (or the configured default)."""
    if not isinstance(database, Database):
        database = database_from_environment(database)
    prepare_storage(database)
    return InvolvementRecords(env=database.eventsourcing_env())


def open_views(
    database: Database | str | None = None, records: InvolvementRecords | None = None
) -> "ImpactViews":
    """The impact views of the given database, reading its log through `records`."""
    from fourpi.projections.views import ImpactViews

    if not isinstance(database, Database):
        database = database_from_environment(database)
    if records is None:
        records = open_records(database)
    return ImpactViews(database, records)
