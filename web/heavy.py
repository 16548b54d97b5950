"""A page's heavy work (an impact report, an uploaded workbook read and imported): one piece at a time in a server process, at most one of each signed-in person's at once (fourpi.threads.in_heavy_thread_for), and done only for the caller who asked, as the store says when its turn comes."""

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from starlette.requests import Request

from fourpi.threads import AlreadyUnderWay, in_heavy_thread_for
from fourpi.web import sessions
from fourpi.web.sessions import SignedIn

T = TypeVar("T")

RETRY_AFTER_SECONDS = 10
"""What a person told to wait for their own earlier piece is asked to wait: about
two reports' worth."""

__all__ = ["AlreadyUnderWay", "CallerChanged", "heavy_work"]


class CallerChanged(Exception):
    """By the work's turn, the session that asked had ended (signed out, idle, the
    account disabled) or its account had another role or grant: nothing is done."""


async def heavy_work(
    request: Request, live: SignedIn, function: Callable[..., T], /, *args: Any
) -> T:
    """`function(*args)` in its turn, for the caller who asked: AlreadyUnderWay
    when this person's earlier piece still waits or runs; CallerChanged when, once
    its turn came, the session no longer gives the caller it gave when the request
    began (a report waits behind others' for seconds or minutes, and an account
    disabled meanwhile must not be given it, nor have its workbook imported)."""
    return await in_heavy_thread_for(
        live.caller.actor, for_the_caller, request, live, partial(function, *args)
    )


def for_the_caller(request: Request, live: SignedIn, work: Callable[[], T]) -> T:
    if not sessions.still_the_caller(request, live):
        raise CallerChanged
    return work()
