"""Calling the synchronous services from async code (API resolvers, web pages): in a worker thread, never on the event loop, a bounded number at once."""

import asyncio
import math
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeAlias, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")

DATABASE_CALLS_AT_ONCE = 10
"""Below the 15 connections each eventsourcing datastore pools: more would wait for a
connection and fail after its timeout, where waiting here only queues."""

HEAVY_WORK_AT_ONCE = 1
"""How many pieces of heavy work a server process does at a time: an impact report
(seconds of CPU: its charts, then WeasyPrint's PDF), an answer page's tables as one
XLSX workbook (1-2 s of CPU at 100k events) or an uploaded workbook read and
imported (up to some 500 MB for the largest allowed). A burst of them waits its turn
in the event loop, holding no thread, rather than taking every core, or the memory,
from the other pages."""

HEAVY_WORK_WAITING = 4
"""How many pieces of heavy work may wait their turn in a server process; one asked
for past them is refused at once (ServerBusy: 503 with Retry-After), nothing done.
Without a bound the queue had no end: the 50th of 50 people asking for a report
waited some 50 x 24 s, holding a connection, and was told nothing. Four, for how
long the last of them waits: a report's PDF takes 4-5 s for the demo's initiative
(15 s on a loaded 2-core machine) and 20-30 s for a 100k-event organisation, so
the fourth waits about 20 s to a minute behind a demo-sized organisation's, and
two minutes at most behind the largest measured; any more, and a person (or a
reverse proxy, 60 s by default) gives up before their turn comes. A few people
asking for reports at the same moment all get theirs."""

HEAVY_WORK_RETRY_AFTER_SECONDS = 60
"""What a request refused as the heavy work's queue is full (ServerBusy) is asked
to wait, and the page says ("try again in a minute"): time enough for the queue
to move by one report of the largest organisation measured (20-30 s), and a few of
the demo's."""

OWN_HEAVY_WORK_RETRY_AFTER_SECONDS = 10
"""What a person told their own earlier piece of heavy work is still under way
(AlreadyUnderWay: the web app's busy page, the API's `integrity`) is asked to wait:
about two reports' worth."""

ANSWERS_COMPLETED_AT_ONCE = 1
"""How many answers, once worked out, are completed for a response at a time, in a
thread of their own (`in_completion_thread`): graphql-core checks and lays out each
value of the answer as the query selects it, some 0.45 s of CPU for an answer page's
document of a 100k-event organisation. On the event loop, 9 people downloading 3 of
its CSVs each held another person's home page for up to 3.3 s and /healthz 1.6 s,
and 9 tokens asking it as of past positions held them 6.4 and 3.1 s. One at a time:
the work holds the interpreter, so a second thread of it would only take more of the
event loop's share."""

HEALTH_CHECKS_AT_ONCE = 3
"""Threads of their own for /healthz, /readyz and the store's figures in /metrics
(one each: `health_check`), within the datastore's 15 connections beside
DATABASE_CALLS_AT_ONCE: a load balancer asking whether a busy server is up is
answered at once, not queued behind answers and taken for down."""

HEALTH_CHECK_SECONDS = 5.0
"""How long /healthz and /readyz wait for the store before saying it does not
answer. A store that has gone away makes each read wait 30 s for a connection, and
reads are tried ten times: /healthz answered after 152 s, long after any load
balancer's probe had given up."""

ANSWERS_AT_ONCE_PER_CALLER = 1
"""How many of one caller's answers (a report worked out for a slice and moment:
some 0.85 s of CPU at 100k events when asked as of a past position, which nothing
cached answers) are worked out at once, of DATABASE_CALLS_AT_ONCE. Without it one
token asking 80 as-of answers at once filled every database thread and the queue
behind them: another caller's `{ __typename }` waited 13 s for its token to be
looked up. Their others wait their turn in the event loop, holding no thread.
One, not two: the work holds the interpreter, so a second thread of it gains the
caller little and costs everyone else (measured with 20 such requests at once:
another caller's requests took 25 ms with one, 58 ms with two)."""

QUESTIONS_PER_CALLER = 32
"""How many different answers (a slice at a moment: an answer page asks up to
nine) one caller may have waiting or being worked out at once. A request that
would add another is refused at once (TooManyAtOnce), rather than kept waiting
with its connection and memory behind the rest of that caller's; a request asking
what is already being worked out for them joins it, so a script of 40 clients
asking the same answers on one token is never refused. Nor is a request or page
part-way: the bound is checked as it asks its first answer."""

ANSWERS_RETRY_AFTER_SECONDS = 5
"""What a caller told TooManyAtOnce is asked to wait: their earlier answers are
worked out one at a time, the slowest in about a second."""

Limiters: TypeAlias = (
    "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter]"
)
_limiters: Limiters = weakref.WeakKeyDictionary()
_heavy_limiters: Limiters = weakref.WeakKeyDictionary()
_completion_limiters: Limiters = weakref.WeakKeyDictionary()
_health_limiters: Limiters = weakref.WeakKeyDictionary()
_health_checks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, asyncio.Future[Any]]]" = weakref.WeakKeyDictionary()
_heavy_owners: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[Hashable]]" = (
    weakref.WeakKeyDictionary()
)


class AlreadyUnderWay(Exception):
    """A caller's second piece of heavy work asked for while their first still
    waits or runs: it would queue ahead of everyone else's (the API answers
    TOO_MANY_REQUESTS, the web app 429)."""


class ServerBusy(Exception):
    """Heavy work asked for while HEAVY_WORK_WAITING pieces of other people's
    already wait their turn in this process: not begun, nothing recorded (the API
    answers SERVER_BUSY with HTTP 503, the web app its busy page, 503, each with
    Retry-After)."""


class TooManyAtOnce(AlreadyUnderWay):
    """A caller's request for another answer while QUESTIONS_PER_CALLER of theirs
    are waiting or being worked out (the API answers TOO_MANY_REQUESTS with HTTP
    429, the web app its busy page)."""


@dataclass
class _Asking:
    """One caller's requests with answers under way, the answers, and the threads
    they are worked out in."""

    requests: Counter[Hashable] = field(default_factory=Counter)
    """Each request's answers (or pages) under way."""
    questions: Counter[Hashable] = field(default_factory=Counter)
    """Each different answer under way, by how many of the requests ask it."""
    threads: CapacityLimiter = field(
        default_factory=lambda: CapacityLimiter(ANSWERS_AT_ONCE_PER_CALLER)
    )


_asking: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Hashable, _Asking]]" = weakref.WeakKeyDictionary()
_asked_for: ContextVar[Hashable | None] = ContextVar("asked_for", default=None)
"""The request that answers are now asked for, when something larger than one
GraphQL execution is (a web page, which asks the API several times): its answers
count as that one request's."""


def _of_this_loop(limiters: Limiters, at_once: float) -> CapacityLimiter:
    """The limiter of this event loop (tests run several loops, one after another)."""
    loop = asyncio.get_running_loop()
    limiter = limiters.get(loop)
    if limiter is None:
        limiter = limiters[loop] = CapacityLimiter(at_once)
    return limiter


def database_calls() -> CapacityLimiter:
    return _of_this_loop(_limiters, DATABASE_CALLS_AT_ONCE)


_unbounded_limiters: Limiters = weakref.WeakKeyDictionary()
"""anyio's own bound on threads, not used: each thread is started holding a turn
of one of the limiters above (`to_the_end`). One for each loop, made in it: before
anyio 4.1 a limiter made outside a running loop was refused."""


async def to_the_end(function: Callable[[], T], limiter: CapacityLimiter) -> T:
    """`function` in a worker thread, once `limiter` gives it a turn, which it
    holds until the thread has ended, however the asker is cancelled. While it
    waits its turn it is cancelled at once. anyio's run_sync holds the turn
    through its own cancellation (a cancel scope's, as when a page's client
    leaves) but gave it back at once when the task was cancelled as asyncio
    cancels one (graphql-core cancelling a query's other fields when one fails,
    asyncio.gather the pieces of a page whose client left), while the thread went
    on: the next began beside it, and the bound was broken by as many as were
    cancelled. The cancellation is raised once the thread has ended."""
    async with limiter:
        running = asyncio.ensure_future(
            anyio.to_thread.run_sync(
                function, limiter=_of_this_loop(_unbounded_limiters, math.inf)
            )
        )
        # Not cancelled by a cancel scope meanwhile (anyio would cancel the task
        # again at each turn of the loop until it ended).
        with anyio.CancelScope(shield=True):
            try:
                done = await asyncio.shield(running)
            except asyncio.CancelledError:
                while not running.done():
                    with suppress(asyncio.CancelledError):
                        await asyncio.wait({running})
                if not running.cancelled():
                    running.exception()  # read: the asker has gone
                raise
    return done


async def run_in_thread(function: Callable[[], T]) -> T:
    return await to_the_end(function, database_calls())


async def in_thread(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    return await run_in_thread(partial(function, *args, **kwargs))


async def in_heavy_thread(
    function: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    """As `in_thread`, for heavy work: HEAVY_WORK_AT_ONCE at a time, and
    ServerBusy, at once, when HEAVY_WORK_WAITING others wait their turn."""
    limiter = _of_this_loop(_heavy_limiters, HEAVY_WORK_AT_ONCE)
    if limiter.statistics().tasks_waiting >= HEAVY_WORK_WAITING:
        raise ServerBusy
    return await to_the_end(partial(function, *args, **kwargs), limiter)


def heavy_work_waiting() -> int:
    """How many pieces of heavy work wait their turn in this process now."""
    limiter = _heavy_limiters.get(asyncio.get_running_loop())
    return 0 if limiter is None else limiter.statistics().tasks_waiting


async def in_completion_thread(function: Callable[..., T], /, *args: Any) -> T:
    """As `in_thread`, for completing an answer for its response
    (ANSWERS_COMPLETED_AT_ONCE at a time), beside the database threads: a completion
    waits for no other thread, so it never holds one that an answer it waits for
    needs."""
    limiter = _of_this_loop(_completion_limiters, ANSWERS_COMPLETED_AT_ONCE)
    return await to_the_end(partial(function, *args), limiter)


async def in_heavy_thread_for(
    owner: Hashable, function: Callable[..., T], /, *args: Any
) -> T:
    """As `in_heavy_thread`, for a caller (`owner`: who asks, as events name them,
    fourpi.privacy.visibility.Caller.actor): at most one of each caller's pieces
    waits or runs at once, so one person's burst, or requests they leave before
    they are answered, do not hold up everyone else's; AlreadyUnderWay for
    another, and ServerBusy when others' fill the queue (`in_heavy_thread`)."""
    loop = asyncio.get_running_loop()
    # Touched only on the event loop: no lock.
    owners = _heavy_owners.setdefault(loop, set())
    if owner in owners:
        raise AlreadyUnderWay
    owners.add(owner)
    try:
        return await in_heavy_thread(function, *args)
    finally:
        owners.discard(owner)


@contextmanager
def answering(
    owner: Hashable, request: Hashable, question: Hashable = None
) -> Iterator[CapacityLimiter]:
    """Count `question` (an answer: its slice and moment, or None for none) as
    asked by `request`, one of `owner`'s (who asks, as events name them,
    fourpi.privacy.visibility.Caller.actor), while the block runs. TooManyAtOnce
    when it is a new request's first, is not already under way for the owner, and
    QUESTIONS_PER_CALLER others are. Within a block (a web page's), answers count
    as its request's, so a page asking for several, in several executions, is
    never refused part-way. Gives the limiter of the owner's threads for answers
    (in_answer_thread)."""
    # Touched only on the event loop: no lock.
    callers = _asking.setdefault(asyncio.get_running_loop(), {})
    asking = callers.get(owner) or callers.setdefault(owner, _Asking())
    request = _asked_for.get() or request
    if (
        request not in asking.requests
        and question not in asking.questions
        and len(asking.questions) >= QUESTIONS_PER_CALLER
    ):
        raise TooManyAtOnce
    asking.requests[request] += 1
    if question is not None:
        asking.questions[question] += 1
    within = _asked_for.set(request)
    try:
        yield asking.threads
    finally:
        _asked_for.reset(within)
        asking.requests -= Counter({request: 1})
        if question is not None:
            asking.questions -= Counter({question: 1})
        if not asking.requests:
            del callers[owner]


async def in_answer_thread(
    owner: Hashable,
    request: Hashable,
    function: Callable[[], T],
    question: Hashable = None,
) -> T:
    """As `run_in_thread`, for working out an answer (`question`), or drawing its
    charts, for a caller (`answering`): at most ANSWERS_AT_ONCE_PER_CALLER of
    theirs at once, so one caller's burst of answers that nothing cached answers
    (as of many past positions, over many periods) leaves the other database
    threads to everyone else."""
    with answering(owner, request, question) as threads:
        async with threads:
            return await run_in_thread(function)


class Left(Exception):
    """The client who asked went away (closed the page, or gave up waiting) while
    their piece of heavy work waited its turn: it was not done, and their turn is
    free again."""


async def unless_left(receive: Callable[[], Awaitable[Any]], work: Awaitable[T]) -> T:
    """`work`, or Left once the request's client has gone away (`receive`, the
    request's ASGI receive, its body read before, gives http.disconnect) while it
    still waits its turn. A server goes on with a request whose client has gone:
    without this, a piece asked and left would be made for no one when its turn
    came, holding the heavy work and its caller's turn (AlreadyUnderWay to their
    asking again) until then. A piece already in its thread is finished."""

    async def leaving(cancel: Callable[[], None]) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        cancel()

    with anyio.CancelScope() as waiting:
        watching = asyncio.ensure_future(leaving(waiting.cancel))
        try:
            return await work
        finally:
            watching.cancel()
    raise Left


async def in_health_thread(function: Callable[[], T]) -> T:
    """As `run_in_thread`, for the health and readiness checks: never queued behind
    other work (HEALTH_CHECKS_AT_ONCE)."""
    limiter = _of_this_loop(_health_limiters, HEALTH_CHECKS_AT_ONCE)
    return await to_the_end(function, limiter)


async def health_check(name: Hashable, function: Callable[[], T]) -> T:
    """`function` in a health thread, TimeoutError once it has taken longer than
    HEALTH_CHECK_SECONDS. It runs on after that, and probes asked while it runs
    (`name` says which check) wait for it rather than start another: a store that
    does not answer holds one thread for each check, however often it is asked."""
    checks = _health_checks.setdefault(asyncio.get_running_loop(), {})
    check = checks.get(name)
    if check is None or check.done():
        check = checks[name] = asyncio.ensure_future(in_health_thread(function))
        # Its outcome is read even when every probe waiting for it has given up.
        check.add_done_callback(lambda done: done.cancelled() or done.exception())
    return await asyncio.wait_for(asyncio.shield(check), HEALTH_CHECK_SECONDS)
