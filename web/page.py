"""A page behind sign-in, as the web app's route modules declare it: its path, the roles that may open it, its handler and methods."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from fourpi.domain.access import Role
from fourpi.web.sessions import SignedIn

Handler = Callable[[Request, SignedIn], Awaitable[Response]]

Reply = Callable[[], Awaitable[Response]]
"""What answers a request once its work is done: drawn on the event loop."""

Write = Callable[[Request, FormData, SignedIn], Reply | None]
"""A post's work that awaits nothing (Page.write): called in a worker thread with
the form sent and who sent it; None leaves the post to the page's handler."""


@dataclass(frozen=True)
class Page:
    """A page behind sign-in: its path, the roles that may open it, and its handler.

    A post may also have a write: then its form is read first, and the session's
    check, the role's, the CSRF token's and the write are done in one worker thread,
    one hand-off from the event loop as the API's mutation is; a page's handler
    that asks the store itself hands off a second time."""

    path: str
    roles: frozenset[Role]
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
    write: Write | None = None


def reply_with(response: Response) -> Reply:
    """A reply already made (a redirect) that needs nothing drawn."""

    async def reply() -> Response:
        return response

    return reply
