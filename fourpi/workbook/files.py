"""Reading a workbook (an .xlsx file, or a folder of .csv files, one per sheet) into rows as the spreadsheet numbers them, and the problems found before any value is read."""

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.parsers.expat import ParserCreate
from zipfile import ZipFile

from openpyxl import load_workbook
from openpyxl.packaging.relationship import get_dependents, get_rels_path
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries

PROBLEMS_HEADING = "Problems"
"""The column a rejects workbook adds; an import reads past it."""
LARGEST_UNPACKED_BYTES = 100 * 1024 * 1024
"""What an .xlsx file may unpack to: ten times a 10 MB upload's worth of cells."""
LARGEST_SPAN = 1_000_000
"""How many cells a workbook's sheets may span together, each from A1 to its last
filled (or merged, or linked) cell: openpyxl makes every cell in that span, blank
or not, so a few bytes naming cell XFD1048576 would otherwise fill the memory."""
MOST_ROWS = 1_048_576
"""The rows a sheet can have (Excel's, and the file format's, limit)."""
LARGEST_ELEMENTS = 3 * LARGEST_SPAN
"""The XML elements a workbook's sheets may hold together: a cell as spreadsheet
programs write it takes two (the cell and its value) and a row one, so
LARGEST_SPAN cells need no more. The most this lets through takes openpyxl some
10 seconds and 300 MB to read."""
FORMULA = (
    "is a formula: fourpi reads only typed values, so copy the cell and paste it "
    "as a value"
)
ERROR_VALUE = "is a spreadsheet error, not a value: type the value it should hold"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet program opening a .csv file reads as the start of a formula."""
QUOTE = "'"
"""Written before text that would be read as a formula, or that starts with a quote
itself (OWASP's guidance for CSV files); a .csv file's import takes one off."""
SPANNING = {"c": "r", "mergeCell": "ref", "hyperlink": "ref", "comment": "ref"}
"""The elements (of a sheet, or of its comments) whose cells openpyxl makes."""


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
        files = sorted(path.glob("*.csv"))
        if not files:
            # The wrong folder: imported as no rows, it would still register the
            # organisation named.
            raise WorkbookUnreadable(
                f"{path.name} holds no .csv file: each sheet of a folder is a .csv "
                "file named by its sheet, such as People.csv"
            )
        for file in files:
            if not file.is_file():
                # A named pipe or a device would be read for ever.
                raise WorkbookUnreadable(
                    f"{file.name} is not a file: each sheet of a folder must be "
                    "a .csv file"
                )
        check_size(
            f"{path.name}'s .csv files hold",
            sum(file.stat().st_size for file in files),
        )
        return [read_csv(file) for file in files]
    if not path.is_file():
        raise WorkbookUnreadable(
            f"{path.name} is not a file: give an .xlsx workbook or a folder"
        )
    return read_xlsx(path, path.name)


def read_xlsx(source: Path | IO[bytes], name: str) -> list[RawSheet]:
    """Every sheet of an .xlsx file, from its path or from the bytes uploaded (kept
    in memory: a server stopped mid-import leaves no copy of them on its disk);
    `name`, the file as the person knows it, names it in a refusal."""
    try:
        check_kind(source, name)
        check_span(source, name)
        if not isinstance(source, Path):
            source.seek(0)
        workbook = load_workbook(source, data_only=False)
    except WorkbookUnreadable:
        raise
    except Exception as error:  # openpyxl raises many kinds for a bad file
        # Named as the person knows it, never by the folder it waits in.
        reason = str(error).replace(str(source), name)
        raise WorkbookUnreadable(
            f"{name} is not an .xlsx workbook fourpi can open ({reason})"
        ) from None
    try:
        shown = TextShown(name)
        return [read_worksheet(sheet, shown) for sheet in workbook.worksheets]
    finally:
        workbook.close()


COMPOUND_FILE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""How a compound file starts: an old .xls workbook, or an .xlsx workbook locked
with a password (its contents encrypted inside one)."""
OPEN_DOCUMENT = b"application/vnd.oasis.opendocument"
"""How an OpenDocument file (.ods) names itself, at the start of its zip file."""
SAVE_AS_XLSX = (
    "open it in a spreadsheet program and save it as an Excel workbook (.xlsx)"
)


def check_kind(source: Path | IO[bytes], name: str) -> None:
    """Refuse, saying what to do, the files people most often give for an .xlsx
    workbook, which the reader would only call not a zip file, or one missing
    '[Content_Types].xml'."""
    if isinstance(source, Path):
        with source.open("rb") as file:
            start = file.read(128)
    else:
        source.seek(0)
        start = source.read(128)
    if start.startswith(COMPOUND_FILE):
        raise WorkbookUnreadable(
            f"{name} is locked with a password, or is an old .xls workbook: "
            f"{SAVE_AS_XLSX}, without a password"
        )
    if OPEN_DOCUMENT in start:
        raise WorkbookUnreadable(
            f"{name} is an OpenDocument spreadsheet: {SAVE_AS_XLSX}"
        )


def check_size(what: str, unpacked: int) -> None:
    """Refuse a workbook whose sheets hold more than LARGEST_UNPACKED_BYTES."""
    if unpacked > LARGEST_UNPACKED_BYTES:
        raise WorkbookUnreadable(
            f"{what} {unpacked // 2**20:,} MB, more than the "
            f"{LARGEST_UNPACKED_BYTES // 2**20} MB a workbook may hold"
        )


def check_span(source: Path | IO[bytes], name: str) -> None:
    """Refuse, before openpyxl unpacks it, a workbook that would take more memory
    than its records could need: one that unpacks to more than
    LARGEST_UNPACKED_BYTES, or whose sheets span more than LARGEST_SPAN cells."""
    reader = ExcelReader(source, read_only=True)
    try:
        check_size(
            f"{name} unpacks to",
            sum(member.file_size for member in reader.archive.infolist()),
        )
        reader.read_manifest()
        reader.read_workbook()
        spanned = elements = 0
        read: set[str] = set()
        for sheet, relationship in reader.parser.find_sheets():
            parts = [relationship.target]
            rels_path = get_rels_path(relationship.target)  # type: ignore[no-untyped-call]
            if rels_path in reader.valid_files:
                dependents = get_dependents(reader.archive, rels_path)
                parts += [d.target for d in dependents if d.TargetMode != "External"]
            rows = columns = 0
            read.update(parts)
            for part in parts:
                if part in reader.valid_files:
                    with reader.archive.open(part) as source:
                        last_row, last_column, elements = last_cell_of(
                            source, sheet.name, elements
                        )
                    rows, columns = max(rows, last_row), max(columns, last_column)
            spanned += rows * columns
            if spanned > LARGEST_SPAN:
                raise WorkbookUnreadable(
                    f"sheet {sheet.name!r} reaches row {rows:,} and column "
                    f"{columns:,}, and the sheets span more than {LARGEST_SPAN:,} "
                    "cells from A1 to their last filled cell: delete the rows and "
                    "columns beyond the records"
                )
        check_other_parts(reader.archive, read, name)
    finally:
        reader.archive.close()


MARKUP = (".xml", ".rels", ".vml")
"""The parts of an .xlsx file that openpyxl reads as XML."""


def check_other_parts(archive: ZipFile, read: set[str], name: str) -> None:
    """Refuse a workbook whose other parts (its shared texts, styles, names) hold
    more XML elements than LARGEST_ELEMENTS, or more texts than LARGEST_SPAN cells
    could show: openpyxl reads each whole, and 5.5 million one-letter texts (a
    fifth of a megabyte packed) took it a minute and a half and 640 MB, 6 million
    empty styles three minutes and 3.9 GB."""
    elements = texts = 0

    def start(tag: str, attributes: dict[str, str]) -> None:
        nonlocal elements, texts
        elements += 1
        if elements > LARGEST_ELEMENTS:
            raise WorkbookUnreadable(
                f"{name}'s part {part!r} takes it past {LARGEST_ELEMENTS:,} XML "
                f"elements outside its sheets, more than {LARGEST_SPAN:,} cells "
                "could need: it is not a workbook fourpi can read"
            )
        if tag.rpartition(":")[2] == "si":
            texts += 1
            if texts > LARGEST_SPAN:
                raise WorkbookUnreadable(
                    f"{name} holds more than {LARGEST_SPAN:,} different texts, more "
                    f"than {LARGEST_SPAN:,} cells could show: it is not a workbook "
                    "fourpi can read"
                )

    for member in archive.infolist():
        part = member.filename
        if part in read or not part.lower().endswith(MARKUP):
            continue
        parser = ParserCreate()
        parser.StartElementHandler = start
        with archive.open(member) as source:
            parser.ParseFile(source)


def last_cell_of(
    source: IO[bytes], sheet: str, elements: int = 0
) -> tuple[int, int, int]:
    """The furthest row and column a sheet's (or its comments') cells reach, read
    as openpyxl reads them: a cell without a reference follows the one before.
    Read by expat alone, keeping no tree; a row past a sheet's last, or more
    elements than LARGEST_SPAN cells could need, is refused at once (a few hundred
    packed kilobytes of empty rows or meaningless tags otherwise took a minute
    and gigabytes here, and as long again in openpyxl). Returns the last row and
    column, and `elements` (those read before) with this part's."""
    seen = {"row": 0, "column": 0, "last_row": 0, "last_column": 0}
    count = elements

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > LARGEST_ELEMENTS:
            raise WorkbookUnreadable(
                f"sheet {sheet!r} holds more than {LARGEST_ELEMENTS:,} XML "
                f"elements, more than {LARGEST_SPAN:,} cells could need: it is "
                "not a workbook fourpi can read"
            )
        tag = name.rpartition(":")[2]
        if tag == "row":
            given = attributes.get("r")
            seen["row"] = int(given) if given else seen["row"] + 1
            seen["column"] = 0
            if seen["row"] > MOST_ROWS:
                raise WorkbookUnreadable(
                    f"sheet {sheet!r} reaches row {seen['row']:,}, past the "
                    f"{MOST_ROWS:,} rows a sheet can have: it is not a workbook "
                    "fourpi can read"
                )
            return
        reference = attributes.get(SPANNING.get(tag, ""))
        if tag == "c":
            if reference:
                cell_row, seen["column"] = coordinate_to_tuple(reference)
            else:
                cell_row, seen["column"] = seen["row"], seen["column"] + 1
            seen["last_row"] = max(seen["last_row"], cell_row)
            seen["last_column"] = max(seen["last_column"], seen["column"])
        elif reference:
            _, _, max_column, max_row = range_boundaries(reference)
            seen["last_row"] = max(seen["last_row"], max_row or 0)
            seen["last_column"] = max(seen["last_column"], max_column or 0)

    parser = ParserCreate()
    parser.StartElementHandler = start
    parser.ParseFile(source)
    return seen["last_row"], seen["last_column"], count


class TextShown:
    """The text a workbook's cells show, counted in each cell that shows it, held
    to LARGEST_UNPACKED_BYTES; each different text read (`unescaped`) once. A
    workbook keeps a text once however many cells show it: one of 32,000
    characters in 100,000 cells (a 7 KB file) held an import for 49 seconds and
    3.2 GB, every cell's problem keeping a copy of it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.characters = 0
        self.read: dict[str, str] = {}

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        self.characters += len(value)
        if self.characters > LARGEST_UNPACKED_BYTES:
            raise WorkbookUnreadable(
                f"{self.name}'s cells show more than "
                f"{LARGEST_UNPACKED_BYTES // 2**20} MB of text, a text counted once "
                "in each cell that shows it: it is not a workbook fourpi can read"
            )
        # The same text object for every cell showing one shared text: its hash
        # is kept, so it is found again at once.
        found = self.read.get(value)
        if found is None:
            found = self.read[value] = unescaped(value)
        return found


def read_worksheet(worksheet: Any, shown: TextShown) -> RawSheet:
    title = str(worksheet.title)
    grid: list[list[Any]] = [
        [shown(cell.value) for cell in row] for row in worksheet.iter_rows()
    ]
    typed: dict[str, set[tuple[int, int]]] = {"f": set(), "e": set()}
    for row in worksheet.iter_rows():
        for cell in row:
            if cell.data_type in typed:
                typed[cell.data_type].add((cell.row, cell.column))
    merged = [
        (r.min_row, r.min_col, r.max_row, r.max_col, str(r))
        for r in worksheet.merged_cells.ranges
    ]
    hidden = Hidden(
        sheet=worksheet.sheet_state != "visible",
        rows={n for n, d in worksheet.row_dimensions.items() if d.hidden},
        columns={
            n
            for d in worksheet.column_dimensions.values()
            if d.hidden and d.min is not None
            for n in range(d.min, (d.max or d.min) + 1)
        },
    )
    return raw_sheet(title, grid, typed["f"], merged, errors=typed["e"], hidden=hidden)


@dataclass(frozen=True)
class Hidden:
    """What a sheet hides from whoever looks at it: itself, rows, columns."""

    sheet: bool = False
    rows: set[int] = field(default_factory=set)
    columns: set[int] = field(default_factory=set)


UNHIDE = "unhide it to see what it holds, or delete it if it is not to be imported"


def raw_sheet(
    title: str,
    grid: list[list[Any]],
    formulas: set[tuple[int, int]],
    merged: list[tuple[int, int, int, int, str]],
    errors: Iterable[tuple[int, int]] = (),
    hidden: Hidden = Hidden(),
) -> RawSheet:
    """Rows keyed by heading; formulas, merged cells and a spreadsheet's error
    values (#REF!, #DIV/0!: not text, though openpyxl gives them as text) become
    problems, and their cells unreadable. So does what is `hidden`, where it holds
    a value: a person would otherwise be recorded from a row no one saw."""
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
    for where, rule in sorted(
        [(cell, FORMULA) for cell in formulas]
        + [(cell, ERROR_VALUE) for cell in errors]
    ):
        r, c = where
        sheet.problems.append(
            Problem(title, r, heading_at(c), text_of(grid[r - 1][c - 1]), rule)
        )
        unreadable.add(where)
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
            if column in hidden.columns:
                sheet.problems.append(
                    Problem(
                        title,
                        number,
                        heading,
                        text_of(value),
                        f"this column is hidden: {UNHIDE}",
                    )
                )
            cells[heading] = value
        if cells:
            sheet.rows.append(RawRow(number, cells))
            if number in hidden.rows:
                rule = f"this row is hidden: {UNHIDE}"
                sheet.problems.append(Problem(title, number, "", "", rule))
    if hidden.sheet and sheet.rows:
        # Once, at its first row: one problem per row said the same thing a
        # thousand times over for a sheet of a thousand rows.
        held = len(sheet.rows)
        rule = (
            f"the sheet {title!r} is hidden, with {held} "
            f"{'row' if held == 1 else 'rows'} in it: {UNHIDE}"
        )
        sheet.problems.append(Problem(title, sheet.rows[0].number, "", "", rule))
    return sheet


def read_csv(path: Path) -> RawSheet:
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:
            grid: list[list[Any]] = [
                [unquoted(cell) for cell in row] for row in csv.reader(file)
            ]
    except (UnicodeDecodeError, csv.Error) as error:
        raise WorkbookUnreadable(f"{path.name} is not UTF-8 CSV ({error})") from None
    return raw_sheet(path.stem, grid, set(), [])


def unquoted(cell: str) -> str:
    """A .csv cell's text as it was before `quoted` kept it from being a formula."""
    if cell.startswith(QUOTE) and cell[1:].startswith((*FORMULA_START, QUOTE)):
        return cell[1:]
    return cell


OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
"""How an .xlsx file's text writes a character XML would not keep (`_x000D_`, a
carriage return, which XML reads as a line feed), and text that would read as
such an escape (`_x005F_` before it, an underscore): Excel writes both so, and
openpyxl reads them as they stand."""
KEPT_BY_XML = re.compile(r"\r|_(?=x[0-9A-Fa-f]{4}[_\r])")
"""A carriage return, and an underscore that would start an escape as the cell is
read (the carriage return's own escape starts with one)."""


def escaped(text: str) -> str:
    """Text as an .xlsx file's cell holds it, so that `unescaped` gives it back."""
    return KEPT_BY_XML.sub(
        lambda found: "_x000D_" if found[0] == "\r" else "_x005F_", text
    )


def unescaped(text: str) -> str:
    """An .xlsx file's text as it was typed (see OOXML_ESCAPE)."""
    return OOXML_ESCAPE.sub(lambda found: chr(int(found[1], 16)), text)


def quoted(text: str) -> str:
    """Text as a .csv cell that a spreadsheet program will not run as a formula;
    `unquoted` gives it back."""
    return QUOTE + text if text.startswith((*FORMULA_START, QUOTE)) else text


def text_of(value: Any) -> str:
    """A cell value as text, for headings and for showing what was there."""
    if value is None or isinstance(value, Unreadable):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
