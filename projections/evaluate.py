"""Evaluate one organisation's facts into the answers of `answers.py`, for one slice, with exact arithmetic.

One call narrows the tables to the slice (a table the slice does not narrow is used as
it is, a part of the slice not given costs nothing), then indexes by id what the
slice's facts refer to (for a narrow slice, only that: an initiative's answers look up
only its own rows), and builds every answer from those, each table scanned once. Rows
are read by column: the projection has already typed every value (see schema.py), so
a row here is a `Fields`, and the names its values are bound to say what they hold.

The report is worked out in parts (`REPORT_PARTS`), each reading only the tables it
names, and each narrowed list and index is built when a part first asks for it. Given
the last report for the same question and the rows recorded since, a part those rows
leave as it was is taken from it as it is, and what became of each contribution
(`_Ledger`) is moved on by the rows that name it: after a write, the report costs
what the write touched rather than the organisation's size.
"""

import threading
import weakref
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import cache, cached_property, lru_cache
from operator import itemgetter
from typing import Any, Protocol
from uuid import UUID

from fourpi.domain.calendar import add_months
from fourpi.domain.vocabulary import (
    MONITORING_VALUES,
    BeyondKind,
    ChangeScope,
    CyclePhase,
    EarningsPeriod,
    ImpactArea,
    InvolvementDifference,
    InvolvementLevel,
    MonitoringCategory,
    OutcomeAssessment,
    ParticipantKind,
    PaymentKind,
    ProcessDimension,
    RespondentKind,
    ResponseOutcome,
    SupportKind,
    broad_members,
)
from fourpi.local_time import local_dates
from fourpi.projections.answers import (
    DEFAULT_PAYMENT_TARGET_DAYS,
    NOT_RECORDED,
    BeyondAnswer,
    CategoryDiversity,
    ChangeChain,
    ChangeSummary,
    ContributionLink,
    CycleView,
    DaySpread,
    DifferencesAnswer,
    DiversityRow,
    EarningsPeriodTotal,
    EarningsWatch,
    EndResultAnswer,
    ImpactReport,
    IntendedOutcomesAnswer,
    MeetingCheck,
    OutcomeStatus,
    PapersNotice,
    PolicyStatus,
    PresenceAnswer,
    PrinciplesAnswer,
    ProcessAnswer,
    ProcessExperienceAnswer,
    ScoreSummary,
    Slice,
    SupportTotal,
)
from fourpi.projections.schema import Facts

__all__ = [
    "KeptFigures",
    "PeopleFigures",
    "evaluate",
    "kept_people_figures",
    "people_figures",
]

Fields = dict[str, Any]
"""One row of the facts, its values typed by the projection as schema.py declares."""
Tables = Mapping[str, list[Fields]]
"""The facts, table by table: `Facts`, read by column."""

NOT_ASSESSED = "not_assessed"
AWAITING_RESPONSE = "awaiting_response"
VOICES = frozenset({ParticipantKind.SERVICE_USER.value, ParticipantKind.CARER.value})
ACHIEVED = frozenset(
    {OutcomeAssessment.ACHIEVED.value, OutcomeAssessment.PARTLY_ACHIEVED.value}
)
TAKEN_ON = frozenset({ResponseOutcome.ADOPTED.value, ResponseOutcome.ADAPTED.value})
CHANGED_BY_INVOLVEMENT = frozenset(
    {InvolvementDifference.SIGNIFICANT.value, InvolvementDifference.SOME.value}
)
SCORES = (1, 2, 3, 4, 5)


def _texts(row: Fields, column: str) -> tuple[str, ...]:
    """A list column, where a missing list is an empty one."""
    texts: tuple[str, ...] | None = row[column]
    return () if texts is None else texts


def _held_on() -> Callable[[Fields], date]:
    """The day a meeting is dated by: the date of held_at where the organisation works."""
    local_date_of = local_dates()
    return lambda meeting: local_date_of(meeting["held_at"])


# Small general helpers.


def _latest(rows: Iterable[Fields], column: str) -> dict[UUID, Fields]:
    """The row with the highest log position for each value of the column."""
    latest: dict[UUID, Fields] = {}
    for row in rows:
        key = row[column]
        current = latest.get(key)
        if current is None or row["position"] > current["position"]:
            latest[key] = row
    return latest


def _earliest_day(rows: Iterable[Fields], key: str, column: str) -> dict[UUID, date]:
    earliest: dict[UUID, date] = {}
    for row in rows:
        k = row[key]
        day = row[column]
        current = earliest.get(k)
        if current is None or day < current:
            earliest[k] = day
    return earliest


def _by(rows: Iterable[Fields], column: str) -> dict[UUID, Fields]:
    """Rows by their id (the last row of each id)."""
    return {row[column]: row for row in rows}


def _group(rows: Iterable[Fields], key: str, value: str) -> dict[UUID, list[UUID]]:
    grouped: dict[UUID, list[UUID]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row[value])
    return dict(grouped)


@lru_cache(maxsize=4096)
def _ratio(part: int, whole: int) -> Fraction | None:
    """part / whole, None when whole is 0. The same few ratios recur across the
    answers and, for the figures about people, across every initiative, and a Fraction
    is slow to make and never changes, so they are made once."""
    return Fraction(part, whole) if whole else None


def _in_order(keys: Iterable[str], order: Iterable[str]) -> list[str]:
    """Keys in vocabulary order, then any the vocabulary does not know, so that equal
    answers list alike."""
    present = dict.fromkeys(keys)
    ordered = [key for key in order if key in present]
    known = set(ordered)
    return ordered + [key for key in present if key not in known]


def _counts(values: Iterable[str], order: Iterable[str]) -> dict[str, int]:
    """Non-zero counts."""
    counted = Counter(values)
    return {value: counted[value] for value in _in_order(counted, order)}


@cache
def _values(vocabulary: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in vocabulary)


def _day_spread(days: Iterable[int]) -> DaySpread:
    """Count, median, nearest-rank 90th percentile and longest of whole days."""
    return _spread_of(Counter(days))


def _spread_of(counted: Mapping[int, int]) -> DaySpread:
    """The spread of whole days given how many times each occurs (see
    `_day_spread`): its cost grows with the distinct days, not the facts."""
    ordered = sorted(day for day, times in counted.items() if times)
    count = sum(counted[day] for day in ordered)
    if not count:
        return DaySpread(count=0, median=None, p90=None, longest=None)

    def nth(rank: int) -> int:
        """The value at index `rank` of the sorted values."""
        for day in ordered:
            rank -= counted[day]
            if rank < 0:
                return day
        raise IndexError(rank)

    middle = count // 2
    median = (
        Fraction(nth(middle))
        if count % 2
        else Fraction(nth(middle - 1) + nth(middle), 2)
    )
    # ceil(0.9 * n) in integers, so no float rounding can move the rank.
    rank = -(-9 * count // 10)
    return DaySpread(count=count, median=median, p90=nth(rank - 1), longest=ordered[-1])


# Cycles and reference populations: small tables, read whole.


@dataclass(frozen=True)
class _Cycle:
    initiative_id: UUID
    number: int
    phases: dict[str, Fields]

    @property
    def act(self) -> Fields:
        return self.phases[CyclePhase.ACT.value]

    def notes(self, phase: CyclePhase) -> str:
        row = self.phases.get(phase.value)
        notes: str = "" if row is None else row["notes"]
        return notes


def _cycles(rows: Iterable[Fields]) -> dict[tuple[UUID, int], _Cycle]:
    cycles: dict[tuple[UUID, int], _Cycle] = {}
    for row in rows:
        key = (row["initiative_id"], row["number"])
        if key not in cycles:
            cycles[key] = _Cycle(key[0], key[1], {})
        cycles[key].phases[row["phase"]] = row
    # A cycle exists from its Act; phases without one cannot be placed in a window.
    return {key: c for key, c in cycles.items() if CyclePhase.ACT.value in c.phases}


def _reference_shares(
    rows: Sequence[Fields],
) -> dict[UUID | None, dict[tuple[str, str], Fraction]]:
    """The current set of each scope: a revision replaces the whole set."""
    newest: dict[UUID | None, int] = {}
    for row in rows:
        scope = row["initiative_id"]
        newest[scope] = max(newest.get(scope, row["position"]), row["position"])
    shares: dict[UUID | None, dict[tuple[str, str], Fraction]] = defaultdict(dict)
    for row in rows:
        scope = row["initiative_id"]
        if row["position"] == newest[scope]:
            shares[scope][(row["category"], row["value"])] = Fraction(row["share"])
    return dict(shares)


# How a Slice narrows the facts (see the module docstring of answers.py). Each part
# of the slice that is given filters a table once; a part not given costs nothing.

Window = tuple[date, date | None]


def _cycle_windows(
    cycles: Mapping[tuple[UUID, int], _Cycle], number: int
) -> dict[UUID, Window]:
    """Each initiative's window for cycle `number`: its Act up to the next cycle's Act."""
    windows: dict[UUID, Window] = {}
    for (initiative_id, n), cycle in cycles.items():
        if n != number:
            continue
        following = cycles.get((initiative_id, number + 1))
        end = None if following is None else following.act["entered_on"]
        windows[initiative_id] = (cycle.act["entered_on"], end)
    return windows


def _in_period(slice: Slice, day: date) -> bool:
    start, end = slice.period_from, slice.period_to
    return (start is None or day >= start) and (end is None or day <= end)


@dataclass(frozen=True)
class _Narrowing:
    slice: Slice
    windows: Mapping[UUID, Window] | None

    @property
    def whole(self) -> bool:
        """The slice keeps every fact of the organisation."""
        return self.slice == Slice(self.slice.organisation_id)

    def initiative(self, initiative_id: UUID | None) -> bool:
        wanted = self.slice.initiative_id
        return wanted is None or initiative_id == wanted

    def in_window(self, initiative_id: UUID | None, day: date) -> bool:
        if self.windows is None:
            return True
        window = None if initiative_id is None else self.windows.get(initiative_id)
        if window is None:
            return False
        start, end = window
        return day >= start and (end is None or day < end)

    def of_initiative(self, rows: list[Fields]) -> list[Fields]:
        wanted = self.slice.initiative_id
        if wanted is None:
            return rows
        return [row for row in rows if row["initiative_id"] == wanted]

    def dated(
        self, rows: list[Fields], day_of: Callable[[Fields], date]
    ) -> list[Fields]:
        """Rows of an initiative in scope, dated in the period and in their initiative's
        cycle window."""
        rows = self.of_initiative(rows)
        start, end = self.slice.period_from, self.slice.period_to
        if start is not None:
            rows = [row for row in rows if day_of(row) >= start]
        if end is not None:
            rows = [row for row in rows if day_of(row) <= end]
        if self.windows is not None:
            in_window = self.in_window
            rows = [row for row in rows if in_window(row["initiative_id"], day_of(row))]
        return rows

    def active(
        self, roles: list[Fields], ended_on: Mapping[UUID, date]
    ) -> list[Fields]:
        """Roles of an initiative in scope active in the period and at some time in
        their initiative's cycle window; a role is active on every day from its start
        to its end, both included."""
        roles = self.of_initiative(roles)
        start, end = self.slice.period_from, self.slice.period_to
        if end is not None:
            roles = [row for row in roles if row["started_on"] <= end]
        if start is not None:
            roles = [
                row
                for row in roles
                if (ended := ended_on.get(row["role_id"])) is None or ended >= start
            ]
        if self.windows is not None:
            in_window = self.active_in_window
            roles = [
                row
                for row in roles
                if in_window(
                    row["initiative_id"],
                    row["started_on"],
                    ended_on.get(row["role_id"]),
                )
            ]
        return roles

    def active_in_window(
        self, initiative_id: UUID, started_on: date, ended_on: date | None
    ) -> bool:
        window = None if self.windows is None else self.windows.get(initiative_id)
        if window is None:
            return False
        window_start, window_end = window
        if window_end is None:
            return ended_on is None or ended_on >= window_start
        # A next Act on the same day leaves no time in the window to be active in.
        return (
            window_start < window_end
            and started_on < window_end
            and (ended_on is None or ended_on >= window_start)
        )

    def tagged(self, rows: list[Fields], column: str) -> list[Fields]:
        """Rows tagged with the slice's impact area in a list column."""
        area = self.slice.impact_area
        if area is None:
            return rows
        return [row for row in rows if area in _texts(row, column)]

    def of_area(self, rows: list[Fields]) -> list[Fields]:
        """Rows whose impact area is the slice's."""
        area = self.slice.impact_area
        if area is None:
            return rows
        return [row for row in rows if row["impact_area"] == area]

    def cycle(self, cycle: _Cycle) -> bool:
        number = self.slice.cycle
        area = self.slice.impact_area
        return (
            self.initiative(cycle.initiative_id)
            and (number is None or cycle.number == number)
            and (area is None or area in _texts(cycle.act, "focus_areas"))
        )


class _SlicedFacts(Protocol):
    """The facts of the slice, each list in log order (meetings by held_at). Lists
    the slice does not narrow are the facts' own lists: never change them."""

    @property
    def outcomes(self) -> list[Fields]: ...
    @property
    def assessments(self) -> dict[UUID, Fields]: ...
    @property
    def contributions(self) -> list[Fields]: ...
    @property
    def changes(self) -> list[Fields]: ...
    @property
    def answers(self) -> list[Fields]: ...
    @property
    def meetings(self) -> list[Fields]: ...
    @property
    def roles(self) -> list[Fields]: ...
    @property
    def payments(self) -> list[Fields]: ...
    @property
    def support(self) -> list[Fields]: ...


@dataclass(frozen=True)
class _Sliced:
    """The facts of the slice, every list narrowed at once (see `_SlicedFacts`)."""

    outcomes: list[Fields]
    assessments: dict[UUID, Fields]
    contributions: list[Fields]
    changes: list[Fields]
    answers: list[Fields]
    meetings: list[Fields]
    roles: list[Fields]
    payments: list[Fields]
    support: list[Fields]


class _Narrowed:
    """The facts of the slice, each list narrowed when it is first asked for, so an
    answer worked out alone reads only the tables it needs (see `REPORT_PARTS`)."""

    def __init__(self, facts: Tables, narrowing: _Narrowing) -> None:
        self.facts = facts
        self.narrowing = narrowing

    @cached_property
    def outcomes(self) -> list[Fields]:
        narrowing = self.narrowing
        return narrowing.tagged(
            narrowing.of_initiative(self.facts["intended_outcomes"]), "impact_areas"
        )

    @cached_property
    def assessments(self) -> dict[UUID, Fields]:
        wanted_outcomes = {row["outcome_id"] for row in self.outcomes}
        return _latest(
            (
                row
                for row in self.narrowing.dated(
                    self.facts["outcome_assessments"], itemgetter("assessed_on")
                )
                if row["outcome_id"] in wanted_outcomes
            ),
            "outcome_id",
        )

    @cached_property
    def contributions(self) -> list[Fields]:
        narrowing = self.narrowing
        return narrowing.tagged(
            narrowing.dated(self.facts["contributions"], itemgetter("made_on")),
            "impact_areas",
        )

    @cached_property
    def changes(self) -> list[Fields]:
        narrowing = self.narrowing
        return narrowing.of_area(
            narrowing.dated(self.facts["changes"], itemgetter("changed_on"))
        )

    @cached_property
    def answers(self) -> list[Fields]:
        return self.narrowing.dated(
            self.facts["process_answers"], itemgetter("answered_on")
        )

    @cached_property
    def meetings(self) -> list[Fields]:
        return sorted(
            self.narrowing.dated(self.facts["meetings"], _held_on()),
            key=lambda row: (row["held_at"], row["position"]),
        )

    @cached_property
    def roles(self) -> list[Fields]:
        role_ended_on = {
            row["role_id"]: row["ended_on"] for row in self.facts["role_endings"]
        }
        return self.narrowing.active(self.facts["roles"], role_ended_on)

    @cached_property
    def payments(self) -> list[Fields]:
        return self.narrowing.dated(self.facts["payments"], itemgetter("owed_on"))

    @cached_property
    def support(self) -> list[Fields]:
        return self.narrowing.dated(self.facts["support"], itemgetter("given_on"))


def _narrow(facts: Tables, narrowing: _Narrowing) -> _Sliced:
    narrowed = _Narrowed(facts, narrowing)
    return _Sliced(
        outcomes=narrowed.outcomes,
        assessments=narrowed.assessments,
        contributions=narrowed.contributions,
        changes=narrowed.changes,
        answers=narrowed.answers,
        meetings=narrowed.meetings,
        roles=narrowed.roles,
        payments=narrowed.payments,
        support=narrowed.support,
    )


# What the slice's facts refer to, looked up by id, built once so that no answer
# scans a table twice.


def _ids(
    sliced: "_SlicedFacts", table: str, column: str, whole: bool
) -> set[UUID] | None:
    """The ids the slice's rows of a table refer to in a column; None (every id) for
    the whole organisation, whose rows refer to everything, and then the table is
    not read at all: the whole organisation's papers read no roles, so a role given
    leaves them as they were (`part_tables`)."""
    return None if whole else {row[column] for row in getattr(sliced, table)}


def _kept(rows: list[Fields], column: str, ids: Container[UUID] | None) -> list[Fields]:
    """The rows whose column holds one of the ids (every row for None)."""
    if ids is None:
        return rows
    return [row for row in rows if row[column] in ids]


class _Index:
    """Each table indexed for the ids the slice's facts refer to, so that a narrow
    slice looks up only its own (whole: the slice is the whole organisation). Each
    index is built when first asked for, so an answer worked out alone reads only
    the tables it needs (see `REPORT_PARTS`).

    voices: the participants, of those looked up, who are service users or carers."""

    def __init__(
        self,
        facts: Tables,
        sliced: _SlicedFacts,
        whole: bool,
        cycles: dict[tuple[UUID, int], _Cycle] | None = None,
    ) -> None:
        self.facts = facts
        self.sliced = sliced
        self.whole = whole
        if cycles is not None:
            self.cycles = cycles

    @cached_property
    def meeting_ids(self) -> set[UUID] | None:
        return _ids(self.sliced, "meetings", "meeting_id", self.whole)

    @cached_property
    def attendees(self) -> dict[UUID, list[UUID]]:
        return _group(
            _kept(self.facts["attendance"], "meeting_id", self.meeting_ids),
            "meeting_id",
            "participant_id",
        )

    @cached_property
    def sources(self) -> dict[UUID, list[UUID]]:
        return _group(
            _kept(
                self.facts["change_sources"],
                "change_id",
                _ids(self.sliced, "changes", "change_id", self.whole),
            ),
            "change_id",
            "contribution_id",
        )

    @cached_property
    def contributions_of_slice(self) -> set[UUID] | None:
        return _ids(self.sliced, "contributions", "contribution_id", self.whole)

    @cached_property
    def contribution_ids(self) -> set[UUID] | None:
        """The contributions of the slice, and those its changes came from."""
        contributions = self.contributions_of_slice
        if contributions is None:
            return None
        return contributions.union(c for ids in self.sources.values() for c in ids)

    @cached_property
    def contributions_with_change(self) -> frozenset[UUID]:
        return frozenset(
            row["contribution_id"]
            for row in _kept(
                self.facts["change_sources"],
                "contribution_id",
                self.contributions_of_slice,
            )
        )

    @cached_property
    def sourced(self) -> frozenset[UUID]:
        """The contributions the slice's changes came from."""
        return frozenset(c for ids in self.sources.values() for c in ids)

    @cached_property
    def responses(self) -> list[Fields]:
        return _kept(self.facts["responses"], "contribution_id", self.contribution_ids)

    @cached_property
    def people(self) -> set[UUID] | None:
        """Those involved, and those at the slice's meetings."""
        people = _ids(self.sliced, "roles", "participant_id", self.whole)
        if people is not None:
            people.update(p for ids in self.attendees.values() for p in ids)
        return people

    @cached_property
    def initiatives(self) -> dict[UUID, Fields]:
        return _by(self.facts["initiatives"], "initiative_id")

    @cached_property
    def voices(self) -> frozenset[UUID]:
        participants = _by(
            _kept(self.facts["participants"], "participant_id", self.people),
            "participant_id",
        )
        return frozenset(
            participant_id
            for participant_id, row in participants.items()
            if row["participant_kind"] in VOICES
        )

    @cached_property
    def monitoring(self) -> dict[UUID, Fields]:
        return _latest(
            _kept(self.facts["monitoring"], "participant_id", self.people),
            "participant_id",
        )

    @cached_property
    def papers_sent_at(self) -> dict[UUID, datetime]:
        return {
            row["meeting_id"]: row["sent_at"]
            for row in _kept(
                self.facts["meeting_papers"], "meeting_id", self.meeting_ids
            )
        }

    @cached_property
    def reserved_meetings(self) -> frozenset[UUID]:
        return frozenset(
            row["meeting_id"]
            for row in _kept(
                self.facts["meeting_reserves"], "meeting_id", self.meeting_ids
            )
        )

    @cached_property
    def contributions(self) -> dict[UUID, Fields]:
        return _by(
            _kept(
                self.facts["contributions"], "contribution_id", self.contribution_ids
            ),
            "contribution_id",
        )

    @cached_property
    def latest_response(self) -> dict[UUID, Fields]:
        return _latest(self.responses, "contribution_id")

    @cached_property
    def first_response_on(self) -> dict[UUID, date]:
        return _earliest_day(self.responses, "contribution_id", "responded_on")

    @cached_property
    def first_feedback_on(self) -> dict[UUID, date]:
        return _earliest_day(
            _kept(self.facts["feedback"], "contribution_id", self.contribution_ids),
            "contribution_id",
            "given_on",
        )

    @cached_property
    def paid_on(self) -> dict[UUID, date]:
        return {
            row["payment_id"]: row["paid_on"]
            for row in _kept(
                self.facts["payments_made"],
                "payment_id",
                _ids(self.sliced, "payments", "payment_id", self.whole),
            )
        }

    @cached_property
    def cycles(self) -> dict[tuple[UUID, int], _Cycle]:
        return _cycles(self.facts["cycle_phases"])

    @cached_property
    def reference_shares(self) -> dict[UUID | None, dict[tuple[str, str], Fraction]]:
        return _reference_shares(self.facts["reference_shares"])


def _index(
    facts: Tables,
    sliced: _SlicedFacts,
    cycles: dict[tuple[UUID, int], _Cycle],
    whole: bool,
) -> _Index:
    return _Index(facts, sliced, whole, cycles)


# 1. What were the intended outcomes?


def _outcome_status(outcome: Fields, assessment: Fields | None) -> OutcomeStatus:
    if assessment is None:
        return OutcomeStatus(
            outcome_id=outcome["outcome_id"],
            initiative_id=outcome["initiative_id"],
            description=outcome["description"],
            impact_areas=_texts(outcome, "impact_areas"),
            assessment=None,
            involvement_difference=None,
            evidence=None,
            assessed_on=None,
        )
    return OutcomeStatus(
        outcome_id=outcome["outcome_id"],
        initiative_id=outcome["initiative_id"],
        description=outcome["description"],
        impact_areas=_texts(outcome, "impact_areas"),
        assessment=assessment["assessment"],
        involvement_difference=assessment["involvement_difference"],
        evidence=assessment["evidence"],
        assessed_on=assessment["assessed_on"],
    )


def _outcome_statuses(sliced: _SlicedFacts) -> tuple[OutcomeStatus, ...]:
    assessments = sliced.assessments
    return tuple(
        _outcome_status(row, assessments.get(row["outcome_id"]))
        for row in sliced.outcomes
    )


def _intended_outcomes(statuses: Sequence[OutcomeStatus]) -> IntendedOutcomesAnswer:
    assessed = [s.assessment or NOT_ASSESSED for s in statuses]
    achieved = sum(1 for a in assessed if a in ACHIEVED)
    return IntendedOutcomesAnswer(
        outcomes=tuple(statuses),
        by_assessment=_counts(assessed, [*_values(OutcomeAssessment), NOT_ASSESSED]),
        share_achieved=_ratio(achieved, len(statuses)),
    )


# 2. What actual differences did service users and carers make?


def _link(index: _Index, contribution: Fields) -> ContributionLink:
    contribution_id = contribution["contribution_id"]
    response = index.latest_response.get(contribution_id)
    return ContributionLink(
        contribution_id=contribution_id,
        summary=contribution["summary"],
        made_on=contribution["made_on"],
        outcome=None if response is None else response["outcome"],
        responded_on=None if response is None else response["responded_on"],
        feedback_given_on=index.first_feedback_on.get(contribution_id),
    )


def _chain(index: _Index, change: Fields, sources: list[UUID]) -> ChangeChain:
    contributions = index.contributions
    return ChangeChain(
        change_id=change["change_id"],
        initiative_id=change["initiative_id"],
        description=change["description"],
        impact_area=change["impact_area"],
        scope=change["scope"],
        beyond_kind=change["beyond_kind"],
        changed_on=change["changed_on"],
        contributions=tuple(
            [_link(index, contributions[c]) for c in sources if c in contributions]
        ),
    )


# What became of each contribution of the slice, kept from one report to the next


@dataclass(frozen=True)
class _BecameOf:
    """What the answers read of one contribution of the slice: when it was made,
    its latest response, its earliest response and feedback, and whether any
    change came from it."""

    made_on: date
    latest_response: Fields | None
    first_response_on: date | None
    first_feedback_on: date | None
    led_to_change: bool

    @property
    def outcome(self) -> str:
        response = self.latest_response
        return (None if response is None else response["outcome"]) or AWAITING_RESPONSE

    @property
    def declined(self) -> bool:
        response = self.latest_response
        return (
            response is not None
            and response["outcome"] == ResponseOutcome.DECLINED.value
        )


@dataclass(frozen=True)
class _Ledger:
    """What became of each contribution of a slice at a position, and the counts
    the answers are made of, so that after a write only the contributions it
    names are looked at again (`_extended`)."""

    position: int
    contributions: dict[UUID, _BecameOf]
    outcomes: Counter[str]
    feedback_days: Counter[int]
    response_days: Counter[int]
    led_to_change: int
    declined: int
    declines_explained: int


def _counted(ledger: _Ledger, became: _BecameOf, times: int) -> _Ledger:
    """The ledger with one contribution's part of the counts added (times 1) or
    taken away (times -1); its counters are changed in place."""
    ledger.outcomes[became.outcome] += times
    if became.first_feedback_on is not None:
        ledger.feedback_days[(became.first_feedback_on - became.made_on).days] += times
    if became.first_response_on is not None:
        ledger.response_days[(became.first_response_on - became.made_on).days] += times
    declined = became.declined
    explained = declined and bool(
        ((became.latest_response or {})["rationale"] or "").strip()
    )
    return replace(
        ledger,
        led_to_change=ledger.led_to_change + times * became.led_to_change,
        declined=ledger.declined + times * declined,
        declines_explained=ledger.declines_explained + times * explained,
    )


def _ledger(evaluation: "Evaluation", position: int) -> _Ledger:
    index = evaluation.index
    latest_response = index.latest_response
    first_response_on = index.first_response_on
    first_feedback_on = index.first_feedback_on
    with_change = index.contributions_with_change
    ledger = _Ledger(position, {}, Counter(), Counter(), Counter(), 0, 0, 0)
    for row in evaluation.sliced.contributions:
        c = row["contribution_id"]
        became = _BecameOf(
            made_on=row["made_on"],
            latest_response=latest_response.get(c),
            first_response_on=first_response_on.get(c),
            first_feedback_on=first_feedback_on.get(c),
            led_to_change=c in with_change,
        )
        ledger.contributions[c] = became
        ledger = _counted(ledger, became, 1)
    return ledger


def _extended(
    ledger: _Ledger,
    evaluation: "Evaluation",
    position: int,
    between: Mapping[str, Sequence[Fields]],
) -> _Ledger | None:
    """The ledger moved on to a later position by the rows recorded between,
    looking only at the contributions they name; None when they are not only
    new contributions, responses, feedback and sources of changes."""
    if position <= ledger.position or between.get("erasures"):
        return None
    if evaluation.slice.cycle is not None and between.get("cycle_phases"):
        return None
    narrowing = evaluation.narrowing
    became_of = dict(ledger.contributions)
    ledger = replace(
        ledger,
        position=position,
        contributions=became_of,
        outcomes=Counter(ledger.outcomes),
        feedback_days=Counter(ledger.feedback_days),
        response_days=Counter(ledger.response_days),
    )
    for row in between.get("contributions", ()):
        c = row["contribution_id"]
        if c in became_of:
            return None
        if narrowing.tagged(
            narrowing.dated([row], itemgetter("made_on")), "impact_areas"
        ):
            became_of[c] = _BecameOf(row["made_on"], None, None, None, False)
            ledger = _counted(ledger, became_of[c], 1)
    # A response, feedback or source names a contribution recorded before it.
    for table, update in (
        ("responses", _responded),
        ("feedback", _fed_back),
        ("change_sources", _led_to_change),
    ):
        for row in between.get(table, ()):
            old = became_of.get(row["contribution_id"])
            if old is None:
                continue  # not a contribution of the slice
            new = update(old, row)
            became_of[row["contribution_id"]] = new
            ledger = _counted(_counted(ledger, old, -1), new, 1)
    return ledger


def _responded(became: _BecameOf, response: Fields) -> _BecameOf:
    first: date | None = became.first_response_on
    day: date = response["responded_on"]
    latest = became.latest_response
    return replace(
        became,
        latest_response=response
        if latest is None or response["position"] > latest["position"]
        else latest,
        first_response_on=day if first is None or day < first else first,
    )


def _fed_back(became: _BecameOf, feedback: Fields) -> _BecameOf:
    first: date | None = became.first_feedback_on
    day: date = feedback["given_on"]
    return replace(
        became, first_feedback_on=day if first is None or day < first else first
    )


def _led_to_change(became: _BecameOf, _: Fields) -> _BecameOf:
    return replace(became, led_to_change=True)


def _responses_to_contributions(ledger: _Ledger) -> dict[str, Any]:
    counted = len(ledger.contributions)
    outcomes = ledger.outcomes
    return {
        "contributions": counted,
        "by_response": {
            outcome: outcomes[outcome]
            for outcome in _in_order(
                (o for o, times in outcomes.items() if times),
                [*_values(ResponseOutcome), AWAITING_RESPONSE],
            )
        },
        "share_adopted_or_adapted": _ratio(sum(outcomes[o] for o in TAKEN_ON), counted),
    }


def _traced_changes(index: _Index, sliced: _SlicedFacts) -> dict[str, Any]:
    all_sources = index.sources
    traced = [
        (row, sources)
        for row in sliced.changes
        if (sources := all_sources.get(row["change_id"]))
    ]
    return {
        "changes": tuple(_chain(index, row, sources) for row, sources in traced),
        "by_scope": _counts((row["scope"] for row, _ in traced), _values(ChangeScope)),
        "by_area": _counts(
            (row["impact_area"] for row, _ in traced), _values(ImpactArea)
        ),
        "untraced_changes": len(sliced.changes) - len(traced),
    }


# 3. How did everyone feel about the process?


def _score_summary(
    respondent_kind: str, dimension: str, scores: Sequence[int]
) -> ScoreSummary:
    distribution = dict.fromkeys(SCORES, 0)
    for score in scores:
        distribution[score] = distribution.get(score, 0) + 1
    return ScoreSummary(
        respondent_kind=respondent_kind,
        dimension=dimension,
        count=len(scores),
        mean=Fraction(sum(scores), len(scores)) if scores else None,
        distribution=distribution,
    )


def _score_order(key: tuple[str, str]) -> tuple[int, int, str, str]:
    """Respondent kinds, then dimensions, in vocabulary order; unknown ones after."""
    kinds = _values(RespondentKind)
    dimensions = _values(ProcessDimension)
    kind, dimension = key
    return (
        kinds.index(kind) if kind in kinds else len(kinds),
        dimensions.index(dimension) if dimension in dimensions else len(dimensions),
        kind,
        dimension,
    )


def _scores_by_kind(
    answers: Iterable[Fields], scores: Iterable[Fields]
) -> dict[tuple[str, str], list[int]]:
    """The scores given in the answers, by respondent kind and dimension."""
    kinds: dict[UUID, tuple[str, ...]] = {}
    for answer in answers:
        answer_id = answer["answer_id"]
        kinds[answer_id] = (*kinds.get(answer_id, ()), answer["respondent_kind"])
    grouped: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in scores:
        for kind in kinds.get(row["answer_id"], ()):
            grouped[(kind, row["dimension"])].append(row["score"])
    return grouped


def _process_experience(
    sliced: _SlicedFacts,
    scores: Mapping[tuple[str, str], list[int]],
) -> ProcessExperienceAnswer:
    """scores: those given in the slice's answers, by respondent kind and dimension."""
    return _process_experience_scored(sliced, _score_summaries(scores))


def _score_summaries(
    scores: Mapping[tuple[str, str], list[int]],
) -> tuple[ScoreSummary, ...]:
    every = [
        (kind, dimension)
        for kind in _values(RespondentKind)
        for dimension in _values(ProcessDimension)
    ]
    return tuple(
        _score_summary(kind, dimension, scores.get((kind, dimension), ()))
        for kind, dimension in sorted({*every, *scores}, key=_score_order)
    )


SCORED = frozenset({"process_answers", "process_scores", "cycle_phases", "erasures"})
"""What the summaries of the scores given in a slice's answers are worked out from
(beside the slice): rows of no other table leave them as they were."""


def _scores_kept(
    last: ProcessExperienceAnswer | None,
    between: Mapping[str, Sequence[Fields]] | None,
) -> tuple[ScoreSummary, ...] | None:
    """The last answer's summaries of the scores, when the rows recorded between
    leave them as they were (a role given or ended changes who is involved, not
    the scores given); else None."""
    if last is None or between is None or any(between.get(t) for t in SCORED):
        return None
    return last.scores


def _process_experience_scored(
    sliced: _SlicedFacts, summaries: tuple[ScoreSummary, ...]
) -> ProcessExperienceAnswer:
    """summaries: those of `_process_experience` for the slice's answers."""
    answered = {row["participant_id"] for row in sliced.answers}
    answered.discard(None)
    return _process_experience_tallied(
        summaries,
        len(sliced.answers),
        {row["participant_id"] for row in sliced.roles},
        answered,
    )


def _process_experience_tallied(
    summaries: tuple[ScoreSummary, ...],
    answers: int,
    involved: Set[UUID],
    answered: Set[UUID],
) -> ProcessExperienceAnswer:
    """answers: how many; involved: everyone with a role; answered: everyone who
    gave an answer."""
    respondents = len(answered & involved)
    return ProcessExperienceAnswer(
        scores=summaries,
        answers=answers,
        involved=len(involved),
        respondents=respondents,
        response_rate=_ratio(respondents, len(involved)),
    )


# 4 and 5. End result, and beyond the activity.


def _change_summary(index: _Index, change: Fields) -> ChangeSummary:
    return ChangeSummary(
        change_id=change["change_id"],
        initiative_id=change["initiative_id"],
        description=change["description"],
        impact_area=change["impact_area"],
        changed_on=change["changed_on"],
        contribution_ids=tuple(index.sources.get(change["change_id"], ())),
    )


def _end_result(
    index: _Index, sliced: _SlicedFacts, statuses: Sequence[OutcomeStatus]
) -> EndResultAnswer:
    differences_made = [
        s.involvement_difference for s in statuses if s.involvement_difference
    ]
    return EndResultAnswer(
        end_result_changes=tuple(
            _change_summary(index, row)
            for row in sliced.changes
            if row["scope"] == ChangeScope.END_RESULT.value
        ),
        outcomes_by_difference=_counts(
            differences_made, _values(InvolvementDifference)
        ),
        outcomes_changed_by_involvement=tuple(
            s.outcome_id
            for s in statuses
            if s.involvement_difference in CHANGED_BY_INVOLVEMENT
        ),
    )


def _beyond(index: _Index, sliced: _SlicedFacts) -> BeyondAnswer:
    grouped: dict[str, list[ChangeSummary]] = defaultdict(list)
    for row in sliced.changes:
        kind = row["beyond_kind"]
        if row["scope"] == ChangeScope.BEYOND.value and kind is not None:
            grouped[kind].append(_change_summary(index, row))
    return BeyondAnswer(
        by_kind={
            kind: tuple(grouped[kind])
            for kind in _in_order(grouped, _values(BeyondKind))
        }
    )


# Presence


def _standard(voices: int) -> str:
    if voices >= 3:
        return "ideal"
    return "minimum" if voices == 2 else "below_minimum"


def _voices_at(index: _Index, meeting_id: UUID) -> int:
    """The service users and carers who attended the meeting."""
    return len(index.voices.intersection(index.attendees.get(meeting_id, ())))


def _meets_standard(voices: int, reserve_named: bool, high_level: bool) -> bool:
    return voices >= 2 and (reserve_named or not high_level)


def _meeting_check(index: _Index, meeting: Fields) -> MeetingCheck:
    meeting_id = meeting["meeting_id"]
    voices = _voices_at(index, meeting_id)
    high_level = meeting["high_level"]
    reserve_named = meeting_id in index.reserved_meetings
    return MeetingCheck(
        meeting_id=meeting_id,
        initiative_id=meeting["initiative_id"],
        title=meeting["title"],
        held_at=meeting["held_at"],
        high_level=high_level,
        decision_making=meeting["decision_making"],
        service_users_and_carers=voices,
        reserve_named=reserve_named,
        standard=_standard(voices),
        meets_standard=_meets_standard(voices, reserve_named, high_level),
    )


def _recounted(index: _Index, check: MeetingCheck) -> MeetingCheck:
    """The check with its service users and carers counted again, after
    attendances recorded since (its row and reserve are as they were)."""
    voices = _voices_at(index, check.meeting_id)
    return replace(
        check,
        service_users_and_carers=voices,
        standard=_standard(voices),
        meets_standard=_meets_standard(voices, check.reserve_named, check.high_level),
    )


def _reference_population(
    index: _Index, slice: Slice
) -> Mapping[tuple[str, str], Fraction]:
    if (
        slice.initiative_id is not None
        and slice.initiative_id in index.reference_shares
    ):
        return index.reference_shares[slice.initiative_id]
    return index.reference_shares.get(None, {})


def _category_diversity(
    counted: Mapping[str, int],
    total: int,
    category: MonitoringCategory,
    reference: Mapping[tuple[str, str], Fraction],
) -> CategoryDiversity:
    """counted: the people counted by the value of their latest monitoring in the
    category (NOT_RECORDED: never recorded); total: every person counted."""
    column = category.value

    def row(value: str, count: int, reference_share: Fraction | None) -> DiversityRow:
        share = _ratio(count, total)
        ratio = (
            share / reference_share
            if share is not None and reference_share  # a zero share has no ratio
            else None
        )
        return DiversityRow(value, count, share, reference_share, ratio)

    rows = tuple(
        row(value, counted.get(value, 0), reference.get((column, value)))
        for value in [*_values(MONITORING_VALUES[category]), NOT_RECORDED]
    )
    broad_rows = [
        row(
            group,
            sum(counted.get(member, 0) for member in members),
            _broad_reference(reference, column, group, members),
        )
        for group, members in broad_members(category).items()
    ]
    if broad_rows:
        broad_rows.append(rows[-1])  # not recorded
    return CategoryDiversity(
        category=column, total=total, rows=rows, broad_rows=tuple(broad_rows)
    )


def _broad_reference(
    reference: Mapping[tuple[str, str], Fraction],
    column: str,
    group: str,
    members: Sequence[str],
) -> Fraction | None:
    """A broad group's reference share: as given at that level, else the sum of its
    detailed values' shares when every one is given."""
    if (column, group) in reference:
        return reference[(column, group)]
    given = [reference.get((column, member)) for member in members]
    if any(share is None for share in given):
        return None
    return sum((share for share in given if share is not None), Fraction(0))


@dataclass(frozen=True)
class _Tally:
    """Who one scope's figures about people count: the service users and carers
    with a role (`people`), by the level of its initiative, those at
    decision-making level and those at a decision-making meeting, the people
    counted by each category's declared value, everyone involved, everyone who
    answered, and how many answers. The organisation's is kept with its figures,
    so that the roles, attendances and answers recorded since are added to it
    rather than every one counted again (see `_tallied`). Never changed."""

    people: frozenset[UUID]
    levels: Mapping[str, frozenset[UUID]]
    decision_makers: frozenset[UUID]
    at_meetings: frozenset[UUID]
    declared: Mapping[str, Mapping[str, int]]
    involved: frozenset[UUID]
    answered: frozenset[UUID]
    answers: int


NOTHING_TALLIED = _Tally(
    frozenset(),
    {},
    frozenset(),
    frozenset(),
    {category.value: {} for category in MonitoringCategory},
    frozenset(),
    frozenset(),
    0,
)


def _with(kept: frozenset[UUID], added: Iterable[UUID]) -> frozenset[UUID]:
    """The kept ids and the added ones: the kept set itself when none is new."""
    more = set(added)
    return kept if more <= kept else kept | more


def _tallied(
    index: _Index,
    tally: _Tally,
    roles: Iterable[Fields],
    at_decision_meetings: Iterable[UUID],
    answers: Sequence[Fields],
) -> _Tally:
    """The tally with these roles, these attendees of decision-making meetings and
    these answers added (each person's declarations are the index's: a tally grows
    only while nobody declares anything)."""
    voices = index.voices
    initiatives = index.initiatives
    people: set[UUID] = set()
    levels: dict[str, set[UUID]] = defaultdict(set)
    decision_makers: set[UUID] = set()
    involved: set[UUID] = set()
    for role in roles:
        person = role["participant_id"]
        involved.add(person)
        if person not in voices:
            continue
        people.add(person)
        initiative = initiatives.get(role["initiative_id"])
        if initiative is not None:
            levels[initiative["level"]].add(person)
        if role["decision_making"]:
            decision_makers.add(person)
    declared = tally.declared
    newcomers = people - tally.people
    if newcomers:
        counting = {column: Counter(counted) for column, counted in declared.items()}
        monitoring = index.monitoring
        for person in newcomers:
            declaration = monitoring.get(person)
            for column, counted in counting.items():
                value = None if declaration is None else declaration[column]
                counted[NOT_RECORDED if value is None else value] += 1
        declared = counting
    answered = {row["participant_id"] for row in answers}
    answered.discard(None)
    return _Tally(
        people=_with(tally.people, people),
        levels={
            **tally.levels,
            **{
                name: _with(tally.levels.get(name, frozenset()), added)
                for name, added in levels.items()
            },
        },
        decision_makers=_with(tally.decision_makers, decision_makers),
        at_meetings=_with(tally.at_meetings, voices.intersection(at_decision_meetings)),
        declared=declared,
        involved=_with(tally.involved, involved),
        answered=_with(tally.answered, answered),
        answers=tally.answers + len(answers),
    )


def _tally(index: _Index, sliced: _SlicedFacts, answers: Sequence[Fields]) -> _Tally:
    """Who the slice's figures about people count, with these of its answers (none
    for its presence alone, which reads no answer)."""
    attendees = index.attendees
    return _tallied(
        index,
        NOTHING_TALLIED,
        sliced.roles,
        (
            person
            for meeting in sliced.meetings
            if meeting["decision_making"]
            for person in attendees.get(meeting["meeting_id"], ())
        ),
        answers,
    )


def _presence(
    index: _Index, sliced: _SlicedFacts, slice: Slice, checks: Sequence[MeetingCheck]
) -> PresenceAnswer:
    return _presence_tallied(index, _tally(index, sliced, ()), slice, checks)


def _levels_listed(index: _Index, slice: Slice) -> tuple[str, ...]:
    """The levels a presence answer lists whoever is at them: every level for the
    organisation, an initiative's own level for it. Listing only the levels someone
    is at would tell that a suppressed count is not 0."""
    if slice.initiative_id is None:
        return _values(InvolvementLevel)
    initiative = index.initiatives.get(slice.initiative_id)
    return () if initiative is None else (str(initiative["level"]),)


def _presence_tallied(
    index: _Index,
    tally: _Tally,
    slice: Slice,
    checks: Sequence[MeetingCheck],
    was: PresenceAnswer | None = None,
) -> PresenceAnswer:
    """was: the scope's last presence, whose failing meetings are these checks'
    when they are its very checks."""
    reference = _reference_population(index, slice)
    total = len(tally.people)
    meetings = tuple(checks)
    return PresenceAnswer(
        by_level={
            name: len(tally.levels.get(name, ()))
            for name in _in_order(
                [*_levels_listed(index, slice), *tally.levels],
                _values(InvolvementLevel),
            )
        },
        at_decision_making_level=len(tally.decision_makers),
        at_decision_making_meetings=len(tally.at_meetings),
        meetings=meetings,
        failing_meetings=was.failing_meetings
        if was is not None and was.meetings is meetings
        else tuple(c.meeting_id for c in meetings if not c.meets_standard),
        diversity=tuple(
            _category_diversity(
                tally.declared[category.value], total, category, reference
            )
            for category in MonitoringCategory
        ),
    )


# Process


def _papers_notice(
    index: _Index, check: MeetingCheck, local_date: Callable[[datetime], date]
) -> PapersNotice:
    sent_at = index.papers_sent_at.get(check.meeting_id)
    return PapersNotice(
        meeting_id=check.meeting_id,
        held_at=check.held_at,
        sent_at=sent_at,
        days_in_advance=None
        if sent_at is None
        else (local_date(check.held_at) - local_date(sent_at)).days,
    )


def _support_totals(rows: Iterable[Fields]) -> dict[str, SupportTotal]:
    grouped: dict[str, list[Fields]] = defaultdict(list)
    for row in rows:
        grouped[row["support_kind"]].append(row)
    return {
        kind: SupportTotal(
            records=len(grouped[kind]),
            people=sum(row["people"] for row in grouped[kind]),
            hours=sum(
                (row["hours"] for row in grouped[kind] if row["hours"] is not None),
                Decimal(0),
            ),
        )
        for kind in _in_order(grouped, _values(SupportKind))
    }


def _papers(index: _Index, checks: Sequence[MeetingCheck]) -> dict[str, Any]:
    local_date = local_dates()
    papers = tuple(_papers_notice(index, check, local_date) for check in checks)
    return {
        "papers": papers,
        "papers_spread": _day_spread(
            p.days_in_advance for p in papers if p.days_in_advance is not None
        ),
    }


def _payment_timeliness(
    index: _Index, sliced: _SlicedFacts, target_days: int
) -> dict[str, Any]:
    paid_on = index.paid_on
    payment_days = [
        (paid - row["owed_on"]).days
        for row in sliced.payments
        if (paid := paid_on.get(row["payment_id"])) is not None
    ]
    return {
        "payment_days": _day_spread(payment_days),
        "paid_within_target": _ratio(
            sum(1 for days in payment_days if days <= target_days), len(payment_days)
        ),
        "unpaid": len(sliced.payments) - len(payment_days),
    }


def _feedback_loop(ledger: _Ledger) -> dict[str, Any]:
    counted = len(ledger.contributions)
    fed_back = sum(ledger.feedback_days.values())
    return {
        "feedback_closure": _ratio(fed_back, counted),
        "feedback_days": _spread_of(ledger.feedback_days),
        "response_days": _spread_of(ledger.response_days),
        "awaiting_response": counted - sum(ledger.response_days.values()),
    }


# Principles


def _position(row: Fields) -> int:
    position: int = row["position"]
    return position


def _policy_status(facts: Tables, moment: date) -> PolicyStatus | None:
    policies = facts["policies"]
    if not policies:
        return None
    policy = max(policies, key=_position)
    # A revision restarts the clock, so only reviews of the current version count.
    reviews = [r for r in facts["policy_reviews"] if _position(r) > _position(policy)]
    adopted_on: date = policy["adopted_on"]
    last_reviewed_on: date = (
        max(reviews, key=_position)["reviewed_on"] if reviews else adopted_on
    )
    due = add_months(last_reviewed_on, policy["review_interval_months"])
    return PolicyStatus(
        version_label=policy["version_label"],
        adopted_on=adopted_on,
        last_reviewed_on=last_reviewed_on,
        review_due_on=due,
        overdue=moment > due,
        days_until_due=(due - moment).days,
    )


def _responsiveness(ledger: _Ledger) -> dict[str, Any]:
    return {
        "responsiveness": _ratio(ledger.led_to_change, len(ledger.contributions)),
        "declined": ledger.declined,
        "declines_explained": ledger.declines_explained,
        "transparency": _ratio(ledger.declines_explained, ledger.declined),
    }


# Payments and benefits


def _period_start(day: date, period: str) -> date:
    if period == EarningsPeriod.WEEK.value:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _earnings_period(
    start: date, limit: Decimal, paid: Decimal, owed_unpaid: Decimal
) -> EarningsPeriodTotal:
    crossed = paid > limit
    return EarningsPeriodTotal(
        period_start=start,
        paid=paid,
        owed_unpaid=owed_unpaid,
        headroom=limit - paid,
        crossed=crossed,
        would_cross=not crossed and paid + owed_unpaid > limit,
    )


def _payments_and_benefits(facts: Tables, slice: Slice) -> tuple[EarningsWatch, ...]:
    preferences = _latest(facts["payment_preferences"], "participant_id")
    # Only participants who gave both an earnings limit and its period are watched.
    watched: dict[UUID, tuple[Fields, Decimal, str]] = {}
    if preferences:
        for participant_id, participant in _by(
            facts["participants"], "participant_id"
        ).items():
            preference = preferences.get(participant_id)
            if preference is None:
                continue
            limit = preference["earnings_limit"]
            period = preference["earnings_period"]
            if limit is not None and period is not None:
                watched[participant_id] = (participant, limit, period)
    if not watched:
        return ()
    fee_payments = [
        row
        for row in facts["payments"]
        if row["participant_id"] in watched
        and row["payment_kind"] == PaymentKind.FEE.value
    ]
    paid_on: dict[UUID, date] = {
        row["payment_id"]: row["paid_on"]
        for row in _kept(
            facts["payments_made"],
            "payment_id",
            {row["payment_id"] for row in fee_payments},
        )
    }
    fees: dict[UUID, list[tuple[date, Decimal, bool]]] = defaultdict(list)
    for row in fee_payments:
        paid = paid_on.get(row["payment_id"])
        placed_on = row["owed_on"] if paid is None else paid
        if _in_period(slice, placed_on):
            fees[row["participant_id"]].append(
                (placed_on, row["amount"], paid is not None)
            )
    watches = []
    for participant_id, (participant, limit, period) in watched.items():
        totals: dict[date, tuple[Decimal, Decimal]] = {}
        for placed_on, amount, is_paid in fees.get(participant_id, []):
            start = _period_start(placed_on, period)
            paid_total, owed = totals.get(start, (Decimal(0), Decimal(0)))
            totals[start] = (
                (paid_total + amount, owed) if is_paid else (paid_total, owed + amount)
            )
        watches.append(
            EarningsWatch(
                participant_id=participant_id,
                pseudonym=participant["pseudonym"],
                earnings_limit=limit,
                earnings_period=period,
                periods=tuple(
                    _earnings_period(start, limit, *totals[start])
                    for start in sorted(totals)
                ),
            )
        )
    return tuple(watches)


# Cycles


def _cycle_view(index: _Index, cycle: _Cycle) -> CycleView:
    entered: dict[str, date] = {
        phase: cycle.phases[phase]["entered_on"]
        for phase in _values(CyclePhase)
        if phase in cycle.phases
    }
    learn = cycle.phases.get(CyclePhase.LEARN.value)
    planned = () if learn is None else _texts(learn, "planned_actions")
    following = index.cycles.get((cycle.initiative_id, cycle.number + 1))
    taken_up = None
    if following is not None:
        next_took_up = set(_texts(following.act, "actions_taken_up"))
        taken_up = tuple(action for action in planned if action in next_took_up)
    return CycleView(
        initiative_id=cycle.initiative_id,
        number=cycle.number,
        phase=list(entered)[-1],
        focus_areas=_texts(cycle.act, "focus_areas"),
        entered=entered,
        findings=cycle.notes(CyclePhase.EVALUATE),
        reflections=cycle.notes(CyclePhase.REFLECT),
        lessons=cycle.notes(CyclePhase.LEARN),
        planned_actions=planned,
        actions_taken_up=_texts(cycle.act, "actions_taken_up"),
        taken_up_by_next=taken_up,
    )


def _cycle_views(index: _Index, narrowing: _Narrowing) -> tuple[CycleView, ...]:
    kept = [c for c in index.cycles.values() if narrowing.cycle(c)]
    kept.sort(key=lambda c: _position(c.act))
    return tuple(_cycle_view(index, c) for c in kept)


# What a report reads, so that rows recorded since one report was evaluated can be
# seen to leave it as it was (see `leaves_as_it_was`).

REPORT_TABLES = frozenset(
    {
        "attendance",
        "change_sources",
        "changes",
        "contributions",
        "cycle_phases",
        "erasures",
        "feedback",
        "initiatives",
        "intended_outcomes",
        "meeting_papers",
        "meeting_reserves",
        "meetings",
        "monitoring",
        "outcome_assessments",
        "participants",
        "payment_preferences",
        "payments",
        "payments_made",
        "policies",
        "policy_reviews",
        "process_answers",
        "process_scores",
        "reference_shares",
        "responses",
        "role_endings",
        "roles",
        "support",
    }
)
"""The tables `evaluate` and `people_figures` read (and erasures, which delete rows
at every position). The rest (the log, the organisation's name, contributors,
adjustments, erasure requests, notice preferences) no answer reads."""

PEOPLE_TABLES = frozenset(
    {
        "attendance",
        "erasures",
        "initiatives",
        "meetings",
        "monitoring",
        "participants",
        "process_answers",
        "process_scores",
        "reference_shares",
        "role_endings",
        "roles",
        "support",
    }
)
"""The tables whose rows can change a count of people (`people_figures` as
`fourpi.projections.disclosure.people_table` reads it): who is involved and at
what level, at which meetings, what they declared, who answered a questionnaire,
the support given, and the initiatives themselves. Outcomes, contributions,
changes, responses, payments, papers, policies and cycles count nobody."""


def leaves_as_it_was(
    new: Mapping[str, Sequence[Fields]], tables: frozenset[str]
) -> bool:
    """Whether rows recorded since a position (`new`, by table) leave what is worked
    out from `tables` exactly as it was there.

    They do when every new row is in a table not read, or is a newly registered
    participant: a participant's id is made when they are registered, so every row
    that names them (a role, an attendance, a declaration, a preference) comes after
    their registration, and while no such row is new there is nothing the newcomer
    takes part in to count. Any new row of another table read, however small, is
    taken to change the answers."""
    return not any(
        rows and name in tables and name != "participants" for name, rows in new.items()
    )


# The report, answer by answer


class Evaluation:
    """What the answers for one slice are worked out from, each piece when first
    asked for: an answer worked out alone reads only the tables it needs."""

    def __init__(
        self,
        facts: Tables,
        slice: Slice,
        moment: date,
        target_days: int,
        *,
        position: int = 0,
        last: ImpactReport | None = None,
        between: Mapping[str, Sequence[Fields]] | None = None,
    ) -> None:
        self.facts = facts
        self.slice = slice
        self.moment = moment
        self.target_days = target_days
        self.position = position
        self.last = last
        self.between = between
        windows = None
        if slice.cycle is not None:
            windows = _cycle_windows(_cycles(facts["cycle_phases"]), slice.cycle)
        self.narrowing = _Narrowing(slice, windows)
        self.sliced = _Narrowed(facts, self.narrowing)
        self.index = _Index(facts, self.sliced, self.narrowing.whole)

    @cached_property
    def statuses(self) -> tuple[OutcomeStatus, ...]:
        return _outcome_statuses(self.sliced)

    @cached_property
    def checks(self) -> tuple[MeetingCheck, ...]:
        if (
            self.narrowing.whole
            and self.last is not None
            and self.between is not None
            and leaves_as_it_was(self.between, WHOLE_CHECKS)
        ):
            # The whole organisation's checks read no roles: after a role given,
            # they are the last report's.
            return self.last.presence.meetings
        return tuple(_meeting_check(self.index, row) for row in self.sliced.meetings)

    def process_experience(self) -> ProcessExperienceAnswer:
        """The slice's process experience, with the last report's summaries of the
        scores when the rows recorded since leave them as they were."""
        kept = _scores_kept(
            None if self.last is None else self.last.process_experience, self.between
        )
        if kept is not None:
            return _process_experience_scored(self.sliced, kept)
        return _process_experience(
            self.sliced,
            _scores_by_kind(self.sliced.answers, self.facts["process_scores"]),
        )

    def changes_came_from(self, contribution_id: UUID) -> bool:
        """Whether any of the slice's changes came from the contribution."""
        if self.narrowing.whole:
            # Every change and contribution is in the slice: the ledger knows.
            became = self.ledger.contributions.get(contribution_id)
            return became is not None and became.led_to_change
        return contribution_id in self.index.sourced

    @cached_property
    def ledger(self) -> _Ledger:
        """What became of each contribution of the slice: the last report's ledger
        moved on by the rows recorded since, when it can be, else worked out from
        every fact."""
        kept = None if self.last is None else _ledger_of(self.last)
        if kept is not None and self.between is not None:
            extended = _extended(kept, self, self.position, self.between)
            if extended is not None:
                return extended
        return _ledger(self, self.position)


LEDGERS_KEPT = 64
"""Reports whose ledger is kept to be moved on: as many as the views keep last
reports (`fourpi.projections.views.LATEST_REPORTS_KEPT`)."""
_LEDGERS: OrderedDict[int, tuple["weakref.ref[ImpactReport]", _Ledger]] = OrderedDict()
_LEDGERS_LOCK = threading.Lock()


def _ledger_of(report: ImpactReport) -> _Ledger | None:
    with _LEDGERS_LOCK:
        kept = _LEDGERS.get(id(report))
    if kept is None or kept[0]() is not report or kept[1].position != report.position:
        return None
    return kept[1]


def _keep_ledger(report: ImpactReport, ledger: _Ledger) -> None:
    with _LEDGERS_LOCK:
        _LEDGERS[id(report)] = (weakref.ref(report), ledger)
        _LEDGERS.move_to_end(id(report))
        while len(_LEDGERS) > LEDGERS_KEPT:
            _LEDGERS.popitem(last=False)


@dataclass(frozen=True)
class ReportPart:
    """Some fields of the report, or of one of its answers (`answer`: "process",
    "differences"), worked out from the tables named and nothing else (beside the
    slice, the moment and the payment target, which a question fixes).

    unless_sourced: tables among those whose rows change the part only through a
    contribution that one of the slice's changes came from (a response, feedback
    or the contribution itself changes only the chains of those changes).
    narrow_only: tables among those read only for a slice narrower than the whole
    organisation (whose index looks up only the people in the slice's roles)."""

    tables: frozenset[str]
    fields: tuple[str, ...]
    work_out: Callable[[Evaluation], dict[str, Any]]
    answer: str | None = None
    unless_sourced: frozenset[str] = frozenset()
    narrow_only: frozenset[str] = frozenset()


_LOOKED_UP = frozenset({"roles", "role_endings"})
"""Who is looked up, for a narrow slice: those at its meetings and in its roles (the
whole organisation's index looks up everyone)."""
_MEETING_CHECKS = (
    frozenset({"meetings", "attendance", "meeting_reserves", "participants"})
    | _LOOKED_UP
)
WHOLE_CHECKS = frozenset(
    {"meetings", "attendance", "meeting_reserves", "participants", "erasures"}
)
"""What the whole organisation's meeting checks are worked out from."""
_CONTRIBUTION_FACTS = frozenset({"contributions", "responses", "feedback"})
_FEEDBACK_LOOP = _CONTRIBUTION_FACTS | {"changes", "change_sources"}

REPORT_PARTS: dict[str, ReportPart] = {
    "intended_outcomes": ReportPart(
        frozenset({"intended_outcomes", "outcome_assessments"}),
        ("intended_outcomes",),
        lambda e: {"intended_outcomes": _intended_outcomes(e.statuses)},
    ),
    "responses_to_contributions": ReportPart(
        _FEEDBACK_LOOP,
        ("contributions", "by_response", "share_adopted_or_adapted"),
        lambda e: _responses_to_contributions(e.ledger),
        answer="differences",
    ),
    "traced_changes": ReportPart(
        _FEEDBACK_LOOP,
        ("changes", "by_scope", "by_area", "untraced_changes"),
        lambda e: _traced_changes(e.index, e.sliced),
        answer="differences",
        unless_sourced=_CONTRIBUTION_FACTS,
    ),
    "process_experience": ReportPart(
        frozenset({"roles", "role_endings", "process_answers", "process_scores"}),
        ("process_experience",),
        lambda e: {"process_experience": e.process_experience()},
    ),
    "end_result": ReportPart(
        frozenset(
            {"intended_outcomes", "outcome_assessments", "changes", "change_sources"}
        ),
        ("end_result",),
        lambda e: {"end_result": _end_result(e.index, e.sliced, e.statuses)},
    ),
    "beyond": ReportPart(
        frozenset({"changes", "change_sources"}),
        ("beyond",),
        lambda e: {"beyond": _beyond(e.index, e.sliced)},
    ),
    "presence": ReportPart(
        _MEETING_CHECKS | {"initiatives", "monitoring", "reference_shares"},
        ("presence",),
        lambda e: {"presence": _presence(e.index, e.sliced, e.slice, e.checks)},
    ),
    "papers": ReportPart(
        _MEETING_CHECKS | {"meeting_papers"},
        ("papers", "papers_spread"),
        lambda e: _papers(e.index, e.checks),
        answer="process",
        narrow_only=_LOOKED_UP,
    ),
    "payment_timeliness": ReportPart(
        frozenset({"payments", "payments_made"}),
        ("payment_days", "paid_within_target", "unpaid"),
        lambda e: _payment_timeliness(e.index, e.sliced, e.target_days),
        answer="process",
    ),
    "feedback_loop": ReportPart(
        _FEEDBACK_LOOP,
        ("feedback_closure", "feedback_days", "response_days", "awaiting_response"),
        lambda e: _feedback_loop(e.ledger),
        answer="process",
    ),
    "support": ReportPart(
        frozenset({"support"}),
        ("support",),
        lambda e: {"support": _support_totals(e.sliced.support)},
        answer="process",
    ),
    "responsiveness": ReportPart(
        _FEEDBACK_LOOP,
        ("responsiveness", "declined", "declines_explained", "transparency"),
        lambda e: _responsiveness(e.ledger),
        answer="principles",
    ),
    "policy": ReportPart(
        frozenset({"policies", "policy_reviews"}),
        ("policy",),
        lambda e: {"policy": _policy_status(e.facts, e.moment)},
        answer="principles",
    ),
    "payments_and_benefits": ReportPart(
        frozenset({"participants", "payment_preferences", "payments", "payments_made"}),
        ("payments_and_benefits",),
        lambda e: {"payments_and_benefits": _payments_and_benefits(e.facts, e.slice)},
    ),
    "cycles": ReportPart(
        frozenset({"cycle_phases"}),
        ("cycles",),
        lambda e: {"cycles": _cycle_views(e.index, e.narrowing)},
    ),
}
"""The report in parts, each with the tables it reads (tests/test_moved_answers.py
checks that it reads no other): after a write, a part whose tables took no new row
is the last report's part as it was."""


def part_tables(name: str, slice: Slice) -> frozenset[str]:
    """The tables a part reads for a slice: a cycle's window is read from the
    cycles, an erasure deletes rows of any table, and the whole organisation reads
    none of the part's `narrow_only` (so a role given leaves its papers as they
    were)."""
    part = REPORT_PARTS[name]
    tables = part.tables | {"erasures"}
    if slice == Slice(slice.organisation_id):
        return tables - part.narrow_only
    return tables | {"cycle_phases"} if slice.cycle is not None else tables


def _left_as_it_was(
    name: str, evaluation: Evaluation, between: Mapping[str, Sequence[Fields]]
) -> bool:
    """Whether the rows recorded between two positions leave a part as it was."""
    part = REPORT_PARTS[name]
    if not leaves_as_it_was(
        between, part_tables(name, evaluation.slice) - part.unless_sourced
    ):
        return False
    if not any(between.get(table) for table in part.unless_sourced):
        return True
    # Only rows of changes and their sources, none of them new, say which
    # contributions the slice's changes came from: the same at both positions.
    return not any(
        evaluation.changes_came_from(row["contribution_id"])
        for table in part.unless_sourced
        for row in between.get(table, ())
    )


def evaluate(
    facts: Facts,
    slice: Slice,
    *,
    position: int,
    moment: date,
    target_days: int = DEFAULT_PAYMENT_TARGET_DAYS,
    last: ImpactReport | None = None,
    between: Mapping[str, Sequence[Fields]] | None = None,
) -> ImpactReport:
    """Every answer for `slice` from facts already bounded at `position`.

    last, between: the report for the same slice, moment and payment target at
    another position, and the rows recorded between that position and this one (by
    table): the parts of the report that those rows leave as they were are taken
    from it as they are (the same objects), and only the rest is worked out."""
    if last is not None and (last.slice, last.moment, last.process.target_days) != (
        slice,
        moment,
        target_days,
    ):
        last = None
    evaluation = Evaluation(
        facts,
        slice,
        moment,
        target_days,
        position=position,
        last=last,
        between=between,
    )
    answers: dict[str | None, dict[str, Any]] = {
        None: {},
        "process": {"target_days": target_days},
        "differences": {},
        "principles": {},
    }
    worked_out: set[str | None] = set()
    kept: set[str] = set()
    for name, part in REPORT_PARTS.items():
        if (
            last is not None
            and between is not None
            and _left_as_it_was(name, evaluation, between)
        ):
            answer = last if part.answer is None else getattr(last, part.answer)
            fields = {field: getattr(answer, field) for field in part.fields}
            kept.add(name)
        else:
            fields = part.work_out(evaluation)
            worked_out.add(part.answer)
        answers[part.answer].update(fields)
    for name, kind in (
        ("process", ProcessAnswer),
        ("differences", DifferencesAnswer),
        ("principles", PrinciplesAnswer),
    ):
        # An answer all of whose parts were left as they were is the last one.
        answers[None][name] = (
            kind(**answers[name])
            if last is None or name in worked_out
            else getattr(last, name)
        )
    report = ImpactReport(
        slice=slice, position=position, moment=moment, **answers[None]
    )
    ledger: _Ledger | None = evaluation.__dict__.get("ledger")
    if ledger is None and last is not None and "feedback_loop" in kept:
        # The feedback loop was left as it was: so was the ledger.
        left = _ledger_of(last)
        ledger = None if left is None else replace(left, position=position)
    if ledger is not None:
        _keep_ledger(report, ledger)
    return report


# Figures about people, for every scope at once


@dataclass(frozen=True)
class PeopleFigures:
    """The answers that count people, for one scope: the whole organisation or one
    initiative, unnarrowed by area (they have none), period or cycle. level: the
    initiative's level (None for the organisation)."""

    level: str | None
    presence: PresenceAnswer
    process_experience: ProcessExperienceAnswer
    support: dict[str, SupportTotal]


def _split(sliced: _SlicedFacts) -> dict[UUID, _Sliced]:
    """The slice's facts, initiative by initiative, in one pass over each list."""

    def by_initiative(rows: Iterable[Fields]) -> dict[UUID, list[Fields]]:
        grouped: dict[UUID, list[Fields]] = defaultdict(list)
        for row in rows:
            initiative_id = row["initiative_id"]
            if initiative_id is not None:
                grouped[initiative_id].append(row)
        return grouped

    lists = {
        name: by_initiative(getattr(sliced, name))
        for name in (
            "outcomes",
            "contributions",
            "changes",
            "answers",
            "meetings",
            "roles",
            "payments",
            "support",
        )
    }
    initiatives = {i for grouped in lists.values() for i in grouped}
    return {
        initiative_id: _Sliced(
            assessments={},  # not needed for figures about people
            **{name: grouped.get(initiative_id, []) for name, grouped in lists.items()},
        )
        for initiative_id in initiatives
    }


def people_figures(
    facts: Facts, organisation_id: UUID
) -> dict[UUID | None, PeopleFigures]:
    """The figures about people of the organisation (key None) and of each of its
    initiatives, from facts already bounded at a position: exactly what `evaluate`
    gives for a slice naming only the organisation or only that initiative."""
    return kept_people_figures(facts, organisation_id).figures


@dataclass(frozen=True)
class KeptFigures:
    """The figures about people at a position, with each initiative's facts, kept
    so that the next position's figures work out again only the initiatives the
    rows recorded between touch, and add those rows to the organisation's tally
    (see `kept_people_figures`). Never changed."""

    position: int
    figures: dict[UUID | None, PeopleFigures]
    parts: dict[UUID, _Sliced]
    index: _Index
    tally: _Tally
    """Who the organisation's figures count."""
    check_at: dict[UUID, int]
    """Where each meeting's check is among the organisation's."""


FIGURES_BY_INITIATIVE = {
    "roles": "roles",
    "meetings": "meetings",
    "process_answers": "answers",
    "support": "support",
}
"""The tables whose rows `people_figures` takes initiative by initiative, and the
list of `_Sliced` each goes to."""

FIGURES_READ = PEOPLE_TABLES | {"meeting_reserves"}
"""Every table whose rows can change a figure about people (a meeting's reserve
changes whether it meets the standard, though no count)."""


def _touched(
    new: Mapping[str, Sequence[Fields]], last: KeptFigures, sliced: _SlicedFacts
) -> set[UUID] | None:
    """The initiatives whose figures the rows recorded since the last figures
    (`new`, by table) can change; None when they can change any figure however they
    are taken (a declaration, an initiative, an erasure, a reference share, a
    reserve: the figures are then worked out from nothing).

    The organisation's figures count every role, ended or not, so an ending changes
    none; a registration brings in someone no older row names (see
    `leaves_as_it_was`), so it changes only what the new rows naming them touch."""
    touched: set[UUID | None] = set()
    for name, rows in new.items():
        if (
            not rows
            or name not in FIGURES_READ
            or name in ("participants", "role_endings")
        ):
            continue
        if name in FIGURES_BY_INITIATIVE:
            touched.update(row["initiative_id"] for row in rows)
        elif name == "attendance":
            # A meeting scheduled since is touched by its own row.
            checks = last.figures[None].presence.meetings
            touched.update(
                checks[at].initiative_id
                for row in rows
                if (at := last.check_at.get(row["meeting_id"])) is not None
            )
        elif name == "process_scores":
            answered_in = {
                row["answer_id"]: row["initiative_id"] for row in sliced.answers
            }
            touched.update(answered_in.get(row["answer_id"]) for row in rows)
        else:
            return None
    return {initiative_id for initiative_id in touched if initiative_id is not None}


class _Scores:
    """The summaries of the scores given in each scope's answers: the last ones
    where the rows recorded since (`new`) leave them as they were, else worked out
    from the scores, looked up by answer once for every scope."""

    def __init__(
        self, facts: Tables, new: Mapping[str, Sequence[Fields]] | None
    ) -> None:
        self.facts = facts
        self.new = new

    @cached_property
    def by_answer(self) -> dict[UUID, list[Fields]]:
        grouped: dict[UUID, list[Fields]] = defaultdict(list)
        for row in self.facts["process_scores"]:
            grouped[row["answer_id"]].append(row)
        return grouped

    def of(
        self, answers: list[Fields], was: PeopleFigures | None
    ) -> tuple[ScoreSummary, ...]:
        """answers: the scope's; was: its last figures (None: none kept)."""
        kept = _scores_kept(None if was is None else was.process_experience, self.new)
        if kept is not None:
            return kept
        by_answer = self.by_answer
        return _score_summaries(
            _scores_by_kind(
                answers,
                (
                    row
                    for answer_id in dict.fromkeys(row["answer_id"] for row in answers)
                    for row in by_answer.get(answer_id, ())
                ),
            )
        )


def _figures_of(
    index: _Index,
    slice: Slice,
    level: str | None,
    tally: _Tally,
    checks: Sequence[MeetingCheck],
    summaries: tuple[ScoreSummary, ...],
    support: dict[str, SupportTotal],
    was: PeopleFigures | None = None,
) -> PeopleFigures:
    """One scope's figures, from who they count (`tally`), its meetings' checks,
    the summaries of its scores and its support (was: its last figures)."""
    return PeopleFigures(
        level=level,
        presence=_presence_tallied(
            index, tally, slice, checks, None if was is None else was.presence
        ),
        process_experience=_process_experience_tallied(
            summaries, tally.answers, tally.involved, tally.answered
        ),
        support=support,
    )


def kept_people_figures(
    facts: Facts,
    organisation_id: UUID,
    position: int = 0,
    last: KeptFigures | None = None,
    new: Mapping[str, Sequence[Fields]] | None = None,
) -> KeptFigures:
    """The figures of `people_figures` at the position, kept with each initiative's
    facts. Given the last ones kept, from an earlier position, and the rows recorded
    between (`new`), only the figures of the initiatives the new rows touch are
    worked out again, and the organisation's from its tally with the new rows added;
    every other initiative's are the last ones, the same objects."""
    # Each list of the organisation's facts is made when first asked for: figures
    # grown from the last ones ask for few.
    sliced = _Narrowed(facts, _Narrowing(Slice(organisation_id), None))
    touched = (
        None
        if last is None or new is None or last.position > position
        else _touched(new, last, sliced)
    )
    if last is None or new is None or touched is None:
        return _figures_afresh(facts, organisation_id, position, sliced)
    return _figures_grown(facts, organisation_id, position, sliced, last, new, touched)


def _figures_afresh(
    facts: Facts, organisation_id: UUID, position: int, sliced: _SlicedFacts
) -> KeptFigures:
    """The figures of `kept_people_figures`, from every fact."""
    index = _people_index(facts, sliced)
    parts = _split(sliced)
    scores = _Scores(facts, None)
    # Each meeting is checked once: an initiative's checks are the organisation's of
    # its meetings, in the same order.
    checks = tuple(_meeting_check(index, row) for row in sliced.meetings)
    checks_of: dict[UUID | None, list[MeetingCheck]] = defaultdict(list)
    for check in checks:
        checks_of[check.initiative_id].append(check)
    tally = _tally(index, sliced, sliced.answers)
    figures: dict[UUID | None, PeopleFigures] = {
        None: _figures_of(
            index,
            Slice(organisation_id),
            None,
            tally,
            checks,
            scores.of(sliced.answers, None),
            _support_totals(sliced.support),
        )
    }
    empty = _Sliced([], {}, [], [], [], [], [], [], [])
    for initiative_id, initiative in index.initiatives.items():
        part = parts.get(initiative_id, empty)
        figures[initiative_id] = _figures_of(
            index,
            Slice(organisation_id, initiative_id),
            initiative["level"],
            _tally(index, part, part.answers),
            checks_of.get(initiative_id, ()),
            scores.of(part.answers, None),
            _support_totals(part.support),
        )
    check_at = {check.meeting_id: at for at, check in enumerate(checks)}
    return KeptFigures(position, figures, parts, index, tally, check_at)


def _figures_grown(
    facts: Facts,
    organisation_id: UUID,
    position: int,
    sliced: _SlicedFacts,
    last: KeptFigures,
    new: Mapping[str, Sequence[Fields]],
    touched: set[UUID],
) -> KeptFigures:
    """The figures of `kept_people_figures` from the last ones, when the rows
    recorded since (`new`) touch only `touched` initiatives."""
    index = _index_grown(last.index, facts, sliced, new)
    parts = dict(last.parts)
    for initiative_id in touched:
        parts[initiative_id] = _grown(parts.get(initiative_id), new, initiative_id)
    checks, check_at = _checks_grown(index, last, new, sliced)
    attendance = new.get("attendance", ())
    tally = _tallied(
        index,
        last.tally,
        new.get("roles", ()),
        (
            row["participant_id"]
            for row in attendance
            if (at := check_at.get(row["meeting_id"])) is not None
            and checks[at].decision_making
        ),
        new.get("process_answers", ()),
    )
    scores = _Scores(facts, new)
    was = last.figures[None]
    figures = dict(last.figures)
    figures[None] = _figures_of(
        index,
        Slice(organisation_id),
        None,
        tally,
        checks,
        scores.of(sliced.answers, was),
        _support_totals(sliced.support) if new.get("support") else was.support,
        was,
    )
    for initiative_id in touched.intersection(index.initiatives):
        part = parts[initiative_id]
        figures[initiative_id] = _figures_of(
            index,
            Slice(organisation_id, initiative_id),
            index.initiatives[initiative_id]["level"],
            _tally(index, part, part.answers),
            tuple(checks[check_at[row["meeting_id"]]] for row in part.meetings),
            scores.of(part.answers, last.figures.get(initiative_id)),
            _support_totals(part.support),
        )
    return KeptFigures(position, figures, parts, index, tally, check_at)


def _checks_grown(
    index: _Index,
    last: KeptFigures,
    new: Mapping[str, Sequence[Fields]],
    sliced: _SlicedFacts,
) -> tuple[tuple[MeetingCheck, ...], dict[UUID, int]]:
    """The organisation's meeting checks and where each is: the last ones, with
    those of the meetings scheduled or attended since checked again (a check reads
    only its meeting's row, attendees and reserve, and who is a service user or
    carer, which a registration adds to only for the attendances recorded after)."""
    checks = last.figures[None].presence.meetings
    attended = {row["meeting_id"] for row in new.get("attendance", ())}
    if new.get("meetings"):
        kept = {check.meeting_id: check for check in checks}
        checks = tuple(
            _meeting_check(index, row)
            if (check := kept.get(row["meeting_id"])) is None
            or row["meeting_id"] in attended
            else check
            for row in sliced.meetings
        )
        return checks, {check.meeting_id: at for at, check in enumerate(checks)}
    if not attended:
        return checks, last.check_at
    recounted = list(checks)
    for meeting_id in attended:
        at = last.check_at.get(meeting_id)
        if at is not None:
            recounted[at] = _recounted(index, recounted[at])
    return tuple(recounted), last.check_at


PEOPLE_INDEXED = (
    "initiatives",
    "voices",
    "monitoring",
    "reserved_meetings",
    "attendees",
    "reference_shares",
)
"""What the figures about people look up in the whole organisation's `_Index` (who
is a service user or carer, their latest declarations, who attended, the reserves
named, the initiatives, the reference shares); nothing of the contributions,
responses, feedback, changes, papers, payments or cycles, which they do not read."""


def _people_index(facts: Tables, sliced: _SlicedFacts) -> _Index:
    """The whole organisation's index with what the figures read built now, so a
    copy of it (`_index_grown`) carries every value and reads no facts again."""
    index = _Index(facts, sliced, whole=True)
    for name in PEOPLE_INDEXED:
        getattr(index, name)
    return index


def _index_grown(
    index: _Index,
    facts: Tables,
    sliced: _SlicedFacts,
    new: Mapping[str, Sequence[Fields]],
) -> _Index:
    """The index of `_people_index` with the new rows taken in, when they are
    registrations and rows of the tables `_touched` takes initiative by initiative:
    of what it holds, only who is a service user or carer and who attended grow."""
    voices = {
        row["participant_id"]
        for row in new.get("participants", ())
        if row["participant_kind"] in VOICES
    }
    attendees = index.attendees
    if new.get("attendance"):
        attendees = dict(attendees)
        for row in new["attendance"]:
            meeting_id = row["meeting_id"]
            attendees[meeting_id] = [
                *attendees.get(meeting_id, ()),
                row["participant_id"],
            ]
    grown = _Index(facts, sliced, whole=True)
    kept = {name: getattr(index, name) for name in PEOPLE_INDEXED}
    kept["voices"] = index.voices | voices if voices else index.voices
    kept["attendees"] = attendees
    # The values of cached properties, as if worked out from these facts.
    vars(grown).update(kept)
    return grown


def _grown(
    part: _Sliced | None, new: Mapping[str, Sequence[Fields]], initiative_id: UUID
) -> _Sliced:
    """An initiative's facts (as `_split` gives them) with its new rows added."""
    lists = {
        name: [] if part is None else getattr(part, name)
        for name in (
            "outcomes",
            "contributions",
            "changes",
            "answers",
            "meetings",
            "roles",
            "payments",
            "support",
        )
    }
    for table, name in FIGURES_BY_INITIATIVE.items():
        mine = [
            row for row in new.get(table, ()) if row["initiative_id"] == initiative_id
        ]
        if mine:
            lists[name] = [*lists[name], *mine]
    if any(row["initiative_id"] == initiative_id for row in new.get("meetings", ())):
        lists["meetings"] = sorted(
            lists["meetings"], key=lambda row: (row["held_at"], row["position"])
        )
    return _Sliced(assessments={}, **lists)
