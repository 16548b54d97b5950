"""The web app in a real browser: an admin invites a manager, who chooses a password, signs in, reads an initiative's "you said, we did" and signs out; a disabled account is refused at its next request; sign-in locks after 5 failures; a used or expired invitation is refused; and axe-core finds no WCAG 2.x A or AA violation on any page in any state drawn."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from fourpi.accounts import Accounts, digest
from fourpi.bootstrap import open_records
from fourpi.demo import create_demo
from fourpi.domain.access import Role
from fourpi.web.todo import EARNINGS_NOT_GRANTED
from tests.browser import (
    arrived,
    ask_during_a_report,
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
)
from tests.web import PASSWORD, person

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Site:
    base: str
    database_url: str
    organisation_id: UUID
    browser: Any

    def accounts(self) -> Iterator[Accounts]:
        records = open_records(self.database_url)
        try:
            yield Accounts(records)
        finally:
            records.close()

    def person(self, email: str, role: Role, personal_data: bool = False) -> UUID:
        for accounts in self.accounts():
            return person(
                accounts, self.organisation_id, email, role, personal_data=personal_data
            )
        raise AssertionError

    def invitation(self, email: str, role: Role = Role.MANAGER) -> str:
        for accounts in self.accounts():
            _, secret = accounts.invite(
                organisation_id=self.organisation_id,
                email=email,
                role=role,
                actor="test",
            )
            return f"{self.base}/invitations/{secret}"
        raise AssertionError

    def page(self) -> Any:
        """A page in a browser context of its own (its own cookies)."""
        return self.browser.new_context().new_page()


def demo_site(tmp_path_factory: Any, browser: Any, name: str) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp(name)}/web.sqlite3"
    records = open_records(url)
    summary = create_demo(records)
    records.close()
    with served(url) as base:
        site = Site(base, url, summary.organisation_id, browser)
        site.person("admin@mind.example", Role.ADMIN, personal_data=True)
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    needs_browser()
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def site(tmp_path_factory, browser) -> Iterator[Site]:
    yield from demo_site(tmp_path_factory, browser, "site")


def test_an_admin_invites_a_manager_who_joins_reads_you_said_we_did_and_signs_out(
    site,
) -> None:
    admin = site.page()
    sign_in(admin, site.base, "admin@mind.example", PASSWORD)
    assert admin.get_by_role("heading", level=1).inner_text() == (
        "Your organisation's people"
    )
    assert_accessible(admin, "admin's home page")
    admin.get_by_role("link", name="People and accounts").first.click()
    heading_is(admin, "People and accounts")
    assert_accessible(admin, "people and accounts")
    assert_focus_visible(admin, "people and accounts")
    assert_fits(admin, 320, "people and accounts at 320 px")
    admin.set_viewport_size({"width": 1280, "height": 800})
    admin.get_by_role("button", name="Invite", exact=True).click()
    shown(admin.get_by_text("There is a problem"))
    assert_errors_announced(admin, "people and accounts, with an error")
    assert_accessible(admin, "people and accounts, with an error")
    admin.get_by_label("Email address").fill("new.manager@mind.example")
    admin.get_by_label("Project manager").check()
    admin.get_by_label("Grant personal data").check()
    admin.get_by_role("button", name="Invite", exact=True).click()
    shown(admin.locator(".link-box code"))
    assert_accessible(admin, "invitation ready")
    link = admin.locator(".link-box code").inner_text().strip()
    assert link.startswith(f"{site.base}/invitations/")

    manager = site.page()
    manager.goto(link)
    assert manager.get_by_role("heading", level=1).inner_text() == "Create your account"
    assert_accessible(manager, "invitation")
    manager.get_by_label("Your name").fill("Nadia")
    manager.get_by_label("Choose a password").fill(PASSWORD)
    manager.get_by_label("Type the password again").fill(PASSWORD + " typo")
    manager.get_by_role("button", name="Create account and sign in").click()
    shown(manager.get_by_text("must be the same as the password").first)
    assert_errors_announced(manager, "invitation, with an error")
    assert manager.get_by_label("Your name").input_value() == "Nadia"
    assert_accessible(manager, "invitation, with an error")
    manager.get_by_label("Choose a password").fill(PASSWORD)
    manager.get_by_label("Type the password again").fill(PASSWORD)
    manager.get_by_role("button", name="Create account and sign in").click()
    heading_is(manager, "Your initiatives")
    shown(manager.get_by_text("Signed in as Nadia"))
    assert_accessible(manager, "manager's home page")

    manager.get_by_role("link", name="Diversifying who we involve").first.click()
    shown(manager.get_by_role("heading", name="You said, we did"))
    shown(manager.get_by_text("What we decided").first)
    shown(manager.get_by_text("Advisor 1").first)  # granted personal data
    assert_accessible(manager, "initiative page, manager")
    assert_fits(manager, 320, "initiative page at 320 px")
    assert_fits(manager, 1280 // 4, "initiative page at 400% zoom")
    manager.set_viewport_size({"width": 1280, "height": 800})

    manager.get_by_role("button", name="Sign out").click()
    heading_is(manager, "Sign in")
    manager.goto(f"{site.base}/")
    assert manager.url == f"{site.base}/sign-in"
    sign_in(manager, site.base, "new.manager@mind.example", PASSWORD)
    heading_is(manager, "Your initiatives")


def test_a_disabled_account_is_refused_at_its_next_request(site) -> None:
    site.person("leaving@mind.example", Role.EVALUATOR)
    leaving = site.page()
    sign_in(leaving, site.base, "leaving@mind.example", PASSWORD)
    shown(leaving.get_by_role("heading", level=1))
    admin = site.page()
    sign_in(admin, site.base, "admin@mind.example", PASSWORD)
    admin.goto(f"{site.base}/accounts")
    admin.get_by_role("button", name="Disable leaving@mind.example").click()
    row = admin.get_by_role("row").filter(has_text="leaving@mind.example")
    from playwright.sync_api import expect

    expect(row).to_contain_text("disabled")
    leaving.reload()
    assert leaving.url == f"{site.base}/sign-in"
    sign_in(leaving, site.base, "leaving@mind.example", PASSWORD)
    shown(leaving.get_by_text("Email or password is wrong").first)


def test_the_last_admin_demoting_themselves_is_refused_accessibly(site) -> None:
    """The organisation's only admin changing their own role: the accounts page
    again, its problem naming the account and the rule, linked to the role field,
    and nothing changed."""
    admin = site.page()
    sign_in(admin, site.base, "admin@mind.example", PASSWORD)
    admin.goto(f"{site.base}/accounts")
    own = admin.locator("form.row-form").filter(
        has=admin.get_by_label("Role of admin@mind.example")
    )
    own.get_by_label("Role of admin@mind.example").select_option("manager")
    own.get_by_role("button", name="Change role").click()
    shown(admin.get_by_text("There is a problem"))
    assert_errors_announced(admin, "people and accounts, the last admin refused")
    summary = admin.locator("a[href^='#role-']").first
    assert "Role of admin@mind.example" in summary.inner_text()
    assert "last admin" in summary.inner_text()
    assert_accessible(admin, "people and accounts, the last admin refused")
    assert_fits(admin, 320, "the last admin refused at 320 px")
    admin.set_viewport_size({"width": 1280, "height": 800})
    admin.goto(f"{site.base}/accounts")
    row = admin.get_by_role("row").filter(has_text="admin@mind.example").first
    role = row.get_by_role("cell").nth(2).inner_text()
    assert role.lower().startswith("admin"), role


def test_a_used_or_expired_invitation_is_refused(site) -> None:
    link = site.invitation("once@mind.example")
    page = site.page()
    page.goto(link)
    page.get_by_label("Your name").fill("Once")
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("Type the password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account and sign in").click()
    shown(page.get_by_role("heading", level=1))
    for state, url in [("used", link), ("expired", expired(site))]:
        response = site.page().goto(url)
        assert response.status == 410, state
        gone = response.frame.page
        assert "ask your organisation's admin" in gone.content().lower(), state
        assert_accessible(gone, f"{state} invitation")


def expired(site: Site) -> str:
    link = site.invitation("late@mind.example")
    for accounts in site.accounts():
        accounts.tables.run(
            "UPDATE {invitations} SET expires_at = ? WHERE secret_hash = ?",
            "2000-01-01T00:00:00+00:00",
            digest(link.rsplit("/", 1)[1]),
        )
    return link


def test_every_other_page_and_state_has_no_wcag_a_or_aa_violation(site) -> None:
    page = site.page()
    page.goto(f"{site.base}/sign-in")
    assert_accessible(page, "sign-in")
    assert_fits(page, 320, "sign-in at 320 px")
    page.set_viewport_size({"width": 1280, "height": 800})
    sign_in(page, site.base, "nobody@mind.example", "wrong password")
    shown(page.get_by_text("Email or password is wrong").first)
    assert_errors_announced(page, "sign-in, failed")
    assert page.get_by_label("Email address").input_value() == "nobody@mind.example"
    assert_focus_visible(page, "sign-in, failed")
    assert_accessible(page, "sign-in, failed")
    for email, role in [
        ("evaluator@mind.example", Role.EVALUATOR),
        ("auditor@mind.example", Role.AUDITOR),
    ]:
        site.person(email, role, personal_data=role is Role.AUDITOR)
        page = site.page()
        sign_in(page, site.base, email, PASSWORD)
        assert_accessible(page, f"{role} home page")
        page.get_by_role("link", name="Initiatives").click()
        arrived(page, "/organisation")
        assert_accessible(page, f"initiatives, {role}")
        page.locator("main a[href^='/initiatives/']").last.click()
        shown(page.get_by_role("heading", name="You said, we did"))
        assert_accessible(page, f"initiative page, {role}")
    # A report asked for while one's own earlier report is still being made.
    ask_during_a_report(page, site.base)
    shown(
        page.get_by_role(
            "heading", name="Your earlier request is still being worked on"
        )
    )
    assert_accessible(page, "a report asked for while one's own is being made")
    assert_fits(page, 320, "a report asked for during another at 320 px")
    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.goto(f"{site.base}/accounts").status == 403
    assert_accessible(page, "refused")
    assert page.goto(f"{site.base}/initiatives/not-one").status == 404
    assert_accessible(page, "not found")
    assert_fits(page, 320, "not found at 320 px")
    # A post larger than its page takes: the page saying so, not GraphQL's JSON.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{site.base}/sign-in")
    with page.expect_navigation():
        page.evaluate(
            """() => { const form = document.querySelector('form[method="post"]');
            const field = document.createElement('textarea');
            field.name = 'padding'; field.value = 'x'.repeat(400000);
            form.appendChild(field); form.submit(); }"""
        )
    shown(page.get_by_role("heading", name="What you sent is too large"))
    assert_accessible(page, "too large")
    assert_fits(page, 320, "too large at 320 px")


def test_five_failed_sign_ins_lock_sign_in_for_15_minutes(
    tmp_path_factory, browser
) -> None:
    # A site of its own: the lockout is per address too, and every test comes from
    # 127.0.0.1.
    for site in demo_site(tmp_path_factory, browser, "lockout"):
        site.person("pm@mind.example", Role.MANAGER)
        page = site.page()
        for _ in range(4):
            sign_in(page, site.base, "pm@mind.example", "not my password")
            shown(page.get_by_text("Email or password is wrong").first)
        with page.expect_response(lambda r: r.request.method == "POST") as answered:
            sign_in(page, site.base, "pm@mind.example", "not my password")
        # Too many requests, and when to come back, as a browser or script reads it.
        assert answered.value.status == 429
        assert 14 * 60 < int(answered.value.headers["retry-after"]) <= 15 * 60
        shown(page.get_by_text("Sign-in is locked").first)
        shown(page.get_by_text("try again in 15 minutes").first)
        assert_errors_announced(page, "sign-in, locked")
        assert_accessible(page, "sign-in, locked")
        assert_fits(page, 320, "sign-in, locked, at 320 px")
        sign_in(page, site.base, "pm@mind.example", PASSWORD)
        shown(page.get_by_text("try again in 15 minutes").first)
        assert page.url == f"{site.base}/sign-in"


def focused(page: Any) -> dict[str, str]:
    return dict(
        page.evaluate(
            "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
            " return {text: e.innerText || e.id, background: s.backgroundColor,"
            " outline: s.outlineStyle + ' ' + s.outlineColor}; })()"
        )
    )


def test_signing_in_works_by_keyboard_alone_with_visible_focus(site) -> None:
    site.person("keys@mind.example", Role.MANAGER)
    page = site.page()
    page.goto(f"{site.base}/sign-in")
    page.keyboard.press("Tab")
    skip = focused(page)
    assert skip["text"] == "Skip to main content"
    assert skip["background"] == "rgb(255, 221, 0)"  # the focus colour
    page.keyboard.press("Enter")
    # The key's press returns once it is sent; the jump to #main follows it (on a
    # loaded machine, after the check would look): wait for it, up to 5 s.
    page.wait_for_url("**/sign-in#main", timeout=5000)
    page.keyboard.press("Tab")
    field = focused(page)
    assert field["text"] == "email" and "rgb(255, 221, 0)" in field["outline"]
    page.keyboard.type("keys@mind.example")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.base}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your initiatives"


def test_an_admin_without_the_grant_is_told_who_only_a_granted_admin_can_invite_again(
    site,
) -> None:
    site.person("plain.admin@mind.example", Role.ADMIN)
    page = site.page()
    sign_in(page, site.base, "plain.admin@mind.example", PASSWORD)
    page.goto(f"{site.base}/accounts")
    shown(
        page.get_by_text(
            "Only an admin granted personal data can invite admin@mind.example again."
        )
    )
    assert (
        page.get_by_role("button", name="Invite again admin@mind.example").count() == 0
    )
    assert_accessible(page, "people and accounts, to an admin without the grant")
    assert_fits(page, 320, "people and accounts, to an admin without the grant")


def test_a_manager_without_the_grant_is_told_why_no_earnings_limit_is_listed(
    site,
) -> None:
    site.person("plain.manager@mind.example", Role.MANAGER)
    page = site.page()
    sign_in(page, site.base, "plain.manager@mind.example", PASSWORD)
    page.goto(f"{site.base}/to-do")
    shown(page.get_by_text(EARNINGS_NOT_GRANTED))
    assert_accessible(page, "the to-do page, to a manager without the grant")
    assert_fits(page, 320, "the to-do page at 320 px, without the grant")
