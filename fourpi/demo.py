"""A demo organisation modelled on Mind's co-produced project: a workbook shipped in the package (fourpi/demo_workbook, one .csv per sheet), imported through the use cases."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path
from uuid import UUID

from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import DomainError
from fourpi.domain.receipt import CommandReceipt
from fourpi.domain.use_cases import RecordKind
from fourpi.workbook import ImportReport, import_path
from fourpi.workbook.importing import Made, Row

ACTOR = "fourpi demo"
ORGANISATION_NAME = "Mind (demo)"
ORGANISATION_KEY = "demo:organisation"
"""The idempotency key the demo organisation has always been registered with."""


@contextmanager
def demo_workbook() -> Iterator[Path]:
    """The folder of the demo's sheets, wherever the package is installed."""
    with as_file(files("fourpi") / "demo_workbook") as folder:
        yield folder


class DemoWorkbookBroken(DomainError):
    """The demo cannot be imported here: the shipped workbook no longer imports (a
    change to the domain's rules), or the store holds an older demo. The command
    line says so, as it does any refusal."""


# What the demo made.


@dataclass(frozen=True)
class InitiativeSummary:
    name: str
    initiative_id: UUID
    participant_ids: tuple[UUID, ...]
    role_ids: tuple[UUID, ...]
    outcome_ids: tuple[UUID, ...]
    meeting_ids: tuple[UUID, ...]
    contribution_ids: tuple[UUID, ...]
    change_ids: tuple[UUID, ...]
    payment_ids: tuple[UUID, ...]
    support_ids: tuple[UUID, ...]
    answer_ids: tuple[UUID, ...]
    cycle_numbers: tuple[int, ...]

    def counts(self) -> str:
        counted = [
            (len(self.participant_ids), "participants"),
            (len(self.role_ids), "roles"),
            (len(self.outcome_ids), "intended outcomes"),
            (len(self.meeting_ids), "meetings"),
            (len(self.contribution_ids), "contributions"),
            (len(self.change_ids), "changes"),
            (len(self.payment_ids), "payments"),
            (len(self.support_ids), "support and training records"),
            (len(self.answer_ids), "process-experience answers"),
            (len(self.cycle_numbers), "cycles"),
        ]
        return ", ".join(f"{count} {what}" for count, what in counted if count)


@dataclass(frozen=True)
class DemoSummary:
    organisation_name: str
    organisation_id: UUID
    policy_id: UUID
    reference_population_ids: tuple[UUID, ...]
    initiatives: tuple[InitiativeSummary, ...]
    policy: str = ""
    """The policy's version, when it was adopted and last reviewed."""

    def lines(self) -> list[str]:
        lines = [
            f"Organisation: {self.organisation_name} ({self.organisation_id})",
            f"Involvement policy {self.policy} ({self.policy_id})",
            f"Reference populations: {len(self.reference_population_ids)}",
        ]
        for initiative in self.initiatives:
            lines.append(f"Initiative: {initiative.name} ({initiative.initiative_id})")
            lines.append(f"  {initiative.counts()}")
        return lines


def create_demo(records: InvolvementRecords) -> DemoSummary:
    """Creates the demo organisation, or finds it again: every row of the workbook
    carries its idempotency key, so a second run returns the same ids and records
    nothing."""
    organisation_id = records.register_organisation(
        name=ORGANISATION_NAME, actor=ACTOR, idempotency_key=ORGANISATION_KEY
    )
    if recorded_by_an_older_fourpi(records, organisation_id):
        raise DemoWorkbookBroken(
            "this store holds the demo as an older fourpi recorded it, under other "
            "idempotency keys, so importing the demo workbook would record it twice: "
            "use a new store for the demo"
        )
    with demo_workbook() as folder:
        report = import_path(records, organisation_id, folder, actor=ACTOR)
    if report.problems:
        raise DemoWorkbookBroken(
            "the demo workbook does not import: "
            + "; ".join(str(p) for p in report.problems[:5])
        )
    return summary_of(report, organisation_id)


OLDER_DEMO_KEY = "demo:diversity:launch"
"""The key the demo's first initiative was launched with before the demo was a workbook."""


def recorded_by_an_older_fourpi(
    records: InvolvementRecords, organisation_id: UUID
) -> bool:
    receipt_id = CommandReceipt.id_for(organisation_id, OLDER_DEMO_KEY)
    return receipt_id in records.repository


def summary_of(report: ImportReport, organisation_id: UUID) -> DemoSummary:
    (policy,) = (made for _, made in report.made_on("Policy"))
    assert policy.record_id is not None
    initiatives = []
    for key, made in report.made_on("Initiatives"):
        assert made.record_id is not None
        initiatives.append(initiative_summary(report, key, made.record_id))
    return DemoSummary(
        organisation_name=ORGANISATION_NAME,
        organisation_id=organisation_id,
        policy_id=policy.record_id,
        reference_population_ids=ids(report, "Reference populations", None),
        initiatives=tuple(initiatives),
        policy=policy_of(report),
    )


def policy_of(report: ImportReport) -> str:
    """'2.0: adopted 2020-03-01, last reviewed 2022-02-15', from the policy sheets."""
    adopted = report.sheets["Policy"][-1].values
    text = f"{adopted['Version']}: adopted {adopted['Adopted on']}"
    reviews = report.sheets.get("Policy reviews", [])
    if reviews:
        text += f", last reviewed {reviews[-1].values['Reviewed on']}"
    return text


def ids(
    report: ImportReport, sheet: str, initiative_id: UUID | None
) -> tuple[UUID, ...]:
    """The records a sheet made (in one initiative, unless None), in sheet order."""
    return tuple(
        made.record_id
        for _, made in report.made_on(sheet)
        if made.record_id is not None
        and (initiative_id is None or made.initiative_id == initiative_id)
    )


def initiative_summary(
    report: ImportReport, key: str, initiative_id: UUID
) -> InitiativeSummary:
    (row,) = (r for r in report.sheets["Initiatives"] if r.key == key)
    name = row.values["Name"]
    assert isinstance(name, str)
    made_people = dict(report.made_on("People"))
    people = people_of(report, key)
    return InitiativeSummary(
        name=name,
        initiative_id=initiative_id,
        participant_ids=tuple(
            made.record_id
            for person, made in made_people.items()
            if person in people and made.record_id is not None
        ),
        role_ids=ids(report, "Roles", initiative_id),
        outcome_ids=ids(report, "Intended outcomes", initiative_id),
        meeting_ids=ids(report, "Meetings", initiative_id),
        contribution_ids=ids(report, "Contributions", initiative_id),
        change_ids=ids(report, "Changes", initiative_id),
        payment_ids=ids(report, "Payments", initiative_id),
        support_ids=ids(report, "Support and training", initiative_id),
        answer_ids=ids(report, "Process experience", initiative_id),
        cycle_numbers=tuple(
            made.number
            for _, made in report.made_on("Cycles")
            if made.initiative_id == initiative_id and made.number is not None
        ),
    )


def people_of(report: ImportReport, initiative: str) -> set[str]:
    """The keys of the people the initiative's rows name (roles, attendance,
    contributions, payments and the rest)."""
    meetings = {
        r.key for r in report.sheets.get("Meetings", []) if in_initiative(r, initiative)
    }
    people: set[str] = set()
    for rows in report.sheets.values():
        for row in rows:
            if not (
                in_initiative(row, initiative) or row.values.get("Meeting") in meetings
            ):
                continue
            for column in row.sheet.columns:
                if column.field.refers_to is not RecordKind.PARTICIPANT:
                    continue
                value = row.values.get(column.heading)
                if isinstance(value, tuple):
                    people.update(value)
                elif isinstance(value, str):
                    people.add(value)
    return people


def in_initiative(row: Row, initiative: str) -> bool:
    return row.values.get("Initiative") == initiative


__all__ = ["ACTOR", "ORGANISATION_NAME", "DemoSummary", "Made", "create_demo"]
