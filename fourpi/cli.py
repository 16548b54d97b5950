"""The fourpi command line: thin commands over the application service."""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import click
import orjson

from fourpi.bootstrap import open_records, open_views
from fourpi.config import (
    DATABASE_URL_VARIABLE,
    Database,
    DatabaseURLError,
    MasterKeyError,
    database_from_environment,
)
from fourpi.describe import describe
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import DomainError
from fourpi.domain.vocabulary import ImpactArea
from fourpi.keystore import PersonalKeyStore
from fourpi.projections.answers import Slice
from fourpi.projections.views import ViewsNotReady

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


class FourPIGroup(click.Group):
    """Every command: a master key problem is told plainly, never as a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MasterKeyError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=FourPIGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


@contextmanager
def position_bar(head: int, label: str) -> Iterator[Callable[[int], None]]:
    """A progress bar over the log, moved on by telling it the position reached."""
    with click.progressbar(length=head, label=label) as bar:
        reached = 0

        def advance(position: int) -> None:
            nonlocal reached
            bar.update(position - reached)
            reached = position

        yield advance


def chosen_database(database_url: str | None) -> Database:
    try:
        return database_from_environment(database_url)
    except DatabaseURLError as error:
        raise click.BadParameter(str(error), param_hint="--database") from None


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
    help="How often to look for new events on SQLite (PostgreSQL is notified).",
)
def projections_run(database_url: str | None, poll_seconds: float) -> None:
    """Keep the views caught up with the log until interrupted (Ctrl-C).

    Run one worker per database beside any number of API processes started with
    --no-projections. A second worker started by mistake does no harm: an event
    already applied is never applied again."""
    database = chosen_database(database_url)
    views = open_views(database)
    click.echo(
        f"Keeping the impact views of {database.display} up to date (Ctrl-C stops)."
    )
    try:
        views.run(poll_seconds=poll_seconds)
    except KeyboardInterrupt:
        click.echo(f"Stopped at log position {views.position()}.")
    finally:
        views.close()


@projections.command("status")
@database_option
def projections_status(database_url: str | None) -> None:
    """Show how far the views have got: their position, the log head and the lag."""
    database = chosen_database(database_url)
    views = open_views(database)
    try:
        status = views.status()
    finally:
        views.close()
    click.echo(f"Event store: {database.display}")
    click.echo(
        f"Views at log position {status.position} of {status.head} (lag {status.lag})."
    )
    for table, rows in status.fact_rows.items():
        click.echo(f"  {table:<22} {rows:>10} rows")


@projections.command("rebuild")
@database_option
@click.option(
    "--batch-size", default=500, show_default=True, help="Events per transaction."
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


def slice_options(command: F) -> F:
    """The options that narrow the answers and choose their moment."""
    for option in reversed(
        [
            click.option(
                "--area",
                type=click.Choice([a.value for a in ImpactArea]),
                help="One 4PI impact area.",
            ),
            click.option(
                "--cycle",
                type=int,
                help="One Act-Evaluate-Reflect-Learn cycle, by number.",
            ),
            click.option(
                "--from",
                "period_from",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Period start.",
            ),
            click.option(
                "--to",
                "period_to",
                type=click.DateTime(["%Y-%m-%d"]),
                help="Period end.",
            ),
            click.option(
                "--as-of",
                metavar="POSITION|TIME",
                help="A log position, or an ISO time with its zone "
                "(2024-05-01T12:00:00+00:00).",
            ),
        ]
    ):
        command = option(command)
    return command


@main.command()
@database_option
@click.option("--organisation", "organisation_id", type=click.UUID, required=True)
@click.option("--initiative", "initiative_id", type=click.UUID, help="One initiative.")
@slice_options
def answers(
    database_url: str | None,
    organisation_id: UUID,
    initiative_id: UUID | None,
    area: str | None,
    cycle: int | None,
    period_from: datetime | None,
    period_to: datetime | None,
    as_of: str | None,
) -> None:
    """Print the five 4PI impact answers for an organisation or initiative,
    as they stand now or as they stood at a past moment."""
    chosen = Slice(
        organisation_id,
        initiative_id,
        area,
        cycle,
        period_from.date() if period_from else None,
        period_to.date() if period_to else None,
    )
    views = open_views(chosen_database(database_url))
    try:
        views.catch_up()
        report = views.report(chosen, as_of=parse_as_of(as_of))
    except (ValueError, ViewsNotReady) as error:
        raise click.BadParameter(str(error), param_hint="--as-of") from None
    finally:
        views.close()
    for line in describe(report):
        click.echo(line)


def parse_as_of(text: str | None) -> int | datetime | None:
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"as_of: {text!r} is neither a log position nor an ISO time"
        ) from None


@main.command()
@database_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="The address to listen on."
)
@click.option("--port", default=8000, show_default=True, help="The port to listen on.")
@click.option(
    "--projections/--no-projections",
    default=True,
    show_default=True,
    help="Keep the impact views caught up in this process. Turn it off for extra API "
    "processes when one `fourpi projections run` worker serves the database.",
)
def serve(database_url: str | None, host: str, port: int, projections: bool) -> None:
    """Serve the GraphQL API (GraphiQL in a browser at /graphql, health at /healthz).

    Every request needs 'Authorization: Bearer <token>' from `fourpi tokens create`."""
    import uvicorn

    from fourpi.graphql.app import create_app

    database = chosen_database(database_url)
    records = open_records(database)
    views = open_views(database, records)
    app = create_app(records, views, run_projections=projections)
    click.echo(f"Serving {database.display} at http://{host}:{port}/graphql")
    uvicorn.run(app, host=host, port=port, log_level="info")


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


@tokens.command("revoke")
@database_option
@click.argument("token_id", type=click.UUID)
def tokens_revoke(database_url: str | None, token_id: UUID) -> None:
    """End a token at once: requests carrying it are refused from now on."""
    records = open_records(chosen_database(database_url))
    try:
        records.revoke_token(token_id=token_id, actor="fourpi tokens revoke")
    except DomainError as error:
        raise click.UsageError(str(error)) from None
    finally:
        records.close()
    click.echo(f"Token {token_id} is revoked.")


def organisation_named(database: Database, given: str) -> UUID:
    """An organisation by its id, or by its exact name when that is unique."""
    try:
        return UUID(given)
    except ValueError:
        pass
    views = open_views(database)
    try:
        views.catch_up()
        matches: list[UUID] = views.store.organisations_named(given)
    finally:
        views.close()
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise click.BadParameter(
            f"no organisation is named {given!r}", param_hint="--organisation"
        )
    raise click.BadParameter(
        f"{len(matches)} organisations are named {given!r}; give one of their ids: "
        + ", ".join(str(m) for m in matches),
        param_hint="--organisation",
    )


@main.command("schema")
def print_schema() -> None:
    """Print the GraphQL schema (SDL). graphql/schema.graphql is this command's output,
    checked in: regenerate it with `fourpi schema > graphql/schema.graphql`."""
    from fourpi.graphql.schema import build_schema

    click.echo(build_schema().as_str())


@main.group()
def audit() -> None:
    """Prove the log whole and unaltered, and replay what it said at any moment."""


@audit.command("verify")
@database_option
@click.option(
    "--anchor",
    "anchor_text",
    metavar="POSITION:SEAL",
    help="A head printed earlier by `fourpi audit anchor`: also prove the log still "
    "holds it unchanged (removing the newest events cannot be seen otherwise).",
)
def audit_verify(database_url: str | None, anchor_text: str | None) -> None:
    """Recompute the hash chain over every event; exit 1 at the first break, saying
    where and what kind (changed, removed, inserted, swapped, seal rewritten,
    truncated behind the anchor)."""
    from fourpi.audit import Anchor, verify

    try:
        anchor = None if anchor_text is None else Anchor.parse(anchor_text)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--anchor") from None
    records = open_records(chosen_database(database_url))
    head = records.recorder.max_notification_id() or 0
    try:
        with position_bar(head, "Verifying the event log") as advance:
            result = verify(records.recorder, anchor=anchor, progress=advance)
    finally:
        records.close()
    if result.broken is not None:
        click.echo(
            f"BROKEN at position {result.broken.position} ({result.broken.kind}): "
            f"{result.broken.explanation}. {result.events} events verified before it."
        )
        sys.exit(1)
    click.echo(f"Intact: {result.events} events, head {result.head or 'none'}.")
    if anchor is not None:
        click.echo(f"The log still holds the anchored head {anchor}.")


@audit.command("anchor")
@database_option
def audit_anchor(database_url: str | None) -> None:
    """Print the log's head (position and seal), to keep somewhere outside the
    database and give later to `fourpi audit verify --anchor`."""
    from fourpi.audit import anchor_of

    records = open_records(chosen_database(database_url))
    try:
        head = anchor_of(records.recorder)
    finally:
        records.close()
    if head is None:
        raise click.ClickException("the log is empty: there is nothing to anchor yet")
    click.echo(str(head))


@audit.command("history")
@database_option
@click.argument("record_id", type=click.UUID)
def audit_history(database_url: str | None, record_id: UUID) -> None:
    """Print a record's events in order, with who recorded each and when."""
    from fourpi.graphql.audit_queries import HIDDEN_EVENT_FIELDS, json_ready

    records = open_records(chosen_database(database_url))
    try:
        events: list[Any] = list(records.events.get(record_id))
        if not events:
            raise click.ClickException(f"no record {record_id} is in the log")
        for event in events:
            facts = {
                k: v for k, v in vars(event).items() if k not in HIDDEN_EVENT_FIELDS
            }
            click.echo(
                f"v{event.originator_version}  {event.timestamp.isoformat()}  "
                f"{type(event).__qualname__}  by {event.recorded_by}"
            )
            click.echo(f"    {orjson.dumps(json_ready(facts)).decode()}")
    finally:
        records.close()


@audit.command("replay")
@database_option
@click.option(
    "--until",
    required=True,
    metavar="POSITION|TIME",
    help="A log position, or an ISO time with its zone.",
)
@click.option("--organisation", "organisation", help="By id or exact name.")
@click.option("--initiative", "initiative_id", type=click.UUID, help="One initiative.")
def audit_replay(
    database_url: str | None,
    until: str,
    organisation: str | None,
    initiative_id: UUID | None,
) -> None:
    """Print the five impact answers as they stood at a past moment."""
    database = chosen_database(database_url)
    views = open_views(database)
    try:
        views.catch_up()
        if organisation is None:
            organisation_id = only_organisation(views, initiative_id)
        else:
            organisation_id = organisation_named(database, organisation)
        report = views.report(
            Slice(organisation_id, initiative_id), as_of=parse_as_of(until)
        )
    except (ValueError, ViewsNotReady) as error:
        raise click.BadParameter(str(error), param_hint="--until") from None
    finally:
        views.close()
    for line in describe(report):
        click.echo(line)


def only_organisation(views: Any, initiative_id: UUID | None) -> UUID:
    """The organisation meant when none is named: the initiative's, or the only one."""
    if initiative_id is not None:
        initiative = views.records.repository.get(initiative_id)
        return UUID(str(initiative.organisation_id))
    names = views.store.organisation_ids()
    if len(names) != 1:
        raise click.UsageError("name the organisation with --organisation")
    return UUID(str(names[0]))


KEYS_OPTION_HELP = (
    "Also {} the key store (each person's key, wrapped under the master key: never a "
    "plain key) {} KEYS. Keep it with the log: without the keys, every personal field "
    "reads as erased. Restore it with the same master key."
)


@main.command("export")
@database_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help=KEYS_OPTION_HELP.format("write", "to"),
)
def export_command(
    database_url: str | None, file: Path, keys_file: Path | None
) -> None:
    """Write the whole log to FILE as NDJSON: one event a line, with its position
    and seal, streamed in order. Personal fields are written as stored: encrypted."""
    from fourpi.audit import export_log

    records = open_records(chosen_database(database_url))
    head = records.recorder.max_notification_id() or 0
    try:
        with file.open("wb") as out, position_bar(head, "Exporting") as advance:
            count = export_log(records.recorder, out, progress=advance)
        if keys_file is not None:
            keys = export_keys(records, keys_file)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        records.close()
    click.echo(f"Exported {count} events to {file}.")
    if keys_file is not None:
        click.echo(
            f"Exported {keys} keys to {keys_file}, wrapped under the master key "
            f"with id {key_store(records).master.id}."
        )


def key_store(records: InvolvementRecords) -> PersonalKeyStore:
    keys = records.keys
    assert isinstance(keys, PersonalKeyStore)
    return keys


def export_keys(records: InvolvementRecords, path: Path) -> int:
    """The key store to a file only its owner can read."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        return key_store(records).export(out)


@main.command("import")
@database_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--append",
    is_flag=True,
    help="Continue a store that already holds events; the file must carry on its chain.",
)
@click.option(
    "--keys",
    "keys_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help=KEYS_OPTION_HELP.format("restore", "from")
    + " Anyone erased in the log stays erased, whatever the file holds.",
)
def import_command(
    database_url: str | None, file: Path, append: bool, keys_file: Path | None
) -> None:
    """Read an exported log into an empty store: the same positions, the same seals,
    and so the same answers. A file whose chain does not verify is refused whole."""
    from fourpi.audit import erased_participants, has_personal_data, import_log

    database = chosen_database(database_url)
    records = open_records(database)
    try:
        count = import_log(records.recorder, file, append=append)
        if keys_file is not None:
            restored = key_store(records).import_(
                keys_file, erased=erased_participants(records.recorder)
            )
        personal = has_personal_data(records.recorder)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        records.close()
    views = open_views(database)
    try:
        position = views.catch_up()
    finally:
        views.close()
    click.echo(f"Imported {count} events; the views are at log position {position}.")
    if keys_file is not None:
        click.echo(
            f"Restored {restored.live} keys ({restored.present} were already here); "
            f"{restored.erased} people are erased."
        )
    elif personal:
        click.echo(
            "No keys were restored (--keys), so every personal field reads as erased. "
            "To read them, import the keys and then run `fourpi projections rebuild`.",
            err=True,
        )


@main.group()
def participants() -> None:
    """Participants' personal data: erasing it for good."""


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
        if not sys.stdin.isatty():
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
    from fourpi.keystore import new_master_key

    click.echo(new_master_key())


REPORT_OPTIONS = {
    "slice.initiativeId": "--initiative",
    "slice.cycle": "--cycle",
    "slice.periodFrom": "--from",
    "slice.periodTo": "--to",
}
"""The command line option of each API field a report's question can be refused for."""


@main.command("report")
@database_option
@click.option(
    "--organisation", "organisation", required=True, help="By id or exact name."
)
@click.option("--initiative", "initiative_id", type=click.UUID, help="One initiative.")
@slice_options
@click.option(
    "--format",
    "form",
    type=click.Choice(["pdf", "html"]),
    required=True,
    help="A PDF to print and file, or one self-contained HTML page.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The file to write.",
)
@click.option(
    "--as",
    "role",
    type=click.Choice(["evaluator", "manager", "auditor"]),
    default="evaluator",
    show_default=True,
    help="Whose answers to show: an evaluator's have small numbers suppressed.",
)
@click.option(
    "--personal-data",
    is_flag=True,
    help="Show exact counts and payments and benefits, as a manager's or auditor's "
    "token granted personal data would (never for an evaluator).",
)
def report_command(
    database_url: str | None,
    organisation: str,
    initiative_id: UUID | None,
    area: str | None,
    cycle: int | None,
    period_from: datetime | None,
    period_to: datetime | None,
    as_of: str | None,
    form: str,
    output: Path,
    role: str,
    personal_data: bool,
) -> None:
    """Write the 4PI impact report of an organisation or initiative, as it stands
    now or as it stood at a past moment, as PDF or HTML. It prints the anchor
    (POSITION:SEAL) of the log it was made from, for `fourpi audit verify --anchor`.
    Making a report records nothing."""
    import asyncio
    from uuid import uuid4

    from fourpi.graphql.context import Caller
    from fourpi.web.answers import AnswerError, AnswerSlice
    from fourpi.web.report import make_report

    if personal_data and role == "evaluator":
        raise click.BadParameter(
            "an evaluator is never granted personal data", param_hint="--personal-data"
        )
    database = chosen_database(database_url)
    organisation_id = organisation_named(database, organisation)
    try:
        moment = parse_as_of(as_of)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--as-of") from None
    chosen = AnswerSlice(
        initiative_id,
        area,
        cycle,
        period_from.date() if period_from else None,
        period_to.date() if period_to else None,
    )
    caller = Caller(uuid4(), Role(role), organisation_id, personal_data)
    records = open_records(database)
    views = open_views(database, records)
    try:
        views.catch_up()
        document = asyncio.run(
            make_report(records, views, caller, chosen, moment, form)  # type: ignore[arg-type]
        )
    except AnswerError as error:
        raise click.BadParameter(
            str(error), param_hint=REPORT_OPTIONS.get(error.field or "", "--as-of")
        ) from None
    finally:
        views.close()
        records.close()
    output.write_bytes(document)
    click.echo(f"Wrote the {form.upper()} report to {output}.")
