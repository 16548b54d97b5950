"""Workbooks: the template, import through the use cases (all or nothing, every problem by sheet, row and column), export, and the round trip that keeps every answer."""

import csv
import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msoffcrypto.format.ooxml import OOXMLFile
from openpyxl import Workbook, load_workbook

import fourpi.domain.record as record_rules
from fourpi.bootstrap import open_records
from fourpi.cli import main
from fourpi.demo import create_demo
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import InvalidInput
from fourpi.domain.use_cases import MANAGER_USE_CASES, FieldKind
from fourpi.domain.vocabulary import (
    FeedbackMethod,
    InvolvementRole,
    PaymentKind,
    PaymentPreference,
    ResponseOutcome,
)
from fourpi.workbook import export_workbook, import_path, write_template
from fourpi.workbook.exporting import Export, export_rows, organisation_events
from fourpi.workbook.files import (
    WorkbookUnreadable,
    escaped,
    read_workbook,
    unescaped,
)
from fourpi.workbook.importing import import_workbook
from fourpi.workbook.sheets import LISTS, READ_ME, SHEETS
from fourpi.workbook.writing import write_csv_folder, write_workbook
from tests.helpers import python_calls, register
from tests.histories import play
from tests.same_answers import answers, workbook_names
from tests.test_invariants import change, launch, log_contribution, respond
from tests.web import organisation_with_a_chain

ACTOR = "workbook test"

# A small valid workbook: heading to value, row by row (rows are numbered from 2).
VALID: dict[str, list[dict[str, Any]]] = {
    "Initiatives": [
        {
            "Key": "peer",
            "Name": "Peer support review",
            "Level": "Operational",
            "Kind of involvement": "participation",
            "Methods": "Focus group; Survey",
            "Purpose": "Review the peer support offer with the people who use it.",
            "Limits of influence": "Staffing levels are set by the trust.",
            "Started on": "08/01/2024",
        }
    ],
    "People": [
        {"Key": "p1", "Pseudonym": "River", "Kind of person": "Service user"},
        {
            "Key": "p2",
            "Pseudonym": "Ash",
            "Kind of person": "carer",
            "Gender": "Prefer not to say",
            "Payment preference": "Fees",
            "Earnings limit (£)": 100,
            "Earnings limit per": "Week",
        },
        {"Key": "s1", "Pseudonym": "Manager", "Kind of person": "Staff"},
    ],
    "Roles": [
        {
            "Key": "r1",
            "Initiative": "peer",
            "Person": "p1",
            "Role": "Advisor",
            "Paid": "Yes",
            "Decision-making": "No",
            "Started on": "2024-01-10",
            "Ended on": "30/06/2024",
        }
    ],
    "Intended outcomes": [
        {
            "Key": "o1",
            "Initiative": "peer",
            "Description": "More people use peer support.",
            "Impact areas": "Delivery",
        }
    ],
    "Meetings": [
        {
            "Key": "m1",
            "Initiative": "peer",
            "Title": "First meeting",
            "Held at": "01/02/2024 10:00",
            "High-level": "No",
            "Decision-making": "Yes",
            "Papers sent at": "25/01/2024 09:00",
            "Reasonable adjustments": "Large print\nA quiet room",
        }
    ],
    "Attendance": [{"Key": "a1", "Meeting": "m1", "People who came": "p1; p2; s1"}],
    "Contributions": [
        {
            "Key": "c1",
            "Initiative": "peer",
            "Contributors": "p1, p2",
            "Nature": "Idea",
            "Summary": "Meet in the evening too.",
            "Impact areas": "Delivery",
            "Made on": "01/02/2024",
            "Meeting": "m1",
        },
        {
            "Key": "c2",
            "Initiative": "peer",
            "Contributors": "p2",
            "Nature": "Concern",
            "Summary": "The room is hard to reach.",
            "Impact areas": "Service user and carer experience",
            "Made on": "01/02/2024",
        },
    ],
    "Responses": [
        {
            "Key": "c1-1",
            "Contribution": "c1",
            "Response": "Adopted",
            "Responded on": "15/02/2024",
        },
        {
            "Key": "c2-1",
            "Contribution": "c2",
            "Response": "Declined",
            "Rationale": "No other room is free.",
            "Responded on": "15/02/2024",
        },
    ],
    "Changes": [
        {
            "Key": "ch1",
            "Initiative": "peer",
            "What changed": "Evening sessions started.",
            "Impact area": "Delivery",
            "Scope": "Activity",
            "Evidence": "Timetable",
            "Changed on": "01/03/2024",
            "Came from contributions": "c1",
        }
    ],
    "Payments": [
        {
            "Key": "pay1",
            "Person": "p1",
            "Initiative": "peer",
            "For": "Fee",
            "Amount (£)": "25.00",
            "Owed on": "01/02/2024",
            "Paid on": "08/02/2024",
        }
    ],
    "Policy": [
        {
            "Key": "v1",
            "Version": "1.0",
            "Adopted on": "01/01/2024",
            "Review every (months)": 12,
        }
    ],
    "Policy reviews": [{"Key": "rev1", "Reviewed on": "01/06/2024", "Notes": "Kept."}],
    "Reference populations": [
        {"Key": "borough", "Initiative": "peer", "Description": "The borough"}
    ],
    "Population shares": [
        {
            "Key": "b1",
            "Reference population": "borough",
            "Category": "Gender",
            "Group": "Woman",
            "Share": "0.5",
        }
    ],
    "Cycles": [
        {
            "Key": "cy1",
            "Initiative": "peer",
            "Focus areas": "Delivery",
            "Started on": "01/02/2024",
            "Findings": "Evenings suit more people.",
            "Evaluated on": "01/04/2024",
        }
    ],
    "Feedback": [
        {
            "Key": "c1-told",
            "Contribution": "c1",
            "Given on": "20/02/2024",
            "How": "Email",
            "What they were told": "Evening sessions start in March.",
        }
    ],
    "Process experience": [
        {
            "Key": "q1",
            "Initiative": "peer",
            "Person": "p1",
            "Respondent": "Service user",
            "Stage": "In flight",
            "Answered on": "01/03/2024",
            "Listened to": 4,
            "Supported": "5",
            "In their words": "Good to be asked.",
        }
    ],
    "Support and training": [
        {
            "Key": "sup1",
            "Initiative": "peer",
            "Kind": "Peer support or mentoring",
            "Given on": "01/03/2024",
            "People": "p1; p2",
            "Hours": 1.5,
        }
    ],
    "Outcome assessments": [
        {
            "Key": "o1-1",
            "Intended outcome": "o1",
            "Assessment": "Partly achieved",
            "Difference involvement made": "Some",
            "Evidence": "Attendance up by a third.",
            "Assessed on": "01/06/2024",
        }
    ],
}


def write_xlsx(path: Path, sheets: dict[str, list[dict[str, Any]]]) -> Path:
    write_workbook(path, sheets)
    return path


@pytest.fixture
def sqlite_records(tmp_path: Path) -> Any:
    records = open_records(f"sqlite:///{tmp_path}/store.sqlite3")
    yield records
    records.close()


def organisation(records: InvolvementRecords, name: str = "Peer org") -> UUID:
    return records.register_organisation(name=name, actor=ACTOR)


def head(records: InvolvementRecords) -> int:
    return records.recorder.max_notification_id() or 0


# The description and the template


def test_every_manager_use_case_is_on_a_sheet() -> None:
    on_sheets = {step.use_case.name for sheet in SHEETS for step in sheet.steps}
    assert on_sheets == {use_case.name for use_case in MANAGER_USE_CASES}


def test_each_use_case_describes_exactly_the_arguments_it_takes() -> None:
    import inspect

    for use_case in MANAGER_USE_CASES:
        method = getattr(InvolvementRecords, use_case.name)
        taken = set(inspect.signature(method).parameters) - {
            "self",
            "organisation_id",
            "actor",
            "idempotency_key",
        }
        described = {field.argument for field in use_case.fields}
        assert described == taken, use_case.name


def test_no_sheet_has_two_columns_of_one_heading() -> None:
    for sheet in SHEETS:
        headings = [c.heading.lower() for c in sheet.columns]
        assert len(headings) == len(set(headings)), sheet.title


def test_the_template_explains_every_column_and_offers_every_vocabulary(
    tmp_path: Path,
) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    workbook = load_workbook(path)
    assert workbook.sheetnames[0] == READ_ME
    assert workbook[LISTS].sheet_state == "hidden"
    explained = {
        (row[0], row[1])
        for row in workbook[READ_ME].iter_rows(values_only=True)
        if row[0] and row[1]
    }
    for sheet in SHEETS:
        worksheet = workbook[sheet.title]
        headings = [c.value for c in worksheet[1]]
        assert headings == [c.heading for c in sheet.columns]
        validated = {
            str(cells).split(":")[0].rstrip("0123456789")
            for validation in worksheet.data_validations.dataValidation
            for cells in validation.sqref.ranges
        }
        for number, column in enumerate(sheet.columns, start=1):
            assert (sheet.title, column.heading) in explained
            if (
                column.field.vocabulary is not None
                or column.field.kind is FieldKind.YES_NO
            ):
                letter = worksheet.cell(1, number).column_letter
                assert letter in validated, (sheet.title, column.heading)


def test_the_empty_template_imports_with_nothing_to_record(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    path = tmp_path / "template.xlsx"
    write_template(path)
    report = import_path(
        sqlite_records, organisation(sqlite_records), path, actor=ACTOR
    )
    assert report.problems == [] and report.recorded == 0


# Import


def test_a_valid_workbook_imports_through_the_use_cases(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    path = write_xlsx(tmp_path / "log.xlsx", VALID)
    org = organisation(sqlite_records)
    report = import_path(sqlite_records, org, path, actor=ACTOR)
    assert report.problems == []
    assert report.recorded > 0
    rows = export_rows(sqlite_records, org, personal_data=True)
    assert [r["Key"] for r in rows["People"]] == ["p1", "p2", "s1"]
    assert rows["Meetings"][0]["Reasonable adjustments"] == "Large print\nA quiet room"
    assert rows["Roles"][0]["Ended on"] == date(2024, 6, 30)
    assert rows["Responses"][1]["Rationale"] == "No other room is free."


def test_a_workbook_import_shows_its_progress_through_each_stage(
    tmp_path: Path,
) -> None:
    """Only the rows had a progress bar: reading the workbook before it, and storing
    what the rows decided once it was full, showed nothing. A 50,000-row workbook
    was 21 silent seconds before the bar and 38 after it, on SQLite."""
    path = write_xlsx(tmp_path / "log.xlsx", VALID)
    database = f"sqlite:///{tmp_path}/store.sqlite3"
    ran = CliRunner().invoke(
        main,
        [
            *("workbook", "import", str(path), "--organisation", "Peer org"),
            *("--database", database),
        ],
    )
    assert ran.exit_code == 0, ran.output
    stages, _, recorded = ran.output.partition("Recorded ")
    events = recorded.split()[0]
    assert " ".join(stages.split()) == (
        f"Reading log.xlsx Importing rows Storing {events} events"
    )


def test_csv_folders_import_as_workbooks_do(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    from fourpi.workbook.writing import write_csv_folder

    write_csv_folder(tmp_path / "log", VALID)
    report = import_path(
        sqlite_records, organisation(sqlite_records), tmp_path / "log", actor=ACTOR
    )
    assert report.problems == [] and report.recorded > 0


@pytest.mark.parametrize("held", [[], ["notes.txt"]])
def test_a_folder_without_a_csv_file_is_refused_before_anything_is_recorded(
    tmp_path, held: list[str]
) -> None:
    """The wrong folder (no .csv file in it) imported 'from 0 rows', exit 0, and
    registered the organisation named, so a typed name made a new one."""
    folder = tmp_path / "log"
    folder.mkdir()
    for name in held:
        (folder / name).write_text("hello")
    database = f"sqlite:///{tmp_path}/w.sqlite3"
    ran = CliRunner().invoke(
        main,
        [
            "workbook",
            "import",
            str(folder),
            "--organisation",
            "Mnid",
            "--database",
            database,
        ],
    )
    assert ran.exit_code == 1, ran.output
    assert ran.output == (
        "Reading log\n"  # the stage it stopped at
        "Error: log holds no .csv file: each sheet of a folder is a .csv file "
        "named by its sheet, such as People.csv\n"
    )
    listed = CliRunner().invoke(main, ["organisations", "list", "--database", database])
    assert "Mnid" not in listed.output


@pytest.mark.parametrize("special", ["a named pipe", "/dev/zero"])
def test_a_csv_that_is_no_regular_file_is_refused_unread(
    tmp_path: Path, sqlite_records: InvolvementRecords, special: str
) -> None:
    """A People.csv that is a named pipe, or a link to /dev/zero, held the import
    for ever (reading the pipe, or an endless line of zeros into memory)."""
    from fourpi.workbook.writing import write_csv_folder

    write_csv_folder(tmp_path / "log", VALID)
    people = tmp_path / "log" / "People.csv"
    people.unlink()
    if special == "a named pipe":
        os.mkfifo(people)
    else:
        people.symlink_to("/dev/zero")
    with pytest.raises(WorkbookUnreadable, match=r"People\.csv is not a file"):
        import_path(
            sqlite_records, organisation(sqlite_records), tmp_path / "log", actor=ACTOR
        )


def test_a_workbook_that_is_a_named_pipe_is_refused_unread(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    """Opening it as a zip file waited for a writer for ever."""
    pipe = tmp_path / "log.xlsx"
    os.mkfifo(pipe)
    with pytest.raises(WorkbookUnreadable, match=r"log\.xlsx is not a file"):
        import_path(sqlite_records, organisation(sqlite_records), pipe, actor=ACTOR)


def test_a_real_import_with_one_invalid_row_records_nothing_at_all(
    tmp_path: Path, records: InvolvementRecords
) -> None:
    """On both backends: the valid rows before and after the bad one are not kept."""
    org = organisation(records)
    sheets = {title: [dict(r) for r in rows] for title, rows in VALID.items()}
    sheets["Responses"][1]["Rationale"] = None  # a decline must be explained
    path = write_xlsx(tmp_path / "log.xlsx", sheets)
    before = head(records)
    report = import_path(records, org, path, actor=ACTOR)
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [
        ("Responses", 3, "Rationale")
    ]
    assert "rationale" in report.problems[0].rule or "blank" in report.problems[0].rule
    assert report.recorded == 0
    assert head(records) == before


def test_skip_invalid_records_the_valid_rows_and_writes_the_rejected_beside_the_input(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path}/store.sqlite3"
    sheets = {title: [dict(r) for r in rows] for title, rows in VALID.items()}
    sheets["Changes"][0]["Scope"] = "Everywhere"
    path = write_xlsx(tmp_path / "log.xlsx", sheets)
    runner = CliRunner()
    arguments = ["workbook", "import", str(path), "--organisation", "Peer org"]
    dry = runner.invoke(main, [*arguments, "--dry-run", "--database", database])
    assert dry.exit_code == 1, dry.output
    assert "Changes row 2, column 'Scope' ('Everywhere'): must be one of" in dry.output
    refused = runner.invoke(main, [*arguments, "--database", database])
    assert refused.exit_code == 1 and "nothing was recorded" in refused.output
    records = open_records(database)
    try:
        assert head(records) == 0  # not even the organisation was registered
    finally:
        records.close()
    skipped = runner.invoke(
        main, [*arguments, "--skip-invalid", "--database", database]
    )
    assert skipped.exit_code == 1, skipped.output
    rejects = tmp_path / "log.rejected.xlsx"
    assert str(rejects) in skipped.output
    rejected = load_workbook(rejects)["Changes"]
    header = [c.value for c in rejected[1]]
    row = dict(zip(header, [c.value for c in rejected[2]], strict=True))
    assert row["Key"] == "ch1" and "Scope: must be one of" in str(row["Problems"])
    records = open_records(database)
    try:
        assert head(records) > 0
    finally:
        records.close()
    # Fixed, the rejects workbook imports the rest: its keys for rows imported
    # before (the initiative, the contribution) still name them.
    fixed = load_workbook(rejects)
    fixed["Changes"]["E2"] = "Activity"
    fixed.save(rejects)
    again = runner.invoke(
        main,
        [
            "workbook",
            "import",
            str(rejects),
            "--organisation",
            "Peer org",
            "--database",
            database,
        ],
    )
    assert again.exit_code == 0, again.output
    assert "Recorded" in again.output


def test_the_same_workbook_twice_records_once_and_a_longer_one_only_its_new_rows(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    org = organisation(sqlite_records)
    shorter = {
        title: rows
        for title, rows in VALID.items()
        if title not in ("Responses", "Feedback", "Changes", "Outcome assessments")
    }
    shorter["Contributions"] = VALID["Contributions"][:1]
    first = import_path(
        sqlite_records, org, write_xlsx(tmp_path / "short.xlsx", shorter), actor=ACTOR
    )
    assert first.problems == [] and first.recorded > 0
    position = head(sqlite_records)
    again = import_path(
        sqlite_records, org, write_xlsx(tmp_path / "short.xlsx", shorter), actor=ACTOR
    )
    assert again.problems == [] and again.recorded == 0
    assert head(sqlite_records) == position
    longer = import_path(
        sqlite_records, org, write_xlsx(tmp_path / "long.xlsx", VALID), actor=ACTOR
    )
    assert longer.problems == []
    # The new rows: a contribution, two responses, feedback, a change and an
    # assessment.
    people = export_rows(sqlite_records, org)["People"]
    assert [p["Key"] for p in people] == ["p1", "p2", "s1"]
    assert len(export_rows(sqlite_records, org)["Contributions"]) == 2
    assert len(export_rows(sqlite_records, org)["Responses"]) == 2
    full = tmp_path / "full"
    other = open_records(f"sqlite:///{full}.sqlite3")
    try:
        whole = import_path(
            other, organisation(other), tmp_path / "long.xlsx", actor=ACTOR
        )
        assert first.recorded + longer.recorded == whole.recorded
    finally:
        other.close()


def test_new_rows_naming_an_erased_person_are_refused_and_nothing_is_recorded(
    tmp_path: Path, records: InvolvementRecords
) -> None:
    """On both backends: once p1 is erased, the workbook imported before imports
    again recording nothing (its rows were recorded before), while a new row naming
    them is refused by its row and column, and so is the whole workbook."""
    org = organisation(records)
    first = import_path(
        records, org, write_xlsx(tmp_path / "a.xlsx", VALID), actor=ACTOR
    )
    assert first.problems == []
    (river,) = [m.record_id for key, m in first.made_on("People") if key == "p1"]
    assert river is not None
    records.erase_participant(participant_id=river, actor="admin")
    position = head(records)
    again = import_path(
        records, org, write_xlsx(tmp_path / "a.xlsx", VALID), actor=ACTOR
    )
    assert again.problems == [] and again.recorded == 0
    later = {title: [dict(r) for r in rows] for title, rows in VALID.items()}
    later["Roles"].append(
        {
            "Key": "r2",
            "Initiative": "peer",
            "Person": "p1",
            "Role": "Co-worker",
            "Paid": "No",
            "Decision-making": "No",
            "Started on": "01/05/2024",
        }
    )
    later["Meetings"].append(
        {
            "Key": "m2",
            "Initiative": "peer",
            "Title": "Second meeting",
            "Held at": "01/05/2024 10:00",
            "High-level": "No",
            "Decision-making": "No",
        }
    )
    later["Attendance"].append(
        {"Key": "a2", "Meeting": "m2", "People who came": "p2; p1"}
    )
    later["Payments"].append(
        {
            "Key": "pay2",
            "Person": "p1",
            "For": "Travel",
            "Amount (£)": "12.50",
            "Owed on": "01/05/2024",
        }
    )
    report = import_path(
        records, org, write_xlsx(tmp_path / "b.xlsx", later), actor=ACTOR
    )
    assert sorted((p.sheet, p.row, p.column) for p in report.problems) == [
        ("Attendance", 3, "People who came"),
        ("Payments", 3, "Person"),
        ("Roles", 3, "Person"),
    ]
    assert {p.rule for p in report.problems} == {
        f"participant {river} is erased: nothing new about them may be recorded"
    }
    assert report.recorded == 0
    assert head(records) == position


def test_a_long_organisation_name_and_long_keys_import_and_import_again_as_nothing_new(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    """A name of 200 characters is a valid organisation's, and a key of 190 a valid
    row's; but each became part of an idempotency key ('workbook:People:...') past
    its 200 characters, and was refused in words the person never typed:
    'idempotency_key: must be at most 200 characters'."""
    name = "N" * 200
    key = "k" * 190
    rows = {
        "People": [{**VALID["People"][0], "Key": key}],
        "Meetings": [],
        "Initiatives": VALID["Initiatives"],
    }
    path = write_xlsx(tmp_path / "long.xlsx", rows)
    first = import_path(sqlite_records, name, path, actor=ACTOR)
    assert first.problems == [] and first.recorded > 0
    position = head(sqlite_records)
    again = import_path(sqlite_records, name, path, actor=ACTOR)
    assert again.problems == [] and again.recorded == 0
    assert head(sqlite_records) == position


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("Mind\nCymru", "must be on one line, with no line break or tab"),
        ("Mind\x07", "must not contain control characters"),
    ],
)
def test_an_organisation_name_the_domain_refuses_is_refused_in_its_own_words(
    tmp_path: Path, sqlite_records: InvolvementRecords, name: str, rule: str
) -> None:
    """`workbook import --organisation 'Mind<line break>Cymru'` was refused as
    'idempotency_key: must not contain control characters': the name went into
    the row's idempotency key, which was checked first, in words the person never
    typed. A key that could not be kept as it is (too long, or holding a control
    character) is now its digest, and the name is refused by its own rule."""
    path = write_xlsx(tmp_path / "named.xlsx", {"Initiatives": VALID["Initiatives"]})
    with pytest.raises(InvalidInput) as refused:
        import_path(sqlite_records, name, path, actor=ACTOR)
    assert (refused.value.field, refused.value.rule) == ("name", rule)
    assert head(sqlite_records) == 0


def test_a_changed_row_under_an_imported_key_is_refused_by_its_key(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    org = organisation(sqlite_records)
    import_path(
        sqlite_records, org, write_xlsx(tmp_path / "a.xlsx", VALID), actor=ACTOR
    )
    changed = {title: [dict(r) for r in rows] for title, rows in VALID.items()}
    changed["Initiatives"][0]["Name"] = "Another name"
    report = import_path(
        sqlite_records, org, write_xlsx(tmp_path / "b.xlsx", changed), actor=ACTOR
    )
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [
        ("Initiatives", 2, "Key")
    ]
    assert "imported before with other values" in report.problems[0].rule


def test_unknown_columns_and_missing_columns_are_named_on_the_heading_row(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "People"
    sheet.append(["Key", "Pseudonym", "Kynd of person"])
    sheet.append(["p1", "River", "Service user"])
    workbook.save(tmp_path / "bad.xlsx")
    report = import_path(
        sqlite_records, organisation(sqlite_records), tmp_path / "bad.xlsx", actor=ACTOR
    )
    found = {(p.sheet, p.row, p.column) for p in report.problems}
    assert ("People", 1, "Kynd of person") in found
    assert ("People", 1, "Kind of person") in found


def test_a_cell_holding_a_spreadsheet_error_is_named_not_imported_as_text(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    """A formula's error pasted as a value (#DIV/0!, #REF!) is an error cell, not
    text: it was imported as the person's pseudonym."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "People"
    sheet.append(["Key", "Pseudonym", "Kind of person"])
    sheet.append(["p1", "#REF!", "Service user"])
    sheet.cell(2, 2).data_type = "e"
    workbook.save(tmp_path / "errors.xlsx")
    peer_org = organisation(sqlite_records)
    before = head(sqlite_records)
    report = import_path(
        sqlite_records, peer_org, tmp_path / "errors.xlsx", actor=ACTOR
    )
    (problem,) = report.problems
    assert (problem.sheet, problem.row, problem.column, problem.value) == (
        "People",
        2,
        "Pseudonym",
        "#REF!",
    )
    assert "error" in problem.rule
    assert head(sqlite_records) == before


# Export and the round trip


def test_the_demo_exported_with_personal_data_imports_into_an_empty_store_with_every_answer_equal(
    tmp_path: Path,
) -> None:
    assert_round_trip(tmp_path, demo_with(erased=None))


def demo_with(erased: int | None) -> Callable[[InvolvementRecords], UUID]:
    """Records the demo, with its diversity initiative's person `erased` erased."""

    def record(records: InvolvementRecords) -> UUID:
        summary = create_demo(records)
        if erased is not None:
            person = summary.initiatives[0].participant_ids[erased]
            records.erase_participant(participant_id=person, actor=ACTOR)
        people = export_rows(records, summary.organisation_id, personal_data=True)
        pseudonyms = [p["Pseudonym"] for p in people["People"]]
        assert pseudonyms.count("(erased)") == (0 if erased is None else 1)
        return summary.organisation_id

    return record


def assert_round_trip(
    tmp_path: Path, record: Callable[[InvolvementRecords], UUID]
) -> None:
    """The organisation `record` records, exported with personal data and imported
    into an empty store, answers as it did."""
    source_url = f"sqlite:///{tmp_path}/source.sqlite3"
    target_url = f"sqlite:///{tmp_path}/target.sqlite3"
    source = open_records(source_url)
    target = open_records(target_url)
    try:
        organisation_id = record(source)
        path = tmp_path / "record.xlsx"
        export_workbook(source, organisation_id, path, personal_data=True)
        report = import_path(target, "Copy", path, actor=ACTOR)
        assert report.problems == []
        assert report.organisation_id is not None
        # Each record named by its key in the workbook.
        exported = Export(
            list(organisation_events(source, organisation_id, None)), True
        )
        before = answers(
            source_url,
            source,
            organisation_id,
            exported.keys | {organisation_id: "organisation"},
        )
        imported = workbook_names(target, report.organisation_id)
        after = answers(
            target_url,
            target,
            report.organisation_id,
            {i: name.split(":", 1)[-1] for i, name in imported.items()},
        )
        assert after == before
    finally:
        source.close()
        target.close()


def test_a_name_stored_with_a_noncharacter_before_they_were_refused_still_exports(
    tmp_path: Path, sqlite_records: InvolvementRecords, monkeypatch: pytest.MonkeyPatch
) -> None:
    """XML cannot hold U+FFFF: such a name, stored before text with it was refused,
    made every export of its organisation a file no spreadsheet program opens."""
    monkeypatch.setattr(record_rules, "NONCHARACTERS", frozenset())
    org = organisation(sqlite_records)
    launch(sqlite_records, org, name="Peer support \uffff")
    monkeypatch.undo()
    path = tmp_path / "record.xlsx"
    export_workbook(sqlite_records, org, path, personal_data=True)
    assert load_workbook(path)["Initiatives"]["B2"].value == "Peer support \ufffd"


def test_an_export_without_personal_data_leaves_personal_fields_blank_and_says_so(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    summary = create_demo(sqlite_records)
    path = tmp_path / "demo.xlsx"
    export_workbook(sqlite_records, summary.organisation_id, path)
    workbook = load_workbook(path)
    read_me = " ".join(
        str(c.value) for row in workbook[READ_ME].iter_rows() for c in row if c.value
    )
    assert "without personal data" in read_me
    people = list(workbook["People"].iter_rows(values_only=True))
    header = people[0]
    personal = [header.index(c.heading) for c in SHEETS[3].columns if c.field.personal]
    assert personal and len(people) > 1
    assert all(row[i] is None for row in people[1:] for i in personal)
    answers_sheet = list(workbook["Process experience"].iter_rows(values_only=True))
    free_text = answers_sheet[0].index("In their words")
    assert all(row[free_text] is None for row in answers_sheet[1:])


def test_an_export_as_of_a_position_holds_only_what_was_recorded_by_then(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    org = organisation(sqlite_records)
    import_path(
        sqlite_records, org, write_xlsx(tmp_path / "a.xlsx", VALID), actor=ACTOR
    )
    position = head(sqlite_records)
    more = {
        "People": [
            *VALID["People"],
            {"Key": "p9", "Pseudonym": "Late", "Kind of person": "Carer"},
        ]
    }
    import_path(sqlite_records, org, write_xlsx(tmp_path / "b.xlsx", more), actor=ACTOR)
    now = export_rows(sqlite_records, org)["People"]
    then = export_rows(sqlite_records, org, as_of=position)["People"]
    assert len(now) == 4 and len(then) == 3


def test_the_cli_template_export_and_import(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path}/store.sqlite3"
    other = f"sqlite:///{tmp_path}/other.sqlite3"
    runner = CliRunner()
    template = runner.invoke(main, ["workbook", "template", str(tmp_path / "t.xlsx")])
    assert template.exit_code == 0, template.output
    assert runner.invoke(main, ["demo", "--database", database]).exit_code == 0
    out = tmp_path / "demo.xlsx"
    exported = runner.invoke(
        main,
        [
            "workbook",
            "export",
            str(out),
            "--organisation",
            "Mind (demo)",
            "--personal-data",
            "--database",
            database,
        ],
    )
    assert exported.exit_code == 0, exported.output
    arguments = [
        "workbook",
        "import",
        str(out),
        "--organisation",
        "Mind",
        "--database",
        other,
    ]
    dry = runner.invoke(main, [*arguments, "--dry-run"])
    assert dry.exit_code == 0 and "would import cleanly" in dry.output
    first = runner.invoke(main, arguments)
    assert first.exit_code == 0 and "Recorded" in first.output
    second = runner.invoke(main, arguments)
    assert second.exit_code == 0 and "Nothing new to record" in second.output
    unreadable = tmp_path / "not.xlsx"
    unreadable.write_text("not a workbook")
    refused = runner.invoke(
        main,
        [
            "workbook",
            "import",
            str(unreadable),
            "--organisation",
            "Mind",
            "--database",
            other,
        ],
    )
    assert refused.exit_code == 1 and "not an .xlsx workbook" in refused.output


def read(path: Path) -> Any:
    return read_workbook(path)


def test_import_workbook_takes_sheets_already_read(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    path = write_xlsx(tmp_path / "a.xlsx", VALID)
    report = import_workbook(
        sqlite_records, "Read first", read(path), actor=ACTOR, dry_run=True
    )
    assert report.problems == [] and report.new_events > 0 and report.recorded == 0
    assert head(sqlite_records) == 0


def test_reviews_of_an_earlier_policy_version_round_trip(tmp_path: Path) -> None:
    """Version 1.0 reviewed, then 2.0 adopted and reviewed: every review is on one
    sheet, which was imported after every version, so 1.0's review came after
    2.0's adoption and the workbook was refused ('must not be before the last
    review or adoption'). Each review is now imported after the versions adopted by
    its day, and the policy's status is as it was."""

    def record(records: InvolvementRecords) -> UUID:
        org = organisation(records)
        for label, adopted_on, reviewed_on in (
            ("1.0", date(2021, 1, 31), date(2021, 12, 1)),
            ("2.0", date(2022, 3, 1), date(2022, 11, 1)),
        ):
            records.adopt_involvement_policy(
                organisation_id=org,
                version_label=label,
                adopted_on=adopted_on,
                review_interval_months=12,
                actor=ACTOR,
            )
            records.review_involvement_policy(
                organisation_id=org, reviewed_on=reviewed_on, actor=ACTOR
            )
        return org

    assert_round_trip(tmp_path, record)


def test_feedback_on_a_deferred_response_round_trips(tmp_path: Path) -> None:
    """Contributors told in February that the decision was deferred, and the idea
    adopted in March: every response was imported before any feedback, so the
    February feedback came after March's adoption and the workbook was refused
    ('must not be before the response (2022-03-01)'). Each feedback row is now
    imported after its contribution's responses given by its day."""

    def record(records: InvolvementRecords) -> UUID:
        org = organisation(records)
        person = register(records, org)
        idea = log_contribution(records, org, launch(records, org), [person])()
        for outcome, responded_on, told_on in (
            (ResponseOutcome.DEFERRED, date(2022, 1, 10), date(2022, 2, 1)),
            (ResponseOutcome.ADOPTED, date(2022, 3, 1), date(2022, 3, 8)),
        ):
            respond(records, org, idea, outcome=outcome, responded_on=responded_on)()
            records.give_feedback(
                organisation_id=org,
                contribution_id=idea,
                given_on=told_on,
                method=FeedbackMethod.EMAIL,
                summary="You said, we did",
                actor=ACTOR,
            )
        return org

    assert_round_trip(tmp_path, record)


def declined_after_a_change(records: InvolvementRecords) -> UUID:
    """A change came from two ideas in February; one had been adopted in January,
    the other is declined in March."""
    org = organisation(records)
    person = register(records, org)
    initiative = launch(records, org)
    ideas = [log_contribution(records, org, initiative, [person])() for _ in range(2)]
    respond(
        records,
        org,
        ideas[1],
        outcome=ResponseOutcome.ADOPTED,
        responded_on=date(2022, 1, 10),
    )()
    change(
        records, org, initiative, contribution_ids=ideas, changed_on=date(2022, 2, 1)
    )()
    respond(
        records,
        org,
        ideas[0],
        outcome=ResponseOutcome.DECLINED,
        rationale="Not this year",
        responded_on=date(2022, 3, 1),
    )()
    return org


def test_a_contribution_declined_after_a_change_came_from_it_round_trips(
    tmp_path: Path,
) -> None:
    """The domain refuses only a change from an idea already declined. Every
    response was imported before any change, so the February change met March's
    decline and the workbook was refused ('was declined; a change cannot come from
    it'). Each change is now imported before the responses, about an idea it came
    from, given on or after its day."""
    assert_round_trip(tmp_path, declined_after_a_change)


def test_a_change_dated_after_its_contribution_was_declined_is_still_refused(
    tmp_path: Path,
) -> None:
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    target = open_records(f"sqlite:///{tmp_path}/target.sqlite3")
    try:
        path = tmp_path / "record.xlsx"
        export_workbook(
            source, declined_after_a_change(source), path, personal_data=True
        )
        book = load_workbook(path)
        changes = book["Changes"]
        heading = next(
            c.heading
            for c in next(s for s in SHEETS if s.title == "Changes").columns
            if c.field.name == "changed_on"
        )
        column = next(c.column for c in changes[1] if c.value == heading)
        changes.cell(row=2, column=column, value=date(2022, 4, 1))
        book.save(path)
        report = import_path(target, "Copy", path, actor=ACTOR)
        assert [(p.sheet, p.row) for p in report.problems] == [("Changes", 2)]
        assert "was declined; a change cannot come from it" in report.problems[0].rule
    finally:
        source.close()
        target.close()


def test_an_erased_person_is_exported_as_erased_and_the_record_still_round_trips(
    tmp_path: Path,
) -> None:
    assert_round_trip(tmp_path, demo_with(erased=1))


def test_a_reference_population_takes_its_shares_from_their_own_sheet(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    org = organisation(sqlite_records)
    sheets: dict[str, list[dict[str, Any]]] = {
        "Reference populations": [
            {"Key": "area", "Description": "People in the borough"},
        ],
        "Population shares": [
            {
                "Key": "s1",
                "Reference population": "area",
                "Category": "Gender",
                "Group": "Woman",
                "Share": 0.51,
            },
            {
                "Key": "s2",
                "Reference population": "area",
                "Category": "gender",
                "Group": "man",
                "Share": "0.49",
            },
            {
                "Key": "s3",
                "Reference population": "area",
                "Category": "Age band",
                "Group": "18 to 24",
            },
        ],
    }
    report = import_path(
        sqlite_records, org, write_xlsx(tmp_path / "a.xlsx", sheets), actor=ACTOR
    )
    assert {(p.sheet, p.row, p.column) for p in report.problems} == {
        ("Population shares", 4, "Share"),
        ("Reference populations", 2, "Key"),
    }
    sheets["Population shares"][2]["Share"] = "0.145"
    report = import_path(
        sqlite_records, org, write_xlsx(tmp_path / "a.xlsx", sheets), actor=ACTOR
    )
    assert report.problems == []
    (population,) = export_rows(sqlite_records, org)["Reference populations"]
    assert population["Description"] == "People in the borough"
    shares = export_rows(sqlite_records, org)["Population shares"]
    assert {(s["Category"], s["Group"], str(s["Share"])) for s in shares} == {
        ("Gender", "Woman", "0.51"),
        ("Gender", "Man", "0.49"),
        ("Age band", "18 to 24", "0.145"),
    }


FORMULA_LIKE = '=HYPERLINK("http://evil.example","Click")'


def formula_cells(source: Path | BinaryIO) -> list[str]:
    """Every cell of the workbook a spreadsheet would run as a formula."""
    workbook = load_workbook(source)
    return [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in workbook
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def test_text_that_reads_as_a_formula_is_exported_as_text_and_round_trips(
    tmp_path: Path,
) -> None:
    """An initiative and a pseudonym typed as '=HYPERLINK(...)' were written as
    live formulas, which a spreadsheet runs on opening and the import then refuses
    ('is a formula'): the organisation's own export would not come back in."""
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    target = open_records(f"sqlite:///{tmp_path}/target.sqlite3")
    try:
        chain = organisation_with_a_chain(source, FORMULA_LIKE)
        path = tmp_path / "exported.xlsx"
        export_workbook(source, chain.organisation_id, path, personal_data=True)
        assert formula_cells(path) == []
        report = import_path(target, "Copy", path, actor=ACTOR)
        assert report.problems == []
        assert report.organisation_id is not None
        for sheet, heading in (("Initiatives", "Name"), ("People", "Pseudonym")):
            kept = [
                row[heading]
                for row in export_rows(
                    target, report.organisation_id, personal_data=True
                )[sheet]
            ]
            assert kept and all(text.startswith(FORMULA_LIKE) for text in kept)
    finally:
        source.close()
        target.close()


def test_writing_a_sheet_grows_with_its_rows_not_their_square(tmp_path: Path) -> None:
    """Each row written asked openpyxl for the sheet's last row, which it finds by
    reading every cell so far: exporting a 60k-event organisation took three and a
    half minutes. Twice the rows now cost at most a little over twice the work, and
    text that looks like a number or a formula is still kept as text."""

    def people(count: int) -> dict[str, list[dict[str, str]]]:
        return {
            "People": [
                {"Key": f"person-{n}", "Pseudonym": f"=Person {n}"}
                for n in range(count)
            ]
        }

    path = tmp_path / "people.xlsx"
    small = python_calls(lambda: write_workbook(path, people(1000)))
    large = python_calls(lambda: write_workbook(path, people(2000)))
    assert large < 2.2 * small, (small, large)
    sheet = load_workbook(path)["People"]
    assert sheet["B2001"].value == "=Person 1999"
    assert sheet["B2001"].data_type == "s"


def test_an_export_imported_again_into_its_own_organisation_records_nothing_new(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    """The demo's amounts ('25.00') and shares ('0.50') are written as numbers and
    read back as 25 and 0.5: every payment and reference population of the
    organisation's own export was refused on import ('imported before with other
    values'), though each is the same row. Equal amounts are now one command."""
    summary = create_demo(sqlite_records)
    path = tmp_path / "record.xlsx"
    export_workbook(sqlite_records, summary.organisation_id, path, personal_data=True)
    before = head(sqlite_records)
    report = import_path(sqlite_records, summary.organisation_id, path, actor=ACTOR)
    assert [str(p) for p in report.problems] == []
    assert report.recorded == 0 and head(sqlite_records) == before


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet program opening a .csv file runs as a formula (OWASP)."""


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=12,
    )
    | st.sampled_from(["=1+2", "+44 20", "-x", "@SUM(A1)", "'=x", "''", "'plain"])
)
def test_text_in_a_csv_folder_never_starts_as_a_formula_and_reads_back_the_same(
    text: str,
) -> None:
    """A pseudonym typed as '=HYPERLINK(...)' or '@SUM(...)' went into People.csv as
    it was, and a spreadsheet program opening the file runs it. Such text is now
    written after an apostrophe (OWASP's guidance), which the import takes off."""
    with tempfile.TemporaryDirectory() as folder:
        write_csv_folder(Path(folder), {"People": [{"Key": "p1", "Pseudonym": text}]})
        with (Path(folder) / "People.csv").open(newline="", encoding="utf-8") as file:
            cells = [cell for row in csv.reader(file) for cell in row]
        assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)
        (sheet,) = read_workbook(Path(folder))
    read = sheet.rows[0].cells.get("Pseudonym") if sheet.rows else None
    assert read == (text if text.strip() else None)


def test_an_export_written_as_a_csv_folder_imports_with_its_text_as_it_was(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    source = open_records(f"sqlite:///{tmp_path}/source.sqlite3")
    try:
        chain = organisation_with_a_chain(source, "@SUM(1+1)*cmd|' /C calc'!A0")
        rows = export_rows(source, chain.organisation_id, personal_data=True)
    finally:
        source.close()
    write_csv_folder(tmp_path / "record", rows)
    report = import_path(sqlite_records, "Copy", tmp_path / "record", actor=ACTOR)
    assert report.problems == [] and report.organisation_id is not None
    again = export_rows(sqlite_records, report.organisation_id, personal_data=True)
    for sheet, heading in (("Initiatives", "Name"), ("People", "Pseudonym")):
        assert [r[heading] for r in again[sheet]] == [r[heading] for r in rows[sheet]]


def people_workbook(path: Path, hide: str) -> Path:
    """A People sheet of three people, with one of its sheet, rows or columns hidden."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "People"
    sheet.append(["Key", "Pseudonym", "Kind of person", "Gender"])
    sheet.append(["p1", "River", "Service user", None])
    sheet.append(["p2", "Ash", "Carer", "Woman"])
    sheet.append(["p3", "Oak", "Carer", None])
    if hide == "sheet":
        workbook.create_sheet("Read me")
        sheet.sheet_state = "hidden"
    elif hide == "row":
        sheet.row_dimensions[3].hidden = True
    elif hide == "column":
        sheet.column_dimensions["D"].hidden = True
    elif hide == "empty column":
        sheet.column_dimensions["E"].hidden = True
    workbook.save(path)
    return path


@pytest.mark.parametrize(
    ("hide", "problems"),
    [
        (
            "sheet",
            {("People", 2, "", "the sheet 'People' is hidden, with 3 rows in it")},
        ),
        ("row", {("People", 3, "", "this row is hidden")}),
        ("column", {("People", 3, "Gender", "this column is hidden")}),
    ],
)
def test_hidden_sheets_rows_and_columns_are_named_not_imported_unseen(
    tmp_path: Path,
    sqlite_records: InvolvementRecords,
    hide: str,
    problems: set[tuple[str, int, str, str]],
) -> None:
    """A person hidden in a row, a column of monitoring answers hidden, or a whole
    sheet hidden: what the manager could not see was recorded all the same, and
    nothing said so. Each is now a problem naming the sheet, row and column (a
    hidden sheet once, not once a row)."""
    org = organisation(sqlite_records)
    before = head(sqlite_records)
    path = people_workbook(tmp_path / "people.xlsx", hide)
    report = import_path(sqlite_records, org, path, actor=ACTOR)
    found = {(p.sheet, p.row, p.column, p.rule.split(":")[0]) for p in report.problems}
    assert found == problems
    assert all("unhide" in p.rule for p in report.problems)
    assert head(sqlite_records) == before


def test_a_hidden_column_with_nothing_in_it_and_the_templates_hidden_lists_import(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    path = people_workbook(tmp_path / "people.xlsx", "empty column")
    report = import_path(
        sqlite_records, organisation(sqlite_records), path, actor=ACTOR
    )
    assert report.problems == [] and report.recorded > 0
    report = import_path(
        sqlite_records,
        organisation(sqlite_records, "Other"),
        write_xlsx(tmp_path / "valid.xlsx", VALID),
        actor=ACTOR,
    )
    assert report.problems == [] and report.recorded > 0


def test_a_workbook_locked_with_a_password_or_an_ods_file_is_refused_saying_what_to_do(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    """Each was refused as 'not an .xlsx workbook fourpi can open (File is not a zip
    file)', or with "There is no item named '[Content_Types].xml'", which tells a
    manager nothing they can do."""
    plain = write_xlsx(tmp_path / "plain.xlsx", VALID)
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, locked.open("wb") as out:
        OOXMLFile(source).encrypt("a password", out)
    ods = tmp_path / "log.xlsx"
    with zipfile.ZipFile(ods, "w") as archive:
        # As the OpenDocument standard packs it: its kind first, uncompressed.
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    org = organisation(sqlite_records)
    before = head(sqlite_records)
    for path, words in (
        (locked, "locked.xlsx is locked with a password, or is an old .xls workbook"),
        (ods, "log.xlsx is an OpenDocument spreadsheet"),
    ):
        with pytest.raises(WorkbookUnreadable) as refused:
            import_path(sqlite_records, org, path, actor=ACTOR)
        assert str(refused.value).startswith(words)
        assert "save it as an Excel workbook (.xlsx)" in str(refused.value)
    assert head(sqlite_records) == before


ROUND_TRIPS = settings(
    max_examples=int(os.environ.get("FOURPI_ROUND_TRIPS", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def round_trips(test: Callable[..., None]) -> Any:
    """A property test over random histories, as many as FOURPI_ROUND_TRIPS."""
    return ROUND_TRIPS(given(data=st.data())(test))


@round_trips
def test_any_history_exported_imports_into_an_empty_store_with_every_answer_equal(
    data: st.DataObject,
) -> None:
    """Random histories (tests/histories.py), each organisation's record exported
    with personal data and imported into an empty store: nothing refused, and
    every answer as it was."""
    with tempfile.TemporaryDirectory() as folder:
        tmp_path = Path(folder)

        def record(records: InvolvementRecords) -> UUID:
            known = play(records, data, steps=data.draw(st.integers(10, 60)))
            return known.organisations[0]

        assert_round_trip(tmp_path, record)


def fee_then_expenses_only(records: InvolvementRecords) -> UUID:
    """A fee owed to a person who then chose to be paid expenses only."""
    org = organisation(records)
    person = register(records, org)
    records.record_payment_owed(
        organisation_id=org,
        participant_id=person,
        payment_kind=PaymentKind.FEE,
        amount=Decimal("25.00"),
        owed_on=date(2024, 1, 5),
        actor=ACTOR,
    )
    records.set_payment_preference(
        organisation_id=org,
        participant_id=person,
        payment_preference=PaymentPreference.EXPENSES_ONLY,
        actor=ACTOR,
    )
    return org


def test_a_fee_owed_before_the_person_chose_expenses_only_round_trips(
    tmp_path: Path,
) -> None:
    """The People sheet, with the person's choice, is imported before the Payments
    sheet, so the fee owed before they chose was refused ('chose not to be paid
    fees'): the export did not import. The export now names the payment the choice
    came after, and the import makes the choice there."""
    assert_round_trip(tmp_path, fee_then_expenses_only)


def test_a_fee_for_a_person_who_chose_expenses_only_is_still_refused(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    sheets: dict[str, list[dict[str, Any]]] = {
        "People": [
            {
                "Key": "p1",
                "Pseudonym": "River",
                "Kind of person": "Service user",
                "Payment preference": "Expenses only",
            }
        ],
        "Payments": [
            {
                "Key": "pay1",
                "Person": "p1",
                "For": "Fee",
                "Amount (£)": "25.00",
                "Owed on": "05/01/2024",
            }
        ],
    }
    report = import_path(
        sqlite_records, "Org", write_xlsx(tmp_path / "a.xlsx", sheets), actor=ACTOR
    )
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [
        ("Payments", 2, "For")
    ]
    assert head(sqlite_records) == 0


TRICKY_TEXTS = (
    "one\r\ntwo",
    "x\ry\r",
    "_x000D_",
    "_x005F_x000D_",
    "_x0000_x0000_",
    "_x000D\r",
    "\rx0041_",
    "_x41_",
)


@settings(max_examples=500, deadline=None)
@given(
    text=st.text(
        st.sampled_from(["a", " ", "_", "x", "0", "D", "F", "5", "\r", "\n", "\t"]),
        max_size=24,
    )
    | st.sampled_from(TRICKY_TEXTS)
)
def test_text_as_a_workbook_holds_it_reads_back_the_same(text: str) -> None:
    assert unescaped(escaped(text)) == text


def test_text_written_to_a_workbook_reads_back_the_same(tmp_path: Path) -> None:
    """A carriage return was written to the file as it was, and XML reads it as a
    line feed: 'one\\r\\ntwo' came back 'one\\ntwo'. Text that reads as a
    spreadsheet's own escape ('_x000D_') is kept as typed, as Excel keeps it."""
    path = tmp_path / "people.xlsx"
    rows = [{"Key": f"p{n}", "Pseudonym": t} for n, t in enumerate(TRICKY_TEXTS)]
    write_workbook(path, {"People": rows})
    (sheet,) = [s for s in read_workbook(path) if s.title == "People"]
    assert [row.cells["Pseudonym"] for row in sheet.rows] == list(TRICKY_TEXTS)


def test_a_carriage_return_as_a_spreadsheet_program_writes_it_is_read_as_one(
    tmp_path: Path,
) -> None:
    """Excel writes a carriage return in a cell as '_x000D_' (and an underscore
    that would read as such an escape as '_x005F_'): a purpose pasted from a
    Windows program was recorded as 'Line one_x000D_\\nLine two'."""
    path = tmp_path / "excel.xlsx"
    write_workbook(path, {"People": [{"Key": "p1", "Pseudonym": "PLACEHOLDER"}]})
    with zipfile.ZipFile(path) as packed:
        parts = {name: packed.read(name) for name in packed.namelist()}
    sheet = next(name for name, data in parts.items() if b"PLACEHOLDER" in data)
    parts[sheet] = parts[sheet].replace(
        b"PLACEHOLDER", b"Line one_x000D_\nLine two _x005F_x000D_"
    )
    with zipfile.ZipFile(path, "w") as packed:
        for name, data in parts.items():
            packed.writestr(name, data)
    (people,) = [s for s in read_workbook(path) if s.title == "People"]
    assert people.rows[0].cells["Pseudonym"] == "Line one\r\nLine two _x000D_"


def test_text_with_a_carriage_return_imports_again_as_nothing_new(
    tmp_path: Path,
) -> None:
    """A purpose typed in two lines in a .csv file (or a web form's text box, which
    sends a carriage return and a line feed) was exported with its carriage
    return as it was, which the workbook read back as a line feed: the
    organisation's own export was refused on import ('imported before with other
    values'), and into an empty store it recorded other text than the record's."""
    folder = tmp_path / "log"
    folder.mkdir()
    purpose = "Line one\r\nLine two\rLine three"
    write_csv_folder(
        folder,
        {
            "Initiatives": [
                {
                    "Key": "review",
                    "Name": "Peer support review",
                    "Level": "Operational",
                    "Kind of involvement": "Participation",
                    "Methods": "Focus group",
                    "Purpose": purpose,
                    "Limits of influence": "None",
                    "Started on": "01/02/2024",
                }
            ]
        },
    )
    records = open_records(f"sqlite:///{tmp_path}/store.sqlite3")
    empty = open_records(f"sqlite:///{tmp_path}/empty.sqlite3")
    try:
        first = import_path(records, "Mind", folder, actor=ACTOR)
        assert [str(p) for p in first.problems] == []
        assert first.organisation_id is not None
        path = tmp_path / "record.xlsx"
        export_workbook(records, first.organisation_id, path, personal_data=True)
        again = import_path(records, first.organisation_id, path, actor=ACTOR)
        assert [str(p) for p in again.problems] == []
        assert again.recorded == 0
        copy = import_path(empty, "Copy", path, actor=ACTOR)
        assert copy.organisation_id is not None
        (row,) = export_rows(empty, copy.organisation_id, personal_data=True)[
            "Initiatives"
        ]
        assert row["Purpose"] == purpose
    finally:
        records.close()
        empty.close()


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook_repeating(text: str, rows: int, columns: int) -> bytes:
    """A People sheet whose every cell, below a heading row of keys, shows one
    shared text: a few kilobytes packed, however long the text."""
    book = Workbook()
    book.active.title = "People"
    made = io.BytesIO()
    book.save(made)
    texts = f'<sst xmlns="{MAIN}"><si><t xml:space="preserve">{text}</t></si></sst>'
    cells = '<c t="s"><v>0</v></c>' * columns
    sheet = (
        f'<worksheet xmlns="{MAIN}"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Key</t></is></c></row>'
        + "".join(f'<row r="{r}">{cells}</row>' for r in range(2, rows + 2))
        + "</sheetData></worksheet>"
    )
    packed = io.BytesIO()
    with (
        zipfile.ZipFile(made) as source,
        zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
                    b"application/vnd.openxmlformats-officedocument."
                    b'spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif member.filename == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            archive.writestr(member, data)
        archive.writestr("xl/sharedStrings.xml", texts)
    return packed.getvalue()


def test_a_long_text_shown_in_thousands_of_cells_is_refused_before_it_is_read(
    tmp_path: Path,
) -> None:
    """A spreadsheet keeps a text once and shows it in as many cells as name it: a
    7 KB workbook of one 32,000-character text in 100,000 cells (3.2 billion
    characters) held the import for 49 seconds and 3.2 GB, every cell's problem
    keeping a copy of the text, and ten times the cells would fill the memory.
    The text a workbook's cells show, counted in each cell, is now held to the
    100 MB its file may unpack to."""
    path = tmp_path / "repeated.xlsx"
    path.write_bytes(workbook_repeating(" " + "y" * 32_000, rows=100, columns=40))
    assert path.stat().st_size < 64 * 1024
    with pytest.raises(WorkbookUnreadable) as refused:
        read_workbook(path)
    assert str(refused.value) == (
        "repeated.xlsx's cells show more than 100 MB of text, a text counted "
        "once in each cell that shows it: it is not a workbook fourpi can read"
    )


def record_through_the_use_cases(records: InvolvementRecords) -> UUID:
    """An organisation whose initiative, people, contribution, response and change
    were entered on the web or through the API, not from a workbook."""
    org = organisation(records)
    initiative = launch(records, org)
    river = register(records, org, pseudonym="River")
    register(records, org, pseudonym="Ash")
    contribution = log_contribution(records, org, initiative, [river])()
    respond(records, org, contribution)()
    change(records, org, initiative, contribution_ids=[contribution])()
    return org


def test_an_export_of_records_entered_through_the_use_cases_imports_again_as_nothing_new(
    tmp_path: Path, database_url: str, records: InvolvementRecords
) -> None:
    """Export keys a record entered on the web or through the API by its id's first
    eight characters, a key no import used: importing the organisation's own export
    again recorded every such row a second time (one initiative became two, and the
    answers counted it twice). Now a row naming a record the store holds, with its
    values, is that record."""
    org = record_through_the_use_cases(records)
    assert_nothing_new(records, org, tmp_path / "record.xlsx", database_url)


def test_a_changed_row_naming_a_record_entered_through_the_use_cases_is_refused_by_its_field(
    tmp_path: Path, records: InvolvementRecords
) -> None:
    org = record_through_the_use_cases(records)
    rows = export_rows(records, org, personal_data=True)
    rows["Initiatives"][0]["Name"] = "Another name"
    path = tmp_path / "changed.xlsx"
    write_workbook(path, rows)
    before = head(records)
    report = import_path(records, org, path, actor=ACTOR)
    assert [(p.sheet, p.row, p.column) for p in report.problems] == [
        ("Initiatives", 2, "Name")
    ]
    assert "already in the store" in report.problems[0].rule
    assert report.recorded == 0 and head(records) == before


@round_trips
def test_any_history_exported_imports_again_into_its_own_organisation_as_nothing_new(
    data: st.DataObject,
) -> None:
    """Random histories entered through the use cases, every sheet: the
    organisation's own export imports into it again recording nothing, and every
    answer stays as it was."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/fourpi.sqlite3"
        records = open_records(url)
        try:
            known = play(records, data, steps=data.draw(st.integers(10, 60)))
            org = known.organisations[0]
            assert_nothing_new(records, org, Path(folder) / "record.xlsx", url)
        finally:
            records.close()


def test_an_export_of_an_imported_workbook_imports_again_as_nothing_new(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    """A row that is one of a list (a policy version, a review, a cycle, a response,
    feedback) is exported under its place in the list ('version-1'), not the key
    it was imported with ('v1'): importing the export again recorded each a second
    time."""
    first = import_path(
        sqlite_records,
        "Peer org",
        write_xlsx(tmp_path / "log.xlsx", VALID),
        actor=ACTOR,
    )
    assert first.problems == [] and first.organisation_id is not None
    assert_nothing_new(sqlite_records, first.organisation_id, tmp_path / "x.xlsx")


def test_a_role_entered_through_the_use_cases_is_ended_by_its_exported_row(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    """An optional part a record lacks yet, filled in on its exported row, is
    recorded, as it is for a row imported before."""
    org = organisation(sqlite_records)
    initiative = launch(sqlite_records, org)
    person = register(sqlite_records, org)
    sqlite_records.assign_role(
        organisation_id=org,
        initiative_id=initiative,
        participant_id=person,
        role=InvolvementRole.ADVISOR,
        paid=False,
        decision_making=False,
        started_on=date(2024, 1, 10),
        actor=ACTOR,
    )
    rows = export_rows(sqlite_records, org, personal_data=True)
    rows["Roles"][0]["Ended on"] = date(2024, 6, 30)
    path = tmp_path / "ended.xlsx"
    write_workbook(path, rows)
    report = import_path(sqlite_records, org, path, actor=ACTOR)
    assert [str(p) for p in report.problems] == [] and report.recorded > 0
    launched: Any = sqlite_records.repository.get(initiative)
    (role,) = launched.roles.values()
    assert role.ended_on == date(2024, 6, 30)
    assert import_path(sqlite_records, org, path, actor=ACTOR).recorded == 0


def test_a_role_imported_then_ended_on_the_web_exports_and_imports_again_as_nothing_new(
    tmp_path: Path, sqlite_records: InvolvementRecords
) -> None:
    """A role imported from a workbook and ended on the web or through the API:
    its exported row, 'Ended on' filled, was refused on import ('the role already
    ended'), as the end was run again under the row's key."""
    rows = {title: VALID[title] for title in ("Initiatives", "People")}
    rows["Roles"] = [{k: v for k, v in VALID["Roles"][0].items() if k != "Ended on"}]
    first = import_path(
        sqlite_records, "Peer org", write_xlsx(tmp_path / "log.xlsx", rows), actor=ACTOR
    )
    assert first.problems == [] and first.organisation_id is not None
    org = first.organisation_id
    made = {(title, key): m for title, key, m in first.made}
    initiative, role = made[("Initiatives", "peer")], made[("Roles", "r1")]
    assert initiative.record_id is not None and role.record_id is not None
    sqlite_records.end_role(
        organisation_id=org,
        initiative_id=initiative.record_id,
        role_id=role.record_id,
        ended_on=date(2024, 6, 30),
        actor=ACTOR,
    )
    assert_nothing_new(sqlite_records, org, tmp_path / "record.xlsx")


def assert_nothing_new(
    records: InvolvementRecords, org: UUID, path: Path, url: str | None = None
) -> None:
    """The organisation's own export, written to path, imports into it again
    recording nothing (and, given the store's url, every answer as it was)."""
    export_workbook(records, org, path, personal_data=True)
    before = head(records)
    answered = answers(url, records, org, {}) if url else None
    again = import_path(records, org, path, actor=ACTOR)
    assert [str(p) for p in again.problems] == []
    assert again.recorded == 0 and head(records) == before
    if url:
        assert answers(url, records, org, {}) == answered
