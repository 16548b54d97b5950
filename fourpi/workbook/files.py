"""Reading a workbook (an .xlsx file, or a folder of .csv files, one per sheet) into rows as the spreadsheet numbers them, and the problems found before any value is read."""

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

PROBLEMS_HEADING = "Problems"
"""The column a rejects workbook adds; an import reads past it."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workbook: where, what was there, and the rule it breaks."""

    sheet: str
    row: int
    column: str
    value: str
    rule: str

    def __str__(self) -> str:
        where = f"{self.sheet} row {self.row}"
        if self.column:
            where += f", column {self.column!r}"
        shown = f" ({self.value!r})" if self.value else ""
        return f"{where}{shown}: {self.rule}"


class Unreadable:
    """A cell whose problem was reported as the file was read (a formula, a merge)."""

    def __repr__(self) -> str:
        return "UNREADABLE"


UNREADABLE = Unreadable()


@dataclass
class RawRow:
    number: int
    cells: dict[str, Any]
    """Each heading's cell value, as the file held it (None when blank)."""


@dataclass
class RawSheet:
    title: str
    headings: list[str]
    rows: list[RawRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class WorkbookUnreadable(Exception):
    """The file is not a workbook fourpi can open."""


def read_workbook(path: Path) -> list[RawSheet]:
    """Every sheet of an .xlsx file, or of a folder of .csv files named by sheet."""
    if path.is_dir():
        return [read_csv(file) for file in sorted(path.glob("*.csv"))]
    try:
        workbook = load_workbook(path, data_only=False)
    except Exception as error:  # openpyxl raises many kinds for a bad file
        raise WorkbookUnreadable(
            f"{path.name} is not an .xlsx workbook fourpi can open ({error})"
        ) from None
    try:
        return [read_worksheet(sheet) for sheet in workbook.worksheets]
    finally:
        workbook.close()


def read_worksheet(worksheet: Any) -> RawSheet:
    title = str(worksheet.title)
    grid: list[list[Any]] = [
        [cell.value for cell in row] for row in worksheet.iter_rows()
    ]
    formulas: set[tuple[int, int]] = {
        (cell.row, cell.column)
        for row in worksheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }
    merged = [
        (r.min_row, r.min_col, r.max_row, r.max_col, str(r))
        for r in worksheet.merged_cells.ranges
    ]
    return raw_sheet(title, grid, formulas, merged)


def raw_sheet(
    title: str,
    grid: list[list[Any]],
    formulas: set[tuple[int, int]],
    merged: list[tuple[int, int, int, int, str]],
) -> RawSheet:
    """Rows keyed by heading; formulas and merged cells become problems, and their
    cells unreadable."""
    if not grid:
        return RawSheet(title, [])
    headings = [text_of(value) for value in grid[0]]
    sheet = RawSheet(title, [h for h in headings if h])
    unreadable: set[tuple[int, int]] = set()

    def heading_at(column: int) -> str:
        if column <= len(headings) and headings[column - 1]:
            return headings[column - 1]
        return get_column_letter(column)

    for min_row, min_col, max_row, max_col, span in merged:
        sheet.problems.append(
            Problem(
                title,
                min_row,
                heading_at(min_col),
                text_of(grid[min_row - 1][min_col - 1]),
                f"cells {span} are merged: unmerge them and fill in each cell",
            )
        )
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                unreadable.add((r, c))
    for r, c in sorted(formulas):
        sheet.problems.append(
            Problem(
                title,
                r,
                heading_at(c),
                text_of(grid[r - 1][c - 1]),
                "is a formula: fourpi reads only typed values, so copy the cell "
                "and paste it as a value",
            )
        )
        unreadable.add((r, c))
    for number, values in enumerate(grid[1:], start=2):
        cells: dict[str, Any] = {}
        for column, value in enumerate(values, start=1):
            heading = headings[column - 1] if column <= len(headings) else ""
            if (number, column) in unreadable:
                value = UNREADABLE
            elif isinstance(value, str) and not value.strip():
                value = None
            if value is None:
                continue
            if not heading:
                sheet.problems.append(
                    Problem(
                        title,
                        number,
                        get_column_letter(column),
                        text_of(value),
                        "this column has no heading: give it one, or empty it",
                    )
                )
                continue
            cells[heading] = value
        if cells:
            sheet.rows.append(RawRow(number, cells))
    return sheet


def read_csv(path: Path) -> RawSheet:
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            grid: list[list[Any]] = [list(row) for row in csv.reader(file)]
    except (UnicodeDecodeError, csv.Error) as error:
        raise WorkbookUnreadable(f"{path.name} is not UTF-8 CSV ({error})") from None
    return raw_sheet(path.stem, grid, set(), [])


def text_of(value: Any) -> str:
    """A cell value as text, for headings and for showing what was there."""
    if value is None or isinstance(value, Unreadable):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
