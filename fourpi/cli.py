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
from fourpi.observability import configure_logging
from fourpi.projections.answers import Slice
from fourpi.projections.views import ViewsNotReady
from fourpi.store_access import StoreUnavailable

F = TypeVar("F", bound=Callable[..., Any])


def database_option(command: F) -> F:
    return click.option(
        "--database",
        "database_url",
        metavar="URL",
        envvar=DATABASE_URL_VARIABLE,
        help=(
            # Short URLs: a help column wraps a word longer than itself mid-word.
            "Where the event store lives: sqlite:///FILE or "
            "postgresql://USER@HOST/DB (with ?schema=NAME, ?sslmode=... and other "
            f"driver parameters). Defaults to ${DATABASE_URL_VARIABLE}, else "
            "~/.local/share/fourpi/fourpi.sqlite3."
        ),
    )(command)


class FourPIGroup(click.Group):
    """Every command: a master key problem, or a store that cannot be reached, made
    or found, is told plainly in a line or three and exits 1, never as a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            configure_logging(default_level="WARNING")
        except ValueError as error:
            raise click.UsageError(str(error)) from None
        try:
            return super().invoke(ctx)
        except (MasterKeyError, StoreUnavailable) as error:
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


class NotRecorded(click.ClickException):
    """What a command was told to find is not in the record: exit 1, not a usage
    error (2), since the command was used as it should be."""


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
    from fourpi.worker import ProjectionWorker

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
    try:
        ProjectionWorker(views, poll_seconds=poll_seconds).run_here()
    except KeyboardInterrupt:
        click.echo(f"Stopped at log position {views.position()}.")
    finally:
        views.close()


@projections.command("status")
@database_option
def projections_status(database_url: str | None) -> None:
    """Show how far the views have got: their position, the log head and the lag."""
    from fourpi.worker import WorkerReports, describe_worker

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


@main.command()
@database_option
@click.option(
    "--organisation", "organisation", required=True, help="By id or exact name."
)
@click.option("--initiative", "initiative_id", type=click.UUID, help="One initiative.")
@click.option(
    "--area",
    type=click.Choice([a.value for a in ImpactArea]),
    help="One 4PI impact area.",
)
@click.option(
    "--cycle", type=int, help="One Act-Evaluate-Reflect-Learn cycle, by number."
)
@click.option(
    "--from", "period_from", type=click.DateTime(["%Y-%m-%d"]), help="Period start."
)
@click.option(
    "--to", "period_to", type=click.DateTime(["%Y-%m-%d"]), help="Period end."
)
@click.option(
    "--as-of",
    metavar="POSITION|TIME",
    help="A log position, or an ISO time with its zone (2024-05-01T12:00:00+00:00).",
)
def answers(
    database_url: str | None,
    organisation: str,
    initiative_id: UUID | None,
    area: str | None,
    cycle: int | None,
    period_from: datetime | None,
    period_to: datetime | None,
    as_of: str | None,
) -> None:
    """Print the five 4PI impact answers for an organisation or initiative,
    as they stand now or as they stood at a past moment."""
    database = chosen_database(database_url)
    views = open_views(database, existing=True)
    try:
        views.catch_up()
        organisation_id = organisation_named(database, organisation, views)
        check_initiative(views, organisation_id, initiative_id)
        chosen = Slice(
            organisation_id,
            initiative_id,
            area,
            cycle,
            period_from.date() if period_from else None,
            period_to.date() if period_to else None,
        )
        report = views.report(chosen, as_of=parse_as_of(as_of))
    except (ValueError, ViewsNotReady) as error:
        raise click.BadParameter(without_field(error), param_hint="--as-of") from None
    finally:
        views.close()
    for line in describe(report):
        click.echo(line)


def without_field(error: Exception, field: str = "as_of") -> str:
    """The message of an error about `field`, for an option that already names it."""
    return str(error).removeprefix(f"{field}: ")


def check_initiative(
    views: Any, organisation_id: UUID, initiative_id: UUID | None
) -> None:
    """Refuse an initiative that is not one of the organisation's."""
    from fourpi.listing import initiative_owner

    if initiative_id is None:
        return
    if initiative_owner(views, initiative_id) != organisation_id:
        raise NotRecorded(
            f"--initiative: no initiative {initiative_id} is recorded for "
            f"organisation {organisation_id}"
        )


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
    default=None,
    help="Keep the impact views caught up in this process (the default, or "
    "$FOURPI_PROJECTIONS). Turn it off for extra API processes when one "
    "`fourpi projections run` worker serves the database.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="API processes on this port (PostgreSQL only). With projections on, this "
    "process keeps the views and the API processes leave them to it.",
)
@click.option(
    "--metrics/--no-metrics",
    default=None,
    help="Serve Prometheus metrics at /metrics (off by default, or $FOURPI_METRICS).",
)
def serve(
    database_url: str | None,
    host: str,
    port: int,
    projections: bool | None,
    workers: int,
    metrics: bool | None,
) -> None:
    """Serve the web app at / and the GraphQL API at /graphql (GraphiQL in a
    browser), with liveness at /healthz and readiness at /readyz.

    Every request needs 'Authorization: Bearer <token>' from `fourpi tokens create`.
    The proxy settings and the API's limits come from the environment (README,
    Configuration)."""
    import dataclasses

    import uvicorn

    from fourpi.config import ApiLimits
    from fourpi.observability import ready_max_lag
    from fourpi.serving import ServeSettings, build_app

    configure_logging()
    database = chosen_database(database_url)
    try:
        settings = ServeSettings.from_environment()
        ApiLimits.from_environment()
        ready_max_lag()
        check_contributor_settings()
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    if projections is not None:
        settings = dataclasses.replace(settings, projections=projections)
    if metrics is not None:
        settings = dataclasses.replace(settings, metrics=metrics)
    served = dict(host=host, port=port, log_config=None, proxy_headers=False)
    if workers == 1:
        app = build_app(settings, database.url)
        click.echo(f"Serving {database.display}: the web app at http://{host}:{port}/")
        click.echo(f"The API at http://{host}:{port}/graphql")
        uvicorn.run(app, **served)  # type: ignore[arg-type]
        return
    if database.backend == "sqlite":
        raise click.UsageError(
            f"--workers {workers}: several API processes need PostgreSQL. On one "
            "SQLite file they would queue behind its single writer, and an erasure "
            "could not clear the write-ahead log while they hold it open."
        )
    serve_several(database, settings, workers, served)


def serve_several(
    database: Database, settings: Any, workers: int, served: dict[str, Any]
) -> None:
    """uvicorn's worker processes, each building the app from the environment, and
    (with projections on) one projection worker in this process for them all."""
    import uvicorn

    from fourpi.serving import FACTORY
    from fourpi.worker import ProjectionWorker

    open_records(database).close()  # refuse here, plainly, a store that cannot be used
    os.environ[DATABASE_URL_VARIABLE] = database.url
    os.environ["FOURPI_PROJECTIONS"] = "off"
    os.environ["FOURPI_METRICS"] = "on" if settings.metrics else "off"
    worker = (
        ProjectionWorker(open_views(database)).start() if settings.projections else None
    )
    click.echo(
        f"Serving {database.display} at http://{served['host']}:{served['port']}/ "
        f"with {workers} processes"
        + (" and the projection worker in this one." if worker else ".")
    )
    try:
        uvicorn.run(FACTORY, factory=True, workers=workers, **served)
    finally:
        if worker is not None:
            worker.stop()


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


def organisations_called(database: Database, given: str) -> list[UUID]:
    """The organisation of the given id, or every organisation of that exact name
    (none in a store that does not exist yet)."""
    try:
        return [UUID(given)]
    except ValueError:
        pass
    views = open_views(database)
    try:
        views.catch_up()
        matches: list[UUID] = views.store.organisations_named(given)
    finally:
        views.close()
    return matches


def organisation_named(database: Database, given: str, views: Any = None) -> UUID:
    """An organisation by its id, or by its exact name when that is unique; one
    that is not recorded is refused, by what was given."""
    own_views = views is None
    if own_views:
        views = open_views(database, existing=True)
    try:
        if own_views:
            views.catch_up()
        known: list[UUID] = list(views.store.organisation_ids())
        try:
            wanted = UUID(given)
        except ValueError:
            matches: list[UUID] = views.store.organisations_named(given)
        else:
            matches = [wanted] if wanted in known else []
    finally:
        if own_views:
            views.close()
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotRecorded(
            f"--organisation: no organisation is named {given!r} or has that id"
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
    database = chosen_database(database_url)
    views = open_views(database, existing=True)
    try:
        views.catch_up()
        if organisation is None:
            organisation_id = only_organisation(views, initiative_id)
        else:
            organisation_id = organisation_named(database, organisation, views)
        check_initiative(views, organisation_id, initiative_id)
        report = views.report(
            Slice(organisation_id, initiative_id), as_of=parse_as_of(until)
        )
    except (ValueError, ViewsNotReady) as error:
        raise click.BadParameter(without_field(error), param_hint="--until") from None
    finally:
        views.close()
    for line in describe(report):
        click.echo(line)


def only_organisation(views: Any, initiative_id: UUID | None) -> UUID:
    """The organisation meant when none is named: the initiative's, or the only one."""
    from fourpi.listing import initiative_owner

    if initiative_id is not None:
        owner = initiative_owner(views, initiative_id)
        if owner is None:
            raise NotRecorded(
                f"--initiative: no initiative {initiative_id} is recorded"
            )
        return UUID(str(owner))
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

    records = open_records(chosen_database(database_url), existing=True)
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


def check_contributor_settings() -> None:
    """A bad personal-link or email setting, named before anything starts."""
    from fourpi.notices import MailSettings
    from fourpi.personal_links import link_days

    link_days()
    MailSettings.from_environment()


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

    views = open_views(chosen_database(database_url))
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
        click.echo(f"{organisation_id} {name}")


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


@main.group()
def workbook() -> None:
    """Workbooks: bring an organisation's spreadsheets in, take its record out.

    One sheet per kind of record, with plain-English headings; rows refer to each
    other by their keys. A .csv folder (one file per sheet, named by the sheet)
    imports as a workbook does."""


@workbook.command("template")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def workbook_template(file: Path) -> None:
    """Write an empty workbook: every sheet, a first sheet that explains each
    column, and drop-down lists for every vocabulary."""
    from fourpi.workbook import write_template

    write_template(file)
    click.echo(f"Wrote the template to {file}.")


@workbook.command("import")
@database_option
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--organisation",
    "organisation",
    required=True,
    help="By id or exact name; a name no organisation has is registered first.",
)
@click.option(
    "--dry-run", is_flag=True, help="Check every row and report; record nothing."
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Record the valid rows, and write the rejected ones, with their reasons, "
    "to a workbook beside the input.",
)
def workbook_import(
    database_url: str | None,
    source: Path,
    organisation: str,
    dry_run: bool,
    skip_invalid: bool,
) -> None:
    """Import an .xlsx workbook or a folder of .csv files through the use cases.

    Any invalid row, and nothing is recorded (unless --skip-invalid). Exits 1 when
    a row has a problem, 0 when everything was (or, with --dry-run, would be)
    recorded, or when there was nothing new."""
    from fourpi.workbook import rejects_path, write_rejects
    from fourpi.workbook.files import WorkbookUnreadable, read_workbook
    from fourpi.workbook.importing import import_workbook

    database = chosen_database(database_url)
    try:
        sheets = read_workbook(source)
    except WorkbookUnreadable as error:
        raise click.ClickException(str(error)) from None
    matches = organisations_called(database, organisation)
    if len(matches) > 1:
        organisation_named(database, organisation)  # says which ids to choose from
    chosen: UUID | str = matches[0] if matches else organisation
    records = open_records(database)
    try:
        total = sum(len(sheet.rows) for sheet in sheets)
        label = "Checking rows" if dry_run else "Importing rows"
        with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
            reached = 0

            def advance(done: int) -> None:
                nonlocal reached
                bar.update(done - reached)
                reached = done

            report = import_workbook(
                records,
                chosen,
                sheets,
                actor="fourpi workbook import",
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                progress=advance,
            )
    except DomainError as error:
        click.echo(f"error: {error}; nothing was recorded", err=True)
        sys.exit(1)
    finally:
        records.close()
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for problem in report.problems:
        click.echo(str(problem))
    rows = f"{report.rows} rows"
    if dry_run:
        if report.problems:
            click.echo(f"{len(report.problems)} problems in {rows}; nothing recorded.")
            sys.exit(1)
        click.echo(
            f"The workbook would import cleanly: {rows}, "
            f"{report.new_events} new events. Nothing was recorded (dry run)."
        )
        return
    if report.problems and not skip_invalid:
        click.echo(
            f"{len(report.problems)} problems in {rows}: nothing was recorded. "
            "Fix them, or import with --skip-invalid to record the valid rows."
        )
        sys.exit(1)
    if report.recorded:
        click.echo(
            f"Recorded {report.recorded} events from {rows} "
            f"(organisation {report.organisation_id})."
        )
    elif report.rejected:
        click.echo("Nothing was recorded: no valid row had anything new.")
    else:
        click.echo(f"Nothing new to record: every row of {rows} was imported before.")
    if report.rejected:
        rejects = rejects_path(source)
        write_rejects(rejects, report)
        click.echo(
            f"{len(report.rejected)} rows were rejected; they are in {rejects}, "
            "each with its problems."
        )
        sys.exit(1)


@workbook.command("export")
@database_option
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--organisation", "organisation", required=True, help="By id or exact name."
)
@click.option(
    "--as-of",
    metavar="POSITION|TIME",
    help="A log position, or an ISO time with its zone (2024-05-01T12:00:00+00:00).",
)
@click.option(
    "--personal-data",
    is_flag=True,
    help="Include pseudonyms, monitoring data, payment preferences and free text "
    "(left blank without it).",
)
def workbook_export(
    database_url: str | None,
    file: Path,
    organisation: str,
    as_of: str | None,
    personal_data: bool,
) -> None:
    """Write an organisation's record as a workbook in the template's shape, which
    imports again with the same answers."""
    from fourpi.workbook import export_workbook

    database = chosen_database(database_url)
    try:
        moment = parse_as_of(as_of)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--as-of") from None
    if isinstance(moment, datetime) and moment.utcoffset() is None:
        raise click.BadParameter("give the time with its zone", param_hint="--as-of")
    organisation_id = organisation_named(database, organisation)
    records = open_records(database)
    try:
        counts = export_workbook(
            records,
            organisation_id,
            file,
            as_of=moment,
            personal_data=personal_data,
        )
    finally:
        records.close()
    rows = sum(counts.values())
    click.echo(f"Wrote {rows} rows to {file}.")
    if not personal_data:
        click.echo("Personal fields were left blank (--personal-data keeps them).")
