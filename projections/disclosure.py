"""Small numbers: which counts of people a caller without the personal-data grant may see.

A count of people from 1 up to, not including, the organisation's threshold (default 5)
is suppressed (primary suppression). Counts are also linked: a total is the sum of its
parts (a category's rows add up to those counted; the organisation's figures are at
most the sum of its initiatives'), so a suppressed cell could be worked out from a
visible total and its other visible parts. Secondary suppression closes that: in every
group of a total and its parts, either nothing is suppressed, or at least two members
are and, when the total is visible, the suppressed parts add up to at least the
threshold. Then no suppressed cell may be pinned to one value by the visible cells:
bounds are tightened through every group, and the groups' equations are solved, and
any cell found pinned opens up by suppressing a neighbour. A zero may be suppressed as
a secondary cell, so a suppressed count is any whole number from 0.

The groups are built conservatively: counts of distinct people are grouped as if no
one were in two initiatives or two levels, and an initiative's process-experience
answers as if every answer scored every dimension. That is the case in which the
visible figures say the most, so a pattern safe there is safe whatever the overlap.

The pattern is computed over the organisation and every initiative at once, so the
same cell is suppressed in every answer that shows it and one slice cannot be
subtracted from another to undo it. Past moments, periods and cycles would let one
count be differenced from a neighbouring one, so figures about people narrowed by
them are withheld from such callers altogether (see `Disclosure`).
"""

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from fourpi.domain.vocabulary import (
    MONITORING_VALUES,
    MonitoringCategory,
    ProcessDimension,
    RespondentKind,
)
from fourpi.projections.answers import NOT_RECORDED
from fourpi.projections.evaluate import SCORES, PeopleFigures

Cell = tuple[Hashable, ...]
"""A count of people, named by what it counts and its scope (None: the organisation)."""


def people(scope: UUID | None) -> Cell:
    """Service users and carers involved: every diversity category's total, and an
    initiative's count by level."""
    return ("people", scope)


def diversity(scope: UUID | None, category: str, value: str) -> Cell:
    return ("diversity", scope, category, value)


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
    """A total and the parts it is the sum of (or for distinct people, at most)."""

    total: Cell
    parts: tuple[Cell, ...]


@dataclass(frozen=True)
class PeopleTable:
    """Every count of people an answer can show, and how they add up."""

    values: dict[Cell, int]
    groups: tuple[Group, ...]


def suppressed_cells(table: PeopleTable, threshold: int) -> frozenset[Cell]:
    """The cells to show as suppressed: primary, then secondary until every group is
    safe (see the module docstring) and no suppressed cell is pinned to one value by
    the bounds the visible cells put on it. Deterministic: the same table and
    threshold always give the same cells."""
    values = table.values
    hidden = {cell for cell, value in values.items() if 0 < value < threshold}
    containing: dict[Cell, list[Group]] = {}
    for group in table.groups:
        for member in (group.total, *group.parts):
            containing.setdefault(member, []).append(group)
    while True:
        changed = True
        while changed:
            changed = False
            for group in table.groups:
                extra = _one_more(group, values, hidden, threshold)
                if extra is not None:
                    hidden.add(extra)
                    changed = True
        pinned = _pinned(table.groups, values, hidden)
        if pinned is None:
            return frozenset(hidden)
        loosening = _loosening(pinned, containing, values, hidden, table.groups)
        if loosening is None:
            # Every cell is hidden already: nothing shown can pin anything.
            return frozenset(hidden)
        hidden.add(loosening)


def _pinned(
    groups: Sequence[Group], values: Mapping[Cell, int], hidden: set[Cell]
) -> Cell | None:
    """A suppressed cell whose value follows from the visible ones, found by
    tightening each suppressed cell's bounds (at least 0) through every group until
    nothing changes, or by the groups' equations alone."""
    low: dict[Cell, float] = dict.fromkeys(hidden, 0)
    high: dict[Cell, float] = dict.fromkeys(hidden, math.inf)

    def bounds(cell: Cell) -> tuple[float, float]:
        if cell in hidden:
            return low[cell], high[cell]
        return values[cell], values[cell]

    relevant = [
        g for g in groups if g.total in hidden or any(p in hidden for p in g.parts)
    ]
    for _ in range(MAX_TIGHTENING_ROUNDS):
        changed = False
        for group in relevant:
            parts = [bounds(part) for part in group.parts]
            parts_low = sum(b[0] for b in parts)
            parts_high = sum(b[1] for b in parts)
            total_low, total_high = bounds(group.total)
            if group.total in hidden:
                changed |= _tighten(low, high, group.total, parts_low, parts_high)
                total_low, total_high = bounds(group.total)
            for part, (part_low, part_high) in zip(group.parts, parts, strict=True):
                if part in hidden:
                    changed |= _tighten(
                        low,
                        high,
                        part,
                        total_low - (parts_high - part_high),
                        total_high - (parts_low - part_low),
                    )
        if not changed:
            break
    for cell in sorted(hidden, key=repr):
        if low[cell] == high[cell]:
            return cell
    return _solved(relevant, hidden)


PRIME = 2_305_843_009_213_693_951  # 2**61 - 1: exact enough to tell rank


def _solved(groups: Sequence[Group], hidden: set[Cell]) -> Cell | None:
    """A suppressed cell the groups' equations alone determine: after Gaussian
    elimination (over the integers modulo a large prime) it is a pivot whose row
    names no other suppressed cell."""
    order = sorted(hidden, key=repr)
    column = {cell: i for i, cell in enumerate(order)}
    rows: list[dict[int, int]] = []
    for group in groups:
        row: dict[int, int] = {}
        for member, sign in ((group.total, 1), *((p, -1) for p in group.parts)):
            if member in hidden:
                key = column[member]
                row[key] = (row.get(key, 0) + sign) % PRIME
        row = {k: v for k, v in row.items() if v}
        if row:
            rows.append(row)
    pivots: dict[int, dict[int, int]] = {}
    for row in rows:
        for pivot, pivot_row in pivots.items():
            factor = row.get(pivot)
            if factor:
                for key, value in pivot_row.items():
                    row[key] = (row.get(key, 0) - factor * value) % PRIME
                row = {k: v for k, v in row.items() if v}
        if not row:
            continue
        pivot = min(row)
        inverse = pow(row[pivot], PRIME - 2, PRIME)
        row = {k: v * inverse % PRIME for k, v in row.items()}
        for other in pivots.values():
            factor = other.get(pivot)
            if factor:
                for key, value in row.items():
                    other[key] = (other.get(key, 0) - factor * value) % PRIME
                for key in [k for k, v in other.items() if not v]:
                    del other[key]
        pivots[pivot] = row
    for pivot in sorted(pivots):
        if len(pivots[pivot]) == 1:
            return order[pivot]
    return None


MAX_TIGHTENING_ROUNDS = 100


def _tighten(
    low: dict[Cell, float],
    high: dict[Cell, float],
    cell: Cell,
    at_least: float,
    at_most: float,
) -> bool:
    changed = False
    if at_least > low[cell]:
        low[cell] = at_least
        changed = True
    if at_most < high[cell]:
        high[cell] = at_most
        changed = True
    return changed


def _loosening(
    pinned: Cell,
    containing: Mapping[Cell, list[Group]],
    values: Mapping[Cell, int],
    hidden: set[Cell],
    groups: Sequence[Group],
) -> Cell | None:
    """The visible cell to suppress next so the pinned one opens up: the smallest
    visible part of a group it is in, else a visible total of such a group, else the
    largest visible total bounding any suppressed cell, else (only zeros left near
    it) a visible zero of a group it is in, else any visible cell; None when every
    cell is hidden already."""
    near = containing.get(pinned, [])
    for group in near:
        part = _smallest_visible(group.parts, values, hidden)
        if part is not None:
            return part
    for group in near:
        if group.total not in hidden and values[group.total] > 0:
            return group.total
    bounding = [
        g.total
        for g in groups
        if g.total not in hidden
        and values[g.total] > 0
        and any(p in hidden for p in g.parts)
    ]
    if bounding:
        return max(bounding, key=lambda cell: (values[cell], repr(cell)))
    # Nothing non-zero is left to hide near it: a visible zero pins it (a total of 0
    # pins every part to 0), so hide a zero next to it, else any visible cell at all.
    for group in near:
        member = _smallest_visible(
            (group.total, *group.parts), values, hidden, zeros=True
        )
        if member is not None:
            return member
    return _smallest_visible(values, values, hidden, zeros=True)


def _one_more(
    group: Group, values: Mapping[Cell, int], hidden: set[Cell], threshold: int
) -> Cell | None:
    """The next cell this group needs suppressed to be safe, or None if it is."""
    hidden_parts = [part for part in group.parts if part in hidden]
    total_hidden = group.total in hidden
    if not hidden_parts and not total_hidden:
        return None
    if total_hidden:
        if hidden_parts:
            return None
        # A hidden total with every part visible is their sum.
        return _smallest_visible(group.parts, values, hidden, zeros=True)
    hidden_sum = sum(values[p] for p in hidden_parts)
    if hidden_sum < threshold:
        # The visible total less the visible parts gives the hidden parts' sum: it
        # must not itself be a small number.
        return _smallest_visible(group.parts, values, hidden) or group.total
    if len(hidden_parts) < 2:
        # One hidden part would be that sum; a second, even a zero, opens it up.
        return _smallest_visible(group.parts, values, hidden, zeros=True) or (
            group.total
        )
    return None


def _smallest_visible(
    cells: Iterable[Cell],
    values: Mapping[Cell, int],
    hidden: set[Cell],
    *,
    zeros: bool = False,
) -> Cell | None:
    candidates = [
        cell
        for cell in dict.fromkeys(cells)
        if cell not in hidden and (zeros or values[cell] > 0)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda cell: (values[cell], repr(cell)))


def people_table(figures: Mapping[UUID | None, PeopleFigures]) -> PeopleTable:
    """The counts of people of an organisation and its initiatives, and their groups."""
    values: dict[Cell, int] = {}
    groups: list[Group] = []
    initiatives = [scope for scope in figures if scope is not None]
    kinds = [kind.value for kind in RespondentKind]
    dimensions = [dimension.value for dimension in ProcessDimension]
    support_kinds = sorted({kind for f in figures.values() for kind in f.support})
    for scope, figure in figures.items():
        presence = figure.presence
        experience = figure.process_experience
        values[people(scope)] = presence.diversity[0].total if presence.diversity else 0
        for category in presence.diversity:
            row_cells = []
            for row in category.rows:
                cell = diversity(scope, category.category, row.value)
                values[cell] = row.count
                row_cells.append(cell)
            groups.append(Group(people(scope), tuple(row_cells)))
        values[decision_level(scope)] = presence.at_decision_making_level
        values[decision_meetings(scope)] = presence.at_decision_making_meetings
        for check in presence.meetings:
            values[meeting(check.meeting_id)] = check.service_users_and_carers
        # Those at decision-making meetings, as if nobody went to two.
        groups.append(
            Group(
                decision_meetings(scope),
                tuple(
                    meeting(check.meeting_id)
                    for check in presence.meetings
                    if check.decision_making
                ),
            )
        )
        values[answers(scope)] = experience.answers
        values[involved(scope)] = experience.involved
        values[respondents(scope)] = experience.respondents
        counted = {(s.respondent_kind, s.dimension): s for s in experience.scores}
        for kind in kinds:
            for dimension in dimensions:
                summary = counted.get((kind, dimension))
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
                )
            )
        for kind in support_kinds:
            total = figure.support.get(kind)
            values[support_people(scope, kind)] = 0 if total is None else total.people
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
            )
        )
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
        groups.append(Group(level(name), tuple(levels.get(name, ()))))
    groups.append(Group(people(None), tuple(level(name) for name in sorted(levels))))
    return PeopleTable(values, tuple(groups))


@dataclass(frozen=True)
class Disclosure:
    """How the figures about people of one answer are shown to one caller.

    exact: a caller granted personal data sees every count as it is.
    hidden: otherwise, the cells of the organisation's suppression pattern.
    withheld: figures narrowed by a past moment, a period or a cycle are not shown to
    a caller without the grant at all (every count of people is suppressed).
    """

    exact: bool
    withheld: bool = False
    hidden: frozenset[Cell] = frozenset()

    def hides(self, *cells: Cell) -> bool:
        """Whether any of these counts is suppressed (a share or mean computed from
        them is then withheld too)."""
        if self.exact:
            return False
        return self.withheld or any(cell in self.hidden for cell in cells)


EXACT = Disclosure(exact=True)
