"""Starlette routes for the answer pages, their downloads and the impact report, for mounting behind sign-in: who is asking comes from a function the mounting app gives.

Routes, under the prefix given (e.g. /answers):

- `{prefix}` and `{prefix}/initiatives/{id}`: the answer page (HTML, for layout.html);
- `.../tables/{key}.csv`: one table as CSV;
- `.../tables.xlsx`: every table of the page as one workbook;
- `.../report.pdf` and `.../report.html`: the 4PI impact report.

Each takes the slice and moment from the query string: area, cycle, from, to (dates,
YYYY-MM-DD) and as_of (a log position, or a time with its zone). A bad one gets 400
naming the parameter and the rule; a refused question gets the API's message.
"""

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import ImpactArea
from fourpi.graphql.context import Caller
from fourpi.projections.views import ImpactViews
from fourpi.web.answers import (
    AnswerError,
    Answers,
    AnswerSlice,
    Links,
    Moment,
    all_tables,
    gather,
    page_html,
    subject,
)
from fourpi.web.downloads import CSV_TYPE, XLSX_TYPE, csv_of, xlsx_of
from fourpi.web.report import anchor_at, pdf_of, report_html

CallerOf = Callable[[Request], Awaitable[Caller | None]]
SLICE_PARAMETERS = ("area", "cycle", "from", "to", "as_of")


class BadParameter(Exception):
    def __init__(self, name: str, rule: str) -> None:
        super().__init__(f"{name}: {rule}")


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
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadParameter(
            "as_of",
            "must be a log position or a time such as 2024-05-01T12:00:00+00:00",
        ) from None
    if moment.tzinfo is None:
        raise BadParameter("as_of", "a time must carry its zone, such as +00:00")
    return moment


def parse_slice(request: Request) -> tuple[AnswerSlice, Moment]:
    initiative = request.path_params.get("initiative_id")
    area = text_of(request, "area")
    if area is not None and area not in {a.value for a in ImpactArea}:
        raise BadParameter(
            "area", "must be one of " + ", ".join(a.value for a in ImpactArea)
        )
    cycle_text = text_of(request, "cycle")
    if cycle_text is not None and not (
        cycle_text.isdigit() and 0 < int(cycle_text) < 10_000
    ):
        raise BadParameter("cycle", "must be a cycle number from 1")
    period_from, period_to = parse_date(request, "from"), parse_date(request, "to")
    if period_from and period_to and period_from > period_to:
        raise BadParameter("to", "must not be before from")
    return (
        AnswerSlice(
            initiative_id=None if initiative is None else UUID(str(initiative)),
            impact_area=area,
            cycle=None if cycle_text is None else int(cycle_text),
            period_from=period_from,
            period_to=period_to,
        ),
        parse_moment(text_of(request, "as_of")),
    )


def file_name(answers: Answers, ending: str) -> str:
    stem = "".join(c if c.isalnum() else "-" for c in subject(answers).lower())
    return f"{'-'.join(filter(None, stem.split('-')))[:60] or 'answers'}-{answers.position}.{ending}"


def attachment(content: bytes | str, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def answer_routes(
    records: InvolvementRecords,
    views: ImpactViews,
    caller_of: CallerOf,
    prefix: str = "/answers",
) -> list[Route]:
    """The routes, each answering as the caller `caller_of` finds for the request
    (None: not signed in, 401)."""

    async def answered(
        request: Request, make: Callable[[Answers, Links], Awaitable[Response]]
    ) -> Response:
        caller = await caller_of(request)
        if caller is None:
            return PlainTextResponse("sign in to see the answers", status_code=401)
        try:
            chosen, moment = parse_slice(request)
        except BadParameter as error:
            return PlainTextResponse(str(error), status_code=400)
        try:
            answers = await gather(records, views, caller, chosen, moment)
        except AnswerError as error:
            status = (
                403
                if error.code == "FORBIDDEN"
                else 404
                if error.code == "NOT_FOUND"
                else 400
            )
            return PlainTextResponse(str(error), status_code=status)
        return await make(answers, Links(prefix, chosen, moment))

    async def page(request: Request) -> Response:
        async def make(answers: Answers, links: Links) -> Response:
            return HTMLResponse(await run_in_threadpool(page_html, answers, links))

        return await answered(request, make)

    async def table_csv(request: Request) -> Response:
        key = str(request.path_params["key"])

        async def make(answers: Answers, links: Links) -> Response:
            found = [t for t in all_tables(answers) if t.key == key]
            if not found:
                return PlainTextResponse(
                    f"table: no table is named {key!r}", status_code=404
                )
            return attachment(
                csv_of(found[0]), CSV_TYPE, file_name(answers, f"{key}.csv")
            )

        return await answered(request, make)

    async def tables_xlsx(request: Request) -> Response:
        async def make(answers: Answers, links: Links) -> Response:
            workbook = await run_in_threadpool(xlsx_of, answers, all_tables(answers))
            return attachment(workbook, XLSX_TYPE, file_name(answers, "xlsx"))

        return await answered(request, make)

    def report(form: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            async def make(answers: Answers, links: Links) -> Response:
                def made() -> Any:
                    anchor = anchor_at(records.recorder, answers.position)
                    html = report_html(answers, records, anchor)
                    return html if form == "html" else pdf_of(html)

                document = await run_in_threadpool(made)
                if form == "html":
                    return HTMLResponse(document)
                return attachment(
                    document, "application/pdf", file_name(answers, "pdf")
                )

            return await answered(request, make)

        return endpoint

    routes = []
    for base in (prefix, prefix + "/initiatives/{initiative_id:uuid}"):
        routes += [
            Route(base, page),
            Route(base + "/tables/{key:str}.csv", table_csv),
            Route(base + "/tables.xlsx", tables_xlsx),
            Route(base + "/report.pdf", report("pdf")),
            Route(base + "/report.html", report("html")),
        ]
    return routes
