"""The read side's storage: the fact tables and their tracking position, written in one transaction, on SQLite or PostgreSQL."""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from fourpi.privacy.keystore import checkpoint_sqlite
from fourpi.projections.codec import (
    CONVERTERS,
    SQL_TYPES,
    UUIDTexts,
    from_column,
    row_encoder,
)
from fourpi.projections.facts import Fact
from fourpi.projections.schema import (
    ERASED_COLUMNS,
    ERASED_ROWS,
    TABLES,
    Facts,
    Row,
    Table,
)

VIEW_NAME = "fourpi_impact_views"
"""The name the views' position is tracked under."""


ALREADY_TYPED = ("int", "text")
"""Column types both databases already return as the Python value."""


ROW_ENCODERS = {name: row_encoder(t.columns) for name, t in TABLES.items()}
"""Each table's fact rows as its columns' values, in the order of all_columns."""


def latest_erasure(rows: list[Any]) -> int:
    """The position a MAX(position) over an organisation's erasures gives (0 when
    there is none)."""
    return int(rows[0][0] or 0) if rows else 0


class ParsedUUIDs(dict[str, UUID]):
    def __missing__(self, stored: str) -> UUID:
        parsed = self[stored] = UUID(stored)
        return parsed


class ViewsMovedOn(Exception):
    """Another worker applied these events first; nothing was written twice."""


def shape_of_views() -> str:
    """A fingerprint of every table's columns: it changes whenever their shape does."""
    described = repr([(t.name, t.all_columns) for t in TABLES.values()])
    return hashlib.sha256(described.encode()).hexdigest()[:16]


class FactStore:
    """What both backends share: tables, batched writes with tracking, typed reads."""

    placeholder = "?"
    duplicate_errors: tuple[type[Exception], ...] = (IntegrityError,)
    """What a second worker applying the same events meets (see `record_batch`)."""

    def shape_table(self) -> str:
        return "fourpi_views_shape"

    def ensure_current_shape(self) -> bool:
        """Drop views whose tables have another shape than this code's (they are
        rebuilt from the log, which alone is the record); True when it dropped them."""
        shape_table = self.shape_table()
        with self.writing() as cursor:
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {shape_table} (shape TEXT)")
            cursor.execute(f"SELECT shape FROM {shape_table}")
            stored = [
                row[0] if isinstance(row, tuple) else row["shape"]
                for row in cursor.fetchall()
            ]
            if stored == [shape_of_views()]:
                return False
            for t in TABLES.values():
                cursor.execute(f"DROP TABLE IF EXISTS {self.qualified(t)}")
            cursor.execute(f"DELETE FROM {shape_table}")
            cursor.execute(
                f"INSERT INTO {shape_table} (shape) VALUES ({self.placeholder})",
                (shape_of_views(),),
            )
        # Tables of an unknown shape may predate the fingerprint: forget their
        # position too, or the views would claim events they no longer hold.
        return True

    def qualified(self, table: Table) -> str:
        return table.sql_name

    def fact_table_statements(self) -> list[str]:
        statements = []
        for t in TABLES.values():
            definitions = ", ".join(
                f"{name} {SQL_TYPES.get(kind, 'TEXT')}"
                # One log row per event: a second application of an event fails here.
                + (" PRIMARY KEY" if t.name == "log" and name == "position" else "")
                for name, kind in t.all_columns
            )
            statements.append(
                f"CREATE TABLE IF NOT EXISTS {self.qualified(t)} ({definitions})"
            )
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {t.sql_name}_by_organisation "
                f"ON {self.qualified(t)} (organisation_id, position)"
            )
        log = self.qualified(TABLES["log"])
        statements.append(
            f"CREATE INDEX IF NOT EXISTS fourpi_log_by_time ON {log} (recorded_at)"
        )
        return statements

    if TYPE_CHECKING:
        datastore: Any

    @contextmanager
    def writing(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor

    @contextmanager
    def reading(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            yield cursor

    def insert_statement(self, t: Table) -> str:
        names = ", ".join(name for name, _ in t.all_columns)
        marks = ", ".join(self.placeholder for _ in t.all_columns)
        return f"INSERT INTO {self.qualified(t)} ({names}) VALUES ({marks})"

    def record_batch(
        self, batch: Iterable[tuple[int, UUID, list[Fact]]], *, after: int | None = None
    ) -> list[tuple[UUID, UUID]]:
        """Write the facts of consecutive events and move the tracking position, atomically.

        Each entry is (position, organisation id, facts), the facts starting with the
        event's log row. The log table's primary key on position makes a second
        application of any event fail, so a second worker started by mistake can
        never write a fact twice. A person's erasure deletes their personal rows, at
        every position, in the same transaction. Returns (organisation id,
        participant id) of each person erased in the batch. The batch may be lazy:
        each event's facts become columns as they come, before anything is written.

        after: the position the batch was read after. The batch is written only if
        the views are still there when it is, else ViewsMovedOn: a rebuild that
        emptied the views after a worker read its batch would otherwise take the
        worker's position for its own and leave every event before it out.
        """
        rows: dict[str, list[tuple[Any, ...]]] = {}
        erased: list[tuple[UUID, UUID]] = []
        # Ids recur across a batch's rows (the organisation's in every one): each is
        # formatted as text once per batch.
        uuid_text = UUIDTexts().text
        encoders = ROW_ENCODERS
        last = None
        for position, organisation_id, facts in batch:
            last = position
            organisation = uuid_text(organisation_id)
            for seq, (table_name, row) in enumerate(facts):
                if table_name == "erasures":
                    erased.append((organisation_id, row["participant_id"]))  # type: ignore[arg-type]
                encoded = encoders[table_name](
                    organisation, position, seq, row, uuid_text
                )
                table_rows = rows.get(table_name)
                if table_rows is None:
                    rows[table_name] = [encoded]
                else:
                    table_rows.append(encoded)
        if last is None:
            return erased
        try:
            with self.writing() as cursor:
                # The log's rows first (every batch starts with one): a second worker
                # applying the same events waits on the log's key, then fails, before
                # it has written anything else.
                for table_name, table_rows in rows.items():
                    self.insert_rows(cursor, TABLES[table_name], table_rows)
                for organisation_id, participant_id in erased:
                    self.erase(cursor, organisation_id, participant_id)
                # Read after the log's rows are in: they wait for a rebuild's
                # emptying to commit, so this sees the views as it left them.
                if after is not None:
                    reached = self._max_tracking_id(VIEW_NAME, cursor) or 0
                    if reached != after:
                        raise ViewsMovedOn(
                            f"a batch read after log position {after} found the "
                            f"views at {reached}"
                        )
                self._insert_tracking(cursor, Tracking(VIEW_NAME, last))
        except self.duplicate_errors as error:
            raise ViewsMovedOn(str(error)) from error
        return erased

    def insert_rows(self, cursor: Any, t: Table, rows: list[tuple[Any, ...]]) -> None:
        """Insert one table's rows of a batch, in one statement."""
        cursor.executemany(self.insert_statement(t), rows)

    def erase(self, cursor: Any, organisation_id: UUID, participant_id: UUID) -> None:
        """Delete the person's personal rows and blank their personal columns."""
        mark = self.placeholder
        whose = f"organisation_id = {mark} AND participant_id = {mark}"
        ids = (str(organisation_id), str(participant_id))
        for name in ERASED_ROWS:
            cursor.execute(
                f"DELETE FROM {self.qualified(TABLES[name])} WHERE {whose}", ids
            )
        for name, blanks in ERASED_COLUMNS.items():
            settings = ", ".join(f"{column} = {mark}" for column in blanks)
            cursor.execute(
                f"UPDATE {self.qualified(TABLES[name])} SET {settings} WHERE {whose}",
                (*blanks.values(), *ids),
            )

    def scrub(self) -> tuple[str, ...]:
        """Make the database's files forget the rows an erasure deleted."""
        raise NotImplementedError

    def last_erasure(self, organisation_id: UUID) -> int:
        """The position of the organisation's latest erasure (0 when none)."""
        with self.reading_tuples() as cursor:
            cursor.execute(self.last_erasure_query, (str(organisation_id),))
            return latest_erasure(cursor.fetchall())

    @cached_property
    def last_erasure_query(self) -> str:
        erasures = self.qualified(TABLES["erasures"])
        return (
            f"SELECT MAX(position) FROM {erasures} "
            f"WHERE organisation_id = {self.placeholder}"
        )

    def read_facts(
        self, organisation_id: UUID, position: int, *, after: int = 0
    ) -> Facts:
        """Every fact of one organisation above `after` and at or below `position`,
        typed, in log order."""
        facts, _ = self.facts_read(organisation_id, position, after, False)
        return facts

    def facts_since(
        self, organisation_id: UUID, position: int, after: int
    ) -> tuple[Facts, int]:
        """The organisation's facts above `after` and at or below `position`, and the
        position of its latest erasure (see `last_erasure`), asked together: on
        PostgreSQL in one round trip. The erasure is asked last, so any erasure whose
        deletions the facts show is in it."""
        facts, erasure = self.facts_read(organisation_id, position, after, True)
        assert erasure is not None
        return facts, erasure

    def facts_read(
        self, organisation_id: UUID, position: int, after: int, with_erasure: bool
    ) -> tuple[Facts, int | None]:
        """What `read_facts` reads, and the latest erasure when `with_erasure` (else
        None), in one read."""
        parameters = (str(organisation_id), after, position)
        queries: list[tuple[str, tuple[Any, ...]]] = [
            (query, parameters) for _, _, query in self.facts_queries
        ]
        if with_erasure:
            queries.append((self.last_erasure_query, (str(organisation_id),)))
        # The same ids recur across thousands of rows: each is parsed once per read.
        uuids = ParsedUUIDs()
        # The log's rows are never read (no answer needs them): its list stays empty.
        facts: Facts = {name: [] for name in TABLES}
        erasure = None
        with self.reading_tuples() as cursor:
            stored = self.results_of(cursor, queries)
            # Not strict: the erasure's rows, when asked, come after the tables'.
            for (t, names, _), stored_rows in zip(
                self.facts_queries, stored, strict=False
            ):
                converted: list[tuple[str, Callable[[Any], Any]]] = [
                    (name, uuids.__getitem__ if kind == "uuid" else CONVERTERS[kind])
                    for name, kind in t.all_columns
                    if name != "organisation_id" and kind not in ALREADY_TYPED
                ]
                rows: list[Row] = []
                for stored_row in stored_rows:
                    row: Row = dict(zip(names, stored_row, strict=True))
                    row["organisation_id"] = organisation_id
                    for name, convert in converted:
                        value = row[name]
                        if value is not None:
                            row[name] = convert(value)
                    rows.append(row)
                facts[t.name] = rows
            # Reading on to the end closes the last query's cursor too.
            for erasure_rows in stored:
                erasure = latest_erasure(erasure_rows)
        return facts, erasure

    @cached_property
    def facts_queries(self) -> list[tuple[Table, list[str], str]]:
        """Each fact table but the log, with the columns read (all but the
        organisation's id) and its query for an organisation's rows between two
        positions, in log order."""
        mark = self.placeholder
        queries = []
        for t in TABLES.values():
            if t.name == "log":
                continue
            names = [n for n, _ in t.all_columns if n != "organisation_id"]
            queries.append(
                (
                    t,
                    names,
                    f"SELECT {', '.join(names)} FROM {self.qualified(t)} "
                    f"WHERE organisation_id = {mark} AND position > {mark} "
                    f"AND position <= {mark} ORDER BY position, seq",
                )
            )
        return queries

    def results_of(
        self, cursor: Any, queries: list[tuple[str, tuple[Any, ...]]]
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Each query's rows, asked one after the other as they are wanted."""
        for query, parameters in queries:
            cursor.execute(query, parameters)
            yield cursor.fetchall()

    @contextmanager
    def reading_tuples(self) -> Iterator[Any]:
        """A read whose rows are plain tuples: far cheaper to fetch in bulk."""
        raise NotImplementedError

    def log_positions(
        self,
        organisation_id: UUID,
        *,
        record_id: UUID | None = None,
        after: int = 0,
        limit: int = 100,
    ) -> list[int]:
        """Positions of an organisation's events (or one record's), in log order."""
        log = self.qualified(TABLES["log"])
        where = (
            f"organisation_id = {self.placeholder} AND position > {self.placeholder}"
        )
        parameters: list[Any] = [str(organisation_id), after]
        if record_id is not None:
            where += f" AND record_id = {self.placeholder}"
            parameters.append(str(record_id))
        with self.reading_tuples() as cursor:
            cursor.execute(
                f"SELECT position FROM {log} WHERE {where} "
                f"ORDER BY position LIMIT {self.placeholder}",
                (*parameters, limit),
            )
            return [int(row[0]) for row in cursor.fetchall()]

    def events_of(self, organisation_id: UUID, position: int) -> int:
        """How many of the organisation's events are at or below the position."""
        log = self.qualified(TABLES["log"])
        with self.reading_tuples() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FROM {log} WHERE organisation_id = {self.placeholder}"
                f" AND position <= {self.placeholder}",
                (str(organisation_id), position),
            )
            return int(cursor.fetchone()[0])

    def organisation_ids(self) -> list[UUID]:
        table = self.qualified(TABLES["organisations"])
        with self.reading_tuples() as cursor:
            cursor.execute(f"SELECT organisation_id FROM {table} ORDER BY position")
            return [UUID(row[0]) for row in cursor.fetchall()]

    def organisations_named(self, name: str) -> list[UUID]:
        table = self.qualified(TABLES["organisations"])
        with self.reading_tuples() as cursor:
            cursor.execute(
                f"SELECT organisation_id FROM {table} WHERE name = {self.placeholder} "
                "ORDER BY position",
                (name,),
            )
            return [UUID(row[0]) for row in cursor.fetchall()]

    def position_at(self, moment: datetime) -> int:
        """The last position of the longest prefix of the log recorded by the moment."""
        log = self.qualified(TABLES["log"])
        with self.reading() as cursor:
            cursor.execute(
                f"SELECT MIN(position) AS first_after FROM {log} "
                f"WHERE recorded_at > {self.placeholder}",
                (moment.isoformat(),),
            )
            first_after = cursor.fetchone()["first_after"]
            if first_after is not None:
                return int(first_after) - 1
            cursor.execute(f"SELECT MAX(position) AS last FROM {log}")
            last = cursor.fetchone()["last"]
            return int(last or 0)

    def recorded_at(self, position: int) -> datetime | None:
        log = self.qualified(TABLES["log"])
        with self.reading() as cursor:
            cursor.execute(
                f"SELECT recorded_at FROM {log} WHERE position <= {self.placeholder} "
                "ORDER BY position DESC LIMIT 1",
                (position,),
            )
            row = cursor.fetchone()
        return None if row is None else from_column("datetime", row["recorded_at"])

    def counts(self) -> dict[str, int]:
        """How many rows each fact table holds."""
        result = {}
        with self.reading() as cursor:
            for t in TABLES.values():
                cursor.execute(f"SELECT COUNT(*) AS n FROM {self.qualified(t)}")
                result[t.name] = int(cursor.fetchone()["n"])
        return result

    def forget_position(self) -> None:
        with self.writing() as cursor:
            cursor.execute(self.forget_tracking_statement(), (VIEW_NAME,))

    def clear(self) -> None:
        """Empty every fact table and forget the position, in one transaction."""
        with self.writing() as cursor:
            for t in TABLES.values():
                cursor.execute(f"DELETE FROM {self.qualified(t)}")
            cursor.execute(self.forget_tracking_statement(), (VIEW_NAME,))

    def forget_tracking_statement(self) -> str:
        raise NotImplementedError

    if TYPE_CHECKING:

        def _insert_tracking(self, cursor: Any, tracking: Tracking) -> None: ...

        def _max_tracking_id(self, application_name: str, c: Any) -> int | None: ...


class SQLiteFactStore(FactStore, SQLiteTrackingRecorder):
    def create_table(self) -> None:
        reshaped = self.ensure_current_shape()
        super().create_table()
        if reshaped:
            self.forget_position()

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *self.fact_table_statements(),
        ]

    @contextmanager
    def reading_tuples(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.sqlite_cursor.row_factory = None
            yield cursor

    def forget_tracking_statement(self) -> str:
        return "DELETE FROM tracking WHERE application_name = ?"

    def scrub(self) -> tuple[str, ...]:
        return (checkpoint_sqlite(self.datastore),)
