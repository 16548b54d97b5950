"""The demo organisation: what it records, that it records it once, and the CLI."""

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from fourpi.bootstrap import open_records
from fourpi.cli import main
from fourpi.demo import ORGANISATION_NAME, create_demo
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.contribution import Contribution
from fourpi.domain.initiative import Initiative
from fourpi.domain.organisation import Organisation
from fourpi.domain.vocabulary import CyclePhase, ResponseOutcome
from tests.same_answers import answers, digests, workbook_names


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/demo.sqlite3"


@pytest.fixture
def records(database_url: str) -> Iterator[InvolvementRecords]:
    app = open_records(database_url)
    yield app
    app.close()


def test_demo_records_an_organisation_with_cycles_and_an_explained_decline(
    records: InvolvementRecords,
) -> None:
    summary = create_demo(records)
    organisation_id = summary.organisation_id

    organisation = records.load(Organisation, organisation_id, organisation_id)
    assert organisation.name == ORGANISATION_NAME
    initiatives = {
        s.initiative_id: records.load(Initiative, s.initiative_id, organisation_id)
        for s in summary.initiatives
    }
    assert len(initiatives) == 2
    assert [i.name for i in initiatives.values()] == [
        s.name for s in summary.initiatives
    ]

    strategic = [i for i in initiatives.values() if len(i.cycles) >= 2]
    assert strategic, "one initiative runs Act-Evaluate-Reflect-Learn cycles"
    cycles = strategic[0].cycles
    learned = [c for c in cycles if c.phase is CyclePhase.LEARN]
    assert len(learned) >= 2
    first, second = cycles[0], cycles[1]
    assert second.actions_taken_up
    assert set(second.actions_taken_up) <= set(first.planned_actions)

    contributions = [
        records.load(Contribution, contribution_id, organisation_id)
        for s in summary.initiatives
        for contribution_id in s.contribution_ids
    ]
    declines = [
        response
        for contribution in contributions
        for response in contribution.responses
        if response.outcome is ResponseOutcome.DECLINED
    ]
    assert declines
    assert all(response.rationale.strip() for response in declines)


def test_a_second_run_returns_the_same_summary_and_records_nothing(
    records: InvolvementRecords,
) -> None:
    first = create_demo(records)
    position = records.recorder.max_notification_id()

    second = create_demo(records)

    assert second == first
    assert records.recorder.max_notification_id() == position


def test_the_cli_creates_the_demo_once(database_url: str) -> None:
    runner = CliRunner()

    first = runner.invoke(main, ["demo", "--database", database_url])
    assert first.exit_code == 0, first.output
    assert ORGANISATION_NAME in first.output
    assert "Recorded" in first.output

    second = runner.invoke(main, ["demo", "--database", database_url])
    assert second.exit_code == 0, second.output
    assert ORGANISATION_NAME in second.output
    assert "nothing new was recorded" in second.output


def test_the_demo_workbook_gives_the_answers_the_coded_demo_gave(
    records: InvolvementRecords, database_url: str, monkeypatch
) -> None:
    """tests/data/demo_answers.json holds a digest of every answer (organisation,
    each initiative and cycle, each impact area) of the demo as fourpi/demo.py
    recorded it in code, before the demo became a workbook. The code gave its
    meetings' times in UTC; the workbook's times, typed without a zone, are local
    time, so they are read here where local time is UTC."""
    monkeypatch.setenv("FOURPI_TIME_ZONE", "UTC")
    summary = create_demo(records)
    organisation_id = summary.organisation_id
    names = workbook_names(records, organisation_id)
    result = answers(database_url, records, organisation_id, names)
    expected = orjson.loads(
        (Path(__file__).parent / "data" / "demo_answers.json").read_bytes()
    )
    assert digests(result) == expected


def test_the_demo_workbook_records_what_the_coded_demo_recorded(
    records: InvolvementRecords,
) -> None:
    summary = create_demo(records)
    assert records.recorder.max_notification_id() == 678
    assert [line.split(" (")[0] for line in summary.lines()] == [
        "Organisation: Mind",
        "Involvement policy 2.0: adopted 2020-03-01, last reviewed 2022-02-15",
        "Reference populations: 2",
        "Initiative: Diversifying who we involve",
        "  10 participants, 8 roles, 4 intended outcomes, 6 meetings, 11 "
        "contributions, 6 changes, 53 payments, 6 support and training records, 9 "
        "process-experience answers",
        "Initiative: Service user and carer voice in our five-year strategy",
        "  7 participants, 5 roles, 3 intended outcomes, 3 meetings, 5 "
        "contributions, 4 changes, 9 payments, 2 support and training records, 5 "
        "process-experience answers, 3 cycles",
    ]


def test_a_store_with_the_demo_an_older_fourpi_recorded_is_not_given_it_twice(
    records: InvolvementRecords,
) -> None:
    from datetime import date

    from fourpi.demo import ACTOR, ORGANISATION_KEY, DemoWorkbookBroken
    from fourpi.domain.vocabulary import (
        InvolvementKind,
        InvolvementLevel,
        InvolvementMethod,
    )

    organisation_id = records.register_organisation(
        name=ORGANISATION_NAME, actor=ACTOR, idempotency_key=ORGANISATION_KEY
    )
    records.launch_initiative(
        organisation_id=organisation_id,
        name="Diversifying who we involve",
        level=InvolvementLevel.STRATEGIC,
        involvement_kind=InvolvementKind.CO_PRODUCTION,
        methods=(InvolvementMethod.WORKSHOP,),
        purpose="p",
        limits_of_influence="l",
        started_on=date(2021, 6, 1),
        actor=ACTOR,
        idempotency_key="demo:diversity:launch",
    )
    position = records.recorder.max_notification_id()
    with pytest.raises(DemoWorkbookBroken, match="use a new store"):
        create_demo(records)
    assert records.recorder.max_notification_id() == position
