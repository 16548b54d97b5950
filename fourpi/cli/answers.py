"""fourpi answers, report and schema: the five answers, the printable impact report, the API's schema."""

from datetime import datetime
from pathlib import Path
from uuid import UUID

import click

from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.cli.common import (
    check_initiative,
    chosen_database,
    database_option,
    organisation_named,
    parse_as_of,
    refuse_precious,
    slice_options,
    without_field,
    writing_to,
)
from fourpi.describe import describe
from fourpi.domain.access import Role
from fourpi.projections.answers import Slice
from fourpi.projections.views import ViewsNotReady


@main.command()
@database_option
@click.option(
    "--organisation", "organisation", required=True, help="By id or exact name."
)
@click.option("--initiative", "initiative_id", type=click.UUID, help="One initiative.")
@slice_options
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
    if period_from and period_to and period_from > period_to:
        raise click.BadParameter("must be on or after --from", param_hint="--to")
    moment = parse_as_of(as_of)
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
        report = views.report(chosen, as_of=moment)
    except (ValueError, ViewsNotReady) as error:
        raise click.BadParameter(without_field(error), param_hint="--as-of") from None
    finally:
        views.close()
    for line in describe(report):
        click.echo(line)


@main.command("schema")
def print_schema() -> None:
    """Print the GraphQL schema (SDL). graphql/schema.graphql is this command's output,
    checked in: regenerate it with `fourpi schema > graphql/schema.graphql`."""
    from fourpi.graphql.schema import build_schema

    click.echo(build_schema().as_str())


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

    refuse_precious(output, chosen_database(database_url), "--output")
    if personal_data and role == "evaluator":
        raise click.BadParameter(
            "an evaluator is never granted personal data", param_hint="--personal-data"
        )
    database = chosen_database(database_url)
    organisation_id = organisation_named(database, organisation)
    moment = parse_as_of(as_of)
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
    with writing_to(output):
        output.write_bytes(document)
    click.echo(f"Wrote the {form.upper()} report to {output}.")
