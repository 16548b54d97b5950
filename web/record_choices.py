"""The organisation's own records a form offers where a field names one, read from the views, in an order that makes sense (contributors: its service users and carers; attendance: the initiative's people first); people are named by pseudonym only to a caller granted personal data."""

from dataclasses import dataclass
from functools import cached_property
from typing import Any
from uuid import UUID

from starlette.requests import Request

from fourpi.domain.record import parse_digits
from fourpi.domain.use_cases import Field, RecordKind, UseCase, label_of
from fourpi.domain.vocabulary import InvolvementRole, ParticipantKind
from fourpi.local_time import local
from fourpi.privacy.visibility import may_read_personal_data
from fourpi.threads import in_thread
from fourpi.web import reading
from fourpi.web.sessions import SignedIn
from fourpi.workbook.cells import CellError

Row = dict[str, Any]
Facts = dict[str, list[Row]]
Given = dict[str, str | tuple[str, ...]]

CONTRIBUTING_KINDS = frozenset(
    {ParticipantKind.SERVICE_USER.value, ParticipantKind.CARER.value}
)
ONLY_CONTRIBUTORS = frozenset(
    {
        ("log_contribution", "contributor_ids"),
        ("name_meeting_reserve", "participant_id"),
    }
)
"""Fields whose people can only be service users or carers."""


def short(text: str, length: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= length else text[: length - 1] + "…"


@dataclass
class Choices:
    """The organisation's records at one position of the views."""

    facts: Facts
    named: bool

    def initiative_names(self) -> dict[UUID, str]:
        return {r["initiative_id"]: str(r["name"]) for r in self.facts["initiatives"]}

    @cached_property
    def participants(self) -> dict[UUID, Row]:
        """Each person's row by their id: a form or the to-do page names a person
        for each role or payment it lists."""
        return {row["participant_id"]: row for row in self.facts["participants"]}

    def person(self, participant_id: UUID) -> str:
        """How a person is named to this caller."""
        row = self.participants.get(participant_id)
        if row is None:
            return "someone no longer on record"
        kind = label_of(ParticipantKind(row["participant_kind"])).lower()
        if self.named and row["pseudonym"]:
            return f"{row['pseudonym']} ({kind})"
        return f"A {kind}, {str(participant_id)[:8]}"

    def erased(self) -> set[UUID]:
        """The people erased: nothing new is recorded about them, so no form offers
        them."""
        return {r["participant_id"] for r in self.facts["erasures"]}

    def people(self, use_case: UseCase, field: Field, given: Given) -> list[Row]:
        erased = self.erased()
        rows = [
            r for r in self.facts["participants"] if r["participant_id"] not in erased
        ]
        if (use_case.name, field.name) in ONLY_CONTRIBUTORS:
            rows = [r for r in rows if r["participant_kind"] in CONTRIBUTING_KINDS]
        initiative = self.initiative_in(given)
        if initiative is not None:
            involved = {
                r["participant_id"]
                for r in self.facts["roles"]
                if r["initiative_id"] == initiative
            }
            rows.sort(key=lambda r: r["participant_id"] not in involved)
        return rows

    def initiative_in(self, given: Given) -> UUID | None:
        """The initiative a form is about: chosen, or that of the meeting chosen."""
        for name in ("initiative_id", "meeting_id", "contribution_id"):
            value = given.get(name)
            if isinstance(value, str) and value:
                found = self.initiative_of(value)
                if found is not None:
                    return found
        return None

    def of(
        self, use_case: UseCase, field: Field, initiative: str, given: Given
    ) -> list[tuple[str, str]]:
        """(value, label) of each record the field may name."""
        kind = field.refers_to
        names = self.initiative_names()
        within = self.initiative_in(given) if initiative else None

        def mine(row: Row) -> bool:
            return within is None or row.get("initiative_id") == within

        def where(row: Row) -> str:
            return names.get(row.get("initiative_id"), "the organisation")  # type: ignore[arg-type]

        facts = self.facts
        if kind is RecordKind.INITIATIVE:
            return [(str(i), name) for i, name in names.items()]
        if kind is RecordKind.PARTICIPANT:
            return [
                (str(r["participant_id"]), self.person(r["participant_id"]))
                for r in self.people(use_case, field, given)
            ]
        if kind is RecordKind.INTENDED_OUTCOME:
            return [
                (str(r["outcome_id"]), f"{short(r['description'])} ({where(r)})")
                for r in facts["intended_outcomes"]
                if mine(r)
            ]
        if kind is RecordKind.ROLE:
            ended = {r["role_id"] for r in facts["role_endings"]}
            return [
                (
                    str(r["role_id"]),
                    f"{self.person(r['participant_id'])}: "
                    f"{label_of_role(r['role'])} ({where(r)})",
                )
                for r in facts["roles"]
                if mine(r) and r["role_id"] not in ended
            ]
        if kind is RecordKind.CYCLE:
            latest: dict[tuple[UUID, int], str] = {}
            for r in facts["cycle_phases"]:
                latest[(r["initiative_id"], int(r["number"]))] = str(r["phase"])
            return [
                (
                    f"{initiative_id}:{number}",
                    f"{names.get(initiative_id, '')}: cycle {number} (now in "
                    f"{phase.capitalize()})",
                )
                for (initiative_id, number), phase in latest.items()
                if within is None or initiative_id == within
            ]
        if kind is RecordKind.MEETING:
            return [
                (
                    str(r["meeting_id"]),
                    f"{short(r['title'])}, {local(r['held_at']):%-d %b %Y} ({where(r)})",
                )
                for r in sorted(facts["meetings"], key=lambda r: r["held_at"])
                if mine(r)
            ]
        if kind is RecordKind.CONTRIBUTION:
            return [
                (
                    str(r["contribution_id"]),
                    f"{short(r['summary'])}, {r['made_on']:%-d %b %Y} ({where(r)})",
                )
                for r in facts["contributions"]
                if mine(r)
            ]
        if kind is RecordKind.PAYMENT:
            paid = {r["payment_id"] for r in facts["payments_made"]}
            return [
                (
                    str(r["payment_id"]),
                    f"£{r['amount']} {str(r['payment_kind']).replace('_', ' ')} to "
                    f"{self.person(r['participant_id'])}, owed {r['owed_on']:%-d %b %Y}",
                )
                for r in facts["payments"]
                if r["payment_id"] not in paid
            ]
        return []

    def initiative_of(self, value: str | tuple[str, ...]) -> UUID | None:
        """The initiative of the record an option names (a cycle's option names it)."""
        if not isinstance(value, str) or not value:
            return None
        head = value.split(":", 1)[0]
        try:
            record = UUID(head)
        except ValueError:
            return None
        for table, key in (
            ("initiatives", "initiative_id"),
            ("intended_outcomes", "outcome_id"),
            ("roles", "role_id"),
            ("meetings", "meeting_id"),
            ("contributions", "contribution_id"),
        ):
            for row in self.facts[table]:
                if row[key] == record:
                    found: UUID = row["initiative_id"]
                    return found
        return None

    @staticmethod
    def cycle_number(value: str) -> int:
        """The cycle's number from its option (initiative:number)."""
        _, _, given = value.partition(":")
        number = parse_digits(given)
        if number is None:
            raise CellError("choose a cycle from the list")
        return number


def label_of_role(role: str) -> str:
    return label_of(InvolvementRole(role))


async def facts_now(request: Request, live: SignedIn) -> Facts:
    """The organisation's facts once the views reach the log as it stood when asked."""
    views = request.app.state.views
    position = await reading.live_position(views, request.app.state.read_wait_seconds)
    facts: Facts = await in_thread(
        views.cache.facts, live.account.organisation_id, position
    )
    return facts


async def choices_of(request: Request, live: SignedIn) -> Choices:
    asked = reading.asking(request.app.state.views, live.caller)
    return Choices(await facts_now(request, live), may_read_personal_data(asked))
