"""Evaluate one organisation's facts into the answers of `answers.py`, for one slice, with exact arithmetic."""

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import TypeVar, cast
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
)
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
from fourpi.projections.schema import Facts, Row

__all__ = ["PeopleFigures", "evaluate", "people_figures"]

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

K = TypeVar("K", bound=Hashable)


# Typed access to the rows: the projection has already typed every value, so these
# only tell the type checker what each column holds.


def _uuid(row: Row, column: str) -> UUID:
    return cast(UUID, row[column])


def _optional_uuid(row: Row, column: str) -> UUID | None:
    return cast(UUID | None, row[column])


def _text(row: Row, column: str) -> str:
    return cast(str, row[column])


def _optional_text(row: Row, column: str) -> str | None:
    return cast(str | None, row[column])


def _int(row: Row, column: str) -> int:
    return cast(int, row[column])


def _flag(row: Row, column: str) -> bool:
    return cast(bool, row[column])


def _day(row: Row, column: str) -> date:
    return cast(date, row[column])


def _moment(row: Row, column: str) -> datetime:
    return cast(datetime, row[column])


def _money(row: Row, column: str) -> Decimal:
    return cast(Decimal, row[column])


def _optional_money(row: Row, column: str) -> Decimal | None:
    return cast(Decimal | None, row[column])


def _texts(row: Row, column: str) -> tuple[str, ...]:
    value = cast(tuple[str, ...] | None, row[column])
    return () if value is None else value


def _position(row: Row) -> int:
    return _int(row, "position")


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


# Small general helpers.


def _latest(rows: Iterable[Row], key: Callable[[Row], K]) -> dict[K, Row]:
    """The row with the highest log position for each key."""
    latest: dict[K, Row] = {}
    for row in rows:
        k = key(row)
        current = latest.get(k)
        if current is None or _position(row) > _position(current):
            latest[k] = row
    return latest


def _earliest_day(rows: Iterable[Row], key: str, column: str) -> dict[UUID, date]:
    earliest: dict[UUID, date] = {}
    for row in rows:
        k = _uuid(row, key)
        day = _day(row, column)
        if k not in earliest or day < earliest[k]:
            earliest[k] = day
    return earliest


def _ratio(part: int, whole: int) -> Fraction | None:
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
    counted: dict[str, int] = defaultdict(int)
    for value in values:
        counted[value] += 1
    return {value: counted[value] for value in _in_order(counted, order)}


def _values(vocabulary: type[StrEnum]) -> list[str]:
    return [member.value for member in vocabulary]


def _day_spread(days: Iterable[int]) -> DaySpread:
    """Count, median, nearest-rank 90th percentile and longest of whole days."""
    values = sorted(days)
    count = len(values)
    if not count:
        return DaySpread(count=0, median=None, p90=None, longest=None)
    middle = count // 2
    median = (
        Fraction(values[middle])
        if count % 2
        else Fraction(values[middle - 1] + values[middle], 2)
    )
    # ceil(0.9 * n) in integers, so no float rounding can move the rank.
    rank = -(-9 * count // 10)
    return DaySpread(
        count=count, median=median, p90=values[rank - 1], longest=values[-1]
    )


# Everything looked up by id, built once so that no answer scans a table twice.


@dataclass(frozen=True)
class _Cycle:
    initiative_id: UUID
    number: int
    phases: dict[str, Row]

    @property
    def act(self) -> Row:
        return self.phases[CyclePhase.ACT.value]

    def notes(self, phase: CyclePhase) -> str:
        row = self.phases.get(phase.value)
        return "" if row is None else _text(row, "notes")


@dataclass(frozen=True)
class _Index:
    initiatives: dict[UUID, Row]
    participants: dict[UUID, Row]
    monitoring: dict[UUID, Row]
    preferences: dict[UUID, Row]
    role_ended_on: dict[UUID, date]
    papers_sent_at: dict[UUID, datetime]
    reserved_meetings: frozenset[UUID]
    attendees: dict[UUID, list[UUID]]
    contributions: dict[UUID, Row]
    latest_response: dict[UUID, Row]
    first_response_on: dict[UUID, date]
    first_feedback_on: dict[UUID, date]
    sources: dict[UUID, list[UUID]]
    contributions_with_change: frozenset[UUID]
    scores: dict[UUID, list[Row]]
    paid_on: dict[UUID, date]
    cycles: dict[tuple[UUID, int], _Cycle]
    reference_shares: dict[UUID | None, dict[tuple[str, str], Fraction]]

    def kind(self, participant_id: UUID) -> str | None:
        row = self.participants.get(participant_id)
        return None if row is None else _text(row, "participant_kind")

    def is_voice(self, participant_id: UUID) -> bool:
        return self.kind(participant_id) in VOICES


def _group(rows: Iterable[Row], key: str, value: str) -> dict[UUID, list[UUID]]:
    grouped: dict[UUID, list[UUID]] = defaultdict(list)
    for row in rows:
        grouped[_uuid(row, key)].append(_uuid(row, value))
    return dict(grouped)


def _cycles(rows: Iterable[Row]) -> dict[tuple[UUID, int], _Cycle]:
    cycles: dict[tuple[UUID, int], _Cycle] = {}
    for row in rows:
        key = (_uuid(row, "initiative_id"), _int(row, "number"))
        if key not in cycles:
            cycles[key] = _Cycle(key[0], key[1], {})
        cycles[key].phases[_text(row, "phase")] = row
    # A cycle exists from its Act; phases without one cannot be placed in a window.
    return {key: c for key, c in cycles.items() if CyclePhase.ACT.value in c.phases}


def _reference_shares(
    rows: Sequence[Row],
) -> dict[UUID | None, dict[tuple[str, str], Fraction]]:
    """The current set of each scope: a revision replaces the whole set."""
    newest: dict[UUID | None, int] = {}
    for row in rows:
        scope = _optional_uuid(row, "initiative_id")
        newest[scope] = max(newest.get(scope, _position(row)), _position(row))
    shares: dict[UUID | None, dict[tuple[str, str], Fraction]] = defaultdict(dict)
    for row in rows:
        scope = _optional_uuid(row, "initiative_id")
        if _position(row) == newest[scope]:
            key = (_text(row, "category"), _text(row, "value"))
            shares[scope][key] = Fraction(_money(row, "share"))
    return dict(shares)


def _index(facts: Facts) -> _Index:
    def by(table: str, column: str) -> dict[UUID, Row]:
        return {_uuid(row, column): row for row in facts[table]}

    def participant(row: Row) -> UUID:
        return _uuid(row, "participant_id")

    def contribution(row: Row) -> UUID:
        return _uuid(row, "contribution_id")

    scores: dict[UUID, list[Row]] = defaultdict(list)
    for row in facts["process_scores"]:
        scores[_uuid(row, "answer_id")].append(row)
    return _Index(
        initiatives=by("initiatives", "initiative_id"),
        participants=by("participants", "participant_id"),
        monitoring=_latest(facts["monitoring"], participant),
        preferences=_latest(facts["payment_preferences"], participant),
        role_ended_on={
            _uuid(row, "role_id"): _day(row, "ended_on")
            for row in facts["role_endings"]
        },
        papers_sent_at={
            _uuid(row, "meeting_id"): _moment(row, "sent_at")
            for row in facts["meeting_papers"]
        },
        reserved_meetings=frozenset(
            _uuid(row, "meeting_id") for row in facts["meeting_reserves"]
        ),
        attendees=_group(facts["attendance"], "meeting_id", "participant_id"),
        contributions=by("contributions", "contribution_id"),
        latest_response=_latest(facts["responses"], contribution),
        first_response_on=_earliest_day(
            facts["responses"], "contribution_id", "responded_on"
        ),
        first_feedback_on=_earliest_day(
            facts["feedback"], "contribution_id", "given_on"
        ),
        sources=_group(facts["change_sources"], "change_id", "contribution_id"),
        contributions_with_change=frozenset(
            _uuid(row, "contribution_id") for row in facts["change_sources"]
        ),
        scores=dict(scores),
        paid_on={
            _uuid(row, "payment_id"): _day(row, "paid_on")
            for row in facts["payments_made"]
        },
        cycles=_cycles(facts["cycle_phases"]),
        reference_shares=_reference_shares(facts["reference_shares"]),
    )


# How a Slice narrows the facts (see the module docstring of answers.py).

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
        end = None if following is None else _day(following.act, "entered_on")
        windows[initiative_id] = (_day(cycle.act, "entered_on"), end)
    return windows


def _in_period(slice: Slice, day: date) -> bool:
    start, end = slice.period_from, slice.period_to
    return (start is None or day >= start) and (end is None or day <= end)


@dataclass(frozen=True)
class _Narrowing:
    slice: Slice
    windows: Mapping[UUID, Window] | None

    def initiative(self, initiative_id: UUID | None) -> bool:
        wanted = self.slice.initiative_id
        return wanted is None or initiative_id == wanted

    def in_period(self, day: date) -> bool:
        return _in_period(self.slice, day)

    def in_window(self, initiative_id: UUID | None, day: date) -> bool:
        if self.windows is None:
            return True
        window = None if initiative_id is None else self.windows.get(initiative_id)
        if window is None:
            return False
        start, end = window
        return day >= start and (end is None or day < end)

    def dated(self, initiative_id: UUID | None, day: date) -> bool:
        return (
            self.initiative(initiative_id)
            and self.in_period(day)
            and self.in_window(initiative_id, day)
        )

    def active(
        self, initiative_id: UUID, started_on: date, ended_on: date | None
    ) -> bool:
        """A role is active on every day from its start to its end, both included."""
        if not self.initiative(initiative_id):
            return False
        start, end = self.slice.period_from, self.slice.period_to
        if end is not None and started_on > end:
            return False
        if start is not None and ended_on is not None and ended_on < start:
            return False
        if self.windows is None:
            return True
        window = self.windows.get(initiative_id)
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

    def tagged(self, areas: tuple[str, ...]) -> bool:
        area = self.slice.impact_area
        return area is None or area in areas

    def area(self, area: str) -> bool:
        wanted = self.slice.impact_area
        return wanted is None or area == wanted

    def cycle(self, cycle: _Cycle) -> bool:
        number = self.slice.cycle
        return (
            self.initiative(cycle.initiative_id)
            and (number is None or cycle.number == number)
            and self.tagged(_texts(cycle.act, "focus_areas"))
        )


@dataclass(frozen=True)
class _Sliced:
    """The facts of the slice, each list in log order."""

    outcomes: list[Row]
    assessments: dict[UUID, Row]
    contributions: list[Row]
    changes: list[Row]
    answers: list[Row]
    meetings: list[Row]
    roles: list[Row]
    payments: list[Row]
    support: list[Row]


def _narrow(facts: Facts, index: _Index, narrowing: _Narrowing) -> _Sliced:
    def of_initiative(row: Row) -> UUID | None:
        return _optional_uuid(row, "initiative_id")

    def dated(table: str, column: str) -> list[Row]:
        return [
            row
            for row in facts[table]
            if narrowing.dated(of_initiative(row), _day(row, column))
        ]

    outcomes = [
        row
        for row in facts["intended_outcomes"]
        if narrowing.initiative(_uuid(row, "initiative_id"))
        and narrowing.tagged(_texts(row, "impact_areas"))
    ]
    wanted_outcomes = {_uuid(row, "outcome_id") for row in outcomes}
    assessments = _latest(
        (
            row
            for row in dated("outcome_assessments", "assessed_on")
            if _uuid(row, "outcome_id") in wanted_outcomes
        ),
        lambda row: _uuid(row, "outcome_id"),
    )
    return _Sliced(
        outcomes=outcomes,
        assessments=assessments,
        contributions=[
            row
            for row in dated("contributions", "made_on")
            if narrowing.tagged(_texts(row, "impact_areas"))
        ],
        changes=[
            row
            for row in dated("changes", "changed_on")
            if narrowing.area(_text(row, "impact_area"))
        ],
        answers=dated("process_answers", "answered_on"),
        meetings=sorted(
            (
                row
                for row in facts["meetings"]
                if narrowing.dated(
                    of_initiative(row), _utc_day(_moment(row, "held_at"))
                )
            ),
            key=lambda row: (_moment(row, "held_at"), _position(row)),
        ),
        roles=[
            row
            for row in facts["roles"]
            if narrowing.active(
                _uuid(row, "initiative_id"),
                _day(row, "started_on"),
                index.role_ended_on.get(_uuid(row, "role_id")),
            )
        ],
        payments=dated("payments", "owed_on"),
        support=dated("support", "given_on"),
    )


def _involved(roles: Iterable[Row]) -> set[UUID]:
    return {_uuid(row, "participant_id") for row in roles}


# 1. What were the intended outcomes?


def _outcome_status(outcome: Row, assessment: Row | None) -> OutcomeStatus:
    return OutcomeStatus(
        outcome_id=_uuid(outcome, "outcome_id"),
        initiative_id=_uuid(outcome, "initiative_id"),
        description=_text(outcome, "description"),
        impact_areas=_texts(outcome, "impact_areas"),
        assessment=None if assessment is None else _text(assessment, "assessment"),
        involvement_difference=None
        if assessment is None
        else _optional_text(assessment, "involvement_difference"),
        evidence=None if assessment is None else _optional_text(assessment, "evidence"),
        assessed_on=None if assessment is None else _day(assessment, "assessed_on"),
    )


def _outcome_statuses(sliced: _Sliced) -> tuple[OutcomeStatus, ...]:
    return tuple(
        _outcome_status(row, sliced.assessments.get(_uuid(row, "outcome_id")))
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


def _response_outcome(index: _Index, contribution_id: UUID) -> str | None:
    response = index.latest_response.get(contribution_id)
    return None if response is None else _text(response, "outcome")


def _link(index: _Index, contribution: Row) -> ContributionLink:
    contribution_id = _uuid(contribution, "contribution_id")
    response = index.latest_response.get(contribution_id)
    return ContributionLink(
        contribution_id=contribution_id,
        summary=_text(contribution, "summary"),
        made_on=_day(contribution, "made_on"),
        outcome=None if response is None else _text(response, "outcome"),
        responded_on=None if response is None else _day(response, "responded_on"),
        feedback_given_on=index.first_feedback_on.get(contribution_id),
    )


def _chain(index: _Index, change: Row) -> ChangeChain:
    sources = index.sources.get(_uuid(change, "change_id"), [])
    return ChangeChain(
        change_id=_uuid(change, "change_id"),
        initiative_id=_uuid(change, "initiative_id"),
        description=_text(change, "description"),
        impact_area=_text(change, "impact_area"),
        scope=_text(change, "scope"),
        beyond_kind=_optional_text(change, "beyond_kind"),
        changed_on=_day(change, "changed_on"),
        contributions=tuple(
            _link(index, index.contributions[c])
            for c in sources
            if c in index.contributions
        ),
    )


def _differences(index: _Index, sliced: _Sliced) -> DifferencesAnswer:
    outcomes = [
        _response_outcome(index, _uuid(row, "contribution_id")) or AWAITING_RESPONSE
        for row in sliced.contributions
    ]
    traced = [
        row for row in sliced.changes if index.sources.get(_uuid(row, "change_id"))
    ]
    return DifferencesAnswer(
        contributions=len(outcomes),
        by_response=_counts(outcomes, [*_values(ResponseOutcome), AWAITING_RESPONSE]),
        share_adopted_or_adapted=_ratio(
            sum(1 for o in outcomes if o in TAKEN_ON), len(outcomes)
        ),
        changes=tuple(_chain(index, row) for row in traced),
        by_scope=_counts((_text(r, "scope") for r in traced), _values(ChangeScope)),
        by_area=_counts((_text(r, "impact_area") for r in traced), _values(ImpactArea)),
        untraced_changes=len(sliced.changes) - len(traced),
    )


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
        mean=Fraction(sum(scores), len(scores)),
        distribution=distribution,
    )


def _process_experience(index: _Index, sliced: _Sliced) -> ProcessExperienceAnswer:
    grouped: dict[tuple[str, str], list[int]] = defaultdict(list)
    for answer in sliced.answers:
        kind = _text(answer, "respondent_kind")
        for score in index.scores.get(_uuid(answer, "answer_id"), []):
            grouped[(kind, _text(score, "dimension"))].append(_int(score, "score"))
    kinds = _values(RespondentKind)
    dimensions = _values(ProcessDimension)

    def order(key: tuple[str, str]) -> tuple[int, int, str, str]:
        kind, dimension = key
        return (
            kinds.index(kind) if kind in kinds else len(kinds),
            dimensions.index(dimension) if dimension in dimensions else len(dimensions),
            kind,
            dimension,
        )

    involved = _involved(sliced.roles)
    answered = {
        participant_id
        for row in sliced.answers
        if (participant_id := _optional_uuid(row, "participant_id")) is not None
    }
    respondents = len(answered & involved)
    return ProcessExperienceAnswer(
        scores=tuple(
            _score_summary(kind, dimension, grouped[(kind, dimension)])
            for kind, dimension in sorted(grouped, key=order)
        ),
        answers=len(sliced.answers),
        involved=len(involved),
        respondents=respondents,
        response_rate=_ratio(respondents, len(involved)),
    )


# 4 and 5. End result, and beyond the activity.


def _change_summary(index: _Index, change: Row) -> ChangeSummary:
    return ChangeSummary(
        change_id=_uuid(change, "change_id"),
        initiative_id=_uuid(change, "initiative_id"),
        description=_text(change, "description"),
        impact_area=_text(change, "impact_area"),
        changed_on=_day(change, "changed_on"),
        contribution_ids=tuple(index.sources.get(_uuid(change, "change_id"), [])),
    )


def _end_result(
    index: _Index, sliced: _Sliced, statuses: Sequence[OutcomeStatus]
) -> EndResultAnswer:
    differences_made = [
        s.involvement_difference for s in statuses if s.involvement_difference
    ]
    return EndResultAnswer(
        end_result_changes=tuple(
            _change_summary(index, row)
            for row in sliced.changes
            if _text(row, "scope") == ChangeScope.END_RESULT.value
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


def _beyond(index: _Index, sliced: _Sliced) -> BeyondAnswer:
    grouped: dict[str, list[ChangeSummary]] = defaultdict(list)
    for row in sliced.changes:
        kind = _optional_text(row, "beyond_kind")
        if _text(row, "scope") == ChangeScope.BEYOND.value and kind is not None:
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


def _meeting_check(index: _Index, meeting: Row) -> MeetingCheck:
    meeting_id = _uuid(meeting, "meeting_id")
    voices = len({p for p in index.attendees.get(meeting_id, []) if index.is_voice(p)})
    high_level = _flag(meeting, "high_level")
    reserve_named = meeting_id in index.reserved_meetings
    return MeetingCheck(
        meeting_id=meeting_id,
        initiative_id=_uuid(meeting, "initiative_id"),
        title=_text(meeting, "title"),
        held_at=_moment(meeting, "held_at"),
        high_level=high_level,
        decision_making=_flag(meeting, "decision_making"),
        service_users_and_carers=voices,
        reserve_named=reserve_named,
        standard=_standard(voices),
        meets_standard=voices >= 2 and (reserve_named or not high_level),
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
    index: _Index,
    people: Sequence[UUID],
    category: MonitoringCategory,
    reference: Mapping[tuple[str, str], Fraction],
) -> CategoryDiversity:
    declared: list[str] = []
    for person in people:
        row = index.monitoring.get(person)
        value = None if row is None else _optional_text(row, category.value)
        declared.append(NOT_RECORDED if value is None else value)
    total = len(declared)
    counted: dict[str, int] = defaultdict(int)
    for value in declared:
        counted[value] += 1
    rows = []
    for value in [*_values(MONITORING_VALUES[category]), NOT_RECORDED]:
        count = counted.get(value, 0)
        share = _ratio(count, total)
        reference_share = reference.get((category.value, value))
        ratio = (
            share / reference_share
            if share is not None and reference_share  # a zero share has no ratio
            else None
        )
        rows.append(DiversityRow(value, count, share, reference_share, ratio))
    return CategoryDiversity(category=category.value, total=total, rows=tuple(rows))


def _presence(
    index: _Index, sliced: _Sliced, slice: Slice, checks: Sequence[MeetingCheck]
) -> PresenceAnswer:
    levels: dict[str, set[UUID]] = defaultdict(set)
    decision_makers: set[UUID] = set()
    people: dict[UUID, None] = {}
    for role in sliced.roles:
        person = _uuid(role, "participant_id")
        if not index.is_voice(person):
            continue
        people[person] = None
        initiative = index.initiatives.get(_uuid(role, "initiative_id"))
        if initiative is not None:
            levels[_text(initiative, "level")].add(person)
        if _flag(role, "decision_making"):
            decision_makers.add(person)
    at_meetings = {
        person
        for meeting in sliced.meetings
        if _flag(meeting, "decision_making")
        for person in index.attendees.get(_uuid(meeting, "meeting_id"), [])
        if index.is_voice(person)
    }
    reference = _reference_population(index, slice)
    return PresenceAnswer(
        by_level={
            level: len(levels[level])
            for level in _in_order(levels, _values(InvolvementLevel))
        },
        at_decision_making_level=len(decision_makers),
        at_decision_making_meetings=len(at_meetings),
        meetings=tuple(checks),
        failing_meetings=tuple(c.meeting_id for c in checks if not c.meets_standard),
        diversity=tuple(
            _category_diversity(index, list(people), category, reference)
            for category in MonitoringCategory
        ),
    )


# Process


def _papers_notice(index: _Index, check: MeetingCheck) -> PapersNotice:
    sent_at = index.papers_sent_at.get(check.meeting_id)
    return PapersNotice(
        meeting_id=check.meeting_id,
        held_at=check.held_at,
        sent_at=sent_at,
        days_in_advance=None
        if sent_at is None
        else (_utc_day(check.held_at) - _utc_day(sent_at)).days,
    )


def _support_totals(rows: Iterable[Row]) -> dict[str, SupportTotal]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[_text(row, "support_kind")].append(row)
    return {
        kind: SupportTotal(
            records=len(grouped[kind]),
            people=sum(_int(row, "people") for row in grouped[kind]),
            hours=sum(
                (
                    hours
                    for row in grouped[kind]
                    if (hours := _optional_money(row, "hours")) is not None
                ),
                Decimal(0),
            ),
        )
        for kind in _in_order(grouped, _values(SupportKind))
    }


def _process(
    index: _Index,
    sliced: _Sliced,
    checks: Sequence[MeetingCheck],
    target_days: int,
) -> ProcessAnswer:
    papers = tuple(_papers_notice(index, check) for check in checks)
    payment_days = [
        (index.paid_on[payment_id] - _day(row, "owed_on")).days
        for row in sliced.payments
        if (payment_id := _uuid(row, "payment_id")) in index.paid_on
    ]
    contribution_ids = [_uuid(row, "contribution_id") for row in sliced.contributions]
    made_on = {
        _uuid(row, "contribution_id"): _day(row, "made_on")
        for row in sliced.contributions
    }
    feedback_days = [
        (index.first_feedback_on[c] - made_on[c]).days
        for c in contribution_ids
        if c in index.first_feedback_on
    ]
    response_days = [
        (index.first_response_on[c] - made_on[c]).days
        for c in contribution_ids
        if c in index.first_response_on
    ]
    return ProcessAnswer(
        papers=papers,
        papers_spread=_day_spread(
            p.days_in_advance for p in papers if p.days_in_advance is not None
        ),
        target_days=target_days,
        payment_days=_day_spread(payment_days),
        paid_within_target=_ratio(
            sum(1 for days in payment_days if days <= target_days), len(payment_days)
        ),
        unpaid=len(sliced.payments) - len(payment_days),
        feedback_closure=_ratio(len(feedback_days), len(contribution_ids)),
        feedback_days=_day_spread(feedback_days),
        response_days=_day_spread(response_days),
        awaiting_response=len(contribution_ids) - len(response_days),
        support=_support_totals(sliced.support),
    )


# Principles


def _policy_status(facts: Facts, moment: date) -> PolicyStatus | None:
    if not facts["policies"]:
        return None
    policy = max(facts["policies"], key=_position)
    # A revision restarts the clock, so only reviews of the current version count.
    reviews = [r for r in facts["policy_reviews"] if _position(r) > _position(policy)]
    adopted_on = _day(policy, "adopted_on")
    last_reviewed_on = (
        _day(max(reviews, key=_position), "reviewed_on") if reviews else adopted_on
    )
    due = add_months(last_reviewed_on, _int(policy, "review_interval_months"))
    return PolicyStatus(
        version_label=_text(policy, "version_label"),
        adopted_on=adopted_on,
        last_reviewed_on=last_reviewed_on,
        review_due_on=due,
        overdue=moment > due,
        days_until_due=(due - moment).days,
    )


def _principles(
    index: _Index, sliced: _Sliced, facts: Facts, moment: date
) -> PrinciplesAnswer:
    contributions = [_uuid(row, "contribution_id") for row in sliced.contributions]
    led_to_change = sum(
        1 for c in contributions if c in index.contributions_with_change
    )
    declines = [
        response
        for c in contributions
        if (response := index.latest_response.get(c)) is not None
        and _text(response, "outcome") == ResponseOutcome.DECLINED.value
    ]
    explained = sum(
        1 for r in declines if (_optional_text(r, "rationale") or "").strip()
    )
    return PrinciplesAnswer(
        responsiveness=_ratio(led_to_change, len(contributions)),
        declined=len(declines),
        declines_explained=explained,
        transparency=_ratio(explained, len(declines)),
        policy=_policy_status(facts, moment),
    )


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


def _payments_and_benefits(
    index: _Index, facts: Facts, slice: Slice
) -> tuple[EarningsWatch, ...]:
    fees: dict[UUID, list[tuple[date, Decimal, bool]]] = defaultdict(list)
    for row in facts["payments"]:
        if _text(row, "payment_kind") != PaymentKind.FEE.value:
            continue
        paid_on = index.paid_on.get(_uuid(row, "payment_id"))
        placed_on = _day(row, "owed_on") if paid_on is None else paid_on
        if _in_period(slice, placed_on):
            fees[_uuid(row, "participant_id")].append(
                (placed_on, _money(row, "amount"), paid_on is not None)
            )
    watches = []
    for participant_id, participant in index.participants.items():
        preference = index.preferences.get(participant_id)
        if preference is None:
            continue
        limit = _optional_money(preference, "earnings_limit")
        period = _optional_text(preference, "earnings_period")
        if limit is None or period is None:
            continue
        totals: dict[date, tuple[Decimal, Decimal]] = {}
        for placed_on, amount, is_paid in fees.get(participant_id, []):
            start = _period_start(placed_on, period)
            paid, owed = totals.get(start, (Decimal(0), Decimal(0)))
            totals[start] = (paid + amount, owed) if is_paid else (paid, owed + amount)
        watches.append(
            EarningsWatch(
                participant_id=participant_id,
                pseudonym=_text(participant, "pseudonym"),
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
    phase_order = _values(CyclePhase)
    entered = {
        phase: _day(cycle.phases[phase], "entered_on")
        for phase in phase_order
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


# The report


def evaluate(
    facts: Facts,
    slice: Slice,
    *,
    position: int,
    moment: date,
    target_days: int = DEFAULT_PAYMENT_TARGET_DAYS,
) -> ImpactReport:
    """Every answer for `slice` from facts already bounded at `position`."""
    index = _index(facts)
    windows = None if slice.cycle is None else _cycle_windows(index.cycles, slice.cycle)
    narrowing = _Narrowing(slice, windows)
    sliced = _narrow(facts, index, narrowing)
    statuses = _outcome_statuses(sliced)
    checks = tuple(_meeting_check(index, row) for row in sliced.meetings)
    return ImpactReport(
        slice=slice,
        position=position,
        moment=moment,
        intended_outcomes=_intended_outcomes(statuses),
        differences=_differences(index, sliced),
        process_experience=_process_experience(index, sliced),
        end_result=_end_result(index, sliced, statuses),
        beyond=_beyond(index, sliced),
        presence=_presence(index, sliced, slice, checks),
        process=_process(index, sliced, checks, target_days),
        principles=_principles(index, sliced, facts, moment),
        payments_and_benefits=_payments_and_benefits(index, facts, slice),
        cycles=_cycle_views(index, narrowing),
    )


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


def _split(sliced: _Sliced) -> dict[UUID, _Sliced]:
    """The slice's facts, initiative by initiative, in one pass over each list."""

    def by_initiative(rows: Iterable[Row]) -> dict[UUID, list[Row]]:
        grouped: dict[UUID, list[Row]] = defaultdict(list)
        for row in rows:
            initiative_id = _optional_uuid(row, "initiative_id")
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
    index = _index(facts)
    whole = Slice(organisation_id)
    sliced = _narrow(facts, index, _Narrowing(whole, None))
    parts = _split(sliced)
    empty = _Sliced([], {}, [], [], [], [], [], [], [])
    scopes: dict[UUID | None, tuple[Slice, _Sliced, str | None]] = {
        None: (whole, sliced, None)
    }
    for initiative_id, initiative in index.initiatives.items():
        scopes[initiative_id] = (
            Slice(organisation_id, initiative_id),
            parts.get(initiative_id, empty),
            _text(initiative, "level"),
        )
    figures: dict[UUID | None, PeopleFigures] = {}
    for scope, (slice, part, level) in scopes.items():
        checks = tuple(_meeting_check(index, row) for row in part.meetings)
        figures[scope] = PeopleFigures(
            level=level,
            presence=_presence(index, part, slice, checks),
            process_experience=_process_experience(index, part),
            support=_support_totals(part.support),
        )
    return figures
