"""The impact views on PostgreSQL, apart from fourpi.projections.store so that a SQLite store never imports psycopg."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg import sql
from psycopg.rows import tuple_row

from fourpi.privacy.keystore import vacuum_postgres
from fourpi.projections.schema import ERASED_COLUMNS, ERASED_ROWS, TABLES, Table
from fourpi.projections.store import VIEW_NAME, FactStore


class PostgresFactStore(FactStore, PostgresTrackingRecorder):
    placeholder = "%s"
    duplicate_errors = (IntegrityError, psycopg.IntegrityError)

    def shape_table(self) -> str:
        return f'"{self.datastore.schema}".fourpi_views_shape'

    def create_table(self) -> None:
        reshaped = self.ensure_current_shape()
        super().create_table()
        if reshaped:
            self.forget_position()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Our statements are built from the schema's own names, never from input.
        self.sql_create_statements.extend(
            sql.Composed([sql.SQL(statement)])
            for statement in self.fact_table_statements()
        )

    def qualified(self, table: Table) -> str:
        return f'"{self.datastore.schema}".{table.sql_name}'

    @contextmanager
    def reading(self) -> Iterator[Any]:
        """A read in autocommit, outside any transaction, as the library reads its own
        tables: a transaction would cost a BEGIN and a ROLLBACK, a round trip each, and
        psycopg forgets every prepared statement at a ROLLBACK (sending DEALLOCATE ALL
        when there were some), so no read's queries would ever stay prepared. A read
        sees nothing less consistent for it: each statement takes a snapshot of its
        own at READ COMMITTED inside a transaction too. A failed statement ends its
        own implicit transaction, leaving the connection idle."""
        with (
            self.datastore.get_connection() as connection,
            connection.cursor() as cursor,
        ):
            yield cursor

    @contextmanager
    def reading_tuples(self) -> Iterator[Any]:
        with self.reading() as cursor:
            cursor.row_factory = tuple_row
            yield cursor

    def results_of(
        self, cursor: Any, queries: list[tuple[str, tuple[Any, ...]]]
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Each query's rows, all sent at once in pipeline mode: one round trip to the
        server, not one a query (a read of an organisation's facts asks every table).
        Each query has a cursor of its own, as a cursor holds one query's result."""
        connection = cursor.connection
        cursors = []
        with connection.pipeline():
            for query, parameters in queries:
                each = connection.cursor(row_factory=cursor.row_factory)
                each.execute(query, parameters)
                cursors.append(each)
        for each in cursors:
            with each:
                yield each.fetchall()

    def forget_tracking_statement(self) -> str:
        return (
            f'DELETE FROM "{self.datastore.schema}".{self.tracking_table_name} '
            "WHERE application_name = %s"
        )

    def clear(self) -> None:
        """Empty every fact table and forget the position, in one transaction.

        TRUNCATE rather than DELETE: it leaves no dead rows behind (for the rebuild's
        inserts to step over, or for a person's deleted rows to linger in), and it
        takes the tables in the order every writer does, the log first."""
        tables = ", ".join(self.qualified(t) for t in TABLES.values())
        with self.writing() as cursor:
            cursor.execute(f"TRUNCATE {tables}")
            cursor.execute(self.forget_tracking_statement(), (VIEW_NAME,))

    def insert_rows(self, cursor: Any, t: Table, rows: list[tuple[Any, ...]]) -> None:
        """COPY: one round trip and far less work for the server than an INSERT a row."""
        names = ", ".join(name for name, _ in t.all_columns)
        with cursor.copy(f"COPY {self.qualified(t)} ({names}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def scrub(self) -> tuple[str, ...]:
        touched = [*ERASED_ROWS, *ERASED_COLUMNS]
        return (vacuum_postgres(self.datastore, [TABLES[t].sql_name for t in touched]),)
