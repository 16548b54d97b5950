"""The manager's to-do page, read from the views: what the 4PI record still waits for, each item linking to the form that clears it."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from fourpi.domain.use_cases import (
    ADOPT_INVOLVEMENT_POLICY,
    GIVE_FEEDBACK,
    RECORD_PAYMENT_MADE,
    RESPOND_TO_CONTRIBUTION,
    REVIEW_INVOLVEMENT_POLICY,
    START_CYCLE,
)
from fourpi.local_time import local
from fourpi.privacy.visibility import WRITERS_OF_RECORDS
from fourpi.projections.answers import ImpactReport, Slice
from fourpi.threads import in_thread
from fourpi.web.forms import form_path, recorded_notice
from fourpi.web.page import Page
from fourpi.web.pages import render
from fourpi.web.reading import live_position
from fourpi.web.record_choices import Choices, Row, choices_of, short
from fourpi.web.sessions import SignedIn

POLICY_REVIEW_NOTICE_DAYS = 60
"""How long before a policy review is due the to-do page starts to show it."""
EARNINGS_NOT_GRANTED = (
    "Who is near the earnings limit they chose is shown only to an account granted "
    "personal data."
)


@dataclass(frozen=True)
class ToDo:
    text: str
    href: str
    link: str


@dataclass
class ToDoList:
    title: str
    items: list[ToDo]
    done: str


def latest_by(rows: list[Row], key: str) -> dict[UUID, Row]:
    latest: dict[UUID, Row] = {}
    for row in rows:  # in log order: the last is the latest
        latest[row[key]] = row
    return latest


def last_told(facts: dict[str, list[Row]]) -> dict[UUID, date]:
    """When each contribution's contributors were last told what became of it."""
    told: dict[UUID, date] = {}
    for r in facts["feedback"]:
        contribution_id, given_on = r["contribution_id"], r["given_on"]
        if contribution_id not in told or given_on > told[contribution_id]:
            told[contribution_id] = given_on
    return told


def feedback_loop(choices: Choices) -> list[ToDo]:
    """Responses and changes whose contributors have not been told since."""
    facts = choices.facts
    items: list[ToDo] = []
    told = last_told(facts)

    def told_after(contribution_id: UUID, since: date) -> bool:
        return contribution_id in told and told[contribution_id] >= since

    summaries = {r["contribution_id"]: r["summary"] for r in facts["contributions"]}
    for contribution_id, response in latest_by(
        facts["responses"], "contribution_id"
    ).items():
        if not told_after(contribution_id, response["responded_on"]):
            items.append(
                ToDo(
                    f"{short(summaries.get(contribution_id, ''))}: "
                    f"{str(response['outcome']).replace('_', ' ')} on "
                    f"{response['responded_on']:%-d %b %Y}; its contributors have not "
                    "been told",
                    form_path(GIVE_FEEDBACK, contribution_id=contribution_id),
                    "Give feedback",
                )
            )
    changes = {r["change_id"]: r for r in facts["changes"]}
    for source in facts["change_sources"]:
        change = changes.get(source["change_id"])
        contribution_id = source["contribution_id"]
        if change is None or told_after(contribution_id, change["changed_on"]):
            continue
        items.append(
            ToDo(
                f"A change ({short(change['description'])}) came from "
                f"{short(summaries.get(contribution_id, ''))}; its contributors have "
                "not been told",
                form_path(GIVE_FEEDBACK, contribution_id=contribution_id),
                "Give feedback",
            )
        )
    return items


def to_do(choices: Choices, report: ImpactReport) -> list[ToDoList]:
    facts = choices.facts
    responded = {r["contribution_id"] for r in facts["responses"]}
    awaiting = [
        ToDo(
            f"{short(r['summary'])}, made {r['made_on']:%-d %b %Y}",
            form_path(RESPOND_TO_CONTRIBUTION, contribution_id=r["contribution_id"]),
            "Respond",
        )
        for r in facts["contributions"]
        if r["contribution_id"] not in responded
    ]
    paid = {r["payment_id"] for r in facts["payments_made"]}
    target = report.process.target_days
    payments = [
        ToDo(
            f"£{r['amount']} {str(r['payment_kind']).replace('_', ' ')} to "
            f"{choices.person(r['participant_id'])}, owed {r['owed_on']:%-d %b %Y}"
            + (
                f" (overdue: more than {target} days)"
                if (report.moment - r["owed_on"]).days > target
                else ""
            ),
            form_path(RECORD_PAYMENT_MADE, payment_id=r["payment_id"]),
            "Record it paid",
        )
        for r in facts["payments"]
        if r["payment_id"] not in paid
    ]
    # The limit a person chose is theirs: as the API's paymentsAndBenefits, the
    # watches are for a caller granted personal data alone.
    watches = report.payments_and_benefits if choices.named else ()
    earnings = [
        ToDo(
            f"{choices.person(watch.participant_id)}: "
            + (
                "over their earnings limit"
                if any(p.crossed for p in watch.periods)
                else "near their earnings limit (what is owed would cross it)"
            ),
            f"/people/{watch.participant_id}",
            "Open their page",
        )
        for watch in watches
        if any(p.crossed or p.would_cross for p in watch.periods)
    ]
    meetings = [
        ToDo(
            f"{meeting.title}, {local(meeting.held_at):%-d %b %Y}: "
            f"{meeting.service_users_and_carers} service users or carers"
            + (
                ""
                if meeting.reserve_named or not meeting.high_level
                else ", no reserve"
            ),
            f"/meetings/{meeting.meeting_id}",
            "Record attendance or the reserve",
        )
        for meeting in report.presence.meetings
        if not meeting.meets_standard
    ]
    names = choices.initiative_names()
    cycles: list[ToDo] = []
    latest_cycle: dict[UUID, int] = {}
    for cycle in report.cycles:
        latest_cycle[cycle.initiative_id] = max(
            cycle.number, latest_cycle.get(cycle.initiative_id, 0)
        )
    for cycle in report.cycles:
        if cycle.phase == "learn" and latest_cycle[cycle.initiative_id] == cycle.number:
            cycles.append(
                ToDo(
                    f"{names.get(cycle.initiative_id, '')}: cycle {cycle.number} has "
                    "learned; its planned actions wait for the next Act",
                    form_path(START_CYCLE, initiative_id=cycle.initiative_id),
                    START_CYCLE.label,
                )
            )
    policy = report.principles.policy
    if policy is None:
        review = [
            ToDo(
                "No involvement policy is adopted",
                form_path(ADOPT_INVOLVEMENT_POLICY),
                "Adopt it",
            )
        ]
    elif policy.overdue or policy.days_until_due <= POLICY_REVIEW_NOTICE_DAYS:
        review = [
            ToDo(
                f"The policy's review is {'overdue' if policy.overdue else 'due'} "
                f"({policy.review_due_on:%-d %B %Y})",
                form_path(REVIEW_INVOLVEMENT_POLICY),
                "Review it",
            )
        ]
    else:
        review = []
    return [
        ToDoList(
            "Contributions awaiting a response",
            awaiting,
            "Every contribution has a response.",
        ),
        ToDoList(
            "Contributors not yet told",
            feedback_loop(choices),
            "Every contributor has been told.",
        ),
        ToDoList("Payments owed", payments, "Nothing is owed."),
        ToDoList(
            "Earnings limits",
            earnings,
            "Nobody is near their earnings limit."
            if choices.named
            else EARNINGS_NOT_GRANTED,
        ),
        ToDoList(
            "Meetings below the presence standard",
            meetings,
            "Every meeting meets the standard.",
        ),
        ToDoList("Cycles waiting for their next phase", cycles, "No cycle is waiting."),
        ToDoList("Involvement policy", review, "The policy's review is not due."),
    ]


async def todo_page(request: Request, live: SignedIn) -> Response:
    views = request.app.state.views
    position = await live_position(views, request.app.state.read_wait_seconds)
    report = await in_thread(
        views.report, Slice(live.account.organisation_id), live=position
    )
    choices = await choices_of(request, live)
    lists = to_do(choices, report)
    return await render(
        request,
        "todo.html",
        {
            "lists": lists,
            "left": sum(len(t.items) for t in lists),
            "notice": recorded_notice(request.query_params.get("recorded")),
        },
    )


PAGES = [Page("/to-do", WRITERS_OF_RECORDS, todo_page)]
