"""Small numbers: which counts of people a caller without the personal-data grant may see.

A count of people from 1 up to, not including, the organisation's threshold (default 5)
is suppressed (primary suppression). Counts are also linked: a total is the sum of its
parts (a category's rows add up to those counted; the organisation's figures are at
most the sum of its initiatives'), so a suppressed cell could be worked out from a
visible total and its other visible parts. Secondary suppression closes that: in every
group of a total and its parts, either nothing is suppressed, or at least two members
are and, when the total is visible, the suppressed parts add up to at least the
threshold. Then no suppressed cell may be pinned to one value by the visible cells:
bounds are tightened through every group and pair (a part at most its whole, and,
where two groups run side by side, each whole at most its part plus the gap between
their totals: see `_Pattern._parallel_of`), and the groups' equations are solved,
with the inequalities no way of moving the counts can loosen taken as equations too
(a linear program finds them: see `_Pattern._by_inequalities`), and any cell found
pinned opens up by suppressing a neighbour. A zero may be suppressed as
a secondary cell, so a suppressed count is any whole number from 0; all a suppressed
count's own answer tells of it is its band, where it has one (a meeting's outcome
against the 4PI standard: below 2, 2, or 3 or more; see `PeopleTable.bands`).
A diversity category with an official grouping (the census's broad ethnic groups)
counts the same people at both levels: each broad row is the sum of its detailed rows,
and the pattern covers both levels at once.

The groups are built conservatively: counts of distinct people are grouped as if no
one were in two initiatives or two levels, and an initiative's process-experience
answers as if every answer scored every dimension. That is the case in which the
visible figures say the most. Where the true counts do not add up that way (someone
went to two meetings), a total is only at most the sum of its parts and at least each
part; where an answer scored only some dimensions, the answers are only at least the
scores given on one dimension (`Group.at_least`); and a cell is judged pinned on what
holds.

The pattern is computed over the organisation and every initiative at once, so the
same cell is suppressed in every answer that shows it and one slice cannot be
subtracted from another to undo it. Past moments, periods and cycles would let one
count be differenced from a neighbouring one, so figures about people narrowed by
them are withheld from such callers altogether (see `Disclosure`).
"""

import functools
import heapq
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain, compress, count
from operator import mul, ne
from typing import Literal, NamedTuple
from uuid import UUID

import numpy as np

from fourpi.config import environment_seconds
from fourpi.domain.vocabulary import (
    MONITORING_VALUES,
    MonitoringCategory,
    ProcessDimension,
    RespondentKind,
    broad_members,
)
from fourpi.projections.answers import NOT_RECORDED, PresenceAnswer
from fourpi.projections.evaluate import SCORES, PeopleFigures

Cell = tuple[Hashable, ...]
"""A count of people, named by what it counts and its scope (None: the organisation)."""


def people(scope: UUID | None) -> Cell:
    """Service users and carers involved: every diversity category's total, and an
    initiative's count by level."""
    return ("people", scope)


def diversity(scope: UUID | None, category: str, value: str) -> Cell:
    return ("diversity", scope, category, value)


def broad_diversity(scope: UUID | None, category: str, group: str) -> Cell:
    """A broad group's row (see `CategoryDiversity.broad_rows`): the same cell as its
    detailed row where it holds one value (prefer_not_to_say, under_18)."""
    members = broad_members(MonitoringCategory(category)).get(group)
    if members is None:  # not_recorded
        return diversity(scope, category, group)
    if len(members) == 1:
        return diversity(scope, category, members[0])
    return ("broad_diversity", scope, category, group)


BY_MONITORING = frozenset({"diversity", "broad_diversity"})
"""The kinds of cell that count people by the value of their monitoring data."""


def level(level: str) -> Cell:
    """The organisation's service users and carers involved at one level."""
    return ("level", level)


def decision_level(scope: UUID | None) -> Cell:
    return ("decision_level", scope)


def decision_meetings(scope: UUID | None) -> Cell:
    return ("decision_meetings", scope)


def meeting(meeting_id: UUID) -> Cell:
    return ("meeting", meeting_id)


def answers(scope: UUID | None) -> Cell:
    return ("answers", scope)


def involved(scope: UUID | None) -> Cell:
    return ("involved", scope)


def respondents(scope: UUID | None) -> Cell:
    return ("respondents", scope)


def scores(scope: UUID | None, kind: str, dimension: str) -> Cell:
    return ("scores", scope, kind, dimension)


def score(scope: UUID | None, kind: str, dimension: str, value: int) -> Cell:
    return ("score", scope, kind, dimension, value)


def support_people(scope: UUID | None, kind: str) -> Cell:
    return ("support_people", scope, kind)


@dataclass(frozen=True)
class Group:
    """A total and the parts it is the sum of, where they add up; where they do not,
    see `at_least`."""

    total: Cell
    parts: tuple[Cell, ...]
    at_least: bool = False
    """Where the parts do not add up to the total: False, the total is at most their
    sum and at least each part (counts of distinct people: someone at two meetings is
    counted at each); True, the total is at least their sum (process-experience
    answers against the scores given on one dimension, since an answer need not score
    every dimension; the organisation's support against its initiatives', since
    support may be given outside any initiative)."""


STANDARD_BANDS: dict[str, tuple[int, int | None]] = {
    "below_minimum": (0, 1),
    "minimum": (2, 2),
    "ideal": (3, None),
}
"""The service users and carers a meeting's outcome against the standard tells."""


@dataclass(frozen=True)
class PeopleTable:
    """Every count of people an answer can show, and how they add up."""

    values: dict[Cell, int]
    groups: tuple[Group, ...]
    at_most: tuple[tuple[Cell, Cell], ...] = ()
    """Counts no larger than another, which an onlooker can know (those at
    decision-making level are among the people counted, the respondents among those
    who answered): (part, whole)."""
    left_out: frozenset[Cell] = frozenset()
    """Counts that are 0 whatever is suppressed, so never suppressed: those an answer
    leaves out when there is nothing to count (a kind of support never given in a
    scope; leaving a row out shows it is 0) and the organisation's levels that no
    initiative is at. Answers list every level and every respondent kind and
    dimension, 0 where nobody is: were they listed only when someone is, a listed
    row whose count is suppressed would be known to be at least 1."""
    bands: Mapping[Cell, tuple[int, int | None]] = field(default_factory=dict)
    """What an onlooker knows of a count whatever else is shown: the least and the
    most it can be (None: no most). A meeting's outcome against the 4PI standard is
    shown to everyone, and tells whether its service users and carers were fewer than
    2 (0 or 1), exactly 2, or 3 or more. Such a count below the threshold is
    suppressed even when it is 0, so that 0 and 1 look the same; one whose band is a
    single value (2) is known whatever is suppressed."""


PATTERN_SECONDS = 30.0
"""FOURPI_SUPPRESSION_SECONDS: the longest the pattern may be worked out for before
every count is suppressed instead (see `suppressed_cells`)."""


class PatternTooSlow(Exception):
    """The pattern was not worked out within its time."""


def pattern_seconds() -> float:
    """FOURPI_SUPPRESSION_SECONDS, as every number of seconds is read: float()
    took inf and nan, which took away the pattern's time limit. The command line
    reads it once before anything starts (`check_contributor_settings`), so a bad
    one is named then rather than in every evaluator's answer."""
    return environment_seconds("FOURPI_SUPPRESSION_SECONDS", PATTERN_SECONDS)


def suppressed_cells(
    table: PeopleTable, threshold: int, seconds: float | None = None
) -> frozenset[Cell]:
    """The cells to show as suppressed: primary, then secondary until every group is
    safe (see the module docstring) and no suppressed cell is pinned to one value by
    what the visible cells tell about it. Deterministic: the same table and threshold
    always give the same cells (ties are broken by the cells' repr).

    A pattern not worked out within `seconds` (FOURPI_SUPPRESSION_SECONDS, default
    30) gives way to suppressing every cell: hiding more never lets an onlooker work
    out more, so the answer stays safe, and no caller waits minutes for it."""
    return suppression_pattern(table, threshold, seconds).cells


@dataclass(frozen=True, eq=False)
class SuppressionPattern:
    """The cells suppressed in one table at one threshold, with what working them out
    keeps for the next table of the same organisation (see `suppression_pattern`)."""

    cells: frozenset[Cell]
    threshold: int
    frame: "_Frame | None" = None
    solved: "_Pattern | None" = None
    """None where the pattern was not worked out in time (every cell suppressed)."""
    in_part: bool = False
    """Whether it was worked out again only where the last table's values changed."""
    table: PeopleTable | None = None
    """The table it was worked out from, which its frame fits."""


def suppression_pattern(
    table: PeopleTable,
    threshold: int,
    seconds: float | None = None,
    last: SuppressionPattern | None = None,
    changed: "ValuesChanged | None" = None,
) -> SuppressionPattern:
    """The pattern of `suppressed_cells`, worked out from what the last pattern of
    the same organisation kept where that gives the same cells.

    A write that changes a count of people changes a few values of a table whose
    cells, groups, pairs, bands and left-out rows are as they were. Then only the
    connected parts of suppressed cells that a changed value bears on are solved
    again, and every other part is kept as it was (see `_Pattern.again`); where the
    values are all the same, so is the pattern. Where the table is known to be the
    last pattern's table with only some values changed (`changed`), neither the
    table's frame nor its values are compared with the last ones."""
    seconds = pattern_seconds() if seconds is None else seconds
    deadline = time.monotonic() + seconds
    try:
        frame = None if last is None else last.frame
        values = None
        numbers = None
        if frame is not None and last is not None and last.solved is not None:
            if changed is not None and changed.since is last.table:
                values = frame.values_changed(last.solved.values, table, changed.cells)
                numbers = list(map(frame.number.__getitem__, changed.cells))
            elif frame.fits(table):
                values = frame.values_of(table)
            if values is not None and last.threshold == threshold:
                if values is last.solved.values or values == last.solved.values:
                    return last if last.table is table else replace(last, table=table)
                again = last.solved.again(values, deadline, numbers)
                if again is not None:
                    cells = _moved_cells(frame, last.cells, again)
                    return SuppressionPattern(
                        cells, threshold, frame, again, in_part=True, table=table
                    )
        if values is None or frame is None:
            frame = _Frame(table)
            values = frame.values_of(table)
        solved = _Pattern(
            values,
            frame.sums,
            threshold,
            frame.left_out_numbers,
            frame.pairs,
            frame.band_numbers,
            deadline=deadline,
            containing=frame.containing,
        )
        return SuppressionPattern(
            frozenset(map(frame.cells.__getitem__, solved.suppressed)),
            threshold,
            frame,
            solved,
            table=table,
        )
    except PatternTooSlow:
        return SuppressionPattern(frozenset(table.values), threshold)


def _moved_cells(
    frame: "_Frame", cells: frozenset[Cell], now: "_Pattern"
) -> frozenset[Cell]:
    """The cells of the last pattern, with those no longer suppressed taken out and
    those newly suppressed put in (`now` was worked out again from it): each is in
    one of the two patterns only, so one pass over the last cells does both
    (without hashing any cell again)."""
    moved = now.moved
    if not moved:
        return cells
    return cells.symmetric_difference(map(frame.cells.__getitem__, moved))


class _Frame:
    """All of a table but its values, on cells numbered in repr order: what the next
    table of the same organisation mostly shares (a write changes values, seldom
    which cells there are or how they add up)."""

    def __init__(self, table: PeopleTable) -> None:
        self.keys = list(table.values)
        self.groups = table.groups
        self.at_most = table.at_most
        self.left_out = table.left_out
        self.bands = table.bands
        keys = self.keys
        self.order = sorted(range(len(keys)), key=lambda n: repr(keys[n]))
        """The position in the table of each cell, in repr order."""
        self.cells = [keys[n] for n in self.order]
        self.number = number = {cell: n for n, cell in enumerate(self.cells)}
        """The number of each cell."""
        numbered = number.__getitem__
        self.sums = [
            Sum(numbered(g.total), tuple(map(numbered, g.parts)), g.at_least)
            for g in table.groups
        ]
        self.pairs = [(number[part], number[whole]) for part, whole in table.at_most]
        self.left_out_numbers = {number[cell] for cell in table.left_out}
        self.band_numbers = {number[cell]: band for cell, band in table.bands.items()}
        self.containing = _containing(self.sums, len(self.cells))

    def fits(self, table: PeopleTable) -> bool:
        """Whether the table has these cells in this order, these groups and pairs in
        theirs, these bands and these left-out rows: then it differs at most in
        values."""
        return (
            len(table.values) == len(self.keys)
            and (table.groups is self.groups or table.groups == self.groups)
            and (table.at_most is self.at_most or table.at_most == self.at_most)
            and (table.left_out is self.left_out or table.left_out == self.left_out)
            and (table.bands is self.bands or table.bands == self.bands)
            and list(table.values) == self.keys
        )

    def values_of(self, table: PeopleTable) -> list[int]:
        """The table's values in repr order of their cells."""
        values = list(table.values.values())
        return list(map(values.__getitem__, self.order))

    def values_changed(
        self, values: list[int], table: PeopleTable, cells: Sequence[Cell]
    ) -> list[int]:
        """The values in repr order of a table that fits, from those of an earlier
        one (`values`) and the cells whose values changed since."""
        if not cells:
            return values
        changed = list(values)
        number = self.number
        for cell in cells:
            changed[number[cell]] = table.values[cell]
        return changed


def _containing(sums: Sequence["Sum"], cells: int) -> list[list[int]]:
    """The groups each cell is a member of, in order."""
    containing: list[list[int]] = [[] for _ in range(cells)]
    for index, group in enumerate(sums):
        for member in dict.fromkeys((group.total, *group.parts)):
            containing[member].append(index)
    return containing


class Sum(NamedTuple):
    """A group with its cells numbered in repr order."""

    total: int
    parts: tuple[int, ...]
    at_least: bool = False


class _Parts:
    """Cells in parts that only ever merge (a union-find), with each part's cells."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.grown: dict[int, list[int]] = {}
        """The cells of each part of more than one, by its root."""

    def add(self, cell: int) -> None:
        self.parent[cell] = cell

    def root(self, cell: int) -> int:
        parent = self.parent
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    def members(self, root: int) -> list[int]:
        return self.grown.get(root) or [root]

    def roots(self) -> list[int]:
        return [cell for cell, parent in self.parent.items() if cell == parent]

    @classmethod
    def labelled(cls, cells: np.ndarray, label: np.ndarray) -> "_Parts":
        """The parts of these cells where each is labelled by the position among
        them of the first of its part (see `_labels`), that one its root."""
        parts = cls()
        parts.parent = dict(zip(cells.tolist(), cells[label].tolist(), strict=True))
        order = np.argsort(label, kind="stable")
        starts = np.flatnonzero(np.diff(label[order], prepend=-1))
        sizes = np.diff(starts, append=len(order))
        ordered = cells[order].tolist()
        for start, size in zip(
            starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True
        ):
            members = ordered[start : start + size]
            parts.grown[members[0]] = members  # the first of a part is its root
        return parts

    def join(self, cells: Sequence[int]) -> tuple[int, list[int]]:
        """Merge the parts of these cells into one: its root, and the roots merged
        away."""
        parent, grown = self.parent, self.grown
        kept = self.root(cells[0])
        merged = []
        for other in cells[1:]:
            while parent[other] != other:  # root(), written out
                parent[other] = parent[parent[other]]
                other = parent[other]
            if other == kept:
                continue
            if len(grown.get(kept, ())) < len(grown.get(other, ())):
                kept, other = other, kept
            parent[other] = kept
            into = grown.get(kept)
            if into is None:
                into = grown[kept] = [kept]
            into += grown.pop(other, [other])
            merged.append(other)
        return kept, merged


JOINED_AT_ONCE = 1024
"""The fewest cells the first round of a solve joins into parts over arrays (see
`_Pattern._join_at_once`); for fewer, joining them group by group costs less."""


def _labels(cells: int, one: np.ndarray, other: np.ndarray) -> np.ndarray:
    """For cells numbered 0.., joined pairwise (`one[k]` with `other[k]`), the least
    cell of each one's part.

    Each label is a cell of the same part, no larger than the cell: at first the
    cell itself; then each pair's two labels (each the label of itself) take the
    lesser of the two, and every label the label of its label until none changes.
    That only ever lowers a label to another of the same part, so it ends, and it
    ends only where every pair's cells have one label and each label is its own:
    one label over each part, which is its least cell (that one's label is its
    own)."""
    label = np.arange(cells)
    while True:
        least = np.minimum(label[one], label[other])
        np.minimum.at(label, label[one], least)
        np.minimum.at(label, label[other], least)
        while True:
            jumped = label[label]
            if np.array_equal(jumped, label):
                break
            label = jumped
        if np.array_equal(label[one], label[other]):
            return label


def _above(bound: float, gap: float) -> float:
    """A bound raised by a gap, inf where either is (a count may be a whole number
    too large for a float: adding inf to it would fail)."""
    return math.inf if math.inf in (bound, gap) else bound + gap


def _below(bound: float, gap: float) -> float:
    """A finite bound lowered by a gap, -inf where the gap is inf."""
    return -math.inf if gap == math.inf else bound - gap


def _roots(parent: dict[int, int], cells: Iterable[int]) -> set[int]:
    """The roots of these cells' parts (`_Parts.root` of each, written out: at the
    first round of a pattern worked out again, twice 12,500 cells at 100k)."""
    roots = set()
    for cell in cells:
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        roots.add(cell)
    return roots


def _true_pairs(
    at_most: Sequence[tuple[int, int]], values: Sequence[int]
) -> list[tuple[int, int]]:
    """The pairs true of the values: a part no larger than its whole. The pairs
    themselves, not copies: a pattern keeps them, and the 7,348 tuples made anew
    at 100k were most of what the collector walked after a pattern worked out
    again."""
    return [pair for pair in at_most if values[pair[0]] <= values[pair[1]]]


class _Pattern:
    """The suppression pattern of one table, on cells numbered in repr order (so the
    smaller number wins every tie)."""

    def __init__(
        self,
        values: list[int],
        sums: list[Sum],
        threshold: int,
        shown: set[int] | None = None,
        at_most: Sequence[tuple[int, int]] = (),
        bands: Mapping[int, tuple[int, int | None]] | None = None,
        deadline: float = math.inf,
        containing: list[list[int]] | None = None,
    ) -> None:
        self.deadline = deadline
        self.sums = sums
        self.at_most = at_most
        self.threshold = threshold
        self.bands = {
            n: (low, math.inf if high is None else high)
            for n, (low, high) in (bands or {}).items()
        }
        self.known = set(shown or ())
        """Cells whose value an onlooker knows whatever the values: those left out
        (`PeopleTable.left_out`) and those whose band is one value."""
        self.known.update(n for n, (low, high) in self.bands.items() if low == high)
        self.containing = (
            _containing(sums, len(values)) if containing is None else containing
        )
        self.lonely = [
            index
            for index, group in enumerate(sums)
            if all(part == group.total for part in group.parts)
        ]
        """The groups of one member (a total with no parts but itself)."""
        self._weigh(values)
        self.arrays: _SumArrays | None = None
        """The groups as arrays, made when first needed (see `_bounds_at_once`)."""
        self.floats: np.ndarray | Literal[False] | None = None
        """The values as floats, made when first needed; False where one is too
        large for sums over a group to be exact in floats."""
        self.moved: set[int] = set()
        """The cells suppressed in only one of this pattern and the one it was
        worked out again from (see `again`)."""
        self.ordered: dict[int, list[tuple[int, int]]] = {}
        """The parts not shown of each group of many parts (CROWDED) looked at, as
        (value, part), largest first: kept from one pattern to the next for the
        groups whose parts' values and whether they are shown are as they were."""
        # A small number the onlooker knows anyway (a meeting's 2, which its standard
        # tells) is still shown as suppressed, but hides nothing: the pattern reasons
        # with it as a visible cell.
        self._solve(self.small - self.shown, set(range(len(sums))))
        self.suppressed = self.hidden | self.small
        """The cells suppressed: those hidden and the small ones (where worked out
        again, from the last pattern's and the cells that moved: see `again`)."""

    def _weigh(self, values: list[int]) -> None:
        """What the pattern reasons with that follows from the values."""
        self.values = values
        # Only what is true of the counts: a part no larger than its whole.
        self.pairs = _true_pairs(self.at_most, values)
        self.shown = set(self.known)
        """Cells whose value an onlooker knows whatever is suppressed: those known
        and those they give away (`_given_away`)."""
        threshold = self.threshold
        self.small = {n for n, value in enumerate(values) if 0 < value < threshold}
        """The primary cells: small numbers, and banded counts below the threshold."""
        self.small.update(n for n in self.bands if values[n] < threshold)
        # Where the true counts satisfy total == sum of parts (see `_pinned`).
        self.exact = [
            values[g.total] == sum(values[part] for part in g.parts) for g in self.sums
        ]
        self._given_away()
        self.slack = self._slack()
        self.wholes = self._wholes_of()
        self.parallel = self._parallel_of()
        self.touching = self._touching_of()

    def _touching_of(self) -> list[list[int]]:
        """Groups, then pairs (numbered after the groups): what bounds each cell. A
        pair with parallel groups holds their totals too (see `_members`)."""
        touching = list(self.containing)
        in_pairs: dict[int, list[int]] = {}
        grouped = len(self.sums)
        for number in range(grouped, grouped + len(self.pairs)):
            for cell in self._members(number):
                in_pairs.setdefault(cell, []).append(number)
        for cell, numbers in in_pairs.items():
            touching[cell] = self.containing[cell] + numbers
        return touching

    def _parallel_of(self) -> dict[int, list[tuple[int, int]]]:
        """For each pair (by its place in `pairs`) whose part is the i-th part of a
        group G and whose whole the i-th part of a group H, where every part of G is
        at most the same part of H (a pair each) and H adds up (its total U the sum
        of its parts, as the true counts say), G's and H's totals, as (T, U): the
        initiatives' people making decisions and their people, say, against the
        organisation's.

        Then U less the parts of G is the sum of each part of H less its part of G,
        each at least 0; and where G is not at least its parts (it adds up, or
        counts distinct people: then T is at most their sum), U - T is at least
        that sum. So each whole is at most its part plus U - T, and each part at
        least its whole less U - T: where U and T are visible, a bound no group or
        pair gives alone (see `_gap`). An onlooker who knew that 3 of the
        organisation's 6 people make decisions, none of them in initiative A,
        worked out that A has at most 3 people, and A's rows that add up to at
        least 3 pinned it (found by the attack test)."""
        sums, exact, containing = self.sums, self.exact, self.containing
        true = set(self.pairs)
        summed: dict[int, bool] = {}
        """Whether a group's total is at most its parts' sum, as the counts say."""
        aligned: dict[tuple[int, int], set[tuple[int, int]]] = {}
        """Each G and H looked at: their parts side by side, where each is a pair."""
        parallel: dict[int, list[tuple[int, int]]] = {}
        for number, pair in enumerate(self.pairs):
            part, whole = pair
            for g in containing[part]:
                holds = summed.get(g)
                if holds is None:
                    holds = summed[g] = exact[g] or (
                        not sums[g].at_least and self._group_true(g)
                    )
                if not holds or sums[g].total == part:
                    continue
                for h in containing[whole]:
                    if not exact[h] or h == g or sums[h].total == whole:
                        continue
                    side_by_side = aligned.get((g, h))
                    if side_by_side is None:
                        parts, wholes = sums[g].parts, sums[h].parts
                        side_by_side = aligned[g, h] = (
                            set(zip(parts, wholes, strict=True))
                            if len(parts) == len(wholes)
                            and all(p in true for p in zip(parts, wholes, strict=True))
                            else set()
                        )
                    if pair in side_by_side:
                        parallel.setdefault(number, []).append(
                            (sums[g].total, sums[h].total)
                        )
        return parallel

    def _gap(self, number: int) -> float:
        """The most a pair's whole is above its part, by its parallel groups whose
        totals are visible (see `_parallel_of`); inf where none is."""
        gap = math.inf
        hidden, values = self.hidden, self.values
        for total, whole_total in self.parallel.get(number, ()):
            if total not in hidden and whole_total not in hidden:
                gap = min(gap, values[whole_total] - values[total])
        return gap

    def _wholes_of(self) -> dict[int, list[int]]:
        """The wholes each cell is at most, in the pairs' order."""
        wholes: dict[int, list[int]] = {}
        for part, whole in self.pairs:
            wholes.setdefault(part, []).append(whole)
        return wholes

    def _solve(
        self, hidden: set[int], unsafe: set[int], in_order: bool = False
    ) -> None:
        """Secondary suppression from these primary cells, round by round, until no
        suppressed cell is pinned. `unsafe`: the groups to make safe first; with
        `in_order`, those holding a primary cell, made safe as one pass over every
        group in order would (see `_make_safe_in_order`)."""
        self.hidden = hidden
        self.mask: tuple[set[int], int, np.ndarray] | None = None
        """The suppressed cells as an array, with the set and how many were in it
        when it was made (see `_hidden_mask`)."""
        # What the rounds keep from one to the next, so each costs what changed.
        self.crowds: dict[int, _Crowd] = {}
        """The groups of many parts looked at so far, by number (see `_crowd`)."""
        self.fresh: list[int] = sorted(self.hidden)
        """Cells hidden since `_pinned` last looked."""
        self.connected = _Parts()
        """The suppressed cells' connected parts: two are connected when a group or a
        pair holds both. What is visible about one part tells nothing about another."""
        self.tied = _Parts()
        """The suppressed cells whose bounds are tightened together: connected through
        groups and pairs other than those that only ever bound each part by their
        total (`slack`)."""
        self.pinned_by_bounds: dict[int, int] = {}
        """The first cell pinned by its bounds in each tied part that has one, by the
        part's root."""
        self.pinned_by_equations: dict[int, int] = {}
        """The first cell the equations pin in each connected part that has one and
        has no cell pinned by its bounds, by the part's root."""
        self.joined: dict[int, int] = {}
        """A cell of each group and pair holding one that `_join` has taken in: all
        those it took in lie in one connected part, and in one tied part where the
        group or pair ties them."""
        self.bounding: list[tuple[int, int]] | None = None
        """A heap of (-value, -cell) of visible totals above 0 with a suppressed part
        (and totals since suppressed, left for `_largest_bounding` to drop), made
        when first needed (seldom: see `_loosening`)."""
        self.beyond = False
        """Whether a loosening was looked for beyond the groups and pairs of the
        pinned cell (`_loosening`): then one part's rounds may hide a cell of
        another, and the parts cannot be solved apart (see `again`)."""
        self.loose: set[Hashable] = set()
        """The inequalities tight at the true counts (`_tight`) shown not to be
        equations in effect (`_implicit`): the suppressed cells only grow in a
        solve, and a way to move the cells that stays within every bound stays one
        when more cells may move, so each stays loose until the solve ends."""
        if in_order:
            self._make_safe_in_order(unsafe)
        while True:
            self._in_time()
            self._make_safe(unsafe)
            loosened = False
            for cell in self._pinned():
                loosening = self._loosening(cell)
                if loosening is not None:
                    self._hide(loosening)
                    unsafe.update(self.containing[loosening])
                    loosened = True
            if not loosened:
                # Nothing is pinned, or every cell is hidden already.
                self.solved_again = self.hidden
                """The suppressed cells worked out here, not kept from the last
                pattern (see `again`)."""
                connected = self.connected
                self.members = {
                    root: connected.members(root) for root in connected.roots()
                }
                """The cells of each connected part, by its root."""
                self.part = {
                    cell: root for root, cells in self.members.items() for cell in cells
                }
                """The connected part of each suppressed cell, by its root."""
                return

    def again(
        self,
        values: list[int],
        deadline: float,
        changing: Iterable[int] | None = None,
    ) -> "_Pattern | None":
        """The pattern of the same table with other values, worked out again only in
        the connected parts of suppressed cells that a changed value bears on; None
        where that cannot be shown to be the pattern of solving it all.

        A part's rounds look only at its own cells and at the groups and pairs that
        hold them (`_make_safe` makes a group safe by hiding one of its members,
        `_pinned` and `_loosening` look at a part's own groups and pairs), unless a
        loosening is looked for beyond them (`beyond`). Two parts that never share a
        group or pair so go through their rounds apart, each as if the other were not
        there. So where the values change, the parts of the last pattern that no
        group or pair joins to a changed cell (one whose value, or whether it is
        known, changed) go through the same rounds as last time and end as they
        did; the rest are solved again from their primary cells. Their new parts
        must share no group or pair with a part kept: else the kept parts they
        reach are solved again with them (and where that comes to most of the
        suppressed cells, the table is solved whole). A table no longer true of its
        counts changes which groups are slack everywhere, and is solved whole.
        `changing`: the cells whose values may differ, where that is known (else
        every value is compared with the last)."""
        if self.beyond or not self.sound:
            return None
        if len(values) != len(self.values):
            raise ValueError("values of another table's cells")
        if changing is None:
            changed = list(compress(count(), map(ne, self.values, values)))
        else:
            changed = sorted(n for n in set(changing) if values[n] != self.values[n])
        new = object.__new__(type(self))
        new.deadline = deadline
        new.sums, new.at_most, new.threshold = self.sums, self.at_most, self.threshold
        new.bands, new.known, new.containing = self.bands, self.known, self.containing
        new.lonely, new.arrays, new.floats = self.lonely, self.arrays, None
        new.values = values
        if isinstance(self.floats, np.ndarray) and self.arrays is not None:
            # The last values as floats, with the changed ones: all the others
            # were small enough.
            floats = self.floats.copy()
            floats[changed] = np.asarray([values[n] for n in changed], dtype=float)
            new.floats = floats if self.arrays.exact(floats[changed]) else False
        new.pairs = _true_pairs(self.at_most, values)
        same_pairs = new.pairs == self.pairs
        new.wholes = self.wholes if same_pairs else new._wholes_of()
        new.small = set(self.small)
        for n in changed:
            new.small.discard(n)
            if 0 < values[n] < self.threshold or (
                n in self.bands and values[n] < self.threshold
            ):
                new.small.add(n)
        regrouped = sorted({index for n in changed for index in self.containing[n]})
        new.exact = list(self.exact)
        for index in regrouped:
            group = self.sums[index]
            new.exact[index] = values[group.total] == sum(
                values[part] for part in group.parts
            )
        new.shown = set(new.known)
        new._given_away()
        new.slack = list(self.slack)
        new.sound = True
        if not all(new._true(n) for n in changed) or not all(
            new._group_true(index) for index in regrouped
        ):
            return None  # no longer sound: no group is slack anywhere
        for index in regrouped:
            new.slack[index] = new._slack_group(index)
        new.parallel = (
            self.parallel
            if same_pairs and new.exact == self.exact
            else new._parallel_of()
        )
        same_pairs = same_pairs and new.parallel == self.parallel
        new.touching = self.touching if same_pairs else new._touching_of()
        bearing = set(changed) | (new.shown ^ self.shown)
        if new.parallel is not self.parallel:
            # A pair whose parallel groups changed bounds its cells otherwise, though
            # neither of its cells changed (another part of the groups did).
            was = {pair: self.parallel.get(k) for k, pair in enumerate(self.pairs)}
            for k, pair in enumerate(new.pairs):
                if new.parallel.get(k) != was.get(pair):
                    bearing.update(pair, *new.parallel.get(k, ()))
                    bearing.update(*(was.get(pair) or ()))
        reordered = {index for cell in bearing for index in self.containing[cell]}
        new.ordered = {
            index: ordered
            for index, ordered in self.ordered.items()
            if index not in reordered
        }
        near: set[int] = set(bearing)
        for cell in bearing:
            for index in self.touching[cell]:
                near.update(self._members(index))
            for index in new.touching[cell]:
                near.update(new._members(index))
        again = {self.part[cell] for cell in near if cell in self.part}
        members = self.members
        while True:
            region = set(bearing)
            for root in again:
                region.update(members[root])
            primary = (region & new.small) - new.shown
            new._solve(
                primary,
                set(chain.from_iterable(map(self.containing.__getitem__, primary))),
                in_order=True,
            )
            if new.beyond:
                return None
            # A cell hidden last time lies in a part solved again, and no group or
            # pair that held it held a cell of a kept part (they would have been one
            # part): with the same pairs, only the cells hidden anew can reach one.
            looking = new.hidden - self.hidden if same_pairs else new.hidden
            reached = {index for cell in looking for index in new.touching[cell]}
            kept_reached = {
                kept
                for index in reached
                for cell in new._members(index)
                if (kept := self.part.get(cell)) is not None and kept not in again
            }
            if not kept_reached:
                break
            again |= kept_reached
            if sum(len(members[root]) for root in again) * 2 > len(self.hidden):
                return None  # solving it all costs as little
        # The parts kept and those solved again share no cell and no root.
        new.hidden = self.hidden.difference(*map(members.__getitem__, again))
        new.hidden |= new.solved_again
        # Only a cell of a part solved again, or one whose value changed, may be
        # suppressed in one pattern and not in the other.
        suppressed, hidden, small = self.suppressed, new.hidden, new.small
        new.moved = {
            cell
            for cell in chain(
                changed, new.solved_again, *map(members.__getitem__, again)
            )
            if (cell in suppressed) != (cell in hidden or cell in small)
        }
        new.suppressed = suppressed.copy()
        new.suppressed ^= new.moved
        part = dict(self.part)
        parts = dict(members)
        for root in again:
            for cell in parts.pop(root):
                del part[cell]
        part.update(new.part)
        parts.update(new.members)
        new.part, new.members = part, parts
        return new

    def _hide(self, cell: int) -> None:
        if cell not in self.hidden:
            for index in self.containing[cell]:
                crowd = self.crowds.get(index)
                if crowd is not None:
                    crowd.hide(cell, self.values[cell])
        self.hidden.add(cell)
        self.fresh.append(cell)
        if self.bounding is not None:
            self._note_bounding(self.bounding, cell)

    def _note_bounding(self, bounding: list[tuple[int, int]], part: int) -> None:
        """Note the totals this newly suppressed part makes bound a suppressed cell."""
        for index in self.containing[part]:
            total = self.sums[index].total
            if total == part and part not in self.sums[index].parts:
                continue
            if total not in self.shown and self.values[total] > 0:
                heapq.heappush(bounding, (-self.values[total], -total))

    def _largest_bounding(self) -> int | None:
        """The visible total above 0 with a suppressed part that is largest (the larger
        cell on a tie), if any."""
        bounding = self.bounding
        if bounding is None:
            bounding = self.bounding = []
            for cell in self.hidden:
                self._note_bounding(bounding, cell)
        while bounding and -bounding[0][1] in self.hidden:
            heapq.heappop(bounding)
        return -bounding[0][1] if bounding else None

    def _given_away(self) -> None:
        """Add to `shown` every cell the cells left out determine through the groups
        whatever else is shown: the one unknown member of a group that adds up, a
        total whose parts are all zeros, the parts of a total of 0. Suppressing such
        a cell (say a part of a total of 0) would hide nothing. A total that may be
        more than its parts' sum (`Group.at_least`) is not given away by parts of 0:
        an initiative's answers are not 0 because no one scored one dimension."""
        shown = self.shown
        if not shown:
            return
        parts_of: dict[int, list[int]] = {}
        """The parts each cell is a whole of."""
        for part, whole in self.pairs:
            parts_of.setdefault(whole, []).append(part)
        # Only a group with a member shown, or with one member, can give one away;
        # then again only when another of its members is shown.
        waiting = {index for cell in shown for index in self.containing[cell]}
        waiting.update(self.lonely)
        newly = list(shown)
        while waiting or newly:
            while newly:
                cell = newly.pop()
                if self.values[cell] == 0:
                    for part in parts_of.get(cell, ()):
                        if part not in shown:
                            shown.add(part)
                            newly.append(part)
                            waiting.update(self.containing[part])
            if waiting:
                for cell in self._gives_away(waiting.pop()):
                    shown.add(cell)
                    newly.append(cell)
                    waiting.update(self.containing[cell])

    def _gives_away(self, index: int) -> list[int]:
        """The members of a group not shown that the shown ones give away.

        Unless the total is a visible 0, one member not shown is given away or
        none is: so the members are looked at only until a second one not shown
        turns up (most groups have two near their start, the largest 1,356
        members)."""
        shown, values, group = self.shown, self.values, self.sums[index]
        total = group.total
        if total in shown and values[total] == 0:
            # Each part is at most the total.
            return [m for m in dict.fromkeys(group.parts) if m not in shown]
        unknown = None if total in shown else total
        for part in group.parts:
            if part not in shown and part != unknown:
                if unknown is not None:
                    return []
                unknown = part
        if unknown is None:
            return []
        if self.exact[index]:
            return [unknown]
        if (
            unknown == total
            and not group.at_least
            and not any(values[part] for part in group.parts)
        ):
            return [unknown]  # at most the sum of parts that are all 0
        return []

    def _make_safe(self, unsafe: set[int]) -> None:
        """Secondary suppression until every group is safe; `unsafe` names the
        groups that may not be (a cell of theirs was hidden since they were last
        looked at), and is left empty."""
        while unsafe:
            for index in sorted(unsafe):
                unsafe.discard(index)
                extra = self._one_more(index)
                if extra is not None:
                    self._hide(extra)
                    unsafe.update(self.containing[extra])

    def _make_safe_in_order(self, unsafe: set[int]) -> None:
        """The first pass `_make_safe` makes over every group in order, where
        `unsafe` names every group holding a suppressed cell: a group holding none is
        safe however far the pass has got, so only those are looked at, and those a
        cell hidden on the way puts in ahead of the pass. Leaves in `unsafe` the
        groups the next pass looks at (those it puts in behind)."""
        waiting = sorted(unsafe)  # a sorted list is a heap
        unsafe.clear()
        last = -1
        while waiting:
            index = heapq.heappop(waiting)
            if index == last:
                continue
            last = index
            extra = self._one_more(index)
            if extra is not None:
                self._hide(extra)
                for other in self.containing[extra]:
                    if other > index:
                        heapq.heappush(waiting, other)
                    else:
                        unsafe.add(other)

    def _one_more(self, index: int) -> int | None:
        """The next cell this group needs suppressed to be safe, or None if it is."""
        group = self.sums[index]
        # Most groups have few parts, and no crowd to ask for.
        crowd = self._crowd(index) if len(group.parts) >= CROWDED else None
        if crowd is None:
            hidden_parts = list(filter(self.hidden.__contains__, group.parts))
            count = len(hidden_parts)
            counted = sum(map(self.values.__getitem__, hidden_parts))
        else:
            count, counted = crowd.hidden, crowd.counted
        total_hidden = group.total in self.hidden
        if not count and not total_hidden:
            return None
        if total_hidden:
            if count:
                return None
            # A hidden total with every part visible is their sum.
            return self._smallest_visible_part(index, zeros=True)
        if counted < self.threshold:
            # The visible total less the visible parts gives the hidden parts' sum:
            # it must not itself be a small number.
            part = self._smallest_visible_part(index)
            return self._or_total(group, part)
        if count < 2:
            # One hidden part would be that sum; a second, even a zero, opens it up.
            part = self._smallest_visible_part(index, zeros=True)
            return self._or_total(group, part)
        return None

    def _crowd(self, index: int) -> "_Crowd | None":
        """A group of many parts (CROWDED) as this solve's rounds have hidden them,
        made when first looked at; None for a group of fewer."""
        crowd = self.crowds.get(index)
        if crowd is None:
            parts = self.sums[index].parts
            if len(parts) < CROWDED:
                return None
            ordered = self.ordered.get(index)
            if ordered is None:
                ordered = self.ordered[index] = sorted(
                    (
                        (self.values[part], part)
                        for part in dict.fromkeys(parts)
                        if part not in self.shown
                    ),
                    reverse=True,
                )
            crowd = self.crowds[index] = _Crowd(
                parts, self.hidden, self.values, ordered
            )
        return crowd

    def _smallest_visible_part(self, index: int, *, zeros: bool = False) -> int | None:
        """`_smallest_visible` of the group's parts."""
        crowd = self._crowd(index)
        if crowd is None:
            return self._smallest_visible(self.sums[index].parts, zeros=zeros)
        return crowd.smallest(self.hidden, zeros=zeros)

    def _or_total(self, group: Sum, part: int | None) -> int | None:
        if part is not None:
            return part
        return None if group.total in self.shown else group.total

    def _smallest_visible(
        self, cells: Iterable[int], *, zeros: bool = False
    ) -> int | None:
        hidden, shown, values = self.hidden, self.shown, self.values
        candidates = [
            (values[cell], cell)
            for cell in cells
            if cell not in hidden and cell not in shown and (zeros or values[cell] > 0)
        ]
        return min(candidates)[1] if candidates else None

    def _in_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise PatternTooSlow

    def _pinned(self) -> list[int]:
        """For each connected part of the suppressed cells, the first whose value
        follows from the visible ones, if any: found by tightening each suppressed
        cell's bounds (at least 0) through the groups until nothing changes, or else
        by the groups' equations alone.

        A group is used as the equation total = sum of parts only where the true
        counts satisfy it: a count of distinct people may be less than the sum of its
        parts (someone at two meetings), and then all that holds, and all an onlooker
        can rely on, is that the total is at most that sum and each part at most the
        total. An equation that does not hold cannot pin a true value; assuming it
        would contradict the counts and push the bounds apart without end.

        What is found in a part is decided by its own cells (see `_bounds`), and the
        suppressed cells only grow, so parts only merge: only the parts that took in
        a cell suppressed since the last call are looked at again, and their bounds
        are tightened tied part by tied part (see `_slack`)."""
        fresh, self.fresh = self.fresh, []
        grown, tightened = self._join(fresh)
        for root in sorted(tightened):
            self._in_time()
            cells = self.tied.members(root)
            alone = self._bounds_alone(cells[0]) if len(cells) == 1 else None
            if alone is not None:
                found = cells[0] if alone[0] == alone[1] else None
            else:
                cells.sort()
                low, high = self._bounds(self._touching(cells), cells)
                found = next((c for c in cells if low[c] == high[c]), None)
            if found is None:
                self.pinned_by_bounds.pop(root, None)
            else:
                self.pinned_by_bounds[root] = found
        first: dict[int, int] = {}
        for cell in self.pinned_by_bounds.values():
            root = self.connected.root(cell)
            first[root] = min(cell, first.get(root, cell))
        for root in sorted(grown):
            self.pinned_by_equations.pop(root, None)
            if root not in first:
                self._in_time()
                solved = self._by_equations(self.connected.members(root))
                if solved is not None:
                    self.pinned_by_equations[root] = solved
        for root, cell in self.pinned_by_equations.items():
            first.setdefault(root, cell)
        return sorted(first.values())

    def _join(self, fresh: Sequence[int]) -> tuple[set[int], set[int]]:
        """Add newly hidden cells to the connected and the tied parts; the roots of
        the parts of each that took them in.

        Every group's and pair's suppressed members already lie in one connected
        part, and in one tied part where it ties them, so a new cell need only join
        one of them; but a slack group whose total is newly suppressed ties all its
        suppressed parts from then on.

        The first round of a solve joins many cells at once over arrays (see
        `_join_at_once`)."""
        if not self.connected.parent and len(fresh) >= JOINED_AT_ONCE:
            return self._join_at_once(fresh)
        hidden, connected, tied = self.hidden, self.connected, self.tied
        sums, slack, joined = self.sums, self.slack, self.joined
        grouped, pinned = len(sums), self.pinned_by_bounds
        arriving: dict[int, list[int]] = {}
        """The new cells of each group and pair holding one (a cell twice joins
        nothing more)."""
        touching, in_connected, in_tied = self.touching, connected.parent, tied.parent
        for cell in fresh:
            in_connected[cell] = in_tied[cell] = cell  # add(), written out
            for index in touching[cell]:
                arriving.setdefault(index, []).append(cell)
        new = set(fresh)
        for index, cells in arriving.items():
            old = joined.setdefault(index, cells[0])
            joining = cells if old in new else [old, *cells]
            if len(joining) < 2:
                continue
            slack_group = index < grouped and slack[index]
            if slack_group and sums[index].total not in hidden:
                self._connect(joining)
                continue
            if slack_group and sums[index].total in new:
                joining = [m for m in self._members(index) if m in hidden]
            merged = tied.join(joining)[1]
            if merged:
                for other in merged:
                    pinned.pop(other, None)
                # Every tied part lies in one connected part.
                self._connect(joining)
        return _roots(in_connected, new), _roots(in_tied, new)

    def _join_at_once(self, fresh: Sequence[int]) -> tuple[set[int], set[int]]:
        """`_join` where no cell has been joined yet, over arrays: the first round
        of a pattern worked out again at 100k joins some 12,500 cells, a fifth of
        its time where each group joins its cells in turn.

        The parts are those of the groups and pairs holding two of the cells (for
        the tied parts, but for the slack groups whose total is visible), whatever
        order they are joined in: here each member of a group or pair is joined to
        its first cell in `fresh` (the one `joined` keeps for it, as in `_join`),
        by labelling every cell with the least of its part (`_labels`). Which cell
        is a part's root may differ from `_join`'s, and nothing worked out from the
        parts depends on that: a part's bounds, equations and first pinned cell
        are of its cells alone, and nothing is pinned yet to be dropped as parts
        merge."""
        cells = list(dict.fromkeys(fresh))
        held = list(map(self.touching.__getitem__, cells))
        lengths = np.fromiter(map(len, held), np.intp, len(held))
        index = np.fromiter(chain.from_iterable(held), np.intp, int(lengths.sum()))
        member = np.repeat(np.arange(len(cells)), lengths)
        # Each group's and pair's members in the order of `fresh`, one after another.
        order = np.argsort(index, kind="stable")
        index, member = index[order], member[order]
        starts = np.flatnonzero(np.diff(index, prepend=-1))
        sizes = np.diff(starts, append=len(index))
        indexes = index[starts].tolist()
        number = np.asarray(cells, dtype=np.intp)
        self.joined.update(zip(indexes, number[member[starts]].tolist(), strict=True))
        first = np.repeat(member[starts], sizes)
        hidden, sums, slack = self.hidden, self.sums, self.slack
        grouped = len(sums)
        ties = np.repeat(
            np.fromiter(
                (
                    i >= grouped or not slack[i] or sums[i].total in hidden
                    for i in indexes
                ),
                bool,
                len(indexes),
            ),
            sizes,
        )
        connected = _labels(len(cells), member, first)
        tied = _labels(len(cells), member[ties], first[ties])
        self.connected = _Parts.labelled(number, connected)
        self.tied = _Parts.labelled(number, tied)
        return set(number[connected].tolist()), set(number[tied].tolist())

    def _connect(self, cells: Sequence[int]) -> None:
        for other in self.connected.join(cells)[1]:
            self.pinned_by_equations.pop(other, None)

    def _members(self, index: int) -> tuple[int, ...]:
        """The cells of a group, or of a pair (numbered after the groups): its part,
        its whole, and the totals of its parallel groups, which bound the one by
        the other while they are visible (see `_gap`), so that a pair ties them
        and joins their parts like the cells it bounds."""
        if index >= len(self.sums):
            number = index - len(self.sums)
            parallel = self.parallel.get(number)
            if parallel is None:
                return self.pairs[number]
            return tuple(dict.fromkeys(chain(self.pairs[number], *parallel)))
        return (self.sums[index].total, *self.sums[index].parts)

    def _touching(self, cells: Iterable[int]) -> list[int]:
        """The groups and pairs holding any of these cells, in order."""
        return sorted(set(chain.from_iterable(map(self.touching.__getitem__, cells))))

    def _slack(self) -> list[bool]:
        """Which groups, while their total is visible, bound each suppressed part by
        the total alone, whatever the other parts' bounds: those whose total is at
        most the sum of their parts but not equal to it (counts of distinct people)
        and is no more than the parts' sum less the largest part (people counted at
        two meetings at least as often as the largest meeting's), so the total less
        the other parts' most is never above 0. That holds only where every bound
        holds the true count, so where every group and band the table gives is true
        of the counts (as `people_table` makes them); else no group is slack."""
        self.sound = all(map(self._true, range(len(self.values)))) and all(
            map(self._group_true, range(len(self.sums)))
        )
        """Whether every count, band and group is true of the counts."""
        if not self.sound:
            return [False] * len(self.sums)
        return list(map(self._slack_group, range(len(self.sums))))

    def _true(self, cell: int) -> bool:
        """Whether a count is a count and its band holds it."""
        value = self.values[cell]
        band = self.bands.get(cell)
        return value >= 0 and (band is None or 0 <= band[0] <= value <= band[1])

    def _group_true(self, index: int) -> bool:
        """Whether a group holds of the counts: its total the sum of its parts, or
        else at least their sum (`Group.at_least`) or at least each part and at most
        their sum."""
        if self.exact[index]:
            return True
        values, group = self.values, self.sums[index]
        counted = sum(values[part] for part in group.parts)
        total = values[group.total]
        if group.at_least:
            return total >= counted
        return (
            max((values[part] for part in group.parts), default=0) <= total <= counted
        )

    def _slack_group(self, index: int) -> bool:
        group = self.sums[index]
        if self.exact[index] or group.at_least:
            return False
        parts = [self.values[part] for part in group.parts]
        return sum(parts) - max(parts, default=0) >= self.values[group.total]

    def _slack_now(self, index: int) -> bool:
        """Whether a group or pair bounds each suppressed member by visible cells alone."""
        return (
            index < len(self.sums)
            and self.slack[index]
            and self.sums[index].total not in self.hidden
        )

    def _by_equations(self, cells: list[int]) -> int | None:
        """The first of one connected part's cells the equations of its groups that
        add up pin, if any.

        A part of one cell (some 850 of them in the first round of a pattern worked
        out again at 100k) is pinned where one of its equations holds it at all:
        its row is then that cell alone, a whole number of small size (1 as a
        total, -1 for each time it is a part), which is not 0 modulo PRIME; `_solved`
        makes it a pivot and gives it 0. Where every such number is 0 the cell is
        free, and drawn above 0."""
        if len(cells) == 1:
            (cell,) = cells
            for index in self.containing[cell]:
                group = self.sums[index]
                if self.exact[index] and (
                    (group.total == cell) != group.parts.count(cell)
                ):
                    return cell
            return None
        cells.sort()
        touching = self._touching(cells)
        equations = [
            self.sums[index]
            for index in touching
            if index < len(self.sums) and self.exact[index]
        ]
        if equations:
            solved = _solved_kept(tuple(equations), tuple(cells))
            if solved is not None:
                return solved
        return self._by_inequalities(cells, touching, equations)

    def _by_inequalities(
        self, cells: list[int], touching: list[int], equations: list[Sum]
    ) -> int | None:
        """The first of one connected part's cells pinned by the equations together
        with the inequalities that hold as equations wherever the visible cells
        allow (`_implicit`), if any, where the equations alone pin none.

        The least and most a suppressed cell can be, over every count the visible
        cells, groups, pairs and bands allow (in whole numbers or not), meet only
        where every way of moving the counts that keeps within them leaves it as
        it is: where the equations and the inequalities that no such way can
        loosen pin it. A chain of inequalities over several groups at once does
        that where no group or pair does alone: found by the attack test, with
        people in two initiatives (see tests/test_suppression.py). An inequality
        that cannot be loosened holds as an equation at the true counts, so only
        those tight there are looked at, and only where every group holds of the
        counts (`sound`): else the true counts are no way in, and the bounds and
        equations are all that is relied on."""
        if not self.sound:
            return None
        tight = self._tight(cells, touching)
        waiting = [key for key in tight if key not in self.loose]
        if not waiting:
            return None
        # Were every one an equation and nothing pinned, nothing is.
        order = tuple(cells)
        every = (*equations, *(tight[key][0] for key in waiting))
        if _solved_kept(every, order) is None:
            return None
        implicit = self._implicit(cells, equations, tight, waiting)
        if not implicit:
            return None
        return _solved_kept((*equations, *(tight[key][0] for key in implicit)), order)

    def _tight(
        self, cells: Sequence[int], touching: Sequence[int]
    ) -> dict[Hashable, tuple[Sum, int]]:
        """The inequalities on these suppressed cells that hold as equations at the
        true counts, each as that equation (a group of its total and parts) and the
        sign that makes total less parts at most 0 the way the counts may move: a
        cell at the least or most of its band (0 where it has none), a part of a
        count of distinct people equal to the total, a part of a pair equal to its
        whole. A group's total is never at its parts' sum where it does not add
        up, so no other inequality is tight."""
        hidden, values, sums = self.hidden, self.values, self.sums
        tight: dict[Hashable, tuple[Sum, int]] = {}
        for cell in cells:
            low, high = self.bands.get(cell, (0, math.inf))
            if values[cell] == low:
                tight["low", cell] = (Sum(cell, ()), -1)
            if values[cell] == high:
                tight["high", cell] = (Sum(cell, ()), 1)
        grouped = len(sums)
        for index in touching:
            if index >= grouped:
                number = index - grouped
                part, whole = self.pairs[number]
                if (
                    part != whole
                    and values[part] == values[whole]
                    and (part in hidden or whole in hidden)
                ):
                    tight["pair", number] = (Sum(whole, (part,)), -1)
                continue
            group = sums[index]
            if self.exact[index] or group.at_least:
                continue
            total = group.total
            for part in dict.fromkeys(group.parts):
                if (
                    part != total
                    and values[part] == values[total]
                    and (part in hidden or total in hidden)
                ):
                    tight["part", index, part] = (Sum(total, (part,)), -1)
        return tight

    def _implicit(
        self,
        cells: Sequence[int],
        equations: Sequence[Sum],
        tight: Mapping[Hashable, tuple[Sum, int]],
        waiting: Sequence[Hashable],
    ) -> list[Hashable]:
        """Those of the tight inequalities `waiting` that every way of moving the
        suppressed cells keeps tight: the rest are noted as loose.

        The counts may move along d where d keeps every group that adds up (its
        total less its parts 0) and every tight inequality (one that is not tight
        has room for a small enough move). A linear program finds a move that
        loosens as many waiting ones as it can (each by up to 1, the move within
        -1 to 1 a cell); those it loosens are loose, and it is asked again of the
        rest until it loosens none, which then no move loosens: were there one for
        each, their average would loosen them all. A move is checked again before
        what it loosens is taken as loose; where the solver fails, or its move
        does not check, the rest are taken as equations, which can only suppress
        more."""
        asked = (
            tuple(cells),
            tuple(equations),
            tuple((key, *tight[key]) for key in tight),
            tuple(waiting),
        )
        with _LOOSENED_LOCK:
            loosened = _LOOSENED.get(asked)
        if loosened is None:
            loosened, settled = self._loosened(cells, equations, tight, waiting)
            if settled:
                with _LOOSENED_LOCK:
                    _LOOSENED[asked] = loosened
                    while len(_LOOSENED) > LOOSENED_KEPT:
                        del _LOOSENED[next(iter(_LOOSENED))]
        self.loose.update(loosened)
        return [key for key in waiting if key not in self.loose]

    def _loosened(
        self,
        cells: Sequence[int],
        equations: Sequence[Sum],
        tight: Mapping[Hashable, tuple[Sum, int]],
        waiting: Sequence[Hashable],
    ) -> tuple[frozenset[Hashable], bool]:
        """The linear programs of `_implicit`: those of the tight inequalities
        `waiting` a move loosens, and whether the programs settled it (else the
        solver failed or its move did not check, and the rest are kept as
        equations this time only)."""
        from scipy.optimize import linprog  # type: ignore[import-untyped]
        from scipy.sparse import csr_array  # type: ignore[import-untyped]

        column = {cell: n for n, cell in enumerate(cells)}
        size = len(cells)

        def row_of(group: Sum, sign: int) -> dict[int, int]:
            row: dict[int, int] = {}
            at = column.get(group.total)
            if at is not None:
                row[at] = sign
            for part in group.parts:
                at = column.get(part)
                if at is not None:
                    row[at] = row.get(at, 0) - sign
            return {at: value for at, value in row.items() if value}

        def matrix(rows: Sequence[dict[int, int]], width: int) -> "csr_array":
            data: list[int] = []
            indices: list[int] = []
            starts = [0]
            for row in rows:
                indices.extend(row)
                data.extend(row.values())
                starts.append(len(indices))
            return csr_array(
                (np.asarray(data, np.float64), np.asarray(indices, np.intp), starts),
                shape=(len(rows), width),
            )

        same = [row for row in (row_of(group, 1) for group in equations) if row]
        # The equations over the cells alone, to check each move against.
        held = matrix(same, size) if same else None
        bounding = {key: row_of(*tight[key]) for key in tight}
        remaining = [key for key in waiting if bounding[key]]
        loose: set[Hashable] = set()
        while remaining:
            looked = set(remaining)
            width = size + len(remaining)
            rows = [bounding[key] for key in bounding if key not in looked]
            rows += [{**bounding[key], size + n: 1} for n, key in enumerate(remaining)]
            objective = np.zeros(width)
            objective[size:] = -1.0
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise PatternTooSlow
            found = linprog(
                objective,
                A_ub=matrix(rows, width),
                b_ub=np.zeros(len(rows)),
                A_eq=matrix(same, width) if same else None,
                b_eq=np.zeros(len(same)) if same else None,
                bounds=[(-1.0, 1.0)] * size + [(0.0, 1.0)] * len(remaining),
                method="highs",
                options={"time_limit": left} if left < math.inf else None,
            )
            if found.status != 0:
                self._in_time()
                return frozenset(loose), False
            move = found.x[:size]
            if held is not None and np.abs(held @ move).max() > LOOSE:
                return frozenset(loose), False
            kept = np.asarray(
                [
                    sum(v * move[at] for at, v in bounding[key].items())
                    for key in bounding
                ]
            )
            if kept.max(initial=0.0) > LOOSE:
                return frozenset(loose), False
            by = dict(zip(bounding, kept.tolist(), strict=True))
            loosened = [key for key in remaining if by[key] < -LOOSE]
            if not loosened:
                break
            loose.update(loosened)
            remaining = [key for key in remaining if by[key] >= -LOOSE]
        return frozenset(loose), True

    def _bounds_alone(self, cell: int) -> tuple[float, float] | None:
        """The bounds `_bounds` gives a suppressed cell tied to no other, where every
        group and pair holding it holds it once (else None): each then bounds it by
        visible cells alone, so one look at each gives where the rounds settle
        (some 1,700 such parts in the first round of a pattern worked out again at
        100k, ten times cheaper this way).

        As a total: its parts' sum where it adds up, at least it where the total
        may be more, else at most it and at least the largest part. As a part of a
        visible total T whose other parts come to S: T - S where it adds up; at
        most T - S where the total may be more; else at most T and at least T - S
        (the rounds reach that bound once the one above has made its most
        finite). As a part of a slack group (see `_slack`): at most T. A pair
        bounds it by its other cell, and by its other cell and the gap of its
        parallel groups (see `_gap`). None also where a member other than it is
        suppressed (then it is tied to that one, but for a slack group's parts)."""
        hidden, values, sums, slack = self.hidden, self.values, self.sums, self.slack
        low: float
        high: float
        low, high = self.bands.get(cell, (0, math.inf))
        grouped = len(sums)
        for index in self.touching[cell]:
            if index >= grouped:
                part, whole = self.pairs[index - grouped]
                if cell != part and cell != whole:
                    # A total of its parallel groups: it bounds them, not they it.
                    if part in hidden or whole in hidden:
                        return None
                    continue
                gap = self._gap(index - grouped)
                if part == whole:
                    low = max(low, 0)
                elif (whole if part == cell else part) in hidden:
                    return None
                elif part == cell:
                    low = max(low, 0, _below(values[whole], gap))
                    high = min(high, values[whole])
                else:
                    low = max(low, values[part])
                    high = min(high, _above(values[part], gap))
                continue
            group = sums[index]
            total = group.total
            if slack[index] and total not in hidden:
                high = min(high, values[total])
                continue
            seen = []
            for part in group.parts:
                if part not in hidden:
                    seen.append(values[part])
                elif part != cell:
                    return None
            exact = self.exact[index]
            if total == cell:
                if len(seen) < len(group.parts):
                    return None  # the total is a part too
                if exact:
                    low = max(low, sum(seen))
                    high = min(high, sum(seen))
                elif group.at_least:
                    low = max(low, sum(seen))
                else:
                    low = max(low, max(seen, default=0))
                    high = min(high, sum(seen))
                continue
            if total in hidden or len(seen) + 1 < len(group.parts):
                return None  # another suppressed member, or this one twice
            rest = values[total] - sum(seen)
            if exact:
                low, high = max(low, rest), min(high, rest)
            elif group.at_least:
                low, high = max(low, 0), min(high, rest)
            else:
                low, high = max(low, rest), min(high, values[total])
        return low, high

    def _bounds(
        self, relevant: Sequence[int], cells: Iterable[int]
    ) -> tuple[dict[int, float], dict[int, float]]:
        """The least and most each of these suppressed cells can be given the visible
        cells, tightened through the groups and pairs touching them (`relevant`), in
        rounds: each is looked at again only when a bound of one of its members has
        changed.

        The cells are a tied part (or several): every suppressed member of every
        group and pair touching them is among them, but for the parts of a slack
        group, which is applied as what it then is, each part at most the total.
        So each group and pair is looked at in the same rounds, on the same bounds,
        as when every suppressed cell is tightened at once, and the bounds are the
        same even when they have not settled by MAX_TIGHTENING_ROUNDS.

        A part of many cells (AT_ONCE) is tightened over arrays where that gives
        the same bounds (see `_bounds_at_once`)."""
        cells = list(cells)
        if len(cells) >= AT_ONCE:
            with np.errstate(invalid="ignore"):  # inf - inf: see `_bounds_at_once`
                at_once = self._bounds_at_once(relevant, cells)
            if at_once is not None:
                return at_once
        hidden, values, touching = self.hidden, self.values, self.touching
        sums, slack = self.sums, self.slack
        low: dict[int, float] = {}
        high: dict[int, float] = {}
        slack_parts: dict[int, list[int]] = {}
        for n in cells:
            low[n], high[n] = self.bands.get(n, (0, math.inf))
            for index in self.containing[n]:
                if slack[index] and sums[index].total not in hidden:
                    slack_parts.setdefault(index, []).append(n)  # n is a part
        # Each group's suppressed parts, its visible parts' sum and largest, its
        # total where suppressed, and whether it adds up or is at least its parts.
        shapes: dict[int, tuple[list[int], int, int | None, int | None, bool, bool]]
        shapes = {}
        changed = set(relevant)
        grouped, exacts = len(sums), self.exact
        settled: set[int] = set()
        """The groups and pairs that bound the cells by visible cells alone, once
        looked at: each rule only ever tightens a bound by a bound that does not
        change, so looking again would change nothing."""
        pairs: dict[int, tuple[int, int, float]] = {}
        """Each pair looked at, by its number after the groups: its part, its whole
        and its gap (`_gap`), which the rounds leave as they are (they suppress
        nothing)."""
        total_low: float
        total_high: float

        def bounds(cell: int) -> tuple[float, float]:
            if cell in hidden:
                return low[cell], high[cell]
            return values[cell], values[cell]

        def tighten(cell: int, at_least: float, at_most: float) -> None:
            if at_least > low[cell]:
                low[cell] = at_least
                changed.update(touching[cell])
            if at_most < high[cell]:
                high[cell] = at_most
                changed.update(touching[cell])

        for _ in range(MAX_TIGHTENING_ROUNDS):
            self._in_time()
            if not changed:
                break
            looking = sorted(changed)
            changed.clear()
            for index in looking:
                if index in settled:
                    continue
                if index >= grouped:
                    pair = pairs.get(index)
                    if pair is None:
                        number = index - grouped
                        pair = pairs[index] = (*self.pairs[number], self._gap(number))
                    part, whole, gap = pair
                    if (part in hidden) != (whole in hidden):
                        # Bounded by a visible cell alone: looked at again, it
                        # would tighten nothing more (bounds only tighten).
                        settled.add(index)
                    if whole in hidden:
                        part_low, part_high = bounds(part)
                        tighten(whole, part_low, _above(part_high, gap))
                    if part in hidden:
                        whole_low, whole_high = bounds(whole)
                        tighten(part, _below(whole_low, gap), whole_high)
                    continue
                if index in slack_parts:
                    # Each part at most the total: the total less the other parts'
                    # most is never above 0. The total is visible, so this is
                    # settled once done.
                    for part in slack_parts[index]:
                        tighten(part, 0, values[sums[index].total])
                    settled.add(index)
                    continue
                shape = shapes.get(index)
                if shape is None:
                    group = sums[index]
                    seen = [values[p] for p in group.parts if p not in hidden]
                    exact = exacts[index]
                    shape = shapes[index] = (
                        [p for p in group.parts if p in hidden],
                        sum(seen),
                        max(seen, default=None),
                        group.total if group.total in hidden else None,
                        exact,
                        group.at_least and not exact,
                    )
                suppressed, seen_sum, seen_most, total, exact, at_least = shape
                lows = list(map(low.__getitem__, suppressed))
                highs = list(map(high.__getitem__, suppressed))
                parts_low = seen_sum + sum(lows)
                parts_high = seen_sum + sum(highs)
                if total is None:
                    total_low = total_high = values[sums[index].total]
                else:
                    if exact:
                        tighten(total, parts_low, parts_high)
                    elif at_least:  # at least the parts' sum
                        tighten(total, parts_low, math.inf)
                    else:  # at most the parts' sum, at least each part
                        each = lows if seen_most is None else [*lows, seen_most]
                        tighten(total, max(each, default=0), parts_high)
                    total_low, total_high = low[total], high[total]
                for part, part_low, part_high in zip(
                    suppressed, lows, highs, strict=True
                ):
                    # tighten(), written out: this is where the time goes.
                    least = 0 if at_least else total_low - (parts_high - part_high)
                    if least > low[part]:
                        low[part] = least
                        changed.update(touching[part])
                    most = (
                        total_high - (parts_low - part_low)
                        if exact or at_least
                        else total_high
                    )
                    if most < high[part]:
                        high[part] = most
                        changed.update(touching[part])
        return low, high

    def _hidden_mask(self) -> np.ndarray:
        """Which cells are suppressed, as an array over every cell: made again only
        once more are suppressed, since in a solve they only grow (the first round
        of a pattern worked out again at 100k tightens six parts over arrays)."""
        hidden = self.hidden
        if (
            self.mask is None
            or self.mask[0] is not hidden
            or self.mask[1] != len(hidden)
        ):
            is_hidden = np.zeros(len(self.values), dtype=bool)
            is_hidden[np.fromiter(hidden, dtype=np.intp, count=len(hidden))] = True
            self.mask = (hidden, len(hidden), is_hidden)
        return self.mask[2]

    def _bounds_at_once(
        self, relevant: Sequence[int], cells: Sequence[int]
    ) -> tuple[dict[int, float], dict[int, float]] | None:
        """`_bounds`, with every group and pair applied at once in each round (on
        the bounds the round began with) over arrays; None where that does not
        settle within MAX_TIGHTENING_ROUNDS, or a sum might not be exact in floats.

        Each way of tightening applies the same rules, and each rule only ever
        tightens, and tightens more from tighter bounds. So both ways stay at or
        beyond the loosest bounds every rule leaves as they are, and wherever one
        settles it is there. Round by round, applying the rules one after another
        on what the earlier ones left is at least as tight as applying them all on
        what the round began with: so where this settles within the rounds, so do
        `_bounds`' rounds, at the same bounds. Sums of whole numbers below 2**53
        are exact in floats, and inf - inf is nan in both (a comparison with nan
        is false, `fmax` and `fmin` pass it over), so each rule gives the same
        bound here as there."""
        arrays = self.arrays
        if arrays is None:
            arrays = self.arrays = _SumArrays(self.sums)
        values, sums = self.values, self.sums
        grouped = len(sums)
        local = np.full(len(values), -1, dtype=np.intp)
        at = np.asarray(cells, dtype=np.intp)
        size = len(at)
        local[at] = np.arange(size)
        is_hidden = self._hidden_mask()
        if self.floats is None:
            floats = np.asarray(values, dtype=float)
            self.floats = floats if arrays.exact(floats) else False
        if self.floats is False:
            return None
        value = self.floats
        low = np.zeros(size)
        high = np.full(size, np.inf)
        for n in self.bands.keys() & cells:
            low[local[n]], high[local[n]] = self.bands[n]
        # Groups: each member as (group, cell), the groups numbered 0.. here.
        numbered = [i for i in relevant if i < grouped]
        indexes = np.asarray(numbered, dtype=np.intp)
        starts, ends = arrays.starts[indexes], arrays.starts[indexes + 1]
        lengths = ends - starts
        group = np.repeat(np.arange(len(indexes)), lengths)
        offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
        member = arrays.parts[np.arange(len(group)) + offsets]
        total = arrays.totals[indexes]
        total_hidden = is_hidden[total]
        slack = np.fromiter(map(self.slack.__getitem__, numbered), bool, len(indexes))
        capping = slack & ~total_hidden
        """Slack groups with a visible total: each part at most the total."""
        exact = np.fromiter(map(self.exact.__getitem__, numbered), bool, len(indexes))
        at_least = arrays.at_least[indexes] & ~exact
        suppressed = is_hidden[member]
        seen = ~suppressed
        groups = len(indexes)
        seen_sum = np.bincount(group[seen], value[member[seen]], minlength=groups)
        seen_most = np.full(groups, -np.inf)
        np.maximum.at(seen_most, group[seen], value[member[seen]])
        # The slack groups' caps: each part at most the visible total.
        capped = suppressed & capping[group] & (local[member] >= 0)
        capped_part = local[member[capped]]
        cap = value[total[group[capped]]]
        ruled = ~capping
        suppressed &= ruled[group]
        part, of = local[member[suppressed]], group[suppressed]
        if (part < 0).any():
            return None  # a suppressed member outside the cells: not a tied part
        # Totals: suppressed ones (by their group) and the visible ones' values.
        inside = ruled & total_hidden
        own = local[total[inside]]
        if (own < 0).any():
            return None
        is_exact, is_at_least = exact[inside], at_least[inside]
        is_most = ~is_exact & ~is_at_least
        ruled_total = np.where(total_hidden, 0.0, value[total])
        parts_exact = exact[of] | at_least[of]
        parts_at_least = at_least[of]
        empty = np.bincount(of, minlength=groups) == 0
        # Pairs: whole at least its part, part at most its whole.
        numbers = [i - grouped for i in relevant if i >= grouped]
        pairs = list(map(self.pairs.__getitem__, numbers))
        pair_part = np.asarray([p for p, _ in pairs], dtype=np.intp)
        pair_whole = np.asarray([w for _, w in pairs], dtype=np.intp)
        # A pair with no parallel groups (most) has no gap: inf.
        pair_gap = np.full(len(numbers), np.inf)
        parallel = self.parallel
        for k, number in enumerate(numbers):
            if number in parallel:
                pair_gap[k] = self._gap(number)
        if (local[pair_part[is_hidden[pair_part]]] < 0).any() or (
            local[pair_whole[is_hidden[pair_whole]]] < 0
        ).any():
            return None
        for _ in range(MAX_TIGHTENING_ROUNDS + 1):
            self._in_time()
            parts_low = seen_sum + np.bincount(of, low[part], minlength=groups)
            parts_high = seen_sum + np.bincount(of, high[part], minlength=groups)
            total_low = ruled_total.copy()
            total_high = ruled_total.copy()
            total_low[inside], total_high[inside] = low[own], high[own]
            new_low, new_high = low.copy(), high.copy()
            np.fmin.at(new_high, capped_part, cap)
            # A suppressed total: its parts' sum, at least it, or at most it and at
            # least each part.
            each = seen_most.copy()
            np.maximum.at(each, of, low[part])
            each[empty & (seen_most == -np.inf)] = 0
            tied_low = np.where(is_most, each[inside], parts_low[inside])
            np.fmax.at(new_low, own, tied_low)
            np.fmin.at(new_high, own[~is_at_least], parts_high[inside][~is_at_least])
            # Each suppressed part: at least the total less the others' most, at
            # most the total less the others' least (the total, where it may be
            # less than the parts' sum).
            least = total_low[of] - (parts_high[of] - high[part])
            least[parts_at_least] = 0
            np.fmax.at(new_low, part, least)
            most = np.where(
                parts_exact,
                total_high[of] - (parts_low[of] - low[part]),
                total_high[of],
            )
            np.fmin.at(new_high, part, most)
            if len(pairs):
                part_low = np.where(
                    is_hidden[pair_part], low[local[pair_part]], value[pair_part]
                )
                part_high = np.where(
                    is_hidden[pair_part], high[local[pair_part]], value[pair_part]
                )
                whole_low = np.where(
                    is_hidden[pair_whole], low[local[pair_whole]], value[pair_whole]
                )
                whole_high = np.where(
                    is_hidden[pair_whole], high[local[pair_whole]], value[pair_whole]
                )
                wholes = is_hidden[pair_whole]
                np.fmax.at(new_low, local[pair_whole[wholes]], part_low[wholes])
                # At most its part and the gap of its parallel groups (inf if none).
                np.fmin.at(
                    new_high,
                    local[pair_whole[wholes]],
                    (part_high + pair_gap)[wholes],
                )
                parts = is_hidden[pair_part]
                np.fmin.at(new_high, local[pair_part[parts]], whole_high[parts])
                np.fmax.at(
                    new_low, local[pair_part[parts]], (whole_low - pair_gap)[parts]
                )
            if not arrays.exact(new_low, new_high):
                return None
            if np.array_equal(new_low, low) and np.array_equal(new_high, high):
                return dict(zip(cells, low.tolist(), strict=True)), dict(
                    zip(cells, high.tolist(), strict=True)
                )
            low, high = new_low, new_high
        return None

    def _loosening(self, pinned: int) -> int | None:
        """The visible cell to suppress next so the pinned one opens up: the
        smallest visible part of a group it is in that can pin it, else a visible
        total of such a group, else a visible total of a group that bounds it by
        that total alone, else a visible 0 that bounds it (a total of a group it
        is in, or a whole it is at most), else the smallest visible part of a group
        that bounds it by its total alone, else the largest visible total bounding
        any suppressed cell, else (only zeros left near it) a visible zero of a
        group it is in, else any visible cell; None when every cell is hidden
        already.

        A slack group whose total is visible (`_slack_now`) bounds each suppressed
        part by that total alone, whatever its other parts are: hiding them cannot
        open the pinned cell, only its total can. Taken in turn with the groups
        that pin it, the organisation's decision-making meetings (1,356 at 100k,
        bounded by 3,318 distinct people) had their 328 visible meetings of 5
        hidden one round at a time, then their total, before a meeting its
        initiative's total of 6 pins opened up once that 6 was hidden: some 330
        cells suppressed that protect nothing. Such a group's parts are still
        hidden before a loosening is looked for beyond the pinned cell's groups
        (`beyond`), after which no part of the pattern can be solved apart from the
        rest (see `again`)."""
        hidden, values = self.hidden, self.values
        containing = self.containing[pinned]
        near = [self.sums[index] for index in containing]
        capping = [index for index in containing if self._slack_now(index)]
        opening = [index for index in containing if index not in capping]
        for index in opening:
            part = self._smallest_visible_part(index)
            if part is not None:
                return part
        for index in (*opening, *capping):
            total = self.sums[index].total
            if total not in hidden and total not in self.shown and values[total] > 0:
                return total
        # A visible 0 around it pins it (a total of 0 pins each part to 0; so does a
        # whole of 0): a meeting of 0 among decision-making meetings no one attended.
        around = [group.total for group in near]
        around += self.wholes.get(pinned, [])
        for cell in around:
            if cell not in hidden and cell not in self.shown and values[cell] == 0:
                return cell
        for index in capping:
            part = self._smallest_visible_part(index)
            if part is not None:
                return part
        self.beyond = True
        bounding = self._largest_bounding()
        if bounding is not None:
            return bounding
        # Nothing non-zero is left to hide near it: a visible zero pins it (a total
        # of 0 pins every part to 0), so hide a zero next to it, else any visible
        # cell at all.
        for group in near:
            member = self._smallest_visible((group.total, *group.parts), zeros=True)
            if member is not None:
                return member
        return self._smallest_visible(range(len(values)), zeros=True)


CROWDED = 64
"""The fewest parts of a group whose parts a solve keeps in order (see `_Crowd`)."""


class _Crowd:
    """One group's parts as a solve's rounds hide them: how many are hidden and
    their sum (a part listed twice counted twice), and the visible ones not shown,
    smallest (value, then number) first. Cells are only ever hidden in a solve, and
    which are shown does not change in it, so the smallest visible part is the
    first of them not hidden since. A round that hides one part of a group of
    1,356 decision-making meetings then costs that part, not the group: at 100k,
    a meeting an initiative's two meetings pin takes 330 rounds to open up, each
    hiding the next smallest meeting of the organisation."""

    def __init__(
        self,
        parts: Sequence[int],
        hidden: set[int],
        values: Sequence[int],
        ordered: Sequence[tuple[int, int]],
    ) -> None:
        """`ordered`: the parts not shown, as (value, part), largest first (see
        `_Pattern.ordered`)."""
        self.times = Counter(parts)
        self.hidden = 0
        self.counted = 0
        for part in hidden.intersection(self.times):
            times = self.times[part]
            self.hidden += times
            self.counted += values[part] * times
        self.visible = [pair for pair in ordered if pair[1] not in hidden]
        """Largest first, so the smallest is popped off the end."""
        self.above_zero = [pair for pair in self.visible if pair[0] > 0]

    def hide(self, cell: int, value: int) -> None:
        """Count a cell newly hidden (one of the parts or not)."""
        times = self.times.get(cell)
        if times:
            self.hidden += times
            self.counted += value * times

    def smallest(self, hidden: set[int], *, zeros: bool) -> int | None:
        """The smallest part neither hidden nor shown (above 0 unless `zeros`)."""
        waiting = self.visible if zeros else self.above_zero
        while waiting and waiting[-1][1] in hidden:
            waiting.pop()
        return waiting[-1][1] if waiting else None


MAX_TIGHTENING_ROUNDS = 100
LOOSE = 1e-6
"""How far a move the linear program finds must loosen an inequality for it to be
taken as loose, and the most it may break one it keeps (see `_Pattern._implicit`):
the solver's moves are within about 1e-7 of exact."""
AT_ONCE = 256
"""The fewest cells of a tied part whose bounds are tightened over arrays: for
fewer, looking again only at the groups whose members' bounds changed costs less
than the arrays (at 100k, the organisation's ethnic-group part, 5,354 cells under
2,828 groups, takes 38 ms one group at a time)."""


class _SumArrays:
    """The groups of a table as arrays, for `_Pattern._bounds_at_once`: their totals,
    their parts one group after another (a part listed twice, twice) and where each
    group's begin, and which are at least their parts' sum. Only what the groups
    are: the patterns of one frame share it, each from its own thread."""

    def __init__(self, sums: Sequence[Sum]) -> None:
        self.totals = np.fromiter((g.total for g in sums), np.intp, len(sums))
        lengths = np.fromiter((len(g.parts) for g in sums), np.intp, len(sums))
        self.starts = np.zeros(len(sums) + 1, np.intp)
        np.cumsum(lengths, out=self.starts[1:])
        self.parts = np.fromiter(
            chain.from_iterable(g.parts for g in sums), np.intp, int(self.starts[-1])
        )
        self.at_least = np.fromiter((g.at_least for g in sums), bool, len(sums))
        self.limit = 2**53 // (int(lengths.max(initial=0)) + 3)
        """The largest bound whose sums over a group are exact in floats."""

    def exact(self, *bounds: "np.ndarray") -> bool:
        """Whether every finite bound is small enough for exact sums over a group."""
        return all(
            np.abs(b[np.isfinite(b)]).max(initial=0) <= self.limit for b in bounds
        )


PRIME = 2_305_843_009_213_693_951  # 2**61 - 1: exact enough to tell rank


SOLVED_KEPT = 64
"""How many answers of `_solved` are kept (see `_solved_kept`)."""
LOOSENED_KEPT = 64
"""How many answers of `_Pattern._loosened` are kept (see `_Pattern._implicit`)."""
_LOOSENED: dict[tuple[object, ...], frozenset[Hashable]] = {}
"""What the linear programs loosened, by what they were asked (the cells, the
equations, the tight inequalities and those waiting): only that decides it, and a
pattern worked out again after a role asks most parts what it asked last time (at
100k, a part of 1,345 cells with 285 tight inequalities, after every role). The
oldest answer goes first."""
_LOOSENED_LOCK = threading.Lock()


@functools.lru_cache(maxsize=SOLVED_KEPT)
def _solved_kept(groups: tuple[Sum, ...], order: tuple[int, ...]) -> int | None:
    """`_solved`, kept for the equations and cells lately asked about. What the
    equations pin depends on nothing else, and a pattern worked out again after a
    write solves parts whose cells and equations are mostly as they were: after a
    second role in the same initiative, the organisation's ethnic-group part (5,354
    cells under 2,828 equations at 100k) has the cells it had, only other values.
    After a role in another initiative it has the same equations and one cell more
    (that initiative's count of people whose ethnic group is not recorded, now 1):
    see `_solved_grown`."""
    return _solved_grown(groups, order)


class _Answered(NamedTuple):
    """What `_solved` answered of some equations, and on which cells."""

    groups: tuple[Sum, ...]
    cells: frozenset[int]
    first: int | None
    left: dict[int, int] | None
    """A random solution of the equations' left null space over these cells (see
    `_left_null_vector`), where one was made."""


GROWN_KEPT = 16
"""How many systems of equations `_solved_grown` keeps its last answer for."""
_ANSWERED: dict[int, _Answered] = {}
"""The last answer of `_solved` for each system of equations lately asked about,
whatever its cells, by the equations' hash: hashing the biggest part's 2,828
equations takes a millisecond, so they are hashed once a call. The oldest goes
first."""
_ANSWERED_LOCK = threading.Lock()


def _solved_grown(groups: tuple[Sum, ...], order: tuple[int, ...]) -> int | None:
    """`_solved`, answered without solving again where the same equations pinned
    none of fewer cells.

    Let A be the equations over the suppressed cells H, none of which they pin:
    each cell of H is other than 0 in some solution of A x = 0. With more cells
    suppressed (H and C), every such solution, 0 on C, is still one, so still no
    cell of H is pinned. A cell c of C is not pinned either where its column a
    (its coefficient in each equation) is A y for some y: then x = e_c - y solves
    the equations and is 1 at c. A column is not of that form exactly where some
    w with w A = 0 has w . a other than 0, and then a random such w (made once,
    by `_left_null_vector`) has it with odds of all but one in 2**61, as in
    `_solved`. So where w . a is 0 for each added cell, no cell is pinned, which
    is what solving them all finds (but with those odds); and each added column
    is then a combination of the old ones, so the w with w A = 0 are those they
    were and the same w serves for the cells that come next. Else the cells are
    solved whole; so are they where a cell is no longer suppressed, or a cell
    was pinned (either may leave a cell pinned or free that was not).

    After a role in another initiative, each of the organisation's three biggest
    parts (at 100k, 5,354, 3,020 and 1,975 cells) has one cell more under the same
    equations: some 35 ms of solving after each role, where checking the added
    cell takes one pass over the equations and w costs one solve when the
    equations change."""
    cells = frozenset(order)
    key = hash(groups)
    with _ANSWERED_LOCK:
        last = _ANSWERED.get(key)
    if last is not None and last.groups != groups:
        last = None
    answered = None
    if last is not None and last.first is None and last.cells < cells:
        left = last.left
        if left is None:
            left = _left_null_vector(groups, sorted(last.cells))
        added = cells - last.cells
        if not any(_across(left, groups, cell) for cell in added):
            answered = _Answered(groups, cells, None, left)
    if answered is None:
        answered = _Answered(groups, cells, _solved(groups, order), None)
    with _ANSWERED_LOCK:
        _ANSWERED.pop(key, None)
        _ANSWERED[key] = answered
        while len(_ANSWERED) > GROWN_KEPT:
            del _ANSWERED[next(iter(_ANSWERED))]
    return answered.first


def _left_null_vector(groups: Sequence[Sum], cells: Sequence[int]) -> dict[int, int]:
    """A random w, by equation (its place in `groups`), with w A = 0 modulo PRIME,
    where A is the equations over these cells: each cell's column of A is a row of
    the transposed system, solved as `_solution` solves the equations."""
    columns: dict[int, dict[int, int]] = {cell: {} for cell in cells}
    itself = dict(zip(cells, cells, strict=True)).get
    for index, group in enumerate(groups):
        for cell, coefficient in _row(group, itself).items():
            columns[cell][index] = coefficient
    rows = (column for column in columns.values() if column)
    return _null_vector(rows, len(groups), len(cells))


def _across(left: Mapping[int, int], groups: Sequence[Sum], cell: int) -> int:
    """w . a modulo PRIME, for a cell's column a of the equations."""
    product = 0
    for index, group in enumerate(groups):
        if cell == group.total or cell in group.parts:
            coefficient = (cell == group.total) - group.parts.count(cell)
            product += left[index] * coefficient
    return product % PRIME


def _solved(groups: Sequence[Sum], order: Sequence[int]) -> int | None:
    """The first of these suppressed cells (in the order given) that the groups'
    equations alone determine, if any.

    The equations are brought to echelon form over the integers modulo a large
    prime. A cell is determined when every solution of the homogeneous system is 0
    there; a solution built from fixed pseudo-random values of the free cells is 0
    at a cell that is not determined only with odds of about one in 2**61 (and then
    that cell is merely suppressed more than it need be)."""
    solution = _solution(groups, order)
    for n, cell in enumerate(order):
        if solution[n] == 0:
            return cell
    return None


def _solution(groups: Sequence[Sum], order: Sequence[int]) -> dict[int, int]:
    """The solution of `_solved`, by column (each cell's place in `order`), each
    value from 0 to PRIME - 1.

    While the rows are brought to echelon form their coefficients are kept as
    whole numbers of either sign, reduced modulo PRIME only once they reach it: a
    group's row is 1 and -1s, and reducing it mostly adds and takes away small
    numbers, which Python works with faster than numbers of 61 bits. Each stands
    for the same number modulo PRIME, and one below PRIME in size is 0 modulo
    PRIME only when it is 0, so the same coefficients are 0, the same pivots are
    made, and the solution is the one of keeping every coefficient reduced. In
    which order a row holds its columns changes none of that: each coefficient
    is reduced by the pivots in the order they were made."""
    column = {cell: n for n, cell in enumerate(order)}
    at = column.get
    return _null_vector((_row(group, at) for group in groups), len(order), len(order))


def _row(group: Sum, at: Callable[[int], int | None]) -> dict[int, int]:
    """A group's equation, total less parts, over its suppressed members: each
    one's coefficient, none of them 0, by its column (`at`, None for a cell that
    is not suppressed)."""
    keys = [key for key in map(at, group.parts) if key is not None]
    row = dict.fromkeys(keys, -1)
    if len(row) < len(keys):  # a part listed twice
        row = {}
        for key in keys:
            row[key] = row.get(key, 0) - 1
    total = at(group.total)
    if total is not None:
        if total not in row:
            row[total] = 1
        elif row[total] == -1:
            del row[total]  # the total is one of its parts
        else:
            row[total] += 1
    return row


def _null_vector(
    rows: Iterable[dict[int, int]], columns: int, seed: int
) -> dict[int, int]:
    """A solution of these rows (by column, from 0 to `columns` - 1) times x = 0
    modulo PRIME, with the free columns drawn from `seed`: see `_solution`."""
    pivots: dict[int, dict[int, int]] = {}
    made: dict[int, int] = {}
    for row in rows:
        # Reduce by the pivots in the order they were made: reducing by one brings
        # in only columns of pivots made after it.
        waiting = [(made[k], k) for k in row if k in pivots]
        heapq.heapify(waiting)
        while waiting:
            _, pivot = heapq.heappop(waiting)
            factor = row.get(pivot)
            if not factor:
                continue
            for key, value in pivots[pivot].items():
                was = row.get(key)
                if was is None:
                    reduced = -factor * value  # not 0 modulo PRIME: neither is
                    if not -PRIME < reduced < PRIME:
                        reduced %= PRIME
                    row[key] = reduced
                    if key in pivots:
                        heapq.heappush(waiting, (made[key], key))
                    continue
                reduced = was - factor * value
                if not -PRIME < reduced < PRIME:
                    reduced %= PRIME
                if reduced:
                    row[key] = reduced
                else:
                    del row[key]
        if not row:
            continue
        pivot = min(row)
        leading = row[pivot]
        if leading == 1:
            pivots[pivot] = row
        elif leading == -1:
            pivots[pivot] = {k: -v for k, v in row.items()}
        else:
            inverse = pow(leading % PRIME, PRIME - 2, PRIME)
            pivots[pivot] = {k: v * inverse % PRIME for k, v in row.items()}
        made[pivot] = len(made)
    # randrange(1, PRIME) of each free column in turn, written out: 1 and a draw of
    # getrandbits below PRIME - 1, drawn again while it is not (as random does).
    draw = random.Random(seed).getrandbits
    width = PRIME - 1
    bits = width.bit_length()
    solution: dict[int, int] = {}
    for n in range(columns):
        if n not in pivots:
            value = draw(bits)
            while value >= width:
                value = draw(bits)
            solution[n] = 1 + value
    # The pivots last made first (they were made in the order they are kept): a
    # pivot's row holds only free columns and pivots made after it, each solved
    # already, and its own column, which counts as 0 until it is.
    for pivot, row in reversed(pivots.items()):
        solution[pivot] = 0
        solution[pivot] = (
            -sum(map(mul, row.values(), map(solution.__getitem__, row))) % PRIME
        )
    return solution


def people_table(figures: Mapping[UUID | None, PeopleFigures]) -> PeopleTable:
    """The counts of people of an organisation and its initiatives, and their groups."""
    return kept_people_table(figures).table


@dataclass(frozen=True)
class _Counts:
    """Some of a scope's counts, with the groups, pairs, bands and left-out rows
    among them, in the order `people_table` makes them; left_out in the order its
    cells are added."""

    values: dict[Cell, int]
    groups: list[Group]
    at_most: list[tuple[Cell, Cell]]
    left_out: list[Cell]
    bands: dict[Cell, tuple[int, int | None]]

    def same_but_values(self, other: "_Counts") -> bool:
        """Whether the other counts are of these cells, in this order, with these
        groups, pairs, bands and left-out rows."""
        return self is other or (
            self.groups == other.groups
            and self.at_most == other.at_most
            and self.left_out == other.left_out
            and self.bands == other.bands
            and list(self.values) == list(other.values)
        )


@dataclass(frozen=True)
class _ScopeCounts:
    """One scope's share of a table: its people and their diversity, its meetings,
    and its process experience and support, in that order. A scope's meetings are
    most of the organisation's share, and a role given leaves them as they were."""

    people: _Counts
    meetings: _Counts
    experience: _Counts

    def parts(self) -> tuple[_Counts, _Counts, _Counts]:
        return (self.people, self.meetings, self.experience)


@dataclass(frozen=True)
class ValuesChanged:
    """How a table differs from an earlier one of the same organisation when only
    values do: its groups, pairs, left-out rows and bands are the earlier table's,
    the same objects, and its cells are the earlier table's in the same order."""

    since: PeopleTable
    cells: tuple[Cell, ...]
    """The cells whose values differ."""


@dataclass(frozen=True)
class KeptTable:
    """A table of counts with what it was made from, kept so that the next one
    makes again only the scopes whose figures are not the same objects (see
    `kept_people_table`). Never changed."""

    table: PeopleTable
    figures: Mapping[UUID | None, PeopleFigures]
    support_kinds: list[str]
    scopes: dict[UUID | None, _ScopeCounts]
    initiatives: list[UUID | None]
    families: list[Group]
    changed: ValuesChanged | None = None
    """How the table differs from the last one kept, where only in values."""


def kept_people_table(
    figures: Mapping[UUID | None, PeopleFigures], last: KeptTable | None = None
) -> KeptTable:
    """The table of `people_table`, kept with each scope's share of it. Given the
    last one kept, the share of a scope whose figures are the very object the last
    table was made from (`fourpi.projections.evaluate.kept_people_figures` keeps
    those of untouched initiatives) is the last share, and so is the part for its
    meetings of a scope whose meetings' checks are the very same. Where the
    initiatives, the kinds of support, the levels and every share but for its
    values are as they were, the table is the last one with the values of the
    shares made again put in (`KeptTable.changed`); else everything is put
    together in the same order."""
    initiatives: list[UUID | None] = [scope for scope in figures if scope is not None]
    support_kinds = sorted({kind for f in figures.values() for kind in f.support})
    scopes: dict[UUID | None, _ScopeCounts] = {}
    if last is None or last.support_kinds != support_kinds:
        for scope, figure in figures.items():
            scopes[scope] = _scope_counts(scope, figure, support_kinds)
        return _assembled(figures, support_kinds, scopes, initiatives, None)
    made: list[tuple[_ScopeCounts, _ScopeCounts]] = []
    # Whether every share made again differs from the last only in values.
    values_only = list(figures) == list(last.figures)
    for scope, figure in figures.items():
        was = last.figures.get(scope)
        kept = last.scopes.get(scope)
        if was is figure and kept is not None:
            scopes[scope] = kept
            continue
        scopes[scope] = counts = _scope_counts(scope, figure, support_kinds, was, kept)
        if kept is None or was is None or was.level != figure.level:
            values_only = False
        elif values_only:
            values_only = all(
                now.same_but_values(then)
                for now, then in zip(counts.parts(), kept.parts(), strict=True)
            )
            made.append((counts, kept))
    families = last.families if last.initiatives == initiatives else None
    organisation = figures.get(None)
    was = last.figures.get(None)
    if (
        families is None
        or not values_only
        or organisation is None
        or was is None
        or organisation.presence.by_level.keys() != was.presence.by_level.keys()
    ):
        return _assembled(figures, support_kinds, scopes, initiatives, families)
    values = last.table.values.copy()
    changed = []
    for counts, kept in made:
        for now, then in zip(counts.parts(), kept.parts(), strict=True):
            if now is then:
                continue
            for cell, value in now.values.items():
                if values[cell] != value:
                    values[cell] = value
                    changed.append(cell)
    for name, at_level in organisation.presence.by_level.items():
        if values[level(name)] != at_level:
            values[level(name)] = at_level
            changed.append(level(name))
    table = last.table
    if changed:
        table = replace(table, values=values)
    return KeptTable(
        table,
        figures,
        support_kinds,
        scopes,
        initiatives,
        last.families,
        ValuesChanged(last.table, tuple(changed)),
    )


def _assembled(
    figures: Mapping[UUID | None, PeopleFigures],
    support_kinds: list[str],
    scopes: dict[UUID | None, _ScopeCounts],
    initiatives: list[UUID | None],
    families: list[Group] | None,
) -> KeptTable:
    """The table put together from every scope's share, the groups of the
    organisation against its initiatives (`families`, when kept), and the
    organisation's levels."""
    values: dict[Cell, int] = {}
    groups: list[Group] = []
    left_out: set[Cell] = set()
    at_most: list[tuple[Cell, Cell]] = []
    bands: dict[Cell, tuple[int, int | None]] = {}
    for counts in scopes.values():
        for part in counts.parts():
            values.update(part.values)
            groups += part.groups
            at_most += part.at_most
            left_out.update(part.left_out)
            bands.update(part.bands)
    if families is None:
        families = _families(initiatives, support_kinds)
    groups += families
    # The organisation's levels, each against its initiatives.
    levels: dict[str, list[Cell]] = {}
    for scope in initiatives:
        initiative_level = figures[scope].level
        if initiative_level is not None:
            levels.setdefault(initiative_level, []).append(people(scope))
    organisation = figures.get(None)
    by_level = {} if organisation is None else organisation.presence.by_level
    for name in sorted(set(levels) | set(by_level)):
        values[level(name)] = by_level.get(name, 0)
        if name in levels:
            groups.append(Group(level(name), tuple(levels[name])))
        else:
            left_out.add(level(name))  # no initiative at it: 0, whoever is involved
        if name not in by_level:
            left_out.add(level(name))
    groups.append(Group(people(None), tuple(level(name) for name in sorted(levels))))
    table = PeopleTable(
        values, tuple(groups), tuple(at_most), frozenset(left_out), bands
    )
    return KeptTable(table, figures, support_kinds, scopes, initiatives, families)


def _scope_counts(
    scope: UUID | None,
    figure: PeopleFigures,
    support_kinds: list[str],
    was: PeopleFigures | None = None,
    kept: _ScopeCounts | None = None,
) -> _ScopeCounts:
    """One scope's counts of people, and the groups, pairs, bands and left-out rows
    within it; those of its meetings are the kept ones where its last figures
    (`was`) had the very same meetings' checks."""
    presence = figure.presence
    if (
        was is not None
        and kept is not None
        and was.presence.meetings is presence.meetings
        and was.presence.at_decision_making_meetings
        == presence.at_decision_making_meetings
    ):
        meetings = kept.meetings
    else:
        meetings = _meeting_counts(scope, presence)
    return _ScopeCounts(
        _people_counts(scope, figure),
        meetings,
        _experience_counts(scope, figure, support_kinds),
    )


def _people_counts(scope: UUID | None, figure: PeopleFigures) -> _Counts:
    """Those a scope involves, by their declared diversity, and those at
    decision-making level."""
    values: dict[Cell, int] = {}
    groups: list[Group] = []
    left_out: list[Cell] = []
    presence = figure.presence
    values[people(scope)] = presence.diversity[0].total if presence.diversity else 0
    for category in presence.diversity:
        row_cells = []
        for row in category.rows:
            cell = diversity(scope, category.category, row.value)
            values[cell] = row.count
            row_cells.append(cell)
        groups.append(Group(people(scope), tuple(row_cells)))
        # The broad groups: each the sum of its detailed rows, and all of them
        # the category's total.
        members = broad_members(MonitoringCategory(category.category))
        broad_cells = []
        for row in category.broad_rows:
            cell = broad_diversity(scope, category.category, row.value)
            values[cell] = row.count
            broad_cells.append(cell)
            if cell[0] == "broad_diversity":
                groups.append(
                    Group(
                        cell,
                        tuple(
                            diversity(scope, category.category, member)
                            for member in members[row.value]
                        ),
                    )
                )
        if broad_cells:
            groups.append(Group(people(scope), tuple(broad_cells)))
    if scope is not None and not presence.by_level:
        left_out.append(people(scope))  # its level's row is left out
    values[decision_level(scope)] = presence.at_decision_making_level
    return _Counts(
        values, groups, [(decision_level(scope), people(scope))], left_out, {}
    )


def _meeting_counts(scope: UUID | None, presence: PresenceAnswer) -> _Counts:
    """A scope's service users and carers at each meeting, and at decision-making
    meetings."""
    values: dict[Cell, int] = {}
    bands: dict[Cell, tuple[int, int | None]] = {}
    values[decision_meetings(scope)] = presence.at_decision_making_meetings
    for check in presence.meetings:
        values[meeting(check.meeting_id)] = check.service_users_and_carers
        bands[meeting(check.meeting_id)] = STANDARD_BANDS[check.standard]
    # Those at decision-making meetings, as if nobody went to two.
    group = Group(
        decision_meetings(scope),
        tuple(
            meeting(check.meeting_id)
            for check in presence.meetings
            if check.decision_making
        ),
    )
    at_most = [
        (meeting(check.meeting_id), people(scope)) for check in presence.meetings
    ]
    return _Counts(values, [group], at_most, [], bands)


def _experience_counts(
    scope: UUID | None, figure: PeopleFigures, support_kinds: list[str]
) -> _Counts:
    """A scope's process-experience answers, those involved and who answered, the
    scores given, and the people supported by each kind of support."""
    values: dict[Cell, int] = {}
    groups: list[Group] = []
    left_out: list[Cell] = []
    kinds = [kind.value for kind in RespondentKind]
    dimensions = [dimension.value for dimension in ProcessDimension]
    experience = figure.process_experience
    values[answers(scope)] = experience.answers
    values[involved(scope)] = experience.involved
    values[respondents(scope)] = experience.respondents
    at_most = [
        (respondents(scope), involved(scope)),
        (respondents(scope), answers(scope)),
        (people(scope), involved(scope)),
    ]
    counted = {(s.respondent_kind, s.dimension): s for s in experience.scores}
    for kind in kinds:
        for dimension in dimensions:
            summary = counted.get((kind, dimension))
            if summary is None:
                left_out.append(scores(scope, kind, dimension))
                left_out.extend(score(scope, kind, dimension, v) for v in SCORES)
            values[scores(scope, kind, dimension)] = (
                0 if summary is None else summary.count
            )
            for value in SCORES:
                values[score(scope, kind, dimension, value)] = (
                    0 if summary is None else summary.distribution.get(value, 0)
                )
            groups.append(
                Group(
                    scores(scope, kind, dimension),
                    tuple(score(scope, kind, dimension, v) for v in SCORES),
                )
            )
    for dimension in dimensions:
        groups.append(
            Group(
                answers(scope),
                tuple(scores(scope, kind, dimension) for kind in kinds),
                at_least=True,
            )
        )
    for kind in support_kinds:
        total = figure.support.get(kind)
        if total is None:
            left_out.append(support_people(scope, kind))
        values[support_people(scope, kind)] = 0 if total is None else total.people
    return _Counts(values, groups, at_most, left_out, {})


def _families(initiatives: list[UUID | None], support_kinds: list[str]) -> list[Group]:
    """The groups of the organisation's counts against its initiatives'."""
    groups: list[Group] = []
    kinds = [kind.value for kind in RespondentKind]
    dimensions = [dimension.value for dimension in ProcessDimension]
    # The organisation against its initiatives.
    families: list[Sequence[Hashable]] = [
        ("people",),
        ("decision_level",),
        ("decision_meetings",),
        ("answers",),
        ("involved",),
        ("respondents",),
    ]
    families += [
        ("diversity", category.value, value)
        for category in MonitoringCategory
        for value in [*(v.value for v in MONITORING_VALUES[category]), NOT_RECORDED]
    ]
    families += [
        ("broad_diversity", category.value, group)
        for category in MonitoringCategory
        for group, members in broad_members(category).items()
        if len(members) > 1
    ]
    families += [
        ("scores", kind, dimension) for kind in kinds for dimension in dimensions
    ]
    families += [
        ("score", kind, dimension, value)
        for kind in kinds
        for dimension in dimensions
        for value in SCORES
    ]
    families += [("support_people", kind) for kind in support_kinds]
    for family in families:
        name, *rest = family
        groups.append(
            Group(
                (name, None, *rest),
                tuple((name, scope, *rest) for scope in initiatives),
                # Support may be given outside any initiative.
                at_least=name == "support_people",
            )
        )
    return groups


@dataclass(frozen=True)
class Disclosure:
    """How the figures about people of one answer are shown to one caller.

    exact: a caller granted personal data sees every count as it is.
    hidden: otherwise, the cells of the organisation's suppression pattern.
    withheld: figures narrowed by a past moment, a period or a cycle are not shown to
    a caller without the grant at all (every count of people is suppressed).
    past: the answer is as of a past moment. Then a meeting's standard is withheld
    too: against the record now (a visible 5), a past minimum would tell that exactly
    3 attendances were recorded since.
    """

    exact: bool
    withheld: bool = False
    hidden: frozenset[Cell] = frozenset()
    past: bool = False
    by_monitoring_withheld: bool = False
    """Every count by monitoring value (`BY_MONITORING`) is suppressed: for a caller
    who reads the records without the grant. The records tell it every other count
    of people (who holds a role where, each person's kind, who came to each meeting,
    the scores given), the totals the pattern hides to protect a small count by
    monitoring value among them; only the declarations are withheld from it."""

    def tells_standards(self) -> bool:
        """Whether each meeting's outcome against the standard is shown."""
        return self.exact or not self.past

    def hides(self, *cells: Cell) -> bool:
        """Whether any of these counts is suppressed (a share or mean computed from
        them is then withheld too)."""
        if self.exact:
            return False
        return (
            self.withheld
            or any(cell in self.hidden for cell in cells)
            or (
                self.by_monitoring_withheld
                and any(cell[0] in BY_MONITORING for cell in cells)
            )
        )


EXACT = Disclosure(exact=True)
