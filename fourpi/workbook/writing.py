"""Writing workbooks in the template's shape: a first sheet that explains every column, a sheet per kind of record with plain-English headings, and drop-down lists for every vocabulary."""

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from fourpi.domain.record import NONCHARACTERS
from fourpi.domain.use_cases import FieldKind, label_of
from fourpi.workbook.files import PROBLEMS_HEADING, escaped, quoted
from fourpi.workbook.sheets import LISTS, READ_ME, SHEETS, Column, Sheet

BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
MAX_ROWS = 10_000
"""How far down the drop-down lists reach in an empty template."""

ABOUT = (
    "Each sheet holds one kind of record; each row is one record, named by its Key. "
    "Rows refer to each other by those keys (a contribution's contributors by the "
    "People sheet's keys). Dates are dd/mm/yyyy or yyyy-mm-dd; times are the "
    "organisation's local time unless a zone is given. A choice is its label as in the drop-down list (or its code); "
    "several choices or keys in one cell are separated by semicolons, and a list of "
    "texts has one item a line. Importing the same workbook again records nothing "
    "new; a longer one records only its new rows. Formulas and merged cells are "
    "not read: type values."
)


def kind_of(column: Column) -> str:
    field = column.field
    if field.kind in (FieldKind.REFERENCE, FieldKind.REFERENCES):
        many = "keys" if field.kind is FieldKind.REFERENCES else "the key"
        return f"{many} of the {column.sheet_referred_to} sheet"
    return str(field.kind.value)


def required_text(sheet: Sheet, column: Column) -> str:
    if not column.field.required:
        return "no"
    if column.step > 0 and sheet.steps[column.step].optional:
        return f"when any of '{sheet.steps[column.step].use_case.label}' is filled in"
    return "yes"


def write_workbook(
    path: Path,
    rows: Mapping[str, Iterable[Mapping[str, Any]]],
    *,
    notes: Iterable[str] = (),
    problems: Mapping[str, list[str]] | None = None,
) -> None:
    """A workbook with every sheet (empty where `rows` has none for it); `problems`
    adds a column of each row's problems (a rejects workbook)."""
    workbook = Workbook()
    read_me = workbook.active
    assert read_me is not None
    read_me.title = READ_ME
    write_read_me(read_me, notes)
    lists = workbook.create_sheet(LISTS)
    ranges = write_lists(lists)
    lists.sheet_state = "hidden"
    for sheet in SHEETS:
        worksheet = workbook.create_sheet(sheet.title)
        sheet_rows = list(rows.get(sheet.title, ()))
        write_sheet(
            worksheet,
            sheet,
            sheet_rows,
            ranges,
            None if problems is None else problems.get(sheet.title, []),
        )
    workbook.move_sheet(LISTS, offset=len(SHEETS))
    # Made in memory and written at once: openpyxl writing to the file itself left a
    # zip file that, on a full disk, failed a second time as it was collected.
    content = io.BytesIO()
    workbook.save(content)
    path.write_bytes(content.getvalue())


def write_read_me(worksheet: Worksheet, notes: Iterable[str]) -> None:
    worksheet.append(["fourpi workbook"])
    worksheet["A1"].font = Font(bold=True, size=14)
    worksheet.append([ABOUT])
    for note in notes:
        worksheet.append([note])
        worksheet.cell(worksheet.max_row, 1).font = BOLD
    worksheet.append([])
    worksheet.append(["Sheet", "Column", "What it holds", "Needed", "Hint"])
    for cell in worksheet[worksheet.max_row]:
        cell.font = BOLD
    for sheet in SHEETS:
        worksheet.append([sheet.title, "", "", "", sheet.hint])
        worksheet.cell(worksheet.max_row, 1).font = BOLD
        for column in sheet.columns:
            hint = column.field.hint
            if column.field.vocabulary is not None:
                hint += " One of: " + "; ".join(
                    label_of(v) for v in column.field.vocabulary
                )
            if column.field.personal:
                hint += " Personal data."
            worksheet.append(
                [
                    sheet.title,
                    column.heading,
                    kind_of(column),
                    required_text(sheet, column),
                    hint,
                ]
            )
    for letter, width in zip("ABCDE", (24, 28, 30, 16, 90), strict=True):
        worksheet.column_dimensions[letter].width = width
    for row in worksheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = WRAP


def write_lists(worksheet: Worksheet) -> dict[type[StrEnum], str]:
    """One column per vocabulary (and Yes/No); each list's range, for drop-downs."""
    vocabularies: list[type[StrEnum]] = []
    for sheet in SHEETS:
        for column in sheet.columns:
            vocabulary = column.field.vocabulary
            if vocabulary is not None and vocabulary not in vocabularies:
                vocabularies.append(vocabulary)
    ranges: dict[type[StrEnum], str] = {}
    for number, vocabulary in enumerate(vocabularies, start=1):
        letter = get_column_letter(number)
        worksheet.cell(1, number, vocabulary.__name__)
        for row, member in enumerate(vocabulary, start=2):
            worksheet.cell(row, number, label_of(member))
        last = len(vocabulary) + 1
        ranges[vocabulary] = f"{quote_sheetname(LISTS)}!${letter}$2:${letter}${last}"
    return ranges


NOT_IN_XML = str.maketrans(dict.fromkeys(NONCHARACTERS, "\ufffd"))


def xml_text(value: Any) -> Any:
    """A cell's value as XML can hold it: U+FFFE and U+FFFF (refused now, but kept
    in facts stored before) as the replacement character, which a spreadsheet
    program shows; otherwise the file would be one it cannot open at all. And a
    carriage return in the spreadsheet's own escape, as Excel writes it (see
    `escaped`)."""
    return escaped(value.translate(NOT_IN_XML)) if isinstance(value, str) else value


def without_noncharacters(text: str) -> str:
    """Text with U+FFFE and U+FFFF as the replacement character (see xml_text)."""
    return text.translate(NOT_IN_XML)


def write_sheet(
    worksheet: Worksheet,
    sheet: Sheet,
    rows: list[Mapping[str, Any]],
    ranges: dict[type[StrEnum], str],
    problems: list[str] | None,
) -> None:
    columns = sheet.columns
    headings = [c.heading for c in columns]
    if problems is not None:
        headings.append(PROBLEMS_HEADING)
    worksheet.append(headings)
    for cell in worksheet[1]:
        cell.font = BOLD
    worksheet.freeze_panes = "B2"
    # Rows are numbered as they are written: openpyxl finds a sheet's last row by
    # reading every cell, which would make the sheet the square of its rows.
    for index, values in enumerate(rows):
        line = [values.get(c.heading) for c in columns]
        if problems is not None:
            line.append(problems[index] if index < len(problems) else "")
        worksheet.append([xml_text(value) for value in line])
        as_text(worksheet.cell(index + 2, number) for number in range(1, len(line) + 1))
    last = max(MAX_ROWS, len(rows) + 1)
    for number, column in enumerate(columns, start=1):
        letter = get_column_letter(number)
        worksheet.column_dimensions[letter].width = max(
            14, min(40, len(column.heading) + 4)
        )
        where = f"{letter}2:{letter}{last}"
        kind = column.field.kind
        if kind in (FieldKind.DATE, FieldKind.MOMENT):
            style = "dd/mm/yyyy" if kind is FieldKind.DATE else "dd/mm/yyyy hh:mm"
            for (cell,) in worksheet.iter_rows(
                min_row=2, max_row=len(rows) + 1, min_col=number, max_col=number
            ):
                if isinstance(cell.value, datetime | date):
                    cell.number_format = style
        validation = validation_for(column, ranges)
        if validation is not None:
            validation.add(where)
            worksheet.add_data_validation(validation)


def as_text(cells: Iterable[Any]) -> None:
    """Text the record holds, kept as text: openpyxl takes a value that starts with
    '=' for a formula, which a spreadsheet would run on opening and the import
    refuses ('=HYPERLINK(...)' typed as a name)."""
    for cell in cells:
        if isinstance(cell.value, str) and cell.data_type == "f":
            cell.data_type = "s"


def validation_for(
    column: Column, ranges: dict[type[StrEnum], str]
) -> DataValidation | None:
    """A drop-down list for a choice; for several choices it offers the list but
    lets a cell hold more than one."""
    field = column.field
    if field.kind is FieldKind.YES_NO:
        source = '"Yes,No"'
    elif field.vocabulary is not None:
        source = ranges[field.vocabulary]
    else:
        return None
    single = field.kind is not FieldKind.CHOICES
    return DataValidation(
        type="list",
        formula1=source,
        allow_blank=True,
        showErrorMessage=single,
        errorTitle=column.heading,
        error=f"Choose one of the list for {column.heading}.",
        promptTitle=column.heading[:32],
        prompt=field.hint[:255],
        showInputMessage=True,
    )


def write_csv_folder(
    folder: Path, rows: Mapping[str, Iterable[Mapping[str, Any]]]
) -> None:
    """The same sheets as a folder of .csv files, one per sheet that has rows."""
    folder.mkdir(parents=True, exist_ok=True)
    for sheet in SHEETS:
        sheet_rows = list(rows.get(sheet.title, ()))
        if not sheet_rows:
            continue
        headings = [c.heading for c in sheet.columns]
        with (folder / f"{sheet.title}.csv").open(
            "w", newline="", encoding="utf-8"
        ) as file:
            writer = csv.writer(file)
            writer.writerow(headings)
            for values in sheet_rows:
                writer.writerow([csv_text(values.get(h)) for h in headings])


def csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return quoted(value)
    return str(value)
