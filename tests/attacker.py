"""An attacker on suppressed counts: from every visible figure and every relation it knows between figures, the least and most each suppressed count can be.

It knows each suppressed count is a whole number of at least 0 (a zero may be
suppressed as a secondary cell), the equalities (a total is the sum of its parts) and inequalities (a part
is at most a total) that hold between counts, and the visible value of every other
count. It solves an integer program per suppressed count for its minimum and maximum;
when they meet, the count has been recomputed.
"""

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp  # type: ignore[import-untyped]

from fourpi.projections.disclosure import PeopleTable

Cell = Hashable


@dataclass
class Knowledge:
    """What the attacker sees and knows."""

    seen: dict[Cell, int | None] = field(default_factory=dict)
    """Every count it was shown: a number, or None where suppressed."""
    equalities: list[tuple[dict[Cell, int], int]] = field(default_factory=list)
    """sum(coefficient * cell) == constant."""
    at_most: list[tuple[dict[Cell, int], int]] = field(default_factory=list)
    """sum(coefficient * cell) <= constant."""
    pending: list[tuple[Cell, tuple[Cell, ...], bool]] = field(default_factory=list)
    told: set[Cell] = field(default_factory=set)
    """Counts shown whatever is suppressed (a row left out shows a 0)."""

    def see(self, cell: Cell, value: int | None) -> None:
        earlier = self.seen.get(cell, value)
        assert earlier == value, f"{cell} was shown as {earlier} and as {value}"
        self.seen[cell] = value

    def total(self, whole: Cell, parts: Iterable[Cell]) -> None:
        terms: dict[Cell, int] = {whole: 1}
        for part in parts:
            terms[part] = terms.get(part, 0) - 1
        self.equalities.append((terms, 0))

    def not_more(self, part: Cell, whole: Cell) -> None:
        if part != whole:
            self.at_most.append(({part: 1, whole: -1}, 0))

    def weighted(self, terms: Mapping[Cell, int], constant: int) -> None:
        self.equalities.append((dict(terms), constant))

    def band(self, cell: Cell, least: int, most: int | None) -> None:
        """The count is from least to most (None: no most), whatever is shown."""
        self.at_most.append(({cell: -1}, -least))
        if most is not None:
            self.at_most.append(({cell: 1}, most))

    def adds_up(
        self, whole: Cell, parts: Iterable[Cell], *, at_least: bool = False
    ) -> None:
        """A whole and its parts, settled later against the true counts (`settle`):
        at_least, the whole is at least the parts' sum (answers against one
        dimension's scores); else at most their sum and at least each part (distinct
        people)."""
        self.pending.append((whole, tuple(parts), at_least))

    def settle(self, truth: Mapping[Cell, int | None]) -> None:
        """Each pending relation as what holds of the true counts: the sum where it
        holds (an onlooker may guess it), else what always holds."""
        for whole, parts, at_least in self.pending:
            if truth.get(whole, 0) == sum(truth.get(part, 0) or 0 for part in parts):
                self.total(whole, parts)
                continue
            terms: dict[Cell, int] = {whole: 1}
            for part in parts:
                terms[part] = terms.get(part, 0) - 1
            if at_least:
                self.at_most.append(({c: -v for c, v in terms.items()}, 0))
            else:
                self.at_most.append((terms, 0))
                for part in parts:
                    self.not_more(part, whole)
        self.pending.clear()


@dataclass(frozen=True)
class Finding:
    cell: Cell
    least: float
    most: float | None  # None: no upper bound; whole numbers where they must be


def attack(
    knowledge: Knowledge,
    cells: Iterable[Cell] | None = None,
    *,
    whole_numbers: bool = True,
) -> list[Finding]:
    """The range of every suppressed count (or of those of `cells`); with
    `whole_numbers` False, over counts that need not be whole numbers (a linear
    program's, not rounded), which is what the pattern sees."""
    hidden = [cell for cell, value in knowledge.seen.items() if value is None]
    if not hidden:
        return []
    asked = hidden if cells is None else [c for c in cells if c in set(hidden)]
    index = {cell: i for i, cell in enumerate(hidden)}
    rows: list[np.ndarray] = []
    lower: list[float] = []
    upper: list[float] = []

    def add(terms: Mapping[Cell, int], constant: int, equal: bool) -> None:
        row = np.zeros(len(hidden))
        rest = constant
        for cell, coefficient in terms.items():
            value = knowledge.seen.get(cell, 0)  # a count never shown is 0
            if value is None:
                row[index[cell]] += coefficient
            else:
                rest -= coefficient * value
        if not row.any():
            assert (rest == 0) if equal else (rest >= 0), (
                f"the attacker's knowledge contradicts what it was shown: {terms}"
            )
            return
        rows.append(row)
        lower.append(rest if equal else -np.inf)
        upper.append(rest)

    for terms, constant in knowledge.equalities:
        add(terms, constant, equal=True)
    for terms, constant in knowledge.at_most:
        add(terms, constant, equal=False)
    constraints = (
        [LinearConstraint(np.array(rows), np.array(lower), np.array(upper))]
        if rows
        else []
    )
    integrality = np.full(len(hidden), 1 if whole_numbers else 0)
    bounds = Bounds(np.zeros(len(hidden)), np.full(len(hidden), np.inf))
    findings = []
    for cell in asked:
        objective = np.zeros(len(hidden))
        objective[index[cell]] = 1.0
        least = _solve(objective, constraints, integrality, bounds)
        # With whole numbers, HiGHS has answered a maximum of 0 for a count that the
        # true counts put at 3 where the maximum is unbounded: found by the attack
        # test's histories with people in two initiatives. A count unbounded without
        # whole numbers is unbounded with them (the true counts are whole numbers
        # and fit), so that is asked first.
        most = _solve(-objective, constraints, np.zeros(len(hidden)), bounds)
        if most is not None and whole_numbers:
            most = _solve(-objective, constraints, integrality, bounds)
        assert least is not None, f"no count fits what was shown (at {cell})"
        if whole_numbers:
            findings.append(
                Finding(cell, round(least), None if most is None else round(-most))
            )
        else:
            findings.append(Finding(cell, least, None if most is None else -most))
    return findings


def _solve(
    objective: np.ndarray,
    constraints: Sequence[LinearConstraint],
    integrality: np.ndarray,
    bounds: Bounds,
) -> float | None:
    """The least of the objective, or None where it is unbounded below.

    HiGHS's presolve has answered wrongly: with whole numbers, a least above one
    the true counts reach (the seed-9 history: 2 for a count of 1, where without
    presolve it answers 0); without them, "infeasible" for a most (seed 2, at 60
    examples) where the true counts fit. So each is asked with and without
    presolve, each answer's counts are checked against every relation, and the
    lower of those that fit is taken: a least is never below what some counts that
    fit give, so a solver's error can only make a count look less narrowed, never
    more."""
    answers = []
    for presolve in (True, False):
        result = milp(
            objective,
            constraints=constraints,
            integrality=integrality,
            bounds=bounds,
            options={"presolve": presolve},
        )
        if result.status == 3 or "unbounded" in str(result.message):
            # Minimising a count bounded below by 0 is never unbounded, so after a
            # feasible minimum "infeasible or unbounded" can only mean unbounded.
            return None
        if result.status == 0:
            counts = np.where(integrality == 1, np.round(result.x), result.x)
            if _fits(counts, constraints):
                answers.append(float(objective @ counts))
    if not answers:
        raise AssertionError("the solver found no counts that fit every relation")
    return min(answers)


def _fits(counts: np.ndarray, constraints: Sequence[LinearConstraint]) -> bool:
    """Whether a solver's counts fit every relation: at least 0, and every equality
    and inequality."""
    tolerance = 1e-6
    if (counts < -tolerance).any():
        return False
    for constraint in constraints:
        values = constraint.A @ counts
        if (values < constraint.lb - tolerance).any():
            return False
        if (values > constraint.ub + tolerance).any():
            return False
    return True


def recomputed(findings: Iterable[Finding]) -> list[Finding]:
    """The suppressed counts the attacker pinned to one value."""
    return [f for f in findings if f.most is not None and f.most - f.least < 1e-6]


def beyond_design(
    knowledge: Knowledge, told: Iterable[Cell] = (), *, whole_numbers: bool = True
) -> list[Finding]:
    """The suppressed counts the attacker pinned to one value that the answers do
    not tell by design: those still pinned with every count suppressed but those in
    `told` (known whatever is suppressed: a row left out shows a 0) are told by the
    relations and bands alone (a meeting whose standard is minimum had 2)."""
    pinned = recomputed(attack(knowledge, whole_numbers=whole_numbers))
    if not pinned:
        return []
    told = set(told)
    design = Knowledge(
        seen={
            cell: value if cell in told else None
            for cell, value in knowledge.seen.items()
        },
        equalities=knowledge.equalities,
        at_most=knowledge.at_most,
    )
    by_design = told | {
        f.cell
        for f in recomputed(
            attack(design, [f.cell for f in pinned], whole_numbers=whole_numbers)
        )
    }
    return [f for f in pinned if f.cell not in by_design]


def what_holds(table: PeopleTable, hidden: frozenset[Cell]) -> Knowledge:
    """Every count shown (and those known whatever is shown: rows left out, bands
    of one value), and every relation of the table true of the counts: a
    group's sum where it holds, else at least the sum (`Group.at_least`) or at most
    it and at least each part; each pair where the part is no larger; each band."""
    knowledge = Knowledge()
    values = table.values
    knowledge.told.update(table.left_out)
    knowledge.told.update(
        cell for cell, (least, most) in table.bands.items() if least == most
    )
    for cell, value in values.items():
        shown = cell in knowledge.told or cell not in hidden
        knowledge.see(cell, value if shown else None)
    for group in table.groups:
        counted = sum(values[part] for part in group.parts)
        if values[group.total] == counted:
            knowledge.total(group.total, group.parts)
            continue
        terms: dict[Cell, int] = {group.total: 1}
        for part in group.parts:
            terms[part] = terms.get(part, 0) - 1
        if group.at_least:
            knowledge.at_most.append(({c: -n for c, n in terms.items()}, 0))
            continue
        knowledge.at_most.append((terms, 0))
        for part in group.parts:
            knowledge.not_more(part, group.total)
    for part, whole in table.at_most:
        if values[part] <= values[whole]:
            knowledge.not_more(part, whole)
    for cell, (least, most) in table.bands.items():
        knowledge.band(cell, least, most)
    return knowledge
