"""A manager keeps an initiative's whole 4PI record through the forms alone, in a real browser: from its purpose to feedback and a complete Act-Evaluate-Reflect-Learn cycle, after which the API's five answers show it; the to-do page empties as its items are done; a double submit records once; a journey by keyboard alone; and axe-core finds no WCAG 2.x A or AA violation on any form, empty, filled or with errors."""

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from fourpi.bootstrap import open_records
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import (
    ChangeScope,
    ContributionNature,
    ImpactArea,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    ParticipantKind,
    PaymentKind,
)
from fourpi.web.forms import FORMS
from fourpi.web.workbook_upload import PROBLEMS_LISTED, XLSX
from tests.browser import (
    assert_accessible,
    assert_errors_announced,
    assert_fits,
    assert_focus_visible,
    chromium,
    needs_browser,
    served,
    shown,
    sign_in,
)
from tests.test_web_browser import Site
from tests.web import PASSWORD, workbook_of_unknown_kinds

pytestmark = pytest.mark.slow

MANAGER = "manager@crisis.example"
TODAY = date.today().isoformat()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[Site]:
    needs_browser()
    url = f"sqlite:///{tmp_path_factory.mktemp('forms')}/web.sqlite3"
    records = open_records(url)
    organisation_id = records.register_organisation(name="Crisis Care", actor="admin")
    records.close()
    with chromium() as browser, served(url) as base:
        site = Site(base, url, organisation_id, browser)
        site.person(MANAGER, Role.MANAGER, personal_data=True)
        yield site


@pytest.fixture(scope="module")
def page(site) -> Any:
    """One page for the module, signed in as the manager."""
    opened = site.page()
    sign_in(opened, site.base, MANAGER, PASSWORD)
    return opened


def fill(page: Any, name: str, values: dict[str, Any]) -> None:
    """Fill a drawn form: a select by value or label, boxes by value or label."""
    form = page.locator(f'form[data-use-case="{name}"]')
    for field, value in values.items():
        targets = form.locator(f'[name="{field}"]')
        first = targets.first
        tag = first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if tag.startswith("select"):
            first.select_option(value)
        elif tag.endswith(("checkbox", "radio")):
            for one in value if isinstance(value, list) else [value]:
                box = form.locator(f'[name="{field}"][value="{one}"]')
                if box.count() == 0:
                    box = form.get_by_label(one, exact=True)
                box.check()
        else:
            first.fill(value)


def record(
    page: Any, site: Site, name: str, values: dict[str, Any], query: str = ""
) -> str:
    """Open a form, check it empty and filled, send it; the page it led to."""
    page.goto(f"{site.base}/record/{name}{query}")
    assert_accessible(page, f"{name}, empty")
    fill(page, name, values)
    assert_accessible(page, f"{name}, filled")
    page.locator(f'form[data-use-case="{name}"] button[type="submit"]').click()
    notice = page.locator(".notice")
    shown(notice)
    assert notice.inner_text() == f"Recorded: {FORMS[name].label.lower()}."
    return str(page.url.split("?")[0])


def last_part(url: str) -> str:
    return url.rsplit("/", 1)[1]


def to_do_left(page: Any, site: Site) -> str:
    page.goto(f"{site.base}/to-do")
    return str(page.locator("main").inner_text())


def test_a_manager_keeps_a_whole_initiative_through_the_forms(site, page) -> None:
    record(
        page,
        site,
        "adoptInvolvementPolicy",
        {"version_label": "v1", "adopted_on": TODAY, "summary": "We involve."},
    )
    initiative = record(
        page,
        site,
        "launchInitiative",
        {
            "name": "Crisis line review",
            "level": "operational",
            "involvement_kind": "co_production",
            "methods": ["workshop"],
            "purpose": "Shape the crisis line with its callers.",
            "limits_of_influence": "The budget is fixed.",
            "started_on": "2025-01-06",
        },
    )
    initiative_id = last_part(initiative)
    record(
        page,
        site,
        "recordIntendedOutcome",
        {
            "initiative_id": initiative_id,
            "description": "Callers feel heard",
            "impact_areas": ["service_user_and_carer_experience"],
        },
    )
    people = {}
    for pseudonym, kind in (
        ("Robin", "service_user"),
        ("Alex", "carer"),
        ("Jo", "staff"),
    ):
        people[pseudonym] = last_part(
            record(
                page,
                site,
                "registerParticipant",
                {"pseudonym": pseudonym, "participant_kind": kind},
            )
        )
    robin = people["Robin"]
    record(
        page,
        site,
        "declareMonitoringData",
        {
            "participant_id": robin,
            "monitoring.age_band": "prefer_not_to_say",
            "monitoring.gender": "prefer_not_to_say",
        },
    )
    record(
        page,
        site,
        "setPaymentPreference",
        {
            "participant_id": robin,
            "payment_preference": "fees",
            "earnings_limit": "500",
            "earnings_period": "month",
        },
    )
    for pseudonym in ("Robin", "Alex", "Jo"):
        record(
            page,
            site,
            "assignRole",
            {
                "initiative_id": initiative_id,
                "participant_id": people[pseudonym],
                "role": "co_worker",
                "paid": "yes",
                "decision_making": "yes",
                "started_on": "2025-01-06",
            },
        )
    record(
        page,
        site,
        "endRole",
        {
            "role_id": "Jo (staff): Co worker (Crisis line review)",
            "ended_on": "2025-02-01",
        },
        f"?initiative_id={initiative_id}",
    )
    meeting = record(
        page,
        site,
        "scheduleMeeting",
        {
            "initiative_id": initiative_id,
            "title": "First workshop",
            "held_at": "2025-02-03T10:00",
            "high_level": "yes",
            "decision_making": "yes",
        },
    )
    meeting_id = last_part(meeting)
    assert "Meetings below the presence standard (1)" in to_do_left(page, site)
    record(
        page,
        site,
        "sendMeetingPapers",
        {"meeting_id": meeting_id, "sent_at": "2025-01-27T09:00"},
    )
    # Attendance, recorded from the meeting's page: the initiative's people first.
    page.goto(meeting)
    assert_accessible(page, "the meeting's page")
    fill(page, "recordAttendance", {"participant_ids": [robin, people["Alex"]]})
    page.get_by_role("button", name="Record attendance").click()
    from playwright.sync_api import expect

    expect(page.locator(".notice")).to_have_text("Recorded: record attendance.")
    record(
        page,
        site,
        "nameMeetingReserve",
        {"meeting_id": meeting_id, "participant_id": people["Alex"]},
    )
    assert "Meetings below the presence standard (1)" not in to_do_left(page, site)
    record(
        page,
        site,
        "makeReasonableAdjustment",
        {"meeting_id": meeting_id, "description": "Papers in large print"},
    )
    page.goto(meeting)
    page.get_by_role("link", name="Log a contribution").click()
    contribution = record_here(
        page,
        "logContribution",
        {
            "contributor_ids": ["Robin (service user)", "Alex (carer)"],
            "nature": "idea",
            "summary": "Call back within the hour",
            "impact_areas": ["delivery"],
        },
    )
    contribution_id = last_part(contribution)
    assert "Call back within the hour" in page.goto(meeting).text()
    left = to_do_left(page, site)
    assert "Contributions awaiting a response (1)" in left
    page.get_by_role("link", name="Respond").first.click()
    record_here(
        page,
        "respondToContribution",
        {"outcome": "adopted", "responded_on": "2025-02-10"},
    )
    assert "Contributions awaiting a response (1)" not in to_do_left(page, site)
    record(
        page,
        site,
        "recordChange",
        {
            "initiative_id": initiative_id,
            "description": "Callbacks within the hour",
            "impact_area": "delivery",
            "scope": "end_result",
            "evidence": "The rota",
            "changed_on": "2025-03-01",
            "contribution_ids": [contribution_id],
        },
    )
    record(
        page,
        site,
        "recordChange",
        {
            "initiative_id": initiative_id,
            "description": "Robin now trains call handlers",
            "impact_area": "delivery",
            "scope": "beyond",
            "beyond_kind": "growth_of_people_involved",
            "evidence": "Training log",
            "changed_on": "2025-03-05",
            "contribution_ids": [contribution_id],
        },
    )
    assert "Contributors not yet told" in to_do_left(page, site)
    record(
        page,
        site,
        "giveFeedback",
        {
            "contribution_id": contribution_id,
            "given_on": "2025-03-06",
            "method": "meeting",
            "summary": "You said call back sooner; we did.",
        },
    )
    record(
        page,
        site,
        "assessIntendedOutcome",
        {
            "outcome_id": "Callers feel heard (Crisis line review)",
            "assessment": "achieved",
            "involvement_difference": "significant",
            "evidence": "Caller survey",
            "assessed_on": "2025-03-10",
        },
    )
    record(
        page,
        site,
        "recordProcessExperience",
        {
            "initiative_id": initiative_id,
            "participant_id": robin,
            "respondent_kind": "service_user",
            "stage": "end_of_involvement",
            "answered_on": "2025-03-10",
            "scores.listened_to": "5",
        },
    )
    payment = record(
        page,
        site,
        "recordPaymentOwed",
        {
            "participant_id": robin,
            "initiative_id": initiative_id,
            "payment_kind": "fee",
            "amount": "40.00",
            "owed_on": "2025-02-03",
        },
    )
    assert "Payments owed (1)" in to_do_left(page, site)
    record(
        page,
        site,
        "recordPaymentMade",
        {"payment_id": last_part(payment), "paid_on": "2025-02-07"},
    )
    record(
        page,
        site,
        "recordSupport",
        {
            "initiative_id": initiative_id,
            "support_kind": "peer_support_or_mentoring",
            "given_on": "2025-02-04",
            "participant_ids": [robin],
            "hours": "2",
        },
    )
    record(
        page,
        site,
        "defineReferencePopulation",
        {
            "description": "The county's adults",
            "shares": "Gender, Woman, 0.51\nGender, Man, 0.49",
        },
    )
    cycle = f"{initiative_id}:1"
    record(
        page,
        site,
        "startCycle",
        {
            "initiative_id": initiative_id,
            "focus_areas": ["delivery"],
            "started_on": "2025-01-06",
        },
    )
    record(
        page,
        site,
        "evaluateCycle",
        {"number": cycle, "findings": "Slow callbacks", "entered_on": "2025-03-11"},
    )
    record(
        page,
        site,
        "reflectOnCycle",
        {"number": cycle, "reflections": "Rota gaps", "entered_on": "2025-03-12"},
    )
    record(
        page,
        site,
        "learnFromCycle",
        {
            "number": cycle,
            "lessons": "Staff the evening",
            "planned_actions": "Hire two evening staff",
            "entered_on": "2025-03-13",
        },
    )
    assert "Cycles waiting for their next phase (1)" in to_do_left(page, site)
    record(
        page,
        site,
        "startCycle",
        {
            "initiative_id": initiative_id,
            "focus_areas": ["delivery"],
            "started_on": "2025-03-20",
            "actions_taken_up": "Hire two evening staff",
        },
    )
    record(page, site, "reviewInvolvementPolicy", {"reviewed_on": TODAY})
    assert "Nothing is waiting" in to_do_left(page, site)
    assert_accessible(page, "the to-do page, empty")
    answers = five_answers(site)
    assert answers["intendedOutcomes"]["outcomes"] == [
        {"description": "Callers feel heard", "assessment": "ACHIEVED"}
    ]
    assert {c["description"] for c in answers["differences"]["changes"]} == {
        "Callbacks within the hour",
        "Robin now trains call handlers",
    }
    assert answers["processExperience"]["answers"]["value"] == 1
    assert [c["description"] for c in answers["endResult"]["endResultChanges"]] == [
        "Callbacks within the hour"
    ]
    assert answers["beyond"]["byKind"][0]["changes"][0]["description"] == (
        "Robin now trains call handlers"
    )


def record_here(page: Any, name: str, values: dict[str, Any]) -> str:
    """Fill and send the form a link led to (some fields already given)."""
    fill(page, name, values)
    assert_accessible(page, f"{name}, filled from a link")
    page.locator(f'form[data-use-case="{name}"] button[type="submit"]').click()
    shown(page.locator(".notice"))
    return str(page.url.split("?")[0])


FIVE = """{
  intendedOutcomes { outcomes { description assessment } }
  differences { changes { description } }
  processExperience { answers { value } }
  endResult { endResultChanges { description } }
  beyond { byKind { kind changes { description } } }
}"""


def five_answers(site: Site) -> dict[str, Any]:
    records = open_records(site.database_url)
    try:
        _, secret = records.issue_token(
            organisation_id=site.organisation_id,
            role=Role.MANAGER,
            actor="test",
            personal_data=True,
        )
    finally:
        records.close()
    response = httpx.post(
        f"{site.base}/graphql",
        json={"query": FIVE},
        headers={"authorization": f"Bearer {secret}"},
        timeout=30,
    )
    body = response.json()
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


def test_every_form_with_errors_shows_them_beside_the_fields_accessibly(
    site, page
) -> None:
    for name in FORMS:
        page.goto(f"{site.base}/record/{name}")
        page.locator(f'form[data-use-case="{name}"] button[type="submit"]').click()
        summary = page.locator(".error-summary")
        shown(summary)
        first = summary.locator("a").first
        target = first.get_attribute("href")
        beside = page.locator(f".field--error:has({target}) .error-message")
        assert beside.is_visible() or target == "#form", name
        assert_errors_announced(page, f"{name}, with errors")
        assert_accessible(page, f"{name}, with errors")
        assert_fits(page, 320, f"{name}, with errors, at 320 px")
        page.set_viewport_size({"width": 1280, "height": 800})


def test_every_kind_of_control_shows_where_the_focus_is(site, page) -> None:
    """Tabbing through forms with ticked boxes, radios, a select, a long text, dates
    and buttons: each shows where the focus is, in sight, with the page's colours
    and with forced colours (Windows' contrast themes), and after an error."""
    forced = site.browser.new_context(forced_colors="active").new_page()
    sign_in(forced, site.base, MANAGER, PASSWORD)
    for name in ("launchInitiative", "scheduleMeeting"):
        page.goto(f"{site.base}/record/{name}")
        assert assert_focus_visible(page, name) > 10
        forced.goto(f"{site.base}/record/{name}")
        assert_focus_visible(forced, f"{name}, forced colours", forced=True)
    page.goto(f"{site.base}/record/launchInitiative")
    page.locator('form[data-use-case="launchInitiative"] button').click()
    shown(page.locator(".error-summary"))
    assert_focus_visible(page, "launchInitiative, with errors")


def test_a_refusal_keeps_what_was_typed(site, page) -> None:
    page.goto(f"{site.base}/record/launchInitiative")
    fill(
        page,
        "launchInitiative",
        {"name": "Kept", "purpose": "Typed purpose", "started_on": "2025-01-01"},
    )
    page.locator('form[data-use-case="launchInitiative"] button[type="submit"]').click()
    shown(page.locator(".error-summary"))
    assert page.get_by_label("Name", exact=True).input_value() == "Kept"
    assert page.get_by_label("Purpose").input_value() == "Typed purpose"
    page.locator(".error-summary a").first.click()
    assert page.evaluate("document.activeElement.id") in ("level", "involvement-kind")


def test_a_double_submit_records_once(site, page) -> None:
    page.goto(f"{site.base}/record/registerParticipant")
    fill(
        page, "registerParticipant", {"pseudonym": "Twice", "participant_kind": "carer"}
    )
    page.locator('form[data-use-case="registerParticipant"] button').dblclick()
    page.locator(".notice").wait_for()
    page.wait_for_load_state()
    page.goto(f"{site.base}/record/assignRole")
    assert page.locator("option", has_text="Twice").count() == 1


def test_a_person_is_registered_by_keyboard_alone(site, page) -> None:
    page.goto(f"{site.base}/record/registerParticipant")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "pseudonym":
            break
    page.keyboard.type("Keys")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "participant_kind"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.locator(".notice").inner_text() == "Recorded: register a person."
    assert "Keys" in page.locator("h1").inner_text()


def test_every_record_page_is_accessible(site, page) -> None:
    """Each kind of record's page and its history, an initiative with its forms, the
    forms' list, the to-do page, the policy and the workbook's page."""
    paths = some_records(site)
    for path in (*paths, "/record", "/to-do", "/workbook", "/policy"):
        page.goto(f"{site.base}{path}")
        shown(page.locator("h1"))
        assert_accessible(page, path)
    page.goto(f"{site.base}/workbook")
    page.get_by_role("button", name="Send the workbook").click()
    shown(page.locator(".error-summary"))
    assert_accessible(page, "the workbook's page, with an error")
    page.set_input_files("#workbook", files=[wrong_workbook()])
    page.get_by_role("button", name="Send the workbook").click()
    shown(page.get_by_text(f"The first {PROBLEMS_LISTED} are listed"))
    assert_accessible(page, "the workbook's page, listing its problems")
    assert_fits(page, 320, "the workbook's problems at 320 px")


def wrong_workbook() -> dict[str, Any]:
    """More People rows of an unknown kind than the check lists."""
    wrong = workbook_of_unknown_kinds(PROBLEMS_LISTED + 10, "alien " + "x" * 300)
    return {"name": "wrong.xlsx", "mimeType": XLSX, "buffer": wrong}


def some_records(site: Site) -> list[str]:
    """One record of each kind that has a page, recorded through the use cases."""
    records = open_records(site.database_url)
    try:
        organisation_id = site.organisation_id
        common = {"organisation_id": organisation_id, "actor": "test"}
        initiative = records.launch_initiative(
            **common,
            name="Pages",
            level=InvolvementLevel.STRATEGIC,
            involvement_kind=InvolvementKind.INFLUENCE,
            methods=(InvolvementMethod.SURVEY,),
            purpose="Check every page",
            limits_of_influence="None",
            started_on=date(2025, 1, 1),
        )
        person = records.register_participant(
            **common, pseudonym="Paged", participant_kind=ParticipantKind.CARER
        )
        meeting = records.schedule_meeting(
            **common,
            initiative_id=initiative,
            title="Paged meeting",
            held_at=datetime(2025, 2, 1, 10, tzinfo=UTC),
            high_level=False,
            decision_making=False,
        )
        contribution = records.log_contribution(
            **common,
            initiative_id=initiative,
            contributor_ids=[person],
            nature=ContributionNature.CONCERN,
            summary="Paged concern",
            impact_areas=(ImpactArea.DELIVERY,),
            made_on=date(2025, 2, 1),
            meeting_id=meeting,
        )
        change = records.record_change(
            **common,
            initiative_id=initiative,
            description="Paged change",
            impact_area=ImpactArea.DELIVERY,
            scope=ChangeScope.ACTIVITY,
            beyond_kind=None,
            evidence="Seen",
            changed_on=date(2025, 3, 1),
            contribution_ids=[contribution],
        )
        payment = records.record_payment_owed(
            **common,
            participant_id=person,
            initiative_id=initiative,
            payment_kind=PaymentKind.FEE,
            amount=Decimal("20"),
            owed_on=date(2025, 2, 1),
        )
    finally:
        records.close()
    return [
        f"/initiatives/{initiative}",
        f"/people/{person}",
        f"/meetings/{meeting}",
        f"/contributions/{contribution}",
        f"/changes/{change}",
        f"/payments/{payment}",
        f"/history/{contribution}",
    ]


ADDRESS = (
    "https://www.mind.org.uk/information-support/types-of-mental-health-problems/"
    "mental-health-problems-introduction/support-services/"
)
"""A web address pasted into a text: one word of 130 characters."""


def records_with_an_address(site: Site) -> list[str]:
    """An initiative, a contribution waiting for its answer and a change, each
    with the address in its texts; the pages that show them."""
    records = open_records(site.database_url)
    try:
        common: dict[str, Any] = {
            "organisation_id": site.organisation_id,
            "actor": "test",
        }
        initiative = records.launch_initiative(
            **common,
            name="Signposting",
            level=InvolvementLevel.OPERATIONAL,
            involvement_kind=InvolvementKind.INFLUENCE,
            methods=(InvolvementMethod.SURVEY,),
            purpose=f"Review {ADDRESS}",
            limits_of_influence=f"Only {ADDRESS}",
            started_on=date(2025, 1, 1),
        )
        person = records.register_participant(
            **common, pseudonym="Reader", participant_kind=ParticipantKind.CARER
        )
        contribution = records.log_contribution(
            **common,
            initiative_id=initiative,
            contributor_ids=[person],
            nature=ContributionNature.IDEA,
            summary=f"Link to {ADDRESS}",
            impact_areas=(ImpactArea.DELIVERY,),
            made_on=date(2025, 2, 1),
        )
        change = records.record_change(
            **common,
            initiative_id=initiative,
            description=f"Linked {ADDRESS}",
            impact_area=ImpactArea.DELIVERY,
            scope=ChangeScope.ACTIVITY,
            beyond_kind=None,
            evidence=ADDRESS,
            changed_on=date(2025, 3, 1),
            contribution_ids=[],
        )
    finally:
        records.close()
    return [
        f"/initiatives/{initiative}",
        "/to-do",
        f"/contributions/{contribution}",
        f"/changes/{change}",
        f"/history/{contribution}",
        f"/answers/initiatives/{initiative}",
    ]


def test_a_web_address_in_a_records_texts_wraps_at_320_px(site, page) -> None:
    """The initiative's page (its purpose and its "you said, we did" chain) and the
    to-do page ran 700 px to 69,000 px wide at 320 px when a text held one long
    word, such as a web address: headings, paragraphs and list items did not break
    it (WCAG 1.4.10). Last in this module: its contribution waits on the to-do
    page."""
    paths = records_with_an_address(site)
    for path in paths:
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{site.base}{path}")
        shown(page.locator("h1"))
        assert_fits(page, 320, f"{path} at 320 px")
        assert_fits(page, 640, f"{path} at 200% zoom")
    assert_accessible(page, paths[-1])
