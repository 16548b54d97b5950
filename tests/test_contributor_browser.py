"""A contributor's own page in a real browser at a phone's width (375 px): a manager makes a personal link; the person opens it, reads what became of what they said and answers the questionnaire, which the evaluator's answers then count; revoking the link and erasing the person end access; axe-core finds no WCAG 2.x A or AA violation in any state drawn, and nothing scrolls sideways."""

import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from fourpi.bootstrap import open_records, open_views
from fourpi.domain.access import Role
from fourpi.listing import participants_of
from fourpi.projections.answers import Slice
from tests.browser import (
    assert_accessible,
    assert_errors_announced,
    assert_fits,
    assert_focus_visible,
    shown,
    sign_in,
)
from tests.test_web_browser import Site, browser, demo_site  # noqa: F401
from tests.web import PASSWORD

pytestmark = pytest.mark.slow
PHONE = {"width": 375, "height": 800}


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser) -> Iterator[Site]:  # noqa: F811
    yield from demo_site(tmp_path_factory, browser, "contributor")


def a_contributor(site: Site) -> tuple[UUID, int]:
    """A service user of the demo who said something; the organisation's count of
    process-experience answers."""
    records = open_records(site.database_url)
    views = open_views(site.database_url, records)
    try:
        views.catch_up()
        facts = views.cache.facts(site.organisation_id, views.position())
        said = {row["participant_id"] for row in facts["contributors"]}
        chosen = next(
            line.participant_id
            for line in participants_of(views, site.organisation_id)
            if line.participant_kind == "service_user" and line.participant_id in said
        )
        return chosen, answers_counted(views, site.organisation_id)
    finally:
        views.close()
        records.close()


def answers_counted(views: Any, organisation_id: UUID) -> int:
    """How many process-experience answers the evaluator's answers count."""
    answers: int = views.report(Slice(organisation_id)).process_experience.answers
    return answers


def phone(site: Site) -> Any:
    return site.browser.new_context(viewport=PHONE).new_page()


def fits_a_phone(page: Any, state: str) -> None:
    assert_accessible(page, state)
    assert_fits(page, PHONE["width"], f"{state} at 375 px")


def make_link(site: Site, participant_id: UUID) -> tuple[Any, str]:
    manager = phone(site)
    sign_in(manager, site.base, "manager@mind.example", PASSWORD)
    manager.goto(f"{site.base}/people/{participant_id}/personal-link")
    fits_a_phone(manager, "personal link page")
    manager.get_by_role("button", name="Make a personal link").click()
    link = manager.locator("#personal-link").inner_text().strip()
    assert link.startswith(f"{site.base}/my-page/")
    shown(manager.locator(".qr-code svg"))
    fits_a_phone(manager, "personal link made, with its QR code")
    return manager, link


def saved_where_they_are(page: Any, said: str) -> None:
    """After a form of the long page is saved, the browser lands on the notice
    saying so, under the form's heading: in sight on a phone, and focused, so a
    screen reader reads it (a notice at the page's top, out of sight, was missed)."""
    notice = page.locator(".notice")
    shown(notice)
    assert notice.inner_text() == said
    assert page.evaluate("document.activeElement.id") == "done"
    top, bottom = notice.evaluate(
        "e => [e.getBoundingClientRect().top, e.getBoundingClientRect().bottom]"
    )
    assert top > -1 and bottom <= PHONE["height"], (top, bottom)


def test_a_person_reads_what_became_of_what_they_said_and_answers_for_themselves(
    site,
) -> None:
    site.person("manager@mind.example", Role.MANAGER, personal_data=True)
    participant_id, answers_before = a_contributor(site)
    manager, link = make_link(site, participant_id)

    person = phone(site)
    person.goto(link)
    assert person.get_by_role("heading", level=1).inner_text() == "Your involvement"
    shown(person.get_by_text("What we decided").first)
    fits_a_phone(person, "contributor's page")
    assert_focus_visible(person, "contributor's page")
    assert_fits(person, 320, "contributor's page at 320 px")
    person.set_viewport_size(PHONE)
    # Others who said the same are counted only from the small-number threshold.
    assert not re.search(r"\b[1-4] other (person|people)", person.inner_text("main"))

    # With script off, at 320 px, the page is read and its forms are sent.
    no_script = site.browser.new_context(
        viewport={"width": 320, "height": 800}, java_script_enabled=False
    ).new_page()
    no_script.goto(link)
    assert no_script.get_by_role("heading", level=1).inner_text() == "Your involvement"
    no_script.get_by_role("button", name="Send my answers").click()
    shown(no_script.get_by_text("There is a problem"))
    no_script.context.close()

    person.get_by_role("button", name="Send my answers").click()
    shown(person.get_by_text("There is a problem"))
    assert_errors_announced(person, "contributor's page, questionnaire with an error")
    fits_a_phone(person, "contributor's page, questionnaire with an error")
    person.get_by_role("group", name="I felt listened to").get_by_label(
        "Strongly agree"
    ).check()
    person.get_by_role("group", name="I would take part again").get_by_label(
        "Agree", exact=True
    ).check()
    free_text = person.get_by_label("Anything else you want to tell us?")
    free_text.fill("Too long. " * 1001)
    person.get_by_role("button", name="Send my answers").click()
    shown(person.get_by_text("Anything else you want to tell us: must be at").first)
    assert_errors_announced(person, "contributor's page, free text too long")
    fits_a_phone(person, "contributor's page, free text too long")
    free_text.fill("The evening meetings suit me")
    person.get_by_role("button", name="Send my answers").click()
    saved_where_they_are(person, "Thank you. Your answers are saved.")
    fits_a_phone(person, "contributor's page, answers saved")

    person.get_by_label("By email").check()
    person.get_by_role("button", name="Save how to tell me").click()
    shown(person.get_by_text("must not be blank").first)
    assert_errors_announced(person, "contributor's page, email missing")
    # The summary, away from the field, names it.
    summary = person.locator(".error-summary a").inner_text()
    assert summary == "Your email address: must not be blank"
    fits_a_phone(person, "contributor's page, email missing")
    person.get_by_label("Your email address, if you chose email").fill(
        "me@people.example"
    )
    person.get_by_role("button", name="Save how to tell me").click()
    saved_where_they_are(person, "Thank you. We will tell you that way.")

    person.get_by_role("button", name="Ask to be erased").click()
    shown(person.get_by_text("Tick the box").first)
    person.get_by_label("I am sure I want my details erased").check()
    person.get_by_role("button", name="Ask to be erased").click()
    shown(person.get_by_text("You asked us to erase your details"))
    fits_a_phone(person, "contributor's page, erasure asked")

    # The evaluator's answers count the new answer.
    records = open_records(site.database_url)
    views = open_views(site.database_url, records)
    try:
        views.catch_up()
        assert answers_counted(views, site.organisation_id) == answers_before + 1
    finally:
        views.close()
        records.close()

    # The admin sees the request; the manager stops the link and it is gone.
    admin = phone(site)
    sign_in(admin, site.base, "admin@mind.example", PASSWORD)
    shown(admin.get_by_text(str(participant_id)))
    manager.goto(f"{site.base}/people/{participant_id}/personal-link")
    manager.get_by_role("button", name="Stop the link working").click()
    shown(manager.get_by_text("They have no link that works now"))
    assert person.goto(link).status == 410
    assert person.get_by_role("heading", level=1).inner_text() == (
        "This link has stopped working"
    )
    fits_a_phone(person, "link stopped")


def test_erasure_ends_access(site) -> None:
    site.person("manager2@mind.example", Role.MANAGER, personal_data=True)
    records = open_records(site.database_url)
    views = open_views(site.database_url, records)
    try:
        views.catch_up()
        lines = participants_of(views, site.organisation_id)
        chosen = next(
            line.participant_id
            for line in reversed(lines)
            if line.participant_kind == "carer" and not line.erased
        )
    finally:
        views.close()
        records.close()
    manager = phone(site)
    sign_in(manager, site.base, "manager2@mind.example", PASSWORD)
    manager.goto(f"{site.base}/people/{chosen}/personal-link")
    manager.get_by_role("button", name="Make a personal link").click()
    link = manager.locator("#personal-link").inner_text().strip()
    person = phone(site)
    assert person.goto(link).status == 200
    records = open_records(site.database_url)
    try:
        records.erase_participant(participant_id=chosen, actor="test")
    finally:
        records.close()
    assert person.goto(link).status == 410
    # The erased person's own record page says so and offers no form.
    manager.goto(f"{site.base}/people/{chosen}")
    shown(manager.get_by_text("Yes: nothing new is recorded about them"))
    assert manager.get_by_role("link", name="Give someone a role").count() == 0
    fits_a_phone(manager, "an erased person's record page")
    # Their link page, a new link asked for (as from a tab left open): refused in
    # words naming no record's id, drawn with its error.
    manager.goto(f"{site.base}/people/{chosen}/personal-link")
    manager.get_by_role("button", name="Make a personal link").click()
    shown(manager.get_by_text("this person's details have been erased").first)
    assert str(chosen) not in manager.inner_text("main")
    assert_errors_announced(manager, "personal link refused for an erased person")
    fits_a_phone(manager, "personal link refused for an erased person")


def test_a_manager_without_the_grant_is_told_who_can_make_a_link(site) -> None:
    site.person("plain@mind.example", Role.MANAGER)
    participant_id, _ = a_contributor(site)
    manager = phone(site)
    sign_in(manager, site.base, "plain@mind.example", PASSWORD)
    page = f"{site.base}/people/{participant_id}/personal-link"
    manager.goto(page)
    shown(manager.get_by_text("Only an account granted personal data can make"))
    assert manager.get_by_role("button", name="Make a personal link").count() == 0
    fits_a_phone(manager, "personal link page, not granted")
    # A post made by hand, as a browser would send the old form: refused, drawn.
    with manager.expect_navigation():
        manager.evaluate(
            """(action) => {
                const form = document.createElement("form");
                form.method = "post";
                form.action = action;
                form.append(document.querySelector("input[name=csrf_token]").cloneNode());
                document.body.append(form);
                form.submit();
            }""",
            page,
        )
    shown(manager.get_by_text("There is a problem"))
    shown(manager.get_by_text("Only an account granted personal data may make").first)
    assert manager.locator("#personal-link").count() == 0
    fits_a_phone(manager, "personal link page, not granted, post refused")
