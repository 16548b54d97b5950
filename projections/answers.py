"""The answers the read side gives: the five 4PI impact questions and the indicators around them, with their exact meaning.

Shares, means and ratios are exact fractions (`fractions.Fraction`), so the same facts
always give the same answer, to the last digit, whoever computes it.

How a `Slice` narrows the facts:

- organisation: always; every answer is about one organisation.
- initiative: when given, only facts of that initiative. Participants and reference
  populations belong to the organisation and are never narrowed by it; "those
  involved" are the participants holding a role in the initiatives in scope.
- period (`period_from`, `period_to`, both inclusive, either optional) narrows dated
  facts by their domain date: contributions by `made_on`, responses by nothing (a
  contribution brings its responses and feedback), changes by `changed_on`, outcome
  assessments by `assessed_on`, process answers by `answered_on`, meetings by the date
  of `held_at` where the organisation works (fourpi.local_time), payments by `owed_on`, support by `given_on`, roles by being active
  in the period (started on or before its end, not ended before its start). Intended
  outcomes and cycles are never narrowed by period.
- cycle (a number): for each initiative in scope, its cycle window runs from the day
  that cycle entered Act up to, not including, the day the next cycle entered Act (open
  if there is none). Dated facts of that initiative are kept when their date is in the
  window; an initiative without that cycle keeps no dated facts. Roles are kept when
  active at some time in the window. Combined with a period, both must hold. Cycles
  themselves are narrowed to that number.
- impact area: intended outcomes and contributions tagged with it, changes whose area
  it is, and cycles whose focus includes it. Process answers, meetings, roles, payments
  and support have no area and are not narrowed by it.

"Service users and carers" are participants whose kind is service_user or carer.
"Those involved" are the distinct participants holding at least one role, active in
the period if one is given, in an initiative in scope.
"Latest" means the row with the highest log position.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from fourpi.domain.vocabulary import EarningsStatus

DEFAULT_PAYMENT_TARGET_DAYS = 14
MOST_CYCLES = 9_999
"""The highest cycle number an answer is asked for: far more than any initiative runs."""
CYCLE_RULE = f"must be a cycle number from 1 to {MOST_CYCLES}"
NOT_RECORDED = "not_recorded"


@dataclass(frozen=True)
class Slice:
    """Which facts an answer is about."""

    organisation_id: UUID
    initiative_id: UUID | None = None
    impact_area: str | None = None
    cycle: int | None = None
    period_from: date | None = None
    period_to: date | None = None


def is_cycle_number(number: int) -> bool:
    """Whether an answer may be asked for this cycle (CYCLE_RULE): the web page's,
    the API's and the command line's one rule, each naming its own field."""
    return 0 < number <= MOST_CYCLES


@dataclass(frozen=True)
class DaySpread:
    """Whole days between two dates, over a set of facts.

    median: the middle value, or the mean of the two middle values (a Fraction).
    p90: the nearest-rank 90th percentile: sorted values, index ceil(0.9 * n) - 1.
    All three are None when count is 0.
    """

    count: int
    median: Fraction | None
    p90: int | None
    longest: int | None


# 1. What were the intended outcomes?


@dataclass(frozen=True)
class OutcomeStatus:
    """An intended outcome with its latest assessment in the slice (None: not assessed)."""

    outcome_id: UUID
    initiative_id: UUID
    description: str
    impact_areas: tuple[str, ...]
    assessment: str | None
    involvement_difference: str | None
    evidence: str | None
    assessed_on: date | None


@dataclass(frozen=True)
class IntendedOutcomesAnswer:
    """outcomes: in log order. by_assessment: outcomes counted by their latest
    assessment, with "not_assessed" for the rest; only non-zero counts appear.
    share_achieved: (achieved + partly_achieved) / all outcomes; None with no outcomes.
    """

    outcomes: tuple[OutcomeStatus, ...]
    by_assessment: dict[str, int]
    share_achieved: Fraction | None


# 2. What actual differences did service users and carers make?


@dataclass(frozen=True)
class ContributionLink:
    """One source of a change, with what became of it.

    outcome and responded_on: the latest response (None: no response yet).
    feedback_given_on: the earliest feedback (None: contributors not yet told).
    """

    contribution_id: UUID
    summary: str
    made_on: date
    outcome: str | None
    responded_on: date | None
    feedback_given_on: date | None


@dataclass(frozen=True)
class ChangeChain:
    """A change that traces to contributions: contribution -> response -> change -> feedback.

    contributions: the change's sources in the order it named them, never narrowed by
    the slice.
    """

    change_id: UUID
    initiative_id: UUID
    description: str
    impact_area: str
    scope: str
    beyond_kind: str | None
    changed_on: date
    contributions: tuple[ContributionLink, ...]


@dataclass(frozen=True)
class DifferencesAnswer:
    """contributions: how many contributions are in the slice.
    by_response: those contributions counted by their latest response outcome, with
    "awaiting_response" for those without one; only non-zero counts appear.
    share_adopted_or_adapted: contributions whose latest response is adopted or adapted,
    over all contributions in the slice; None with none.
    changes: the changes in the slice with at least one source, in log order.
    by_scope, by_area: those changes counted; only non-zero counts appear.
    untraced_changes: changes in the slice with no source contribution.
    """

    contributions: int
    by_response: dict[str, int]
    share_adopted_or_adapted: Fraction | None
    changes: tuple[ChangeChain, ...]
    by_scope: dict[str, int]
    by_area: dict[str, int]
    untraced_changes: int


# 3. How did everyone feel about the process?


@dataclass(frozen=True)
class ScoreSummary:
    """One respondent kind's scores on one dimension.

    distribution: how many gave each score, always with the keys 1 to 5.
    mean: None when nobody gave a score.
    """

    respondent_kind: str
    dimension: str
    count: int
    mean: Fraction | None
    distribution: dict[int, int]


@dataclass(frozen=True)
class ProcessExperienceAnswer:
    """scores: one summary for every (respondent kind, dimension), 0 where nobody
    scored it, ordered by respondent kind and then dimension, each in its
    vocabulary's order. Listing only those someone scored would tell that a
    suppressed count is not 0.
    answers: how many process-experience answers are in the slice.
    involved: how many people are involved (see the module docstring).
    respondents: how many of those involved gave at least one answer in the slice.
    response_rate: respondents / involved; None when nobody is involved.
    """

    scores: tuple[ScoreSummary, ...]
    answers: int
    involved: int
    respondents: int
    response_rate: Fraction | None


# 4. Did involvement make a difference to the end result?


@dataclass(frozen=True)
class ChangeSummary:
    change_id: UUID
    initiative_id: UUID
    description: str
    impact_area: str
    changed_on: date
    contribution_ids: tuple[UUID, ...]


@dataclass(frozen=True)
class EndResultAnswer:
    """end_result_changes: changes in the slice whose scope is end_result, in log order.
    outcomes_by_difference: intended outcomes (as in question 1) counted by the
    involvement difference of their latest assessment; only non-zero counts appear.
    outcomes_changed_by_involvement: ids of those whose difference is significant or
    some, in log order.
    """

    end_result_changes: tuple[ChangeSummary, ...]
    outcomes_by_difference: dict[str, int]
    outcomes_changed_by_involvement: tuple[UUID, ...]


# 5. Did it make a difference beyond the activity?


@dataclass(frozen=True)
class BeyondAnswer:
    """by_kind: beyond-scope changes in the slice by their kind, each in log order;
    only kinds with changes appear."""

    by_kind: dict[str, tuple[ChangeSummary, ...]]


# Presence


@dataclass(frozen=True)
class MeetingCheck:
    """A meeting against the 4PI standard.

    service_users_and_carers: distinct attendees who are service users or carers.
    standard: "below_minimum" (fewer than 2), "minimum" (2) or "ideal" (3 or more).
    meets_standard: at least 2, and for a high-level meeting a reserve named.
    """

    meeting_id: UUID
    initiative_id: UUID
    title: str
    held_at: datetime
    high_level: bool
    decision_making: bool
    service_users_and_carers: int
    reserve_named: bool
    standard: str
    meets_standard: bool


@dataclass(frozen=True)
class DiversityRow:
    """share: count / the category's total (None when the total is 0).
    reference_share: from the reference population (None when it gives none).
    ratio: share / reference_share (None unless both exist and reference_share > 0).
    """

    value: str
    count: int
    share: Fraction | None
    reference_share: Fraction | None
    ratio: Fraction | None


@dataclass(frozen=True)
class CategoryDiversity:
    """rows: every value of the category's vocabulary in its order (including
    prefer_not_to_say), then "not_recorded", zeros included.
    broad_rows: for a category with an official grouping (ethnic group: the 2021
    census's five broad groups; age band: under 18, 18 to 64, 65 and over; sexual
    orientation: the census's straight or heterosexual, and LGB+), the same
    people by broad group in its vocabulary's order (prefer_not_to_say among them),
    then "not_recorded": each the sum of its detailed rows. Its reference share is the
    reference population's share for the broad group when given at that level, else
    the sum of its detailed values' shares when the reference gives every one of them.
    Empty for a category with no grouping."""

    category: str
    total: int
    rows: tuple[DiversityRow, ...]
    broad_rows: tuple[DiversityRow, ...] = ()


@dataclass(frozen=True)
class PresenceAnswer:
    """by_level: distinct service users and carers involved, by the level of the
    initiative they hold a role in: every level for the organisation, and an
    initiative's own level for it, 0 where nobody is.
    at_decision_making_level: distinct service users and carers holding a role, active
    in the slice, that is at a decision-making level.
    at_decision_making_meetings: distinct service users and carers who attended a
    decision-making meeting in the slice.
    meetings: every meeting in the slice, by held_at then log order.
    failing_meetings: ids of those that do not meet the standard, in the same order.
    diversity: service users and carers involved, against the reference population
    (the initiative's when the slice names an initiative that has one, else the
    organisation's; its latest revision), one entry per monitoring category in the
    vocabulary's order. Each person counts once per category by their latest
    declaration; a category left out of it is not_recorded.
    """

    by_level: dict[str, int]
    at_decision_making_level: int
    at_decision_making_meetings: int
    meetings: tuple[MeetingCheck, ...]
    failing_meetings: tuple[UUID, ...]
    diversity: tuple[CategoryDiversity, ...]


# Process


@dataclass(frozen=True)
class PapersNotice:
    """days_in_advance: calendar days, where the organisation works, from papers sent
    to the meeting (None: none sent)."""

    meeting_id: UUID
    held_at: datetime
    sent_at: datetime | None
    days_in_advance: int | None


@dataclass(frozen=True)
class SupportTotal:
    """records: how many; people: the sum of people each reached; hours: the sum of the
    hours given where recorded."""

    records: int
    people: int
    hours: Decimal


@dataclass(frozen=True)
class ProcessAnswer:
    """papers: the meetings of the presence answer, in its order; papers_spread over
    those with papers.
    payment_days: paid payments in the slice, days from owed_on to paid_on.
    paid_within_target: of those, the share paid in at most target_days; None if none.
    unpaid: payments in the slice not yet paid.
    feedback_closure: contributions in the slice with any feedback, over all of them.
    feedback_days: days from made_on to the earliest feedback.
    response_days: days from made_on to the earliest response.
    awaiting_response: contributions in the slice with no response.
    support: support in the slice by kind (only kinds with records).
    """

    papers: tuple[PapersNotice, ...]
    papers_spread: DaySpread
    target_days: int
    payment_days: DaySpread
    paid_within_target: Fraction | None
    unpaid: int
    feedback_closure: Fraction | None
    feedback_days: DaySpread
    response_days: DaySpread
    awaiting_response: int
    support: dict[str, SupportTotal]


# Principles


@dataclass(frozen=True)
class PolicyStatus:
    """The involvement policy as of the answer's moment: the review is due
    review_interval_months after the last review (or adoption); overdue when the
    moment's date is after review_due_on; days_until_due may be negative."""

    version_label: str
    adopted_on: date
    last_reviewed_on: date
    review_due_on: date
    overdue: bool
    days_until_due: int


@dataclass(frozen=True)
class PrinciplesAnswer:
    """responsiveness: contributions in the slice that are a source of any change, over
    all contributions in the slice.
    declined, declines_explained: contributions in the slice whose latest response is
    declined, and of those the ones with a rationale; transparency is their ratio.
    policy: None when the organisation has adopted none.
    """

    responsiveness: Fraction | None
    declined: int
    declines_explained: int
    transparency: Fraction | None
    policy: PolicyStatus | None


# Payments and benefits


@dataclass(frozen=True)
class EarningsPeriodTotal:
    """One week (starting Monday) or calendar month of a person's earnings from fees.

    A paid fee counts in the period of paid_on; an unpaid one in the period of owed_on.
    headroom: limit - paid (negative once crossed). crossed: paid > limit.
    would_cross: not crossed, yet paid + owed_unpaid > limit (the warning before it is
    crossed).
    """

    period_start: date
    paid: Decimal
    owed_unpaid: Decimal
    headroom: Decimal
    crossed: bool
    would_cross: bool

    @property
    def status(self) -> str:
        """One status for both flags: "crossed" (paid is over the limit), "near"
        (would_cross: paid and owed together are over it), else "below"."""
        if self.crossed:
            return EarningsStatus.CROSSED.value
        return (EarningsStatus.NEAR if self.would_cross else EarningsStatus.BELOW).value


@dataclass(frozen=True)
class EarningsWatch:
    """A participant whose latest payment preference sets an earnings limit; periods in
    date order, only those with fees. Fees are every payment of kind fee of this person
    in the organisation, narrowed by the slice's period (by the date that places them)
    but never by initiative, cycle or area: the limit is the person's, across all work."""

    participant_id: UUID
    pseudonym: str
    earnings_limit: Decimal
    earnings_period: str
    periods: tuple[EarningsPeriodTotal, ...]


# Cycles


@dataclass(frozen=True)
class CycleView:
    """A cycle's progress. entered: the date each phase was entered, in phase order.
    taken_up_by_next: this cycle's planned actions that the next cycle's Act took up
    (None while there is no next cycle)."""

    initiative_id: UUID
    number: int
    phase: str
    focus_areas: tuple[str, ...]
    entered: dict[str, date]
    findings: str
    reflections: str
    lessons: str
    planned_actions: tuple[str, ...]
    actions_taken_up: tuple[str, ...]
    taken_up_by_next: tuple[str, ...] | None


@dataclass(frozen=True)
class ImpactReport:
    """Every answer for one slice, as the view stood at `position` (the log position
    the facts reach) on `moment` (the date that decides whether a review is overdue)."""

    slice: Slice
    position: int
    moment: date
    intended_outcomes: IntendedOutcomesAnswer
    differences: DifferencesAnswer
    process_experience: ProcessExperienceAnswer
    end_result: EndResultAnswer
    beyond: BeyondAnswer
    presence: PresenceAnswer
    process: ProcessAnswer
    principles: PrinciplesAnswer
    payments_and_benefits: tuple[EarningsWatch, ...]
    cycles: tuple[CycleView, ...] = field(default_factory=tuple)
