"""The fourpi command line: thin commands over the application service, one module per group of commands."""

import io
import sys
from typing import Any

import click

from fourpi.config import (
    MasterKeyError,
    group_commit_enabled,
    public_url,
    time_zone,
)
from fourpi.operations.observability import configure_logging
from fourpi.storage.store_access import StoreUnavailable


class FourPIGroup(click.Group):
    """Every command: a master key problem, a store that cannot be reached, made
    or found, or a file that cannot be read or written, is told plainly in a line
    or three and exits 1, never as a traceback; a bad log level, time zone, group
    commit or public URL setting is named before anything starts, and exits 2."""

    def invoke(self, ctx: click.Context) -> Any:
        # A character the locale's encoding cannot show (a name in Latin-1) is
        # written escaped, as Python writes it to standard error, not a traceback.
        if isinstance(sys.stdout, io.TextIOWrapper):
            sys.stdout.reconfigure(errors="backslashreplace")
        try:
            configure_logging(default_level="WARNING")
            time_zone()
            group_commit_enabled()  # read when a store opens, for every command
            public_url()  # every link a command prints is built on it
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        try:
            return super().invoke(ctx)
        except (MasterKeyError, StoreUnavailable) as error:
            raise click.ClickException(str(error)) from None
        except OSError as error:
            if error.filename is None:
                raise
            raise click.ClickException(f"{error.filename}: {error.strerror}") from None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        # Standard output closed (>&-) is None, and click prints to it nothing and
        # no error: a token issued, or a demo's links, would be shown to no one.
        if sys.stdout is None and name not in RUNS_ON:
            raise click.ClickException(
                "standard output is closed, so nothing this command prints could be "
                "read: nothing was done"
            )
        return name, command, rest


RUNS_ON = {"serve", "projections"}
"""The commands that run on as services do (`serve`, `projections run`), logging to
standard error: they may be started with standard output closed."""


@click.group(cls=FourPIGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="fourpi")
def main() -> None:
    """fourpi: an event-sourced record of involving people with lived experience,
    and of the difference it made, measured against the 4PI National Involvement
    Standards (Principles, Purpose, Presence, Process, Impact)."""


# Each module adds its commands to main.
from fourpi.cli import (  # noqa: E402, F401
    access,
    answers,
    audit,
    demo,
    participants,
    projections,
    serving,
    workbook,
)
