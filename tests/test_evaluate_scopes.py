"""Every scope people are counted in, the whole organisation and each initiative, answers as the oracle does, and the figures about people are exactly evaluate's."""

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.bootstrap import open_views
from fourpi.projections.answers import Slice
from fourpi.projections.evaluate import evaluate, people_figures
from tests.helpers import Store
from tests.histories import play
from tests.oracle import oracle_report, read_log

MOMENT = date(2022, 3, 15)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_scope_equals_the_oracle_and_its_people_figures(
    data: st.DataObject,
) -> None:
    # The random slices of test_answers seldom name the whole organisation, or an
    # initiative alone: here every one of them is asked, at a random position.
    store = Store("sqlite")
    records = store.open()
    try:
        known = play(records, data, steps=data.draw(st.integers(60, 200)))
        views = open_views(store.url, records)
        position = views.catch_up()
        log = read_log(records)
        at = data.draw(st.just(position) | st.integers(0, position))
        for organisation in known.organisations:
            facts = views.cache.facts(organisation, at)
            figures = people_figures(facts, organisation)
            assert set(figures) == {
                None,
                *(r["initiative_id"] for r in facts["initiatives"]),
            }
            for scope, figure in figures.items():
                chosen = Slice(organisation, scope)
                report = evaluate(facts, chosen, position=at, moment=MOMENT)
                assert report == oracle_report(log, chosen, position=at, moment=MOMENT)
                assert figure.presence == report.presence
                assert figure.process_experience == report.process_experience
                assert figure.support == report.process.support
        views.close()
    finally:
        records.close()
        store.remove()
