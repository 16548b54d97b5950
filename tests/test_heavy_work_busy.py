"""The real server (`fourpi serve`, on PostgreSQL) with its queue for heavy work full: HEAVY_WORK_WAITING other people's reports wait behind one being made, and another report, the tables' workbook, a workbook upload or the API's integrity check is refused at once with 503 and Retry-After, nothing done and nothing recorded, where before it joined the queue and waited with no end; every report that waited is made once the first is done, and the server then takes heavy work again. The refusal's page is drawn in Chromium and checked with axe."""

import concurrent.futures
import contextlib
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from psycopg import sql

from fourpi.accounts import Accounts
from fourpi.bootstrap import open_records
from fourpi.domain.access import Role
from fourpi.storage.sealing import SEALS_TABLE
from fourpi.threads import HEAVY_WORK_RETRY_AFTER_SECONDS, HEAVY_WORK_WAITING
from tests.browser import served as served_at
from tests.conftest import needs_postgres
from tests.helpers import POSTGRES_URL
from tests.web import PASSWORD, csrf_token, organisation_with_a_chain, person, sign_in

SAFETY_SECONDS = 60.0
"""The most a request or a wait in these tests takes: one that takes this long has
failed (a request left queued with no end, as before the queue had a bound)."""
WAITING = re.compile(r"^fourpi_heavy_work_waiting (\S+)$", re.MULTILINE)
INTEGRITY = '{"query": "{ integrity { intact } }"}'


@dataclass
class Served:
    base: str
    url: str
    schema: str
    organisation_id: UUID
    auditor_token: str

    def browser(self, email: str) -> httpx.Client:
        """An HTTP client signed in as `email`, as a browser is."""
        client = httpx.Client(base_url=self.base, timeout=SAFETY_SECONDS)
        sign_in(client, email)
        return client

    def integrity(self) -> httpx.Response:
        """The API's integrity check, asked with the auditor's token."""
        return httpx.post(
            f"{self.base}/graphql",
            content=INTEGRITY,
            headers={
                "Authorization": f"Bearer {self.auditor_token}",
                "Content-Type": "application/json",
            },
            timeout=SAFETY_SECONDS,
        )

    def waiting(self) -> int:
        """How many pieces of heavy work the server says wait their turn."""
        metrics = httpx.get(f"{self.base}/metrics", timeout=SAFETY_SECONDS).text
        found = WAITING.search(metrics)
        assert found, "/metrics says nothing of the heavy work waiting"
        return int(float(found.group(1)))

    def head(self) -> int:
        with psycopg.connect(POSTGRES_URL.split("?")[0]) as connection:
            row = connection.execute(
                sql.SQL("SELECT count(*) FROM {}.{}").format(
                    sql.Identifier(self.schema), sql.Identifier(SEALS_TABLE)
                )
            ).fetchone()
        assert row is not None
        return int(row[0])


def evaluator(number: int) -> str:
    return f"evaluator{number}@mind.example"


MANAGER = "manager@mind.example"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """`fourpi serve --metrics` on a PostgreSQL schema of its own, with one
    organisation, HEAVY_WORK_WAITING + 2 evaluators, a manager and an auditor's
    token."""
    needs_postgres()
    schema = f"heavy_{os.urandom(6).hex()}"
    url = f"{POSTGRES_URL}?schema={schema}"
    records = open_records(url)
    mind = organisation_with_a_chain(records, "Mind").organisation_id
    accounts = Accounts(records)
    for number in range(HEAVY_WORK_WAITING + 2):
        person(accounts, mind, evaluator(number), Role.EVALUATOR)
    person(accounts, mind, MANAGER, Role.MANAGER)
    _, token = records.issue_token(
        organisation_id=mind, role=Role.AUDITOR, actor="test"
    )
    try:
        with served_at(url, "--metrics") as base:
            yield Served(base, url, schema, mind, token)
    finally:
        records.close()
        with psycopg.connect(POSTGRES_URL.split("?")[0], autocommit=True) as drop:
            drop.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)
                )
            )


def waiting_for_the_seals(holder: psycopg.Connection[Any], schema: str) -> int:
    """How many of the server's reads wait for the seals' table the test holds."""
    row = holder.execute(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = to_regclass(%s)",
        (f"{schema}.{SEALS_TABLE}",),
    ).fetchone()
    assert row is not None
    return int(row[0])


@contextlib.contextmanager
def queue_full(served: Served) -> Iterator[list[Future[httpx.Response]]]:
    """A report being made, held where it reads the seals' table (locked by the
    test, as a long migration would), and HEAVY_WORK_WAITING other people's
    reports waiting their turn behind it: the reports, answered once the block
    ends and the table is let go."""
    people = [served.browser(evaluator(n)) for n in range(HEAVY_WORK_WAITING + 1)]
    holder = psycopg.connect(POSTGRES_URL.split("?")[0])
    holder.execute(
        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
            sql.Identifier(served.schema, SEALS_TABLE)
        )
    )
    pool = ThreadPoolExecutor(len(people))
    asked: list[Future[httpx.Response]] = []
    try:
        asked.append(pool.submit(people[0].get, "/answers/report.html"))
        until(
            lambda: waiting_for_the_seals(holder, served.schema) == 1,
            "the first report to begin",
        )
        for number, browser in enumerate(people[1:], start=1):
            asked.append(pool.submit(browser.get, "/answers/report.html"))
            until(lambda n=number: served.waiting() == n, f"report {number} to wait")
        yield asked
    finally:
        holder.rollback()
        holder.close()
        # Answered, or failed, before the pool is shut: the test reads which.
        concurrent.futures.wait(asked, timeout=SAFETY_SECONDS)
        pool.shutdown()
        for browser in people:
            browser.close()


def until(holds: Any, what: str) -> None:
    done = threading.Event()
    for _ in range(int(SAFETY_SECONDS / 0.05)):
        if holds():
            return
        done.wait(0.05)
    raise AssertionError(f"waited {SAFETY_SECONDS} s for {what}")


def test_heavy_work_past_the_queue_is_refused_at_once_and_the_queue_is_served(
    served: Served,
) -> None:
    """Before, the queue had no bound: a report asked for behind these waited
    its turn (50 reports asked for at once, the last waited some 20 minutes),
    holding its connection, and was told nothing."""
    late = served.browser(evaluator(HEAVY_WORK_WAITING + 1))
    manager = served.browser(MANAGER)
    template = manager.get("/workbook/template").content
    upload_token = csrf_token(manager, "/workbook")
    before = served.head()
    with queue_full(served) as reports:
        refused = {
            "report": late.get("/answers/report.pdf"),
            "workbook": late.get("/answers/tables.xlsx"),
            "upload": manager.post(
                "/workbook",
                data={"csrf_token": upload_token, "action": "import"},
                files={"workbook": ("filled.xlsx", template)},
            ),
        }
        for what, response in refused.items():
            assert response.status_code == 503, (what, response.text[:300])
            assert response.headers["retry-after"] == str(
                HEAVY_WORK_RETRY_AFTER_SECONDS
            )
            assert response.headers["content-type"].startswith("text/html")
            assert "Busy making other reports: try again in a minute" in response.text
            assert "Nothing was lost, and nothing was recorded" in response.text
        integrity = served.integrity()
        assert integrity.status_code == 503, integrity.text
        assert integrity.headers["retry-after"] == str(HEAVY_WORK_RETRY_AFTER_SECONDS)
        (error,) = integrity.json()["errors"]
        assert error["extensions"]["code"] == "SERVER_BUSY"
        assert error["message"].startswith("integrity: the server is busy")
        assert served.waiting() == HEAVY_WORK_WAITING
    made = [report.result(timeout=SAFETY_SECONDS) for report in reports]
    assert [r.status_code for r in made] == [200] * (HEAVY_WORK_WAITING + 1)
    assert all("GRIPP2" in r.text for r in made)
    assert served.head() == before  # nothing recorded by what was refused
    assert served.waiting() == 0
    again = late.get("/answers/report.pdf")
    assert again.status_code == 200 and again.content.startswith(b"%PDF")


def test_an_auditors_second_integrity_check_is_told_to_come_back_as_a_429(
    served: Served,
) -> None:
    """An auditor's script asked for the integrity check again while its first
    still waited its turn: it was refused with TOO_MANY_REQUESTS but HTTP 200 and
    no Retry-After, where every other request told to come back (too many
    answers at once: 429; the queue full of others' work: 503) says so in its
    status and when to try again, and the web app's person asking for a second
    report gets 429 with Retry-After. Now the API says 429 with Retry-After too."""

    holder = psycopg.connect(POSTGRES_URL.split("?")[0])
    holder.execute(
        sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(
            sql.Identifier(served.schema, SEALS_TABLE)
        )
    )
    with ThreadPoolExecutor(1) as pool:
        try:
            first = pool.submit(served.integrity)
            until(
                lambda: waiting_for_the_seals(holder, served.schema) == 1,
                "the first check to begin",
            )
            second = served.integrity()
        finally:
            holder.rollback()
            holder.close()
        assert first.result(timeout=SAFETY_SECONDS).json()["data"]["integrity"]
    assert second.status_code == 429, second.text
    assert int(second.headers["retry-after"]) > 0
    (error,) = second.json()["errors"]
    assert error["extensions"]["code"] == "TOO_MANY_REQUESTS"
    assert error["message"].startswith("integrity: another check of yours")


@pytest.mark.slow
def test_the_page_for_a_server_busy_with_others_reports_reads_everywhere(
    served: Served,
) -> None:
    """The refusal's page in Chromium: no WCAG A or AA violation (axe), no sideways
    scroll at 320 px or with text at 200%, one h1, focus visible, and it says
    why and what to do."""
    from tests import browser as chromium_of
    from tests.test_web_new_pages_browser import assert_reads_everywhere

    chromium_of.needs_browser()
    with chromium_of.chromium() as browser:
        page = browser.new_context().new_page()
        chromium_of.sign_in(
            page, served.base, evaluator(HEAVY_WORK_WAITING + 1), PASSWORD
        )
        chromium_of.shown(page.get_by_role("heading", level=1))
        with queue_full(served):
            opened = page.goto(f"{served.base}/answers/report.html")
            assert opened is not None and opened.status == 503
            assert opened.headers["retry-after"] == str(HEAVY_WORK_RETRY_AFTER_SECONDS)
            state = "heavy work refused: the server is busy"
            chromium_of.heading_is(
                page, "Busy making other reports: try again in a minute"
            )
            said = page.get_by_text("Nothing was lost, and nothing was recorded")
            chromium_of.shown(said)
            assert_reads_everywhere(page, state)
            chromium_of.assert_focus_visible(page, state)
