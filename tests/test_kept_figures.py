"""The figures about people and the table of counts kept from one write to the next, with only what a write touched worked out again, are exactly those worked out from every fact, after any history and any write."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.bootstrap import open_views
from fourpi.privacy.suppression import patterns_of, same_table
from fourpi.projections.disclosure import people_table
from fourpi.projections.evaluate import people_figures
from tests.helpers import Store
from tests.histories import play
from tests.test_moved_answers import fresh, involving, next_write


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
        involving(records, data, known)
        views = open_views(store.url, records)
        patterns = patterns_of(views)
        for _ in range(data.draw(st.integers(2, 8))):
            position = views.catch_up()
            for organisation in known.organisations:
                facts = fresh(views, organisation, position)
                full = people_figures(facts, organisation)
                table = patterns.people_table(
                    organisation, position, views.cache.facts(organisation, position)
                )
                kept, _ = patterns.tables[organisation]
                assert kept.figures == full
                assert list(kept.figures) == list(full)
                assert same_table(table, people_table(full))
            next_write(records, data, known)
        views.close()
    finally:
        records.close()
        store.remove()
