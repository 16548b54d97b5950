"""Workbooks: the template, importing an organisation's spreadsheets through the use cases, and exporting its record in the same shape."""

from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from uuid import UUID

from fourpi.workbook.exporting import PERSONAL_NOTE, export_rows
from fourpi.workbook.files import Unreadable, read_workbook, read_xlsx
from fourpi.workbook.importing import ImportReport, Progress, import_workbook
from fourpi.workbook.writing import write_workbook

__all__ = [
    "ImportReport",
    "export_workbook",
    "import_path",
    "import_upload",
    "rejects_path",
    "write_rejects",
    "write_template",
]


def write_template(path: Path) -> None:
    """An empty workbook: every sheet, its headings and drop-down lists, explained."""
    write_workbook(path, {})


def export_workbook(
    records: Any,
    organisation_id: UUID,
    path: Path,
    *,
    as_of: int | datetime | None = None,
    personal_data: bool = False,
) -> dict[str, int]:
    """Write the organisation's record; how many rows each sheet got."""
    rows = export_rows(
        records, organisation_id, as_of=as_of, personal_data=personal_data
    )
    notes = [] if personal_data else [PERSONAL_NOTE]
    if as_of is not None:
        notes.append(f"The record as it stood at {as_of}.")
    write_workbook(path, rows, notes=notes)
    return {title: len(sheet_rows) for title, sheet_rows in rows.items()}


def import_path(
    records: Any,
    organisation: UUID | str,
    path: Path,
    *,
    actor: str,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import an .xlsx workbook or a folder of .csv files (see import_workbook)."""
    return import_workbook(
        records,
        organisation,
        read_workbook(path),
        actor=actor,
        dry_run=dry_run,
        skip_invalid=skip_invalid,
        progress=progress,
    )


def import_upload(
    records: Any,
    organisation: UUID | str,
    content: bytes,
    *,
    actor: str,
    dry_run: bool = False,
    name: str = "",
) -> ImportReport:
    """Import an .xlsx workbook sent to the server, read from memory: nothing of it,
    people's personal data among it, is written to the server's disk. A refusal
    names it `name`, the file's name as its sender knows it (else UPLOAD_NAME)."""
    return import_workbook(
        records,
        organisation,
        read_xlsx(BytesIO(content), name or UPLOAD_NAME),
        actor=actor,
        dry_run=dry_run,
    )


UPLOAD_NAME = "upload.xlsx"
"""What a refusal calls an uploaded workbook sent without a name."""


def rejects_path(path: Path) -> Path:
    """Where the rows an import rejected are written: beside the input."""
    stem = path.name if path.is_dir() else path.stem
    return path.parent / f"{stem}.rejected.xlsx"


def write_rejects(path: Path, report: ImportReport) -> None:
    """The rejected rows, as they were, with a column of their problems."""
    rows: dict[str, list[dict[str, Any]]] = {}
    problems: dict[str, list[str]] = {}
    for row in report.rejected:
        values = {c.heading: None for c in row.sheet.columns}
        for heading, value in row.raw.cells.items():
            column = row.sheet.column(heading)
            if column is not None and not isinstance(value, Unreadable):
                values[column.heading] = value
        rows.setdefault(row.sheet.title, []).append(values)
        problems.setdefault(row.sheet.title, []).append(
            "\n".join(
                f"{p.column}: {p.rule}" if p.column else p.rule for p in row.problems
            )
        )
    write_workbook(path, rows, problems=problems)
