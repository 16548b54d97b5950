"""Checks that OrjsonTranscoder gives back exactly the value and types it was given."""

from __future__ import annotations

import math
import tracemalloc
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from enum import Enum, Flag, IntEnum, StrEnum
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import orjson
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fourpi.storage.transcoder import OrjsonTranscoder


class Colour(Enum):
    RED = 1
    GREEN = "green"
    PAIR = (1, "two")


class Area(StrEnum):
    A = "a"
    B = "b"


class Level(IntEnum):
    LOW = 1
    HUGE = 2**70


class Access(Flag):
    READ = 1
    WRITE = 2


@dataclass(frozen=True)
class Point:
    x: float
    label: str
    on: date


@dataclass
class Box:
    items: list[Any]
    owner: UUID | None
    point: Point | None
    tags: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if len(self.items) > 3:
            raise ValueError("a Box holds at most three items")


@dataclass(frozen=True)
class Sneaky:
    """Field names that look like the transcoder's own tag keys."""

    _type_: str
    _data_: Any


def same(a: Any, b: Any) -> bool:
    """Equal, with identical types all the way down, and NaN equal to itself."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Enum):
        return a is b
    if isinstance(a, float):
        if math.isnan(a):
            return math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    if isinstance(a, Decimal):
        return a.compare_total(b) == 0
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict):
        return len(a) == len(b) and all(
            same(ka, kb) and same(va, vb)
            for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True)
        )
    if isinstance(a, set | frozenset):
        return len(a) == len(b) and all(any(same(x, y) for y in b) for x in a)
    if is_dataclass(a):
        return all(same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    if isinstance(a, datetime | time):
        return (
            a.replace(tzinfo=None) == b.replace(tzinfo=None)
            and a.fold == b.fold
            and same(a.tzinfo, b.tzinfo)
        )
    if isinstance(a, timezone):
        same_offset = a.utcoffset(None) == b.utcoffset(None)
        return same_offset and bool(a.tzname(None) == b.tzname(None))
    if isinstance(a, ZoneInfo):
        return bool(a.key == b.key)
    return bool(a == b)


def test_same_tells_apart_values_that_compare_equal() -> None:
    assert same(float("nan"), float("nan"))
    assert not same(0.0, -0.0)
    assert not same(1, True)
    assert not same((1,), [1])
    assert not same(Decimal("1.1"), Decimal("1.10"))
    assert not same(Level.LOW, 1)
    assert not same({1, 2}, {1, 2.0})


def roundtrip(value: Any) -> Any:
    transcoder = OrjsonTranscoder()
    return transcoder.decode(transcoder.encode(value))


_day = timedelta(hours=23, minutes=59, seconds=59, microseconds=999999)
offsets = st.timedeltas(min_value=-_day, max_value=_day)
tzinfos = st.one_of(
    st.none(),
    st.just(UTC),
    st.builds(timezone, offsets),
    st.builds(timezone, offsets, st.text(min_size=1, max_size=5)),
    st.timezones(),
)
edge_ints = st.sampled_from(
    [2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**40]
)
hashables = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers() | edge_ints,
        st.floats(allow_nan=False),
        st.text(max_size=5),
        st.binary(max_size=5),
        st.uuids(),
        st.dates(),
        st.sampled_from([*Colour, *Area, *Level, Access.READ | Access.WRITE]),
        st.decimals(allow_nan=False),
        st.builds(Point, st.floats(allow_nan=False), st.text(max_size=3), st.dates()),
    ),
    lambda inner: st.lists(inner, max_size=3).map(tuple) | st.frozensets(inner),
    max_leaves=6,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers() | edge_ints,
    st.floats(),
    st.text(),
    st.binary(),
    st.uuids(),
    st.datetimes(timezones=tzinfos),
    st.dates(),
    st.times(timezones=tzinfos),
    st.timedeltas(),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([*Colour, *Area, *Level, *Access, Access(0)]),
    st.builds(Point, st.floats(), st.text(), st.dates()),
)
text_keys = st.sampled_from(["_type_", "_data_", "uuid", "dict"]) | st.text()


def _containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.sets(hashables, max_size=4),
        st.frozensets(hashables, max_size=4),
        st.dictionaries(text_keys, children, max_size=4),
        st.dictionaries(hashables, children, max_size=4),
        st.builds(
            Box,
            st.lists(children, max_size=3),
            st.none() | st.uuids(),
            st.none() | st.builds(Point, st.floats(), st.text(), st.dates()),
            st.frozensets(st.text(max_size=3), max_size=3),
        ),
        st.builds(Sneaky, st.sampled_from(["uuid", "dict", "x"]), children),
    )


values = st.recursive(scalars, _containers, max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(values)
# An offset of under a second: Python 3.11 reads "+00:00:00.000001" back as +00:00.
@example(time(0, 0, tzinfo=timezone(timedelta(microseconds=1))))
@example(datetime(2024, 1, 1, tzinfo=timezone(-timedelta(microseconds=1))))
def test_any_value_round_trips_with_identical_types(value: Any) -> None:
    assert same(roundtrip(value), value)
    # The Mapper always hands over a dict of event state.
    assert same(roundtrip({"state": value}), {"state": value})


# Fixed, not uuid4(): each process of pytest -n collects the same tests by their ids.
SOME_ID = UUID("5d0f7a3e-9b2c-4e81-a6d4-3f17c0b8e952")
OTHER_ID = UUID("c2a94e17-08d3-4b6f-9e5a-71b3d6f0a248")


@pytest.mark.parametrize(
    "value",
    [
        float("nan"),
        float("inf"),
        float("-inf"),
        -0.0,
        2**64,
        -(2**63) - 1,
        Decimal("1.10"),
        Decimal("NaN"),
        Decimal("-0"),
        Decimal("1E+3"),
        {"_type_": "x"},
        {"_type_": "uuid", "_data_": "0" * 32},
        {SOME_ID: Area.A, Colour.PAIR: (1,), 3: date(2024, 1, 2), (1, 2): None},
        datetime(2024, 3, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5.5))),
        datetime(2024, 3, 1, 9, 30),
        datetime(2024, 10, 27, 1, 30, fold=1, tzinfo=ZoneInfo("Europe/London")),
        time(23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-3), "BRT")),
        Box(items=[{"k": {SOME_ID}}], owner=OTHER_ID, point=None),
    ],
    ids=repr,
)
def test_awkward_values_round_trip(value: Any) -> None:
    assert same(roundtrip(value), value)


def test_plain_json_is_stored_untagged() -> None:
    data = {"a": [1, "b", None, True, 1.5], "c": {"_data_": 2**63}}
    encoded = OrjsonTranscoder().encode(data)
    assert orjson.loads(encoded) == data
    assert b"_type_" not in encoded


class Ledger(Aggregate):
    def __init__(self, name: str) -> None:
        self.name = name
        self.entries: list[dict[str, Any]] = []

    @event("EntryRecorded")
    def record(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)


ENV = {
    "PERSISTENCE_MODULE": "eventsourcing.sqlite",
    "SQLITE_DBNAME": ":memory:",
    "TRANSCODER_TOPIC": "fourpi.storage.transcoder:OrjsonTranscoder",
}


def _check_ledger(app: Application[UUID], ledger: Ledger, by: UUID) -> None:
    copy: Ledger = app.repository.get(ledger.id)
    entry = copy.entries[0]
    assert type(entry["by"]) is UUID
    assert entry["by"] == by
    assert type(entry["on"]) is date
    assert type(entry["amount"]) is Decimal
    assert str(entry["amount"]) == "12.50"
    assert type(entry["areas"]) is tuple
    assert entry["areas"] == (Area.A, Area.B)
    assert all(type(a) is Area for a in entry["areas"])
    assert copy == ledger


def test_application_on_sqlite_reloads_exact_types() -> None:
    app: Application[UUID] = Application(env=ENV)
    assert isinstance(app.mapper.transcoder, OrjsonTranscoder)
    by = uuid4()
    ledger = Ledger("north")
    ledger.record(
        {
            "by": by,
            "on": date(2024, 5, 1),
            "amount": Decimal("12.50"),
            "areas": (Area.A, Area.B),
        }
    )
    app.save(ledger)
    _check_ledger(app, ledger, by)


def test_snapshot_of_aggregate_state_reloads_exact_types() -> None:
    app: Application[UUID] = Application(env={**ENV, "IS_SNAPSHOTTING_ENABLED": "y"})
    by = uuid4()
    ledger = Ledger("south")
    ledger.record(
        {
            "by": by,
            "on": date(2024, 5, 1),
            "amount": Decimal("12.50"),
            "areas": (Area.A, Area.B),
        }
    )
    app.save(ledger)
    app.take_snapshot(ledger.id)
    assert app.snapshots is not None
    assert len(list(app.snapshots.get(ledger.id))) == 1
    _check_ledger(app, ledger, by)


class NotSupported:
    pass


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (NotSupported(), "NotSupported"),
        ({"k": [NotSupported()]}, "NotSupported"),
        ({uuid4(): bytearray()}, "bytearray"),
    ],
)
def test_unsupported_type_raises_type_error_naming_it(value: Any, name: str) -> None:
    with pytest.raises(TypeError, match=name):
        OrjsonTranscoder().encode(value)


def test_unknown_tag_raises_value_error() -> None:
    with pytest.raises(ValueError, match="no-such-tag"):
        OrjsonTranscoder().decode(b'{"_type_":"no-such-tag","_data_":1}')


@pytest.mark.parametrize(
    ("tag", "topic"),
    [("enum", "uuid:UUID"), ("enum", get_topic(Point)), ("dataclass", "uuid:UUID")],
)
def test_topic_of_wrong_kind_of_class_raises(tag: str, topic: str) -> None:
    data = orjson.dumps({"_type_": tag, "_data_": [topic, {}]})
    with pytest.raises(ValueError, match="is not"):
        OrjsonTranscoder().decode(data)


def test_an_encoded_state_takes_the_room_of_its_bytes() -> None:
    """orjson (3.13) gives each text in a buffer of at least 4 KB, whatever its
    length: a workbook's events are each held encoded until the one transaction
    that stores them, and a 50,000-row workbook's 200,878 events of some 500 bytes
    took about 800 MB of its import's 1.36 GB peak."""
    transcoder = OrjsonTranscoder()
    tracemalloc.start()
    try:
        held = [
            transcoder.encode({"name": f"Initiative {n}", "purpose": "P" * 300})
            for n in range(1_000)
        ]
        room, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    text = sum(len(state) for state in held)
    assert room < 2 * text, f"{room:,} bytes held for {text:,} bytes of text"
