"""The impact views: each event applied exactly once, incremental equals rebuilt, as-of equals the past, read-your-writes."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from threading import Barrier
from typing import Any
from uuid import uuid4

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.demo import create_demo
from fourpi.domain.vocabulary import ContributionNature, ImpactArea
from fourpi.projections.answers import Slice
from fourpi.projections.views import ImpactViews, ViewsNotReady
from tests.conftest import needs_postgres
from tests.helpers import ACTOR, Store, register
from tests.histories import play, slices

MOMENT = date(2023, 1, 1)


def every_fact(views: ImpactViews, organisations: list[Any], position: int) -> dict:
    """Everything the views hold for these organisations up to a position."""
    return {o: views.store.read_facts(o, position) for o in organisations}


def test_the_views_follow_the_log(records, database_url) -> None:
    summary = create_demo(records)
    views = open_views(database_url, records)
    assert views.status().lag == views.head() > 0
    assert views.catch_up() == views.head()
    status = views.status()
    assert status.lag == 0
    assert status.fact_rows["log"] == views.head()
    assert status.fact_rows["contributions"] == sum(
        len(i.contribution_ids) for i in summary.initiatives
    )
    assert status.fact_rows["changes"] == sum(
        len(i.change_ids) for i in summary.initiatives
    )
    # The demo touches every kind of fact, so no table may be left empty (it erases
    # no one: tests/test_erasure.py covers that table; its people never open their
    # own page: tests/test_personal_page.py covers what they record there).
    on_their_own_page = {"notice_preferences", "erasure_requests"}
    assert all(
        rows > 0
        for table, rows in status.fact_rows.items()
        if table not in {"erasures", *on_their_own_page}
    ), status.fact_rows
    views.close()


def test_two_workers_never_apply_an_event_twice(records, database_url) -> None:
    create_demo(records)
    workers = [open_views(database_url) for _ in range(4)]
    barrier = Barrier(len(workers))

    def work(views: ImpactViews) -> int:
        barrier.wait()
        return views.catch_up(batch_size=37)

    with ThreadPoolExecutor(len(workers)) as pool:
        reached = list(pool.map(work, workers))
    assert reached == [records.recorder.max_notification_id()] * len(workers)
    # A schema of its own: tests run in several processes at once (pytest -n).
    alone_schema = f"alone_{uuid4().hex[:12]}"
    alone = open_views(
        f"{database_url.split('?')[0]}?schema={alone_schema}"
        if "postgresql" in database_url
        else database_url.replace("fourpi.sqlite3", "alone.sqlite3")
    )
    create_demo(alone.records)
    alone.catch_up()
    counts = workers[0].status().fact_rows
    assert counts == alone.status().fact_rows
    for views in [*workers, alone]:
        views.close()
    if "postgresql" in database_url:
        import psycopg

        with psycopg.connect(database_url.split("?")[0], autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA IF EXISTS {alone_schema} CASCADE")


def test_a_rebuild_beside_a_running_worker_leaves_no_event_out(
    records, database_url
) -> None:
    """The worker read a batch, the rebuild emptied the views, then the worker wrote
    its batch: found by running `fourpi projections rebuild` beside `fourpi
    projections run` under writes on PostgreSQL. The worker's batch landed on the
    emptied views with its position, the rebuild went on from there, and the views
    said lag 0 with the demo organisation gone from them, for good."""
    organisation_id = create_demo(records).organisation_id
    worker = open_views(database_url)
    rebuilder = open_views(database_url)
    worker.catch_up()
    register(records, organisation_id)  # a write the worker is behind by
    writing = worker.store.record_batch

    def emptied_first(*arguments: Any, **named: Any) -> Any:
        worker.store.record_batch = writing  # once
        rebuilder.store.clear()  # the rebuild's first step, as the batch is written
        return writing(*arguments, **named)

    worker.store.record_batch = emptied_first
    worker.catch_up()
    rebuilder.catch_up()  # the rest of the rebuild
    head = records.recorder.max_notification_id()
    status = rebuilder.status()
    assert (status.position, status.fact_rows["log"]) == (head, head)
    for views in (worker, rebuilder):
        views.close()


def test_read_your_writes(
    records, database_url, organisation_id, initiative_id
) -> None:
    """A worker runs in the background; a writer waits for its own write to be in the views."""
    views = open_views(database_url)
    worker = threading.Thread(target=views.run, kwargs={"poll_seconds": 0.02})
    worker.start()
    try:
        advisor = register(records, organisation_id)
        for n in range(3):
            records.log_contribution(
                organisation_id=organisation_id,
                initiative_id=initiative_id,
                contributor_ids=[advisor],
                nature=ContributionNature.IDEA,
                summary=f"Idea {n}",
                impact_areas=(ImpactArea.DELIVERY,),
                made_on=date(2021, 3, 1),
                actor=ACTOR,
            )
            written = records.recorder.max_notification_id()
            assert views.wait(written, timeout=10) >= written
            report = views.report(Slice(organisation_id), moment=MOMENT)
            assert report.differences.contributions == n + 1
    finally:
        views.stop()
        worker.join(timeout=10)
    assert not worker.is_alive()
    views.close()


def test_a_stop_asked_for_before_the_run_begins_still_stops_it(
    records, database_url
) -> None:
    """The server's shutdown stops the views, and may do so before the worker's
    thread has begun to run them: that run returns instead of going on for ever."""
    views = open_views(database_url, records)
    views.stop()
    runner = threading.Thread(
        target=views.run, kwargs={"poll_seconds": 0.02}, daemon=True
    )
    runner.start()
    runner.join(10)
    try:
        assert not runner.is_alive(), "the run went on after a stop asked before it"
    finally:
        views.stop()
        runner.join(10)
        views.close()


def test_waiting_too_long_says_how_far_the_views_got(records, database_url) -> None:
    records.register_organisation(name="Mind", actor=ACTOR)
    views = open_views(database_url, records)
    with pytest.raises(ViewsNotReady, match="reached log position 0, not 1"):
        views.wait(1, timeout=0.05)
    with pytest.raises(ViewsNotReady):
        views.report(
            Slice(records.recorder.select_notifications(1, 1)[0].originator_id), as_of=1
        )


def test_as_of_a_time_is_the_longest_prefix_recorded_by_then(
    records, database_url
) -> None:
    views = open_views(database_url, records)
    first = records.register_organisation(name="Mind", actor=ACTOR)
    between = datetime.now(UTC)
    second = records.register_organisation(name="Other", actor=ACTOR)
    views.catch_up()
    assert views.store.position_at(between - timedelta(days=1)) == 0
    assert views.store.position_at(between) == 1
    assert views.store.position_at(datetime.now(UTC)) == 2
    assert (first, second) != (None, None)
    with pytest.raises(ValueError, match="time zone"):
        views.report(Slice(first), as_of=datetime(2024, 1, 1))


def run_histories_property(backend: str, examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def incremental_equals_rebuilt_and_as_of_equals_the_past(
        data: st.DataObject,
    ) -> None:
        store = Store(backend)
        records = store.open()
        try:
            known = play(records, data, steps=data.draw(st.integers(20, 70)))
            head = records.recorder.max_notification_id() or 0
            probes = [data.draw(slices(known)) for _ in range(3)]

            # Incrementally, in random batch sizes, restarting the worker in between,
            # capturing what the live views said whenever they stood somewhere.
            captured = {}
            views = ImpactViews(records_database(store), records)
            while views.position() < head:
                batch = data.draw(st.integers(1, 60))
                position = (
                    views.catch_up(batch_size=batch)
                    if batch > 40
                    else step(views, batch)
                )
                captured[position] = [views.report(p, moment=MOMENT) for p in probes]
                views.close()
                views = ImpactViews(records_database(store), records)
            incremental = every_fact(views, known.organisations, head)

            # Rebuilt from scratch in one go.
            views.rebuild(batch_size=data.draw(st.integers(1, 500)))
            assert every_fact(views, known.organisations, head) == incremental

            # As of each captured position: exactly what the live views said then.
            for position, reports in captured.items():
                assert [
                    views.report(p, as_of=position, moment=MOMENT) for p in probes
                ] == reports
            views.close()
        finally:
            records.close()
            store.remove()

    incremental_equals_rebuilt_and_as_of_equals_the_past()


def records_database(store: Store) -> Any:
    from fourpi.config import parse_database_url

    return parse_database_url(store.url)


def step(views: ImpactViews, events: int) -> int:
    """Apply at most `events` more events: one bounded batch."""
    position = views.position()
    notifications = views.records.recorder.select_notifications(
        start=position + 1, limit=events
    )
    if not notifications:
        return position
    views.store.record_batch(views.batch_of(notifications))
    return notifications[-1].id


def test_incremental_equals_rebuilt_on_sqlite() -> None:
    run_histories_property("sqlite", examples=20)


def test_incremental_equals_rebuilt_on_postgresql() -> None:
    needs_postgres()
    run_histories_property("postgresql", examples=6)


def test_every_kind_of_fact_has_a_rule() -> None:
    """Only command receipts, access tokens, people's accounts and the suppression
    threshold are left out: no answer needs them (the API reads the threshold from
    the organisation)."""
    from fourpi.domain.access import AccessToken
    from fourpi.domain.account import Account
    from fourpi.domain.organisation import Organisation
    from fourpi.domain.participant import Participant
    from fourpi.domain.receipt import CommandReceipt
    from fourpi.projections.facts import RULES
    from tests.test_upcasting import domain_event_classes

    facts = {
        c for c in domain_event_classes() if c.__name__ not in ("Event", "Created")
    }
    unprojected = facts - set(RULES)
    assert unprojected == {
        CommandReceipt.Issued,
        AccessToken.Issued,
        AccessToken.Revoked,
        Account.Invited,
        Account.InvitedAgain,
        Account.Joined,
        Account.RoleChanged,
        Account.Disabled,
        Organisation.SuppressionThresholdSet,
        # A personal link's making and revoking: its page reads the link's table.
        Participant.PersonalLinkMade,
        Participant.PersonalLinkRevoked,
    }


def test_status_and_rebuild_from_the_command_line(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    runner = CliRunner()
    assert runner.invoke(main, ["demo", "--database", url]).exit_code == 0
    status = runner.invoke(main, ["projections", "status", "--database", url])
    # The demo brings the views up to date, its demo people too (678 + 3 invited).
    assert status.exit_code == 0 and "Views at log position 681 of 681 (lag 0)" in (
        status.output
    )
    rebuilt = runner.invoke(main, ["projections", "rebuild", "--database", url])
    assert (
        rebuilt.exit_code == 0 and "Rebuilt the views from 681 events" in rebuilt.output
    )
    status = runner.invoke(main, ["projections", "status", "--database", url])
    assert "Views at log position 681 of 681 (lag 0)" in status.output
    records = open_records(url)
    assert open_views(url, records).position() == 681


def test_the_answers_command_prints_the_five_answers_live_and_as_of(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/answers.sqlite3"
    runner = CliRunner()
    demo = runner.invoke(main, ["demo", "--database", url])
    assert demo.exit_code == 0
    assert "What difference did involvement make to 'Diversifying who we involve'?" in (
        demo.output
    )
    records = open_records(url)
    summary = create_demo(records)
    organisation = str(summary.organisation_id)
    live = runner.invoke(
        main, ["answers", "--database", url, "--organisation", organisation]
    )
    assert live.exit_code == 0, live.output
    assert "As of log position 681" in live.output
    for question in ("1. Intended outcomes", "2. Differences made", "5. Beyond"):
        assert question in live.output
    past = runner.invoke(
        main,
        ["answers", "--database", url, "--organisation", organisation, "--as-of", "10"],
    )
    assert past.exit_code == 0 and "As of log position 10 " in past.output
    bad = runner.invoke(
        main,
        [
            "answers",
            "--database",
            url,
            "--organisation",
            organisation,
            "--as-of",
            "soon",
        ],
    )
    assert bad.exit_code == 2 and "must be a log position or a time" in bad.output


def test_views_of_another_shape_are_dropped_and_rebuilt_from_the_log(
    records, database_url
) -> None:
    create_demo(records)
    views = open_views(database_url, records)
    views.catch_up()
    before = views.status().fact_rows
    with views.store.writing() as cursor:
        cursor.execute(f"UPDATE {views.store.shape_table()} SET shape = 'older'")
    views.close()
    reopened = open_views(database_url, records)
    assert reopened.position() == 0
    assert set(reopened.status().fact_rows.values()) == {0}
    reopened.catch_up()
    assert reopened.status().fact_rows == before
    reopened.close()


def test_closing_views_closes_the_records_opened_for_them(
    records, database_url
) -> None:
    """A command that opens the views on a database alone leaves no connection to it
    open once it closes them; views given someone else's records leave those open."""
    own = open_views(database_url)
    lent = open_views(database_url, records)
    own.close()
    lent.close()
    # The sealing recorder of either backend, with its datastore's pool.
    theirs: Any = own.records.recorder
    ours: Any = records.recorder
    assert theirs.datastore.pool.closed
    assert not ours.datastore.pool.closed
    assert records.recorder.max_notification_id() is None  # still usable
