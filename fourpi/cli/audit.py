"""fourpi audit, export and import: proving the log, histories, replays, and moving the log and its keys."""

import os
import stat
import sys
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import click
import orjson

from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.cli.common import (
    KEYS_OPTION_HELP,
    check_initiative,
    chosen_database,
    database_option,
    key_store,
    only_organisation,
    organisation_named,
    parse_as_of,
    position_bar,
    refuse_precious,
    same_file,
    without_field,
    writing_to,
)
from fourpi.describe import describe
from fourpi.domain.application import InvolvementRecords
from fourpi.projections.answers import Slice
from fourpi.projections.views import ViewsNotReady


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
    records = open_records(chosen_database(database_url), existing=True)
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

    records = open_records(chosen_database(database_url), existing=True)
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

    records = open_records(chosen_database(database_url), existing=True)
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
    moment = parse_as_of(until, "--until")
    database = chosen_database(database_url)
    views = open_views(database, existing=True)
    try:
        views.catch_up()
        if organisation is None:
            organisation_id = only_organisation(views, initiative_id)
        else:
            organisation_id = organisation_named(database, organisation, views)
        check_initiative(views, organisation_id, initiative_id)
        report = views.report(Slice(organisation_id, initiative_id), as_of=moment)
    except (ValueError, ViewsNotReady) as error:
        raise click.BadParameter(without_field(error), param_hint="--until") from None
    finally:
        views.close()
    for line in describe(report):
        click.echo(line)


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

    database = chosen_database(database_url)
    refuse_precious(file, database, "FILE")
    if keys_file is not None:
        refuse_precious(keys_file, database, "--keys")
        if same_file(keys_file, file):
            raise click.BadParameter(
                f"{keys_file} is FILE too: writing it would destroy the log; name "
                "another file",
                param_hint="--keys",
            )
    records = open_records(database, existing=True)
    head = records.recorder.max_notification_id() or 0
    try:
        with (
            writing_to(file),
            owner_only(file) as out,
            position_bar(head, "Exporting") as advance,
        ):
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


def owner_only(path: Path) -> BinaryIO:
    """A file opened to be written from the start, readable by its owner alone: the
    exported log is the organisation's whole record. A file already there is made
    so too (a pipe or device, such as /dev/stdout, is written as it is)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "wb")


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
    from fourpi.audit import (
        checked_import,
        erased_participants,
        has_personal_data,
        import_checked,
        last_position,
    )

    database = chosen_database(database_url)
    records = open_records(database)
    try:
        # The keys are read first: a file refused after the log went in would leave
        # a store that holds events, into which the log cannot be imported again.
        keys = None if keys_file is None else key_store(records).read(keys_file)
        end = last_position(file)
        with position_bar(end, "Checking the file") as checking:
            head = checked_import(
                records.recorder, file, append=append, progress=checking
            )
        due = records.snapshots_due()
        with position_bar(end, "Importing") as advance:
            count = import_checked(
                records.recorder,
                file,
                head,
                progress=advance,
                each=lambda stored: due.note(
                    UUID(str(stored.originator_id)),
                    stored.topic,
                    stored.originator_version,
                ),
            )
        due.take()
        if keys is not None:
            restored = key_store(records).import_(
                keys, erased=erased_participants(records.recorder)
            )
        personal = has_personal_data(records.recorder)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        records.close()
    views = open_views(database)
    try:
        with position_bar(
            views.head(), "Bringing the impact views up to date"
        ) as advance:
            position = views.catch_up(progress=lambda reached, _: advance(reached))
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
