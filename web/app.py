"""The web app's routes: signing in and out, invitations, the home page of each role, the organisation and initiative pages, and people's accounts for admins."""

import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from os import PathLike
from pathlib import Path
from typing import Any
from uuid import UUID

from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from fourpi.accounts import Accounts, SessionLimits, SignInRefused, invitation_link
from fourpi.client_network import guesser_of
from fourpi.config import ApiLimits
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import (
    DomainError,
    InvalidInput,
    RecordNotFound,
)
from fourpi.operations.observability import (
    CLIENT_WENT_AWAY,
    note_unknown_path,
    path_for_log,
)
from fourpi.privacy.visibility import (
    ADMINS,
    READERS_OF_ANSWERS,
    WRITERS_OF_RECORDS,
    may_pass_on_grant,
)
from fourpi.projections.answers import Slice
from fourpi.projections.views import ImpactViews
from fourpi.storage.store_access import STORE_UNREACHABLE, store_refusal
from fourpi.threads import (
    ANSWERS_RETRY_AFTER_SECONDS,
    HEAVY_WORK_RETRY_AFTER_SECONDS,
    UNDER_WAY_RETRY_AFTER_SECONDS,
    ServerBusy,
    TooManyAtOnce,
    in_thread,
)
from fourpi.web import (
    contributor,
    forms,
    personal_links,
    reading,
    record_pages,
    sessions,
    todo,
    workbook_upload,
)
from fourpi.web.answer_routes import answer_pages
from fourpi.web.heavy import AlreadyUnderWay, Left
from fourpi.web.page import Page, Reply, Write, reply_with
from fourpi.web.pages import render, templates, with_security_headers
from fourpi.web.posted import form_of
from fourpi.web.reading import initiative_page, initiatives_of, report_of
from fourpi.web.sessions import CallerChanged, SignedIn, accounts_of, signed_in

HERE = Path(__file__).resolve().parent
SIGN_IN = "/sign-in"
EVERYONE = frozenset(Role)

log = logging.getLogger("fourpi.web")


async def refused(request: Request) -> Response:
    return await render(request, "refused.html", status_code=403)


async def not_found(request: Request) -> Response:
    return await render(request, "not_found.html", status_code=404)


async def busy(
    request: Request, *, answers: bool = False, others: bool = False
) -> Response:
    """429: the person's earlier heavy work (a report, a workbook) is still under
    way, or, with `answers`, too many of their requests for answers are. With
    `others`, 503: other people's heavy work fills the server's queue (ServerBusy),
    so this was not begun."""
    context = {"answers": answers, "others": others}
    status = 503 if others else 429
    response = await render(request, "busy.html", context, status_code=status)
    if others:
        wait = HEAVY_WORK_RETRY_AFTER_SECONDS
    else:
        wait = ANSWERS_RETRY_AFTER_SECONDS if answers else UNDER_WAY_RETRY_AFTER_SECONDS
    response.headers["Retry-After"] = str(wait)
    return response


LARGER_BODIES = {"/workbook": workbook_upload.LARGEST_BODY_BYTES}
"""The pages that take a post larger than any other page (form_body_bytes):
fourpi.graphql.app.BodySizeLimit lets these through."""


PERCENT_ENCODED = 3
"""How many bytes a browser sends, in a form, for each byte of UTF-8 beyond ASCII."""


def form_body_bytes(api_bytes: int) -> int:
    """The largest post a page takes (but the workbook's, LARGER_BODIES): the API's
    limit (FOURPI_MAX_BODY_BYTES) as a form sends it, each byte of text beyond
    ASCII percent-encoded as three, so that what fits in a mutation's body fits
    in the form for it (two long texts of 10,000 characters in any script)."""
    return api_bytes * PERCENT_ENCODED


def too_large(largest: int) -> ASGIApp:
    """What answers a post larger than its page takes, read no further: a page
    saying how large it may be."""

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        upload = largest >= workbook_upload.LARGEST_UPLOAD_BYTES
        context = {
            "largest": size_of(largest),
            "largest_file": upload and size_of(workbook_upload.LARGEST_UPLOAD_BYTES),
        }
        response = await render(request, "too_large.html", context, status_code=413)
        await response(scope, receive, send)

    return with_security_headers(page)


def too_slow(wait: float) -> ASGIApp:
    """What answers a post whose body did not arrive in time: a page saying so."""

    async def page(scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await render(
            request, "too_slow.html", {"wait": f"{wait:g}"}, status_code=408
        )
        await response(scope, receive, send)

    return with_security_headers(page)


def size_of(count: int) -> str:
    if count >= 2**20:
        return f"{count / 2**20:.0f} MB"
    return f"{count // 1000:,} KB" if count >= 1000 else f"{count:,} bytes"


def behind_sign_in(page: Page) -> Callable[[Request], Awaitable[Response]]:
    """Signed out: 303 to sign-in. Signed in with another role: 403. A changing form
    without this session's CSRF token: 403, and nothing is recorded. Another
    organisation's record: 404, as one that does not exist."""

    async def endpoint(request: Request) -> Response:
        try:
            reply = await reply_of(request)
            return await reply()
        except RecordNotFound:
            # Another organisation's record (CrossOrganisationReference) reads
            # exactly as one that does not exist.
            return await not_found(request)
        except TooManyAtOnce:
            return await busy(request, answers=True)
        except ServerBusy:
            return await busy(request, others=True)
        except AlreadyUnderWay:
            return await busy(request)
        except Left:
            # An answer to no one.
            return Response(status_code=CLIENT_WENT_AWAY)
        except CallerChanged:
            # Its session ended, or its role or grant changed, while the work
            # waited (its turn, the views): refused as the request would be now.
            if await signed_in(request) is None:
                return RedirectResponse(SIGN_IN, status_code=303)
            return await refused(request)

    async def reply_of(request: Request) -> Reply:
        if (
            page.write is not None
            and request.method == "POST"
            and request.cookies.get(sessions.SESSION_COOKIE)
        ):
            # The form is read before the session is checked, so that the check and
            # the write are one hand-off to a worker thread. A page without a write
            # (an upload) reads nothing sent by someone it has not let in.
            sent = await form_of(request)
            written = await in_thread(write_checked, page, page.write, request, sent)
            if written is not None:
                return written
        live = await signed_in(request)
        form = (
            await form_of(request)
            if request.method == "POST" and lets_in(page, live)
            else None
        )
        denied = refusal(page, request, live, form)
        if denied is not None:
            return denied
        assert live is not None  # refusal turns away a request signed out
        return partial(page.handler, request, live)

    return endpoint


def lets_in(page: Page, live: SignedIn | None) -> bool:
    """Whether someone is signed in with a role the page is for."""
    return live is not None and live.caller.role in page.roles


def refusal(
    page: Page, request: Request, live: SignedIn | None, form: FormData | None
) -> Reply | None:
    """The reply to a request the page refuses, or None: the one place this is
    decided, on the event loop or in a post's worker thread (write_checked). `form`
    is a post's form, read once the page lets its sender in (or before, for a
    write); a post without this session's CSRF token records nothing."""
    if live is None:
        return reply_with(RedirectResponse(SIGN_IN, status_code=303))
    if not lets_in(page, live):
        return partial(refused, request)
    if request.method == "POST" and (
        form is None
        or not sessions.csrf_is_valid(
            request, form.get(sessions.CSRF_FIELD), signed_out_form=False
        )
    ):
        return partial(refused, request)
    return None


def write_checked(
    page: Page, write: Write, request: Request, form: FormData
) -> Reply | None:
    """A post, whole, in this worker thread: who sent it as the store says now (a
    session that ended a moment ago writes nothing), the page's refusal, and then
    its write; None when the write leaves the post to the handler."""
    live = sessions.look_up(request)
    denied = refusal(page, request, live, form)
    if denied is not None:
        return denied
    assert live is not None  # refusal turns away a request signed out
    return write(request, form, live)


# Signing in and out


async def sign_in(request: Request) -> Response:
    if request.method != "POST":  # GET, or HEAD answered as GET
        if await signed_in(request) is not None:
            return RedirectResponse("/", status_code=303)
        return await render(request, "sign_in.html", {"email": ""})
    form = await form_of(request)
    if not sessions.csrf_is_valid(
        request, form.get(sessions.CSRF_FIELD), signed_out_form=True
    ):
        return await refused(request)
    email = str(form.get("email") or "")
    password = str(form.get("password") or "")
    address = guesser_of(request)
    try:
        session_id, _ = await in_thread(
            accounts_of(request).sign_in,
            email=email,
            password=password,
            address=address,
        )
    except SignInRefused as refusal:
        return await render(
            request,
            "sign_in.html",
            {"email": email, "errors": [("email", str(refusal))]},
            status_code=400,
        )
    return await signed_in_anew(request, session_id)


async def signed_in_anew(request: Request, session_id: str) -> Response:
    """Home, the browser signed in with a new session (by signing in or joining):
    the session it had before, another account's or its own, ends, so a copy of
    the old cookie opens nothing."""
    old = request.cookies.get(sessions.SESSION_COOKIE)
    if old:
        await in_thread(accounts_of(request).end_session, old)
    response = RedirectResponse("/", status_code=303)
    sessions.start(request, response, session_id)
    return response


async def sign_out(request: Request) -> Response:
    live = await signed_in(request)
    if live is not None:
        form = await form_of(request)
        if not sessions.csrf_is_valid(
            request, form.get(sessions.CSRF_FIELD), signed_out_form=False
        ):
            return await refused(request)
        await in_thread(accounts_of(request).end_session, live.session_id)
    response = RedirectResponse(SIGN_IN, status_code=303)
    sessions.forget(response)
    return response


# Invitations


async def invitation(request: Request) -> Response:
    secret = str(request.path_params["secret"])
    accounts = accounts_of(request)
    account = await in_thread(accounts.invitation, secret)
    if account is None:
        return await render(request, "invitation_gone.html", status_code=410)
    shown = {"account": account, "display_name": ""}
    if request.method != "POST":  # GET, or HEAD answered as GET
        return await render(request, "invitation.html", shown)
    form = await form_of(request)
    if not sessions.csrf_is_valid(
        request, form.get(sessions.CSRF_FIELD), signed_out_form=True
    ):
        return await refused(request)
    display_name = str(form.get("display_name") or "")
    try:
        session_id, _ = await in_thread(
            accounts.join,
            secret=secret,
            display_name=display_name,
            password=str(form.get("password") or ""),
            confirmation=str(form.get("confirmation") or ""),
        )
    except InvalidInput as error:
        if error.field == "invitation":
            return await render(request, "invitation_gone.html", status_code=410)
        shown.update(display_name=display_name, errors=[(error.field, error.rule)])
        return await render(request, "invitation.html", shown, status_code=400)
    return await signed_in_anew(request, session_id)


# The frame's pages


async def live_position(request: Request) -> int:
    """What a page reads: the views once they reach the log as it stood when asked."""
    return await reading.live_position(
        request.app.state.views, request.app.state.read_wait_seconds
    )


async def home(request: Request, live: SignedIn) -> Response:
    caller = live.caller
    context: dict[str, Any] = {}
    organisation_id = live.account.organisation_id
    views: ImpactViews = request.app.state.views
    if caller.role in READERS_OF_ANSWERS:
        position = await live_position(request)
        context["initiatives"] = await initiatives_of(views, organisation_id, position)
        context["report"] = await report_of(
            views, caller, Slice(organisation_id), position
        )
    if caller.role in ADMINS:
        context["accounts"] = await in_thread(
            accounts_of(request).accounts_of, organisation_id
        )
        await live_position(request)
        context["erasure_requests"] = await personal_links.erasures_asked(
            views, organisation_id
        )
    return await render(request, f"home_{caller.role.value}.html", context)


async def organisation(request: Request, live: SignedIn) -> Response:
    views: ImpactViews = request.app.state.views
    listed = await initiatives_of(
        views, live.account.organisation_id, await live_position(request)
    )
    return await render(request, "organisation.html", {"initiatives": listed})


async def initiative(request: Request, live: SignedIn) -> Response:
    try:
        initiative_id = UUID(str(request.path_params["initiative_id"]))
    except ValueError:
        return await not_found(request)
    page = await initiative_page(
        accounts_of(request).records,
        request.app.state.views,
        live.caller,
        live.account.organisation_id,
        initiative_id,
        await live_position(request),
    )
    notice = forms.recorded_notice(request.query_params.get("recorded"))
    actions = forms.initiative_actions(initiative_id, live.caller.role)
    return await render(
        request,
        "initiative.html",
        {"page": page, "notice": notice, "actions": actions},
    )


# People and accounts (admins)

ROLE_CHOICES = [Role.MANAGER, Role.EVALUATOR, Role.AUDITOR, Role.ADMIN]


async def accounts_page(
    request: Request,
    live: SignedIn,
    *,
    errors: list[tuple[str, str]] | None = None,
    given: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    listed = await in_thread(
        accounts_of(request).accounts_of, live.account.organisation_id
    )
    return await render(
        request,
        "accounts.html",
        {
            "accounts": listed,
            "roles": ROLE_CHOICES,
            "may_grant": may_pass_on_grant(live.caller),
            "errors": errors or [],
            "given": given or {"email": "", "role": "", "personal_data": False},
        },
        status_code=status_code,
    )


async def accounts_list(request: Request, live: SignedIn) -> Response:
    return await accounts_page(request, live)


async def invite(request: Request, live: SignedIn) -> Response:
    form = await form_of(request)
    given = {
        "email": str(form.get("email") or ""),
        "role": str(form.get("role") or ""),
        "personal_data": form.get("personal_data") == "yes",
    }
    try:
        account_id, secret = await in_thread(
            accounts_of(request).invite,
            organisation_id=live.account.organisation_id,
            email=given["email"],
            role=given["role"],
            actor=live.caller.actor,
            personal_data=given["personal_data"],
            may_grant=may_pass_on_grant(live.caller),
        )
    except InvalidInput as error:
        field = error.field if error.field in ("email", "role") else "personal_data"
        return await accounts_page(
            request, live, errors=[(field, error.rule)], given=given, status_code=400
        )
    return await invited(request, account_id, secret)


async def invited(request: Request, account_id: UUID, secret: str) -> Response:
    account = await in_thread(accounts_of(request).account, account_id)
    return await render(
        request,
        "invited.html",
        {"account": account, "link": invitation_link(secret)},
    )


def account_id_of(request: Request) -> UUID:
    try:
        return UUID(str(request.path_params["account_id"]))
    except ValueError:
        raise RecordNotFound("account", UUID(int=0), field="account_id") from None


async def invite_again(request: Request, live: SignedIn) -> Response:
    account_id = account_id_of(request)
    try:
        secret = await in_thread(
            accounts_of(request).invite_again,
            organisation_id=live.account.organisation_id,
            account_id=account_id,
            actor=live.caller.actor,
            may_grant=may_pass_on_grant(live.caller),
        )
    except InvalidInput as error:
        return await account_refused(request, live, account_id, error)
    return await invited(request, account_id, secret)


async def disable(request: Request, live: SignedIn) -> Response:
    account_id = account_id_of(request)
    if account_id == live.account.id:
        return await accounts_page(
            request,
            live,
            errors=[("accounts", "You cannot disable your own account")],
            status_code=400,
        )
    try:
        await in_thread(
            accounts_of(request).disable,
            organisation_id=live.account.organisation_id,
            account_id=account_id,
            actor=live.caller.actor,
        )
    except InvalidInput as error:
        return await account_refused(request, live, account_id, error)
    return RedirectResponse("/accounts", status_code=303)


ROW_FIELDS = {"role": ("role", "Role"), "personal_data": ("personal", "Personal data")}
"""An account's row's fields on the accounts page: the id its input has (with the
account's id after it), and its label."""


async def account_refused(
    request: Request, live: SignedIn, account_id: UUID, error: InvalidInput
) -> Response:
    """The accounts page again, its problem naming the account and the field, and
    linked to that field of the account's row: 400."""
    account = await in_thread(accounts_of(request).account, account_id)
    if error.field in ROW_FIELDS:
        prefix, label = ROW_FIELDS[error.field]
        problem = (
            f"{prefix}-{account_id}",
            f"{label} of {account.email}: {error.rule}",
        )
    else:
        problem = ("accounts", f"{account.email}: {error.rule}")
    return await accounts_page(request, live, errors=[problem], status_code=400)


async def change_role(request: Request, live: SignedIn) -> Response:
    account_id = account_id_of(request)
    form = await form_of(request)
    try:
        await in_thread(
            accounts_of(request).change_role,
            organisation_id=live.account.organisation_id,
            account_id=account_id,
            role=str(form.get("role") or ""),
            personal_data=form.get("personal_data") == "yes",
            actor=live.caller.actor,
            may_grant=may_pass_on_grant(live.caller),
        )
    except InvalidInput as error:
        return await account_refused(request, live, account_id, error)
    return RedirectResponse("/accounts", status_code=303)


PAGES = [
    Page("/", EVERYONE, home),
    Page("/organisation", READERS_OF_ANSWERS, organisation),
    Page("/initiatives/{initiative_id}", READERS_OF_ANSWERS, initiative),
    Page("/accounts", ADMINS, accounts_list),
    Page("/accounts", ADMINS, invite, ("POST",)),
    Page("/accounts/{account_id}/invite-again", ADMINS, invite_again, ("POST",)),
    Page("/accounts/{account_id}/disable", ADMINS, disable, ("POST",)),
    Page("/accounts/{account_id}/role", ADMINS, change_role, ("POST",)),
    *forms.PAGES,
    *record_pages.PAGES,
    *todo.PAGES,
    *workbook_upload.PAGES,
    Page(personal_links.PATH, WRITERS_OF_RECORDS, personal_links.show),
    Page(personal_links.PATH, WRITERS_OF_RECORDS, personal_links.make, ("POST",)),
    Page(
        f"{personal_links.PATH}/revoke",
        WRITERS_OF_RECORDS,
        personal_links.revoke,
        ("POST",),
    ),
    *(Page(path, READERS_OF_ANSWERS, handler) for path, handler in answer_pages()),
]
"""Every page behind sign-in, with the roles that may open it. A new page is added
here: its handler gets the request and the signed-in person (SignedIn: session,
account, and the Caller fourpi.privacy.visibility decides by) and renders a template that
extends layout.html (fourpi.web.pages.render). tests/test_web_http.py opens every
page as another organisation's people would: a new kind of path parameter needs a
sample there."""


PUBLIC_PATHS = (
    frozenset(
        {SIGN_IN, "/sign-out", "/invitations/{secret}", "/static", "/{rest:path}"}
    )
    | contributor.PATHS
)
"""The routes that need no sign-in (sign-out ends a session if there is one)."""


class AnythingElse:
    """What answers a request no route takes, by any method. At a path that routes
    in `known` take by other methods (a POST to a page that is only read, a GET of
    an address that only takes a form): 405, naming them in Allow. At a page's
    address with a slash after it: that page (308). At any other path: sign in,
    or 'Page not found' to the signed in. An ASGI app, not a
    function, so that its route takes every method."""

    def __init__(self, known: Sequence[BaseRoute]) -> None:
        self.known = known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(Request(scope, receive))
        await response(scope, receive, send)

    async def answer(self, request: Request) -> Response:
        note_unknown_path()  # whatever it answers, no page has this address
        allowed = {
            method
            for route in self.known
            if isinstance(route, Route)
            and route.matches(request.scope)[0] is Match.PARTIAL
            for method in route.methods or ()
        }
        if allowed:
            await signed_in(request)
            refused = await render(
                request,
                "problem.html",
                dict(
                    zip(
                        ("heading", "problem"),
                        WRONG_METHOD[request.method in ("GET", "HEAD")],
                        strict=True,
                    )
                ),
                status_code=405,
            )
            refused.headers["Allow"] = ", ".join(sorted(allowed))
            return refused
        found = self.without_slash(request)
        if found is not None:
            return RedirectResponse(found, status_code=308)
        if await signed_in(request) is None:
            return RedirectResponse(SIGN_IN, status_code=303)
        return await not_found(request)

    def without_slash(self, request: Request) -> str | None:
        """Where a page asked for with a slash after its address is (/to-do/ for
        /to-do), with its query; None when no page is there by this method. Never
        an address off this site (a browser reads //elsewhere as one)."""
        path = str(request.scope["path"]).rstrip("/")
        if path == request.scope["path"] or not path or path.startswith(OFF_SITE):
            return None
        scope = {**request.scope, "path": path}
        if not any(
            isinstance(route, Route) and route.matches(scope)[0] is Match.FULL
            for route in self.known
        ):
            return None
        query = request.url.query
        return f"{path}?{query}" if query else path


OFF_SITE = ("//", "/\\")
"""How a path that a browser reads as another site's address begins."""


WRONG_METHOD = {
    True: (
        "Not a page to open",
        "This address only takes a form sent from a page: it is not a page to open.",
    ),
    False: (
        "This page takes no form",
        "This page only shows what is recorded: it takes no form.",
    ),
}
"""Each 405 page's heading (and title) and what it says, by whether it was opened."""


class WholeFiles(StaticFiles):
    """The stylesheets, each sent whole whatever Range header comes with it: a
    file of a few kilobytes is not worth cutting, and Starlette answers a range it
    cannot read with a line of plain text (400) or an empty 416. RFC 9110 lets a
    server ignore Range."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (name, value)
            for name, value in scope.get("headers", [])
            if name.lower() not in (b"range", b"if-range")
        ]
        await super().__call__({**scope, "headers": headers}, receive, send)

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        if "accept-ranges" in response.headers:
            del response.headers["accept-ranges"]
        return response


def create_web_app(
    records: InvolvementRecords,
    views: ImpactViews,
    *,
    limits: SessionLimits | None = None,
    read_wait_seconds: float | None = None,
    beside: Sequence[BaseRoute] = (),
) -> ASGIApp:
    """The web app, to be mounted at / beside the API's routes (`beside`); a page
    waits for the views as the API does (read_wait_seconds, by default
    $FOURPI_READ_WAIT_SECONDS)."""
    accounts = Accounts(records, limits or SessionLimits.from_environment())
    routes: list[Any] = [
        Route(SIGN_IN, sign_in, methods=["GET", "POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/invitations/{secret}", invitation, methods=["GET", "POST"]),
        Mount("/static", WholeFiles(directory=HERE / "static"), name="static"),
    ]
    by_path: dict[str, list[Page]] = {}
    for page in PAGES:
        by_path.setdefault(page.path, []).append(page)
    for path, pages in by_path.items():
        routes.append(Route(path, dispatch(pages), methods=methods_of(pages)))
    routes += contributor.ROUTES  # a contributor's own page: the link is the key
    routes.append(Route("/{rest:path}", AnythingElse([*beside, *routes])))
    # Not a page: what answers a path no route knows.
    app = Starlette(
        routes=routes,
        exception_handlers={
            DomainError: domain_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
    app.state.accounts = accounts
    app.state.views = views
    app.state.read_wait_seconds = (
        ApiLimits.from_environment().read_wait_seconds
        if read_wait_seconds is None
        else read_wait_seconds
    )
    return with_security_headers(app)


def methods_of(pages: list[Page]) -> list[str]:
    return sorted({method for page in pages for method in page.methods})


def dispatch(pages: list[Page]) -> Callable[[Request], Awaitable[Response]]:
    """One path's pages, by method."""
    endpoints = {
        method: behind_sign_in(page) for page in pages for method in page.methods
    }

    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return endpoint


UNREADABLE = "What was sent could not be read as a form from one of these pages."


async def http_error(request: Request, error: Exception) -> Response:
    """What Starlette refuses before a page's own code runs (a form it cannot read,
    a file missing from /static/) as a page in plain words, never its own line of
    text naming a header."""
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return await not_found(request)
    response = await render(
        request, "problem.html", {"problem": UNREADABLE}, status_code=error.status_code
    )
    response.headers.update(error.headers or {})
    return response


async def server_error(request: Request, error: Exception) -> Response:
    """A failure no page expected (the store gone, a fault of ours): a page in
    plain words, drawn from the template alone, so it asks nothing of the store
    that may have failed and shows nothing of the code or the store. The failure
    goes on to the server's log."""
    refused = store_refusal(error)
    if refused is not None:
        # Its write lock held past a request's wait (a long import), or the store
        # not answering (PostgreSQL restarting): the same later will be done. Said
        # so, not as a fault.
        away = refused[0] == STORE_UNREACHABLE
        log.warning(
            "the store was %s for %s: %s",
            "away" if away else "busy",
            path_for_log(request.url.path),
            error,
        )
        busy = templates.TemplateResponse(
            request,
            "server_error.html",
            {"nav": [], "errors": [], "busy": True, "away": away},
            status_code=503,
        )
        busy.headers["Retry-After"] = str(refused[1])
        return busy
    return templates.TemplateResponse(
        request, "server_error.html", {"nav": [], "errors": []}, status_code=500
    )


async def domain_error(request: Request, error: Exception) -> Response:
    """A refusal the page did not expect (such as a conflict): said plainly, 400."""
    assert isinstance(error, DomainError)
    return await render(
        request, "problem.html", {"problem": forms.plainly(error)}, status_code=400
    )
