"""The pages changed last: the 405 page for a method an address does not take, the
408 page for a form too slow to arrive, the auditors' history page in local times,
the workbook page's 'Not read' sheets and its
refusals (hidden rows and sheets, a locked, .xls or .ods file), and the answer page's
and report's note to a manager without the personal-data grant, in a real browser:
axe-core's WCAG 2.x A and AA rules, 320 px with no sideways scroll, text at 200%,
keyboard focus, errors announced and script turned off."""

import io
import sqlite3
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import openpyxl
import pytest

from fourpi.domain.access import Role
from fourpi.web.workbook_upload import XLSX
from tests.browser import (
    ask_during_a_report,
    ask_during_many_answers,
    assert_accessible,
    assert_errors_announced,
    assert_fits,
    assert_focus_visible,
    chromium,
    heading_is,
    needs_browser,
    served,
    shown,
    sign_in,
    withholding_bodies,
)
from tests.test_web_browser import Site, demo_site
from tests.web import PASSWORD

pytestmark = pytest.mark.slow

WIDE = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def site(tmp_path_factory: Any) -> Iterator[Site]:
    needs_browser()
    with chromium() as browser:
        yield from demo_site(tmp_path_factory, browser, "new-pages")


def signed_in(site: Site, email: str, role: Role, script: bool = True) -> Any:
    site.person(email, role)
    page = site.browser.new_context(java_script_enabled=script).new_page()
    sign_in(page, site.base, email, PASSWORD)
    shown(page.get_by_role("heading", level=1))
    return page


def assert_reads_everywhere(page: Any, state: str) -> None:
    """No WCAG A or AA violation; nothing scrolls sideways at 320 px, nor with the
    text at 200% in a 1280 px window; the page has a title and its headings go in
    order from one h1 (the error summary's own heading, above it, aside)."""
    assert_accessible(page, state)
    assert_fits(page, 320, f"{state} at 320 px")
    page.set_viewport_size(WIDE)
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    try:
        assert_fits(page, 1280, f"{state} with text at 200%")
    finally:
        page.evaluate("document.documentElement.style.fontSize = ''")
    levels = page.evaluate(
        "[...document.querySelectorAll('main :is(h1, h2, h3, h4):not(.error-summary *)')]"
        ".map(h => Number(h.tagName[1]))"
    )
    assert levels[:1] == [1] and levels.count(1) == 1, (state, levels)
    assert all(b <= a + 1 for a, b in pairwise(levels)), (state, levels)


def post_form_to(page: Any, path: str) -> Any:
    """A form sent to `path`, as a stale page or bookmark would send it."""
    with page.expect_navigation() as sent:
        page.evaluate(
            """(path) => { const form = document.createElement('form');
            form.method = 'post'; form.action = path;
            document.body.appendChild(form); form.submit(); }""",
            path,
        )
    return sent.value


def test_a_method_an_address_does_not_take_is_a_plain_page(site: Site) -> None:
    page = signed_in(site, "pm.405@mind.example", Role.MANAGER)
    refused = post_form_to(page, "/organisation")
    assert refused.status == 405
    shown(page.get_by_text("takes no form").first)
    # Its title says what happened, as the heading does (it was "That could not
    # be done", the same as every other problem).
    assert page.title().startswith("This page takes no form")
    heading_is(page, "This page takes no form")
    assert_reads_everywhere(page, "a form sent to a page that is only read")
    assert_focus_visible(page, "a form sent to a page that is only read")
    opened = page.goto(f"{site.base}/sign-out")
    assert opened is not None and opened.status == 405
    heading_is(page, "Not a page to open")
    assert page.title().startswith("Not a page to open")
    assert_reads_everywhere(page, "an address that only takes a form, opened")
    stranger = site.page()
    opened = stranger.goto(f"{site.base}/sign-out")
    assert opened is not None and opened.status == 405
    heading_is(stranger, "Not a page to open")
    assert_reads_everywhere(stranger, "an address that only takes a form, signed out")


def test_the_history_page_reads_everywhere_and_by_keyboard(site: Site) -> None:
    page = signed_in(site, "auditor.history@mind.example", Role.AUDITOR)
    page.get_by_role("link", name="Initiatives", exact=True).click()
    page.locator("main a[href^='/initiatives/']").first.click()
    shown(page.get_by_role("heading", name="You said, we did"))
    initiative = page.url.rstrip("/").rsplit("/", 1)[1]
    page.goto(f"{site.base}/history/{initiative}")
    heading_is(page, "History")
    shown(page.locator("time[datetime]").first)
    assert "History of" in page.title()
    assert_reads_everywhere(page, "the history page")
    assert_focus_visible(page, "the history page")


def looks(box: Any) -> str:
    return str(
        box.evaluate(
            "e => { const s = getComputedStyle(e);"
            " return [s.borderLeftColor, s.borderLeftWidth, s.backgroundColor].join(' '); }"
        )
    )


def workbook_file(name: str, content: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": XLSX, "buffer": content}


def one_sheet(title: str, rows: list[list[str]], hidden_row: int = 0) -> bytes:
    """A workbook of one sheet, its row `hidden_row` (if any) hidden."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    if hidden_row:
        sheet.row_dimensions[hidden_row].hidden = True
    sent = io.BytesIO()
    book.save(sent)
    return sent.getvalue()


HEADINGS = ["Key", "Pseudonym", "Kind of person"]
MISSPELT_SHEET = one_sheet("Peple", [HEADINGS, ["p1", "Robin", "Carer"]])
HIDDEN_ROW = one_sheet(
    "People",
    [HEADINGS, ["p1", "River", "Service user"], ["p2", "Ash", "Carer"]],
    hidden_row=3,
)


COMPOUND = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
OPEN_DOCUMENT = (
    b"PK\x03\x04"
    + b"\0" * 26
    + b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"
)


def send_workbook(page: Any, file: dict[str, Any], action: str = "check") -> None:
    page.set_input_files("#workbook", files=[file])
    page.get_by_label(
        "Check it" if action == "check" else "Import it", exact=False
    ).check()
    page.get_by_role("button", name="Send the workbook").click()


@pytest.mark.parametrize("script", [True, False], ids=["script", "no script"])
def test_the_workbook_pages_new_messages_read_everywhere(
    site: Site, script: bool
) -> None:
    page = signed_in(
        site, f"pm.workbook.{script}@mind.example".lower(), Role.MANAGER, script
    )
    page.goto(f"{site.base}/workbook")
    send_workbook(page, workbook_file("people.xlsx", MISSPELT_SHEET))
    shown(page.get_by_text("did you mean 'People'?"))
    # The sheet meant was not read: the page says what to do about it, and does
    # not call the workbook fine to import.
    said = page.locator("main").inner_text()
    assert "No problem:" not in said and 'with "Import it" chosen' not in said, said
    shown(page.get_by_text("Rename it to the sheet it is meant to be").first)
    if not script:
        return  # it works; the checks below run script in the page
    assert_reads_everywhere(page, "a sheet not read")
    for name, content, words in [
        ("old-" + "long" * 20 + ".xls", COMPOUND, "locked with a password"),
        ("spreadsheet-" + "long" * 20 + ".ods", OPEN_DOCUMENT, "OpenDocument"),
    ]:
        send_workbook(page, workbook_file(name, content))
        shown(page.get_by_text(words).first)
        # The file named as the manager knows it, not as the server called it.
        summary = page.locator(".error-summary").inner_text()
        assert name in summary and "upload.xlsx" not in summary, summary
        assert_errors_announced(page, f"{name} refused")
        assert_focus_visible(page, f"{name} refused")
        assert_reads_everywhere(page, f"{name} refused")
    # A sheet's name may be 31 characters of one word.
    long_name = "Volunteers_rota_and_notes_2026x"
    send_workbook(page, workbook_file("rota.xlsx", one_sheet(long_name, [["Key"]])))
    shown(page.get_by_text(long_name).first)
    assert_reads_everywhere(page, "a sheet with a long name not read")
    # Imported: 'Recorded' and 'Not read' do not look alike (a tired eye reads the
    # box, not its words).
    send_workbook(page, workbook_file("people.xlsx", MISSPELT_SHEET), "import")
    shown(page.get_by_text("Recorded:"))
    recorded, unread = (
        page.locator("main div").filter(has_text=words).last
        for words in ("Recorded:", "Not read")
    )
    assert looks(recorded) != looks(unread), looks(unread)
    shown(page.get_by_text("Rename it to the sheet it is meant to be").first)
    assert_reads_everywhere(page, "imported, a sheet not read")
    send_workbook(page, workbook_file("hidden.xlsx", HIDDEN_ROW))
    shown(page.get_by_text("this row is hidden").first)
    assert_reads_everywhere(page, "a hidden row refused")


def test_the_note_to_a_manager_without_the_grant_reads_everywhere(site: Site) -> None:
    page = signed_in(site, "pm.nogrant@mind.example", Role.MANAGER)
    page.goto(f"{site.base}/answers")
    shown(page.get_by_text("are all hidden from you").first)
    assert_reads_everywhere(page, "the answers, to a manager without the grant")
    page.get_by_role("link", name="Impact report (HTML)").click()
    shown(page.get_by_text("are all hidden").first)
    assert_accessible(page, "the report, to a manager without the grant")
    assert_fits(page, 320, "the report at 320 px, without the grant")


def test_the_busy_page_says_the_earlier_request_goes_on(site: Site) -> None:
    """A manager who sends a workbook to import again while the first is still
    being imported (or asks for a second report) read 'Nothing was recorded.', as if
    the first had failed too."""
    page = signed_in(site, "pm.busy@mind.example", Role.MANAGER)
    ask_during_a_report(page, site.base)
    heading_is(page, "Your earlier request is still being worked on")
    said = page.locator("main").inner_text()
    assert "Nothing was recorded." not in said, said
    shown(page.get_by_text("The earlier one carries on"))
    assert_reads_everywhere(page, "a request while one's own is being worked on")


def test_the_api_address_opened_in_a_browser_reads_everywhere(site: Site) -> None:
    """With GraphiQL off (the default), the page at /graphql is fourpi's own: it
    must read as the others do, and load nothing from anywhere."""
    page = site.page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    opened = page.goto(f"{site.base}/graphql")
    assert opened is not None and opened.status == 200
    heading_is(page, "fourpi's GraphQL API")
    assert fetched == [f"{site.base}/graphql"]
    # Its inline style is allowed by the policy's hash, not refused with the rest.
    assert page.evaluate("getComputedStyle(document.body).maxWidth") == "640px"
    assert_reads_everywhere(page, "the API's address in a browser")
    assert_focus_visible(page, "the API's address in a browser")


def test_the_pages_for_what_starlette_or_the_server_refuses_read_everywhere(
    site: Site,
) -> None:
    """A file missing from /static/ (was a line of text, 'Not Found'), and a page
    the server fails to draw (was 'Internal Server Error'; here the store's
    sessions table is moved away for a moment)."""
    page = site.page()
    opened = page.goto(f"{site.base}/static/nothing.css")
    assert opened is not None and opened.status == 404
    heading_is(page, "Page not found")
    assert_reads_everywhere(page, "a file missing from /static/")
    page.context.add_cookies(
        [{"name": "fourpi_session", "value": "s" * 43, "url": site.base}]
    )
    database = site.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(database) as store:
        store.execute("ALTER TABLE fourpi_sessions RENAME TO sessions_away")
    try:
        opened = page.goto(f"{site.base}/")
    finally:
        with sqlite3.connect(database) as store:
            store.execute("ALTER TABLE sessions_away RENAME TO fourpi_sessions")
    assert opened is not None and opened.status == 500
    heading_is(page, "Something went wrong on our side")
    assert_reads_everywhere(page, "a page the server failed to draw")
    assert_focus_visible(page, "a page the server failed to draw")


def test_the_page_for_a_store_busy_with_an_import_reads_everywhere(
    site: Site,
) -> None:
    """A form sent while another holds the store's write lock past a request's
    wait (30 s; a whole log being imported): the server-error page's busy variant,
    which says nothing was recorded and to try again, and records nothing."""
    page = signed_in(site, "pm.store-busy@mind.example", Role.MANAGER)
    page.goto(f"{site.base}/record/registerParticipant")
    form = page.locator('form[data-use-case="registerParticipant"]')
    form.locator('[name="pseudonym"]').fill("Waited")
    form.locator('[name="participant_kind"]').select_option("carer")
    database = site.database_url.removeprefix("sqlite:///")
    importing = sqlite3.connect(database, isolation_level=None)
    try:
        importing.execute("BEGIN IMMEDIATE")
        page.set_default_timeout(90_000)  # the request waits 30 s for the lock
        with page.expect_navigation() as sent:
            form.locator('button[type="submit"]').click()
        page.set_default_timeout(30_000)
        importing.execute("ROLLBACK")
    finally:
        importing.close()
    assert sent.value is not None and sent.value.status == 503
    assert sent.value.headers["retry-after"] == "60"
    heading_is(page, "Busy: try again in a minute")
    shown(page.get_by_text("Nothing was recorded"))
    assert_reads_everywhere(page, "a form sent while the store is busy")
    assert_focus_visible(page, "a form sent while the store is busy")
    page.goto(f"{site.base}/record/assignRole")
    assert page.locator("option", has_text="Waited").count() == 0


def test_the_busy_page_for_many_answers_at_once_says_why(site: Site) -> None:
    """A person (or a script with their session) asking for many different answer
    pages at once is told, for the one too many, that their earlier ones are
    still being answered, one at a time, and to try again in a few seconds."""
    page = signed_in(site, "eval.busy@mind.example", Role.EVALUATOR)
    ask_during_many_answers(page, site.base)
    heading_is(page, "Your earlier requests are still being answered")
    shown(page.get_by_text("Each person's are worked out one at a time"))
    assert_reads_everywhere(page, "an answer page while many of one's own are answered")


def test_the_page_for_a_form_too_slow_to_arrive_reads_everywhere(site: Site) -> None:
    """A form whose body does not arrive within FOURPI_REQUEST_WAIT_SECONDS (10 s
    here), through a proxy that withholds it as a connection too slow for it would:
    the 408 page says what happened and that nothing was recorded."""
    with withholding_bodies(site.base) as slow:
        page = site.page()
        page.goto(f"{slow}/sign-in")
        page.get_by_label("Email address").fill("pm.slow@mind.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.set_default_timeout(60_000)  # the server waits 10 s for the body
        with page.expect_navigation() as sent:
            page.get_by_role("button", name="Sign in").click()
        page.set_default_timeout(30_000)
        assert sent.value is not None and sent.value.status == 408
        heading_is(page, "What you sent took too long to arrive")
        assert page.title().startswith("What you sent took too long to arrive")
        shown(page.get_by_text("Nothing was recorded"))
        assert_reads_everywhere(page, "a form too slow to arrive")
        assert_focus_visible(page, "a form too slow to arrive")


@pytest.mark.postgres
def test_the_page_for_a_store_that_cannot_be_reached_reads_everywhere(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A form sent while PostgreSQL is away (restarting, failing over): the
    server-error page's variant saying the record could not be reached, 503 with
    Retry-After. It was the 500 page, 'something went wrong on our side'."""
    from tests.test_store_unreachable import database_of_its_own, refusing, url_of

    # The server's pool waits a second for a connection, not thirty.
    monkeypatch.setenv("POSTGRES_CONNECT_TIMEOUT", "1")
    # The module's browser (Playwright's sync API may not start another here).
    with database_of_its_own() as dbname, served(url_of(dbname)) as base:
        page = site.browser.new_context().new_page()
        page.goto(f"{base}/sign-in")
        page.get_by_label("Email address").fill("pm.away@mind.example")
        page.get_by_label("Password").fill("not the password at all")
        with refusing(dbname):
            page.set_default_timeout(90_000)
            with page.expect_navigation() as sent:
                page.get_by_role("button", name="Sign in").click()
            page.set_default_timeout(30_000)
        assert sent.value is not None and sent.value.status == 503
        assert int(sent.value.headers["retry-after"]) > 0
        heading_is(page, "Not available: try again in a minute")
        shown(page.get_by_text("could not be reached"))
        assert_reads_everywhere(page, "a form sent while the store is away")
        assert_focus_visible(page, "a form sent while the store is away")
