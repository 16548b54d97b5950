"""Random workbooks with random faults never import partially and never crash, and each fault is reported by its sheet, row and column."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from fourpi.bootstrap import open_records
from fourpi.domain.use_cases import CHOICE_KINDS, REFERENCE_KINDS, FieldKind
from fourpi.workbook import import_path
from fourpi.workbook.sheets import SHEET_NAMED, normalised
from tests.test_workbook import ACTOR, VALID

FAULTS = (
    "missing key",
    "bad date",
    "unknown label",
    "dangling reference",
    "duplicate key",
    "formula",
    "merged cells",
)


@dataclass
class Grid:
    """A workbook as cells: each sheet's headings and rows, faults applied."""

    sheets: dict[str, list[list[Any]]]
    merges: list[tuple[str, int, int]]
    """(sheet, row, first column) of two cells merged across."""
    expected: set[tuple[str, int, str]]
    used: set[tuple[str, int, int]]


def grid_of() -> Grid:
    sheets: dict[str, list[list[Any]]] = {}
    for title, rows in VALID.items():
        headings = [c.heading for c in SHEET_NAMED[normalised(title)].columns]
        sheets[title] = [headings] + [[row.get(h) for h in headings] for row in rows]
    return Grid(sheets, [], set(), set())


def cells(grid: Grid, test: Any) -> list[tuple[str, int, int]]:
    """Every filled cell (sheet, row index, column index) whose column passes test."""
    found = []
    for title, table in grid.sheets.items():
        columns = SHEET_NAMED[normalised(title)].columns
        for r, values in enumerate(table[1:], start=1):
            for c, value in enumerate(values):
                if (
                    value is not None
                    and test(columns[c])
                    and (title, r, c) not in grid.used
                ):
                    found.append((title, r, c))
    return found


def apply(grid: Grid, fault: str, data: st.DataObject) -> None:
    def choose(candidates: list[tuple[str, int, int]]) -> tuple[str, int, int] | None:
        if not candidates:
            return None
        return data.draw(st.sampled_from(sorted(candidates)))

    def set_cell(where: tuple[str, int, int], value: Any) -> None:
        title, r, c = where
        grid.sheets[title][r][c] = value
        grid.used.add(where)
        grid.expected.add((title, r + 1, grid.sheets[title][0][c]))

    if fault == "missing key":
        where = choose(cells(grid, lambda col: col.heading == "Key"))
        if where:
            set_cell(where, None)
    elif fault == "bad date":
        where = choose(
            cells(
                grid, lambda col: col.field.kind in (FieldKind.DATE, FieldKind.MOMENT)
            )
        )
        if where:
            set_cell(
                where,
                data.draw(st.sampled_from(["31/02/2021", "yesterday", "2021-13-01"])),
            )
    elif fault == "unknown label":
        where = choose(cells(grid, lambda col: col.field.kind in CHOICE_KINDS))
        if where:
            set_cell(where, "Not a thing")
    elif fault == "dangling reference":
        where = choose(cells(grid, lambda col: col.field.kind in REFERENCE_KINDS))
        if where:
            set_cell(where, "nobody-here")
    elif fault == "duplicate key":
        keys = cells(grid, lambda col: col.heading == "Key")
        pairs = [
            (first, later)
            for first in keys
            for later in keys
            if first[0] == later[0] and first[1] < later[1]
        ]
        if pairs:
            first, later = data.draw(st.sampled_from(sorted(pairs)))
            grid.used.add(first)
            set_cell(later, grid.sheets[first[0]][first[1]][first[2]])
    elif fault == "formula":
        where = choose(cells(grid, lambda col: col.heading != "Key"))
        if where:
            set_cell(where, "=1+1")
    elif fault == "merged cells":
        where = choose(cells(grid, lambda col: col.heading != "Key"))
        if where:
            title, r, c = where
            if (
                c + 1 < len(grid.sheets[title][0])
                and (title, r, c + 1) not in grid.used
            ):
                grid.merges.append(where)
                grid.used.update({where, (title, r, c + 1)})
                grid.expected.add((title, r + 1, grid.sheets[title][0][c]))


def save(grid: Grid, path: Path, empty_sheets: list[str]) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, table in grid.sheets.items():
        worksheet = workbook.create_sheet(title)
        for values in table:
            worksheet.append(values)
    for title, r, c in grid.merges:
        worksheet = workbook[title]
        worksheet.merge_cells(
            start_row=r + 1, start_column=c + 1, end_row=r + 1, end_column=c + 2
        )
    for title in empty_sheets:
        workbook.create_sheet(title)
    workbook.save(path)


def test_faulty_workbooks_never_import_partially_never_crash_and_name_each_fault(
    tmp_path: Path,
) -> None:
    records = open_records(f"sqlite:///{tmp_path}/store.sqlite3")
    organisation_id = records.register_organisation(name="Faults", actor=ACTOR)
    head = records.recorder.max_notification_id()
    path = tmp_path / "faulty.xlsx"

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        st.data(),
        st.lists(st.sampled_from(FAULTS), min_size=1, max_size=5),
        st.lists(st.sampled_from(["Feedback", "Cycles", "Policy"]), unique=True),
    )
    def check(data: st.DataObject, faults: list[str], empty: list[str]) -> None:
        grid = grid_of()
        for fault in faults:
            apply(grid, fault, data)
        if not grid.expected:
            return
        save(grid, path, empty)
        report = import_path(records, organisation_id, path, actor=ACTOR)
        assert report.recorded == 0
        assert records.recorder.max_notification_id() == head
        found = {(p.sheet, p.row, p.column) for p in report.problems}
        missing = grid.expected - found
        assert not missing, (missing, [str(p) for p in report.problems])

    try:
        check()
    finally:
        records.close()


def test_the_valid_workbook_with_empty_sheets_imports(tmp_path: Path) -> None:
    records = open_records(f"sqlite:///{tmp_path}/store.sqlite3")
    try:
        organisation_id = records.register_organisation(name="Empty", actor=ACTOR)
        path = tmp_path / "valid.xlsx"
        save(grid_of(), path, ["Feedback", "Cycles", "Policy"])
        report = import_path(records, organisation_id, path, actor=ACTOR)
        assert report.problems == [] and report.recorded > 0
    finally:
        records.close()


ANY_VALUE = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.booleans(),
    st.sampled_from(
        [
            "1e400",
            "-0",
            "99999999999999999999999",
            "31/12/9999",
            "0001-01-01",
            "9999-12-31T23:59:59-23:00",
            "£5",
            "NaN",
            "Yes",
        ]
    ),
)


def test_any_value_in_any_cell_is_recorded_whole_or_refused_whole(
    tmp_path: Path,
) -> None:
    records = open_records(f"sqlite:///{tmp_path}/store.sqlite3")
    path = tmp_path / "random.xlsx"
    count = [0]

    @settings(
        max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(st.data(), st.integers(min_value=1, max_value=4))
    def check(data: st.DataObject, changes: int) -> None:
        grid = grid_of()
        for _ in range(changes):
            title = data.draw(st.sampled_from(sorted(grid.sheets)))
            table = grid.sheets[title]
            r = data.draw(st.integers(min_value=1, max_value=len(table) - 1))
            c = data.draw(st.integers(min_value=0, max_value=len(table[0]) - 1))
            value = data.draw(ANY_VALUE)
            if isinstance(value, str):
                value = "".join(ch for ch in value if ch >= " " or ch in "\n\t")
            table[r][c] = value
        save(grid, path, [])
        # A new organisation each time, so a valid workbook records in full.
        count[0] += 1
        organisation_id = records.register_organisation(
            name=f"Org {count[0]}", actor=ACTOR
        )
        before = records.recorder.max_notification_id()
        report = import_path(records, organisation_id, path, actor=ACTOR)
        after = records.recorder.max_notification_id()
        if report.problems:
            assert report.recorded == 0 and after == before
        else:
            assert after == (before or 0) + report.recorded

    try:
        check()
    finally:
        records.close()
