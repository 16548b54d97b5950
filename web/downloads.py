"""Downloads of an answer page's tables: each table as CSV, all of them as one XLSX workbook, with the same suppression as the page (a hidden figure is written as the words shown in its place, never as a number)."""

import csv
import io
import re

from openpyxl import Workbook
from openpyxl.styles import Font

from fourpi.web.answers import Answers, Hidden, Ratio, Table, shown
from fourpi.workbook.files import FORMULA_START
from fourpi.workbook.writing import as_text, without_noncharacters, xml_text

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME_LENGTH = 31
FIRST_ROW = 3
"""A table's first row on its sheet, below its caption and its columns."""


def safe_text(text: str) -> str:
    """Text that a spreadsheet opening a CSV file will not run as a formula."""
    text = without_noncharacters(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_of(table: Table) -> str:
    """The table as CSV: a header row of its columns, then its rows as shown."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(
            [cell if isinstance(cell, int) else safe_text(shown(cell)) for cell in row]
        )
    return out.getvalue()


def sheet_name(key: str, taken: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\]", "-", key)[:SHEET_NAME_LENGTH]
    candidate, number = name, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = name[: SHEET_NAME_LENGTH - len(suffix)] + suffix
        number += 1
    taken.add(candidate)
    return candidate


def xlsx_of(answers: Answers, tables: list[Table]) -> bytes:
    """Every table as a sheet of one workbook, after a sheet saying what it is."""
    workbook = Workbook()
    about = workbook.active
    assert about is not None
    about.title = "About"
    # Names are typed by people: each text cell is written as text (`as_text`, below).
    about.append(
        ["Answers", xml_text(answers.initiative_name or answers.organisation_name)]
    )
    about.append(["Organisation", xml_text(answers.organisation_name)])
    about.append(["Log position", answers.position])
    about.append(["As of", answers.as_of_date])
    about.append(
        [
            "Hidden figures",
            "written as the words shown in their place, never as numbers",
        ]
    )
    about.append([])
    about.append(["Sheet", "Table"])
    taken = {"About"}
    for table in tables:
        name = sheet_name(table.key, taken)
        about.append([name, xml_text(table.caption)])
        sheet = workbook.create_sheet(name)
        sheet.append([xml_text(table.caption)])
        sheet["A1"].font = Font(bold=True)
        sheet.append(list(table.columns))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        # Rows are numbered as they are written: openpyxl finds a sheet's last row
        # by reading every cell, which would make the workbook the square of its rows.
        for number, row in enumerate(table.rows, start=FIRST_ROW):
            sheet.append([excel_value(cell) for cell in row])
            for column, value in enumerate(row, start=1):
                if isinstance(value, Ratio):
                    sheet.cell(number, column).number_format = (
                        "0%" if value.percent else "0.00"
                    )
    for worksheet in workbook.worksheets:
        # Text as text, shown as it is: openpyxl takes text that starts with '=' for
        # a formula. (A CSV cell needs the apostrophe `safe_text` puts before it; a
        # text cell of a workbook does not, and showed it.)
        for cells in worksheet.iter_rows():
            as_text(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def excel_value(cell: object) -> str | int | float | None:
    if isinstance(cell, Hidden):
        return cell.text
    if isinstance(cell, Ratio):
        return float(cell.exact)
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, int):
        return cell
    if cell is None:
        return None
    text: str = xml_text(str(cell))
    return text
