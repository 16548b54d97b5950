"""How an answer's counts of people are shown to the caller: exact with the personal-data grant, else with small numbers suppressed (see fourpi.projections.disclosure)."""

import threading
import weakref
from collections import OrderedDict
from uuid import UUID

from fourpi.graphql.calls import in_thread
from fourpi.graphql.context import FourPIInfo
from fourpi.graphql.permissions import caller_of
from fourpi.projections.answers import ImpactReport
from fourpi.projections.disclosure import (
    EXACT,
    Cell,
    Disclosure,
    people_table,
    suppressed_cells,
)
from fourpi.projections.evaluate import people_figures
from fourpi.projections.views import ImpactViews

PATTERNS_KEPT = 32

PatternKey = tuple[UUID, int, int]


class Patterns:
    """The suppression patterns one process has computed, by organisation, log
    position and threshold: the same facts always give the same pattern."""

    def __init__(self) -> None:
        self.entries: OrderedDict[PatternKey, frozenset[Cell]] = OrderedDict()
        self.lock = threading.Lock()

    def of(
        self, views: ImpactViews, organisation_id: UUID, position: int, threshold: int
    ) -> frozenset[Cell]:
        key = (organisation_id, position, threshold)
        with self.lock:
            hidden = self.entries.get(key)
            if hidden is not None:
                self.entries.move_to_end(key)
                return hidden
        facts = views.cache.facts(organisation_id, position)
        hidden = suppressed_cells(
            people_table(people_figures(facts, organisation_id)), threshold
        )
        with self.lock:
            self.entries[key] = hidden
            while len(self.entries) > PATTERNS_KEPT:
                self.entries.popitem(last=False)
        return hidden


_PATTERNS: "weakref.WeakKeyDictionary[ImpactViews, Patterns]" = (
    weakref.WeakKeyDictionary()
)
_PATTERNS_LOCK = threading.Lock()


def patterns_of(views: ImpactViews) -> Patterns:
    with _PATTERNS_LOCK:
        patterns = _PATTERNS.get(views)
        if patterns is None:
            patterns = _PATTERNS[views] = Patterns()
        return patterns


def _disclosure(info: FourPIInfo, report: ImpactReport, live: bool) -> Disclosure:
    if caller_of(info).personal_data:
        return EXACT
    organisation_id = report.slice.organisation_id
    threshold = info.context.records.organisation(organisation_id).suppression_threshold
    chosen = report.slice
    narrowed = chosen.period_from is not None or chosen.period_to is not None
    if not live or narrowed or chosen.cycle is not None:
        return Disclosure(exact=False, withheld=True, threshold=threshold)
    hidden = patterns_of(info.context.views).of(
        info.context.views, organisation_id, report.position, threshold
    )
    return Disclosure(exact=False, hidden=hidden, threshold=threshold)


async def disclosure_for(
    info: FourPIInfo, report: ImpactReport, *, live: bool
) -> Disclosure:
    """How this caller sees the report's counts of people. live: the report is of
    the record as it stands now (no asOf)."""
    if caller_of(info).personal_data:
        return EXACT
    return await in_thread(_disclosure, info, report, live)
