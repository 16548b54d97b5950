"""Importing a workbook through the use cases: every row checked against the domain, every problem reported by sheet, row, column, value and rule, and the valid rows saved in one transaction (or none of them)."""

from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from difflib import get_close_matches
from hashlib import sha256
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from fourpi.domain.application import check_idempotency_key
from fourpi.domain.errors import (
    DomainError,
    IdempotencyKeyReused,
    InvalidInput,
    RecordNotFound,
)
from fourpi.domain.policy import InvolvementPolicy
from fourpi.domain.receipt import CommandReceipt
from fourpi.domain.reference_population import Shares
from fourpi.domain.use_cases import FieldKind, RecordKind
from fourpi.domain.vocabulary import MONITORING_VALUES, MonitoringCategory
from fourpi.workbook.cells import CellError, read_cell, read_choice
from fourpi.workbook.exporting import Export, organisation_events
from fourpi.workbook.files import (
    PROBLEMS_HEADING,
    UNREADABLE,
    Problem,
    RawRow,
    RawSheet,
    text_of,
)
from fourpi.workbook.sheets import (
    CHOSEN_AFTER,
    KEY,
    KEY_PREFIX,
    LISTS,
    POPULATION_SHARES,
    PREFERENCE_STEP,
    READ_ME,
    SHEET_NAMED,
    SHEETS,
    Column,
    Sheet,
    Step,
    normalised,
)
from fourpi.workbook.staging import StagedRecords

BLANKABLE: dict[FieldKind, Any] = {
    FieldKind.TEXT: "",
    FieldKind.LONG_TEXT: "",
    FieldKind.TEXT_LINES: (),
}
"""What a blank optional cell of these kinds gives its use case."""
NAMED_BY_ID_ALONE = frozenset(
    ("Initiatives", "People", "Meetings", "Contributions", "Payments")
)


@dataclass(frozen=True)
class Made:
    """What a row made, as other rows refer to it."""

    record_id: UUID | None
    initiative_id: UUID | None = None
    number: int | None = None


@dataclass
class Row:
    sheet: Sheet
    raw: RawRow
    key: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    """Each column's value (by heading), read as its field's type."""
    problems: list[Problem] = field(default_factory=list)

    def problem(self, column: str, value: Any, rule: str) -> None:
        self.problems.append(
            Problem(self.sheet.title, self.raw.number, column, text_of(value), rule)
        )


@dataclass
class ImportReport:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejected: list[Row] = field(default_factory=list)
    made: list[tuple[str, str, Made]] = field(default_factory=list)
    """(sheet, key, what it made) for every row that went through, in import order."""
    recorded: int = 0
    """Events stored: 0 for a dry run, a refused import, or nothing new."""
    new_events: int = 0
    """Events the valid rows would record (all of them stored, unless refused)."""
    organisation_id: UUID | None = None
    sheets: dict[str, list[Row]] = field(default_factory=dict)
    """Every known sheet's rows, as read."""

    def made_on(self, sheet: str) -> list[tuple[str, Made]]:
        return [(key, made) for title, key, made in self.made if title == sheet]


Progress = Callable[[int], None]


def idempotency_key(sheet: str, key: str, *parts: str) -> str:
    """A row's idempotency key, made from its sheet and key; one a key cannot be
    as it is (longer than a key may be, from a long Key or organisation name, both
    valid; or holding a control character, as a name with a line break does, which
    the domain then refuses in its own words) is its digest, so that importing it
    again is still idempotent. An export names such a row by its record's id."""
    whole = ":".join((KEY_PREFIX, sheet, key, *(p for p in parts if p)))
    try:
        return check_idempotency_key(whole)
    except InvalidInput:
        pass
    digest = sha256(whole.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{KEY_PREFIX}-digest:{digest}"


def import_workbook(
    records: Any,
    organisation: UUID | str,
    raw_sheets: list[RawSheet],
    *,
    actor: str,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    storing: Progress | None = None,
) -> ImportReport:
    """Run every row through the use cases, holding back every save (`progress` is
    told how many rows have run); then save the valid rows in one transaction
    (`storing` is told how many events, before), unless this is a dry run or a row
    was invalid (and skip_invalid was not asked for).

    `organisation` is an organisation's id, or the name of one to register first,
    in the same transaction as the rows."""
    report = ImportReport()
    rows = read_rows(raw_sheets, report)
    report.sheets = rows
    report.rows = sum(len(r) for r in rows.values())
    shares = gather_shares(rows.get(POPULATION_SHARES, []), rows)
    staged = StagedRecords(records)
    if isinstance(organisation, str):
        organisation_id = staged.register_organisation(
            name=organisation,
            actor=actor,
            idempotency_key=idempotency_key("organisation", organisation),
        )
        staged.keep_row()
    else:
        organisation_id = organisation
    report.organisation_id = organisation_id
    importer = Importer(staged, organisation_id, actor, rows, shares, report)
    if not isinstance(organisation, str):
        importer.recognise(
            Export(list(organisation_events(records, organisation_id, None)), True)
        )
    for done, row in enumerate(in_import_order(rows), start=1):
        importer.run(row)
        if progress is not None:
            progress(done)
    for sheet_rows in rows.values():
        for row in sheet_rows:
            if row.problems:
                report.problems.extend(row.problems)
                report.rejected.append(row)
    report.problems.sort(key=lambda p: (sheet_order(p.sheet), p.row))
    report.new_events = staged.kept
    if dry_run or (report.problems and not skip_invalid):
        return report
    if storing is not None and staged.kept:
        storing(staged.kept)
    report.recorded = staged.commit()
    return report


@dataclass(frozen=True)
class RunBetween:
    """A sheet whose rows (`later`) are each run after the rows of an earlier sheet
    (`earlier`) about the same record (named in the `about` column of both; None:
    there is one such record) dated before its own day, and before the rest.

    Its rows name no row of the earlier sheet, so their days tell which they came
    after; an export lists every row of the earlier sheet before any of its."""

    earlier: str
    earlier_day: str
    later: str
    later_day: str
    about: str | None


RESPONSES, CHANGES = "Responses", "Changes"
POPULATIONS = "Reference populations"
PEOPLE, PAYMENTS = "People", "Payments"
RUN_BETWEEN = (
    # A review is of the version in force on its day: the domain adopts no version
    # before the last review of the one it replaces.
    RunBetween("Policy", "adopted_on", "Policy reviews", "reviewed_on", None),
    # Feedback tells contributors of the response given by its day: a deferral, say,
    # before the decision that followed it.
    RunBetween(RESPONSES, "responded_on", "Feedback", "given_on", "contribution_id"),
)


def value_of_field(row: Row, field_name: str) -> Any:
    heading = next(c.heading for c in row.sheet.columns if c.field.name == field_name)
    return row.values.get(heading)


def day_of(row: Row, field_name: str) -> date | None:
    """The row's date in the column of that field; None where it is not a date."""
    value = value_of_field(row, field_name)
    return value if isinstance(value, date) else None


def in_import_order(rows: dict[str, list[Row]]) -> Iterator[Row]:
    """Every row, sheet by sheet in the order of SHEETS, but for the sheets of
    RUN_BETWEEN, whose rows run between those of the sheet before them, and the
    Changes, each run before the responses it must come before
    (`changes_among_responses`)."""
    between = {rule.earlier: rule for rule in RUN_BETWEEN}
    held = {rule.later for rule in RUN_BETWEEN} | {CHANGES}
    for sheet in SHEETS:
        rule = between.get(sheet.title)
        if rule is not None:
            ran = run_between(
                rule, rows.get(rule.earlier, []), rows.get(rule.later, [])
            )
            if rule.earlier == RESPONSES:
                ran = changes_among_responses(list(ran), rows.get(CHANGES, []))
            yield from ran
        elif sheet.title not in held:
            yield from rows.get(sheet.title, [])


def changes_among_responses(ran: list[Row], changes: list[Row]) -> Iterator[Row]:
    """The responses (with the feedback run between them), and each change just
    before the first response, about a contribution it came from, given on or
    after its day; the rest after them all, as their sheet comes after.

    The domain refuses a change from a contribution already declined, not the
    decline of one a change came from: run after every response, a change made
    before its contribution was declined would be refused."""
    responses: dict[Any, list[tuple[int, date]]] = {}
    for index, row in enumerate(ran):
        day = day_of(row, "responded_on") if row.sheet.title == RESPONSES else None
        if day is not None:
            about = value_of_field(row, "contribution_id")
            responses.setdefault(about, []).append((index, day))
    before: dict[int, list[Row]] = {}
    after: list[Row] = []
    for change in changes:
        day = day_of(change, "changed_on")
        sources = value_of_field(change, "contribution_ids")
        first = min(
            (
                index
                for source in (sources if isinstance(sources, tuple | list) else ())
                for index, responded_on in responses.get(source, ())
                if day is not None and responded_on >= day
            ),
            default=None,
        )
        if first is None:
            after.append(change)
        else:
            before.setdefault(first, []).append(change)
    for index, row in enumerate(ran):
        yield from before.get(index, ())
        yield row
    yield from after


def run_between(
    rule: RunBetween, earlier: list[Row], later: list[Row]
) -> Iterator[Row]:
    def about(row: Row) -> Any:
        return None if rule.about is None else value_of_field(row, rule.about)

    waiting: dict[Any, deque[Row]] = {}
    for row in later:
        waiting.setdefault(about(row), deque()).append(row)
    ran: set[int] = set()
    for row in earlier:
        day = day_of(row, rule.earlier_day)
        queue = waiting.get(about(row))
        while day is not None and queue:
            waited = day_of(queue[0], rule.later_day)
            if waited is None or waited >= day:
                break
            ran.add(id(queue[0]))
            yield queue.popleft()
        yield row
    yield from (row for row in later if id(row) not in ran)


def sheet_order(title: str) -> int:
    for index, sheet in enumerate(SHEETS):
        if sheet.title == title:
            return index
    return -1


# Reading rows


def read_rows(raw_sheets: list[RawSheet], report: ImportReport) -> dict[str, list[Row]]:
    """Each known sheet's rows, with every value read as its type; the problems of
    the file itself (unknown columns, formulas, merged cells) go to the report."""
    rows: dict[str, list[Row]] = {}
    for raw in raw_sheets:
        sheet = SHEET_NAMED.get(normalised(raw.title))
        if sheet is None:
            if normalised(raw.title) not in (normalised(READ_ME), normalised(LISTS)):
                report.warnings.append(
                    f"sheet {raw.title!r} is not one fourpi knows"
                    f"{meant(raw.title)}: it was not read"
                )
            continue
        if sheet.title in rows:
            report.problems.append(
                Problem(raw.title, 1, "", "", "this sheet appears twice")
            )
            continue
        known = len(report.problems)
        columns = columns_of(sheet, raw, report)
        sheet_rows = [read_row(sheet, record, columns) for record in raw.rows]
        if len(report.problems) > known:
            # A heading wrong and a column's values would be dropped unseen: so no
            # row of the sheet is recorded, even with skip_invalid.
            heading = report.problems[known].column
            for row in sheet_rows:
                row.problem(heading, "", "the heading row (row 1) has a problem")
        # A formula, a merge or a cell without a heading is its row's problem.
        by_number = {row.raw.number: row for row in sheet_rows}
        for problem in raw.problems:
            owner = by_number.get(problem.row)
            if owner is None:
                report.problems.append(problem)
            else:
                owner.problems.append(problem)
        check_keys(sheet_rows)
        rows[sheet.title] = sheet_rows
    return rows


def meant(title: str) -> str:
    """The sheet a misspelt title most likely meant, as words to add to a warning."""
    close = get_close_matches(normalised(title), SHEET_NAMED, n=1, cutoff=0.75)
    return f" (did you mean {SHEET_NAMED[close[0]].title!r}?)" if close else ""


def columns_of(sheet: Sheet, raw: RawSheet, report: ImportReport) -> dict[str, Column]:
    columns: dict[str, Column] = {}
    for heading in raw.headings:
        column = sheet.column(heading)
        if column is None:
            if normalised(heading) != normalised(PROBLEMS_HEADING):
                known = ", ".join(c.heading for c in sheet.columns)
                report.problems.append(
                    Problem(
                        sheet.title,
                        1,
                        heading,
                        heading,
                        f"is not a column of this sheet; its columns are: {known}",
                    )
                )
            continue
        if column.heading in {c.heading for c in columns.values()}:
            report.problems.append(
                Problem(sheet.title, 1, heading, heading, "this column appears twice")
            )
            continue
        columns[heading] = column
    if raw.rows:
        present = {c.heading for c in columns.values()}
        for column in required_columns(sheet):
            if column.heading not in present:
                report.problems.append(
                    Problem(
                        sheet.title,
                        1,
                        column.heading,
                        "",
                        "this column is missing: every row needs it",
                    )
                )
    return columns


def required_columns(sheet: Sheet) -> list[Column]:
    return [
        c
        for c in sheet.columns
        if c.field.required and (c.step == -1 or not sheet.steps[c.step].optional)
    ]


def read_row(sheet: Sheet, raw: RawRow, columns: dict[str, Column]) -> Row:
    row = Row(sheet, raw)
    for heading, value in raw.cells.items():
        column = columns.get(heading)
        if column is None:
            continue
        if value is UNREADABLE:
            row.values[column.heading] = UNREADABLE
            continue
        try:
            row.values[column.heading] = read_cell(column.field, value)
        except CellError as error:
            row.problem(column.heading, value, error.rule)
            row.values[column.heading] = UNREADABLE
    key = row.values.get(KEY.label)
    if key is None:
        row.problem(KEY.label, "", "must be filled in: every row needs its own key")
    elif key is not UNREADABLE:
        row.key = str(key)
    for column in required_columns(sheet):
        if column.field is not KEY and row.values.get(column.heading) in (None, ()):
            row.problem(column.heading, "", "must be filled in")
    for index, step in enumerate(sheet.steps):
        if not step.optional or not runs(row, index):
            continue
        for column in sheet.step_columns(index):
            if column.field.required and row.values.get(column.heading) in (None, ()):
                row.problem(
                    column.heading,
                    "",
                    f"must be filled in when any of {step.use_case.label.lower()!r} "
                    "is filled in",
                )
    return row


def runs(row: Row, index: int) -> bool:
    """A step runs when it is not optional, or one of its columns is filled."""
    if not row.sheet.steps[index].optional:
        return True
    return any(
        row.values.get(c.heading) not in (None, ())
        for c in row.sheet.step_columns(index)
    )


def check_keys(rows: list[Row]) -> None:
    first: dict[str, int] = {}
    for row in rows:
        if not row.key:
            continue
        if row.key in first:
            row.problem(
                KEY.label,
                row.key,
                f"is already the key of row {first[row.key]}: each row needs its own",
            )
        else:
            first[row.key] = row.raw.number


def gather_shares(
    share_rows: list[Row], rows: dict[str, list[Row]]
) -> dict[str, Shares]:
    """Each reference population's shares, from the rows of Population shares."""
    populations = {r.key for r in rows.get(POPULATIONS, []) if r.key}
    shares: dict[str, Shares] = {}
    for row in share_rows:
        if row.problems:
            continue
        population = row.values["Reference population"]
        category = row.values["Category"]
        if population not in populations:
            row.problem(
                "Reference population",
                population,
                "no row of Reference populations has this key",
            )
            continue
        assert isinstance(category, MonitoringCategory)
        try:
            group = read_choice(MONITORING_VALUES[category], row.values["Group"])
        except CellError as error:
            row.problem("Group", row.values["Group"], error.rule)
            continue
        share = row.values["Share"]
        assert isinstance(share, Decimal)
        by_group = shares.setdefault(population, {}).setdefault(category, {})
        if group in by_group:
            row.problem("Group", group, "is given twice for this population")
            continue
        by_group[group] = share
    return shares


# Running rows through the use cases


class Importer:
    def __init__(
        self,
        staged: StagedRecords,
        organisation_id: UUID,
        actor: str,
        rows: dict[str, list[Row]],
        shares: dict[str, Shares],
        report: ImportReport,
    ) -> None:
        self.staged = staged
        self.organisation_id = organisation_id
        self.actor = actor
        self.shares = shares
        self.report = report
        self.made: dict[tuple[str, str], Made] = {}
        self.rows_by_key: dict[tuple[str, str], Row] = {
            (title, row.key): row
            for title, sheet_rows in rows.items()
            for row in reversed(sheet_rows)
            if row.key
        }
        self.share_rows = rows.get(POPULATION_SHARES, [])
        self.chosen_after = choices_after_payments(rows)
        self.chosen_later = {
            id(person) for people in self.chosen_after.values() for person in people
        }
        self.rows = rows
        self.known: dict[tuple[str, str], Made] = {}
        """Records the store holds, by the sheet and key an export gives them."""
        self.recorded_steps: dict[int, set[int]] = {}
        """The steps of each row (by its id) that name a record the store holds
        that the store has already recorded."""

    def recognise(self, store: Export) -> None:
        """Rows named by the key an export gives a record the store holds (one no
        import gave it): each step of such a row the store has recorded is that
        record, not run again; one whose values differ from the record's is refused
        by its column, as a row imported before is refused when changed. Personal
        data is not compared, as the idempotency of a row imported before does not
        compare it."""
        self.known = {
            key: Made(made.record_id, made.initiative_id, made.number)
            for key, made in store.made.items()
        }
        stored = stored_rows(store)
        stored_shares = gather_shares(
            stored.get(POPULATION_SHARES, []),
            {POPULATIONS: stored.get(POPULATIONS, [])},
        )
        for title, sheet_rows in self.rows.items():
            held = {row.key: row for row in stored.get(title, [])}
            for row in sheet_rows:
                record = held.get(row.key)
                if record is not None and (title, row.key) in store.imported:
                    # Its first step is the import's, run again as nothing new;
                    # its later steps may have been recorded since, elsewhere.
                    steps = same_steps(row, record, first=False)
                    self.recorded_steps[id(row)] = steps
                if record is None or (title, row.key) not in self.known:
                    continue
                shares = self.shares.get(row.key, {})
                if title == POPULATIONS and shares != stored_shares.get(row.key, {}):
                    row.problem(
                        KEY.label,
                        row.key,
                        "this row names a record already in the store, whose "
                        f"{POPULATION_SHARES} rows differ: change them back, or give "
                        "a new record a new key",
                    )
                self.recorded_steps[id(row)] = same_steps(row, record)

    def run(self, row: Row) -> None:
        """Run the row's use cases; after a Payments row, the payment preferences
        chosen after it."""
        self.run_row(row)
        if row.sheet.title == PAYMENTS:
            for person in self.chosen_after.get(row.key, ()):
                self.choose_payment_preference(person)

    def choose_payment_preference(self, row: Row) -> None:
        """The People row's payment preference, set after the payment it names."""
        own = self.made.get((PEOPLE, row.key))
        if row.problems or own is None or not runs(row, PREFERENCE_STEP):
            return
        if PREFERENCE_STEP in self.recorded_steps.get(id(row), ()):
            return
        try:
            step = row.sheet.steps[PREFERENCE_STEP]
            self.perform(row, PREFERENCE_STEP, step, own, {})
        except DomainError as error:
            self.staged.drop_row()
            row.problem(*self.where(row, PREFERENCE_STEP, error))
            return
        self.staged.keep_row()

    def run_row(self, row: Row) -> None:
        if not row.problems and row.sheet.title == POPULATIONS:
            for share_row in self.share_rows:
                if share_row.values.get("Reference population") == row.key and (
                    share_row.problems
                ):
                    row.problem(
                        "Key",
                        row.key,
                        f"its {POPULATION_SHARES} row {share_row.raw.number} has a "
                        "problem",
                    )
        references = self.references(row)
        if row.problems:
            return
        recorded = self.recorded_steps.get(id(row), set())
        own = self.known.get((row.sheet.title, row.key)) if 0 in recorded else None
        if own is not None and row.sheet.makes is None:
            own = None
        index = 0
        try:
            for index, step in enumerate(row.sheet.steps):
                if (
                    not runs(row, index)
                    or index in recorded
                    or (index == PREFERENCE_STEP and id(row) in self.chosen_later)
                ):
                    continue
                result, initiative_id = self.perform(row, index, step, own, references)
                if index == 0:
                    own = self.made_by(step, result, initiative_id)
        except DomainError as error:
            self.staged.drop_row()
            row.problem(*self.where(row, index, error))
            return
        self.staged.keep_row()
        if own is not None:
            self.made[(row.sheet.title, row.key)] = own
            self.report.made.append((row.sheet.title, row.key, own))

    def references(self, row: Row) -> dict[str, Made | tuple[Made, ...]]:
        """Each reference column's rows, by key; a key of no row, or of a row with a
        problem, is the referring row's problem."""
        resolved: dict[str, Made | tuple[Made, ...]] = {}
        for column in row.sheet.columns:
            target = column.sheet_referred_to
            value = row.values.get(column.heading)
            if target is None or value is None or value is UNREADABLE:
                continue
            if column.field.refers_to is RecordKind.REFERENCE_POPULATION:
                continue  # a share row, gathered into its population
            keys = value if isinstance(value, tuple) else (value,)
            found: list[Made] = []
            for key in keys:
                made = (
                    self.made.get((target, key))
                    or self.earlier(target, key)
                    or self.known.get((target, key))
                )
                if made is not None:
                    found.append(made)
                    continue
                other = self.rows_by_key.get((target, key))
                if other is None:
                    rule = f"no row of {target} has the key {key!r}"
                elif other.problems:
                    rule = (
                        f"refers to {target} row {other.raw.number}, which has a "
                        "problem"
                    )
                else:
                    rule = f"refers to {target} row {other.raw.number}, which made no record"
                row.problem(column.heading, key, rule)
            if len(found) == len(keys):
                resolved[column.heading] = (
                    tuple(found) if isinstance(value, tuple) else found[0]
                )
        return resolved

    def earlier(self, sheet: str, key: str) -> Made | None:
        """A record an earlier import made from a row of this key, where its id
        alone names it (not an outcome, role or cycle, which need their initiative)."""
        if sheet not in NAMED_BY_ID_ALONE:
            return None
        receipt_id = CommandReceipt.id_for(
            self.organisation_id, idempotency_key(sheet, key)
        )
        try:
            receipt: Any = self.staged.repository.get(receipt_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(receipt, CommandReceipt) or not isinstance(
            receipt.result, UUID
        ):
            return None
        return Made(receipt.result)

    def perform(
        self,
        row: Row,
        index: int,
        step: Step,
        own: Made | None,
        references: dict[str, Made | tuple[Made, ...]],
    ) -> tuple[Any, UUID | None]:
        """Run one step's use case (once per line of a per-line step); its result,
        and the initiative it was recorded in."""
        arguments: dict[str, Any] = {
            "organisation_id": self.organisation_id,
            "actor": self.actor,
        }
        lines: tuple[str, ...] = ()
        columns = {c.field.name: c for c in row.sheet.step_columns(index)}
        for used in step.use_case.fields:
            if used.name == step.own:
                assert own is not None
                arguments[used.name] = (
                    own.number if used.name == "number" else own.record_id
                )
                continue
            if used.implied_by is not None:
                arguments[used.name] = self.implied(
                    used.implied_by, step, own, columns, references
                )
                continue
            if used.kind is FieldKind.SHARES:
                arguments[used.name] = self.shares.get(row.key, {})
                continue
            column = columns[used.name]
            value = row.values.get(column.heading)
            if column.heading in references:
                value = value_of(references[column.heading], used.name)
            if value is None or value == ():
                if "." in used.name:
                    arguments.setdefault(used.argument, {})
                elif used.kind in BLANKABLE:
                    arguments[used.name] = BLANKABLE[used.kind]
                continue
            if used.name == step.per_line:
                lines = tuple(
                    line.strip() for line in str(value).splitlines() if line.strip()
                )
                continue
            if "." in used.name:
                part = used.name.split(".", 1)[1]
                arguments.setdefault(used.argument, {})[part] = value
            else:
                arguments[used.name] = (
                    list(value) if used.kind is FieldKind.REFERENCES else value
                )
        method = getattr(self.staged, step.use_case.name)
        initiative_id = arguments.get("initiative_id")
        if step.per_line is None:
            result = method(
                **arguments,
                idempotency_key=idempotency_key(row.sheet.title, row.key, step.name),
            )
            return result, initiative_id
        for number, line in enumerate(lines, start=1):
            method(
                **arguments,
                **{step.per_line: line},
                idempotency_key=idempotency_key(
                    row.sheet.title, row.key, step.name, str(number)
                ),
            )
        return None, initiative_id

    @staticmethod
    def implied(
        by: str,
        step: Step,
        own: Made | None,
        columns: dict[str, Column],
        references: dict[str, Made | tuple[Made, ...]],
    ) -> UUID | None:
        if by == step.own:
            assert own is not None
            return own.initiative_id
        made = references[columns[by].heading]
        assert isinstance(made, Made)
        return made.initiative_id

    @staticmethod
    def made_by(step: Step, result: Any, initiative_id: UUID | None) -> Made | None:
        if step.use_case.makes is None:
            return None
        return Made(
            record_id=result if isinstance(result, UUID) else None,
            initiative_id=initiative_id,
            number=result if isinstance(result, int) else None,
        )

    def where(self, row: Row, index: int, error: DomainError) -> tuple[str, str, str]:
        """The column a refusal names, the value there, and the rule."""
        rule = getattr(error, "rule", None) or error.message
        if isinstance(error, IdempotencyKeyReused):
            return (
                KEY.label,
                row.key,
                "this row was imported before with other values: give a changed "
                "row a new key, or change it back",
            )
        if isinstance(error, RecordNotFound) and error.kind == InvolvementPolicy.kind:
            return (
                KEY.label,
                row.key,
                "there is no involvement policy yet: adopt it on the Policy sheet",
            )
        named = (error.field or "").removeprefix("input.")
        for column in (*row.sheet.step_columns(index), *row.sheet.columns):
            name = column.field.name
            if named in (name, column.field.argument) or named.startswith(name + "."):
                return column.heading, text_of(row.values.get(column.heading)), rule
        return KEY.label, row.key, f"{named}: {rule}" if named else rule


def stored_rows(store: Export) -> dict[str, list[Row]]:
    """The rows of an export of the store, each value read as an import reads it."""
    rows: dict[str, list[Row]] = {}
    for title, by_key in store.rows.items():
        sheet = SHEET_NAMED[normalised(title)]
        columns = {c.heading: c for c in sheet.columns}
        rows[title] = [
            read_row(
                sheet,
                RawRow(0, {h: v for h, v in cells.items() if v not in (None, "")}),
                columns,
            )
            for cells in by_key.values()
        ]
    return rows


def same_steps(row: Row, stored: Row, *, first: bool = True) -> set[int]:
    """The steps of a row naming a record the store holds that the store has
    recorded; a column of such a step, or of its first (unless `first` is
    False: then the first is left to run), whose value differs from the
    record's (personal data aside) is the row's problem."""
    recorded = {0} if first else set()
    for index in range(len(row.sheet.steps)):
        if index == 0 and not first:
            continue
        if index and not (runs(row, index) and runs(stored, index)):
            continue
        recorded.add(index)
        for column in row.sheet.step_columns(index):
            if column.field.personal:
                continue
            mine = row.values.get(column.heading)
            theirs = stored.values.get(column.heading)
            if mine in (None, (), "") and theirs in (None, (), ""):
                continue
            if mine != theirs:
                row.problem(
                    column.heading,
                    mine,
                    "this row names a record already in the store, where it is "
                    f"{text_of(stored.raw.cells.get(column.heading))!r}: change it "
                    "back, or give a new record a new key",
                )
    return recorded


def choices_after_payments(rows: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """The People rows whose payment preference is chosen after a Payments row (an
    export names it, where a fee was owed before the person chose not to be paid
    fees), by that row's key; a key of no Payments row is its People row's problem."""
    payments = {row.key for row in rows.get(PAYMENTS, []) if row.key}
    chosen: dict[str, list[Row]] = {}
    for row in rows.get(PEOPLE, []):
        after = row.values.get(CHOSEN_AFTER.label)
        if after is None or after is UNREADABLE:
            continue
        if after not in payments:
            row.problem(
                CHOSEN_AFTER.label, after, f"no row of {PAYMENTS} has the key {after!r}"
            )
            continue
        chosen.setdefault(str(after), []).append(row)
    return chosen


def value_of(made: Made | tuple[Made, ...], name: str) -> Any:
    if isinstance(made, tuple):
        return tuple(m.record_id for m in made)
    return made.number if name == "number" else made.record_id
