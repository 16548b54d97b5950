"""The workbook's upload page: a manager downloads the template, uploads a filled .xlsx, sees every problem by sheet, row and column, and imports the rows through the use cases (all of them, or none)."""

import tempfile
from functools import partial
from pathlib import Path

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from fourpi.privacy.visibility import WRITERS_OF_RECORDS
from fourpi.threads import in_thread
from fourpi.web.heavy import heavy_work
from fourpi.web.page import Page
from fourpi.web.pages import render
from fourpi.web.posted import form_of
from fourpi.web.sessions import SignedIn, accounts_of
from fourpi.workbook import ImportReport, import_upload, write_template
from fourpi.workbook.files import WorkbookUnreadable

LARGEST_UPLOAD_BYTES = 10 * 1024 * 1024
"""Far beyond an organisation's year of records; a larger upload is refused unread."""
LARGEST_BODY_BYTES = LARGEST_UPLOAD_BYTES + 64 * 1024
"""The upload's whole post: the file, and room for the form's other fields."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fourpi.xlsx"
        write_template(path)
        return path.read_bytes()


async def template(request: Request, live: SignedIn) -> Response:
    content = await in_thread(template_bytes)
    return Response(
        content,
        media_type=XLSX,
        headers={"content-disposition": 'attachment; filename="fourpi-template.xlsx"'},
    )


PROBLEMS_LISTED = 200
"""How many of a workbook's problems its check lists: a workbook of the wrong
shape can have tens of thousands (one a row), a page no one could read (8 MB for
45,000) and a server's work to draw; the first ones, put right, show the rest."""
VALUE_SHOWN = 80
"""How much of a problem's value the list shows (a cell may hold 32,767 characters)."""


async def upload_page(
    request: Request,
    live: SignedIn,
    *,
    errors: list[tuple[str, str]] | None = None,
    report: ImportReport | None = None,
    imported: bool = False,
    status_code: int = 200,
) -> Response:
    return await render(
        request,
        "workbook.html",
        {
            "errors": errors or [],
            "report": report,
            "imported": imported,
            "listed": report.problems[:PROBLEMS_LISTED] if report else [],
            "value_shown": VALUE_SHOWN,
        },
        status_code=status_code,
    )


async def show_upload(request: Request, live: SignedIn) -> Response:
    return await upload_page(request, live)


async def upload(request: Request, live: SignedIn) -> Response:
    form = await form_of(request)
    sent = form.get("workbook")
    if not isinstance(sent, UploadFile) or not sent.filename:
        return await upload_page(
            request,
            live,
            errors=[("workbook", "Choose an .xlsx file")],
            status_code=400,
        )
    content = await sent.read(LARGEST_UPLOAD_BYTES + 1)
    if len(content) > LARGEST_UPLOAD_BYTES:
        return await upload_page(
            request,
            live,
            errors=[("workbook", "The file must be at most 10 MB")],
            status_code=400,
        )
    dry_run = form.get("action") != "import"
    try:
        report = await heavy_work(
            request,
            live,
            partial(
                import_upload,
                accounts_of(request).records,
                live.account.organisation_id,
                content,
                actor=live.caller.actor,
                dry_run=dry_run,
                name=sent.filename,
            ),
        )
    except WorkbookUnreadable as error:
        return await upload_page(
            request,
            live,
            errors=[("workbook", f"The file could not be read: {error}")],
            status_code=400,
        )
    return await upload_page(
        request,
        live,
        report=report,
        imported=not dry_run and not report.problems,
        status_code=400 if report.problems else 200,
    )


PAGES = [
    Page("/workbook", WRITERS_OF_RECORDS, show_upload),
    Page("/workbook", WRITERS_OF_RECORDS, upload, ("POST",)),
    Page("/workbook/template", WRITERS_OF_RECORDS, template),
]
