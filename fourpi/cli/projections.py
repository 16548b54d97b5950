"""fourpi projections: run, watch and rebuild the impact views."""

import signal
from typing import Any

import click

from fourpi.bootstrap import open_views
from fourpi.cli import main
from fourpi.cli.common import (
    a_number,
    chosen_database,
    database_option,
    position_bar,
)
from fourpi.operations.observability import configure_logging


@main.group()
def projections() -> None:
    """The impact views: the read side that answers the five 4PI impact questions.

    The views are tables in the same database as the event log, kept up to date
    event by event, each event applied exactly once."""


@projections.command("run")
@database_option
@click.option(
    "--poll-seconds",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0.01, 60),
    callback=lambda _, __, seconds: a_number(seconds, "--poll-seconds"),
    help="How often to look for new events on SQLite (PostgreSQL is notified), "
    "from 0.01 to 60 seconds.",
)
def projections_run(database_url: str | None, poll_seconds: float) -> None:
    """Keep the views caught up with the log until interrupted (Ctrl-C).

    Run one worker per database beside any number of API processes started with
    --no-projections. A second worker started by mistake does no harm: an event
    already applied is never applied again."""
    from fourpi.config import check_contributor_settings
    from fourpi.operations.worker import ProjectionWorker

    configure_logging()
    try:
        check_contributor_settings()
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    database = chosen_database(database_url)
    views = open_views(database)
    click.echo(
        f"Keeping the impact views of {database.display} up to date (Ctrl-C stops)."
    )
    # SIGTERM (systemd's stop, Kubernetes', `kill`) stops it as Ctrl-C does: the
    # worker then reports that it stopped, and readiness stops counting on it.
    signal.signal(signal.SIGTERM, interrupted)
    try:
        ProjectionWorker(views, poll_seconds=poll_seconds).run_here()
    except KeyboardInterrupt:
        click.echo(f"Stopped at log position {views.position()}.")
    finally:
        views.close()


def interrupted(signal_number: int, frame: Any) -> None:
    raise KeyboardInterrupt


@projections.command("status")
@database_option
def projections_status(database_url: str | None) -> None:
    """Show how far the views have got: their position, the log head and the lag."""
    from fourpi.operations.worker import WorkerReports, describe_worker

    database = chosen_database(database_url)
    views = open_views(database, existing=True)
    try:
        status = views.status()
        latest = WorkerReports(views).latest()
    finally:
        views.close()
    click.echo(f"Event store: {database.display}")
    click.echo(
        f"Views at log position {status.position} of {status.head} (lag {status.lag})."
    )
    click.echo(describe_worker(latest))
    for table, rows in status.fact_rows.items():
        click.echo(f"  {table:<22} {rows:>10} {'row' if rows == 1 else 'rows'}")


@projections.command("rebuild")
@database_option
@click.option(
    "--batch-size",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Events per transaction.",
)
def projections_rebuild(database_url: str | None, batch_size: int) -> None:
    """Empty every view and apply the whole log again, with a progress bar.

    It streams the log in batches, so memory does not grow with its length. Readers
    see the views fill up again while it runs."""
    database = chosen_database(database_url)
    views = open_views(database)
    try:
        head = views.head()
        with position_bar(head, "Rebuilding the impact views") as advance:
            position = views.rebuild(
                batch_size=batch_size, progress=lambda reached, _: advance(reached)
            )
    finally:
        views.close()
    click.echo(f"Rebuilt the views from {position} events.")
