"""The real server (`fourpi serve`) refusing an address that has guessed too many personal links: 429 with Retry-After, the seconds until a try from it would be taken, so a browser or script knows when to come back."""

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from fourpi.bootstrap import open_records
from fourpi.local_time import now
from fourpi.personal_links import FAILED_ATTEMPTS_ALLOWED, PAGE_PATH, PersonalLinks
from tests.browser import served as served_at
from tests.web import organisation_with_a_chain

SAFETY_SECONDS = 30.0
"""The most a request waits: one that takes this long has failed."""


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, PersonalLinks]]:
    """`fourpi serve` on a SQLite store with one organisation: its base URL, and the
    store's personal links as the test reads and sets them."""
    url = f"sqlite:///{tmp_path}/links.sqlite3"
    records = open_records(url)
    organisation_with_a_chain(records, "Mind")
    try:
        with served_at(url) as base:
            yield base, PersonalLinks(records, days=1)
    finally:
        records.close()


def test_a_guesser_refused_is_told_in_retry_after_when_a_try_is_taken(
    served: tuple[str, PersonalLinks],
) -> None:
    """The 429 after 20 failed link attempts in a minute had no Retry-After: a
    client could only guess when to try again. It now says the seconds until the
    oldest of the last 20 is a minute old, when the next try is taken."""
    base, links = served
    with httpx.Client(base_url=base, timeout=SAFETY_SECONDS) as guesser:
        for attempt in range(FAILED_ATTEMPTS_ALLOWED):
            assert guesser.get(f"{PAGE_PATH}/{'x' * 30}{attempt}").status_code == 404
        refused = guesser.get(f"{PAGE_PATH}/{'x' * 43}")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "Please wait a minute" in refused.text

        # The failures made 50 seconds ago: a try is taken in 10 seconds or less.
        links.tables.run(
            "UPDATE {link_failures} SET failed_at = ?",
            (now() - timedelta(seconds=50)).isoformat(),
        )
        refused = guesser.get(f"{PAGE_PATH}/{'x' * 43}")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 10

        # Those seconds over: the try is taken (an unknown link, 404).
        links.tables.run(
            "UPDATE {link_failures} SET failed_at = ?",
            (now() - timedelta(seconds=60)).isoformat(),
        )
        assert guesser.get(f"{PAGE_PATH}/{'x' * 43}").status_code == 404
