"""A page's heavy work (an impact report, an uploaded workbook read and imported): one piece at a time in a server process, at most one of each signed-in person's at once, and done only for the caller who asked, as the store says when its turn comes."""

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

from starlette.requests import Request

from fourpi.threads import in_heavy_thread
from fourpi.web import sessions
from fourpi.web.sessions import SignedIn

T = TypeVar("T")

RETRY_AFTER_SECONDS = 10
"""What a person told to wait for their own earlier piece is asked to wait: about
two reports' worth."""


class AlreadyUnderWay(Exception):
    """The person already has a piece of heavy work waiting or being made: a
    second would queue ahead of everyone else's (429)."""


class CallerChanged(Exception):
    """By the work's turn, the session that asked had ended (signed out, idle, the
    account disabled) or its account had another role or grant: nothing is done."""


def under_way(request: Request) -> set[UUID]:
    """The accounts whose heavy work waits or runs in this process; touched only on
    the event loop, so it needs no lock."""
    found: set[UUID] | None = getattr(request.app.state, "heavy_work", None)
    if found is None:
        found = request.app.state.heavy_work = set()
    return found


async def heavy_work(
    request: Request, live: SignedIn, function: Callable[..., T], /, *args: Any
) -> T:
    """`function(*args)` in its turn (fourpi.threads.in_heavy_thread), for the
    caller who asked: AlreadyUnderWay when this person's earlier piece is still
    waiting or running; CallerChanged when, once its turn came, the session no
    longer gives the caller it gave when the request began (a report waits
    behind others' for seconds or minutes, and an account disabled meanwhile must
    not be given it, nor have its workbook imported)."""
    mine = under_way(request)
    if live.account.id in mine:
        raise AlreadyUnderWay
    mine.add(live.account.id)
    try:
        return await in_heavy_thread(
            for_the_caller, request, live, partial(function, *args)
        )
    finally:
        mine.discard(live.account.id)


def for_the_caller(request: Request, live: SignedIn, work: Callable[[], T]) -> T:
    if not sessions.still_the_caller(request, live):
        raise CallerChanged
    return work()
