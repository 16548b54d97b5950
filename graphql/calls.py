"""Calling the synchronous services from async resolvers: in a worker thread, never on the event loop, with domain errors turned into client errors."""

import asyncio
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

from fourpi.domain.errors import DomainError
from fourpi.graphql.errors import from_domain

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
    try:
        return await run_in_thread(partial(function, *args, **kwargs))
    except DomainError as error:
        raise from_domain(error) from error


async def in_thread_for_input(function: Callable[[], T]) -> T:
    """As in_thread, for a mutation: an error names its field inside the `input` argument."""
    try:
        return await run_in_thread(function)
    except DomainError as error:
        raise from_domain(error, under="input") from error
