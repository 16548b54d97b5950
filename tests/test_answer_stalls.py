"""One caller's burst of answers that nothing cached answers (as of many past positions, over many periods), on the API and the web app: worked out one at a time for that caller, so every other caller is answered meanwhile; past a bound, refused at once with 429 and Retry-After, never part-way through a request or page."""

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import jinja2
import vl_convert

from fourpi.domain.access import Role
from fourpi.projections.views import ImpactViews
from fourpi.threads import (
    ANSWERS_AT_ONCE_PER_CALLER,
    QUESTIONS_PER_CALLER,
    database_calls,
)
from fourpi.web import answer_routes, charts, downloads
from tests.api import api_store, client, code_of, data_of, graphql
from tests.test_access_hostile import MIND_EVALUATOR, OTHER_EVALUATOR, http_of, world
from tests.test_web_http import World
from tests.web import organisation_with_a_chain

__all__ = ["world"]

WAIT = 10.0
"""The most a test waits for something it expects at once."""

AS_OF = (
    "query($p: Int!, $from: Date) "
    "{ differences(slice: {periodFrom: $from}, asOf: {position: $p}) { position } }"
)


def question(number: int, head: int) -> dict[str, Any]:
    """The variables of AS_OF for the `number`th of many different answers: as of
    a past position, over a period of its own (nothing cached answers it)."""
    day = dt.date(2000, 1, 1) + dt.timedelta(days=number)
    return {"p": 1 + number % head, "from": day.isoformat()}


@contextmanager
def answers_held(views: ImpactViews) -> Iterator[threading.Event]:
    """Every answer worked out (ImpactViews.report, in its database thread) waits
    for the gate before it is worked out, as one that takes seconds of CPU does:
    what the other requests get meanwhile is what a burst of slow answers leaves
    them."""
    gate = threading.Event()
    report = views.report

    def held(*args: Any, **kwargs: Any) -> Any:
        gate.wait(2 * WAIT)
        return report(*args, **kwargs)

    views.report = held  # type: ignore[method-assign]
    try:
        yield gate
    finally:
        gate.set()
        del views.report


async def until(condition: Any, said: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, said
        await asyncio.sleep(0.01)


async def settled(tasks: list["asyncio.Future[httpx.Response]"]) -> None:
    """Until those told at once have been told: none more is answered for half a
    second (the rest wait for the gate)."""
    deadline = time.monotonic() + WAIT
    answered = -1
    while answered != (answered := sum(task.done() for task in tasks)):
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.5)


async def within_wait(asked: Awaitable[httpx.Response]) -> httpx.Response | None:
    """The answer, or None when it does not come within WAIT."""
    try:
        return await asyncio.wait_for(asked, WAIT)
    except TimeoutError:
        return None


async def let_go(
    gate: threading.Event, asked: list["asyncio.Future[httpx.Response]"]
) -> list[httpx.Response]:
    """Let the held answers be worked out; every answer (none left running in a
    thread once the test has closed the store)."""
    gate.set()
    return list(await asyncio.gather(*asked))


def test_one_tokens_burst_of_as_of_answers_leaves_the_threads_to_everyone_else(
    database_url: str,
) -> None:
    """An auditor's script asks for the answers as of many past positions at
    once: each is worked out afresh (nothing cached holds a past position), so
    each held one of the database threads every request is answered by, and the
    rest queued ahead of everyone else's. Measured on a 100k-event organisation,
    80 such requests from one token kept another token's `{ __typename }`
    waiting 13 s. Now a caller's answers are worked out one at a time, and
    another organisation's evaluator is answered meanwhile."""
    with api_store(database_url) as store:
        mind, elsewhere = (
            organisation_with_a_chain(store.records, name).organisation_id
            for name in ("Mind", "Elsewhere")
        )
        store.views.catch_up()
        head = store.views.position()
        own = store.token(mind, Role.AUDITOR)
        theirs = store.token(elsewhere, Role.EVALUATOR)
        burst = 12  # fewer than are refused, more than the database threads

        async def attack() -> tuple[list[httpx.Response], httpx.Response | None, int]:
            async with client(store) as http:
                with answers_held(store.views) as gate:
                    asked = [
                        asyncio.ensure_future(
                            graphql(http, AS_OF, question(i, head), token=own)
                        )
                        for i in range(burst)
                    ]
                    try:
                        await until(
                            lambda: (
                                database_calls().borrowed_tokens
                                >= ANSWERS_AT_ONCE_PER_CALLER
                            ),
                            "no answer was ever worked out",
                        )
                        await settled(asked)
                        held = database_calls().borrowed_tokens
                        other = await within_wait(
                            graphql(http, "{ organisation { name } }", token=theirs)
                        )
                    finally:
                        answers = await let_go(gate, asked)
                    return answers, other, held

        answers, other, held = asyncio.run(attack())
        assert other is not None, "another caller waited behind the burst"
        assert data_of(other)["organisation"]["name"] == "Elsewhere"
        assert held == ANSWERS_AT_ONCE_PER_CALLER
        for response in answers:
            assert data_of(response)["differences"]["position"] >= 1


def test_a_flood_of_answer_requests_is_refused_at_once_and_the_rest_answered(
    database_url: str,
) -> None:
    """Past QUESTIONS_PER_CALLER different answers of one caller under way, a
    request for another is refused at once, HTTP 429 with Retry-After and
    TOO_MANY_REQUESTS, rather than waiting with the rest; those waiting are all
    answered, and the caller is answered again once they have been."""
    with api_store(database_url) as store:
        mind = organisation_with_a_chain(store.records, "Mind").organisation_id
        store.views.catch_up()
        head = store.views.position()
        own = store.token(mind, Role.AUDITOR)
        over = 3

        async def attack() -> tuple[list[httpx.Response], list[int], httpx.Response]:
            async with client(store) as http:
                with answers_held(store.views) as gate:
                    asked = [
                        asyncio.ensure_future(
                            graphql(http, AS_OF, question(i, head), token=own)
                        )
                        for i in range(QUESTIONS_PER_CALLER + over)
                    ]
                    try:
                        await settled(asked)
                        told_at_once = [i for i, t in enumerate(asked) if t.done()]
                    finally:
                        responses = await let_go(gate, asked)
                again = await graphql(http, AS_OF, question(0, head), token=own)
                return responses, told_at_once, again

        responses, told_at_once, again = asyncio.run(attack())
        assert len(told_at_once) == over
        for index, response in enumerate(responses):
            if index in told_at_once:
                assert response.status_code == 429, response.text
                assert int(response.headers["retry-after"]) > 0
                assert code_of(response) == "TOO_MANY_REQUESTS"
                assert "still being worked out" in response.text
            else:
                assert data_of(response)["differences"]["position"] >= 1
        assert data_of(again)["differences"]["position"] == 1


def test_a_request_of_many_answers_is_answered_whole_while_its_caller_is_busy(
    database_url: str,
) -> None:
    """One request asking for as many answers as its budget allows (each a
    moment of its own, answered one at a time) is never refused part-way, even
    when it comes as its caller's others nearly reach the bound; nor are many
    requests asking what is already being worked out for the caller."""
    with api_store(database_url) as store:
        mind = organisation_with_a_chain(store.records, "Mind").organisation_id
        store.views.catch_up()
        head = store.views.position()
        own = store.token(mind, Role.AUDITOR)
        fields = " ".join(
            f"a{p}: differences(asOf: {{position: {p}}}) {{ position }}"
            for p in range(1, min(head, 9) + 1)
        )

        async def ask() -> tuple[list[httpx.Response], httpx.Response]:
            async with client(store) as http:
                with answers_held(store.views) as gate:
                    others = [
                        asyncio.ensure_future(
                            graphql(
                                http,
                                AS_OF,
                                question(i % (QUESTIONS_PER_CALLER - 1), head),
                                token=own,
                            )
                        )
                        for i in range(2 * QUESTIONS_PER_CALLER)
                    ]
                    many = asyncio.ensure_future(
                        graphql(http, f"{{ {fields} }}", token=own)
                    )
                    try:
                        await settled([*others, many])
                    finally:
                        answered = await let_go(gate, others)
                    return answered, await many

        others, many = asyncio.run(ask())
        assert len(data_of(many)) == min(head, 9)
        assert all(data_of(response)["differences"] for response in others)


def test_one_persons_burst_of_answer_pages_leaves_the_app_to_everyone_else(
    world: World,
) -> None:
    """A person opens the answer page as of many past moments at once (tabs, or a
    script with their session): each page's answers are worked out a few at a
    time for them, so another person's pages are answered meanwhile; past the
    bound, a page is the busy page (429, Retry-After) saying why."""
    head = world.views.position()
    asked_for = QUESTIONS_PER_CALLER + 8

    async def attack() -> tuple[list[httpx.Response], httpx.Response | None]:
        async with (
            http_of(world, MIND_EVALUATOR) as own,
            http_of(world, OTHER_EVALUATOR) as other,
        ):
            with answers_held(world.views) as gate:
                pages: list[Awaitable[httpx.Response]] = [
                    own.get("/answers", params={"as_of": p, "from": period})
                    for p, period in (
                        question(i, head).values() for i in range(asked_for)
                    )
                ]
                asked = [asyncio.ensure_future(page) for page in pages]
                try:
                    await settled(asked)
                    theirs = await within_wait(other.get("/organisation"))
                finally:
                    responses = await let_go(gate, asked)
                return responses, theirs

    responses, theirs = asyncio.run(attack())
    assert theirs is not None, "another person waited behind the burst"
    assert theirs.status_code == 200, theirs.text[:300]
    codes = [r.status_code for r in responses]
    assert set(codes) == {200, 429}, codes
    # Each page asks at least one answer of its own as it is admitted.
    assert codes.count(429) >= asked_for - QUESTIONS_PER_CALLER, codes
    for response in responses:
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) > 0
            assert "Your earlier requests are still being answered" in response.text


def test_an_answer_page_draws_its_charts_off_the_event_loop(
    world: World, monkeypatch: Any
) -> None:
    """vl-convert holds the interpreter while it draws (some 0.4 s for a page's
    charts at 100k events): drawn as the page's template was rendered, on the
    event loop, every page with new figures stopped every other request of the
    server meanwhile, /healthz included (measured: 1.2 s). The page's charts are
    drawn in its worker thread, beside its other work."""
    drawn_on: list[threading.Thread] = []
    draw = vl_convert.vegalite_to_svg

    def noted(*args: Any, **kwargs: Any) -> str:
        drawn_on.append(threading.current_thread())
        return draw(*args, **kwargs)

    monkeypatch.setattr(vl_convert, "vegalite_to_svg", noted)
    charts.drawn.cache_clear()

    async def ask() -> tuple[httpx.Response, threading.Thread]:
        async with http_of(world, MIND_EVALUATOR) as own:
            return await own.get("/answers"), threading.current_thread()

    page, loop_thread = asyncio.run(ask())
    assert page.status_code == 200, page.text[:300]
    assert "<svg" in page.text
    assert drawn_on
    assert loop_thread not in drawn_on


def test_an_answer_page_renders_its_template_off_the_event_loop(
    world: World, monkeypatch: Any
) -> None:
    """The answer page's template was rendered on the event loop, once its
    charts were drawn: measured on a 100k-event organisation, 208 ms (median of
    seven; up to 564 ms) for its 650 KB of HTML, all that time no other request
    of the server answered. It is rendered in the page's worker thread, as its
    charts are drawn."""
    rendered_on: list[threading.Thread] = []
    render = jinja2.Template.render

    def noted(template: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        if template.name == "answers/page.html":
            rendered_on.append(threading.current_thread())
        return render(template, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", noted)

    async def ask() -> tuple[httpx.Response, threading.Thread]:
        async with http_of(world, MIND_EVALUATOR) as own:
            return await own.get("/answers"), threading.current_thread()

    page, loop_thread = asyncio.run(ask())
    assert page.status_code == 200, page.text[:300]
    assert 'action="/sign-out"' in page.text  # in the frame, signed in
    assert rendered_on
    assert loop_thread not in rendered_on


def test_a_tables_csv_is_written_off_the_event_loop(
    world: World, monkeypatch: Any
) -> None:
    """A table's CSV was written on the event loop: measured on a 100k-event
    organisation, the meetings table's (2,754 rows) took 95 ms, all that time no
    other request of the server answered. It is written in the caller's answer
    thread, as the workbook of every table is."""
    written_on: list[threading.Thread] = []
    write = downloads.csv_of

    def noted(*args: Any, **kwargs: Any) -> str:
        written_on.append(threading.current_thread())
        return write(*args, **kwargs)

    monkeypatch.setattr(answer_routes, "csv_of", noted)  # as answer_routes calls it

    async def ask() -> tuple[httpx.Response, threading.Thread]:
        async with http_of(world, MIND_EVALUATOR) as own:
            return (
                await own.get("/answers/tables/meetings.csv"),
                threading.current_thread(),
            )

    table, loop_thread = asyncio.run(ask())
    assert table.status_code == 200, table.text[:300]
    assert table.headers["content-type"].startswith("text/csv")
    assert written_on
    assert loop_thread not in written_on


def test_answers_cancelled_by_a_failing_field_still_count_for_their_caller(
    database_url: str,
) -> None:
    """An evaluator's script asked, many times at once, for an answer as of a
    past position beside an answer for an initiative that does not exist: the
    second failed at once, graphql-core cancelled the first while its database
    thread worked it out, and its turn (one answer of the caller's at a time,
    one of the ten database threads) was given to the next while the thread went
    on, so every one of the burst was worked out at once. Now a cancelled answer
    holds its caller's turn until its thread has ended."""
    with api_store(database_url) as store:
        mind = organisation_with_a_chain(store.records, "Mind").organisation_id
        store.views.catch_up()
        head = store.views.position()
        own = store.token(mind, Role.EVALUATOR)
        nowhere = "00000000-0000-4000-8000-000000000000"
        failing = (
            "query($p: Int!, $from: Date) "
            "{ a: differences(slice: {periodFrom: $from}, asOf: {position: $p}) "
            "{ position } "
            f'b: intendedOutcomes(slice: {{initiativeId: "{nowhere}"}}) '
            "{ position } }"
        )
        burst = 12
        running: list[int] = []
        most = [0]
        lock = threading.Lock()

        async def attack() -> list[httpx.Response]:
            async with client(store) as http:
                with answers_held(store.views) as gate:
                    held = store.views.report

                    def counted(*args: Any, **kwargs: Any) -> Any:
                        with lock:
                            running.append(1)
                            most[0] = max(most[0], len(running))
                        try:
                            return held(*args, **kwargs)
                        finally:
                            with lock:
                                running.pop()

                    store.views.report = counted  # type: ignore[method-assign]
                    asked = [
                        asyncio.ensure_future(
                            graphql(http, failing, question(i, head), token=own)
                        )
                        for i in range(burst)
                    ]
                    try:
                        await until(lambda: most[0] >= 1, "no answer was begun")
                        await settled(asked)
                    finally:
                        answers = await let_go(gate, asked)
                    return answers

        answers = asyncio.run(attack())
        assert most[0] == ANSWERS_AT_ONCE_PER_CALLER
        for response in answers:
            assert code_of(response) == "NOT_FOUND", response.text
