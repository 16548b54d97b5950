"""A suppression pattern worked out again only where a table's values changed (`suppression_pattern` given the last pattern) is exactly the pattern of solving the whole table afresh, after any sequence of changes."""

import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

import fourpi.projections.disclosure
from fourpi.projections.disclosure import (
    STANDARD_BANDS,
    Cell,
    Group,
    PeopleTable,
    SuppressionPattern,
    suppressed_cells,
    suppression_pattern,
)
from tests.test_pattern_rounds import joined_over_arrays_from, over_arrays_from, tables
from tests.test_suppression import attendance_table, grid_table


@pytest.fixture(autouse=True, scope="module")
def crowded_from_three_parts() -> Iterator[None]:
    """Groups of three parts or more kept as crowds (`_Crowd`), fewer scanned, so
    the small tables drawn here go both ways, solved whole and in part."""
    kept = fourpi.projections.disclosure.CROWDED
    fourpi.projections.disclosure.CROWDED = 3
    yield
    fourpi.projections.disclosure.CROWDED = kept


def assert_again_is_afresh(
    table: PeopleTable, threshold: int, last: SuppressionPattern
) -> SuppressionPattern:
    now = suppression_pattern(table, threshold, seconds=math.inf, last=last)
    assert now.cells == suppressed_cells(table, threshold, seconds=math.inf)
    assert_kept_as_afresh(now)
    if currently_in_test_context():
        event("worked out again in part" if now.in_part else "the same or afresh")
    return now


def assert_kept_as_afresh(pattern: SuppressionPattern) -> None:
    """What a pattern keeps for the next one is what its own table gives: its
    suppressed cells are those hidden and the small ones (worked out again, only
    where they may have moved), the cells of each connected part are those the
    part of each cell names, and each crowd's parts not shown are in the order of
    their values now."""
    solved = pattern.solved
    if solved is None:
        return
    assert solved.suppressed == solved.hidden | solved.small
    cells_of: dict[int, set[int]] = {}
    for cell, root in solved.part.items():
        cells_of.setdefault(root, set()).add(cell)
    assert {root: set(cells) for root, cells in solved.members.items()} == cells_of
    for index, ordered in solved.ordered.items():
        parts = dict.fromkeys(solved.sums[index].parts)
        values = solved.values
        assert ordered == sorted(
            ((values[p], p) for p in parts if p not in solved.shown), reverse=True
        )


# A table true of its counts, built from a recipe and the values of its first cells
# (the people): each further cell the total of a group of earlier cells, exactly
# their sum, at most their sum and at least the largest (people in two parts), or
# at least their sum. Changing the people changes the totals but not the groups.
def recipes_of(people: int, groups: int) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.integers(1, people).flatmap(
        lambda count: st.tuples(
            st.just(count),
            st.lists(
                st.tuples(
                    st.lists(st.integers(0, 10_000), min_size=1, max_size=5),
                    st.sampled_from(["sum", "at_most", "at_most", "at_least"]),
                    st.integers(0, 9),
                ),
                max_size=groups,
            ),
            st.lists(
                st.tuples(st.integers(0, 10_000), st.integers(0, 10_000)), max_size=6
            ),
            st.sets(st.integers(0, 10_000), max_size=4),
            st.sets(st.integers(0, 10_000), max_size=3),
        )
    )


# Small tables, and larger ones of many parts, where a part solved again more
# often reaches a part kept.
recipes = st.one_of(recipes_of(8, 8), recipes_of(40, 30))


def recipe_table(recipe: tuple[Any, ...], people: list[int]) -> PeopleTable:
    _, made, pairs, banded, left_out = recipe
    values: dict[Cell, int] = {("cell", n): v for n, v in enumerate(people)}
    groups = []
    for picks, kind, slack in made:
        cells = list(values)
        parts = tuple(dict.fromkeys(cells[pick % len(cells)] for pick in picks))
        counted = [values[part] for part in parts]
        total = sum(counted)
        if kind == "at_most":
            total -= min(slack, total - max(counted))
        elif kind == "at_least":
            total += slack
        counting: Cell = ("cell", len(values))
        values[counting] = total
        groups.append(Group(counting, parts, at_least=kind == "at_least"))
    cells = list(values)
    bands = {}
    for pick in sorted(banded):
        cell = cells[pick % len(cells)]
        value = values[cell]
        band = "ideal" if value > 2 else "minimum" if value == 2 else "below_minimum"
        bands[cell] = STANDARD_BANDS[band]
    return PeopleTable(
        values,
        tuple(groups),
        tuple((cells[p % len(cells)], cells[w % len(cells)]) for p, w in pairs),
        frozenset(cells[pick % len(cells)] for pick in left_out),
        bands,
    )


def people_of(count: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(0, 9), min_size=count, max_size=count)


@settings(max_examples=500, deadline=None)
@given(recipe=recipes, threshold=st.sampled_from([3, 5]), data=st.data())
def test_a_sound_table_changed_again_and_again_gets_the_fresh_pattern(
    recipe: tuple[Any, ...], threshold: int, data: st.DataObject
) -> None:
    people = data.draw(people_of(recipe[0]))
    last = suppression_pattern(recipe_table(recipe, people), threshold)
    for _ in range(data.draw(st.integers(1, 5))):
        changed = data.draw(
            st.dictionaries(
                st.integers(0, len(people) - 1), st.integers(0, 9), max_size=3
            )
        )
        people = [changed.get(n, v) for n, v in enumerate(people)]
        last = assert_again_is_afresh(recipe_table(recipe, people), threshold, last)


def changed_again_and_again(
    table: PeopleTable, threshold: int, data: st.DataObject
) -> Iterator[SuppressionPattern]:
    """The patterns of a table changed a few times, each worked out from the last
    and found to be the fresh pattern."""
    last = suppression_pattern(table, threshold)
    for _ in range(data.draw(st.integers(1, 5))):
        changed = data.draw(
            st.dictionaries(st.sampled_from(list(table.values)), st.integers(0, 9))
        )
        table = replace(table, values={**table.values, **changed})
        last = assert_again_is_afresh(table, threshold, last)
        yield last


@settings(max_examples=500, deadline=None)
@given(table=tables(), threshold=st.sampled_from([3, 5]), data=st.data())
def test_any_table_changed_again_and_again_gets_the_fresh_pattern(
    table: PeopleTable, threshold: int, data: st.DataObject
) -> None:
    """Tables not true of their counts, or no longer after a change, are solved
    whole; those that stay true are solved again in part."""
    list(changed_again_and_again(table, threshold, data))


@settings(max_examples=300, deadline=None)
@given(table=tables(), threshold=st.sampled_from([3, 5]), data=st.data())
def test_a_table_changed_with_bounds_over_arrays_gets_the_fresh_pattern(
    table: PeopleTable, threshold: int, data: st.DataObject
) -> None:
    """Every tied part tightened over arrays: the values as floats that a pattern
    worked out again takes from the last, with the changed ones, are its values."""
    with over_arrays_from(1):
        for pattern in changed_again_and_again(table, threshold, data):
            floats = None if pattern.solved is None else pattern.solved.floats
            if isinstance(floats, np.ndarray):
                assert pattern.solved is not None
                assert floats.tolist() == pattern.solved.values


@settings(max_examples=300, deadline=None)
@given(table=tables(), threshold=st.sampled_from([3, 5]), data=st.data())
def test_a_table_changed_with_first_rounds_joined_over_arrays_gets_the_fresh_pattern(
    table: PeopleTable, threshold: int, data: st.DataObject
) -> None:
    """Every solve's first round joined over arrays, the parts solved again in a
    pattern worked out again too."""
    with joined_over_arrays_from(1):
        list(changed_again_and_again(table, threshold, data))


@settings(max_examples=300, deadline=None)
@given(
    grid=st.lists(st.lists(st.integers(0, 9), min_size=6, max_size=6), min_size=4),
    threshold=st.sampled_from([3, 5, 10]),
    data=st.data(),
)
def test_a_grid_changed_cell_by_cell_gets_the_fresh_pattern(
    grid: list[list[int]], threshold: int, data: st.DataObject
) -> None:
    last = suppression_pattern(grid_table(grid), threshold)
    for _ in range(data.draw(st.integers(1, 6))):
        row = data.draw(st.integers(0, len(grid) - 1))
        column = data.draw(st.integers(0, 5))
        grid[row][column] = data.draw(st.integers(0, 9))
        last = assert_again_is_afresh(grid_table(grid), threshold, last)


@settings(max_examples=300, deadline=None)
@given(
    initiatives=st.lists(
        st.lists(st.lists(st.booleans(), min_size=3, max_size=3), max_size=8),
        min_size=2,
        max_size=5,
    ),
    threshold=st.sampled_from([3, 5]),
    data=st.data(),
)
def test_attendances_changed_one_by_one_get_the_fresh_pattern(
    initiatives: list[list[list[bool]]], threshold: int, data: st.DataObject
) -> None:
    """People going to meetings, or not, one after another: counts of distinct
    people whose parts overlap."""
    last = suppression_pattern(attendance_table(initiatives), threshold)
    for _ in range(data.draw(st.integers(1, 6))):
        initiative = data.draw(st.sampled_from(initiatives))
        if initiative:
            person = data.draw(st.sampled_from(initiative))
            meeting = data.draw(st.integers(0, 2))
            person[meeting] = not person[meeting]
        last = assert_again_is_afresh(attendance_table(initiatives), threshold, last)


def side_by_side(
    grids: dict[str, list[list[int]]], *groups: tuple[Cell, tuple[Cell, ...]]
) -> PeopleTable:
    """Grids (see `grid_table`) named apart, and groups across them, each total the
    sum of its parts."""
    values: dict[Cell, int] = {}
    within = []
    for name, grid in grids.items():
        table = grid_table(grid)
        values.update({(name, *cell): v for cell, v in table.values.items()})
        within += [
            Group((name, *g.total), tuple((name, *p) for p in g.parts))
            for g in table.groups
        ]
    for total, parts in groups:
        values[total] = sum(values[part] for part in parts)
    across = [Group(total, parts) for total, parts in groups]
    return PeopleTable(values, (*within, *across))


def again_in(pattern: SuppressionPattern) -> set[Any]:
    """The names of the grids whose suppressed cells were worked out again."""
    assert pattern.in_part and pattern.solved is not None and pattern.frame
    return {pattern.frame.cells[n][0] for n in pattern.solved.solved_again}


def test_a_change_far_from_most_parts_solves_only_its_own_again() -> None:
    """Worked example: grids side by side, each its own part; a cell changed in one
    leaves the others' parts as they were, and the pattern is worked out in part."""
    left = [[1, 7, 8], [9, 6, 2], [8, 8, 8]]
    right = [[3, 9, 9], [9, 9, 9], [9, 9, 4]]
    last = suppression_pattern(side_by_side({"left": left, "right": right}), 5)
    left[2][2] = 3
    now = assert_again_is_afresh(side_by_side({"left": left, "right": right}), 5, last)
    assert again_in(now) == {"left"}


def test_a_part_solved_again_that_reaches_a_kept_part_takes_it_in() -> None:
    """Worked example: a 1 in the left grid has its row and column hide more of the
    grid, down to a cell that a group across shares with two suppressed cells of
    the right grid (a 2 and a 3, safe together). That joins the right grid's part,
    which is worked out again too; a third grid, far from both, is kept."""
    left = [[9, 9, 9], [9, 6, 9]]
    right = [[2, 3], [9, 9]]
    far = [[1, 9, 9], [9, 2, 9], [9, 9, 9]]
    across = (
        ("across",),
        (("right", "cell", 0, 0), ("right", "cell", 0, 1), ("left", "cell", 1, 1)),
    )
    grids = {"left": left, "right": right, "far": far}
    last = suppression_pattern(side_by_side(grids, across), 5)
    assert ("left", "cell", 1, 1) not in last.cells
    assert ("right", "cell", 0, 0) in last.cells
    left[0][0] = 1
    now = assert_again_is_afresh(side_by_side(grids, across), 5, last)
    assert ("left", "cell", 1, 1) in now.cells
    assert again_in(now) == {"left", "right", "across"}
