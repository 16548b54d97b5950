"""Who is signed in, for a request: the session cookie, the caller it gives (the same Caller the API uses), and the CSRF token every changing form carries."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from fourpi.accounts import Accounts, Session
from fourpi.config import public_url
from fourpi.domain.account import Account
from fourpi.privacy.visibility import Caller
from fourpi.threads import in_thread

T = TypeVar("T")

SESSION_COOKIE = "fourpi_session"
FORM_COOKIE = "fourpi_form"
"""A random value for forms shown signed out (sign-in, invitations): the form carries
it too, and a post whose copy differs is refused."""
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class SignedIn:
    """A live session, its account and the caller it makes."""

    session_id: str
    session: Session
    account: Account
    caller: Caller


def accounts_of(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


async def signed_in(request: Request) -> SignedIn | None:
    """The live session of this request, looked up once per request; None when
    signed out (or the session has ended: idle, too old, signed out, disabled)."""
    if hasattr(request.state, "signed_in"):
        found: SignedIn | None = request.state.signed_in
        return found
    if not request.cookies.get(SESSION_COOKIE):
        return look_up(request)  # no session to ask the store about
    return await in_thread(look_up, request)


def look_up(request: Request) -> SignedIn | None:
    """The live session of this request's cookie as the store says now, kept for the
    rest of the request (signed_in, form_token, the CSRF check). It asks the store,
    so it runs in a worker thread: signed_in's, or the one a post's whole work is
    done in (fourpi.web.app.behind_sign_in)."""
    session_id = request.cookies.get(SESSION_COOKIE, "")
    found = None
    if session_id:
        live = accounts_of(request).session(session_id)
        if live is not None:
            session, account = live
            found = SignedIn(session_id, session, account, Caller.of_account(account))
    request.state.signed_in = found
    return found


class CallerChanged(Exception):
    """By the time a request's work was done, after waiting (for its turn at heavy
    work, for the views), its session had ended (signed out, idle, the account
    disabled) or its account had another role or grant: nothing was done."""


def as_the_caller(request: Request, live: SignedIn, work: Callable[[], T]) -> T:
    """`work()`, once the store says (in this worker thread, as look_up) that this
    request's session still gives the caller it gave when the request began: work
    that waited is done only for the caller who asked, and never once they are
    signed out, disabled, or given another role or grant (CallerChanged)."""
    now = look_up(request)
    if now is None or now.caller != live.caller:
        raise CallerChanged
    return work()


async def caller_of(request: Request) -> Caller | None:
    """The signed-in caller of this request (role, organisation, personal-data
    grant), as the API would see a token of the same account; None when signed out.
    Every page decides what to show from this, through fourpi.privacy.visibility."""
    found = await signed_in(request)
    return None if found is None else found.caller


def form_token(request: Request) -> str:
    """The CSRF token a form on this page carries."""
    live: SignedIn | None = getattr(request.state, "signed_in", None)
    if live is not None:
        return live.session.csrf_token
    token = request.cookies.get(FORM_COOKIE) or getattr(request.state, "form", None)
    if not token:
        token = request.state.form = secrets.token_urlsafe(32)
    return str(token)


def remember_form_token(request: Request, response: Response) -> None:
    """Set the signed-out forms' cookie when this page made a new token."""
    made = getattr(request.state, "form", None)
    if made:
        set_cookie(request, response, FORM_COOKIE, made)


SENT_FROM_ANOTHER_SITE = frozenset({"cross-site", "same-site"})
"""Sec-Fetch-Site's words for a post from a page of another site; "same-site" is a
neighbouring subdomain, which can plant the signed-out forms' cookie."""
SENT_FROM_HERE = frozenset({"same-origin", "none"})
"""Its words for a post from this site's own pages, or one the person started
themselves. Any other value (empty, made up) is no browser's word."""


def from_another_site(request: Request) -> bool:
    """Whether the browser says this post was sent from a page of another site: by
    Sec-Fetch-Site, which browsers send on every post, else (absent, or a value no
    browser sends) by an Origin that is neither this request's host nor the
    public URL's (behind a proxy that rewrites the host). A client that sends
    neither (a script) is left to the token."""
    fetched = (request.headers.get("sec-fetch-site") or "").lower()
    if fetched in SENT_FROM_ANOTHER_SITE:
        return True
    if fetched in SENT_FROM_HERE:
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return False
    ours = {
        site_of(request.headers.get("host", "")),
        site_of(urlsplit(public_url()).netloc),
    }
    # "null" too: a hidden origin.
    return site_of(urlsplit(origin).netloc) not in ours


DEFAULT_PORTS = (":80", ":443")


def site_of(netloc: str) -> str:
    """A host and port as a browser's Origin names them: without the scheme's
    default port, which a proxy's Host or a public URL may name
    ("fourpi.example.org:443")."""
    netloc = netloc.lower()
    for port in DEFAULT_PORTS:
        netloc = netloc.removesuffix(port)
    return netloc


def csrf_is_valid(request: Request, given: object, *, signed_out_form: bool) -> bool:
    """Whether a posted form carries this browser's token, the session's or, for a
    form shown signed out, the form cookie's, and was not sent from another site:
    the token alone would let a page that got hold of it (a cookie planted by a
    neighbouring subdomain) post as the person."""
    if not isinstance(given, str) or not given or from_another_site(request):
        return False
    live: SignedIn | None = getattr(request.state, "signed_in", None)
    if signed_out_form or live is None:
        expected = request.cookies.get(FORM_COOKIE, "")
    else:
        expected = live.session.csrf_token
    # Compared as bytes: compare_digest refuses text outside ASCII with a TypeError.
    return bool(expected) and secrets.compare_digest(given.encode(), expected.encode())


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or public_url().startswith("https:"),
        path="/",
    )


def start(request: Request, response: Response, session_id: str) -> None:
    """Sign the browser in with a new session's id (never one it had before)."""
    set_cookie(request, response, SESSION_COOKIE, session_id)


def forget(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
