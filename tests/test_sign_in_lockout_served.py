"""The real server (`fourpi serve`) refusing sign-in after too many failed passwords: 429 with Retry-After, the seconds until a sign-in from that email address and network address would be taken, and a page saying in minutes how long that is, the same whether or not the email address has an account."""

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from fourpi.accounts import FAILURES_ALLOWED, Accounts
from fourpi.bootstrap import open_records
from fourpi.domain.access import Role
from fourpi.local_time import now
from tests.browser import served as served_at
from tests.web import CSRF, PASSWORD, person

SAFETY_SECONDS = 30.0
"""The most a request waits: one that takes this long has failed."""


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, Accounts]]:
    """`fourpi serve` on a SQLite store with one account, pm@mind.example: its base
    URL, and the store's accounts as the test reads and sets them."""
    url = f"sqlite:///{tmp_path}/lockout.sqlite3"
    records = open_records(url)
    try:
        accounts = Accounts(records)
        organisation_id = records.register_organisation(name="Mind", actor="admin")
        person(accounts, organisation_id, "pm@mind.example", Role.MANAGER)
        with served_at(url) as base:
            yield base, accounts
    finally:
        records.close()


def attempt(client: httpx.Client, email: str, password: str) -> httpx.Response:
    found = CSRF.search(client.get("/sign-in").text)
    assert found, "the sign-in page has no CSRF token"
    return client.post(
        "/sign-in",
        data={"csrf_token": found.group(1), "email": email, "password": password},
        follow_redirects=False,
    )


def failures_made(accounts: Accounts, ago: timedelta) -> None:
    accounts.tables.run(
        "UPDATE {sign_in_failures} SET failed_at = ?", (now() - ago).isoformat()
    )


def test_a_locked_sign_in_is_429_with_retry_after_the_seconds_left(
    served: tuple[str, Accounts],
) -> None:
    """The lockout was a 400 page saying "locked for 15 minutes" whatever was left,
    with no Retry-After: a script or a browser could not tell it from a wrong
    password, nor when to come back. It is now "too many requests", 429, with
    Retry-After the seconds until a sign-in would be taken, and the page says
    that wait in whole minutes, rounded up."""
    base, accounts = served
    with httpx.Client(base_url=base, timeout=SAFETY_SECONDS) as browser:
        for _ in range(FAILURES_ALLOWED - 1):
            wrong = attempt(browser, "pm@mind.example", "not my password")
            assert wrong.status_code == 400
            assert "retry-after" not in wrong.headers
        locked = attempt(browser, "pm@mind.example", "not my password")
        assert locked.status_code == 429, locked.text
        assert 1 <= int(locked.headers["retry-after"]) <= 15 * 60
        assert "try again in 15 minutes" in locked.text

        # The failures made 10 minutes and a half ago: 4 minutes and a half left,
        # the right password refused as well.
        failures_made(accounts, timedelta(minutes=10, seconds=30))
        locked = attempt(browser, "pm@mind.example", PASSWORD)
        assert locked.status_code == 429
        assert 200 <= int(locked.headers["retry-after"]) <= 270
        assert "try again in 5 minutes" in locked.text

        # Those minutes over: the right password signs in.
        failures_made(accounts, timedelta(minutes=15))
        assert attempt(browser, "pm@mind.example", PASSWORD).status_code == 303


def test_a_lockout_says_nothing_of_whether_the_email_address_has_an_account(
    served: tuple[str, Accounts],
) -> None:
    """Failures are counted against what was typed, account or not: an email
    address with no account is locked as one with an account is, and told the
    same, with the same status, wait and words."""
    base, accounts = served
    answers = {}
    with httpx.Client(base_url=base, timeout=SAFETY_SECONDS) as browser:
        for email in ("pm@mind.example", "nobody@mind.example"):
            for _ in range(FAILURES_ALLOWED):
                attempt(browser, email, "not my password")
        failures_made(accounts, timedelta(minutes=7, seconds=30))
        for email in ("pm@mind.example", "nobody@mind.example"):
            locked = attempt(browser, email, PASSWORD)
            answers[email] = (
                locked.status_code,
                int(locked.headers.get("retry-after", "0")) // 60,
                CSRF.sub("", locked.text.replace(email, "EMAIL")),
            )
    assert answers["pm@mind.example"] == answers["nobody@mind.example"]
    assert answers["pm@mind.example"][:2] == (429, 7)
