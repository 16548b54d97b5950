"""The views answer exactly as an obviously correct oracle computed straight from the events, and as the hand-worked demo."""

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.bootstrap import open_views
from fourpi.demo import create_demo
from tests.conftest import needs_postgres
from tests.helpers import Store
from tests.histories import play, slices
from tests.oracle import oracle_report, read_log
from tests.test_oracle_demo import assert_matches_demo

MOMENTS = st.sampled_from([date(2022, 1, 1), date(2022, 3, 15), date(2023, 1, 1)])


def views_equal_the_oracle(backend: str, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        store = Store(backend)
        records = store.open()
        try:
            known = play(records, data, steps=data.draw(st.integers(10, 90)))
            views = open_views(store.url, records)
            position = views.catch_up()
            log = read_log(records)
            for _ in range(6):
                piece = data.draw(slices(known))
                moment = data.draw(MOMENTS)
                target = data.draw(st.sampled_from([7, 14]))
                at = data.draw(st.integers(0, position))
                assert views.report(
                    piece, as_of=at, moment=moment, target_days=target
                ) == oracle_report(
                    log, piece, position=at, moment=moment, target_days=target
                )
            views.close()
        finally:
            records.close()
            store.remove()

    check()


def test_the_views_equal_the_oracle_on_sqlite() -> None:
    views_equal_the_oracle("sqlite", examples=60)


def test_the_views_equal_the_oracle_on_postgresql() -> None:
    needs_postgres()
    views_equal_the_oracle("postgresql", examples=10)


def test_the_views_match_the_hand_worked_demo(records, database_url) -> None:
    summary = create_demo(records)
    views = open_views(database_url, records)
    views.catch_up()
    assert_matches_demo(
        summary,
        lambda piece: views.report(piece, moment=date(2023, 1, 1)),
    )
    views.close()
