"""The figures about people and the table of counts kept from one write to the next, with only what a write touched worked out again, are exactly those worked out from every fact, after any history and any write."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.bootstrap import open_views
from fourpi.privacy.suppression import patterns_of, same_table
from fourpi.projections.disclosure import people_table
from fourpi.projections.evaluate import people_figures
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
    histories.end_role,
    histories.schedule,
    histories.attend,
    histories.attend,
    histories.answer,
    histories.support,
)
"""Steps whose rows the kept figures take in initiative by initiative."""


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


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_kept_figures_and_table_are_those_of_every_fact(data: st.DataObject) -> None:
    """Write after write (a newcomer, a role, a declaration, an attendance, an
    answer, or any use case: an erasure, a meeting, support, a reserve...), the
    figures and the table the process keeps are those worked out afresh."""
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(5, 40)))
        for _ in range(data.draw(st.integers(4, 16))):
            play_one(records, data, known, SETTING_UP)
        views = open_views(store.url, records)
        patterns = patterns_of(views)
        for _ in range(data.draw(st.integers(2, 10))):
            position = views.catch_up()
            for organisation in known.organisations:
                facts = fresh(views, organisation, position)
                full = people_figures(facts, organisation)
                table = patterns.kept_table(
                    organisation, position, views.cache.facts(organisation, position)
                ).table
                kept, _ = patterns.tables[organisation]
                assert kept.figures == full
                assert list(kept.figures) == list(full)
                assert same_table(table, people_table(full))
            next_write(records, data, known)
        views.close()
    finally:
        records.close()
        store.remove()
