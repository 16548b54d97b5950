"""fourpi demo: the demo organisation, its answers and sign-in links."""

import sys
from uuid import UUID

import click

from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.cli.common import chosen_database, database_option
from fourpi.config import (
    Database,
)
from fourpi.describe import describe
from fourpi.domain.errors import DomainError
from fourpi.projections.answers import Slice


@main.command()
@database_option
def demo(database_url: str | None) -> None:
    """Create the demo organisation: Mind's co-produced project to diversify who
    is involved, and a strategic programme with two Act-Evaluate-Reflect-Learn
    cycles. Running it again changes nothing: every command carries an
    idempotency key."""
    from fourpi.demo import create_demo

    database = chosen_database(database_url)
    records = open_records(database)
    try:
        click.echo(f"Event store: {database.display}")
        before = records.recorder.max_notification_id() or 0
        summary = create_demo(records)
        after = records.recorder.max_notification_id() or 0
    except DomainError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    finally:
        records.close()
    for line in summary.lines():
        click.echo(line)
    if after == before:
        click.echo("The demo organisation was already there: nothing new was recorded.")
    else:
        click.echo(f"Recorded {after - before} events (log position {after}).")
    views = open_views(database)
    try:
        views.catch_up()
        first = summary.initiatives[0]
        report = views.report(Slice(summary.organisation_id, first.initiative_id))
    finally:
        views.close()
    click.echo(f"\nWhat difference did involvement make to {first.name!r}?")
    for line in describe(report):
        click.echo(f"  {line}")
    demo_sign_in_links(database, summary.organisation_id)


def demo_sign_in_links(database: Database, organisation_id: UUID) -> None:
    """A one-time sign-in link for a demo manager, evaluator and auditor, each on a
    line of its own (a new link each run; earlier ones stop working)."""
    from fourpi.accounts import demo_links

    records = open_records(database)
    views = open_views(database, records)
    try:
        before = records.recorder.max_notification_id() or 0
        links = demo_links(records, organisation_id)
        after = records.recorder.max_notification_id() or 0
        views.catch_up()  # the views stay up to date with the log, as the demo left them
    finally:
        views.close()
        records.close()
    if after != before:
        click.echo(
            f"\nInvited the demo people: {after - before} events (log position {after})."
        )
    click.echo(
        "\nSign in to the web app (fourpi serve) with one of these one-time links, "
        "each valid for 72 hours:"
    )
    for role, link in links:
        click.echo(f"  demo {role}: {link}")
