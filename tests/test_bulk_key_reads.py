"""Catching up reads people's keys in bulk: once a remembered() block has met many people it reads the whole key table in one query, and still a destroyed key stops decrypting (at once in this thread, and everywhere once the block ends) and a key made since is found."""

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from fourpi.bootstrap import open_records, open_views
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.participant import ERASED_PSEUDONYM
from fourpi.projections.answers import Slice
from tests.helpers import ACTOR, register
from tests.oracle import oracle_report, read_log

PEOPLE = 90
"""More people than a block reads one by one before it reads the table in bulk."""
MOMENT = date(2024, 1, 1)


@pytest.fixture
def people(records: InvolvementRecords, organisation_id: UUID) -> list[UUID]:
    assert records.keys.bulk_after_misses < PEOPLE  # type: ignore[attr-defined]
    everyone = []
    for number in range(PEOPLE):
        person = register(records, organisation_id, pseudonym=f"Person {number}")
        records.declare_monitoring_data(
            organisation_id=organisation_id,
            participant_id=person,
            monitoring={"age_band": ["18_24", "25_34", "65_plus"][number % 3]},
            actor=ACTOR,
        )
        everyone.append(person)
    return everyone


class Reads:
    """How the key store read its table."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.one_by_one = 0
        self.in_bulk = 0
        row, wrapped_keys = table.row, table.wrapped_keys

        def counted_row(participant_id: UUID) -> Any:
            self.one_by_one += 1
            return row(participant_id)

        def counted_wrapped_keys() -> Any:
            self.in_bulk += 1
            return wrapped_keys()

        table.row, table.wrapped_keys = counted_row, counted_wrapped_keys

    def stop(self) -> None:
        del self.table.row, self.table.wrapped_keys


@pytest.fixture
def reads(records: InvolvementRecords) -> Iterator[Reads]:
    counting = Reads(records.keys.table)  # type: ignore[attr-defined]
    yield counting
    counting.stop()


def pseudonym(records: InvolvementRecords, person: UUID) -> str:
    """The pseudonym the person's registration reads as (erased once the key is gone)."""
    registered: Any = next(iter(records.events.get(person)))
    name: str = registered.pseudonym
    return name


def test_a_block_meeting_many_people_reads_the_key_table_once(
    records: InvolvementRecords, people: list[UUID], reads: Reads
) -> None:
    keys: Any = records.keys
    with keys.remembered():
        names = [pseudonym(records, person) for person in people]
        # Everyone again: nothing more is read.
        again = [pseudonym(records, person) for person in people]
    assert names == again == [f"Person {number}" for number in range(PEOPLE)]
    assert reads.one_by_one == keys.bulk_after_misses
    assert reads.in_bulk == 1
    # Outside a block every read goes to the table.
    pseudonym(records, people[0])
    assert reads.one_by_one == keys.bulk_after_misses + 1


def test_a_table_too_large_to_hold_is_read_a_row_at_a_time(
    records: InvolvementRecords, people: list[UUID], reads: Reads
) -> None:
    keys: Any = records.keys
    keys.bulk_limit = PEOPLE // 2
    with keys.remembered():
        names = [pseudonym(records, person) for person in people]
    assert names == [f"Person {number}" for number in range(PEOPLE)]
    assert reads.in_bulk == 0
    assert reads.one_by_one == PEOPLE


def test_a_key_made_after_the_table_was_read_is_found(
    records: InvolvementRecords, organisation_id: UUID, people: list[UUID], reads: Reads
) -> None:
    keys: Any = records.keys
    with keys.remembered():
        for person in people:
            pseudonym(records, person)
        assert reads.in_bulk == 1
        newcomer = register(records, organisation_id, pseudonym="Newcomer")
        assert pseudonym(records, newcomer) == "Newcomer"


def test_a_destroyed_key_stops_decrypting_in_the_block_here_and_after_it_everywhere(
    database_url: str,
    records: InvolvementRecords,
    organisation_id: UUID,
    people: list[UUID],
    reads: Reads,
) -> None:
    keys: Any = records.keys
    other = open_records(database_url)  # another process
    here, elsewhere = people[-1], people[-2]
    try:
        with keys.remembered():
            for person in people[:-2]:
                pseudonym(records, person)
            assert reads.in_bulk == 1  # the table, with both keys, is held
            assert keys.destroy(here, organisation_id)
            assert other.keys.destroy(elsewhere, organisation_id)
            # Destroyed in this thread: read as erased at once, in the block too.
            assert pseudonym(records, here) == ERASED_PSEUDONYM
        # Once the block ends, what it read is gone: erased for everyone.
        assert pseudonym(records, elsewhere) == ERASED_PSEUDONYM
        with keys.remembered():
            assert [pseudonym(records, p) for p in people[-2:]] == [
                ERASED_PSEUDONYM
            ] * 2
            assert pseudonym(records, people[0]) == "Person 0"
    finally:
        other.close()


def test_views_caught_up_with_bulk_reads_answer_as_the_log_says(
    database_url: str,
    records: InvolvementRecords,
    organisation_id: UUID,
    people: list[UUID],
) -> None:
    for person in people[::20]:
        records.erase_participant(participant_id=person, actor="admin")
    views = open_views(database_url, records)
    try:
        position = views.catch_up()
        piece = Slice(organisation_id)
        assert views.report(piece, moment=MOMENT) == oracle_report(
            read_log(records), piece, position=position, moment=MOMENT
        )
    finally:
        views.close()
