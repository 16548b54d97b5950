"""An answer after a write that no answer reads (a person registered who takes no part yet, another organisation's write) is the last answer moved to the new position, and it is exactly what evaluating every fact again gives; so is the suppression pattern."""

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.bootstrap import open_views
from fourpi.domain.vocabulary import ParticipantKind
from fourpi.privacy.suppression import patterns_of, same_table
from fourpi.projections.answers import Slice
from fourpi.projections.disclosure import people_table, suppressed_cells
from fourpi.projections.evaluate import (
    PEOPLE_TABLES,
    REPORT_TABLES,
    evaluate,
    leaves_as_it_was,
    people_figures,
)
from fourpi.projections.schema import TABLES
from fourpi.projections.views import ImpactViews
from tests import histories
from tests.helpers import ACTOR, Store
from tests.histories import Known, play, play_one

MOMENT = date(2022, 6, 1)
SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def newcomer(records: Any, data: st.DataObject, known: Known) -> None:
    """Someone registered who takes no part yet (not offered to later steps)."""
    records.register_participant(
        organisation_id=data.draw(st.sampled_from(known.organisations)),
        pseudonym="Newcomer",
        participant_kind=data.draw(st.sampled_from(list(ParticipantKind))),
        actor=ACTOR,
    )


COUNTING = (histories.assign, histories.declare, histories.attend, histories.answer)
"""Steps that change a count of people when they take in someone involved."""


def involving(records: Any, data: st.DataObject, known: Known) -> None:
    """Steps that give a history initiatives and people involved in them, so that
    later writes have someone to count."""
    for _ in range(data.draw(st.integers(4, 12))):
        play_one(records, data, known, INVOLVING)


INVOLVING = (histories.launch, histories.register, histories.assign, histories.assign)


def next_write(records: Any, data: st.DataObject, known: Known) -> None:
    """A newcomer, a step that counts people, or any use case of a random history."""
    kind = data.draw(st.sampled_from(["newcomer", "counting", "any"]))
    if kind == "newcomer":
        newcomer(records, data, known)
    else:
        play_one(records, data, known, COUNTING if kind == "counting" else None)


def fresh(views: ImpactViews, organisation: UUID, position: int) -> Any:
    """The organisation's facts read from the store, nothing kept."""
    return views.store.read_facts(organisation, position)


class Reads(dict[str, Any]):
    """Facts that remember which tables were read."""

    def __init__(self, facts: dict[str, Any]) -> None:
        super().__init__(facts)
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> Any:
        self.read.add(name)
        return super().__getitem__(name)


@SETTINGS
@given(data=st.data())
def test_what_the_answers_read_is_declared(data: st.DataObject) -> None:
    """Every table evaluating a report or the figures about people reads is among
    REPORT_TABLES, and those a count of people is worked out from among the first;
    so a row of any other table can be taken to change no answer."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(10, 60)))
        views = open_views(store.url, records)
        position = views.catch_up()
        for organisation in known.organisations:
            facts = Reads(fresh(views, organisation, position))
            initiatives = known.initiatives[organisation]
            evaluate(
                facts,
                Slice(
                    organisation,
                    data.draw(st.none() | st.sampled_from(initiatives))
                    if initiatives
                    else None,
                    cycle=data.draw(st.none() | st.integers(1, 2)),
                ),
                position=position,
                moment=MOMENT,
            )
            people_figures(facts, organisation)
            assert facts.read <= REPORT_TABLES
        assert PEOPLE_TABLES <= REPORT_TABLES <= set(TABLES)
        views.close()
    finally:
        records.close()
        store.remove()


@settings(SETTINGS, max_examples=30)
@given(data=st.data())
def test_rows_said_to_leave_an_answer_as_it_was_do(data: st.DataObject) -> None:
    """After any history, write after write: when the rows a write added are said
    to leave the report, or the table of counts of people, as it was, evaluating
    every fact again gives the same report (but for its position), or the same
    table."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(5, 40)))
        involving(records, data, known)
        views = open_views(store.url, records)
        after = views.catch_up()
        for _ in range(data.draw(st.integers(1, 8))):
            before = after
            next_write(records, data, known)
            after = views.catch_up()
            for organisation in known.organisations:
                assert_left_as_it_was(views, known, organisation, before, after)
        views.close()
    finally:
        records.close()
        store.remove()


def assert_left_as_it_was(
    views: ImpactViews, known: Known, organisation: UUID, before: int, after: int
) -> None:
    new = views.store.read_facts(organisation, after, after=before)
    old_facts = fresh(views, organisation, before)
    new_facts = fresh(views, organisation, after)
    if leaves_as_it_was(new, REPORT_TABLES):
        pieces = [Slice(organisation)]
        pieces += [Slice(organisation, i) for i in known.initiatives[organisation]]
        for piece in pieces:
            then = evaluate(old_facts, piece, position=before, moment=MOMENT)
            now = evaluate(new_facts, piece, position=after, moment=MOMENT)
            assert replace(then, position=after) == now
    if leaves_as_it_was(new, PEOPLE_TABLES):
        assert same_table(
            people_table(people_figures(old_facts, organisation)),
            people_table(people_figures(new_facts, organisation)),
        )


@SETTINGS
@given(data=st.data())
def test_answers_and_patterns_handed_out_are_those_of_every_fact(
    data: st.DataObject,
) -> None:
    """Write after write, the report and the suppression pattern the views hand out
    (moved from the last where nothing read has changed) are those worked out from
    the facts read afresh."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(5, 40)))
        views = open_views(store.url, records)
        patterns = patterns_of(views)
        for _ in range(data.draw(st.integers(2, 8))):
            position = views.catch_up()
            for organisation in known.organisations:
                facts = fresh(views, organisation, position)
                piece = Slice(organisation)
                assert views.report(piece, moment=MOMENT) == evaluate(
                    facts, piece, position=position, moment=MOMENT
                )
                threshold = records.organisation(organisation).suppression_threshold
                assert patterns.of(organisation, position, threshold) == (
                    suppressed_cells(
                        people_table(people_figures(facts, organisation)), threshold
                    )
                )
            next_write(records, data, known)
        views.close()
    finally:
        records.close()
        store.remove()


def test_registering_a_newcomer_moves_the_last_answers_on() -> None:
    """The report and the pattern after a registration are not worked out again."""
    store = Store("sqlite")
    records = store.open()
    try:
        organisation = records.register_organisation(name="Mind", actor=ACTOR)
        views = open_views(store.url, records)
        patterns = patterns_of(views)
        first = views.report(Slice(organisation), moment=MOMENT)
        patterns.of(organisation, first.position, 5)
        records.register_participant(
            organisation_id=organisation,
            pseudonym="Newcomer",
            participant_kind=ParticipantKind.SERVICE_USER,
            actor=ACTOR,
        )
        position = views.catch_up()
        moved, reused = views.moved, patterns.reused
        report = views.report(Slice(organisation), moment=MOMENT)
        patterns.of(organisation, position, 5)
        assert report.position == position > first.position
        assert (views.moved, patterns.reused) == (moved + 1, reused + 1)
        views.close()
    finally:
        records.close()
        store.remove()
