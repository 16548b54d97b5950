"""A page's heavy work (an impact report, an uploaded workbook read and imported): one piece at a time in a server process, at most one of each signed-in person's at once (fourpi.threads.in_heavy_thread_for), done only for the caller who asked, as the store says when its turn comes, and not at all once they have left."""

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
from starlette.requests import Request

from fourpi.threads import AlreadyUnderWay, in_heavy_thread_for
from fourpi.web.sessions import SignedIn, as_the_caller

T = TypeVar("T")

RETRY_AFTER_SECONDS = 10
"""What a person told to wait for their own earlier piece is asked to wait: about
two reports' worth."""

__all__ = ["AlreadyUnderWay", "Left", "heavy_work"]


class Left(Exception):
    """The person who asked went away (closed the page, or their browser gave up)
    while their piece waited its turn: it was not done, and their turn is free."""


async def heavy_work(
    request: Request, live: SignedIn, function: Callable[..., T], /, *args: Any
) -> T:
    """`function(*args)` in its turn, for the caller who asked: AlreadyUnderWay
    when this person's earlier piece still waits or runs; CallerChanged when, once
    its turn came, the session no longer gives the caller it gave when the request
    began (a report waits behind others' for seconds or minutes, and an account
    disabled meanwhile must not be given it, nor have its workbook imported); Left
    when the client went away first (the server goes on with a request whose client
    has gone, and the piece would be made for no one, the heavy work and this
    person's turn held meanwhile: they would be told 429 until it was)."""
    with anyio.CancelScope() as waiting:
        watching = asyncio.ensure_future(left_then(request, waiting.cancel))
        try:
            return await in_heavy_thread_for(
                live.caller.actor,
                as_the_caller,
                request,
                live,
                partial(function, *args),
            )
        finally:
            watching.cancel()
    raise Left


async def left_then(request: Request, cancel: Callable[[], None]) -> None:
    """`cancel()` once the request's client has gone away. Its body was read
    before: only that is left to receive."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
    cancel()
