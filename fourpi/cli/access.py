"""fourpi tokens, keys, organisations and accounts: who may use fourpi, and the master key."""

from uuid import UUID

import click

from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.cli.common import chosen_database, database_option, organisation_named
from fourpi.domain.access import Role
from fourpi.domain.errors import DomainError
from fourpi.domain.record import on_one_line


@main.group()
def tokens() -> None:
    """Bearer tokens for the API: one per person or system, bound to one organisation
    and one role (manager, evaluator, auditor, admin). Only a hash is kept."""


@tokens.command("create")
@database_option
@click.option(
    "--organisation",
    "organisation",
    help="The organisation the token belongs to, by id or exact name (leave out only "
    "for a global admin).",
)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="manager: logs and reads; evaluator: reads answers; auditor: reads histories "
    "and the log; admin: organisations and tokens.",
)
@click.option("--label", default="", help="Whose token it is, for your own records.")
@click.option(
    "--personal-data",
    is_flag=True,
    help="Grant the token personal data: it reads pseudonyms, monitoring data, "
    "earnings limits and free text, which are otherwise withheld. Manager, auditor "
    "and admin tokens only.",
)
def tokens_create(
    database_url: str | None,
    organisation: str | None,
    role: str,
    label: str,
    personal_data: bool,
) -> None:
    """Issue a token and print it once: it cannot be shown again."""
    database = chosen_database(database_url)
    organisation_id = (
        None if organisation is None else organisation_named(database, organisation)
    )
    records = open_records(database)
    try:
        token_id, secret = records.issue_token(
            organisation_id=organisation_id,
            role=Role(role),
            label=label,
            actor="fourpi tokens create",
            personal_data=personal_data,
        )
    except DomainError as error:
        raise click.UsageError(str(error)) from None
    finally:
        records.close()
    click.echo(secret)
    click.echo(
        f"Token {token_id} ({role}{', personal data' if personal_data else ''}). "
        "Keep the line above secret: it is shown only now.",
        err=True,
    )


@tokens.command("list")
@database_option
@click.option(
    "--organisation",
    "organisation",
    help="Only this organisation's tokens, by id or exact name.",
)
def tokens_list(database_url: str | None, organisation: str | None) -> None:
    """One line a token, in the order issued: its id (for `fourpi tokens revoke`),
    its role, whether it holds personal data or is revoked, its organisation and
    label. Never a secret: only hashes are kept."""
    from fourpi.listing import tokens_of

    database = chosen_database(database_url)
    views = open_views(database, existing=True)
    try:
        views.catch_up()
        organisation_id = (
            None
            if organisation is None
            else organisation_named(database, organisation, views)
        )
        lines = tokens_of(views, organisation_id)
    finally:
        views.close()
    for line in lines:
        click.echo(str(line))


@tokens.command("revoke")
@database_option
@click.argument("token_id", type=click.UUID)
def tokens_revoke(database_url: str | None, token_id: UUID) -> None:
    """End a token at once: requests carrying it are refused from now on."""
    records = open_records(chosen_database(database_url), existing=True)
    try:
        records.revoke_token(token_id=token_id, actor="fourpi tokens revoke")
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    finally:
        records.close()
    click.echo(f"Token {token_id} is revoked.")


@main.group()
def keys() -> None:
    """The master key, which wraps every person's key (see `fourpi export --keys`
    to back the key store up)."""


@keys.command("new-master-key")
def keys_new_master_key() -> None:
    """Print a new random master key (the base64url of 32 bytes), for
    $FOURPI_MASTER_KEY or a file named by $FOURPI_MASTER_KEY_FILE.

    A store keeps the master key it started with: a different one is refused. Keep it
    outside the database and back it up; without it no personal data can be read."""
    from fourpi.privacy.keystore import new_master_key

    click.echo(new_master_key())


@main.group()
def organisations() -> None:
    """Organisations: the tenants every record belongs to."""


@organisations.command("create")
@database_option
@click.argument("name")
def organisations_create(database_url: str | None, name: str) -> None:
    """Register an organisation; prints its id and name. Then invite its admin with
    `fourpi accounts invite --organisation NAME --role admin EMAIL`."""
    records = open_records(chosen_database(database_url))
    try:
        organisation_id = records.register_organisation(
            name=name, actor="fourpi organisations create"
        )
    except DomainError as error:
        raise click.UsageError(str(error)) from None
    finally:
        records.close()
    click.echo(f"{organisation_id} {name.strip()}")


@organisations.command("list")
@database_option
def organisations_list(database_url: str | None) -> None:
    """Every organisation, one a line: its id, then its name."""
    from fourpi.projections.schema import TABLES

    views = open_views(chosen_database(database_url), existing=True)
    try:
        views.catch_up()
        store = views.store
        with store.reading_tuples() as cursor:
            cursor.execute(
                f"SELECT organisation_id, name FROM "
                f"{store.qualified(TABLES['organisations'])} ORDER BY position"
            )
            found = cursor.fetchall()
    finally:
        views.close()
    for organisation_id, name in found:
        click.echo(f"{organisation_id} {on_one_line(name)}")


@main.group()
def accounts() -> None:
    """People's accounts for the web app: each in one organisation, with one role."""


@accounts.command("invite")
@database_option
@click.option(
    "--organisation",
    "organisation",
    required=True,
    help="The organisation the account belongs to, by id or exact name.",
)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    required=True,
    help="manager: logs and reads; evaluator: reads answers; auditor: reads histories "
    "and the log; admin: invites people and manages their accounts.",
)
@click.option(
    "--personal-data",
    is_flag=True,
    help="Grant the account personal data (manager, auditor and admin only).",
)
@click.argument("email")
def accounts_invite(
    database_url: str | None,
    organisation: str,
    role: str,
    personal_data: bool,
    email: str,
) -> None:
    """Invite a person: prints a one-time link, valid for 72 hours, on the last line
    (built on $FOURPI_PUBLIC_URL, default http://127.0.0.1:8000)."""
    from fourpi.accounts import Accounts, invitation_link

    database = chosen_database(database_url)
    organisation_id = organisation_named(database, organisation)
    records = open_records(database)
    try:
        account_id, secret = Accounts(records).invite(
            organisation_id=organisation_id,
            email=email,
            role=Role(role),
            actor="fourpi accounts invite",
            personal_data=personal_data,
        )
    except DomainError as error:
        raise click.UsageError(str(error)) from None
    finally:
        records.close()
    click.echo(
        f"Invited {email.strip().lower()} as {role} (account {account_id}). "
        "Send them this link; it works once, for 72 hours:"
    )
    click.echo(invitation_link(secret))
