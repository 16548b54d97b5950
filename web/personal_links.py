"""A manager's page for a person's personal link: make one (shown once, with a QR code to print on a letter), see whether one is live, and stop it; and the erasure requests an admin acts on."""

from contextlib import suppress
from typing import TYPE_CHECKING, Any
from uuid import UUID

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from fourpi.domain.errors import InvalidInput, RecordNotFound
from fourpi.domain.participant import Participant
from fourpi.listing import ParticipantLine, erasure_requests
from fourpi.personal_links import LinkNotGranted, links_of, personal_link
from fourpi.projections.views import ImpactViews
from fourpi.threads import in_thread
from fourpi.web.pages import render, words
from fourpi.web.sessions import accounts_of

if TYPE_CHECKING:
    from fourpi.web.sessions import SignedIn


def qr_code(link: str) -> Markup:
    """The link as a QR code, an SVG drawn in the page (no image file, no script)."""
    code = segno.make_qr(link, error="m")
    svg = code.svg_inline(scale=4, title="QR code of the personal link", svgclass=None)
    return Markup(svg)  # segno draws the SVG from the link alone: nothing unescaped


def participant_id_of(request: Request) -> UUID:
    try:
        return UUID(str(request.path_params["participant_id"]))
    except ValueError:
        raise RecordNotFound(
            Participant.kind, UUID(int=0), field="participant_id"
        ) from None


async def link_page(
    request: Request,
    live: "SignedIn",
    *,
    made: tuple[str, Any] | None = None,
    errors: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    participant_id = participant_id_of(request)
    records = accounts_of(request).records
    person = await in_thread(
        records.load,
        Participant,
        participant_id,
        live.account.organisation_id,
        "participant_id",
    )
    links = links_of(request.app.state, records)
    current = await in_thread(links.live_link, participant_id)
    context: dict[str, Any] = {
        "participant_id": participant_id,
        "person": person,
        "name": person.pseudonym if live.caller.reads_personal_data else "",
        "may_make": live.caller.reads_personal_data,
        "current": current,
        "days": int(links.days),
        "errors": errors or [],
    }
    if made is not None:
        secret, expires = made
        link = personal_link(secret)
        context.update(link=link, expires=expires, qr=qr_code(link))
    return await render(
        request, "contributor/personal_link.html", context, status_code=status_code
    )


async def show(request: Request, live: "SignedIn") -> Response:
    return await link_page(request, live)


async def make(request: Request, live: "SignedIn") -> Response:
    participant_id = participant_id_of(request)
    records = accounts_of(request).records
    links = links_of(request.app.state, records)
    try:
        made = await in_thread(
            lambda: links.make(
                organisation_id=live.account.organisation_id,
                participant_id=participant_id,
                actor=live.caller.actor,
                reads_personal_data=live.caller.reads_personal_data,
            )
        )
    except LinkNotGranted as error:
        return await link_page(
            request, live, errors=[("make", error.message)], status_code=403
        )
    except InvalidInput:
        person = await in_thread(
            records.load, Participant, participant_id, live.account.organisation_id
        )
        return await link_page(
            request, live, errors=[("make", not_made_for(person))], status_code=400
        )
    return await link_page(request, live, made=made)


def not_made_for(person: Participant) -> str:
    """Why no link can be made for the person, in words naming no record's id (the
    domain's name the participant's)."""
    if person.erased:
        return "No link can be made: this person's details have been erased."
    return (
        "No link can be made: a personal link is for a service user or carer, and "
        f"this person is recorded as {words(person.participant_kind)}."
    )


async def revoke(request: Request, live: "SignedIn") -> Response:
    participant_id = participant_id_of(request)
    records = accounts_of(request).records
    links = links_of(request.app.state, records)
    # Refused when no link works already (a double click, the form sent again
    # from the browser's history): what was asked for holds, nothing is recorded.
    with suppress(InvalidInput):
        await in_thread(
            lambda: links.revoke(
                organisation_id=live.account.organisation_id,
                participant_id=participant_id,
                actor=live.caller.actor,
            )
        )
    return RedirectResponse(f"/people/{participant_id}/personal-link", status_code=303)


async def erasures_asked(
    views: ImpactViews, organisation_id: UUID
) -> list[ParticipantLine]:
    """For an admin's home page: who asked to be erased and is not yet."""
    return await in_thread(erasure_requests, views, organisation_id)


PATH = "/people/{participant_id}/personal-link"
