"""fourpi workbook: the template, importing spreadsheets and exporting the record."""

import sys
from pathlib import Path
from uuid import UUID

import click

from fourpi.bootstrap import open_records
from fourpi.cli import main
from fourpi.cli.common import (
    chosen_database,
    database_option,
    organisation_named,
    organisations_called,
    parse_as_of,
    refuse_precious,
    writing_to,
)
from fourpi.domain.errors import DomainError


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

    with writing_to(file):
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
    click.echo(f"Reading {source.name}", err=True)
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
                storing=lambda events: click.echo(
                    f"\nStoring {events} events", err=True
                ),
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
        with writing_to(rejects):
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
    refuse_precious(file, database, "FILE")
    moment = parse_as_of(as_of)
    organisation_id = organisation_named(database, organisation)
    records = open_records(database)
    head = records.recorder.max_notification_id() or 0
    if isinstance(moment, int) and moment > head:
        records.close()
        raise click.BadParameter(
            f"the log is at position {head}; {moment} is beyond it",
            param_hint="--as-of",
        )
    try:
        with writing_to(file):
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
