"""The web app over HTTP: signed out every page but sign-in and invitations sends you to sign in; a changing form without its CSRF token is refused and records nothing; a person of one organisation reads nothing of another's, on every page; the security headers and cookie flags."""

import asyncio
import html
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourpi.accounts import Accounts, digest
from fourpi.bootstrap import open_records, open_views
from fourpi.config import ApiLimits
from fourpi.demo import create_demo
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import (
    EarningsPeriod,
    ParticipantKind,
    PaymentKind,
    PaymentPreference,
)
from fourpi.graphql.app import create_app
from fourpi.graphql.context import Caller
from fourpi.web import reading
from fourpi.web.app import PAGES, PUBLIC_PATHS, create_web_app
from tests.api import ApiStore
from tests.helpers import ACTOR, log_position, python_calls, register
from tests.test_accounts import SavesAtOnce
from tests.test_invariants import launch
from tests.web import (
    PASSWORD,
    Organisation,
    TestClient,
    csrf_token,
    organisation_with_a_chain,
    person,
    sign_in,
)


@dataclass
class World:
    records: Any
    views: Any
    accounts: Accounts
    mind: Organisation
    other: Organisation
    people: dict[str, UUID]
    """Account ids by email."""

    def client(self, base_url: str = "http://testserver") -> TestClient:
        # Nothing runs the projections here, so a page never waits for them.
        limits = ApiLimits(read_wait_seconds=0)
        app = create_app(
            self.records, self.views, limits=limits, run_projections=False, web=True
        )
        return TestClient(app, base_url=base_url)

    def caught_up(self) -> None:
        self.views.catch_up()


def emails(organisation: Organisation) -> dict[str, tuple[Role, bool]]:
    short = organisation.name.split()[0].lower()
    return {
        f"admin@{short}.example": (Role.ADMIN, True),
        f"manager@{short}.example": (Role.MANAGER, True),
        f"plain-manager@{short}.example": (Role.MANAGER, False),
        f"evaluator@{short}.example": (Role.EVALUATOR, False),
        f"auditor@{short}.example": (Role.AUDITOR, True),
    }


@pytest.fixture
def world(tmp_path) -> Iterator[World]:
    with two_organisations(f"sqlite:///{tmp_path}/web.sqlite3") as made:
        yield made


@contextmanager
def two_organisations(url: str) -> Iterator[World]:
    """Mind and Elsewhere, each with a chain and an account of every role (see
    emails), in the store at `url`."""
    records = open_records(url)
    views = open_views(url, records)
    accounts = Accounts(records)
    mind = organisation_with_a_chain(records, "Mind")
    other = organisation_with_a_chain(records, "Elsewhere")
    people = {}
    for organisation in (mind, other):
        for email, (role, grant) in emails(organisation).items():
            people[email] = person(
                accounts, organisation.organisation_id, email, role, personal_data=grant
            )
    views.catch_up()
    try:
        yield World(records, views, accounts, mind, other, people)
    finally:
        views.close()
        records.close()


def test_signed_out_every_page_but_sign_in_and_invitations_sends_you_to_sign_in(
    world,
) -> None:
    client = world.client()
    samples = sample_values(world)
    for page in PAGES:
        path = concrete(page.path, samples)
        for method in page.methods:
            response = client.request(method, path, follow_redirects=False)
            assert response.status_code == 303, (method, path)
            assert response.headers["location"] == "/sign-in"
    assert client.get("/no/such/page", follow_redirects=False).status_code == 303
    assert client.get("/sign-in").status_code == 200
    _, secret = world.accounts.invite(
        organisation_id=world.mind.organisation_id,
        email="new@mind.example",
        role=Role.MANAGER,
        actor="test",
    )
    assert client.get(f"/invitations/{secret}").status_code == 200


def test_a_path_known_by_another_method_answers_405_naming_the_methods(
    world,
) -> None:
    """A POST to a page that is only read, or a GET of an address that only takes
    a form, answered 'Page not found' (or, signed out, sent you to sign in), as if
    the address were wrong; and a PUT to /healthz named POST among its methods."""
    samples = sample_values(world)
    by_path: dict[str, set[str]] = {}
    for page in PAGES:
        by_path.setdefault(concrete(page.path, samples), set()).update(page.methods)
    for signed_in_as in (None, "manager@mind.example"):
        client = world.client()
        if signed_in_as:
            sign_in(client, signed_in_as)
        for path, methods in by_path.items():
            allowed = methods | ({"HEAD"} if "GET" in methods else set())
            for method in {"GET", "POST"} - methods:
                response = client.request(method, path, follow_redirects=False)
                assert response.status_code == 405, (signed_in_as, method, path)
                assert response.headers["allow"] == ", ".join(sorted(allowed))
                assert "<h1>" in response.text, (method, path, response.text)
        for method, path, allow in (
            ("GET", "/sign-out", "POST"),
            ("POST", "/healthz", "GET, HEAD"),
            ("PUT", "/healthz", "GET, HEAD"),
        ):
            response = client.request(method, path, follow_redirects=False)
            assert response.status_code == 405, (signed_in_as, method, path)
            assert response.headers["allow"] == allow
        unknown = client.post("/no/such/page", follow_redirects=False)
        assert unknown.status_code == (404 if signed_in_as else 303)


def test_a_used_or_unknown_invitation_answers_410(world) -> None:
    client = world.client()
    _, secret = world.accounts.invite(
        organisation_id=world.mind.organisation_id,
        email="new@mind.example",
        role=Role.MANAGER,
        actor="test",
    )
    world.accounts.join(
        secret=secret, display_name="New", password=PASSWORD, confirmation=PASSWORD
    )
    for link in (f"/invitations/{secret}", "/invitations/" + "x" * 43):
        response = client.get(link)
        assert response.status_code == 410
        assert "Ask your organisation's admin to invite you again" in response.text


# CSRF


def secret_state(world: World) -> tuple:
    """Everything a refused post must leave as it was: the log and every secret (a
    session's last-seen time aside: any request moves it)."""
    tables = world.accounts.tables
    return (
        log_position(world.records),
        *(
            sorted(
                tuple(row) for row in tables.rows(f"SELECT {columns} FROM {{{name}}}")
            )
            for name, columns in (
                ("passwords", "*"),
                ("invitations", "*"),
                ("sessions", "id_hash, account_id, started_at, csrf_token"),
                ("sign_in_failures", "*"),
            )
        ),
    )


def posts(world: World, signed_in_as_admin: bool) -> list[tuple[str, dict]]:
    manager = world.people["manager@mind.example"]
    if not signed_in_as_admin:
        _, secret = world.accounts.invite(
            organisation_id=world.mind.organisation_id,
            email="new@mind.example",
            role=Role.MANAGER,
            actor="test",
        )
        joining = {"display_name": "N", "password": PASSWORD, "confirmation": PASSWORD}
        return [
            ("/sign-in", {"email": "manager@mind.example", "password": PASSWORD}),
            (f"/invitations/{secret}", joining),
        ]
    return [
        ("/accounts", {"email": "someone@mind.example", "role": "manager"}),
        (f"/accounts/{manager}/disable", {}),
        (f"/accounts/{manager}/invite-again", {}),
        (f"/accounts/{manager}/role", {"role": "auditor", "personal_data": "yes"}),
        ("/sign-out", {}),
    ]


@pytest.mark.parametrize("signed_in_as_admin", [False, True])
def test_a_post_without_a_valid_csrf_token_is_refused_and_records_nothing(
    world, signed_in_as_admin
) -> None:
    client = world.client()
    if signed_in_as_admin:
        sign_in(client, "admin@mind.example")
    stranger = world.client()
    sign_in(stranger, "admin@elsewhere.example")
    wrong_tokens = [None, "", "not-the-token", csrf_token(stranger, "/accounts")]
    for path, data in posts(world, signed_in_as_admin):
        for token in wrong_tokens:
            before = secret_state(world)
            sent = dict(data) if token is None else {**data, "csrf_token": token}
            response = client.post(path, data=sent, follow_redirects=False)
            assert response.status_code == 403, (path, token, response.status_code)
            assert "fourpi_session" not in response.headers.get("set-cookie", "")
            assert secret_state(world) == before, (path, token)
    if signed_in_as_admin:
        assert client.get("/accounts").status_code == 200  # still signed in


# A form's post: who sent it, the checks and the write in one worker thread

FORM = "/record/registerParticipant"


def form_post(token: str | None, pseudonym: str = "Posted person") -> dict[str, str]:
    """The register-a-person form as a browser posts it, with `token` as its CSRF
    token (None: without one)."""
    sent = {
        "idempotency_key": pseudonym,
        "pseudonym": pseudonym,
        "participant_kind": "carer",
    }
    return sent if token is None else {**sent, "csrf_token": token}


def test_a_form_post_without_this_sessions_token_or_role_is_refused_and_records_nothing(
    world,
) -> None:
    """A form that needs no records read is checked and written in one worker
    thread (fourpi.web.app.write_checked): refused as every other page's post is,
    and its bad input shown on the form again, which still carries the session's
    token."""
    manager = world.client()
    sign_in(manager, "manager@mind.example")
    token = csrf_token(manager, "/")
    stranger = world.client()
    sign_in(stranger, "manager@elsewhere.example")
    signed_out_forms = manager.cookies["fourpi_form"]
    for wrong in (
        None,
        "",
        "not-the-token",
        csrf_token(stranger, "/"),
        signed_out_forms,
    ):
        before = secret_state(world)
        response = manager.post(FORM, data=form_post(wrong), follow_redirects=False)
        assert response.status_code == 403, (wrong, response.status_code)
        assert secret_state(world) == before, wrong
    for email in (
        "evaluator@mind.example",
        "auditor@mind.example",
        "admin@mind.example",
    ):
        other = world.client()
        sign_in(other, email)
        before = secret_state(world)
        sent = form_post(csrf_token(other, "/"))
        response = other.post(FORM, data=sent, follow_redirects=False)
        assert response.status_code == 403, email
        assert secret_state(world) == before, email
    before = secret_state(world)
    unknown = manager.post("/record/noSuchForm", data=form_post(token))
    assert unknown.status_code == 404
    unreadable = manager.post(FORM, data={**form_post(token), "participant_kind": "?"})
    blank = manager.post(FORM, data=form_post(token, pseudonym=""))
    for shown, field in ((unreadable, "participant-kind"), (blank, "pseudonym")):
        assert shown.status_code == 400, shown.text
        assert f'id="{field}-error"' in shown.text
        assert csrf_token_of(shown.text) == token
    assert secret_state(world) == before
    accepted = manager.post(FORM, data=form_post(token), follow_redirects=False)
    assert accepted.status_code == 303, accepted.text
    assert accepted.headers["location"].startswith("/people/")
    assert log_position(world.records) > before[0]


def csrf_token_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def test_a_form_post_from_a_session_that_ended_a_moment_ago_records_nothing(
    world,
) -> None:
    """Who sent a post is asked of the store in the post's own worker thread: a
    session signed out, idle too long, whose account was given a role that records
    nothing, or disabled, a moment before writes nothing."""
    manager_id = world.people["manager@mind.example"]
    accounts = world.accounts
    signed_in: list[tuple[TestClient, str]] = []
    for number in range(4):
        client = world.client()
        sign_in(client, "manager@mind.example")
        token = csrf_token(client, "/")
        sent = form_post(token, f"Person {number}")
        accepted = client.post(FORM, data=sent, follow_redirects=False)
        assert accepted.status_code == 303, accepted.text
        assert accepted.headers["location"].startswith("/people/")
        signed_in.append((client, token))

    def session_of(client: TestClient) -> str:
        return str(client.cookies["fourpi_session"])

    def idle(client: TestClient) -> None:
        accounts.tables.run(
            "UPDATE {sessions} SET seen_at = '2000-01-01T00:00:00+00:00' "
            "WHERE id_hash = ?",
            digest(session_of(client)),
        )

    def made_auditor(_: TestClient) -> None:
        accounts.change_role(
            organisation_id=world.mind.organisation_id,
            account_id=manager_id,
            role=Role.AUDITOR,
            personal_data=True,
            actor="test",
        )

    def disabled(_: TestClient) -> None:
        accounts.disable(
            organisation_id=world.mind.organisation_id,
            account_id=manager_id,
            actor="test",
        )

    endings = [
        (lambda client: accounts.end_session(session_of(client)), 303),
        (idle, 303),
        (made_auditor, 403),
        (disabled, 303),
    ]
    for (client, token), (ending, status) in zip(signed_in, endings, strict=True):
        ending(client)
        before = log_position(world.records)
        response = client.post(FORM, data=form_post(token), follow_redirects=False)
        assert response.status_code == status, (ending, response.status_code)
        if status == 303:
            assert response.headers["location"] == "/sign-in"
        assert log_position(world.records) == before, ending


# One organisation reads nothing of another's


def sample_values(world: World) -> dict[str, str]:
    """A value of the other organisation for every path parameter a page has: a new
    kind of parameter needs an entry here."""
    facts = world.views.cache.facts(world.mind.organisation_id, world.views.position())
    contribution_id = str(facts["contributions"][0]["contribution_id"])
    return {
        "initiative_id": str(world.mind.initiative_id),
        "account_id": str(world.people["manager@mind.example"]),
        "participant_id": str(facts["participants"][0]["participant_id"]),
        "contribution_id": contribution_id,
        "record_id": contribution_id,
        "meeting_id": contribution_id,
        "change_id": contribution_id,
        "payment_id": contribution_id,
        "use_case": "logContribution",
        "key": "meetings",  # an answer table's, in /answers/.../tables/{key}.csv
    }


def concrete(path: str, samples: dict[str, str]) -> str:
    for name in re.findall(r"{(\w+)", path):
        assert name in samples, f"add a sample of another organisation for {name!r}"
        path = re.sub(r"{" + name + r"(:\w+)?}", samples[name], path)
    return path


def test_every_route_is_a_page_behind_sign_in_or_known_to_be_public(world) -> None:
    web = create_web_app(world.records, world.views)
    paths = {page.path for page in PAGES}
    for route in web.app.routes:  # type: ignore[attr-defined]
        assert route.path in paths | PUBLIC_PATHS, (
            f"{route.path}: list it in fourpi.web.app.PAGES (so the isolation test "
            "opens it) or, if it needs no sign-in, in PUBLIC_PATHS"
        )


def test_a_person_of_one_organisation_reads_nothing_of_another_on_any_page(
    world,
) -> None:
    samples = sample_values(world)
    mind_accounts = {
        a.id: (a.role, a.personal_data, a.disabled)
        for a in world.accounts.accounts_of(world.mind.organisation_id)
    }
    for email, (role, _) in emails(world.other).items():
        client = world.client()
        sign_in(client, email)
        for page in PAGES:
            if role not in page.roles:
                continue
            path = concrete(page.path, samples)
            for method in page.methods:
                data = {"csrf_token": csrf_token(client, "/")}
                if path == "/accounts" and method == "POST":
                    data.update(
                        email=f"x{len(email)}@elsewhere.example", role="auditor"
                    )
                if path.endswith("/role"):
                    data.update(role="auditor")
                response = client.request(method, path, data=data)
                for secret in world.mind.secrets:
                    assert secret not in response.text, (email, method, path, secret)
                assert "manager@mind.example" not in response.text
                # A post may record (the admin's invitation does): nothing runs the
                # projections here, and an answer page would wait for them to reach
                # the log before answering from where they are.
                world.caught_up()
        assert {
            a.id: (a.role, a.personal_data, a.disabled)
            for a in world.accounts.accounts_of(world.mind.organisation_id)
        } == mind_accounts


def test_the_same_pages_show_the_organisations_own_records(world) -> None:
    client = world.client()
    sign_in(client, "manager@mind.example")
    page = client.get(f"/initiatives/{world.mind.initiative_id}").text
    for secret in world.mind.secrets:
        assert secret in page
    assert "Mind agreed" in page


# What each role sees


def test_only_callers_granted_personal_data_see_pseudonyms_and_small_counts(
    world,
) -> None:
    path = f"/initiatives/{world.mind.initiative_id}"
    seen = {}
    for email in (
        "manager@mind.example",
        "plain-manager@mind.example",
        "evaluator@mind.example",
        "auditor@mind.example",
    ):
        client = world.client()
        sign_in(client, email)
        seen[email] = client.get(path).text
    for granted in ("manager@mind.example", "auditor@mind.example"):
        assert "Mind advisor" in seen[granted]
        assert "Service users and carers involved: 1." in seen[granted]
    for withheld in ("plain-manager@mind.example", "evaluator@mind.example"):
        assert "Mind advisor" not in seen[withheld]
        assert "Service users and carers involved: 1." not in seen[withheld]
        assert "not shown, to protect small numbers" in seen[withheld]
        assert "Mind said: meet in the evening" in seen[withheld]


def test_who_is_near_their_earnings_limit_is_listed_only_to_a_granted_manager(
    world,
) -> None:
    """The earnings limit a person chose is personal data: the API refuses
    paymentsAndBenefits to a caller without the grant, so the to-do page does not
    list them either (nor say that nobody is near one)."""
    mind = world.mind.organisation_id
    near = world.records.register_participant(
        organisation_id=mind,
        pseudonym="Limit keeper",
        participant_kind=ParticipantKind.SERVICE_USER,
        actor=ACTOR,
    )
    world.records.set_payment_preference(
        organisation_id=mind,
        participant_id=near,
        payment_preference=PaymentPreference.FEES,
        earnings_limit=Decimal("100"),
        earnings_period=EarningsPeriod.MONTH,
        actor=ACTOR,
    )
    world.records.record_payment_owed(
        organisation_id=mind,
        participant_id=near,
        payment_kind=PaymentKind.FEE,
        amount=Decimal("150"),
        owed_on=datetime.now(UTC).date(),
        initiative_id=world.mind.initiative_id,
        actor=ACTOR,
    )
    world.caught_up()
    seen = {}
    for email in ("manager@mind.example", "plain-manager@mind.example"):
        client = world.client()
        sign_in(client, email)
        seen[email] = client.get("/to-do").text
    assert f'href="/people/{near}"' in seen["manager@mind.example"]
    assert "Limit keeper" in seen["manager@mind.example"]
    plain = seen["plain-manager@mind.example"]
    assert f'href="/people/{near}"' not in plain
    assert str(near)[:8] not in plain.split("Earnings limits")[1].split("<h2")[0]
    assert "Nobody is near their earnings limit." not in plain
    assert "only to an account granted personal data" in plain


def test_roles_reach_only_their_pages(world) -> None:
    expected = {
        "admin@mind.example": {"/": 200, "/organisation": 403, "/accounts": 200},
        "manager@mind.example": {"/": 200, "/organisation": 200, "/accounts": 403},
        "evaluator@mind.example": {"/": 200, "/organisation": 200, "/accounts": 403},
        "auditor@mind.example": {"/": 200, "/organisation": 200, "/accounts": 403},
    }
    for email, statuses in expected.items():
        client = world.client()
        sign_in(client, email)
        for path, status in statuses.items():
            assert client.get(path).status_code == status, (email, path)


# Headers and cookies


def test_pages_carry_the_security_headers(world) -> None:
    client = world.client()
    sign_in(client, "manager@mind.example")
    for path in ("/sign-in", "/", f"/initiatives/{world.mind.initiative_id}"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"
    stylesheet = client.get("/static/fourpi.css")
    assert stylesheet.status_code == 200
    assert "no-store" not in stylesheet.headers.get("cache-control", "")


def test_the_session_cookie_is_new_at_sign_in_http_only_lax_and_secure_over_https(
    world,
) -> None:
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        client = world.client(base)
        client.cookies.set("fourpi_session", "a-session-id-the-browser-had-before")
        response = client.post(
            "/sign-in",
            data={
                "csrf_token": csrf_token(client, "/sign-in"),
                "email": "manager@mind.example",
                "password": PASSWORD,
            },
            follow_redirects=False,
        )
        cookie = response.headers["set-cookie"]
        assert "fourpi_session=" in cookie
        assert "a-session-id-the-browser-had-before" not in cookie
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert ("Secure" in cookie) is secure


def test_sign_out_ends_the_session_at_once(world) -> None:
    client = world.client()
    sign_in(client, "manager@mind.example")
    session_id = client.cookies["fourpi_session"]
    client.post("/sign-out", data={"csrf_token": csrf_token(client, "/")})
    rows = world.accounts.tables.rows(
        "SELECT id_hash FROM {sessions} WHERE id_hash = ?", digest(session_id)
    )
    assert rows == []
    client.cookies.set("fourpi_session", session_id)
    assert client.get("/", follow_redirects=False).status_code == 303


# The same answer as the API, for the same role


def meeting_counts_on_the_page(page: str) -> dict[str, int | None]:
    """Each meeting's service users and carers as the initiative page shows them
    (None: suppressed)."""
    table = page[page.index('id="meetings"') : page.index('id="contributions"')]
    counts: dict[str, int | None] = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        title = html.unescape(cells[0].split("<br>")[0]).strip()
        shown = re.sub(r"<[^>]+>", "", cells[-1]).strip()
        counts[title] = int(shown) if shown.isdigit() else None
    return counts


@pytest.mark.parametrize(
    ("role", "personal_data"),
    [(Role.EVALUATOR, False), (Role.MANAGER, False), (Role.MANAGER, True)],
)
def test_a_page_shows_the_counts_the_api_shows_the_same_role(
    tmp_path, role, personal_data
) -> None:
    url = f"sqlite:///{tmp_path}/demo.sqlite3"
    records = open_records(url)
    views = open_views(url, records)
    try:
        summary = create_demo(records)
        organisation_id = summary.organisation_id
        initiative_id = summary.initiatives[0].initiative_id
        _, token = records.issue_token(
            organisation_id=organisation_id,
            role=role,
            actor="test",
            personal_data=personal_data,
        )
        person(
            Accounts(records),
            organisation_id,
            "someone@mind.example",
            role,
            personal_data=personal_data,
        )
        views.catch_up()
        client = TestClient(create_app(records, views, run_projections=False, web=True))
        query = (
            "query ($id: ID!) { presence(slice: {initiativeId: $id}) { meetings "
            "{ title serviceUsersAndCarers { value suppressed } } } }"
        )
        answer = client.post(
            "/graphql",
            json={"query": query, "variables": {"id": str(initiative_id)}},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        from_api = {
            m["title"]: m["serviceUsersAndCarers"]["value"]
            for m in answer["data"]["presence"]["meetings"]
        }
        sign_in(client, "someone@mind.example")
        page = client.get(f"/initiatives/{initiative_id}").text
        assert meeting_counts_on_the_page(page) == from_api
        suppressed = [title for title, value in from_api.items() if value is None]
        assert bool(suppressed) is not personal_data
    finally:
        views.close()
        records.close()


# Hostile input


form_values = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "manager", "evaluator", "admin", "yes", "\x00", "a@b.c"]),
    st.text(alphabet="@.%\\/<>'\"&;", max_size=40),
)


def test_no_form_input_makes_the_server_fail(database_url) -> None:
    """Whatever a form carries, with a valid CSRF token: an answer, never a 500."""
    url = database_url
    records = open_records(url)
    views = open_views(url, records)
    accounts = Accounts(records)
    mind = organisation_with_a_chain(records, "Mind")
    admin_email = "admin@mind.example"
    person(accounts, mind.organisation_id, admin_email, Role.ADMIN)
    manager = person(accounts, mind.organisation_id, "pm@mind.example", Role.MANAGER)
    views.catch_up()
    app = create_app(records, views, run_projections=False, web=True)
    admin = TestClient(app)
    sign_in(admin, admin_email)
    token = csrf_token(admin, "/accounts")
    stranger = TestClient(app)
    stranger_token = csrf_token(stranger, "/sign-in")

    @settings(max_examples=40, deadline=None)
    @given(
        route=st.sampled_from(
            [
                "/accounts",
                f"/accounts/{manager}/role",
                f"/accounts/{manager}/invite-again",
                "/accounts/not-an-id/disable",
                "/sign-in",
                "/invitations/" + "y" * 43,
            ]
        ),
        fields=st.dictionaries(
            st.sampled_from(
                ["email", "role", "personal_data", "password", "display_name"]
            ),
            form_values,
        ),
    )
    def posted(route: str, fields: dict[str, str]) -> None:
        client, csrf = (
            (stranger, stranger_token)
            if route.startswith(("/sign-in", "/invitations"))
            else (admin, token)
        )
        response = client.post(route, data={**fields, "csrf_token": csrf})
        assert response.status_code < 500, (route, fields, response.text[:500])

    try:
        posted()
    finally:
        views.close()
        records.close()


def test_a_refused_account_change_names_the_account_and_the_field(world) -> None:
    admin = world.client()
    sign_in(admin, "admin@mind.example")
    token = csrf_token(admin, "/accounts")
    manager = world.people["manager@mind.example"]
    evaluator = world.people["evaluator@mind.example"]
    for path, fields, named, field in [
        (
            f"/accounts/{manager}/role",
            {"role": "god"},
            "Role of manager@mind.example: must be one of",
            f"role-{manager}",
        ),
        (
            f"/accounts/{evaluator}/role",
            {"role": "evaluator", "personal_data": "yes"},
            "Personal data of evaluator@mind.example: evaluator tokens may not",
            f"personal-{evaluator}",
        ),
        (
            f"/accounts/{manager}/role",
            {"role": "manager", "personal_data": "yes"},
            "Role of manager@mind.example: is already manager",
            f"role-{manager}",
        ),
    ]:
        response = admin.post(path, data={**fields, "csrf_token": token})
        assert response.status_code == 400
        summary = html.unescape(response.text.split('class="error-summary__list"')[1])
        assert f'<a href="#{field}">{named}' in summary, summary[:300]
        assert f'id="{field}"' in response.text


def test_two_changes_to_one_account_at_once_are_both_saved(world) -> None:
    """Two admins changing one account's role at the same moment: the one saved
    second was refused (ConcurrencyConflict), first with a page naming the
    account's internal id, then with "someone else changed the same record at the
    same moment": the admin had to do it again. It is decided again on the account
    as the first left it, and saved: both admins are taken back to the accounts
    page, and the account has the role saved last."""
    web = create_web_app(world.records, world.views, read_wait_seconds=0)
    accounts = SavesAtOnce(world.records)
    web.app.state.accounts = accounts  # type: ignore[attr-defined]
    admins = [TestClient(web), TestClient(web)]
    for admin in admins:
        sign_in(admin, "admin@mind.example")
    evaluator = world.people["evaluator@mind.example"]
    before = world.accounts.account(evaluator).version
    accounts.barrier = threading.Barrier(2)

    def change(admin_and_role: tuple[TestClient, str]) -> Any:
        admin, role = admin_and_role
        token = csrf_token(admin, "/accounts")
        return admin.post(
            f"/accounts/{evaluator}/role",
            data={"role": role, "csrf_token": token},
            follow_redirects=False,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(change, zip(admins, ("manager", "auditor"), strict=True))
        )
    accounts.barrier = None
    assert [(a.status_code, a.headers["location"]) for a in answers] == [
        (303, "/accounts")
    ] * 2
    account = world.accounts.account(evaluator)
    assert account.version == before + 2
    *_, first, last = world.records.events.get(evaluator)
    assert {first.role, last.role} == {Role.MANAGER, Role.AUDITOR}
    assert account.role == last.role


def test_an_admin_not_granted_personal_data_cannot_grant_it_on_the_accounts_page(
    world,
) -> None:
    """As over the API (issueToken), a grant is passed on only by someone who holds
    it: an admin without it can neither invite an account with it nor add it to
    one; each refusal names the field, and nothing is recorded."""
    person(
        world.accounts,
        world.mind.organisation_id,
        "plain-admin@mind.example",
        Role.ADMIN,
    )
    admin = world.client()
    sign_in(admin, "plain-admin@mind.example")
    token = csrf_token(admin, "/accounts")
    plain_manager = world.people["plain-manager@mind.example"]
    before = log_position(world.records)
    invited = admin.post(
        "/accounts",
        data={
            "email": "new-manager@mind.example",
            "role": "manager",
            "personal_data": "yes",
            "csrf_token": token,
        },
    )
    assert invited.status_code == 400
    summary = html.unescape(invited.text.split('class="error-summary__list"')[1])
    assert (
        '<a href="#personal_data">only an admin granted personal data may grant it'
    ) in summary, summary[:300]
    granted = admin.post(
        f"/accounts/{plain_manager}/role",
        data={"role": "auditor", "personal_data": "yes", "csrf_token": token},
    )
    assert granted.status_code == 400
    summary = html.unescape(granted.text.split('class="error-summary__list"')[1])
    assert (
        f'<a href="#personal-{plain_manager}">Personal data of '
        "plain-manager@mind.example: only an admin granted personal data may grant it"
    ) in summary, summary[:300]
    assert log_position(world.records) == before
    assert world.accounts.account(plain_manager).personal_data is False
    assert world.accounts.account(plain_manager).role is Role.MANAGER
    # A grant the account already holds is not passed on by keeping it.
    manager = world.people["manager@mind.example"]
    kept = admin.post(
        f"/accounts/{manager}/role",
        data={"role": "auditor", "personal_data": "yes", "csrf_token": token},
        follow_redirects=False,
    )
    assert kept.status_code == 303, kept.text
    assert world.accounts.account(manager).personal_data is True


def test_an_admin_not_granted_personal_data_cannot_invite_again_an_account_with_it(
    world,
) -> None:
    """Whoever follows a new invitation link is that account, grant and all: an
    admin without the grant inviting a granted manager again, and following the link
    themselves, would read personal data. The row offers no such button, a crafted
    post is refused naming the field and records nothing, and an account without
    the grant is still invited again."""
    person(
        world.accounts,
        world.mind.organisation_id,
        "plain-admin@mind.example",
        Role.ADMIN,
    )
    admin = world.client()
    sign_in(admin, "plain-admin@mind.example")
    page = admin.get("/accounts").text
    granted = world.people["manager@mind.example"]
    plain = world.people["plain-manager@mind.example"]
    assert f"/accounts/{granted}/invite-again" not in page
    assert (
        "Only an admin granted personal data can invite manager@mind.example again."
    ) in page
    assert f"/accounts/{plain}/invite-again" in page
    token = csrf_token(admin, "/accounts")
    before = log_position(world.records)
    refused = admin.post(
        f"/accounts/{granted}/invite-again", data={"csrf_token": token}
    )
    assert refused.status_code == 400
    summary = html.unescape(refused.text.split('class="error-summary__list"')[1])
    assert (
        f'<a href="#personal-{granted}">Personal data of manager@mind.example: only '
        "an admin granted personal data may invite again an account that holds it"
    ) in summary, summary[:300]
    assert "/invitations/" not in refused.text
    assert log_position(world.records) == before
    manager = world.client()
    sign_in(manager, "manager@mind.example")  # their password still works
    assert manager.get("/").status_code == 200
    again = admin.post(f"/accounts/{plain}/invite-again", data={"csrf_token": token})
    assert again.status_code == 200 and "/invitations/" in again.text


def test_the_last_admin_cannot_demote_themselves_on_the_accounts_page(world) -> None:
    admin = world.client()
    sign_in(admin, "admin@mind.example")
    token = csrf_token(admin, "/accounts")
    own = world.people["admin@mind.example"]
    before = log_position(world.records)
    response = admin.post(
        f"/accounts/{own}/role", data={"role": "manager", "csrf_token": token}
    )
    assert response.status_code == 400
    summary = html.unescape(response.text.split('class="error-summary__list"')[1])
    assert (
        f'<a href="#role-{own}">Role of admin@mind.example: admin@mind.example is '
        "the organisation's last admin"
    ) in summary, summary[:300]
    assert log_position(world.records) == before
    assert world.accounts.account(own).role is Role.ADMIN


def test_a_single_valued_field_sent_twice_is_refused_naming_it_and_records_nothing(
    world,
) -> None:
    """role=evaluator&role=admin on the accounts page took the last one: a form
    that sends one value can only be a forged one when it sends two. Every post is
    read in one place (fourpi.web.posted), so every form refuses it alike; check
    boxes, which send many, are left alone (tests/test_web_forms.py)."""
    signed_out = world.client()
    token = csrf_token(signed_out, "/sign-in")
    admin = world.client()
    sign_in(admin, "admin@mind.example")
    manager = world.client()
    sign_in(manager, "manager@mind.example")
    evaluator = world.people["evaluator@mind.example"]
    twice = [
        (
            signed_out,
            "/sign-in",
            {
                "csrf_token": token,
                "email": ["evaluator@mind.example", "admin@mind.example"],
                "password": PASSWORD,
            },
            "email",
        ),
        (
            admin,
            "/accounts",
            {"email": "someone@mind.example", "role": ["evaluator", "admin"]},
            "role",
        ),
        (admin, f"/accounts/{evaluator}/role", {"role": ["auditor", "admin"]}, "role"),
        (
            manager,
            FORM,
            {**form_post(None), "pseudonym": ["First", "Second"]},
            "pseudonym",
        ),
    ]
    for client, path, data, field in twice:
        if client is not signed_out:
            data = {**data, "csrf_token": csrf_token(client, "/")}
        before = secret_state(world)
        response = client.post(path, data=data, follow_redirects=False)
        assert response.status_code == 400, (path, response.status_code)
        said = html.unescape(response.text)
        assert f"{field}: sent more than once, where the form sends one" in said, path
        assert "Traceback" not in said
        assert secret_state(world) == before, path
    assert world.accounts.account(evaluator).role is Role.EVALUATOR


@pytest.mark.parametrize(
    "sent",
    [b"A%ED%A0%80B", b"A%FFB", b"A%F4%90%80%80B", b"A\xc3\xa9B", b"A\xffB"],
    ids=["lone surrogate", "not utf-8", "past U+10FFFF", "raw utf-8", "raw byte"],
)
def test_a_field_not_sent_as_a_browser_sends_text_is_refused_naming_it(
    world, sent: bytes
) -> None:
    """A pseudonym posted as `A%ED%A0%80B` (a lone surrogate, percent-encoded) was
    recorded as 'A\ufffd\ufffd\ufffdB', and one sent as raw bytes as whatever
    they read as in Latin-1 ('Ã©' for an é): a browser sends every field as
    percent-encoded UTF-8, and the API refuses a body that is not UTF-8. Now such a
    field is refused, named, and nothing is recorded."""
    manager = world.client()
    sign_in(manager, "manager@mind.example")
    sent_form = form_post(csrf_token(manager, FORM))
    del sent_form["pseudonym"]
    body = urlencode(sent_form).encode()
    before = secret_state(world)
    response = manager.post(
        FORM,
        content=body + b"&pseudonym=" + sent,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 400
    said = html.unescape(response.text)
    assert (
        "pseudonym: must be text in UTF-8, percent-encoded as a browser sends it"
        in said
    )
    assert secret_state(world) == before


def initiative_page_work(tmp_path: Any, meetings: int) -> tuple[int, int]:
    """The work of drawing an initiative's page, for a manager granted personal
    data, when it has this many meetings, each with its papers and five people;
    and how many of its meetings the page shows with who came."""
    store = ApiStore(f"sqlite:///{tmp_path}/meetings-{meetings}.sqlite3")
    records = store.records
    organisation_id = records.register_organisation(name="Mind", actor=ACTOR)
    initiative_id = launch(records, organisation_id)
    people = [register(records, organisation_id) for _ in range(5)]
    for number in range(meetings):
        held = datetime(2024, 1, 1, 11, tzinfo=UTC) + timedelta(days=7 * number)
        meeting_id = records.schedule_meeting(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            title=f"Meeting {number}",
            held_at=held,
            high_level=False,
            decision_making=False,
            actor=ACTOR,
        )
        records.send_meeting_papers(
            organisation_id=organisation_id,
            meeting_id=meeting_id,
            sent_at=held - timedelta(days=3),
            actor=ACTOR,
        )
        records.record_attendance(
            organisation_id=organisation_id,
            meeting_id=meeting_id,
            participant_ids=people,
            actor=ACTOR,
        )
    token = records.authenticate(
        store.token(organisation_id, Role.MANAGER, personal_data=True)
    )
    assert token is not None
    store.views.catch_up()
    position = store.views.position()
    shown = []

    def draw() -> None:
        page = reading.initiative_page(
            records,
            store.views,
            Caller.of(token),
            organisation_id,
            initiative_id,
            position,
        )
        shown.append(asyncio.run(page))

    draw()  # the views' answers, kept for the position, are not counted
    return python_calls(draw), sum(len(m.attendees) == 5 for m in shown[-1].meetings)


def test_an_initiatives_page_grows_with_its_meetings_not_their_square(
    tmp_path: Any,
) -> None:
    """Each meeting of an initiative's page looked through every attendance and
    every paper sent of the whole organisation, on the event loop: an initiative
    that meets weekly for years in a large organisation held every request while
    its page was drawn. Twice the meetings now cost at most a little over twice
    the work, and each meeting still shows who came."""
    small, shown = initiative_page_work(tmp_path, 40)
    assert shown == 40
    large, shown = initiative_page_work(tmp_path, 80)
    assert shown == 80
    assert large < 2.2 * small, (small, large)
