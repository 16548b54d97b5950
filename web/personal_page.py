"""What a service user's or carer's own page reads: what they said and what became of it, their roles and coming meetings, their payments against the earnings limit they chose, their answers, how they like to be told, their monitoring data; never anyone else's (others are counted, never named)."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from fourpi.local_time import now
from fourpi.privacy.suppression import count_shown, patterns_of
from fourpi.projections.answers import EarningsPeriodTotal, Slice
from fourpi.projections.views import ImpactViews
from fourpi.threads import in_thread
from fourpi.web.reading import ContributionShown, Facts, contributions_of

Row = dict[str, Any]


@dataclass(frozen=True)
class SaidAndDone:
    """One thing the person said, in its initiative, and what became of it."""

    initiative: str
    contribution: ContributionShown
    others: int | None
    """How many other people said it too (never who); None when that is a small
    number (fourpi.privacy.suppression.count_shown): the page says only that others
    did, since the person reading it, or whoever the link was passed to, holds no
    personal-data grant."""


@dataclass(frozen=True)
class RoleShown:
    initiative: str
    initiative_id: UUID
    role: str
    paid: bool
    started_on: date
    ended_on: date | None


@dataclass(frozen=True)
class ComingMeeting:
    initiative: str
    title: str
    held_at: datetime


@dataclass(frozen=True)
class PaymentShown:
    initiative: str
    payment_kind: str
    amount: Decimal
    owed_on: date
    paid_on: date | None


@dataclass(frozen=True)
class Earnings:
    """The person's earnings limit and this period's (or the latest period's) total."""

    limit: Decimal
    period: str
    current: EarningsPeriodTotal | None


@dataclass(frozen=True)
class AnswerGiven:
    initiative: str
    stage: str
    answered_on: date


@dataclass(frozen=True)
class PersonalPage:
    pseudonym: str
    participant_kind: str
    said: tuple[SaidAndDone, ...]
    roles: tuple[RoleShown, ...]
    meetings: tuple[ComingMeeting, ...]
    payments: tuple[PaymentShown, ...]
    earnings: Earnings | None
    answers: tuple[AnswerGiven, ...]
    initiatives: tuple[tuple[UUID, str], ...]
    """Where they may answer the questionnaire: where they held a role or said something."""
    notice_preference: str | None
    email: str
    monitoring: dict[str, str | None]
    erasure_requested_on: date | None


def latest(rows: list[Row], participant_id: UUID) -> Row | None:
    mine = [row for row in rows if row["participant_id"] == participant_id]
    return mine[-1] if mine else None


def contributed_by(facts: Facts, participant_id: UUID) -> set[UUID]:
    """The contributions the person is one of the contributors of."""
    return {
        row["contribution_id"]
        for row in facts["contributors"]
        if row["participant_id"] == participant_id
    }


def said_by(facts: Facts, mine: set[UUID], threshold: int) -> tuple[SaidAndDone, ...]:
    """What became of the contributions `mine` (`contributed_by` the person), with
    how many others said each as the organisation's small-number `threshold`
    lets it be shown."""
    names = initiative_names(facts)
    people: dict[UUID, int] = {}
    for row in facts["contributors"]:
        people[row["contribution_id"]] = people.get(row["contribution_id"], 0) + 1
    narrowed = dict(facts)
    rows = [row for row in facts["contributions"] if row["contribution_id"] in mine]
    narrowed["contributions"] = rows
    said: list[SaidAndDone] = []
    for initiative_id in dict.fromkeys(row["initiative_id"] for row in rows):
        in_initiative = [row for row in rows if row["initiative_id"] == initiative_id]
        ordered = sorted(
            in_initiative, key=lambda r: (r["made_on"], r["position"], r["seq"])
        )
        shown = contributions_of(narrowed, initiative_id, {})
        for row, contribution in zip(ordered, shown, strict=True):
            said.append(
                SaidAndDone(
                    names.get(initiative_id, ""),
                    contribution,
                    count_shown(people.get(row["contribution_id"], 1) - 1, threshold),
                )
            )
    return tuple(sorted(said, key=lambda s: s.contribution.made_on, reverse=True))


def initiative_names(facts: Facts) -> dict[UUID, str]:
    return {row["initiative_id"]: str(row["name"]) for row in facts["initiatives"]}


def roles_of(facts: Facts, participant_id: UUID) -> tuple[RoleShown, ...]:
    names = initiative_names(facts)
    ended = {row["role_id"]: row["ended_on"] for row in facts["role_endings"]}
    return tuple(
        RoleShown(
            names.get(row["initiative_id"], ""),
            row["initiative_id"],
            str(row["role"]),
            bool(row["paid"]),
            row["started_on"],
            ended.get(row["role_id"]),
        )
        for row in facts["roles"]
        if row["participant_id"] == participant_id
    )


def coming_meetings(
    facts: Facts, roles: tuple[RoleShown, ...], at: datetime
) -> tuple[ComingMeeting, ...]:
    """Meetings yet to be held of the initiatives where they hold a role now."""
    names = initiative_names(facts)
    current = {role.initiative_id for role in roles if role.ended_on is None}
    return tuple(
        ComingMeeting(
            names.get(row["initiative_id"], ""), str(row["title"]), row["held_at"]
        )
        for row in sorted(facts["meetings"], key=lambda r: r["held_at"])
        if row["initiative_id"] in current and row["held_at"] >= at
    )


def payments_of(facts: Facts, participant_id: UUID) -> tuple[PaymentShown, ...]:
    names = initiative_names(facts)
    paid = {row["payment_id"]: row["paid_on"] for row in facts["payments_made"]}
    return tuple(
        PaymentShown(
            names.get(row["initiative_id"], ""),
            str(row["payment_kind"]),
            row["amount"],
            row["owed_on"],
            paid.get(row["payment_id"]),
        )
        for row in sorted(facts["payments"], key=lambda r: r["owed_on"], reverse=True)
        if row["participant_id"] == participant_id
    )


def answers_of(facts: Facts, participant_id: UUID) -> tuple[AnswerGiven, ...]:
    names = initiative_names(facts)
    return tuple(
        AnswerGiven(
            names.get(row["initiative_id"], ""), str(row["stage"]), row["answered_on"]
        )
        for row in facts["process_answers"]
        if row["participant_id"] == participant_id
    )


MONITORING = (
    "age_band",
    "gender",
    "ethnic_group",
    "disability",
    "sexual_orientation",
    "education_level",
)


async def personal_page(
    views: ImpactViews, organisation_id: UUID, participant_id: UUID, position: int
) -> PersonalPage:
    """The person's own page as the views stand at the position."""
    report = await in_thread(views.report, Slice(organisation_id), live=position)
    facts: Facts = await in_thread(views.cache.facts, organisation_id, report.position)
    threshold = await in_thread(
        patterns_of(views).threshold, organisation_id, views.head()
    )
    person = latest(facts["participants"], participant_id) or {}
    roles = roles_of(facts, participant_id)
    contributed = contributed_by(facts, participant_id)
    said = said_by(facts, contributed, threshold)
    names = initiative_names(facts)
    where = dict.fromkeys(
        [role.initiative_id for role in roles]
        + [
            row["initiative_id"]
            for row in facts["contributions"]
            if row["contribution_id"] in contributed
        ]
    )
    earnings = None
    for watch in report.payments_and_benefits:
        if watch.participant_id == participant_id:
            earnings = Earnings(
                watch.earnings_limit,
                watch.earnings_period,
                watch.periods[-1] if watch.periods else None,
            )
    notice = latest(facts["notice_preferences"], participant_id)
    monitoring = latest(facts["monitoring"], participant_id) or {}
    asked = latest(facts["erasure_requests"], participant_id)
    return PersonalPage(
        pseudonym=str(person.get("pseudonym") or ""),
        participant_kind=str(person.get("participant_kind") or ""),
        said=said,
        roles=roles,
        meetings=coming_meetings(facts, roles, now()),
        payments=payments_of(facts, participant_id),
        earnings=earnings,
        answers=answers_of(facts, participant_id),
        initiatives=tuple((i, names.get(i, "")) for i in where),
        notice_preference=None
        if notice is None or notice["notice_preference"] is None
        else str(notice["notice_preference"]),
        email="" if notice is None else str(notice["email"] or ""),
        monitoring={name: monitoring.get(name) for name in MONITORING},
        erasure_requested_on=None if asked is None else asked["requested_on"],
    )
