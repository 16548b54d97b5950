"""A page's heavy work (an impact report, the answers' tables as a workbook, an uploaded workbook read and imported): one piece at a time in a server process, at most one of each signed-in person's at once (fourpi.threads.in_heavy_thread_for), done only for the caller who asked, as the store says when its turn comes, and not at all once they have left."""

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from starlette.requests import Request

from fourpi.threads import AlreadyUnderWay, Left, in_heavy_thread_for, unless_left
from fourpi.web.sessions import SignedIn, as_the_caller

T = TypeVar("T")

__all__ = ["AlreadyUnderWay", "Left", "heavy_work"]


async def heavy_work(
    request: Request, live: SignedIn, function: Callable[..., T], /, *args: Any
) -> T:
    """`function(*args)` in its turn, for the caller who asked: AlreadyUnderWay
    when this person's earlier piece still waits or runs; CallerChanged when, once
    its turn came, the session no longer gives the caller it gave when the request
    began (a report waits behind others' for seconds or minutes, and an account
    disabled meanwhile must not be given it, nor have its workbook imported); Left
    when its client went away while it waited (fourpi.threads.unless_left)."""
    return await unless_left(
        request.receive,
        in_heavy_thread_for(
            live.caller.actor, as_the_caller, request, live, partial(function, *args)
        ),
    )
