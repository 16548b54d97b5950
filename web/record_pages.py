"""The pages of a manager's records (a person, a meeting, a contribution, a change, a payment, the involvement policy), each naming what was just recorded, linking to the forms that add to it and to its history; and the history itself (who recorded what, when)."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from markupsafe import escape as markup_escape
from starlette.requests import Request
from starlette.responses import Response

from fourpi.domain.errors import RecordNotFound
from fourpi.domain.record import OrganisationRecord
from fourpi.domain.use_cases import (
    ADOPT_INVOLVEMENT_POLICY,
    ASSIGN_ROLE,
    DECLARE_MONITORING_DATA,
    GIVE_FEEDBACK,
    LOG_CONTRIBUTION,
    MAKE_REASONABLE_ADJUSTMENT,
    NAME_MEETING_RESERVE,
    RECORD_ATTENDANCE,
    RECORD_CHANGE,
    RECORD_PAYMENT_MADE,
    RECORD_PAYMENT_OWED,
    RESPOND_TO_CONTRIBUTION,
    REVIEW_INVOLVEMENT_POLICY,
    SEND_MEETING_PAPERS,
    SET_PAYMENT_PREFERENCE,
    UseCase,
)
from fourpi.local_time import local_date, shown
from fourpi.privacy.visibility import READERS_OF_RECORDS, WRITERS_OF_RECORDS
from fourpi.projections.answers import Slice
from fourpi.threads import in_thread
from fourpi.web.forms import form_context, form_path, given_of, recorded_notice
from fourpi.web.page import Page
from fourpi.web.pages import render
from fourpi.web.reading import live_position, papers_sent
from fourpi.web.record_choices import Choices, Row, choices_of, short
from fourpi.web.sessions import SignedIn, accounts_of


@dataclass
class Section:
    """A part of a record's page: a heading, and rows of (label, value) or lines."""

    title: str
    lines: list[str] = field(default_factory=list)
    empty: str = "None recorded yet."


@dataclass
class RecordPage:
    caption: str
    title: str
    record_id: UUID | None
    summary: list[tuple[str, str]]
    sections: list[Section]
    actions: list[tuple[str, str]]
    """(label, href) of the forms that add to this record."""


def day(value: date | datetime | None) -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, datetime):
        return shown(value)
    return f"{value:%-d %B %Y}"


def words(value: Any) -> str:
    return str(value or "").replace("_", " ")


def record_id_of(request: Request, name: str) -> UUID:
    try:
        return UUID(str(request.path_params[name]))
    except ValueError:
        raise RecordNotFound("record", UUID(int=0), field=name) from None


def the_one(rows: list[Row], key: str, value: UUID, kind: str) -> Row:
    """The organisation's record of this id; any other id reads as not found."""
    for row in rows:
        if row[key] == value:
            return row
    raise RecordNotFound(kind, value, field=key)


def action(use_case: UseCase, **given: object) -> tuple[str, str]:
    return use_case.label, form_path(use_case, **given)


async def show(request: Request, page: RecordPage, **extra: Any) -> Response:
    return await render(
        request,
        "record_page.html",
        {
            "page": page,
            "notice": recorded_notice(request.query_params.get("recorded")),
            **extra,
        },
    )


def contribution_lines(choices: Choices, rows: list[Row]) -> list[str]:
    return [
        f'<a href="/contributions/{r["contribution_id"]}">{escape(short(r["summary"]))}</a>'
        f", {day(r['made_on'])}"
        for r in rows
    ]


def escape(text: str) -> str:
    return str(markup_escape(text))


def payment_lines(choices: Choices, rows: list[Row]) -> list[str]:
    paid = {r["payment_id"]: r["paid_on"] for r in choices.facts["payments_made"]}
    return [
        f'<a href="/payments/{r["payment_id"]}">£{r["amount"]} '
        f"{escape(words(r['payment_kind']))}</a> to "
        f"{escape(choices.person(r['participant_id']))}, owed {day(r['owed_on'])}, "
        + (
            f"paid {day(paid[r['payment_id']])}"
            if r["payment_id"] in paid
            else "unpaid"
        )
        for r in rows
    ]


# A person


async def person_page(request: Request, live: SignedIn) -> Response:
    participant_id = record_id_of(request, "participant_id")
    choices = await choices_of(request, live)
    facts = choices.facts
    row = the_one(
        facts["participants"], "participant_id", participant_id, "participant"
    )
    names = choices.initiative_names()
    roles = [
        f"{words(r['role'])} in {escape(names.get(r['initiative_id'], ''))}, from "
        f"{day(r['started_on'])}"
        for r in facts["roles"]
        if r["participant_id"] == participant_id
    ]
    preference = [
        r for r in facts["payment_preferences"] if r["participant_id"] == participant_id
    ]
    summary = [("Kind", words(row["participant_kind"]))]
    erased = participant_id in choices.erased()
    if erased:
        summary.append(("Erased", "Yes: nothing new is recorded about them"))
    if choices.named and preference:
        latest = preference[-1]
        summary.append(("Paid by", words(latest["payment_preference"])))
        if latest["earnings_limit"] is not None:
            summary.append(
                (
                    "Earnings limit",
                    f"£{latest['earnings_limit']} a {words(latest['earnings_period'])}",
                )
            )
    contributed = {
        r["contribution_id"]
        for r in facts["contributors"]
        if r["participant_id"] == participant_id
    }
    page = RecordPage(
        "Person",
        choices.person(participant_id),
        participant_id,
        summary,
        [
            Section("Roles", roles),
            Section(
                "Contributions",
                contribution_lines(
                    choices,
                    [
                        r
                        for r in facts["contributions"]
                        if r["contribution_id"] in contributed
                    ],
                ),
            ),
            Section(
                "Payments",
                payment_lines(
                    choices,
                    [
                        r
                        for r in facts["payments"]
                        if r["participant_id"] == participant_id
                    ],
                ),
            ),
        ],
        []
        if erased
        else [
            action(ASSIGN_ROLE, participant_id=participant_id),
            action(DECLARE_MONITORING_DATA, participant_id=participant_id),
            action(SET_PAYMENT_PREFERENCE, participant_id=participant_id),
            action(RECORD_PAYMENT_OWED, participant_id=participant_id),
            ("Make a personal link", f"/people/{participant_id}/personal-link"),
        ],
    )
    return await show(request, page)


# A meeting: attendance, the contributions made there and payments owed for it


async def meeting_page(request: Request, live: SignedIn) -> Response:
    meeting_id = record_id_of(request, "meeting_id")
    choices = await choices_of(request, live)
    facts = choices.facts
    row = the_one(facts["meetings"], "meeting_id", meeting_id, "meeting")
    initiative_id = row["initiative_id"]
    came = [
        r["participant_id"]
        for r in facts["attendance"]
        if r["meeting_id"] == meeting_id
    ]
    reserve = [
        r["participant_id"]
        for r in facts["meeting_reserves"]
        if r["meeting_id"] == meeting_id
    ]
    held_on = local_date(row["held_at"])
    owed = [
        r
        for r in facts["payments"]
        if r["participant_id"] in came
        and r["initiative_id"] == initiative_id
        and r["owed_on"] == held_on
    ]
    page = RecordPage(
        "Meeting",
        str(row["title"]),
        meeting_id,
        [
            (
                "Initiative",
                choices.initiative_names().get(initiative_id, ""),
            ),
            ("Held", day(row["held_at"])),
            ("High-level", "yes" if row["high_level"] else "no"),
            ("Decision-making", "yes" if row["decision_making"] else "no"),
            ("Papers sent", day(papers_sent(facts).get(meeting_id))),
            ("Reserve", ", ".join(choices.person(p) for p in reserve) or "none named"),
        ],
        [
            Section(
                "Who came",
                [
                    f'<a href="/people/{p}">{escape(choices.person(p))}</a>'
                    for p in dict.fromkeys(came)
                ],
                "Nobody's attendance is recorded yet.",
            ),
            Section(
                "Reasonable adjustments",
                [
                    escape(str(r["description"]))
                    for r in facts["adjustments"]
                    if r["meeting_id"] == meeting_id
                ],
            ),
            Section(
                "Contributions made there",
                contribution_lines(
                    choices,
                    [
                        r
                        for r in facts["contributions"]
                        if r["meeting_id"] == meeting_id
                    ],
                ),
            ),
            Section("Payments owed for it", payment_lines(choices, owed)),
        ],
        [
            action(
                LOG_CONTRIBUTION,
                initiative_id=initiative_id,
                meeting_id=meeting_id,
                made_on=held_on,
            ),
            action(
                RECORD_PAYMENT_OWED,
                initiative_id=initiative_id,
                owed_on=held_on,
                payment_kind="fee",
            ),
            action(SEND_MEETING_PAPERS, meeting_id=meeting_id),
            action(NAME_MEETING_RESERVE, meeting_id=meeting_id),
            action(MAKE_REASONABLE_ADJUSTMENT, meeting_id=meeting_id),
        ],
    )
    given = given_of(RECORD_ATTENDANCE, request.query_params)
    given["meeting_id"] = str(meeting_id)
    attendance = await form_context(request, live, RECORD_ATTENDANCE, given)
    return await show(request, page, embedded=attendance)


# A contribution, its response, the changes it led to and the feedback given


async def contribution_page(request: Request, live: SignedIn) -> Response:
    contribution_id = record_id_of(request, "contribution_id")
    choices = await choices_of(request, live)
    facts = choices.facts
    row = the_one(
        facts["contributions"], "contribution_id", contribution_id, "contribution"
    )
    who = [
        choices.person(r["participant_id"])
        for r in facts["contributors"]
        if r["contribution_id"] == contribution_id
    ]
    changes = {
        r["change_id"]
        for r in facts["change_sources"]
        if r["contribution_id"] == contribution_id
    }
    page = RecordPage(
        "Contribution",
        short(row["summary"], 80),
        contribution_id,
        [
            ("Initiative", choices.initiative_names().get(row["initiative_id"], "")),
            ("Nature", words(row["nature"])),
            ("Made on", day(row["made_on"])),
            ("From", ", ".join(who)),
            ("Impact areas", ", ".join(words(a) for a in row["impact_areas"])),
            ("Summary", str(row["summary"])),
        ],
        [
            Section(
                "Responses",
                [
                    f"{words(r['outcome'])} on {day(r['responded_on'])}"
                    + (f": {escape(str(r['rationale']))}" if r["rationale"] else "")
                    for r in facts["responses"]
                    if r["contribution_id"] == contribution_id
                ],
                "No response yet.",
            ),
            Section(
                "Changes it led to",
                [
                    f'<a href="/changes/{r["change_id"]}">{escape(short(r["description"]))}</a>'
                    for r in facts["changes"]
                    if r["change_id"] in changes
                ],
            ),
            Section(
                "Feedback to its contributors",
                [
                    f"{day(r['given_on'])} by {words(r['method'])}: {escape(str(r['summary']))}"
                    for r in facts["feedback"]
                    if r["contribution_id"] == contribution_id
                ],
                "Its contributors have not been told yet.",
            ),
        ],
        [
            action(RESPOND_TO_CONTRIBUTION, contribution_id=contribution_id),
            action(
                RECORD_CHANGE,
                initiative_id=row["initiative_id"],
                contribution_ids=contribution_id,
            ),
            action(GIVE_FEEDBACK, contribution_id=contribution_id),
        ],
    )
    return await show(request, page)


async def change_page(request: Request, live: SignedIn) -> Response:
    change_id = record_id_of(request, "change_id")
    choices = await choices_of(request, live)
    facts = choices.facts
    row = the_one(facts["changes"], "change_id", change_id, "change")
    sources = {
        r["contribution_id"]
        for r in facts["change_sources"]
        if r["change_id"] == change_id
    }
    page = RecordPage(
        "Change",
        short(row["description"], 80),
        change_id,
        [
            ("Initiative", choices.initiative_names().get(row["initiative_id"], "")),
            ("Scope", words(row["scope"])),
            ("Kind beyond the activity", words(row["beyond_kind"]) or "not beyond"),
            ("Impact area", words(row["impact_area"])),
            ("Changed on", day(row["changed_on"])),
            ("What changed", str(row["description"])),
            ("Evidence", str(row["evidence"])),
        ],
        [
            Section(
                "Came from contributions",
                contribution_lines(
                    choices,
                    [
                        r
                        for r in facts["contributions"]
                        if r["contribution_id"] in sources
                    ],
                ),
            )
        ],
        [
            action(GIVE_FEEDBACK, contribution_id=source)
            for source in sorted(sources, key=str)
        ],
    )
    return await show(request, page)


async def payment_page(request: Request, live: SignedIn) -> Response:
    payment_id = record_id_of(request, "payment_id")
    choices = await choices_of(request, live)
    row = the_one(choices.facts["payments"], "payment_id", payment_id, "payment")
    paid = [
        r["paid_on"]
        for r in choices.facts["payments_made"]
        if r["payment_id"] == payment_id
    ]
    page = RecordPage(
        "Payment",
        f"£{row['amount']} {words(row['payment_kind'])}",
        payment_id,
        [
            ("To", choices.person(row["participant_id"])),
            ("Owed on", day(row["owed_on"])),
            ("Paid on", day(paid[0]) if paid else "not paid yet"),
        ],
        [],
        [] if paid else [action(RECORD_PAYMENT_MADE, payment_id=payment_id)],
    )
    return await show(request, page)


async def policy_page(request: Request, live: SignedIn) -> Response:
    views = request.app.state.views
    choices = await choices_of(request, live)
    position = await live_position(views, request.app.state.read_wait_seconds)
    report = await in_thread(
        views.report, Slice(live.account.organisation_id), live=position
    )
    status = report.principles.policy
    summary = (
        []
        if status is None
        else [
            ("Version", status.version_label),
            ("Adopted on", day(status.adopted_on)),
            ("Last reviewed on", day(status.last_reviewed_on)),
            ("Review due on", day(status.review_due_on)),
            ("Overdue", "yes" if status.overdue else "no"),
        ]
    )
    page = RecordPage(
        "Involvement policy",
        "The involvement policy" if status else "No involvement policy adopted yet",
        None,
        summary,
        [
            Section(
                "Reviews",
                [day(r["reviewed_on"]) for r in choices.facts["policy_reviews"]],
            )
        ],
        [action(ADOPT_INVOLVEMENT_POLICY)]
        + ([action(REVIEW_INVOLVEMENT_POLICY)] if status else []),
    )
    return await show(request, page)


# History: who recorded what, when


@dataclass(frozen=True)
class Recorded:
    what: str
    by: str
    at: datetime


def spaced(name: str) -> str:
    """FeedbackGiven reads "feedback given"."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", name).lower()


async def history_page(request: Request, live: SignedIn) -> Response:
    record_id = record_id_of(request, "record_id")
    records = accounts_of(request).records
    record = await in_thread(
        records.load,
        OrganisationRecord,
        record_id,
        live.account.organisation_id,
        "record_id",
    )
    events = await in_thread(lambda: list(records.events.get(record_id)))
    people = await in_thread(
        accounts_of(request).accounts_of, live.account.organisation_id
    )
    names = {
        f"account:{a.id}": f"{a.display_name or a.email} ({a.email})" for a in people
    }
    kind = type(record).__name__
    history = []
    for event in events:
        actor = str(getattr(event, "recorded_by", ""))
        at: datetime = getattr(event, "timestamp")  # noqa: B009 (the protocol lacks it)
        history.append(
            Recorded(
                f"{kind}: {spaced(type(event).__name__)}", names.get(actor, actor), at
            )
        )
    # The title tells one record's history from another's (in tabs, in the
    # browser's history) without naming anyone: the kind and the id's first part.
    titled = f"{spaced(kind)} {str(record_id)[:8]}"
    return await render(
        request, "history.html", {"history": history, "kind": kind, "titled": titled}
    )


PAGES = [
    Page("/people/{participant_id}", WRITERS_OF_RECORDS, person_page),
    Page("/meetings/{meeting_id}", WRITERS_OF_RECORDS, meeting_page),
    Page("/contributions/{contribution_id}", WRITERS_OF_RECORDS, contribution_page),
    Page("/changes/{change_id}", WRITERS_OF_RECORDS, change_page),
    Page("/payments/{payment_id}", WRITERS_OF_RECORDS, payment_page),
    Page("/policy", WRITERS_OF_RECORDS, policy_page),
    Page("/history/{record_id}", READERS_OF_RECORDS, history_page),
]
