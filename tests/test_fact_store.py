"""The fact store's fast write path stores exactly what the plain one did: every table's
columns as codec.to_column gives them, on SQLite (executemany) and PostgreSQL (COPY)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import DatabaseError
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg.pq import TransactionStatus

from fourpi.bootstrap import open_views
from fourpi.demo import create_demo
from fourpi.projections.codec import UUIDTexts, row_encoder, to_column
from fourpi.projections.schema import TABLES, Facts, Row
from fourpi.projections.store import VIEW_NAME, ViewsMovedOn
from fourpi.projections.views import FactsCache
from tests.conftest import needs_postgres
from tests.helpers import Store

AWKWARD_TEXTS = [
    "",
    "\\N",
    "tab\there",
    "new\nline",
    "back\\slash",
    "Zo\u00eb\u2019s caf\u00e9 \u2713",
]


def value_of(kind: str, n: int) -> Any:
    """A value of the column type; every fourth one missing (None)."""
    if n % 4 == 3:
        return None
    return {
        "uuid": uuid4() if n % 2 else str(uuid4()),  # ids may come as text too
        "text": AWKWARD_TEXTS[n % len(AWKWARD_TEXTS)],
        "int": n * 1_000_003,
        "bool": bool(n % 2),
        "date": date(2020, 1 + n % 12, 1 + n % 28),
        "datetime": datetime(2021, 3, 4, 5, 6, 7, n, tzinfo=UTC),
        "decimal": Decimal(f"{n}.{n:02d}"),
        "list": tuple(AWKWARD_TEXTS[: n % 4]),
    }[kind]


def rows_for(n: int) -> dict[str, Row]:
    """One row for every table; some columns left out altogether."""
    return {
        name: {
            column: value_of(kind, n + i)
            for i, (column, kind) in enumerate(t.columns)
            if (n + i) % 5 != 4
        }
        for name, t in TABLES.items()
    }


def expected(organisation_id: UUID, position: int, seq: int, t: Any, row: Row) -> Any:
    full = {"organisation_id": organisation_id, "position": position, "seq": seq}
    full |= row
    return tuple(to_column(kind, full.get(name)) for name, kind in t.all_columns)


def test_row_encoders_give_what_to_column_gives() -> None:
    for n in range(40):
        texts = UUIDTexts()
        organisation_id = uuid4()
        for name, row in rows_for(n).items():
            t = TABLES[name]
            encode = row_encoder(t.columns)
            got = encode(texts.text(organisation_id), 7, n, row, texts.text)
            assert got == expected(organisation_id, 7, n, t, row), name
    # The same id seen again is the same text (and None stays None).
    texts = UUIDTexts()
    same = uuid4()
    assert texts.text(same) == texts.text(UUID(str(same))) == str(same)
    assert texts.text(None) is None


def a_batch(organisation_id: UUID, first: int, events: int) -> list[Any]:
    """Events that each add a log row and one row to every other table but erasures."""
    batch = []
    for position in range(first, first + events):
        facts = [
            (name, row)
            for name, row in rows_for(position).items()
            if name not in ("log", "erasures")
        ]
        log_row = rows_for(position)["log"]
        batch.append((position, organisation_id, [("log", log_row), *facts]))
    return batch


def stored_rows(views: Any, name: str) -> list[tuple[Any, ...]]:
    t = TABLES[name]
    names = ", ".join(column for column, _ in t.all_columns)
    with views.store.reading_tuples() as cursor:
        cursor.execute(
            f"SELECT {names} FROM {views.store.qualified(t)} ORDER BY position, seq"
        )
        return [tuple(row) for row in cursor.fetchall()]


def test_every_column_is_stored_as_to_column_gives(database_url: str) -> None:
    views = open_views(database_url)
    organisation_id = uuid4()
    batches = [a_batch(organisation_id, 1, 5), a_batch(organisation_id, 6, 3)]
    for batch in batches:
        # A lazy batch is taken as well as a list.
        assert views.store.record_batch(iter(batch)) == []
    assert views.position() == 8
    for name, t in TABLES.items():
        want = [
            expected(organisation_id, position, seq, t, row)
            for batch in batches
            for position, _, facts in batch
            for seq, (table_name, row) in enumerate(facts)
            if table_name == name
        ]
        assert stored_rows(views, name) == want, name
    # And read back typed, as the answers see them.
    facts = views.store.read_facts(organisation_id, 8)
    assert [r["position"] for r in facts["payments"]] == list(range(1, 9))
    assert facts["payments"][0]["organisation_id"] == organisation_id
    views.close()


def test_an_empty_batch_writes_nothing(database_url: str) -> None:
    views = open_views(database_url)
    assert views.store.record_batch(iter(())) == []
    assert views.position() == 0
    assert set(views.store.counts().values()) == {0}
    views.close()


def test_a_second_application_of_a_batch_writes_nothing(database_url: str) -> None:
    views = open_views(database_url)
    organisation_id = uuid4()
    views.store.record_batch(a_batch(organisation_id, 1, 4))
    before = views.store.counts()
    with pytest.raises(ViewsMovedOn):
        views.store.record_batch(a_batch(organisation_id, 3, 4))
    assert views.store.counts() == before
    assert views.position() == 4
    views.close()


def test_clear_empties_every_table_and_forgets_the_position(records, database_url):
    create_demo(records)
    views = open_views(database_url, records)
    head = views.catch_up()
    assert views.store.counts()["log"] == head
    views.store.clear()
    assert views.position() == 0
    assert set(views.store.counts().values()) == {0}
    assert int(views.store.max_tracking_id(VIEW_NAME) or 0) == 0
    views.close()


def test_small_batches_and_one_large_one_store_the_same(records, database_url):
    create_demo(records)
    views = open_views(database_url, records)
    head = views.catch_up(batch_size=7)
    organisations = views.store.organisation_ids()
    small = {o: views.store.read_facts(o, head) for o in organisations}
    assert views.rebuild(batch_size=100_000) == head
    assert views.store.organisation_ids() == organisations
    assert {o: views.store.read_facts(o, head) for o in organisations} == small
    views.close()


WRITTEN_TABLES = [name for name in TABLES if name not in ("log", "erasures")]
"""What an event may add rows to here (an erasure would delete what others wrote)."""


def typed(kind: str, value: Any) -> Any:
    """The value as a read gives it back: ids as UUIDs, lists as tuples."""
    if value is None:
        return None
    if kind == "uuid":
        return UUID(str(value))
    if kind == "list":
        return tuple(value)
    return value


def exactly(facts: Facts) -> dict[str, list[list[tuple[str, type, Any]]]]:
    """Every value with its type: a date read back as text, or a UUID as str, differs."""
    return {
        name: [sorted((k, type(v), v) for k, v in row.items()) for row in rows]
        for name, rows in facts.items()
    }


def events_adding_to(
    data: st.DataObject, organisations: list[UUID], first: int
) -> list[Any]:
    """Events from the first position, each of one of the organisations, each adding
    rows to a few tables (the same table perhaps more than once) after its log row."""
    drawn = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(organisations),
                st.lists(st.sampled_from(WRITTEN_TABLES), max_size=4),
            ),
            min_size=1,
            max_size=12,
        )
    )
    return [
        (
            position,
            organisation_id,
            [
                ("log", rows_for(position)["log"]),
                *((name, rows_for(position + i)[name]) for i, name in enumerate(names)),
            ],
        )
        for position, (organisation_id, names) in enumerate(drawn, start=first)
    ]


def written_between(
    events: list[Any], organisation_id: UUID, after: int, position: int
) -> Facts:
    """The organisation's rows of the events above `after`, at or below `position`,
    as a read should give them back."""
    facts: Facts = {name: [] for name in TABLES}
    for at, whose, rows in events:
        if whose != organisation_id or not after < at <= position:
            continue
        for seq, (name, row) in enumerate(rows):
            if name != "log":
                where = {"organisation_id": organisation_id, "position": at, "seq": seq}
                facts[name].append(
                    where
                    | {
                        column: typed(kind, row.get(column))
                        for column, kind in TABLES[name].columns
                    }
                )
    return facts


def test_new_rows_read_after_a_position_are_those_written_since(
    records: Any, database_url: str
) -> None:
    """Whichever tables events add to, reading an organisation's rows after a
    position (as the facts cache does after a write) gives exactly the rows written
    since, table by table, in log order and typed, as the full read has them (and
    with no erasure, when read with the latest erasure); and the
    cache, caught up from there, holds what a full read gives."""
    # One store for every example (each writes organisations of its own): a store
    # opened per example would hold a connection pool each while hypothesis shrinks.
    views = open_views(database_url, records)

    @settings(max_examples=25, deadline=None)
    @given(data=st.data())
    def reads_after_a_position(data: st.DataObject) -> None:
        organisations = [uuid4(), uuid4()]
        first = views.position() + 1
        events = events_adding_to(data, organisations, first)
        start = 0
        while start < len(events):
            size = data.draw(st.integers(1, len(events) - start), label="batch")
            views.store.record_batch(events[start : start + size])
            start += size
        for _ in range(3):
            organisation_id = data.draw(st.sampled_from(organisations))
            # Drawn as events from the first: the store is shared between examples.
            reached = data.draw(st.integers(0, len(events)), label="events reached")
            since = data.draw(st.integers(0, reached), label="events read before")
            position, after = first - 1 + reached, first - 1 + since
            new = views.store.read_facts(organisation_id, position, after=after)
            want = written_between(events, organisation_id, after, position)
            assert exactly(new) == exactly(want)
            together = views.store.facts_since(organisation_id, position, after)
            assert (exactly(together[0]), together[1]) == (exactly(want), 0)
            whole = views.store.read_facts(organisation_id, position)
            assert exactly(new) == exactly(
                {
                    name: [row for row in rows if row["position"] > after]
                    for name, rows in whole.items()
                }
            )
            cache = FactsCache(views.store)
            cache.facts(organisation_id, after)
            assert exactly(cache.facts(organisation_id, position)) == exactly(whole)

    try:
        reads_after_a_position()
    finally:
        views.close()


def a_person_erased(views: Any, organisation_id: UUID) -> UUID:
    """Events 1 to 4 of the organisation: a person with a declaration and a pseudonym
    (1), a payment (2), the person's erasure (3), another payment (4)."""
    person = uuid4()
    rows = rows_for(1)
    views.store.record_batch(
        [
            (
                1,
                organisation_id,
                [
                    ("log", rows["log"]),
                    ("participants", rows["participants"] | {"participant_id": person}),
                    ("monitoring", rows["monitoring"] | {"participant_id": person}),
                ],
            ),
            (
                2,
                organisation_id,
                [("log", rows["log"]), ("payments", rows["payments"])],
            ),
        ]
    )
    return person


@pytest.mark.parametrize(("kept", "asked"), [(2, 4), (1, 2)])
def test_the_cache_reads_afresh_after_an_erasure_since_its_entry(
    database_url: str, kept: int, asked: int
) -> None:
    """An erasure deletes a person's rows at every position: facts kept from before
    it are never taken again, whether the erasure is at or below the position asked
    for or beyond it (the views having moved on since)."""
    views = open_views(database_url)
    organisation_id = uuid4()
    person = a_person_erased(views, organisation_id)
    cache = FactsCache(views.store)
    assert [
        r["participant_id"] for r in cache.facts(organisation_id, kept)["monitoring"]
    ] == [person]
    rows = rows_for(3)
    views.store.record_batch(
        [
            (
                3,
                organisation_id,
                [("log", rows["log"]), ("erasures", {"participant_id": person})],
            ),
            (
                4,
                organisation_id,
                [("log", rows["log"]), ("payments", rows["payments"])],
            ),
        ]
    )
    facts = cache.facts(organisation_id, asked)
    assert facts["monitoring"] == []
    assert exactly(facts) == exactly(views.store.read_facts(organisation_id, asked))
    views.close()


def test_a_read_after_a_write_asks_the_store_once(database_url: str) -> None:
    """The rows new since the cached facts and the organisation's latest erasure are
    read together: one read of the store (on PostgreSQL one round trip), not two."""
    views = open_views(database_url)
    organisation_id = uuid4()
    views.store.record_batch(a_batch(organisation_id, 1, 3))
    cache = FactsCache(views.store)
    cache.facts(organisation_id, 3)
    views.store.record_batch(a_batch(organisation_id, 4, 1))
    reads = []
    reading_tuples = views.store.reading_tuples

    def counted() -> Any:
        reads.append(1)
        return reading_tuples()

    views.store.reading_tuples = counted
    facts = cache.facts(organisation_id, 4)
    assert len(reads) == 1
    assert exactly(facts) == exactly(views.store.read_facts(organisation_id, 4))
    views.close()


def test_reads_keep_their_statements_prepared_on_postgresql() -> None:
    """Reads on PostgreSQL end in no ROLLBACK, at which psycopg would forget every
    prepared statement: a query read more often than psycopg's threshold stays
    prepared from one read to the next. A failed read leaves its connection idle."""
    needs_postgres()
    store = Store("postgresql")
    views = open_views(store.url)
    try:
        organisation_id = uuid4()
        views.store.record_batch(a_batch(organisation_id, 1, 2))
        pool = views.store.datastore.pool
        for _ in range(6 * pool.max_size):
            views.store.last_erasure(organisation_id)
        with pytest.raises(DatabaseError), views.store.reading_tuples() as cursor:
            cursor.execute("SELECT no_such_column FROM pg_class")
        prepared = []
        for _ in range(pool.max_size):
            with views.store.datastore.get_connection() as connection:
                assert connection.info.transaction_status == TransactionStatus.IDLE
                prepared += connection.execute(
                    "SELECT statement FROM pg_prepared_statements", prepare=False
                ).fetchall()
        assert views.store.last_erasure_query.replace("%s", "$1") in [
            row["statement"] for row in prepared
        ]
        assert views.store.last_erasure(organisation_id) == 0
    finally:
        views.close()
        store.remove()
