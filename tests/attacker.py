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


@dataclass(frozen=True)
class Finding:
    cell: Cell
    least: int
    most: int | None  # None: no upper bound


def attack(knowledge: Knowledge) -> list[Finding]:
    """The range of every suppressed count that appears in some relation."""
    hidden = [cell for cell, value in knowledge.seen.items() if value is None]
    if not hidden:
        return []
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
    integrality = np.ones(len(hidden))
    bounds = Bounds(np.zeros(len(hidden)), np.full(len(hidden), np.inf))
    findings = []
    for cell in hidden:
        objective = np.zeros(len(hidden))
        objective[index[cell]] = 1.0
        least = _solve(objective, constraints, integrality, bounds)
        most = _solve(-objective, constraints, integrality, bounds)
        assert least is not None, f"no count fits what was shown (at {cell})"
        findings.append(
            Finding(cell, round(least), None if most is None else round(-most))
        )
    return findings


def _solve(
    objective: np.ndarray,
    constraints: Sequence[LinearConstraint],
    integrality: np.ndarray,
    bounds: Bounds,
) -> float | None:
    result = milp(
        objective, constraints=constraints, integrality=integrality, bounds=bounds
    )
    if result.status == 0:
        return float(result.fun)
    if result.status == 3 or "unbounded" in str(result.message):
        # Minimising a count bounded below by 0 is never unbounded, so after a
        # feasible minimum "infeasible or unbounded" can only mean unbounded.
        return None
    raise AssertionError(f"the solver failed: {result.message}")


def recomputed(findings: Iterable[Finding]) -> list[Finding]:
    """The suppressed counts the attacker pinned to one value."""
    return [f for f in findings if f.most is not None and f.least == f.most]
