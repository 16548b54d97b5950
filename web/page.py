"""A page behind sign-in, as the web app's route modules declare it: its path, the roles that may open it, its handler and methods."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from fourpi.domain.access import Role
from fourpi.web.sessions import SignedIn

Handler = Callable[[Request, SignedIn], Awaitable[Response]]


@dataclass(frozen=True)
class Page:
    """A page behind sign-in: its path, the roles that may open it, and its handler."""

    path: str
    roles: frozenset[Role]
    handler: Handler
    methods: tuple[str, ...] = ("GET",)
