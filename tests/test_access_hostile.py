"""Access control attacked across time on the web app: a report or a workbook upload that waits its turn for the server's one piece of heavy work is done only for the caller it was asked by, as the store says when its turn comes (an account disabled, signed out or given another role meanwhile gets nothing, and writes nothing); and one person's burst of reports or uploads does not hold up everyone else's."""

import asyncio
import io
import json
import re
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from fourpi import threads
from fourpi.bootstrap import open_records
from fourpi.config import ApiLimits
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import ImpactArea, ParticipantKind
from fourpi.graphql.app import create_app
from fourpi.personal_links import GONE, PersonalLinks
from fourpi.threads import OWN_HEAVY_WORK_RETRY_AFTER_SECONDS, in_heavy_thread
from fourpi.workbook import import_upload, write_template
from tests.api import api_store, client, code_of, data_of, graphql
from tests.helpers import log_position, post_scope
from tests.test_web_http import World, two_organisations
from tests.web import (
    TestClient,
    organisation_with_a_chain,
    sign_in,
    workbook_of_unknown_kinds,
)

MIND_EVALUATOR = "evaluator@mind.example"
MIND_MANAGER = "manager@mind.example"
OTHER_EVALUATOR = "evaluator@elsewhere.example"
WAIT = 10.0
"""The most a test waits for something it expects at once."""


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    """On SQLite and on PostgreSQL: sessions live in the store's own tables."""
    with two_organisations(database_url) as made:
        yield made


def http_of(world: World, email: str) -> httpx.AsyncClient:
    """A browser signed in as `email`, talking to the app in this event loop."""
    signed = world.client()
    sign_in(signed, email)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=signed.app),
        base_url=str(signed.base_url),
        cookies=signed.cookies,
    )


async def waiting_for_heavy_work(count: int) -> None:
    """Until `count` requests wait for the server's heavy work (held by the test)."""
    limiter = threads._of_this_loop(threads._heavy_limiters, threads.HEAVY_WORK_AT_ONCE)
    deadline = time.monotonic() + WAIT
    while limiter.statistics().tasks_waiting < count:
        assert time.monotonic() < deadline, "the request never waited its turn"
        await asyncio.sleep(0.01)


async def with_heavy_work_held(
    asked: Callable[[], Awaitable[Any]],
    meanwhile: Callable[[], Awaitable[None]],
    waiting: int = 1,
) -> Any:
    """Ask while the server's heavy work is held by someone else, do `meanwhile`
    while the request waits its turn, then let the work go on: the answer."""
    gate = threading.Event()
    holder = asyncio.ensure_future(in_heavy_thread(gate.wait, WAIT))
    request = asyncio.ensure_future(asked())
    try:
        await waiting_for_heavy_work(waiting)
        await meanwhile()
    finally:
        gate.set()
    await holder
    return await request


def mind_account(world: World, email: str) -> Any:
    return world.accounts.account(world.people[email])


def disable(world: World, email: str) -> Callable[[], Awaitable[None]]:
    async def disabling() -> None:
        await asyncio.to_thread(
            world.accounts.disable,
            organisation_id=world.mind.organisation_id,
            account_id=world.people[email],
            actor="test",
        )

    return disabling


def test_a_report_waiting_its_turn_is_not_given_to_an_account_disabled_meanwhile(
    world: World,
) -> None:
    async def attack() -> httpx.Response:
        async with http_of(world, MIND_EVALUATOR) as http:
            return await with_heavy_work_held(
                lambda: http.get("/answers/report.html"),
                disable(world, MIND_EVALUATOR),
            )

    response = asyncio.run(attack())
    assert response.status_code == 303, response.text[:300]
    assert response.headers["location"] == "/sign-in"
    assert "GRIPP2" not in response.text


def test_a_report_waiting_its_turn_is_not_given_to_a_browser_signed_out_meanwhile(
    world: World,
) -> None:
    async def attack() -> httpx.Response:
        async with http_of(world, MIND_EVALUATOR) as http:
            token = csrf_token_of(await http.get("/"))

            async def sign_out() -> None:
                # The same session, signed out in another tab.
                async with httpx.AsyncClient(
                    transport=http._transport,
                    base_url=str(http.base_url),
                    cookies=http.cookies,
                ) as tab:
                    out = await tab.post("/sign-out", data={"csrf_token": token})
                    assert out.status_code == 303

            return await with_heavy_work_held(
                lambda: http.get("/answers/report.pdf"), sign_out
            )

    response = asyncio.run(attack())
    assert response.status_code == 303
    assert not response.content.startswith(b"%PDF")


def test_a_report_waiting_its_turn_is_not_given_once_the_grant_it_was_asked_with_is_gone(
    world: World,
) -> None:
    async def attack() -> httpx.Response:
        async with http_of(world, MIND_MANAGER) as http:

            async def withdraw_grant() -> None:
                await asyncio.to_thread(
                    world.accounts.change_role,
                    organisation_id=world.mind.organisation_id,
                    account_id=world.people[MIND_MANAGER],
                    role=Role.MANAGER,
                    personal_data=False,
                    actor="test",
                )

            return await with_heavy_work_held(
                lambda: http.get("/answers/report.html"), withdraw_grant
            )

    response = asyncio.run(attack())
    assert response.status_code == 403, response.text[:300]
    assert "GRIPP2" not in response.text


def test_a_workbook_waiting_its_turn_records_nothing_for_an_account_disabled_meanwhile(
    world: World,
) -> None:
    filled = workbook_of_unknown_kinds(3, "service_user")
    before = log_position(world.records)

    async def attack() -> httpx.Response:
        async with http_of(world, MIND_MANAGER) as http:
            token = csrf_token_of(await http.get("/workbook"))
            return await with_heavy_work_held(
                lambda: http.post(
                    "/workbook",
                    data={"csrf_token": token, "action": "import"},
                    files={"workbook": ("filled.xlsx", filled)},
                ),
                disable(world, MIND_MANAGER),
            )

    response = asyncio.run(attack())
    assert response.status_code == 303, response.text[:300]
    # The account's disabling is all the log gained: no person of the workbook.
    assert log_position(world.records) == before + 1
    assert mind_account(world, MIND_MANAGER).disabled


HEAVY_DOWNLOADS = ["/answers/report.html", "/answers/tables.xlsx"]
"""The impact report and the answer page's tables as one workbook: each some
seconds of CPU for a large organisation, so heavy work."""


def made(path: str, response: httpx.Response) -> bool:
    """Whether the response is the report or workbook asked for."""
    if path.endswith(".xlsx"):
        return response.content.startswith(b"PK")
    return "GRIPP2" in response.text


@pytest.mark.parametrize("path", HEAVY_DOWNLOADS)
def test_one_persons_burst_of_reports_does_not_queue_ahead_of_everyone_else(
    world: World, path: str
) -> None:
    """A report takes seconds of CPU, and a process makes one at a time: a person
    asking for many at once (or leaving before each is made) gets one made and is
    told to wait for the others, so someone else's report waits for at most one
    of theirs, not for all of them. The same for the answers' workbook: nine
    people asking for a 100k-event organisation's three times each took every
    database thread for 77 s, another person's page waited 19 s and /healthz
    answered 503."""

    async def attack() -> tuple[list[httpx.Response], httpx.Response, bool]:
        async with (
            http_of(world, MIND_EVALUATOR) as burst,
            http_of(world, OTHER_EVALUATOR) as other,
        ):
            burst_answers: list[Any] = []
            others_answer: list[Any] = []
            refused_at_once = False

            async def meanwhile() -> None:
                nonlocal refused_at_once
                # Four of one person's: one waits its turn, three are told at once.
                tasks = [asyncio.ensure_future(burst.get(path)) for _ in range(4)]
                burst_answers.extend(tasks)
                await asyncio.wait(
                    tasks, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED
                )
                await asyncio.sleep(0.5)
                refused_at_once = sum(t.done() for t in tasks) == 3
                others_answer.append(asyncio.ensure_future(other.get(path)))
                await waiting_for_heavy_work(2 if refused_at_once else 5)

            gate = threading.Event()
            holder = asyncio.ensure_future(in_heavy_thread(gate.wait, 60))
            try:
                await meanwhile()
            finally:
                gate.set()
            await holder
            responses = list(await asyncio.gather(*burst_answers))
            return responses, await others_answer[0], refused_at_once

    responses, others, refused_at_once = asyncio.run(attack())
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 429, 429, 429], codes
    assert refused_at_once
    for response in responses:
        if response.status_code == 429:
            assert response.headers["retry-after"]
            assert "still being worked on" in response.text
            assert not made(path, response)
    assert others.status_code == 200 and made(path, others)


def leaving_client(
    body: bytes, left: asyncio.Event, sent: list[Any]
) -> tuple[Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]]:
    """The ASGI receive and send of a client that sends `body`, then goes away
    (http.disconnect, as uvicorn tells it, the task not cancelled) once `left` is
    set; what it is sent goes into `sent`."""
    asked = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Any:
        if asked:
            return asked.pop(0)
        await left.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    return receive, send


async def left_then_asked_again(
    app: Any,
    scope: dict[str, Any],
    body: bytes,
    again: Callable[[], Awaitable[httpx.Response]],
) -> tuple[list[Any], httpx.Response]:
    """A request to `app` whose client goes away (as uvicorn tells it: the message
    http.disconnect, its task not cancelled) while it waits its turn for the heavy
    work, which the test holds; then `again`, the same caller asking once more:
    what the first was sent, and the second's answer once the work is let go."""
    left = asyncio.Event()
    sent: list[Any] = []
    receive, send = leaving_client(body, left, sent)
    limiter = threads._of_this_loop(threads._heavy_limiters, threads.HEAVY_WORK_AT_ONCE)
    gate = threading.Event()
    holder = asyncio.ensure_future(in_heavy_thread(gate.wait, 60))
    abandoned = asyncio.ensure_future(app(scope, receive, send))
    try:
        await waiting_for_heavy_work(1)
        left.set()
        await asyncio.wait([abandoned], timeout=1)
        answer = asyncio.ensure_future(again())
        deadline = time.monotonic() + WAIT
        # Told at once (its turn still held), or waiting its turn alone.
        while not answer.done() and not (
            abandoned.done() and limiter.statistics().tasks_waiting == 1
        ):
            assert time.monotonic() < deadline, "the second ask never waited"
            await asyncio.sleep(0.01)
    finally:
        gate.set()
    await holder
    await abandoned
    return sent, await answer


@pytest.mark.parametrize("path", HEAVY_DOWNLOADS)
def test_a_report_its_asker_left_before_its_turn_is_not_made_nor_holds_them_out(
    world: World, path: str
) -> None:
    """A person waiting behind others' reports gives up (closes the tab, their
    browser times out) and asks again: the server (as uvicorn does) goes on with
    a request whose client has left, so the report was still made, for no one,
    when its turn came, and until then every new ask of theirs was refused with
    429. A report whose asker has left before its turn is now never made."""
    signed = world.client()
    sign_in(signed, MIND_EVALUATOR)
    cookie = "; ".join(f"{name}={value}" for name, value in signed.cookies.items())
    scope = {
        **post_scope(path, [(b"cookie", cookie.encode())]),
        "method": "GET",
    }

    async def attack() -> tuple[list[Any], httpx.Response]:
        async with http_of(world, MIND_EVALUATOR) as again:
            return await left_then_asked_again(
                signed.app, scope, b"", lambda: again.get(path)
            )

    sent, answer = asyncio.run(attack())
    assert answer.status_code == 200, answer.text[:300]
    assert made(path, answer)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [499]


def csrf_token_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


INTEGRITY = "{ integrity { intact events } }"


def test_one_auditors_burst_of_integrity_checks_takes_one_turn_of_heavy_work(
    database_url: str,
) -> None:
    """Verifying the whole log (every organisation's events: some 13 seconds a
    million) is heavy work, like a report: an auditor's checks sent at once get
    one made and TOO_MANY_REQUESTS for the rest, rather than each holding one of
    the threads every other organisation's requests are answered by."""
    with api_store(database_url) as store:
        mind, other_organisation = (
            organisation_with_a_chain(store.records, name).organisation_id
            for name in ("Mind", "Elsewhere")
        )
        store.views.catch_up()
        own = store.token(mind, Role.AUDITOR)
        theirs = store.token(other_organisation, Role.AUDITOR)

        async def attack() -> tuple[list[httpx.Response], httpx.Response]:
            async with client(store) as http:
                gate = threading.Event()
                holder = asyncio.ensure_future(in_heavy_thread(gate.wait, WAIT))
                try:
                    burst = [
                        asyncio.ensure_future(graphql(http, INTEGRITY, token=own))
                        for _ in range(4)
                    ]
                    other = asyncio.ensure_future(
                        graphql(http, INTEGRITY, token=theirs)
                    )
                    await waiting_for_heavy_work(2)
                    await asyncio.sleep(0.3)
                    told_at_once = [t.result() for t in burst if t.done()]
                finally:
                    gate.set()
                await holder
                await asyncio.gather(*burst)
                return told_at_once, await other

        told_at_once, other = asyncio.run(attack())
        assert len(told_at_once) == 3
        for response in told_at_once:
            assert code_of(response) == "TOO_MANY_REQUESTS", response.text
            # As HTTP says it, with when to come back: it was 200, with no
            # Retry-After, so a client's retry logic never saw it.
            assert response.status_code == 429
            assert response.headers["retry-after"] == str(
                OWN_HEAVY_WORK_RETRY_AFTER_SECONDS
            )
        assert data_of(other)["integrity"]["intact"] is True


def test_an_integrity_check_its_asker_left_before_its_turn_is_not_made(
    database_url: str,
) -> None:
    """A script asking for the log's check gives up waiting (its client's timeout)
    and asks again: the abandoned check held the token's turn until it had been
    made, for no one, so every new ask was TOO_MANY_REQUESTS until then."""
    with api_store(database_url) as store:
        mind = organisation_with_a_chain(store.records, "Mind").organisation_id
        store.views.catch_up()
        own = store.token(mind, Role.AUDITOR)
        scope = post_scope(
            "/graphql",
            [
                (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {own}".encode()),
            ],
        )
        body = json.dumps({"query": INTEGRITY}).encode()

        async def attack() -> tuple[list[Any], httpx.Response]:
            async with client(store) as http:
                return await left_then_asked_again(
                    store.app, scope, body, lambda: graphql(http, INTEGRITY, token=own)
                )

        sent, answer = asyncio.run(attack())
        assert not any(b"intact" in message.get("body", b"") for message in sent)
        assert not any(b"INTERNAL" in message.get("body", b"") for message in sent)
        assert data_of(answer)["integrity"]["intact"] is True, answer.text


@pytest.mark.parametrize(
    "query",
    [
        "{ a: integrity { intact } b: integrity { intact } }",
        "{ integrity { intact } ...Again } fragment Again on Query { again: integrity"
        " { head } }",
    ],
)
def test_two_integrity_checks_in_one_request_are_refused_before_either(
    database_url: str, query: str
) -> None:
    """`{ a: integrity b: integrity }`: the second was told 'your earlier check is
    still being made', where the client had sent no earlier one, and its error
    discarded the first check's answer with the rest of the data, after the whole
    log had been read for it."""
    with api_store(database_url) as store:
        mind = organisation_with_a_chain(store.records, "Mind").organisation_id
        store.views.catch_up()
        own = store.token(mind, Role.AUDITOR)

        async def ask() -> httpx.Response:
            async with client(store) as http:
                return await graphql(http, query, token=own)

        answer = asyncio.run(ask()).json()
        assert "data" not in answer, answer
        (error,) = answer["errors"]
        assert error["message"].startswith("integrity: ")
        assert (
            "asks for the integrity check 2 times; ask for it once a request"
            in (error["message"])
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


SCHEMA = "__schema { types { name description fields { name description } } }"


@pytest.mark.parametrize(
    "query",
    [
        "{ a: " + SCHEMA + " b: " + SCHEMA + " }",
        "{ " + SCHEMA + " ...Again } fragment Again on Query { again: " + SCHEMA + " }",
    ],
)
def test_the_schema_asked_twice_in_one_request_is_refused(
    database_url: str, query: str
) -> None:
    """Found by a helper with a raw socket: a request of 1.4 KB, with no token,
    asking for the schema 14 times under aliases, was answered with 1.1 MB, a
    lever of 800 for anyone to turn the server's time and bandwidth against it.
    The schema is asked for once a request (the standard introspection query, and
    GraphiQL's, ask once); the full standard query is still answered."""
    from graphql import get_introspection_query

    with api_store(database_url) as store:

        async def ask() -> tuple[httpx.Response, httpx.Response]:
            async with client(store) as http:
                twice = await graphql(http, query)
                once = await graphql(http, get_introspection_query(descriptions=True))
                return twice, once

        twice, once = asyncio.run(ask())
        answer = twice.json()
        assert "data" not in answer, answer
        (error,) = answer["errors"]
        assert error["message"].startswith("__schema: ")
        assert (
            "asks for the schema 2 times; ask for it once a request"
            in (error["message"])
        )
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert data_of(once)["__schema"]["queryType"]["name"] == "Query"


def advisor_of(world: World) -> Any:
    """Mind's service user (organisation_with_a_chain's one participant)."""
    facts = world.views.cache.facts(world.mind.organisation_id, world.views.position())
    (person,) = facts["participants"]
    return person["participant_id"]


def test_a_link_revoked_while_it_is_being_made_does_not_open(world: World) -> None:
    """One manager makes a person's link while another stops it: the log says the
    link was made, then revoked, and so the link must not open, whichever of the
    two wrote its table row last."""
    links = PersonalLinks(world.records)
    person = advisor_of(world)
    organisation = world.mind.organisation_id
    run = links.tables.run

    def revoked_meanwhile(statement: str, *values: Any) -> int:
        if statement.startswith("INSERT"):
            # The other manager's revocation lands between the making's event and
            # its link's row.
            links.tables.run = run  # type: ignore[method-assign]
            links.revoke(
                organisation_id=organisation, participant_id=person, actor="other"
            )
        return run(statement, *values)

    links.tables.run = revoked_meanwhile  # type: ignore[method-assign]
    secret, _ = links.make(
        organisation_id=organisation,
        participant_id=person,
        actor="test",
        reads_personal_data=True,
    )
    events = [type(e).__name__ for e in world.records.events.get(person)]
    assert events[-2:] == ["PersonalLinkMade", "PersonalLinkRevoked"]
    assert links.holder(secret) == GONE
    assert links.live_link(person) is None
    opened = world.client().get(f"/my-page/{secret}")
    assert opened.status_code == 410
    assert "Mind said" not in opened.text


def test_a_form_waiting_for_the_views_records_nothing_for_an_account_disabled_meanwhile(
    world: World,
) -> None:
    """A form naming a record whose initiative the form never asks (an intended
    outcome's) reads the views first, waiting up to FOURPI_READ_WAIT_SECONDS for
    them to reach the log: a manager disabled during that wait records nothing."""
    records, views = world.records, world.views
    organisation = world.mind.organisation_id
    outcome = records.record_intended_outcome(
        organisation_id=organisation,
        initiative_id=world.mind.initiative_id,
        description="More people take part.",
        impact_areas=(ImpactArea.DELIVERY,),
        actor="test",
    )
    views.catch_up()
    app = create_app(
        records,
        views,
        limits=ApiLimits(read_wait_seconds=WAIT),
        run_projections=False,
        web=True,
    )
    signed = TestClient(app)
    sign_in(signed, MIND_MANAGER)
    form = f"/record/assessIntendedOutcome?outcome_id={outcome}"
    sent = {
        "csrf_token": csrf_token_of(signed.get(form)),
        "idempotency_key": "assessed-once",
        "outcome_id": str(outcome),
        "assessment": "achieved",
        "involvement_difference": "significant",
        "evidence": "Bookings doubled.",
        "assessed_on": "2024-06-01",
    }
    # Something recorded that the views have not reached: the form waits for them.
    records.register_participant(
        organisation_id=organisation,
        pseudonym="Newcomer",
        participant_kind=ParticipantKind.CARER,
        actor="test",
    )

    async def attack() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=str(signed.base_url),
            cookies=signed.cookies,
        ) as http:
            posted = asyncio.ensure_future(
                http.post("/record/assessIntendedOutcome", data=sent)
            )
            await asyncio.sleep(1)
            assert not posted.done(), posted.result().text[:300]
            await disable(world, MIND_MANAGER)()
            await asyncio.to_thread(views.catch_up)
            return await posted

    response = asyncio.run(attack())
    assert response.status_code == 303, response.text[:300]
    assert response.headers["location"] == "/sign-in"
    assessed = [
        e
        for e in records.events.get(world.mind.initiative_id)
        if type(e).__name__ == "IntendedOutcomeAssessed"
    ]
    assert assessed == []


def workbook_with(rows: dict[str, list[list[Any]]]) -> bytes:
    """The template with these rows filled in, by sheet, from its second row."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "template.xlsx"
        write_template(path)
        book = openpyxl.load_workbook(path)
    for sheet, filled in rows.items():
        for number, values in enumerate(filled, start=2):
            for column, value in enumerate(values, start=1):
                book[sheet].cell(row=number, column=column, value=value)
    sent = io.BytesIO()
    book.save(sent)
    return sent.getvalue()


def test_a_workbook_naming_another_organisations_records_or_people_records_nothing(
    world: World,
) -> None:
    """Rows name records by the workbook's keys, and an earlier import's by its
    receipts, only ever the organisation's own: another organisation's ids (whole,
    or their first eight characters, as an export keys a row), and the keys its
    own workbook used, are rows of nothing, and the page names none of theirs."""
    theirs = world.other
    their_workbook = workbook_with(
        {"People": [["robin", "Robin of Elsewhere", "service_user"]]}
    )
    imported = import_upload(
        world.records, theirs.organisation_id, their_workbook, actor="test"
    )
    assert not imported.problems
    world.views.catch_up()
    facts = world.views.cache.facts(theirs.organisation_id, world.views.position())
    their_people = [str(p["participant_id"]) for p in facts["participants"]]
    their_initiative = str(theirs.initiative_id)
    named = [
        (their_initiative, their_people[0]),
        (their_initiative[:8], their_people[0][:8]),
        (their_initiative, "robin"),
    ]
    before = log_position(world.records)
    client = world.client()
    sign_in(client, MIND_MANAGER)
    for initiative, person in named:
        filled = workbook_with(
            {
                "Roles": [
                    [
                        "r1",
                        initiative,
                        person,
                        "advisor",
                        "yes",
                        "no",
                        "2024-01-08",
                    ]
                ]
            }
        )
        response = client.post(
            "/workbook",
            data={
                "csrf_token": csrf_token_of(client.get("/workbook")),
                "action": "import",
            },
            files={"workbook": ("filled.xlsx", filled)},
        )
        assert response.status_code == 400, response.text[:300]
        assert "no row of Initiatives has the key" in response.text
        assert "no row of People has the key" in response.text
        for secret in (*theirs.secrets, "Robin of Elsewhere"):
            assert secret not in response.text
    assert log_position(world.records) == before


@pytest.mark.parametrize("landing", ["before its row", "after its row"])
def test_two_links_made_at_once_for_one_person_leave_the_newer_opening(
    world: World, database_url: str, landing: str
) -> None:
    """A new link stops the person's earlier one, also when two managers, in two
    processes, make one at the same moment: the second making lands whole between
    the first's event and its row, or between its row and the ending of the
    person's other links. Exactly one of the two links opens, the newer. Before,
    each making ended every link but its own, and landing after the first's row,
    each ended the other's: neither opened."""
    links = PersonalLinks(world.records)
    rival = open_records(database_url)
    other = PersonalLinks(rival)
    person = advisor_of(world)
    organisation = world.mind.organisation_id
    run = links.tables.run
    made: list[str] = []

    def made_meanwhile(statement: str, *values: Any) -> int:
        inserting = statement.startswith("INSERT")
        if inserting and landing == "before its row":
            made.append(make_link(other, organisation, person))
        changed = run(statement, *values)
        if inserting and landing == "after its row":
            made.append(make_link(other, organisation, person))
        return changed

    links.tables.run = made_meanwhile  # type: ignore[method-assign]
    first = make_link(links, organisation, person)
    links.tables.run = run  # type: ignore[method-assign]
    rival.close()
    opening = [s for s in (first, *made) if links.holder(s) not in (GONE, None)]
    assert opening == made


def make_link(links: PersonalLinks, organisation: Any, person: Any) -> str:
    return links.make(
        organisation_id=organisation,
        participant_id=person,
        actor="test",
        reads_personal_data=True,
    )[0]


def waiting_app(world: World) -> Any:
    """The web app with a page's read waiting up to WAIT for the views, which
    nothing but the test moves on."""
    return create_app(
        world.records,
        world.views,
        limits=ApiLimits(read_wait_seconds=WAIT),
        run_projections=False,
        web=True,
    )


def views_left_behind(world: World) -> None:
    """Something recorded that the views have not reached: a page waits for them."""
    world.records.register_participant(
        organisation_id=world.mind.organisation_id,
        pseudonym="Newcomer",
        participant_kind=ParticipantKind.CARER,
        actor="test",
    )


def made_link(world: World) -> tuple[PersonalLinks, Any, str]:
    links = PersonalLinks(world.records)
    person = advisor_of(world)
    secret, _ = links.make(
        organisation_id=world.mind.organisation_id,
        participant_id=person,
        actor="test",
        reads_personal_data=True,
    )
    world.views.catch_up()
    return links, person, f"/my-page/{secret}"


def revoking(world: World, links: PersonalLinks, person: Any) -> Callable[[], None]:
    """A manager revoking the person's link."""
    return lambda: links.revoke(
        organisation_id=world.mind.organisation_id,
        participant_id=person,
        actor="manager",
    )


async def revoked_while_waiting(
    world: World,
    app: Any,
    asked: Callable[[httpx.AsyncClient], Awaitable[httpx.Response]],
    end_the_link: Callable[[], None],
    cookies: Any = None,
) -> httpx.Response:
    """Ask while the views are behind (the request waits for them); meanwhile a
    manager's revocation (or the person's erasure) returns; then the views catch
    up and the request goes on: its answer."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        cookies=cookies,
    ) as http:
        asked_now = asyncio.ensure_future(asked(http))
        await asyncio.sleep(1)
        assert not asked_now.done(), asked_now.result().text[:300]
        await asyncio.to_thread(end_the_link)
        await asyncio.to_thread(world.views.catch_up)
        return await asked_now


def test_a_personal_page_waiting_for_the_views_is_not_shown_once_its_link_is_revoked(
    world: World,
) -> None:
    """Once the manager's revocation has returned, no answer shows the page: one
    that passed the link's check before it and then waited for the views (up to
    FOURPI_READ_WAIT_SECONDS) was shown whole after it."""
    links, person, path = made_link(world)
    app = waiting_app(world)
    views_left_behind(world)

    revoke = revoking(world, links, person)

    response = asyncio.run(
        revoked_while_waiting(world, app, lambda http: http.get(path), revoke)
    )
    assert response.status_code == 410, response.text[:300]
    assert "Mind said" not in response.text
    assert TestClient(app).get(path).status_code == 410


def test_a_personal_form_sent_once_its_link_is_revoked_records_nothing(
    world: World,
) -> None:
    """A questionnaire that passed the link's check, then waited for the views,
    recorded the person's answer after the manager's revocation had returned."""
    links, person, path = made_link(world)
    app = waiting_app(world)
    opened = TestClient(app).get(path)
    assert opened.status_code == 200
    sent = {
        "csrf_token": csrf_token_of(opened),
        "idempotency_key": "answered-once",
        "questionnaire_initiative": str(world.mind.initiative_id),
        "questionnaire_listened_to": "5",
    }
    views_left_behind(world)
    before = log_position(world.records)

    revoke = revoking(world, links, person)

    response = asyncio.run(
        revoked_while_waiting(
            world,
            app,
            lambda http: http.post(f"{path}/questionnaire", data=sent),
            revoke,
            cookies=opened.cookies,
        )
    )
    assert response.status_code == 410, response.text[:300]
    # The revocation is all the log gained: no answer of the person's.
    assert log_position(world.records) == before + 1


def test_a_personal_page_waiting_for_the_views_is_not_shown_once_its_person_is_erased(
    world: World,
) -> None:
    _, person, path = made_link(world)
    app = waiting_app(world)
    views_left_behind(world)

    def erase() -> None:
        world.records.erase_participant(
            participant_id=person,
            organisation_id=world.mind.organisation_id,
            actor="admin",
        )

    response = asyncio.run(
        revoked_while_waiting(world, app, lambda http: http.get(path), erase)
    )
    assert response.status_code == 410, response.text[:300]
    assert "Mind said" not in response.text


@pytest.mark.parametrize(
    "path", ["/answers", "/answers/tables/cycles.csv", "/answers/report.html"]
)
def test_an_answer_page_or_download_its_asker_left_while_it_waited_is_not_made(
    world: World, path: str
) -> None:
    """A page or a table's CSV waits for its turn in the person's thread for
    answers (their earlier answers being worked out), and its client goes away
    meanwhile: it is answered to no one (499) at once, never worked out when
    a thread comes free. Each is worked out afresh through the API's schema (some
    0.5 s of CPU for a 100k-event organisation): one session's 30 downloads of a
    CSV, each abandoned after 2 s, kept fourpi serve busy for 14 s."""
    signed = world.client()
    sign_in(signed, MIND_EVALUATOR)
    cookie = "; ".join(f"{name}={value}" for name, value in signed.cookies.items())
    scope = {**post_scope(path, [(b"cookie", cookie.encode())]), "method": "GET"}

    async def attack() -> tuple[list[Any], bool]:
        left = asyncio.Event()
        sent: list[Any] = []
        receive, send = leaving_client(b"", left, sent)
        # The person's one thread for answers, held as by an earlier answer of theirs.
        actor = f"account:{world.people[MIND_EVALUATOR]}"
        with threads.answering(actor, "an earlier request") as own:
            async with own:
                abandoned = asyncio.ensure_future(signed.app(scope, receive, send))
                deadline = time.monotonic() + WAIT
                while own.statistics().tasks_waiting < 1:
                    assert time.monotonic() < deadline, "the request never waited"
                    await asyncio.sleep(0.01)
                left.set()
                await asyncio.wait([abandoned], timeout=WAIT)
                answered_while_held = abandoned.done()
        await abandoned
        return sent, answered_while_held

    sent, answered_while_held = asyncio.run(attack())
    assert answered_while_held, "it waited for a thread for no one"
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [499]
