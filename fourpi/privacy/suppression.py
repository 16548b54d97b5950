"""How an answer's counts of people are shown to the caller: exact with the personal-data grant, else with small numbers suppressed (see fourpi.projections.disclosure)."""

import asyncio
import threading
import weakref
from uuid import UUID

from fourpi.collection import collection_paused
from fourpi.memo import Memo
from fourpi.privacy.visibility import Asking as FourPIInfo
from fourpi.privacy.visibility import (
    log_head,
    may_read_personal_data,
    reads_records_without_grant,
)
from fourpi.projections.answers import ImpactReport
from fourpi.projections.disclosure import (
    EXACT,
    Cell,
    Disclosure,
    KeptTable,
    PeopleTable,
    SuppressionPattern,
    kept_people_table,
    suppression_pattern,
)
from fourpi.projections.evaluate import (
    FIGURES_READ,
    PEOPLE_TABLES,
    KeptFigures,
    kept_people_figures,
)
from fourpi.projections.schema import Facts
from fourpi.projections.views import ImpactViews, LastWorkedOut
from fourpi.threads import in_thread

PATTERNS_KEPT = 32
TABLES_KEPT = 8
"""Tables of counts kept to compare the next with: one per organisation and
threshold, as many as the facts cache keeps organisations (a 100k-event
organisation's is some 80,000 counts)."""


class Patterns:
    """The suppression patterns one process has computed, by organisation, log
    position and threshold: the same facts always give the same pattern.

    Most writes change no count of people (a person registered before they take part,
    a meeting's papers, a payment, an outcome's assessment). The pattern is a
    deterministic function of the table of counts and the threshold alone, so when
    the table at a new position is the table the last pattern was worked out from, in
    every value, group, pair, band and left-out row and in the order of each, that
    pattern is the pattern a full computation would give, and it is taken as it is.
    A write that does change counts (a role, a declaration) mostly changes a few
    values of the same table: then only the parts of the pattern those values bear
    on are worked out again (see `suppression_pattern`).
    """

    def __init__(self, views: ImpactViews) -> None:
        self.views = views
        self.memo: Memo[frozenset[Cell]] = Memo(PATTERNS_KEPT)
        self.thresholds: Memo[int] = Memo(PATTERNS_KEPT)
        self.latest: LastWorkedOut[SuppressionPattern] = LastWorkedOut(
            views.cache, PEOPLE_TABLES, TABLES_KEPT
        )
        """The last pattern worked out for each organisation and threshold, with
        what it keeps of its table."""
        self.tables: LastWorkedOut[tuple[KeptFigures, KeptTable]] = LastWorkedOut(
            views.cache, FIGURES_READ, TABLES_KEPT
        )
        """The last figures about people and table of counts worked out for each
        organisation and latest erasure."""
        self.lock = threading.Lock()
        self.reused = 0
        """Patterns taken from the last table, as it was the same."""
        self.solved_in_part = 0
        """Patterns worked out again only where the values changed."""

    def threshold(self, organisation_id: UUID, head: int) -> int:
        """The organisation's threshold with the log at `head`: its record can only
        change by an event, so it is read once per head."""
        return self.thresholds.get(
            (organisation_id, head),
            lambda: (
                self.views.records.organisation(organisation_id).suppression_threshold
            ),
        )

    def of(
        self, organisation_id: UUID, position: int, threshold: int
    ) -> frozenset[Cell]:
        def worked_out(last: SuppressionPattern | None) -> SuppressionPattern:
            facts = self.views.cache.facts(organisation_id, position)
            with collection_paused():
                kept = self.kept_table(organisation_id, position, facts)
                pattern = suppression_pattern(
                    kept.table, threshold, last=last, changed=kept.changed
                )
            if last is not None and pattern.solved is not None:
                with self.lock:
                    if pattern.solved is last.solved:
                        self.reused += 1
                    elif pattern.in_part:
                        self.solved_in_part += 1
            return pattern

        def computed() -> frozenset[Cell]:
            pattern, moved = self.latest.get(
                (organisation_id, threshold), organisation_id, position, worked_out
            )
            if moved:
                # Nothing recorded between counts anyone: the same table.
                with self.lock:
                    self.reused += 1
            return pattern.cells

        return self.memo.get((organisation_id, position, threshold), computed)

    def kept_table(
        self, organisation_id: UUID, position: int, facts: Facts
    ) -> KeptTable:
        """The organisation's table of counts at the position (`facts`): the last
        one kept where no row recorded between changes a figure about people; else
        from the last figures and table kept, with only what the rows recorded since
        touch worked out again, when they are from an earlier position; else from
        nothing. They are kept by the organisation's latest erasure too: one deletes
        rows at every position, so what was kept before it is never taken again."""
        erasure = self.views.store.last_erasure(organisation_id)

        def worked_out(
            last: tuple[KeptFigures, KeptTable] | None,
        ) -> tuple[KeptFigures, KeptTable]:
            if last is None or last[0].position > position:
                figures = kept_people_figures(facts, organisation_id, position)
                return figures, kept_people_table(figures.figures)
            new = self.views.cache.between(
                organisation_id, last[0].position, position, erasure
            )
            figures = kept_people_figures(
                facts, organisation_id, position, last[0], new
            )
            return figures, kept_people_table(figures.figures, last[1])

        if position < erasure:
            # The views at a position before the latest erasure: what is kept is
            # only ever worked out after it.
            return worked_out(None)[1]
        (_, table), _ = self.tables.get(
            (organisation_id, erasure), organisation_id, position, worked_out, erasure
        )
        return table


def same_table(one: PeopleTable, other: PeopleTable) -> bool:
    """Whether two tables are the same input to `suppressed_cells`: equal, and every
    collection in the same order (so nothing, not even a tie, can come out another way)."""
    return (
        one == other
        and list(one.values) == list(other.values)
        and list(one.bands) == list(other.bands)
        and list(one.left_out) == list(other.left_out)
    )


_PATTERNS: "weakref.WeakKeyDictionary[ImpactViews, Patterns]" = (
    weakref.WeakKeyDictionary()
)
_PATTERNS_LOCK = threading.Lock()


def patterns_of(views: ImpactViews) -> Patterns:
    with _PATTERNS_LOCK:
        patterns = _PATTERNS.get(views)
        if patterns is None:
            patterns = _PATTERNS[views] = Patterns(views)
        return patterns


def count_shown(count: int, threshold: int) -> int | None:
    """A count of people, alone on a page read without the personal-data grant (a
    contributor's own page): None from 1 to below the organisation's threshold,
    where the small-number rule hides it; 0 and counts from the threshold up as
    they are."""
    return None if 0 < count < threshold else count


def _disclosure(
    info: FourPIInfo, report: ImpactReport, live: bool, head: int
) -> Disclosure:
    """How a caller without the personal-data grant sees the report's counts."""
    chosen = report.slice
    narrowed = chosen.period_from is not None or chosen.period_to is not None
    if not live or narrowed or chosen.cycle is not None:
        return Disclosure(exact=False, withheld=True, past=not live)
    organisation_id = chosen.organisation_id
    patterns = patterns_of(info.context.views)
    threshold = patterns.threshold(organisation_id, head)
    hidden = patterns.of(organisation_id, report.position, threshold)
    return Disclosure(
        exact=False,
        hidden=hidden,
        by_monitoring_withheld=reads_records_without_grant(info),
    )


async def disclosure_for(
    info: FourPIInfo, report: ImpactReport, *, live: bool
) -> Disclosure:
    """How this caller sees the report's counts of people, worked out once per
    request however many answers show them. live: the report is of the record as it
    stands now (no asOf)."""
    if may_read_personal_data(info):
        return EXACT
    head = await log_head(info)
    key = (report.slice, report.position, live)
    pending = info.context.disclosures.get(key)
    if pending is None:
        pending = asyncio.ensure_future(
            in_thread(_disclosure, info, report, live, head)
        )
        info.context.disclosures[key] = pending
    return await pending
