"""The answer pages behind sign-in, their downloads and the impact report: the handlers fourpi.web.app lists in PAGES, each answering as the signed-in caller.

Paths, for the organisation (`/answers`) and each initiative
(`/answers/initiatives/{initiative_id}`):

- the page itself (in the frame, layout.html);
- `.../tables/{key}.csv`: one table as CSV;
- `.../tables.xlsx`: every table of the page as one workbook;
- `.../report.pdf` and `.../report.html`: the 4PI impact report.

Each takes the slice and moment from the query string (a plain GET form, so it
works without script): area, cycle, from, to (dates, YYYY-MM-DD) and as_of (a log
position, or a time with its zone). A bad one gets 400: the narrowing form again as
it was sent, the rule beside the field its label names; a refused question gets the
API's message; another organisation's initiative reads as one that does not exist.
"""

import datetime as dt
import unicodedata
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from fourpi.domain.errors import RecordNotFound
from fourpi.domain.record import parse_digits
from fourpi.domain.vocabulary import ImpactArea
from fourpi.projections.answers import CYCLE_RULE, is_cycle_number
from fourpi.projections.views import InvalidMoment, moment_of
from fourpi.threads import answering, in_answer_thread, unless_left
from fourpi.web.answers import (
    NARROWING_LABELS,
    AnswerError,
    Answers,
    AnswerSlice,
    Hidden,
    Links,
    Moment,
    all_tables,
    answers_page,
    areas,
    gather,
    page_context,
    shown,
    subject,
)
from fourpi.web.downloads import CSV_TYPE, XLSX_TYPE, csv_of, xlsx_of
from fourpi.web.heavy import heavy_work
from fourpi.web.pages import render, render_apart, templates
from fourpi.web.report import anchor_at, pdf_of, report_html
from fourpi.web.sessions import SignedIn, accounts_of, signed_in

PREFIX = "/answers"
T = TypeVar("T")
SLICE_PARAMETERS = ("area", "cycle", "from", "to", "as_of")

templates.env.globals.update(
    shown=shown, is_hidden=lambda cell: isinstance(cell, Hidden)
)


class BadParameter(Exception):
    def __init__(self, name: str, rule: str) -> None:
        super().__init__(f"{name}: {rule}")
        self.name = name
        self.rule = rule


def text_of(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value or None


def parse_date(request: Request, name: str) -> dt.date | None:
    text = text_of(request, name)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadParameter(name, "must be a date, YYYY-MM-DD") from None


def parse_moment(text: str | None) -> Moment:
    """A log position, or a time with its zone; None for now."""
    try:
        return moment_of(text)
    except InvalidMoment as error:
        raise BadParameter("as_of", error.rule) from None


def initiative_of(request: Request) -> UUID | None:
    given = request.path_params.get("initiative_id")
    if given is None:
        return None
    try:
        return UUID(str(given))
    except ValueError:
        raise RecordNotFound("initiative", UUID(int=0), field="initiative_id") from None


def parse_slice(request: Request) -> tuple[AnswerSlice, Moment]:
    area = text_of(request, "area")
    if area is not None and area not in {a.value for a in ImpactArea}:
        raise BadParameter(
            "area", "must be one of " + ", ".join(a.value for a in ImpactArea)
        )
    cycle_text = text_of(request, "cycle")
    cycle = None if cycle_text is None else parse_digits(cycle_text)
    if cycle_text is not None and not (cycle is not None and is_cycle_number(cycle)):
        raise BadParameter("cycle", CYCLE_RULE)
    period_from, period_to = parse_date(request, "from"), parse_date(request, "to")
    if period_from and period_to and period_from > period_to:
        raise BadParameter("to", "must not be before from")
    return (
        AnswerSlice(
            initiative_id=initiative_of(request),
            impact_area=area,
            cycle=cycle,
            period_from=period_from,
            period_to=period_to,
        ),
        parse_moment(text_of(request, "as_of")),
    )


def file_name(answers: Answers, ending: str) -> str:
    """A download's name: its subject's letters and digits in ASCII ("Café" is
    spelt "cafe"; a name in another script, "answers"), since it goes into the
    Content-Disposition header, and the log position."""
    spelt = unicodedata.normalize("NFKD", subject(answers)).encode("ascii", "ignore")
    stem = "".join(c if c.isalnum() else "-" for c in spelt.decode().lower())
    return f"{'-'.join(filter(None, stem.split('-')))[:60] or 'answers'}-{answers.position}.{ending}"


def attachment(content: bytes | str, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


Make = Callable[[Request, Answers, Links], Awaitable[Response]]


def answered(make: Make) -> Callable[[Request, SignedIn], Awaitable[Response]]:
    """A page handler: the slice and moment from the query string, the answers as
    the API gives the signed-in caller, then `make`'s response. The page is one of
    the caller's requests for answers (fourpi.threads.answering) from its first
    answer to its response made: TooManyAtOnce (the busy page) when too many
    different answers of theirs are under way, never part-way; a download of the
    answers a page of theirs is showing joins it."""

    async def handler(request: Request, live: SignedIn) -> Response:
        try:
            chosen, moment = parse_slice(request)
        except BadParameter as error:
            return await narrowing_refused(request, error)
        with answering(live.caller.actor, request, (chosen, moment)):
            # Nothing more is worked out once its asker has gone (Left, 499):
            # each is the whole answer worked out afresh through the API's schema.
            return await unless_left(
                request.receive, answered_with(request, live, chosen, moment)
            )

    async def answered_with(
        request: Request, live: SignedIn, chosen: AnswerSlice, moment: Moment
    ) -> Response:
        try:
            answers = await gather(
                accounts_of(request).records,
                request.app.state.views,
                live.caller,
                chosen,
                moment,
            )
        except AnswerError as error:
            if error.code == "NOT_FOUND":
                # Another organisation's initiative reads as one that does not
                # exist, as the API says it.
                raise RecordNotFound(
                    "initiative", UUID(int=0), field="initiative_id"
                ) from None
            return await problem(
                request, str(error), 403 if error.code == "FORBIDDEN" else 400
            )
        return await make(request, answers, Links(PREFIX, chosen, moment))

    return handler


async def problem(request: Request, said: str, status_code: int = 400) -> Response:
    return await render(
        request,
        "answers/problem.html",
        {"problem": said, "back": page_path(request)},
        status_code=status_code,
    )


async def narrowing_refused(request: Request, error: BadParameter) -> Response:
    """The narrowing form again, as it was sent, the refusal in the summary and
    beside its field (named by its label): 400."""
    label = NARROWING_LABELS[error.name]
    return await render(
        request,
        "answers/refused.html",
        {
            "errors": [(error.name, f"{label}: {error.rule}")],
            "given": {
                name: request.query_params.get(name, "") for name in SLICE_PARAMETERS
            },
            "action": page_path(request),
            "areas": areas(),
            "labels": NARROWING_LABELS,
        },
        status_code=400,
    )


def page_path(request: Request) -> str:
    """The answer page a page or download belongs to."""
    return answers_page(PREFIX, request.path_params.get("initiative_id"))


async def page(request: Request, answers: Answers, links: Links) -> Response:
    # Its charts drawn, and it rendered, as one of the caller's answers
    # (fourpi.threads).
    return await render_apart(
        request,
        "answers/page.html",
        partial(page_context, answers, links),
        partial(in_answer_thread, answers.caller.actor, request),
    )


async def table_csv(request: Request, answers: Answers, links: Links) -> Response:
    key = str(request.path_params["key"])
    found = [t for t in all_tables(answers) if t.key == key]
    if not found:
        return await problem(request, f"table: no table is named {key!r}", 404)
    table = await in_answer_thread(
        answers.caller.actor, request, partial(csv_of, found[0])
    )
    return attachment(table, CSV_TYPE, file_name(answers, f"{key}.csv"))


async def tables_xlsx(request: Request, answers: Answers, links: Links) -> Response:
    # Heavy work, as a report is: some 1-2 s of CPU for a 100k-event
    # organisation's 11,000 rows, and a burst of them from several people at once
    # took every database thread (another's page waited 19 s, /healthz said 503).
    workbook = await heavy(request, xlsx_of, answers, all_tables(answers))
    return attachment(workbook, XLSX_TYPE, file_name(answers, "xlsx"))


async def heavy(request: Request, function: Callable[..., T], /, *args: Any) -> T:
    """`function(*args)` as the signed-in caller's heavy work (fourpi.web.heavy)."""
    live = await signed_in(request)  # as answered() found it: kept for the request
    assert live is not None
    return await heavy_work(request, live, function, *args)


def report(form: str) -> Make:
    async def make(request: Request, answers: Answers, links: Links) -> Response:
        records = accounts_of(request).records

        def made() -> Any:
            anchor = anchor_at(records.recorder, answers.position)
            if form == "html":
                return report_html(answers, records, anchor, linked=True)
            return pdf_of(report_html(answers, records, anchor))

        document = await heavy(request, made)
        if form == "html":
            return HTMLResponse(document)
        return attachment(document, "application/pdf", file_name(answers, "pdf"))

    return make


def answer_pages() -> list[
    tuple[str, Callable[[Request, SignedIn], Awaitable[Response]]]
]:
    """(path, handler) of every answer page, for fourpi.web.app's PAGES."""
    listed = []
    for base in (PREFIX, PREFIX + "/initiatives/{initiative_id}"):
        listed += [
            (base, answered(page)),
            (base + "/tables/{key}.csv", answered(table_csv)),
            (base + "/tables.xlsx", answered(tables_xlsx)),
            (base + "/report.pdf", answered(report("pdf"))),
            (base + "/report.html", answered(report("html"))),
        ]
    return listed
