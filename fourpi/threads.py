"""Calling the synchronous services from async code (API resolvers, web pages): in a worker thread, never on the event loop, a bounded number at once."""

import asyncio
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

T = TypeVar("T")

DATABASE_CALLS_AT_ONCE = 10
"""Below the 15 connections each eventsourcing datastore pools: more would wait for a
connection and fail after its timeout, where waiting here only queues."""

_limiters: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter]" = (
    weakref.WeakKeyDictionary()
)


def database_calls() -> CapacityLimiter:
    """The limiter of this event loop (tests run several loops, one after another)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(DATABASE_CALLS_AT_ONCE)
    return limiter


async def run_in_thread(function: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(function, limiter=database_calls())


async def in_thread(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    return await run_in_thread(partial(function, *args, **kwargs))
