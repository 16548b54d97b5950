"""The answer pages in a real browser: an evaluator signs in, opens Answers from the navigation, narrows the answers with the form (no script needed), reads them as they stood at a past moment and downloads a table, the workbook and the report; axe-core finds no WCAG 2.x A or AA violation on any answer page, and each fits 320 px (400% zoom) with its charts scaled down."""

from collections.abc import Iterator
from typing import Any

import pytest

from fourpi.domain.access import Role
from fourpi.web.answers import SECTION_TITLES
from tests.browser import (
    arrived,
    assert_accessible,
    assert_errors_announced,
    assert_fits,
    assert_focus_visible,
    chromium,
    heading_is,
    needs_browser,
    shown,
    sign_in,
)
from tests.test_web_browser import Site, demo_site
from tests.web import PASSWORD, person

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory: Any) -> Iterator[Site]:
    needs_browser()
    with chromium() as browser:
        yield from demo_site(tmp_path_factory, browser, "answers")


def charts_fit(page: Any, state: str) -> None:
    """Every chart is drawn no wider than the page's main column."""
    widths = page.evaluate(
        "[...document.querySelectorAll('.chart-drawing svg')].map(svg => "
        "[svg.getBoundingClientRect().width, "
        "document.querySelector('main').clientWidth])"
    )
    assert widths, f"{state}: no chart drawn"
    assert all(drawn <= room for drawn, room in widths), (state, widths)


def test_an_evaluator_reads_the_answers_narrows_them_and_downloads_them(
    site: Site,
) -> None:
    site.person("evaluator@mind.example", Role.EVALUATOR)
    page = site.page()
    sign_in(page, site.base, "evaluator@mind.example", PASSWORD)
    page.get_by_role("link", name="Answers", exact=True).click()
    heading_is(page, "Mind (demo)")
    for title in list(SECTION_TITLES.values())[:5]:  # as `fourpi answers` heads them
        shown(page.get_by_role("heading", name=title, exact=True))
    hidden = page.get_by_text("fewer than 5, or hidden to protect a small number")
    assert hidden.count() > 0  # the evaluator has no personal-data grant
    assert_accessible(page, "the organisation's answers, with suppressed counts")
    assert_fits(page, 320, "the organisation's answers at 320 px")
    charts_fit(page, "the organisation's answers at 320 px")
    page.set_viewport_size({"width": 1280, "height": 800})

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Download CSV").first.click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    with page.expect_download() as workbook:
        page.get_by_role("link", name="Every table as one workbook (XLSX)").click()
    assert workbook.value.suggested_filename.endswith(".xlsx")
    with page.expect_download() as report:
        page.get_by_role("link", name="Impact report (PDF)").click()
    with open(report.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    page.get_by_label("Impact area", exact=True).select_option("delivery")
    page.get_by_label("Cycle number", exact=True).fill("1")
    page.get_by_role("button", name="Show answers").click()
    arrived(page, "area=delivery", "cycle=1")
    shown(page.get_by_text("narrowed to the impact area delivery, cycle 1"))
    assert_accessible(page, "the answers narrowed by impact area and cycle")

    page.get_by_label("Impact area", exact=True).select_option("")
    page.get_by_label("Cycle number", exact=True).fill("")
    page.get_by_label("As it stood at", exact=True).fill("300")
    page.get_by_role("button", name="Show answers").click()
    shown(page.get_by_text("As the record stood at log position 300"))
    assert page.get_by_text("withheld for a past moment").count() > 0
    assert_accessible(page, "the answers as they stood at a past moment")

    page.get_by_label("Cycle number", exact=True).fill("2")
    page.get_by_label("As it stood at", exact=True).fill("yesterday")
    page.get_by_role("button", name="Show answers").click()
    # The form comes back as it was sent, the refusal beside the field it names.
    shown(page.get_by_text("As it stood at: must be a log position").first)
    assert_errors_announced(page, "the answers refused a bad moment")
    assert page.get_by_label("Cycle number", exact=True).input_value() == "2"
    assert page.get_by_label("As it stood at", exact=True).input_value() == "yesterday"
    assert_accessible(page, "the answers refused a bad moment")
    assert_fits(page, 320, "the answers refused a bad moment at 320 px")


def test_each_initiatives_answers_and_its_report_are_accessible(site: Site) -> None:
    site.person("auditor@mind.example", Role.AUDITOR, personal_data=True)
    page = site.page()
    sign_in(page, site.base, "auditor@mind.example", PASSWORD)
    page.get_by_role("link", name="Initiatives", exact=True).click()
    page.locator("main a[href^='/initiatives/']").first.click()
    page.get_by_role("link", name="Answers for this initiative").click()
    arrived(page, "/answers/initiatives/")
    shown(page.get_by_role("heading", name="Intended outcomes"))
    assert_accessible(page, "an initiative's answers, granted personal data")
    assert_fits(page, 320, "an initiative's answers at 320 px")
    charts_fit(page, "an initiative's answers at 320 px")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_role("link", name="Impact report (HTML)").click()
    shown(page.get_by_text("GRIPP2").first)
    assert_accessible(page, "an initiative's impact report as HTML")
    assert_focus_visible(page, "an initiative's impact report as HTML")


def test_an_empty_organisations_answers_are_accessible_and_fit(site: Site) -> None:
    """Nobody recorded yet, so no scores chart is drawn and every count is 0:
    the page still loads, axe finds no WCAG A or AA violation, and it fits 320 px."""
    for accounts in site.accounts():
        empty = accounts.records.register_organisation(name="Just begun", actor="t")
        person(accounts, empty, "evaluator@begun.example", Role.EVALUATOR)
    page = site.page()
    sign_in(page, site.base, "evaluator@begun.example", PASSWORD)
    page.get_by_role("link", name="Answers", exact=True).click()
    heading_is(page, "Just begun")
    for title in list(SECTION_TITLES.values())[:5]:
        shown(page.get_by_role("heading", name=title, exact=True))
    assert page.locator("#chart-process-scores-title").count() == 0
    assert_accessible(page, "an empty organisation's answers")
    assert_fits(page, 320, "an empty organisation's answers at 320 px")


def test_narrowing_works_with_script_turned_off(site: Site) -> None:
    site.person("manager@mind.example", Role.MANAGER)
    page = site.browser.new_context(java_script_enabled=False).new_page()
    sign_in(page, site.base, "manager@mind.example", PASSWORD)
    page.goto(f"{site.base}/answers")
    page.get_by_label("From", exact=True).fill("2024-01-01")
    page.get_by_label("To", exact=True).fill("2024-12-31")
    page.get_by_role("button", name="Show answers").click()
    arrived(page, "from=2024-01-01", "to=2024-12-31")
    shown(page.get_by_text("the period 2024-01-01 to 2024-12-31"))
