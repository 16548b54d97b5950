"""The suppression pattern worked out round by round, looking again only at what changed, is exactly the pattern of looking again at everything each round: the same cells, whatever the table."""

import math
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog  # type: ignore[import-untyped]

import fourpi.projections.disclosure
from fourpi.projections.disclosure import (
    MAX_TIGHTENING_ROUNDS,
    STANDARD_BANDS,
    Cell,
    Group,
    PeopleTable,
    Sum,
    _Parts,
    _Pattern,
    _solved,
    people_table,
    suppressed_cells,
)
from fourpi.projections.evaluate import people_figures
from tests.api import api_store
from tests.attacker import attack, beyond_design, recomputed, what_holds
from tests.test_suppression import (
    attendance_table,
    attendances,
    grid_table,
    grids,
    histories,
    record_history,
)

P = TypeVar("P", bound=_Pattern)


@pytest.fixture(autouse=True, scope="module")
def crowded_from_three_parts() -> Iterator[None]:
    """Groups of three parts or more kept as crowds (`_Crowd`), fewer scanned, so
    the small tables drawn here go both ways within one pattern."""
    kept = fourpi.projections.disclosure.CROWDED
    fourpi.projections.disclosure.CROWDED = 3
    yield
    fourpi.projections.disclosure.CROWDED = kept


class WholePattern(_Pattern):
    """The pattern as it was worked out before it kept anything from one round to the
    next: every round tightens the bounds of every suppressed cell, finds every
    connected part and solves the equations of every part not pinned by its bounds,
    and a loosening scans every group for the largest total bounding a suppressed
    cell; the cells given away are found by looking at every group again until
    none gives one away. Copied from the code it replaced, to compare with; and where
    neither the bounds nor the equations pin a cell of a part, the least and most of
    each of its cells by linear programs over every relation (`_least_is_most`),
    where the pattern finds the inequalities no move can loosen instead."""

    def _crowd(self, index: int) -> None:
        """No group's parts are kept in order: every part of a group is scanned
        each time it is looked at."""
        return None

    def _given_away(self) -> None:
        shown, values = self.shown, self.values
        changed = bool(shown)
        while changed:
            changed = False
            for index, group in enumerate(self.sums):
                unknown = [
                    m
                    for m in dict.fromkeys((group.total, *group.parts))
                    if m not in shown
                ]
                if not unknown:
                    continue
                if self.exact[index] and len(unknown) == 1:
                    given = unknown
                elif group.total in shown and values[group.total] == 0:
                    given = unknown  # each part is at most the total
                elif (
                    unknown == [group.total]
                    and not group.at_least
                    and not any(values[part] for part in group.parts)
                ):
                    given = unknown  # at most the sum of parts that are all 0
                else:
                    continue
                shown.update(given)
                changed = True
            for part, whole in self.pairs:
                if part not in shown and whole in shown and values[whole] == 0:
                    shown.add(part)
                    changed = True

    def _pinned(self) -> list[int]:
        hidden = self.hidden
        relevant = sorted({i for cell in hidden for i in self.touching[cell]})
        low, high = self._whole_bounds(relevant)
        component = self._components(relevant)
        ordered = sorted(hidden)
        first: dict[int, int] = {}
        for cell in ordered:
            if low[cell] == high[cell]:
                first.setdefault(component[cell], cell)
        equations: dict[int, list[Sum]] = {}
        for index in relevant:
            if index >= len(self.sums) or not self.exact[index]:
                continue
            group = self.sums[index]
            for member in (group.total, *group.parts):
                if member in hidden:
                    root = component[member]
                    if root not in first:
                        equations.setdefault(root, []).append(group)
                    break
        members: dict[int, list[int]] = {}
        for cell in ordered:
            if component[cell] in equations:
                members.setdefault(component[cell], []).append(cell)
        for root, cells in members.items():
            self._in_time()
            solved = _solved(equations[root], cells)
            if solved is not None:
                first[root] = solved
        if self.sound:
            for cell in ordered:
                root = component[cell]
                if root not in first and self._least_is_most(cell, component):
                    first[root] = cell
        return sorted(first.values())

    def _least_is_most(self, cell: int, component: dict[int, int]) -> bool:
        """Whether the least and the most this suppressed cell can be, over all
        counts of its connected part (whole numbers or not) that keep every group,
        pair and band true with the visible cells as they are, are one: a linear
        program for each, over every relation in the open."""
        hidden, values, sums = self.hidden, self.values, self.sums
        cells = sorted(c for c in hidden if component[c] == component[cell])
        column = {c: n for n, c in enumerate(cells)}
        equal: list[tuple[np.ndarray, float]] = []
        at_most: list[tuple[np.ndarray, float]] = []

        def relation(terms: Iterable[tuple[int, int]]) -> tuple[np.ndarray, float]:
            row, constant = np.zeros(len(cells)), 0.0
            for member, coefficient in terms:
                if member in column:
                    row[column[member]] += coefficient
                else:
                    constant -= coefficient * values[member]
            return row, constant

        for index, group in enumerate(sums):
            members = [group.total, *group.parts]
            if not any(m in column for m in members):
                continue
            terms = [(group.total, 1), *((part, -1) for part in group.parts)]
            if self.exact[index]:
                equal.append(relation(terms))
            elif group.at_least:
                at_most.append(relation([(m, -c) for m, c in terms]))
            else:
                at_most.append(relation(terms))
                for part in group.parts:
                    at_most.append(relation([(part, 1), (group.total, -1)]))
        for part, whole in self.pairs:
            if part in column or whole in column:
                at_most.append(relation([(part, 1), (whole, -1)]))
        bounds = [
            (self.bands.get(c, (0, math.inf))[0], self.bands.get(c, (0, math.inf))[1])
            for c in cells
        ]
        ends = []
        for sign in (1.0, -1.0):
            objective = np.zeros(len(cells))
            objective[column[cell]] = sign
            found = linprog(
                objective,
                A_ub=np.array([r for r, _ in at_most]) if at_most else None,
                b_ub=np.array([c for _, c in at_most]) if at_most else None,
                A_eq=np.array([r for r, _ in equal]) if equal else None,
                b_eq=np.array([c for _, c in equal]) if equal else None,
                bounds=[
                    (low, None if high == math.inf else high) for low, high in bounds
                ],
                method="highs",
            )
            if sign < 0 and found.status in (2, 3):
                # Unbounded: the least was found, so the counts fit (HiGHS may
                # call that "infeasible or unbounded").
                return False
            assert found.status == 0, found.message
            ends.append(sign * found.fun)
        return bool(abs(ends[0] - ends[1]) < 1e-6)

    def _whole_bounds(
        self, relevant: Sequence[int]
    ) -> tuple[dict[int, float], dict[int, float]]:
        hidden, values, touching = self.hidden, self.values, self.touching
        low: dict[int, float] = {n: self.bands.get(n, (0, 0))[0] for n in hidden}
        high: dict[int, float] = {
            n: self.bands.get(n, (0, math.inf))[1] for n in hidden
        }
        changed = set(relevant)

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
                if index >= len(self.sums):
                    part, whole = self.pairs[index - len(self.sums)]
                    gap = self._gap(index - len(self.sums))
                    if whole in hidden:
                        most = bounds(part)[1]
                        if math.inf not in (most, gap):
                            tighten(whole, bounds(part)[0], most + gap)
                        tighten(whole, bounds(part)[0], math.inf)
                    if part in hidden:
                        least = bounds(whole)[0] - gap if gap != math.inf else 0
                        tighten(part, least, bounds(whole)[1])
                    continue
                group = self.sums[index]
                parts = [bounds(part) for part in group.parts]
                parts_low = sum(b[0] for b in parts)
                parts_high = sum(b[1] for b in parts)
                total_low, total_high = bounds(group.total)
                exact = self.exact[index]
                at_least = group.at_least and not exact
                if group.total in hidden:
                    if exact:
                        tighten(group.total, parts_low, parts_high)
                    elif at_least:
                        tighten(group.total, parts_low, math.inf)
                    else:
                        tighten(
                            group.total,
                            max((b[0] for b in parts), default=0),
                            parts_high,
                        )
                    total_low, total_high = bounds(group.total)
                for part, (part_low, part_high) in zip(group.parts, parts, strict=True):
                    if part in hidden:
                        tighten(
                            part,
                            0 if at_least else total_low - (parts_high - part_high),
                            total_high - (parts_low - part_low)
                            if exact or at_least
                            else total_high,
                        )
        return low, high

    def _components(self, relevant: Sequence[int]) -> dict[int, int]:
        hidden = self.hidden
        parent = {cell: cell for cell in hidden}

        def root(cell: int) -> int:
            while parent[cell] != cell:
                parent[cell] = parent[parent[cell]]
                cell = parent[cell]
            return cell

        for index in relevant:
            members = [m for m in self._members(index) if m in hidden]
            first = root(members[0])
            for member in members[1:]:
                other = root(member)
                if other != first:
                    parent[other] = first
        return {cell: root(cell) for cell in hidden}

    def _loosening(self, pinned: int) -> int | None:
        hidden, values = self.hidden, self.values
        near = [self.sums[index] for index in self.containing[pinned]]
        # A slack group with a visible total bounds its parts by that total alone.
        capping = [
            group
            for index, group in zip(self.containing[pinned], near, strict=True)
            if self.slack[index] and group.total not in hidden
        ]
        opening = [group for group in near if group not in capping]
        for group in opening:
            part = self._smallest_visible(group.parts)
            if part is not None:
                return part
        for group in opening + capping:
            if (
                group.total not in hidden
                and group.total not in self.shown
                and values[group.total] > 0
            ):
                return group.total
        around = [group.total for group in near]
        around += [whole for part, whole in self.pairs if part == pinned]
        for cell in around:
            if cell not in hidden and cell not in self.shown and values[cell] == 0:
                return cell
        for group in capping:
            part = self._smallest_visible(group.parts)
            if part is not None:
                return part
        bounding = [
            (values[g.total], g.total)
            for g in self.sums
            if g.total not in hidden
            and g.total not in self.shown
            and values[g.total] > 0
            and any(p in hidden for p in g.parts)
        ]
        if bounding:
            return max(bounding)[1]
        for group in near:
            member = self._smallest_visible((group.total, *group.parts), zeros=True)
            if member is not None:
                return member
        return self._smallest_visible(range(len(values)), zeros=True)


def whole_pattern(table: PeopleTable, threshold: int) -> WholePattern:
    """The whole computation's pattern, on cells numbered as `suppressed_cells`
    numbers them."""
    return pattern_of(WholePattern, table, threshold)


def pattern_of(kind: type[P], table: PeopleTable, threshold: int) -> P:
    cells = sorted(table.values, key=repr)
    number = {cell: n for n, cell in enumerate(cells)}
    return kind(
        [table.values[cell] for cell in cells],
        [
            Sum(number[g.total], tuple(number[p] for p in g.parts), g.at_least)
            for g in table.groups
        ],
        threshold,
        {number[cell] for cell in table.left_out},
        [(number[part], number[whole]) for part, whole in table.at_most],
        {number[cell]: band for cell, band in table.bands.items()},
    )


def assert_same_pattern(table: PeopleTable, threshold: int) -> None:
    cells = sorted(table.values, key=repr)
    whole = whole_pattern(table, threshold).suppressed
    assert suppressed_cells(table, threshold, seconds=math.inf) == frozenset(
        cells[n] for n in whole
    )


@st.composite
def tables(draw: st.DrawFn) -> PeopleTable:
    """Any cells and any groups, pairs, bands and left-out rows among them, true of
    the counts or not: many connected parts that merge as the pattern grows, and
    bounds that need not settle within MAX_TIGHTENING_ROUNDS."""
    size = draw(st.integers(1, 16))
    values = {
        ("cell", n): v
        for n, v in enumerate(
            draw(st.lists(st.integers(0, 9), min_size=size, max_size=size))
        )
    }
    cells = list(values)
    groups = [
        Group(total, tuple(part for part in parts if part != total), at_least)
        for total, parts, at_least in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(cells),
                    st.lists(st.sampled_from(cells), max_size=5, unique=True),
                    st.booleans(),
                ),
                max_size=10,
            )
        )
    ]
    return _with_pairs_bands_and_left_out(draw, values, groups)


def _with_pairs_bands_and_left_out(
    draw: st.DrawFn, values: dict[Cell, int], groups: list[Group]
) -> PeopleTable:
    """The table of these cells and groups, with random pairs (one at most the
    other), standards' bands true of their cells, and cells left out."""
    cells = list(values)
    at_most = draw(
        st.lists(st.tuples(st.sampled_from(cells), st.sampled_from(cells)), max_size=6)
    )
    banded = draw(st.sets(st.sampled_from(cells), max_size=4))
    bands = {}
    for cell in banded:
        band = "below_minimum" if values[cell] < 2 else "minimum"
        bands[cell] = STANDARD_BANDS["ideal" if values[cell] > 2 else band]
    left_out = draw(st.frozensets(st.sampled_from(cells), max_size=3))
    return PeopleTable(values, tuple(groups), tuple(at_most), left_out, bands)


@st.composite
def sound_tables(draw: st.DrawFn) -> PeopleTable:
    """Tables whose every group is true of the counts, as `people_table` makes them:
    each total the sum of its parts, or at most that sum and at least each part
    (people in two parts), or at least that sum (`Group.at_least`), nested. The
    first two kinds often with people in two parts at least as often as the
    largest part holds, so their groups are slack while their total is visible."""
    values: dict[Cell, int] = {
        ("cell", n): v
        for n, v in enumerate(
            draw(st.lists(st.integers(0, 9), min_size=1, max_size=10))
        )
    }
    groups = []
    for _ in range(draw(st.integers(0, 8))):
        cells = list(values)
        parts = draw(
            st.lists(st.sampled_from(cells), min_size=1, max_size=5, unique=True)
        )
        counted = [values[part] for part in parts]
        kind = draw(st.sampled_from(["sum", "at_most", "at_most", "at_least"]))
        total = sum(counted)
        if kind == "at_most":
            # At least the largest part twice over is slack; one fewer is not.
            most = total - max(counted)
            edges = [
                n for n in (most, max(counted), max(counted) - 1) if 0 <= n <= most
            ]
            total -= draw(st.one_of(st.sampled_from(edges), st.integers(0, most)))
        elif kind == "at_least":
            total += draw(st.integers(0, 5))
        counting: Cell = ("cell", len(values))
        values[counting] = total
        groups.append(Group(counting, tuple(parts), at_least=kind == "at_least"))
    return _with_pairs_bands_and_left_out(draw, values, groups)


GENDERS = ("man", "woman", "non_binary", "not_recorded")


@st.composite
def people_in_initiatives(
    draw: st.DrawFn, initiatives: int | None = None
) -> PeopleTable:
    """An organisation's people by gender, with some in two initiatives: each
    initiative's and the organisation's people the sum of their rows, and the
    organisation's people, and each of its rows, at most the sum of the
    initiatives' (people in two are counted in each) and at least each: the groups
    `people_table` makes of them (see `_families`); of 2 or 3 initiatives unless
    told how many."""
    if initiatives is None:
        initiatives = draw(st.integers(2, 3))
    everyone = draw(
        st.lists(
            st.tuples(
                st.sets(st.integers(0, initiatives - 1), min_size=1, max_size=2),
                st.sampled_from(GENDERS),
            ),
            min_size=1,
            max_size=9,
        )
    )
    scopes: list[int | None] = [*range(initiatives), None]
    values: dict[Cell, int] = {}
    for scope in scopes:
        theirs = [gender for them, gender in everyone if scope is None or scope in them]
        values["people", scope] = len(theirs)
        for gender in GENDERS:
            values["diversity", scope, gender] = theirs.count(gender)
    groups = [
        Group(("people", scope), tuple(("diversity", scope, g) for g in GENDERS))
        for scope in scopes
    ]
    groups.append(
        Group(("people", None), tuple(("people", n) for n in range(initiatives)))
    )
    groups += [
        Group(
            ("diversity", None, gender),
            tuple(("diversity", n, gender) for n in range(initiatives)),
        )
        for gender in GENDERS
    ]
    return PeopleTable(values, tuple(groups))


@settings(max_examples=1000, deadline=None)
@given(
    table=st.one_of(tables(), sound_tables(), people_in_initiatives()),
    threshold=st.sampled_from([3, 5]),
)
def test_any_table_gets_the_whole_computations_pattern(
    table: PeopleTable, threshold: int
) -> None:
    assert_same_pattern(table, threshold)


@settings(max_examples=100, deadline=None)
@given(table=people_in_initiatives(), threshold=st.sampled_from([3, 5]))
def test_people_in_several_initiatives_leave_no_count_pinned(
    table: PeopleTable, threshold: int
) -> None:
    """Whatever an integer program makes of every count shown and every relation
    true of the counts, no suppressed count is pinned beyond what the relations
    tell with every count suppressed. Before the pattern took in the inequalities
    that no way of moving the counts can loosen (`_Pattern._implicit`), a chain of
    them over several groups at once pinned counts in about one table in ten here
    (the organisation's one non-binary person, in two initiatives: see
    `test_people_in_two_initiatives_leave_no_suppressed_count_pinned`)."""
    hidden = suppressed_cells(table, threshold, seconds=math.inf)
    for cell, value in table.values.items():
        if 0 < value < threshold:
            assert cell in hidden, f"{cell} = {value} is shown"
    knowledge = what_holds(table, hidden)
    assert beyond_design(knowledge, knowledge.told) == []


@settings(max_examples=200, deadline=None)
@given(
    tables=st.one_of(
        st.lists(sound_tables(), min_size=2, max_size=4),
        st.integers(2, 3).flatmap(
            lambda n: st.lists(people_in_initiatives(n), min_size=2, max_size=6)
        ),
    ),
    threshold=st.sampled_from([3, 5]),
)
def test_a_pattern_is_the_same_whatever_patterns_were_worked_out_before_it(
    tables: list[PeopleTable], threshold: int
) -> None:
    """What the linear programs loosened is kept from one pattern to the next, and
    so are the equations' answers (`_LOOSENED`, `_solved_kept`, `_ANSWERED`): a
    table's pattern worked out after others' (the same groups with other people,
    as after a write) is the one worked out with nothing kept."""
    after_others = [suppressed_cells(t, threshold, seconds=math.inf) for t in tables]
    for table, cells in zip(tables, after_others, strict=True):
        fourpi.projections.disclosure._LOOSENED.clear()
        fourpi.projections.disclosure._solved_kept.cache_clear()
        fourpi.projections.disclosure._ANSWERED.clear()
        assert suppressed_cells(table, threshold, seconds=math.inf) == cells


@settings(max_examples=300, deadline=None)
@given(grid=grids, threshold=st.sampled_from([3, 5, 10]))
def test_a_tables_pattern_is_the_whole_computations(
    grid: list[list[int]], threshold: int
) -> None:
    assert_same_pattern(grid_table(grid), threshold)


@settings(max_examples=200, deadline=None)
@given(initiatives=attendances, threshold=st.sampled_from([3, 5]))
def test_overlapping_counts_get_the_whole_computations_pattern(
    initiatives: list[list[list[bool]]], threshold: int
) -> None:
    assert_same_pattern(attendance_table(initiatives), threshold)


@settings(
    max_examples=int(os.environ.get("FOURPI_SUPPRESSION_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(history=histories)
def test_an_organisations_pattern_is_the_whole_computations(
    tmp_path_factory: pytest.TempPathFactory, history: dict[str, Any]
) -> None:
    folder = tmp_path_factory.mktemp("rounds")
    with api_store(f"sqlite:///{folder}/fourpi.sqlite3") as store:
        organisation, _ = record_history(store.records, history)
        position = store.views.catch_up()
        facts = store.views.store.read_facts(organisation, position)
        table = people_table(people_figures(facts, organisation))
    assert_same_pattern(table, history["threshold"])


@settings(max_examples=1000, deadline=None)
@given(table=st.one_of(tables(), sound_tables()), threshold=st.sampled_from([3, 5]))
def test_each_parts_bounds_are_those_of_tightening_every_part_at_once(
    table: PeopleTable, threshold: int
) -> None:
    """Tightening one tied part alone takes the same steps as tightening every
    suppressed cell at once, round by round, so it ends where they do even where the
    bounds have not settled by MAX_TIGHTENING_ROUNDS (relations that do not hold of
    the counts push them apart without end); the connected parts are those of every
    group and pair."""
    pattern = whole_pattern(table, threshold)
    hidden = sorted(pattern.hidden)
    relevant = sorted({i for c in hidden for i in pattern.touching[c]})
    whole = pattern._whole_bounds(relevant)
    component = pattern._components(relevant)
    pattern._join(hidden)
    connected = pattern.connected
    assert {tuple(sorted(connected.members(r))) for r in connected.roots()} == {
        tuple(c for c in hidden if component[c] == root)
        for root in set(component.values())
    }
    low: dict[int, float] = {}
    high: dict[int, float] = {}
    for cells in map(pattern.tied.members, pattern.tied.roots()):
        one_low, one_high = pattern._bounds(pattern._touching(cells), cells)
        low.update(one_low)
        high.update(one_high)
    assert (low, high) == whole


@contextmanager
def over_arrays_from(cells: int) -> Iterator[None]:
    """Tied parts of this many cells or more tightened over arrays (`AT_ONCE`)."""
    with set_for_a_while("AT_ONCE", cells):
        yield


@contextmanager
def joined_over_arrays_from(cells: int) -> Iterator[None]:
    """A solve's first round of this many cells or more joined over arrays
    (`JOINED_AT_ONCE`)."""
    with set_for_a_while("JOINED_AT_ONCE", cells):
        yield


@contextmanager
def set_for_a_while(name: str, value: int) -> Iterator[None]:
    """The disclosure module's constant of this name set to the value."""
    kept = getattr(fourpi.projections.disclosure, name)
    setattr(fourpi.projections.disclosure, name, value)
    try:
        yield
    finally:
        setattr(fourpi.projections.disclosure, name, kept)


@settings(max_examples=1000, deadline=None)
@given(table=st.one_of(tables(), sound_tables()), threshold=st.sampled_from([3, 5]))
def test_bounds_over_arrays_are_those_of_one_group_after_another(
    table: PeopleTable, threshold: int
) -> None:
    """Each tied part's bounds tightened over arrays, every group at once in each
    round, are those of tightening one group after another, wherever they settle
    within MAX_TIGHTENING_ROUNDS; where they do not, none are given (and the part
    is tightened one group after another). A table true of its counts settles."""
    pattern = whole_pattern(table, threshold)
    pattern._join(sorted(pattern.hidden))
    for cells in map(pattern.tied.members, pattern.tied.roots()):
        cells.sort()
        relevant = pattern._touching(cells)
        with np.errstate(invalid="ignore"):
            at_once = pattern._bounds_at_once(relevant, cells)
        with over_arrays_from(len(pattern.values) + 1):
            one_by_one = pattern._bounds(relevant, cells)
        if pattern.sound:
            assert at_once is not None
        if at_once is not None:
            assert at_once == one_by_one


@pytest.mark.parametrize(
    "over_arrays",
    [
        pytest.param(lambda: over_arrays_from(1), id="bounds"),
        pytest.param(lambda: joined_over_arrays_from(1), id="first-round-joined"),
    ],
)
@settings(max_examples=500, deadline=None)
@given(table=st.one_of(tables(), sound_tables()), threshold=st.sampled_from([3, 5]))
def test_any_tables_pattern_with_bounds_or_first_round_joined_over_arrays_is_the_whole_computations(
    over_arrays: Callable[[], AbstractContextManager[None]],
    table: PeopleTable,
    threshold: int,
) -> None:
    with over_arrays():
        assert_same_pattern(table, threshold)


@settings(max_examples=1000, deadline=None)
@given(table=st.one_of(tables(), sound_tables()), threshold=st.sampled_from([3, 5]))
def test_a_cell_tied_to_no_other_has_the_bounds_the_rounds_settle_at(
    table: PeopleTable, threshold: int
) -> None:
    """A suppressed cell held once by each of its groups and pairs, with no other
    member suppressed but a slack group's parts, gets from one look at each the
    bounds that tightening its tied part round by round gives it."""
    pattern = whole_pattern(table, threshold)
    for cell in sorted(pattern.hidden):
        alone = pattern._bounds_alone(cell)
        if alone is not None:
            low, high = pattern._bounds(pattern._touching([cell]), [cell])
            assert alone == (low[cell], high[cell])


@settings(max_examples=1000, deadline=None)
@given(table=st.one_of(tables(), sound_tables()), threshold=st.sampled_from([3, 5]))
def test_the_equations_pin_a_part_of_one_cell_as_solving_them_does(
    table: PeopleTable, threshold: int
) -> None:
    pattern = whole_pattern(table, threshold)
    for cell in range(len(pattern.values)):
        equations = [
            pattern.sums[index]
            for index in pattern.containing[cell]
            if pattern.exact[index]
        ]
        assert pattern._by_equations([cell]) == _solved(equations, [cell])


def joined_round_by_round(
    pattern: _Pattern, rounds: Sequence[Sequence[int]]
) -> list[tuple[Any, ...]]:
    """What `_join` leaves after each of these rounds' cells, from none joined: the
    connected and the tied parts, those of each that took the round's cells in, and
    the cell kept for each group and pair."""
    pattern.hidden = set()
    pattern.connected, pattern.tied = _Parts(), _Parts()
    pattern.joined, pattern.pinned_by_bounds, pattern.pinned_by_equations = {}, {}, {}

    def cells_of(found: _Parts, roots: Iterable[int]) -> set[tuple[int, ...]]:
        return {tuple(sorted(found.members(root))) for root in roots}

    left = []
    for cells in rounds:
        pattern.hidden.update(cells)
        grown, tightened = pattern._join(cells)
        connected, tied = pattern.connected, pattern.tied
        left.append(
            (
                cells_of(connected, connected.roots()),
                cells_of(tied, tied.roots()),
                cells_of(connected, grown),
                cells_of(tied, tightened),
                dict(pattern.joined),
            )
        )
        for found in (connected, tied):
            # Each part's root is its own, and the root of each of its cells.
            assert all(
                found.root(cell) == root
                for root in found.roots()
                for cell in found.members(root)
            )
    return left


def parts_of(
    cells: Sequence[int], links: Sequence[Sequence[int]]
) -> set[tuple[int, ...]]:
    """The parts these cells fall into when each link joins its cells among them."""
    part = {cell: frozenset([cell]) for cell in cells}
    for link in links:
        linked = [cell for cell in link if cell in part]
        joined = frozenset().union(*(part[cell] for cell in linked))
        for cell in joined:
            part[cell] = joined
    return {tuple(sorted(cells)) for cells in part.values()}


@settings(max_examples=1000, deadline=None)
@given(
    table=st.one_of(tables(), sound_tables()),
    threshold=st.sampled_from([3, 5]),
    data=st.data(),
)
def test_parts_grown_a_few_cells_at_a_time_are_the_parts_of_all_of_them(
    table: PeopleTable, threshold: int, data: st.DataObject
) -> None:
    """Suppressed cells join the connected and tied parts a few at a time, each
    round's loosenings after the last: the parts are those of all of them at once,
    where a slack group ties its parts once its total is suppressed.

    The first round joined over arrays (its cells some twice, as a cell hidden
    twice would be) leaves the same parts, the same parts taking them in and the
    same cell kept for each group and pair as joining them one group after
    another, and so do the rounds joined after it group by group."""
    pattern = whole_pattern(table, threshold)
    hidden = data.draw(st.permutations(sorted(pattern.hidden)))
    cuts = sorted(data.draw(st.sets(st.integers(0, len(hidden)), max_size=4)))
    rounds = [
        hidden[start:end]
        for start, end in zip([0, *cuts], [*cuts, len(hidden)], strict=True)
    ]
    if rounds[0]:
        rounds[0] += data.draw(st.lists(st.sampled_from(rounds[0]), max_size=3))
    with joined_over_arrays_from(len(pattern.values) * 2 + 1):
        group_by_group = joined_round_by_round(pattern, rounds)
    with joined_over_arrays_from(1):
        assert joined_round_by_round(pattern, rounds) == group_by_group
    everything = [
        pattern._members(i) for i in range(len(pattern.sums) + len(pattern.pairs))
    ]
    ties = [
        members
        for index, members in enumerate(everything)
        if not pattern._slack_now(index)
    ]
    for found, links in ((pattern.connected, everything), (pattern.tied, ties)):
        assert {tuple(sorted(found.members(r))) for r in found.roots()} == parts_of(
            hidden, links
        )


@settings(max_examples=1000, deadline=None)
@given(table=st.one_of(tables(), sound_tables()), threshold=st.sampled_from([3, 5]))
def test_the_cells_given_away_are_those_of_looking_at_every_group_again(
    table: PeopleTable, threshold: int
) -> None:
    """Looking again only at the groups of a cell just found given away finds the
    cells that looking at every group again and again does."""
    assert pattern_of(_Pattern, table, threshold).shown == (
        whole_pattern(table, threshold).shown
    )


def test_a_meeting_pinned_by_its_initiative_opens_up_through_its_initiatives_total() -> (
    None
):
    """As at 100k events: an initiative's two decision-making meetings of 3 (each at
    least 3, as its standard tells) pin each other through its total of 6. The
    organisation's decision-making meetings bound each meeting by their visible
    total of distinct people alone, so hiding them opens nothing: the initiative's
    total is hidden next, and none of the organisation's 120 other meetings (which
    were hidden one by one, smallest first, before that total was reached)."""
    ours = [("meeting", "ours", n) for n in range(2)]
    theirs = [("meeting", "theirs", n) for n in range(120)]
    values: dict[Cell, int] = dict.fromkeys(ours, 3)
    values.update({cell: 3 + n * 7 % 9 for n, cell in enumerate(theirs)})
    values[("decision_meetings", "ours")] = 6
    values[("decision_meetings", None)] = sum(values.values()) - 6 - 40
    table = PeopleTable(
        values,
        (
            Group(("decision_meetings", None), (*ours, *theirs)),
            Group(("decision_meetings", "ours"), tuple(ours)),
        ),
        bands={cell: STANDARD_BANDS["ideal"] for cell in (*ours, *theirs)},
    )
    fourpi.projections.disclosure.CROWDED = 64
    try:
        hidden = suppressed_cells(table, 5, seconds=math.inf)
        small = {cell for cell in theirs if values[cell] < 5}
        assert hidden == {*ours, *small, ("decision_meetings", "ours")}
        assert recomputed(attack(what_holds(table, hidden))) == []
        assert_same_pattern(table, 5)
    finally:
        fourpi.projections.disclosure.CROWDED = 3
