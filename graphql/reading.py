"""Reading answers for a request: the slice and as-of inputs, and one report per request shared by every answer field."""

import asyncio
import datetime as dt
from functools import partial
from uuid import UUID

import strawberry

from fourpi.domain.initiative import Initiative
from fourpi.domain.record import DATE_RANGE
from fourpi.graphql.calls import in_thread
from fourpi.graphql.context import FourPIInfo
from fourpi.graphql.enums import ImpactArea
from fourpi.graphql.errors import (
    BAD_USER_INPUT,
    SERVER_BUSY,
    TOO_MANY_REQUESTS,
    client_error,
    come_back_later,
)
from fourpi.graphql.permissions import caller_of, organisation_of
from fourpi.local_time import NotOnTheClock, in_time_zone
from fourpi.privacy import visibility
from fourpi.privacy.suppression import disclosure_for
from fourpi.privacy.visibility import log_head
from fourpi.projections.answers import (
    CYCLE_RULE,
    DEFAULT_PAYMENT_TARGET_DAYS,
    ImpactReport,
    Slice,
    is_cycle_number,
)
from fourpi.projections.disclosure import Disclosure
from fourpi.projections.views import InvalidMoment, ViewsNotReady, utc_of
from fourpi.threads import (
    ANSWERS_RETRY_AFTER_SECONDS,
    HEAVY_WORK_RETRY_AFTER_SECONDS,
    HEAVY_WORK_WAITING,
    QUESTIONS_PER_CALLER,
    TooManyAtOnce,
    in_answer_thread,
)
from graphql import GraphQLError


@strawberry.input(
    description="Which facts an answer is about: the caller's organisation, narrowed by "
    "any of these. See each answer's description for what a period or cycle narrows."
)
class SliceInput:
    initiative_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this initiative."
    )
    impact_area: ImpactArea | None = strawberry.field(
        default=None, description="Only facts tagged with this 4PI impact area."
    )
    cycle: int | None = strawberry.field(
        default=None,
        description="Only what happened in this Act-Evaluate-Reflect-Learn cycle, by number: "
        "from the day it entered Act up to the day the next cycle did.",
    )
    period_from: dt.date | None = strawberry.field(
        default=None, description="Only facts dated on or after this day."
    )
    period_to: dt.date | None = strawberry.field(
        default=None, description="Only facts dated on or before this day."
    )


@strawberry.input(
    description="A past moment to answer as of: give exactly one of a log position or a "
    "time. The answer is exactly what the live views said then."
)
class AsOfInput:
    position: int | None = strawberry.field(
        default=None, description="A position in the event log (1 is the first event)."
    )
    time: dt.datetime | None = strawberry.field(
        default=None,
        description="A time with its zone: the longest prefix of the log recorded by then.",
    )


def parse_id(value: str | None, field: str) -> UUID | None:
    if value is None:
        return None
    try:
        return UUID(str(value))
    except ValueError:
        raise client_error(
            f"{field}: must be a record id (a UUID)", BAD_USER_INPUT, field
        ) from None


def local_moment(value: dt.datetime, field: str) -> dt.datetime:
    """A date and time as given, read as the organisation's local time when it
    comes without its zone, as the web app's forms and workbooks read it."""
    try:
        return in_time_zone(value)
    except NotOnTheClock as skipped:
        raise client_error(f"{field}: {skipped}", BAD_USER_INPUT, field) from None
    except OverflowError:
        raise client_error(
            f"{field}: {DATE_RANGE} (UTC)", BAD_USER_INPUT, field
        ) from None


def as_slice(info: FourPIInfo, given: SliceInput | None) -> Slice:
    organisation = organisation_of(info)
    if given is None:
        return Slice(organisation)
    if given.cycle is not None and not is_cycle_number(given.cycle):
        raise client_error(f"slice.cycle: {CYCLE_RULE}", BAD_USER_INPUT, "slice.cycle")
    if (
        given.period_from is not None
        and given.period_to is not None
        and given.period_from > given.period_to
    ):
        # Else it is answered as a period in which nothing happened.
        raise client_error(
            "slice.periodTo: must be on or after slice.periodFrom",
            BAD_USER_INPUT,
            "slice.periodTo",
        )
    return Slice(
        organisation,
        parse_id(given.initiative_id, "slice.initiativeId"),
        None if given.impact_area is None else given.impact_area.value,
        given.cycle,
        given.period_from,
        given.period_to,
    )


def as_moment(given: AsOfInput | None) -> int | dt.datetime | None:
    if given is None:
        return None
    if (given.position is None) == (given.time is None):
        raise client_error(
            "asOf: give exactly one of position or time", BAD_USER_INPUT, "asOf"
        )
    if given.position is not None:
        if given.position < 0:
            raise client_error(
                "asOf.position: must be 0 or more", BAD_USER_INPUT, "asOf.position"
            )
        return given.position
    assert given.time is not None
    if given.time.tzinfo is None:
        raise client_error(
            "asOf.time: must carry its time zone", BAD_USER_INPUT, "asOf.time"
        )
    try:
        utc_of(given.time)
    except InvalidMoment as error:
        raise client_error(
            f"asOf.time: {error.rule}", BAD_USER_INPUT, "asOf.time"
        ) from None
    return given.time


async def caught_up(info: FourPIInfo) -> int:
    """The views' position once they reach the log as it stood when the request
    arrived (fourpi.privacy.visibility.caught_up), so a client reads what it has just
    written."""
    return await visibility.caught_up(
        info.context.views,
        await log_head(info),
        info.context.settings.read_wait_seconds,
    )


async def report_for(
    info: FourPIInfo,
    given_slice: SliceInput | None,
    as_of: AsOfInput | None,
    target_days: int = DEFAULT_PAYMENT_TARGET_DAYS,
) -> ImpactReport:
    """Every answer for the slice, computed once per request however many fields ask.

    A live answer first waits (up to the configured time) for the views to reach the
    log as it stood when asked, so a client reads what it has just written.
    """
    if not 0 <= target_days <= 3650:
        raise client_error(
            "targetDays: must be from 0 to 3650", BAD_USER_INPUT, "targetDays"
        )
    chosen = as_slice(info, given_slice)
    if chosen.initiative_id is not None:
        # Another organisation's initiative is refused, not answered as empty.
        await in_thread(
            info.context.records.load,
            Initiative,
            chosen.initiative_id,
            chosen.organisation_id,
            "slice.initiativeId",
        )
    moment = as_moment(as_of)
    key = (chosen, moment, target_days)
    # The answer fields of one request resolve concurrently: they share one task, so
    # the report is computed once, not once per field.
    pending = info.context.reports.get(key)
    if pending is None:
        pending = asyncio.ensure_future(
            computed_report(info, chosen, moment, target_days)
        )
        info.context.reports[key] = pending
    return await pending


async def computed_report(
    info: FourPIInfo, chosen: Slice, moment: int | dt.datetime | None, target_days: int
) -> ImpactReport:
    views = info.context.views
    live = await caught_up(info) if moment is None else None
    work = partial(
        views.report, chosen, as_of=moment, target_days=target_days, live=live
    )
    try:
        return await in_answer_thread(
            caller_of(info).actor,
            id(info.context),
            work,
            (chosen, moment, target_days),
        )
    except TooManyAtOnce:
        raise too_many_at_once(info) from None
    except ViewsNotReady as error:
        raise client_error(str(error), BAD_USER_INPUT, "asOf.position") from None
    except InvalidMoment as error:
        field = f"asOf.{error.part}"
        raise client_error(f"{field}: {error.rule}", BAD_USER_INPUT, field) from None


def answered_with(info: FourPIInfo, status: int, retry_after: int) -> None:
    """The request's HTTP answer made a refusal to come back later (come_back_later)."""
    come_back_later(info.context.response, status, retry_after)


def too_many_at_once(info: FourPIInfo) -> GraphQLError:
    """The refusal of a request for another answer while too many of the caller's
    are still being worked out (fourpi.threads.answering): HTTP 429, with
    Retry-After."""
    answered_with(info, 429, ANSWERS_RETRY_AFTER_SECONDS)
    return client_error(
        f"{QUESTIONS_PER_CALLER} different answers you asked for are still being "
        "worked out, one after another: ask for these again once some of them have "
        "answered",
        TOO_MANY_REQUESTS,
    )


def server_busy(info: FourPIInfo, field: str) -> GraphQLError:
    """The refusal of heavy work (`field`) asked for while others' fill the
    server's queue (fourpi.threads.ServerBusy): HTTP 503, with Retry-After;
    nothing was done."""
    answered_with(info, 503, HEAVY_WORK_RETRY_AFTER_SECONDS)
    return client_error(
        f"{field}: the server is busy with other people's heavy work (reports, "
        f"workbooks, integrity checks), {HEAVY_WORK_WAITING} of them waiting their "
        f"turn, so this was not begun: nothing was done; ask again in "
        f"{HEAVY_WORK_RETRY_AFTER_SECONDS} seconds",
        SERVER_BUSY,
    )


async def disclosed(
    info: FourPIInfo,
    given_slice: SliceInput | None,
    as_of: AsOfInput | None,
    target_days: int = DEFAULT_PAYMENT_TARGET_DAYS,
) -> tuple[ImpactReport, Disclosure]:
    """The report for an answer that counts people, and how the caller sees them."""
    report = await report_for(info, given_slice, as_of, target_days)
    return report, await disclosure_for(info, report, live=as_of is None)
