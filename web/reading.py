"""What the pages read, shown as fourpi.privacy.visibility decides for the caller: the organisation's initiatives, and one initiative with its purpose, outcomes, people, meetings and contributions ("you said, we did")."""

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any
from uuid import UUID

from fourpi.domain.application import InvolvementRecords
from fourpi.domain.initiative import Initiative
from fourpi.privacy.suppression import disclosure_for
from fourpi.privacy.visibility import Caller, caught_up, may_read_personal_data
from fourpi.projections import disclosure as cells
from fourpi.projections.answers import ImpactReport, OutcomeStatus, Slice
from fourpi.projections.disclosure import Disclosure
from fourpi.projections.views import ImpactViews
from fourpi.threads import in_answer_thread, in_thread

Row = dict[str, Any]
Facts = dict[str, list[Row]]


@dataclass
class PageRequest:
    """One page's request, as fourpi.privacy.visibility reads it (like the API's Context)."""

    views: ImpactViews
    caller: Caller | None
    head: int | None = None
    disclosures: "dict[tuple[Any, ...], asyncio.Future[Disclosure]]" = field(
        default_factory=dict
    )


@dataclass
class Asked:
    """A page being answered: what fourpi.privacy.visibility.Asking asks for."""

    context: PageRequest


def asking(views: ImpactViews, caller: Caller) -> Asked:
    return Asked(PageRequest(views, caller))


@dataclass(frozen=True)
class PeopleCount:
    """A count of people as the caller may see it: value None when suppressed."""

    value: int | None

    @property
    def suppressed(self) -> bool:
        return self.value is None


def shown(disclosure: Disclosure, cell: cells.Cell, value: int) -> PeopleCount:
    return PeopleCount(None if disclosure.hides(cell) else value)


@dataclass(frozen=True)
class RoleHeld:
    pseudonym: str
    participant_kind: str
    role: str
    paid: bool
    decision_making: bool
    started_on: date
    ended_on: date | None


@dataclass(frozen=True)
class MeetingShown:
    title: str
    held_at: datetime
    high_level: bool
    decision_making: bool
    papers_sent_at: datetime | None
    service_users_and_carers: PeopleCount
    attendees: tuple[str, ...]
    """Pseudonyms, only for a caller granted personal data."""


@dataclass(frozen=True)
class ChangeShown:
    description: str
    scope: str
    impact_area: str
    changed_on: date


@dataclass(frozen=True)
class ContributionShown:
    """You said, we did: a contribution, what was decided, the changes it led to and
    when its contributors were told."""

    summary: str
    nature: str
    made_on: date
    contributors: tuple[str, ...]
    """Pseudonyms, only for a caller granted personal data."""
    outcome: str | None
    rationale: str
    responded_on: date | None
    changes: tuple[ChangeShown, ...]
    feedback_on: date | None
    feedback_summary: str


@dataclass(frozen=True)
class InitiativePage:
    initiative: Initiative
    position: int
    outcomes: tuple[OutcomeStatus, ...]
    people: PeopleCount
    roles: tuple[RoleHeld, ...] | None
    """None for a caller without the personal-data grant: they see only counts."""
    meetings: tuple[MeetingShown, ...]
    contributions: tuple[ContributionShown, ...]


@dataclass(frozen=True)
class InitiativeListed:
    initiative_id: UUID
    name: str
    level: str
    involvement_kind: str
    started_on: date


async def live_position(views: ImpactViews, wait_seconds: float) -> int:
    """The views' position, once they reach the log as it stood when asked (as the
    API reads)."""
    head = await in_thread(views.head)
    return await caught_up(views, head, wait_seconds)


async def initiatives_of(
    views: ImpactViews, organisation_id: UUID, position: int
) -> list[InitiativeListed]:
    """The organisation's initiatives, in the order they were launched."""
    facts: Facts = await in_thread(views.cache.facts, organisation_id, position)
    return [
        InitiativeListed(
            row["initiative_id"],
            str(row["name"]),
            str(row["level"]),
            str(row["involvement_kind"]),
            row["started_on"],
        )
        for row in facts["initiatives"]
    ]


async def report_of(
    views: ImpactViews, caller: Caller, chosen: Slice, position: int
) -> ImpactReport:
    """The report a page shows, worked out as one of the caller's answers
    (fourpi.threads.in_answer_thread): a person opening many initiatives' pages at
    once has theirs worked out one at a time, not in every database thread."""
    return await in_answer_thread(
        caller.actor,
        object(),
        partial(views.report, chosen, live=position),
        (chosen, position),
    )


async def initiative_page(
    records: InvolvementRecords,
    views: ImpactViews,
    caller: Caller,
    organisation_id: UUID,
    initiative_id: UUID,
    position: int,
) -> InitiativePage:
    """One initiative as the caller may see it; RecordNotFound or
    CrossOrganisationReference when it is not one of the caller's organisation's."""
    initiative = await in_thread(
        records.load, Initiative, initiative_id, organisation_id, "initiative_id"
    )
    report = await report_of(
        views, caller, Slice(organisation_id, initiative_id), position
    )
    asked = asking(views, caller)
    disclosure = await disclosure_for(asked, report, live=True)
    granted = may_read_personal_data(asked)
    facts: Facts = await in_thread(views.cache.facts, organisation_id, report.position)
    names = pseudonyms(facts) if granted else {}
    papers = papers_sent(facts)
    came: dict[UUID, list[str]] = {}
    for row in facts["attendance"] if granted else ():
        came.setdefault(row["meeting_id"], []).append(
            names.get(row["participant_id"], "")
        )
    meetings = tuple(
        MeetingShown(
            check.title,
            check.held_at,
            check.high_level,
            check.decision_making,
            papers.get(check.meeting_id),
            shown(
                disclosure,
                cells.meeting(check.meeting_id),
                check.service_users_and_carers,
            ),
            tuple(came.get(check.meeting_id, ())),
        )
        for check in report.presence.meetings
    )
    return InitiativePage(
        initiative=initiative,
        position=report.position,
        outcomes=report.intended_outcomes.outcomes,
        people=shown(
            disclosure,
            cells.people(initiative_id),
            sum(report.presence.by_level.values()),
        ),
        roles=roles_held(facts, initiative_id, names) if granted else None,
        meetings=meetings,
        contributions=contributions_of(facts, initiative_id, names),
    )


def pseudonyms(facts: Facts) -> dict[UUID, str]:
    return {
        row["participant_id"]: str(row["pseudonym"]) for row in facts["participants"]
    }


def papers_sent(facts: Facts) -> dict[UUID, datetime]:
    """When each meeting's papers were first sent, read once for every meeting of
    a page (an initiative may meet weekly for years)."""
    first: dict[UUID, datetime] = {}
    for r in facts["meeting_papers"]:
        meeting_id, sent_at = r["meeting_id"], r["sent_at"]
        if meeting_id not in first or sent_at < first[meeting_id]:
            first[meeting_id] = sent_at
    return first


def roles_held(
    facts: Facts, initiative_id: UUID, names: dict[UUID, str]
) -> tuple[RoleHeld, ...]:
    kinds = {
        r["participant_id"]: str(r["participant_kind"]) for r in facts["participants"]
    }
    ended = {r["role_id"]: r["ended_on"] for r in facts["role_endings"]}
    return tuple(
        RoleHeld(
            names.get(row["participant_id"], ""),
            kinds.get(row["participant_id"], ""),
            str(row["role"]),
            bool(row["paid"]),
            bool(row["decision_making"]),
            row["started_on"],
            ended.get(row["role_id"]),
        )
        for row in facts["roles"]
        if row["initiative_id"] == initiative_id
    )


def contributions_of(
    facts: Facts, initiative_id: UUID, names: dict[UUID, str]
) -> tuple[ContributionShown, ...]:
    """Every contribution of the initiative with its latest response, the changes
    that name it as a source, and its first feedback, in the order they were made."""
    responses: dict[UUID, Row] = {}
    for row in facts["responses"]:  # in log order: the last is the latest
        responses[row["contribution_id"]] = row
    feedback: dict[UUID, Row] = {}
    for row in facts["feedback"]:
        first = feedback.get(row["contribution_id"])
        if first is None or row["given_on"] < first["given_on"]:
            feedback[row["contribution_id"]] = row
    changes = {row["change_id"]: row for row in facts["changes"]}
    led_to: dict[UUID, list[ChangeShown]] = {}
    for source in facts["change_sources"]:
        change = changes.get(source["change_id"])
        if change is not None:
            led_to.setdefault(source["contribution_id"], []).append(
                ChangeShown(
                    str(change["description"]),
                    str(change["scope"]),
                    str(change["impact_area"]),
                    change["changed_on"],
                )
            )
    contributors: dict[UUID, list[str]] = {}
    for row in facts["contributors"]:
        if row["participant_id"] in names:
            contributors.setdefault(row["contribution_id"], []).append(
                names[row["participant_id"]]
            )
    shown_contributions = []
    for row in sorted(
        (r for r in facts["contributions"] if r["initiative_id"] == initiative_id),
        key=lambda r: (r["made_on"], r["position"], r["seq"]),
    ):
        contribution_id = row["contribution_id"]
        response = responses.get(contribution_id)
        told = feedback.get(contribution_id)
        shown_contributions.append(
            ContributionShown(
                summary=str(row["summary"]),
                nature=str(row["nature"]),
                made_on=row["made_on"],
                contributors=tuple(contributors.get(contribution_id, ())),
                outcome=None if response is None else str(response["outcome"]),
                rationale="" if response is None else str(response["rationale"] or ""),
                responded_on=None if response is None else response["responded_on"],
                changes=tuple(led_to.get(contribution_id, ())),
                feedback_on=None if told is None else told["given_on"],
                feedback_summary="" if told is None else str(told["summary"] or ""),
            )
        )
    return tuple(shown_contributions)
