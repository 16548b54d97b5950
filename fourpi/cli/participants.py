"""fourpi participants: listing and erasing people."""

import sys
from uuid import UUID

import click

from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.cli.common import chosen_database, database_option, organisation_named
from fourpi.domain.errors import DomainError


@main.group()
def participants() -> None:
    """Participants: finding their ids, and erasing their personal data for good."""


@participants.command("list")
@database_option
@click.option(
    "--organisation",
    "organisation",
    required=True,
    help="The organisation, by id or exact name.",
)
def participants_list(database_url: str | None, organisation: str) -> None:
    """One line a participant, in the order registered: their id (for `fourpi
    participants erase`), their pseudonym ("(erased)" once erased) and their kind."""
    from fourpi.listing import participants_of

    database = chosen_database(database_url)
    views = open_views(database, existing=True)
    try:
        views.catch_up()
        organisation_id = organisation_named(database, organisation, views)
        lines = participants_of(views, organisation_id)
    finally:
        views.close()
    for line in lines:
        click.echo(str(line))


@participants.command("erase")
@database_option
@click.argument("participant_id", type=click.UUID)
@click.option(
    "--yes",
    is_flag=True,
    help="Erase without asking. Needed when not run interactively.",
)
def participants_erase(
    database_url: str | None, participant_id: UUID, yes: bool
) -> None:
    """Erase a participant's personal data for good: record the erasure, destroy
    their key, and delete their personal rows from the impact views.

    Their pseudonym, monitoring data, payment preference and earnings limit, and the
    free text of their process-experience answers then read as erased everywhere,
    including every answer as of any past position. Their other facts (roles,
    attendance, payments, contributions) remain, and the log still verifies. It
    cannot be undone; erasing someone already erased makes sure the key is gone."""
    if not yes:
        # Standard input closed (0<&-) is None: no one there to ask either.
        if sys.stdin is None or not sys.stdin.isatty():
            raise click.UsageError(
                "erasure cannot be undone: pass --yes to confirm it when not "
                "running interactively"
            )
        click.confirm(
            f"Erase the personal data of participant {participant_id} for good? "
            "This cannot be undone",
            abort=True,
        )
    database = chosen_database(database_url)
    records = open_records(database)
    try:
        erasure = records.erase_participant(
            participant_id=participant_id, actor="fourpi participants erase"
        )
        position = records.recorder.max_notification_id() or 0
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        records.close()
    views = open_views(database)
    try:
        reached = views.catch_up()
    finally:
        views.close()
    if erasure.recorded:
        click.echo(
            f"Participant {participant_id} (organisation {erasure.organisation_id}) "
            f"is erased: the erasure is recorded in the log (position {position})."
        )
    else:
        click.echo(
            f"Participant {participant_id} was already erased: nothing new recorded."
        )
    click.echo(
        "Their key is destroyed."
        if erasure.key_destroyed
        else "Their key was already destroyed."
    )
    for line in erasure.storage:
        click.echo(line)
    click.echo(
        f"The impact views (at log position {reached}) no longer hold their "
        "personal data."
    )


@participants.command("link")
@database_option
@click.argument("participant_id", type=click.UUID)
@click.option(
    "--revoke",
    is_flag=True,
    help="Stop the person's personal link working instead of making one.",
)
def participants_link(
    database_url: str | None, participant_id: UUID, revoke: bool
) -> None:
    """Make a personal link for a service user or carer: the link to their own page
    (what became of what they said, their questionnaire), printed once. Valid for
    $FOURPI_PERSONAL_LINK_DAYS days (90); a new link stops the old one. With
    --revoke, their link stops working at once."""
    from fourpi.personal_links import PersonalLinks, personal_link

    database = chosen_database(database_url)
    records = open_records(database)
    actor = "fourpi participants link"
    try:
        links = PersonalLinks(records)
        organisation_id = records.organisation_of_participant(participant_id)
        if revoke:
            links.revoke(
                organisation_id=organisation_id,
                participant_id=participant_id,
                actor=actor,
            )
        else:
            secret, expires = links.make(
                organisation_id=organisation_id,
                participant_id=participant_id,
                actor=actor,
                # Whoever runs the command line holds the master key and the
                # database: every person's details are theirs to read already.
                reads_personal_data=True,
            )
    except (DomainError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        records.close()
    if revoke:
        click.echo(f"The personal link of participant {participant_id} is revoked.")
        return
    click.echo(personal_link(secret))
    click.echo(
        f"Give this link to the person; it is not shown again. It works until "
        f"{expires:%Y-%m-%d}.",
        err=True,
    )
