"""Rendering a page in the frame every page lives in: the layout's organisation name, navigation by role, the signed-in person and the forms' CSRF token; and the content security policy every page carries."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp

from fourpi.domain.access import Role
from fourpi.local_time import local
from fourpi.operations.headers import SecurityHeaders
from fourpi.privacy.visibility import ADMINS, READERS_OF_ANSWERS, WRITERS_OF_RECORDS
from fourpi.threads import in_thread
from fourpi.web.sessions import (
    SignedIn,
    accounts_of,
    form_token,
    remember_form_token,
)

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")

ROLE_NAMES = {
    Role.MANAGER: "project manager",
    Role.EVALUATOR: "evaluator",
    Role.AUDITOR: "auditor",
    Role.ADMIN: "admin",
}

WORDS = {
    "co_production": "co-production",
    "individual_care_and_treatment": "individual care and treatment",
    "partly_achieved": "partly achieved",
    "too_early_to_tell": "too early to tell",
    "end_result": "end result",
}


def words(value: object) -> str:
    """A vocabulary value in plain words: "focus_group" reads "focus group"."""
    text = str(getattr(value, "value", value))
    return WORDS.get(text, text.replace("_", " "))


templates.env.filters["words"] = words
templates.env.filters["local"] = local
templates.env.filters["role_name"] = lambda role: ROLE_NAMES.get(role, str(role))


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str


def navigation(role: Role) -> list[NavItem]:
    """What a role can reach from every page."""
    items = [NavItem("Home", "/")]
    if role in READERS_OF_ANSWERS:
        items.append(NavItem("Initiatives", "/organisation"))
        items.append(NavItem("Answers", "/answers"))
    if role in WRITERS_OF_RECORDS:
        items += [NavItem("To do", "/to-do"), NavItem("Record something", "/record")]
    if role in ADMINS:
        items.append(NavItem("People and accounts", "/accounts"))
    return items


async def organisation_name(request: Request, live: SignedIn | None) -> str | None:
    if live is None:
        return None
    records = accounts_of(request).records
    organisation = await in_thread(records.organisation, live.account.organisation_id)
    return str(organisation.name)


async def frame_of(request: Request) -> dict[str, Any]:
    """What the layout (templates/layout.html) shows around every page."""
    live: SignedIn | None = getattr(request.state, "signed_in", None)
    return {
        "signed": live,
        "caller": None if live is None else live.caller,
        "organisation_name": await organisation_name(request, live),
        "nav": [] if live is None else navigation(live.caller.role),
        "current_path": request.url.path,
        "csrf_token": form_token(request),
        "errors": [],
    }


async def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """A page in the layout (templates/layout.html: blocks `title` and `main`)."""
    frame = await frame_of(request)
    frame.update(context or {})
    response = templates.TemplateResponse(
        request, template, frame, status_code=status_code
    )
    remember_form_token(request, response)
    return response


async def render_apart(
    request: Request,
    template: str,
    context_of: Callable[[], dict[str, Any]],
    run: Callable[[Callable[[], str]], Awaitable[str]],
) -> Response:
    """As render, its context made and the page rendered by `run`, in a thread:
    a large page is rendered in a fifth of a second or more (a 100k-event
    organisation's answer page), and on the event loop no other request of the
    server would be answered meanwhile."""
    frame = await frame_of(request)
    page = templates.get_template(template)

    def rendered() -> str:
        return page.render({**frame, "request": request, **context_of()})

    response = HTMLResponse(await run(rendered))
    remember_form_token(request, response)
    return response


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def with_security_headers(app: ASGIApp) -> ASGIApp:
    """The web app's responses with the security headers (fourpi.operations.headers)
    and a policy that runs no inline script: a page's scripts and styles come from
    this site alone."""
    return SecurityHeaders(app, CONTENT_SECURITY_POLICY)
