"""The fourpi command line: thin commands over the application service."""

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from fourpi.bootstrap import open_records
from fourpi.config import (
    DATABASE_URL_VARIABLE,
    DatabaseURLError,
    database_from_environment,
)
from fourpi.domain.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])


def database_option(command: F) -> F:
    return click.option(
        "--database",
        "database_url",
        metavar="URL",
        envvar=DATABASE_URL_VARIABLE,
        help=(
            "Where the event store lives: sqlite:///path/to/file.sqlite3 or "
            "postgresql://user:password@host:port/dbname?schema=name. "
            f"Defaults to ${DATABASE_URL_VARIABLE}, else "
            "~/.local/share/fourpi/fourpi.sqlite3."
        ),
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fourpi")
def main() -> None:
    """fourpi: an event-sourced record of involving people with lived experience,
    and of the difference it made, measured against the 4PI National Involvement
    Standards (Principles, Purpose, Presence, Process, Impact)."""


@main.command()
@database_option
def demo(database_url: str | None) -> None:
    """Create the demo organisation: Mind's co-produced project to diversify who
    is involved, and a strategic programme with two Act-Evaluate-Reflect-Learn
    cycles. Running it again changes nothing: every command carries an
    idempotency key."""
    from fourpi.demo import create_demo

    try:
        database = database_from_environment(database_url)
        records = open_records(database)
    except DatabaseURLError as error:
        raise click.BadParameter(str(error), param_hint="--database") from None
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
