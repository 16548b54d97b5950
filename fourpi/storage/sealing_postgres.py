"""Tamper evidence on PostgreSQL: the sealing recorder for that backend, apart from fourpi.storage.sealing so that a SQLite store never imports psycopg (a third of start-up)."""

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
)
from eventsourcing.utils import retry

from fourpi.privacy.keystore import (
    KEYS_TABLE,
    check_new_keys_inserted,
    keys_table_statement,
    new_keys_statements,
)
from fourpi.privacy.shredding import RecordChanged, new_keys_of, unchanged_of
from fourpi.storage.group_commit import Positions
from fourpi.storage.sealing import (
    SEALS_TABLE,
    EventRow,
    GroupCommitting,
    HeadCheck,
    Seal,
    SealRow,
    read_ahead,
    seal_from_row,
    seals_for,
    split,
)


class SealingPostgresRecorder(GroupCommitting, PostgresApplicationRecorder):
    """Stores events, their seals and their new personal keys in one PostgreSQL
    transaction, under the exclusive lock the library takes on the events table for
    every insert."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from psycopg import sql

        super().__init__(*args, **kwargs)
        self.seals_table = sql.SQL("{}.{}").format(
            sql.Identifier(self.datastore.schema), sql.Identifier(SEALS_TABLE)
        )
        self.keys_table = f'"{self.datastore.schema}".{KEYS_TABLE}'
        self.sql_create_statements.append(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (position BIGINT PRIMARY KEY, "
                "previous_position BIGINT NOT NULL, digest TEXT NOT NULL, "
                "chain TEXT NOT NULL)"
            ).format(self.seals_table)
        )
        self.sql_create_statements.append(
            sql.SQL(keys_table_statement(self.keys_table, "BYTEA"))  # type: ignore[arg-type]
        )
        self.select_seal_rows_statement = sql.SQL(
            "SELECT position, previous_position, digest, chain FROM {} "
            "WHERE position > %s ORDER BY position LIMIT %s"
        ).format(self.seals_table)
        self.insert_seals_statement = sql.SQL(
            "INSERT INTO {} SELECT * FROM unnest(%s::bigint[], %s::bigint[], "
            "%s::text[], %s::text[])"
        ).format(self.seals_table)
        self.notify_statement = sql.SQL("NOTIFY {}").format(
            sql.Identifier(self.channel_name)
        )
        self.last_seal_statement = sql.SQL(
            "SELECT position, previous_position, digest, chain FROM {} "
            "ORDER BY position DESC LIMIT 1"
        ).format(self.seals_table)
        self.has_events_after_statement = sql.SQL(
            "SELECT 1 FROM {}.{} WHERE originator_id = %s AND originator_version > %s "
            "LIMIT 1"
        ).format(
            sql.Identifier(self.datastore.schema),
            sql.Identifier(self.events_table_name),
        )
        self.select_event_rows_statement = sql.SQL(
            "SELECT notification_id, topic, originator_id::text, originator_version, "
            "state FROM {}.{} WHERE notification_id > %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(
            sql.Identifier(self.datastore.schema),
            sql.Identifier(self.events_table_name),
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def commit_alone(self, stored_events: Sequence[StoredEvent]) -> Positions:
        return self.commit_together([stored_events])[0]

    def commit_together(self, batches: list[Sequence[StoredEvent]]) -> list[Positions]:
        """One transaction, pipelined: two round trips (one to learn the positions the
        seals need, one to write the seals and commit) however many batches."""
        from psycopg import Rollback

        events = [event for batch in batches for event in batch]
        error: Exception | None = None
        with self.datastore.get_connection() as conn:
            try:
                with conn.pipeline() as pipeline, conn.transaction():
                    try:
                        positions = self._insert_pipelined(conn, pipeline, events)
                    except Exception as raised:
                        # Rolled back (a new key taken fails no statement: left
                        # alone, the transaction would commit), and raised once the
                        # pipeline is closed, as the library does, so psycopg does
                        # not warn about it.
                        error = raised
                        raise Rollback from None
            except Rollback:
                # A connection the server ended cannot roll back, and psycopg lets
                # the Rollback out: what ended it is raised instead (the library
                # tries that again on another connection).
                if error is None:
                    raise
            if error is not None:
                raise error
        return split(positions, batches)

    def _write_lock(self) -> Any:
        return self.datastore.transaction(commit=True)

    def _hold_write_lock(self, cursor: Any) -> None:
        # The lock every insert takes (the library's), until the turn commits.
        self._lock_table(cursor)

    def _insert_held(
        self, cursor: Any, stored_events: Sequence[StoredEvent]
    ) -> Positions:
        conn = cursor.connection
        with conn.pipeline() as pipeline:
            return self._insert_pipelined(conn, pipeline, stored_events)

    def _insert_pipelined(
        self, conn: Any, pipeline: Any, events: Sequence[StoredEvent]
    ) -> list[int]:
        # The library's exclusive lock on the events table orders the log as commits
        # happen, and keeps the last seal still (the server runs the pipelined
        # statements in order: the last seal is read under the lock).
        with conn.cursor() as curs:
            self._lock_table(curs)
            self._notify_channel(curs)
        keys = []
        for statement, parameters, count in new_keys_statements(
            self.keys_table, "%s", new_keys_of(events)
        ):
            curs = conn.cursor()
            curs.execute(statement, parameters)
            keys.append((curs, count))
        inserting = conn.cursor()
        PostgresAggregateRecorder._insert_stored_events(self, inserting, events)
        # After the inserts, as SQLite looks, and under the lock, which every writer
        # takes: nothing can be stored between these looks and the commit, and an
        # earlier batch of the same group (an erasure stored with it) is seen.
        unchanged = []
        for record_id, version in unchanged_of(events):
            curs = conn.cursor()
            curs.execute(self.has_events_after_statement, (record_id, version))
            unchanged.append((record_id, curs))
        last = conn.cursor()
        last.execute(self.last_seal_statement, prepare=True)
        # An event's version taken raises here; a person's key taken shows just after.
        pipeline.sync()
        for record_id, curs in unchanged:
            if curs.fetchone() is not None:
                raise RecordChanged(f"record {record_id} changed after it was read")
        for curs, count in keys:
            check_new_keys_inserted(curs.rowcount, count)
        positions = [row["notification_id"] for row in inserting.fetchall()]
        found = last.fetchone()
        previous = None if found is None else seal_from_row(found.values())
        with conn.cursor() as curs:
            self._write_seals(curs, seals_for(events, positions, previous))
        return positions

    def _notify_channel(self, curs: Any) -> None:
        curs.execute(self.notify_statement)

    def _last_seal(self, curs: Any) -> Seal | None:
        curs.execute(self.last_seal_statement)
        row = curs.fetchone()
        return None if row is None else seal_from_row(row.values())

    def _write_seals(self, curs: Any, seals: Sequence[Seal]) -> None:
        # One statement however many seals (executemany sends a statement per row).
        curs.execute(
            self.insert_seals_statement,
            (
                [s.position for s in seals],
                [s.previous_position for s in seals],
                [s.digest for s in seals],
                [s.chain for s in seals],
            ),
            prepare=True,
        )

    def last_seal(self) -> Seal | None:
        with self.datastore.transaction(commit=False) as curs:
            return self._last_seal(curs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def has_events_after(self, originator_id: UUID, version: int) -> bool:
        """Whether the record has an event after this version, without building the
        events the library's select_events would."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.has_events_after_statement, (originator_id, version), prepare=True
            )
            return curs.fetchone() is not None

    def import_events(
        self, batches: Iterable[Sequence[Any]], still_at_head: HeadCheck
    ) -> None:
        """Store exported events at their own positions with their own seals: all in
        one transaction, so an import that stops halfway leaves nothing behind. The
        log's last seal is shown to still_at_head under the exclusive lock every
        writer takes, so none can store anything between that look and the commit."""
        from psycopg import sql

        events = sql.SQL("{}.{}").format(
            sql.Identifier(self.datastore.schema),
            sql.Identifier(self.events_table_name),
        )
        batches = read_ahead(batches)
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            self._notify_channel(curs)
            still_at_head(self._last_seal(curs))
            for items in batches:
                curs.executemany(
                    sql.SQL(
                        "INSERT INTO {} (notification_id, originator_id, "
                        "originator_version, topic, state) VALUES (%s, %s, %s, %s, %s)"
                    ).format(events),
                    [
                        (
                            i.seal.position,
                            i.stored.originator_id,
                            i.stored.originator_version,
                            i.stored.topic,
                            i.stored.state,
                        )
                        for i in items
                    ],
                )
                self._write_seals(curs, [i.seal for i in items])
            # New events must be numbered after the imported ones.
            curs.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), "
                    "(SELECT MAX(notification_id) FROM {}))"
                ).format(events),
                (f'"{self.datastore.schema}".{self.events_table_name}',),
            )

    def select_seals(self, after: int, limit: int) -> list[Seal]:
        from psycopg import sql

        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                sql.SQL(
                    "SELECT position, previous_position, digest, chain FROM {} "
                    "WHERE position > %s ORDER BY position LIMIT %s"
                ).format(self.seals_table),
                (after, limit),
            )
            return [seal_from_row(row.values()) for row in curs.fetchall()]

    def select_seal_rows(self, after: int, limit: int) -> list[SealRow]:
        """Seals after a position as plain tuples, for the audit's fast scan."""
        rows: list[SealRow] = self._select_rows(
            self.select_seal_rows_statement, after, limit
        )
        return rows

    def select_event_rows(self, after: int, limit: int) -> list[EventRow]:
        """Events after a position as plain tuples, the record id as the text a
        UUID prints (what digests hash), without building library objects."""
        rows: list[EventRow] = self._select_rows(
            self.select_event_rows_statement, after, limit
        )
        return rows

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _select_rows(self, statement: Any, after: int, limit: int) -> list[Any]:
        from psycopg.rows import tuple_row

        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(statement, (after, limit), prepare=True)
            return curs.fetchall()
