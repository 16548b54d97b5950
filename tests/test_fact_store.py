"""The fact store's fast write path stores exactly what the plain one did: every table's
columns as codec.to_column gives them, on SQLite (executemany) and PostgreSQL (COPY)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from fourpi.bootstrap import open_views
from fourpi.demo import create_demo
from fourpi.projections.codec import UUIDTexts, row_encoder, to_column
from fourpi.projections.schema import TABLES, Row
from fourpi.projections.store import VIEW_NAME, ViewsMovedOn

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
