"""Dates where the organisation works: what is done at 00:30 in a British summer
(23:30 UTC the day before) counts on the day it was done, in every place a date
is taken from the clock or from a moment; moments are still kept in UTC."""

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import example, given, settings
from hypothesis import strategies as st

from fourpi.bootstrap import open_views
from fourpi.cli import main
from fourpi.config import time_zone
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import InvalidInput
from fourpi.domain.use_cases import Field, FieldKind
from fourpi.domain.vocabulary import (
    ContributionNature,
    ImpactArea,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    ParticipantKind,
)
from fourpi.local_time import in_time_zone, local, local_date, shown
from fourpi.projections.answers import Slice
from fourpi.workbook import write_template
from fourpi.workbook.cells import CellError, cell_of, read_cell
from fourpi.workbook.files import read_workbook
from fourpi.workbook.writing import write_workbook
from tests.helpers import ACTOR

FOURPI = str(Path(sys.executable).parent / "fourpi")
LONDON = ZoneInfo("Europe/London")
SUMMER_NIGHT = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
"""00:30 BST on 2 July."""
WINTER_NIGHT = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
"""23:30 GMT on 15 January."""
MOMENTS = st.datetimes(
    min_value=datetime(1900, 1, 2),
    max_value=datetime(2199, 12, 30),
    timezones=st.timezones(),
)
"""Any moment the record can hold, in any zone it may arrive in."""


def test_a_summer_night_in_utc_is_the_next_day_in_london() -> None:
    assert local_date(SUMMER_NIGHT) == date(2026, 7, 2)


def test_a_winter_night_in_utc_is_the_same_day_in_london() -> None:
    assert local_date(WINTER_NIGHT) == date(2026, 1, 15)


@given(MOMENTS)
def test_the_date_of_any_moment_is_its_date_in_london(moment: datetime) -> None:
    assert local_date(moment) == moment.astimezone(LONDON).date()


@given(MOMENTS)
def test_the_date_of_a_moment_follows_the_setting(moment: datetime) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FOURPI_TIME_ZONE", "Pacific/Auckland")
        assert (
            local_date(moment) == moment.astimezone(ZoneInfo("Pacific/Auckland")).date()
        )


def test_today_is_the_date_of_now_in_london(monkeypatch) -> None:
    monkeypatch.setattr("fourpi.local_time.now", lambda: SUMMER_NIGHT)
    assert local_date() == date(2026, 7, 2)


@pytest.mark.parametrize(
    ("name", "zone"),
    [("", "Europe/London"), ("UTC", "UTC"), ("America/New_York", "America/New_York")],
)
def test_the_time_zone_setting(monkeypatch, name: str, zone: str) -> None:
    monkeypatch.setenv("FOURPI_TIME_ZONE", name)
    assert time_zone() == ZoneInfo(zone)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("Mars/Olympus", ""),
        ("europe/london", ""),
        ("Europe", ""),
        ("../etc", ""),
        # ZoneInfo opens any file in the zone folder: `localtime` follows the
        # server's own setting, so two servers would date one moment differently,
        # and the others are placeholders or copies that no organisation works in.
        ("localtime", " (that is this machine's own setting, not a place's)"),
        ("Factory", " (that is IANA's mark for a zone not yet chosen)"),
        ("posixrules", ""),
        ("right/UTC", ""),
        ("posix/Europe/London", ""),
    ],
)
def test_a_time_zone_that_is_not_one_is_refused_by_name(
    monkeypatch, tmp_path, name: str, why: str
) -> None:
    monkeypatch.setenv("FOURPI_TIME_ZONE", name)
    rule = (
        "$FOURPI_TIME_ZONE: must be a time zone name from the IANA database, "
        f"such as Europe/London or UTC, not {name!r}{why}"
    )
    with pytest.raises(ValueError) as refused:
        time_zone()
    assert str(refused.value) == rule
    ran = subprocess.run(
        [FOURPI, "serve", "--database", f"sqlite:///{tmp_path}/s.sqlite3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert ran.returncode == 2, ran.stderr
    assert rule in ran.stderr
    assert "Traceback" not in ran.stderr


@pytest.fixture(scope="module")
def demo_recorded(tmp_path_factory) -> str:
    """A store holding the demo, and a template beside it to import."""
    folder = tmp_path_factory.mktemp("demo")
    database = f"sqlite:///{folder}/s.sqlite3"
    assert CliRunner().invoke(main, ["demo", "--database", database]).exit_code == 0
    write_template(folder / "in.xlsx")
    return database


@pytest.mark.parametrize(
    "command",
    [
        ["demo"],
        ["answers", "--organisation", "Mind (demo)"],
        ["workbook", "export", "out.xlsx", "--organisation", "Mind (demo)"],
        ["workbook", "import", "in.xlsx", "--organisation", "Mind (demo)"],
    ],
)
def test_every_command_refuses_a_time_zone_that_is_not_one_before_it_starts(
    monkeypatch, demo_recorded: str, command: list[str]
) -> None:
    monkeypatch.chdir(demo_recorded.removeprefix("sqlite:///").rsplit("/", 1)[0])
    monkeypatch.setenv("FOURPI_TIME_ZONE", "Mars/Olympus")
    ran = CliRunner().invoke(main, [*command, "--database", demo_recorded])
    assert ran.exit_code == 2, ran.output
    assert (
        "Error: $FOURPI_TIME_ZONE: must be a time zone name from the IANA database, "
        "such as Europe/London or UTC, not 'Mars/Olympus'"
    ) in ran.output
    assert "--as-of" not in ran.output


def policy_adopted(records: InvolvementRecords, name: str, adopted_on: date) -> UUID:
    """An organisation whose policy, adopted on the day, is to be reviewed 24
    months later."""
    organisation = records.register_organisation(name=name, actor=ACTOR)
    records.adopt_involvement_policy(
        organisation_id=organisation,
        version_label="1",
        adopted_on=adopted_on,
        review_interval_months=24,
        actor=ACTOR,
    )
    return organisation


def test_an_overdue_review_is_judged_by_the_date_in_london(
    records, database_url
) -> None:
    """Due on 1 July: at 23:30 UTC on 1 July it is 2 July in London, and the
    review is overdue; at 23:30 UTC on the day it is due in winter, it is not."""
    summer, winter = (
        policy_adopted(records, name, adopted_on)
        for name, adopted_on in (
            ("Summer", date(2025, 7, 1)),
            ("Winter", date(2025, 1, 15)),
        )
    )
    views = open_views(database_url, records)
    views.catch_up()
    late = views.report(Slice(summer), as_of=SUMMER_NIGHT + timedelta(days=365))
    assert late.moment == date(2027, 7, 2)
    assert late.principles.policy is not None
    assert late.principles.policy.review_due_on == date(2027, 7, 1)
    assert late.principles.policy.overdue
    on_time = views.report(Slice(winter), as_of=WINTER_NIGHT + timedelta(days=365))
    assert on_time.moment == date(2027, 1, 15)
    assert on_time.principles.policy is not None
    assert not on_time.principles.policy.overdue
    views.close()


def test_the_live_answers_are_as_of_today_in_london(
    monkeypatch, records, database_url
) -> None:
    organisation = records.register_organisation(name="Mind", actor=ACTOR)
    views = open_views(database_url, records)
    views.catch_up()
    monkeypatch.setattr("fourpi.local_time.now", lambda: SUMMER_NIGHT)
    assert views.report(Slice(organisation)).moment == date(2026, 7, 2)
    views.close()


MEETING_TIME = Field("held_at", "Held at", "", FieldKind.MOMENT)


def test_a_time_typed_without_a_zone_is_london_time() -> None:
    assert read_cell(MEETING_TIME, "01/07/2026 14:00") == datetime(
        2026, 7, 1, 13, tzinfo=UTC
    )
    assert read_cell(MEETING_TIME, "2026-01-15T14:00") == datetime(
        2026, 1, 15, 14, tzinfo=UTC
    )
    assert read_cell(MEETING_TIME, "2026-07-01T14:00+00:00") == datetime(
        2026, 7, 1, 14, tzinfo=UTC
    )


@given(MOMENTS)
def test_a_moment_written_to_a_workbook_reads_back_the_same(moment: datetime) -> None:
    """Even in the hour the clocks go back, which London shows twice."""
    in_utc = moment.astimezone(UTC)
    assert read_cell(MEETING_TIME, cell_of(MEETING_TIME, in_utc)) == in_utc


@settings(max_examples=30, deadline=None)
@given(MOMENTS)
def test_a_moment_written_to_a_workbook_file_reads_back_the_same(
    tmp_path_factory, moment: datetime
) -> None:
    """What the file keeps, not only the cell: a spreadsheet's time holds no finer
    than a millisecond, and one rounded up from the last of the first 01:59:59 of
    the hour shown twice would read back as 02:00 an hour later."""
    in_utc = moment.astimezone(UTC)
    path = tmp_path_factory.mktemp("moment") / "meetings.xlsx"
    write_workbook(path, {"Meetings": [{"Held at": cell_of(MEETING_TIME, in_utc)}]})
    (sheet,) = [s for s in read_workbook(path) if s.title == "Meetings"]
    assert read_cell(MEETING_TIME, sheet.rows[0].cells["Held at"]) == in_utc


def test_the_last_moment_before_london_s_second_1am_reads_back_the_same(
    tmp_path,
) -> None:
    moment = datetime(2026, 10, 25, 0, 59, 59, 999999, tzinfo=UTC)
    path = tmp_path / "meetings.xlsx"
    write_workbook(path, {"Meetings": [{"Held at": cell_of(MEETING_TIME, moment)}]})
    (sheet,) = [s for s in read_workbook(path) if s.title == "Meetings"]
    assert read_cell(MEETING_TIME, sheet.rows[0].cells["Held at"]) == moment


def test_both_times_of_the_hour_shown_twice_read_back() -> None:
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = first + timedelta(hours=1)
    assert cell_of(MEETING_TIME, first) == datetime(2026, 10, 25, 1, 30)
    assert cell_of(MEETING_TIME, second) == "2026-10-25T01:30:00+00:00"
    assert in_time_zone(datetime(2026, 10, 25, 1, 30)) == first


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))
@example(datetime(2026, 3, 29, 1, 30))
def test_a_time_typed_without_a_zone_is_the_one_the_clocks_showed(
    typed: datetime,
) -> None:
    """Read as local time, a time typed without its zone is that time on London's
    clocks, or refused as one they skipped going forward: never moved an hour."""
    try:
        moment = read_cell(MEETING_TIME, typed.isoformat())
    except CellError as refused:
        assert "never showed on the clocks in Europe/London" in refused.rule
        return
    assert local(moment).replace(tzinfo=None, fold=0) == typed.replace(fold=0)


def test_a_time_is_shown_in_london_saying_the_zone() -> None:
    assert shown(SUMMER_NIGHT) == "2 July 2026, 00:30 BST"
    assert shown(WINTER_NIGHT) == "15 January 2026, 23:30 GMT"


def test_a_meeting_just_after_midnight_is_held_on_that_day(
    records, organisation_id
) -> None:
    """00:30 BST on 2 July is 23:30 UTC on 1 July: a meeting then is not before an
    initiative that started on 2 July, and nothing said at it was said on 1 July."""
    initiative_id = records.launch_initiative(
        organisation_id=organisation_id,
        name="Summer listening",
        level=InvolvementLevel.COMMUNITY,
        involvement_kind=InvolvementKind.PARTICIPATION,
        methods=(InvolvementMethod.WORKSHOP,),
        purpose="Hear from carers over the summer.",
        limits_of_influence="None stated.",
        started_on=date(2026, 7, 2),
        actor=ACTOR,
    )
    meeting_id = records.schedule_meeting(
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        title="Midnight vigil",
        held_at=SUMMER_NIGHT,
        high_level=False,
        decision_making=False,
        actor=ACTOR,
    )
    carer = records.register_participant(
        organisation_id=organisation_id,
        pseudonym="Carer",
        participant_kind=ParticipantKind.CARER,
        actor=ACTOR,
    )
    with pytest.raises(InvalidInput) as refused:
        records.log_contribution(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            contributor_ids=[carer],
            nature=ContributionNature.IDEA,
            summary="Keep the lights on",
            impact_areas=(ImpactArea.DELIVERY,),
            made_on=date(2026, 7, 1),
            meeting_id=meeting_id,
            actor=ACTOR,
        )
    assert str(refused.value) == (
        "made_on: must not be before the meeting it was made at (2026-07-02)"
    )
