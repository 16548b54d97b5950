"""The README's screenshots, taken from the running app: `python -m tests.screenshots` serves the demo and writes docs/*.png."""

import os
import tempfile
from pathlib import Path
from uuid import UUID

from fourpi.accounts import Accounts
from fourpi.bootstrap import open_records, open_views
from fourpi.demo import create_demo
from fourpi.domain.access import Role
from fourpi.listing import participants_of
from tests.browser import chromium, served, sign_in
from tests.helpers import TEST_MASTER_KEY
from tests.web import PASSWORD, person

DOCS = Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    os.environ.setdefault("FOURPI_MASTER_KEY", TEST_MASTER_KEY)
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/screenshots.sqlite3"
    records = open_records(url)
    summary = create_demo(records)
    accounts = Accounts(records)
    for email, role, grant, name in [
        ("manager@demo.example", Role.MANAGER, True, "Sam (demo manager)"),
        ("evaluator@demo.example", Role.EVALUATOR, False, "Eve (demo evaluator)"),
    ]:
        person(
            accounts,
            summary.organisation_id,
            email,
            role,
            personal_data=grant,
            name=name,
        )
    records.close()
    first = summary.initiatives[0].initiative_id
    DOCS.mkdir(exist_ok=True)
    with served(url) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        sign_in(page, base, "manager@demo.example", PASSWORD)
        page.screenshot(path=DOCS / "web-home.png")
        page.goto(f"{base}/initiatives/{first}#contributions")
        page.locator("#contributions").scroll_into_view_if_needed()
        page.evaluate("document.getElementById('contributions').scrollIntoView()")
        page.screenshot(path=DOCS / "web-you-said-we-did.png")
        page.goto(f"{base}/to-do")
        page.screenshot(path=DOCS / "web-to-do.png")
        page.goto(f"{base}/record/respondToContribution")
        page.get_by_label("Contribution", exact=True).select_option(index=1)
        page.get_by_label("Response", exact=True).select_option("declined")
        page.get_by_label("Responded on").fill("2025-03-01")
        page.get_by_role("button", name="Record it").click()
        page.screenshot(path=DOCS / "web-form-refused.png", full_page=True)
        evaluator = browser.new_page(viewport={"width": 1100, "height": 760})
        sign_in(evaluator, base, "evaluator@demo.example", PASSWORD)
        evaluator.goto(f"{base}/initiatives/{first}#people")
        evaluator.evaluate("document.getElementById('people').scrollIntoView()")
        evaluator.screenshot(path=DOCS / "web-evaluator-counts.png")
        contributor = a_contributor_of(url, summary.organisation_id)
        page.set_viewport_size({"width": 375, "height": 760})
        page.goto(f"{base}/people/{contributor}/personal-link")
        page.get_by_role("button", name="Make a personal link").click()
        page.screenshot(path=DOCS / "web-personal-link.png", full_page=True)
        link = page.locator("#personal-link").inner_text().strip()
        phone = browser.new_page(viewport={"width": 375, "height": 760})
        phone.goto(link)
        phone.evaluate("document.getElementById('said-heading').scrollIntoView()")
        phone.screenshot(path=DOCS / "web-contributor.png")
        evaluator.set_viewport_size({"width": 1100, "height": 1500})
        evaluator.goto(f"{base}/answers#differences")
        evaluator.evaluate("document.getElementById('differences').scrollIntoView()")
        evaluator.screenshot(path=DOCS / "web-answers.png")
    for png in sorted(DOCS.glob("web-*.png")):
        print(png.relative_to(DOCS.parent))


def a_contributor_of(url: str, organisation_id: UUID) -> UUID:
    """A service user of the demo who said something the organisation answered."""
    records = open_records(url)
    views = open_views(url, records)
    try:
        views.catch_up()
        facts = views.cache.facts(organisation_id, views.position())
        answered = {row["contribution_id"] for row in facts["responses"]}
        said = {
            row["participant_id"]
            for row in facts["contributors"]
            if row["contribution_id"] in answered
        }
        return next(
            line.participant_id
            for line in participants_of(views, organisation_id)
            if line.participant_kind == "service_user" and line.participant_id in said
        )
    finally:
        views.close()
        records.close()


if __name__ == "__main__":
    main()
