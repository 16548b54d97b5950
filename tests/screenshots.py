"""The README's screenshots, taken from the running app: `python -m tests.screenshots` serves the demo and writes docs/*.png."""

import os
import tempfile
from pathlib import Path

from fourpi.accounts import Accounts
from fourpi.bootstrap import open_records
from fourpi.demo import create_demo
from fourpi.domain.access import Role
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
        evaluator = browser.new_page(viewport={"width": 1100, "height": 760})
        sign_in(evaluator, base, "evaluator@demo.example", PASSWORD)
        evaluator.goto(f"{base}/initiatives/{first}#people")
        evaluator.evaluate("document.getElementById('people').scrollIntoView()")
        evaluator.screenshot(path=DOCS / "web-evaluator-counts.png")
        evaluator.set_viewport_size({"width": 1100, "height": 1500})
        evaluator.goto(f"{base}/answers#differences")
        evaluator.evaluate("document.getElementById('differences').scrollIntoView()")
        evaluator.screenshot(path=DOCS / "web-answers.png")
    for png in sorted(DOCS.glob("web-*.png")):
        print(png.relative_to(DOCS.parent))


if __name__ == "__main__":
    main()
