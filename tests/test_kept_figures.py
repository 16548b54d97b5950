"""The figures about people and the table of counts kept from one write to the next, with only what a write touched worked out again, are exactly those worked out from every fact, after any history and any write."""

from collections.abc import Callable
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.bootstrap import open_views
from fourpi.privacy.suppression import patterns_of, same_table
from fourpi.projections.disclosure import (
    KeptTable,
    PeopleTable,
    people_table,
    suppressed_cells,
)
from fourpi.projections.evaluate import kept_people_figures, people_figures
from tests import histories
from tests.helpers import Store
from tests.histories import Known, play, play_one
from tests.test_moved_answers import fresh, newcomer

SETTING_UP = (
    histories.launch,
    histories.register,
    histories.register,
    histories.assign,
    histories.assign,
    histories.schedule,
)
"""Steps that give a history initiatives, people involved and meetings."""

TAKEN_BY_INITIATIVE = (
    histories.register,
    histories.assign,
    histories.assign,
    histories.assign,
    histories.end_role,
    histories.schedule,
    histories.attend,
    histories.attend,
    histories.answer,
    histories.support,
)
"""Steps whose rows the kept figures take in initiative by initiative, roles the
most often (what the organisation's tally adds up)."""


def next_write(records: Any, data: st.DataObject, known: Known) -> None:
    """A newcomer, a step taken in initiative by initiative, or any use case of a
    random history (a declaration, an erasure, a reserve, a reference share...)."""
    kind = data.draw(st.sampled_from(["newcomer", "by initiative", "any"]))
    if kind == "newcomer":
        newcomer(records, data, known)
    else:
        play_one(
            records,
            data,
            known,
            TAKEN_BY_INITIATIVE if kind == "by initiative" else None,
        )


def assert_only_values_changed(kept: KeptTable, last: PeopleTable) -> None:
    """Where the table kept says only values changed, it is the last one, the same
    groups, pairs, left-out rows and bands and its cells in the same order, but for
    the values of the cells it says changed."""
    if kept.changed is None:
        return
    table, since = kept.table, kept.changed.since
    assert since is last
    assert table.groups is since.groups and table.at_most is since.at_most
    assert table.left_out is since.left_out and table.bands is since.bands
    assert list(table.values) == list(since.values)
    assert sorted(map(repr, kept.changed.cells)) == sorted(
        repr(cell)
        for cell, value in table.values.items()
        if since.values[cell] != value
    )


def assert_kept_is_afresh(views: Any, organisation: UUID, position: int) -> None:
    """The pattern the process hands out is the one worked out from nothing; the
    table it kept for it differs from the last kept only in the values it says
    changed, if it says so; and the figures, the organisation's tally and the table
    kept are those worked out afresh."""
    patterns = patterns_of(views)
    facts = fresh(views, organisation, position)
    full = people_figures(facts, organisation)
    question = (organisation, views.store.last_erasure(organisation))
    last = patterns.tables.entries.get(question)
    threshold = patterns.threshold(organisation, position)
    assert patterns.of(organisation, position, threshold) == (
        suppressed_cells(people_table(full), threshold)
    )
    now = patterns.tables.entries[question]
    if last is not None and now[0] is not last[0]:
        assert_only_values_changed(now[0][1], last[0][1].table)
    table = patterns.kept_table(
        organisation, position, views.cache.facts(organisation, position)
    )
    (kept, _), _ = patterns.tables.entries[question]
    afresh = kept_people_figures(facts, organisation, position)
    assert kept.figures == full
    assert list(kept.figures) == list(full)
    assert kept.tally == afresh.tally
    assert kept.check_at == afresh.check_at
    assert same_table(table.table, people_table(full))


def assert_kept_after_each_write(
    data: st.DataObject,
    history: st.SearchStrategy[int],
    writes: st.SearchStrategy[int],
    write: Callable[[Any, st.DataObject, Known], None],
) -> None:
    """A random history of `history` steps with initiatives, people and meetings,
    then `writes` writes: what the process keeps is what is worked out afresh
    before each one and after the last but one."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(history))
        for _ in range(data.draw(st.integers(4, 16))):
            play_one(records, data, known, SETTING_UP)
        views = open_views(store.url, records)
        for _ in range(data.draw(writes)):
            position = views.catch_up()
            for organisation in known.organisations:
                assert_kept_is_afresh(views, organisation, position)
            write(records, data, known)
        views.close()
    finally:
        records.close()
        store.remove()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_kept_figures_and_table_are_those_of_every_fact(data: st.DataObject) -> None:
    """Write after write (a newcomer, a role, a declaration, an attendance, an
    answer, or any use case: an erasure, a meeting, support, a reserve...), what
    the process keeps is what is worked out afresh (`assert_kept_is_afresh`)."""
    assert_kept_after_each_write(
        data, st.integers(5, 40), st.integers(2, 10), next_write
    )


def taken_by_initiative(records: Any, data: st.DataObject, known: Known) -> None:
    play_one(records, data, known, TAKEN_BY_INITIATIVE)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_figures_grown_write_by_write_are_those_of_every_fact(
    data: st.DataObject,
) -> None:
    """Many writes in a row that the kept figures take in initiative by initiative
    (roles, endings, meetings, attendances, answers, support, registrations), each
    added to the organisation's tally and the last table's values: what the process
    keeps is what is worked out afresh after every one."""
    assert_kept_after_each_write(
        data, st.integers(5, 20), st.integers(8, 24), taken_by_initiative
    )
