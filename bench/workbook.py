"""Workbook import against the bare use cases: a 10,000-row workbook imported (read, checked, recorded in one transaction) as a ratio to calling the same use cases directly, one transaction each.

Usage: python -m bench.workbook [--rows 10000] [--database-dir DIR] [--postgres URL]
"""

import argparse
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fourpi.bootstrap import open_records
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import (
    ContributionNature,
    ImpactArea,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    ParticipantKind,
    PaymentKind,
    ResponseOutcome,
)
from fourpi.workbook import import_path
from fourpi.workbook.files import read_workbook
from fourpi.workbook.importing import idempotency_key
from fourpi.workbook.writing import write_workbook

ACTOR = "bench"
START = date(2024, 1, 1)


def plan(rows: int) -> dict[str, int]:
    """How many rows of each sheet make `rows` in all: a busy initiative's log."""
    people = rows // 5
    meetings = rows // 20
    payments = rows // 10
    responses = (rows - 1 - people - 2 * meetings - payments) // 2
    contributions = rows - 1 - people - 2 * meetings - payments - responses
    return {
        "people": people,
        "meetings": meetings,
        "payments": payments,
        "contributions": contributions,
        "responses": responses,
    }


def workbook_rows(counts: dict[str, int]) -> dict[str, list[dict[str, Any]]]:
    people = counts["people"]
    held = [START + timedelta(days=n % 300) for n in range(counts["meetings"])]
    return {
        "Initiatives": [
            {
                "Key": "i",
                "Name": "Bench initiative",
                "Level": "Operational",
                "Kind of involvement": "Participation",
                "Methods": "Survey",
                "Purpose": "Measure the workbook import.",
                "Limits of influence": "None worth stating.",
                "Started on": START,
            }
        ],
        "People": [
            {
                "Key": f"p{n}",
                "Pseudonym": f"Person {n}",
                "Kind of person": "Service user",
            }
            for n in range(people)
        ],
        "Meetings": [
            {
                "Key": f"m{n}",
                "Initiative": "i",
                "Title": f"Meeting {n}",
                "Held at": datetime.combine(day, datetime.min.time())
                + timedelta(hours=10),
                "High-level": "No",
                "Decision-making": "No",
                "Papers sent at": datetime.combine(day, datetime.min.time()),
            }
            for n, day in enumerate(held)
        ],
        "Attendance": [
            {
                "Key": f"a{n}",
                "Meeting": f"m{n}",
                "People who came": "; ".join(
                    f"p{(n * 5 + k) % people}" for k in range(5)
                ),
            }
            for n in range(counts["meetings"])
        ],
        "Contributions": [
            {
                "Key": f"c{n}",
                "Initiative": "i",
                "Contributors": f"p{n % people}",
                "Nature": "Idea",
                "Summary": f"Idea {n}",
                "Impact areas": "Delivery",
                "Made on": START + timedelta(days=n % 300),
            }
            for n in range(counts["contributions"])
        ],
        "Responses": [
            {
                "Key": f"r{n}",
                "Contribution": f"c{n % counts['contributions']}",
                "Response": "Adopted",
                "Responded on": START + timedelta(days=300 + n % 30),
            }
            for n in range(counts["responses"])
        ],
        "Payments": [
            {
                "Key": f"pay{n}",
                "Person": f"p{n % people}",
                "Initiative": "i",
                "For": "Fee",
                "Amount (£)": Decimal("25.00"),
                "Owed on": START + timedelta(days=n % 300),
                "Paid on": START + timedelta(days=n % 300 + 7),
            }
            for n in range(counts["payments"])
        ],
    }


def direct(
    records: InvolvementRecords, org: Any, rows: dict[str, list[dict[str, Any]]]
) -> None:
    """The same facts through the same use cases, called one by one."""

    def key(sheet: str, row: dict[str, Any], *parts: str) -> str:
        return "direct-" + idempotency_key(sheet, row["Key"], *parts)

    (initiative,) = rows["Initiatives"]
    initiative_id = records.launch_initiative(
        organisation_id=org,
        name=initiative["Name"],
        level=InvolvementLevel.OPERATIONAL,
        involvement_kind=InvolvementKind.PARTICIPATION,
        methods=(InvolvementMethod.SURVEY,),
        purpose=initiative["Purpose"],
        limits_of_influence=initiative["Limits of influence"],
        started_on=START,
        actor=ACTOR,
        idempotency_key=key("Initiatives", initiative),
    )
    people = {
        row["Key"]: records.register_participant(
            organisation_id=org,
            pseudonym=row["Pseudonym"],
            participant_kind=ParticipantKind.SERVICE_USER,
            actor=ACTOR,
            idempotency_key=key("People", row),
        )
        for row in rows["People"]
    }
    meetings = {}
    for row in rows["Meetings"]:
        meeting_id = records.schedule_meeting(
            organisation_id=org,
            initiative_id=initiative_id,
            title=row["Title"],
            held_at=row["Held at"].replace(tzinfo=UTC),
            high_level=False,
            decision_making=False,
            actor=ACTOR,
            idempotency_key=key("Meetings", row),
        )
        records.send_meeting_papers(
            organisation_id=org,
            meeting_id=meeting_id,
            sent_at=row["Papers sent at"].replace(tzinfo=UTC),
            actor=ACTOR,
            idempotency_key=key("Meetings", row, "papers"),
        )
        meetings[row["Key"]] = meeting_id
    for row in rows["Attendance"]:
        records.record_attendance(
            organisation_id=org,
            meeting_id=meetings[row["Meeting"]],
            participant_ids=[people[p] for p in row["People who came"].split("; ")],
            actor=ACTOR,
            idempotency_key=key("Attendance", row),
        )
    contributions = {
        row["Key"]: records.log_contribution(
            organisation_id=org,
            initiative_id=initiative_id,
            contributor_ids=[people[row["Contributors"]]],
            nature=ContributionNature.IDEA,
            summary=row["Summary"],
            impact_areas=(ImpactArea.DELIVERY,),
            made_on=row["Made on"],
            actor=ACTOR,
            idempotency_key=key("Contributions", row),
        )
        for row in rows["Contributions"]
    }
    for row in rows["Responses"]:
        records.respond_to_contribution(
            organisation_id=org,
            contribution_id=contributions[row["Contribution"]],
            outcome=ResponseOutcome.ADOPTED,
            responded_on=row["Responded on"],
            actor=ACTOR,
            idempotency_key=key("Responses", row),
        )
    for row in rows["Payments"]:
        payment_id = records.record_payment_owed(
            organisation_id=org,
            participant_id=people[row["Person"]],
            initiative_id=initiative_id,
            payment_kind=PaymentKind.FEE,
            amount=row["Amount (£)"],
            owed_on=row["Owed on"],
            actor=ACTOR,
            idempotency_key=key("Payments", row),
        )
        records.record_payment_made(
            organisation_id=org,
            payment_id=payment_id,
            paid_on=row["Paid on"],
            actor=ACTOR,
            idempotency_key=key("Payments", row, "paid"),
        )


def timed(what: Any) -> float:
    started = time.perf_counter()
    what()
    return time.perf_counter() - started


def run(url_of: Any, rows: int) -> dict[str, float]:
    sheets = workbook_rows(plan(rows))
    folder = Path(tempfile.mkdtemp())
    path = folder / "bench.xlsx"
    write_workbook(path, sheets)
    figures: dict[str, float] = {"rows": sum(len(r) for r in sheets.values())}
    figures["read xlsx"] = timed(lambda: read_workbook(path))

    records = open_records(url_of("direct"))
    org = records.register_organisation(name="Direct", actor=ACTOR)
    before = records.recorder.max_notification_id() or 0
    figures["direct"] = timed(lambda: direct(records, org, sheets))
    figures["direct events"] = (records.recorder.max_notification_id() or 0) - before
    records.close()

    records = open_records(url_of("import"))
    org = records.register_organisation(name="Imported", actor=ACTOR)
    reports: list[Any] = []
    figures["dry run"] = timed(
        lambda: reports.append(
            import_path(records, org, path, actor=ACTOR, dry_run=True)
        )
    )
    figures["import"] = timed(
        lambda: reports.append(import_path(records, org, path, actor=ACTOR))
    )
    assert not reports[-1].problems, reports[-1].problems[:3]
    figures["import events"] = reports[-1].recorded
    figures["again"] = timed(
        lambda: reports.append(import_path(records, org, path, actor=ACTOR))
    )
    assert reports[-1].recorded == 0
    records.close()
    figures["ratio"] = figures["direct"] / figures["import"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-dir", type=Path)
    parser.add_argument("--postgres", help="a PostgreSQL URL; each run gets a schema")
    arguments = parser.parse_args()
    folder = arguments.database_dir or Path(tempfile.mkdtemp())
    stamp = int(time.time())

    def url_of(name: str) -> str:
        if arguments.postgres:
            return f"{arguments.postgres}?schema=bench_workbook_{name}_{stamp}"
        return f"sqlite:///{folder}/{name}-{stamp}.sqlite3"

    figures = run(url_of, arguments.rows)
    rows = int(figures["rows"])
    print(f"rows                  {rows}")
    print(f"read the .xlsx        {figures['read xlsx']:.2f} s")
    print(
        f"use cases directly    {figures['direct']:.2f} s "
        f"({rows / figures['direct']:,.0f} rows/s, {int(figures['direct events'])} events)"
    )
    print(f"import --dry-run      {figures['dry run']:.2f} s")
    print(
        f"import                {figures['import']:.2f} s "
        f"({rows / figures['import']:,.0f} rows/s, {int(figures['import events'])} events)"
    )
    print(f"import again          {figures['again']:.2f} s (nothing new)")
    print(
        f"rate against direct   {figures['ratio']:.2f} (import rows/s over direct rows/s)"
    )


if __name__ == "__main__":
    main()
