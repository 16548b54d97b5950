"""Calling the synchronous services from async code (API resolvers, web pages): in a worker thread, never on the event loop, a bounded number at once."""

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable
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
(seconds of CPU: its charts, then WeasyPrint's PDF) or an uploaded workbook read and
imported (up to some 500 MB for the largest allowed). A burst of them waits its turn
in the event loop, holding no thread, rather than taking every core, or the memory,
from the other pages."""

HEALTH_CHECKS_AT_ONCE = 2
"""Threads of their own for /healthz and /readyz, within the datastore's 15
connections beside DATABASE_CALLS_AT_ONCE: a load balancer asking whether a busy
server is up is answered at once, not queued behind answers and taken for down."""

Limiters: TypeAlias = (
    "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter]"
)
_limiters: Limiters = weakref.WeakKeyDictionary()
_heavy_limiters: Limiters = weakref.WeakKeyDictionary()
_health_limiters: Limiters = weakref.WeakKeyDictionary()
_heavy_owners: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[Hashable]]" = (
    weakref.WeakKeyDictionary()
)


class AlreadyUnderWay(Exception):
    """A caller's second piece of heavy work asked for while their first still
    waits or runs: it would queue ahead of everyone else's (the API answers
    TOO_MANY_REQUESTS, the web app 429)."""


def _of_this_loop(limiters: Limiters, at_once: int) -> CapacityLimiter:
    """The limiter of this event loop (tests run several loops, one after another)."""
    loop = asyncio.get_running_loop()
    limiter = limiters.get(loop)
    if limiter is None:
        limiter = limiters[loop] = CapacityLimiter(at_once)
    return limiter


def database_calls() -> CapacityLimiter:
    return _of_this_loop(_limiters, DATABASE_CALLS_AT_ONCE)


async def run_in_thread(function: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(function, limiter=database_calls())


async def in_thread(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    return await run_in_thread(partial(function, *args, **kwargs))


async def in_heavy_thread(
    function: Callable[..., T], /, *args: Any, **kwargs: Any
) -> T:
    """As `in_thread`, for heavy work: HEAVY_WORK_AT_ONCE at a time."""
    limiter = _of_this_loop(_heavy_limiters, HEAVY_WORK_AT_ONCE)
    return await anyio.to_thread.run_sync(
        partial(function, *args, **kwargs), limiter=limiter
    )


async def in_heavy_thread_for(
    owner: Hashable, function: Callable[..., T], /, *args: Any
) -> T:
    """As `in_heavy_thread`, for a caller (`owner`: who asks, as events name them,
    fourpi.privacy.visibility.Caller.actor): at most one of each caller's pieces
    waits or runs at once, so one person's burst, or requests they leave before
    they are answered, do not hold up everyone else's; AlreadyUnderWay for
    another."""
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
    return await anyio.to_thread.run_sync(function, limiter=limiter)
