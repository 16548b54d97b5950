"""A service user's or carer's own page, opened by their personal link with no account: what became of what they said, and the forms they answer for themselves (the questionnaire, how they like to be told, their monitoring data, asking to be erased)."""

import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast
from uuid import UUID

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fourpi.client_network import guesser_of
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import DomainError, InvalidInput
from fourpi.domain.participant import Participant
from fourpi.domain.process_experience import RESPONDENT_KIND_OF
from fourpi.domain.record import parse_digits
from fourpi.domain.vocabulary import (
    MONITORING_VALUES,
    MonitoringCategory,
    NoticePreference,
    ProcessDimension,
    QuestionnaireStage,
)
from fourpi.local_time import local_date
from fourpi.personal_links import GONE, PAGE_PATH, LinkHolder, TooMany, links_of
from fourpi.threads import in_thread
from fourpi.web import sessions
from fourpi.web.forms import KEY_FIELD, plainly
from fourpi.web.pages import render
from fourpi.web.personal_page import personal_page
from fourpi.web.posted import form_of
from fourpi.web.reading import live_position

LinkHandler = Callable[[Request, LinkHolder], Awaitable[Response]]
T = TypeVar("T")

DIMENSIONS = {
    ProcessDimension.LISTENED_TO: "I felt listened to",
    ProcessDimension.VALUED_AND_RESPECTED: "I felt valued and respected",
    ProcessDimension.SUPPORTED: "I got the support I needed",
    ProcessDimension.INFORMATION_CLEAR_AND_IN_TIME: (
        "Information was clear and came in good time"
    ),
    ProcessDimension.PAYMENT_CLEAR_AND_TIMELY: "Payment was clear and on time",
    ProcessDimension.WOULD_TAKE_PART_AGAIN: "I would take part again",
}
SCORES = {
    1: "Strongly disagree",
    2: "Disagree",
    3: "Neither",
    4: "Agree",
    5: "Strongly agree",
}
NOTICE_WORDS = {
    NoticePreference.EMAIL: "By email",
    NoticePreference.LETTER: "By letter",
    NoticePreference.PHONE: "By phone",
    NoticePreference.IN_PERSON: "In person",
}
MONITORING_QUESTIONS = {
    MonitoringCategory.AGE_BAND: "Your age",
    MonitoringCategory.GENDER: "Your gender",
    MonitoringCategory.ETHNIC_GROUP: "Your ethnic group",
    MonitoringCategory.DISABILITY: "Do you consider yourself disabled?",
    MonitoringCategory.SEXUAL_ORIENTATION: "Your sexual orientation",
    MonitoringCategory.EDUCATION_LEVEL: "Your highest education",
}
NOT_CHOSEN = ("questionnaire_initiative", "Choose what you took part in")
FIELDS = {"email": "telling_email", "free_text": "questionnaire_free_text"}
"""A use case's field, by the name of the form's field that gave it."""
LABELS = {
    "telling_email": "Your email address",
    "questionnaire_free_text": "Anything else you want to tell us",
}
"""What the page calls a field whose refusal is a bare rule ("must not be blank"):
the error summary names it, away from the field's own label."""
DONE = {
    "questionnaire": "Thank you. Your answers are saved.",
    "telling": "Thank you. We will tell you that way.",
    "monitoring": "Thank you. Your details are saved.",
    "erasure": "We have passed on your request to be erased.",
}


def actor_of(holder: LinkHolder) -> str:
    """Events the person records themselves name them, through their link."""
    return f"personal-link:{holder.participant_id}"


def records_of(request: Request) -> InvolvementRecords:
    records: InvolvementRecords = request.app.state.accounts.records
    return records


class LinkEnded(Exception):
    """By the time a request's work was done, after waiting (for the views, for
    its form to arrive), its link had been revoked, had expired or its person
    had been erased: nothing was shown or recorded."""


def as_the_holder(request: Request, holder: LinkHolder, work: Callable[[], T]) -> T:
    """`work()`, once the store says (in this worker thread) that the request's
    link still opens its person's page: a page or a form that waited is shown or
    recorded only while the link works, never once a manager's revocation (or
    the person's erasure) has returned (LinkEnded)."""
    links = links_of(request.app.state, records_of(request))
    now = links.holder(str(request.path_params["secret"]))
    if not isinstance(now, LinkHolder) or now.participant_id != holder.participant_id:
        raise LinkEnded
    return work()


def with_link(handler: LinkHandler) -> Callable[[Request], Awaitable[Response]]:
    """A live link: its person's page. Unknown: 404; revoked, expired or erased
    (before or while its request is answered): 410; 20 failures from one address
    in a minute: 429, with Retry-After saying when a try would be taken. A form
    without this browser's token: 403."""

    async def endpoint(request: Request) -> Response:
        links = links_of(request.app.state, records_of(request))
        address = guesser_of(request)
        holder = await in_thread(
            links.open, str(request.path_params["secret"]), address
        )
        if isinstance(holder, TooMany):
            refused = await render(
                request, "contributor/too_many.html", status_code=429
            )
            refused.headers["Retry-After"] = str(holder.wait)
            return refused
        if not isinstance(holder, LinkHolder):
            if holder == GONE:
                return await render(request, "contributor/gone.html", status_code=410)
            return await render(request, "not_found.html", status_code=404)
        if request.method == "POST":
            form = await form_of(request)
            if not sessions.csrf_is_valid(
                request, form.get(sessions.CSRF_FIELD), signed_out_form=True
            ):
                return await render(request, "refused.html", status_code=403)
        try:
            return await handler(request, holder)
        except LinkEnded:
            return await render(request, "contributor/gone.html", status_code=410)

    return endpoint


async def page(
    request: Request,
    holder: LinkHolder,
    *,
    errors: list[tuple[str, str]] | None = None,
    given: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    views = request.app.state.views
    position = await live_position(views, request.app.state.read_wait_seconds)
    shown = await personal_page(
        views, holder.organisation_id, holder.participant_id, position
    )
    await in_thread(as_the_holder, request, holder, lambda: None)
    done_what = str(request.query_params.get("done", ""))  # the form just saved
    return await render(
        request,
        "contributor/page.html",
        {
            "page": shown,
            "holder": holder,
            "base": f"{PAGE_PATH}/{request.path_params['secret']}",
            "done": DONE.get(done_what),
            "done_what": done_what,
            "dimensions": DIMENSIONS,
            "scores": SCORES,
            "stages": list(QuestionnaireStage),
            "notice_words": NOTICE_WORDS,
            "monitoring_questions": {
                category.value: (question, list(MONITORING_VALUES[category]))
                for category, question in MONITORING_QUESTIONS.items()
            },
            "errors": errors or [],
            "given": given or {},
            # Sent again with a form (a double tap, a retry), it records once.
            "key": (given or {}).get(KEY_FIELD) or secrets.token_urlsafe(18),
        },
        status_code=status_code,
    )


async def show(request: Request, holder: LinkHolder) -> Response:
    return await page(request, holder)


def done(request: Request, what: str) -> Response:
    secret = request.path_params["secret"]
    return RedirectResponse(f"{PAGE_PATH}/{secret}?done={what}#done", status_code=303)


async def refused(
    request: Request,
    holder: LinkHolder,
    given: dict[str, Any],
    field: str,
    message: str,
) -> Response:
    """The page again with what they gave, and the problem beside its field: 400."""
    return await page(
        request, holder, errors=[(field, message)], given=given, status_code=400
    )


async def given_of(request: Request) -> dict[str, str]:
    form = await form_of(request)
    return {key: str(value) for key, value in form.items()}


async def recorded(
    request: Request,
    holder: LinkHolder,
    what: str,
    given: dict[str, Any],
    record: Callable[[str], object],
) -> Response:
    """Record what the person gave, once for the form's key however often it is
    sent; a refusal is shown beside its field, 400."""
    key = given.get(KEY_FIELD) or secrets.token_urlsafe(18)
    try:
        await in_thread(
            as_the_holder,
            request,
            holder,
            lambda: record(f"{actor_of(holder)}:{what}:{key}"),
        )
    except InvalidInput as error:
        named = error.field or what
        field = FIELDS.get(named, named.replace(".", "_"))
        if not field.startswith(what):
            field = what
        message = f"{LABELS[field]}: {error.rule}" if field in LABELS else error.rule
        return await refused(request, holder, given, field, message)
    except DomainError as error:
        return await refused(request, holder, given, what, plainly(error))
    return done(request, what)


async def questionnaire(request: Request, holder: LinkHolder) -> Response:
    given = await given_of(request)
    records = records_of(request)
    person = await in_thread(
        records.load, Participant, holder.participant_id, holder.organisation_id
    )
    scores: dict[ProcessDimension, int] = {}
    for dimension, question in DIMENSIONS.items():
        text = given.get(f"questionnaire_{dimension.value}", "")
        if not text:
            continue  # a question left unanswered
        score = parse_digits(text)
        if score is None or score not in SCORES:
            return await refused(
                request,
                holder,
                given,
                "questionnaire",
                f"{question}: choose one of the five answers, 1 to 5",
            )
        scores[dimension] = score
    try:
        initiative_id = UUID(given.get("questionnaire_initiative", ""))
    except ValueError:
        return await refused(request, holder, given, *NOT_CHOSEN)
    shown = await personal_page(
        request.app.state.views,
        holder.organisation_id,
        holder.participant_id,
        await live_position(
            request.app.state.views, request.app.state.read_wait_seconds
        ),
    )
    if initiative_id not in {i for i, _ in shown.initiatives}:
        # Only where they took part: another initiative reads as not chosen.
        return await refused(request, holder, given, *NOT_CHOSEN)
    if not scores:
        return await refused(
            request, holder, given, "questionnaire", "Answer at least one question"
        )
    stage = given.get("questionnaire_stage") or QuestionnaireStage.IN_FLIGHT.value
    # A personal link is only ever made for a service user or carer.
    respondent_kind = RESPONDENT_KIND_OF[person.participant_kind]
    return await recorded(
        request,
        holder,
        "questionnaire",
        given,
        lambda key: records.record_process_experience(
            organisation_id=holder.organisation_id,
            initiative_id=initiative_id,
            participant_id=holder.participant_id,
            respondent_kind=respondent_kind,
            stage=cast(QuestionnaireStage, stage),
            scores=scores,
            free_text=given.get("questionnaire_free_text", ""),
            answered_on=local_date(),
            actor=actor_of(holder),
            idempotency_key=key,
        ),
    )


async def telling(request: Request, holder: LinkHolder) -> Response:
    given = await given_of(request)
    records = records_of(request)
    return await recorded(
        request,
        holder,
        "telling",
        given,
        lambda key: records.set_notice_preference(
            organisation_id=holder.organisation_id,
            participant_id=holder.participant_id,
            notice_preference=cast(NoticePreference, given.get("telling", "")),
            email=given.get("telling_email", "").strip()
            if given.get("telling") == NoticePreference.EMAIL.value
            else "",
            actor=actor_of(holder),
            idempotency_key=key,
        ),
    )


async def monitoring(request: Request, holder: LinkHolder) -> Response:
    given = await given_of(request)
    records = records_of(request)
    declared = {
        category.value: given.get(f"monitoring_{category.value}") or None
        for category in MONITORING_QUESTIONS
    }
    return await recorded(
        request,
        holder,
        "monitoring",
        given,
        lambda key: records.declare_monitoring_data(
            organisation_id=holder.organisation_id,
            participant_id=holder.participant_id,
            monitoring=declared,
            actor=actor_of(holder),
            idempotency_key=key,
        ),
    )


async def erasure(request: Request, holder: LinkHolder) -> Response:
    given = await given_of(request)
    if given.get("erasure") != "yes":
        return await refused(
            request, holder, given, "erasure", "Tick the box to say you are sure"
        )
    records = records_of(request)
    return await recorded(
        request,
        holder,
        "erasure",
        given,
        lambda key: records.request_erasure(
            organisation_id=holder.organisation_id,
            participant_id=holder.participant_id,
            requested_on=local_date(),
            actor=actor_of(holder),
            idempotency_key=key,
        ),
    )


FORMS = {
    "questionnaire": questionnaire,
    "telling": telling,
    "monitoring": monitoring,
    "erasure": erasure,
}

ROUTES = [
    Route(f"{PAGE_PATH}/{{secret}}", with_link(show), methods=["GET"]),
    *(
        Route(f"{PAGE_PATH}/{{secret}}/{name}", with_link(handler), methods=["POST"])
        for name, handler in FORMS.items()
    ),
]
"""The contributor's page and its forms: no sign-in, the link is the key."""
PATHS = frozenset(route.path for route in ROUTES)
