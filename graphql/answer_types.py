"""The 4PI answers as GraphQL output types, each with the plain function that maps a domain answer onto it."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any, TypeVar
from uuid import UUID

import strawberry

from fourpi.collection import collection_paused
from fourpi.graphql import enums
from fourpi.memo import Memo
from fourpi.projections import answers as domain
from fourpi.projections import disclosure as cells
from fourpi.projections.disclosure import Cell, Disclosure
from fourpi.projections.evaluate import AWAITING_RESPONSE, NOT_ASSESSED

E = TypeVar("E", bound=Enum)
T = TypeVar("T")
S = TypeVar("S")

POSITION = (
    "The log position the facts reach: the answer is the record as it stood there."
)
MOMENT = (
    "The date the answer is as of, where the organisation works (FOURPI_TIME_ZONE): it "
    "decides whether the involvement policy's review is overdue."
)


# Pieces shared by several answers


CONVERTED_LISTS_KEPT = 256
_LISTS: Memo[tuple[Any, list[Any]]] = Memo(CONVERTED_LISTS_KEPT)
"""Long lists already converted, each with the answer's list it was converted from
(kept with it, so that no other list can take its id while the conversion is kept)."""


def listed_once(convert: Callable[[S], list[T]], source: S) -> list[T]:
    """A long list of an answer (its outcomes, its changes), converted the first
    time a query selects it and then shared by every answer holding the same list:
    of the same report, or of a later one that took the list as it was (see
    `fourpi.projections.evaluate.REPORT_PARTS`). A query that does not select the
    list costs nothing for it, however long it is. The converted lists are never
    changed after they are made."""

    def converted_now() -> tuple[S, list[T]]:
        with collection_paused():
            return source, convert(source)

    kept, converted = _LISTS.get((convert, id(source)), converted_now)
    assert kept is source
    result: list[T] = converted
    return result


@strawberry.type(description="An answer, and the moment of the record it answers from.")
class Answered:
    """Every top-level answer says where in the log, and on what date, it stands."""

    position: int = strawberry.field(description=POSITION)
    moment: dt.date = strawberry.field(description=MOMENT)


@strawberry.type(
    description="An exact share, mean or ratio: numerator over denominator, with its "
    "value as a decimal for display. The same facts always give the same fraction "
    "(exact, unless its parts are past what an Int holds: then the nearest that fits)."
)
class Share:
    value: float = strawberry.field(
        description="The fraction as a decimal number (rounded; use numerator and "
        "denominator for the exact value)."
    )
    numerator: int = strawberry.field(description="The exact fraction's numerator.")
    denominator: int = strawberry.field(
        description="The exact fraction's denominator (always more than 0)."
    )


@strawberry.type(description="How many facts have one value.")
class Count:
    key: str = strawberry.field(
        description="The value counted: a 4PI vocabulary value, or a key such as "
        "not_assessed or awaiting_response where the answer says so."
    )
    count: int = strawberry.field(description="How many have it.")


@strawberry.type(
    description="Whole days between two dates, over a set of facts. Median, p90 and "
    "longest are null when count is 0."
)
class DaySpread:
    count: int = strawberry.field(description="How many facts the days are over.")
    median: Share | None = strawberry.field(
        description="The middle value, or the mean of the two middle values."
    )
    p90: int | None = strawberry.field(
        description="The nearest-rank 90th percentile: of the sorted values, the one "
        "at index ceil(0.9 * count) - 1."
    )
    longest: int | None = strawberry.field(description="The most days.")


INT_MOST = 2**31 - 1
"""The most a GraphQL Int holds."""


def share(fraction: Fraction) -> Share:
    if abs(fraction.numerator) > INT_MOST or fraction.denominator > INT_MOST:
        # Only from facts stored before their precision was bounded (a reference
        # share of 1e-30): the nearest fraction that fits, not an error in every
        # answer that shows it.
        fraction = fraction.limit_denominator(INT_MOST // (abs(int(fraction)) + 1))
    return Share(
        value=float(fraction),
        numerator=fraction.numerator,
        denominator=fraction.denominator,
    )


def share_or_none(fraction: Fraction | None) -> Share | None:
    return None if fraction is None else share(fraction)


SUPPRESSIBLE = (
    " A count of people: suppressed for a caller without the personal-data grant "
    "when small (see PeopleCount)."
)


def people_figures(disclosure: Disclosure) -> enums.PeopleFigures:
    if disclosure.exact:
        return enums.PeopleFigures.EXACT
    if disclosure.withheld:
        return enums.PeopleFigures.WITHHELD
    return enums.PeopleFigures.SMALL_NUMBERS_SUPPRESSED


@strawberry.type(
    description="A count of people. For a caller whose token is not granted personal "
    "data, a count from 1 to below the organisation's threshold (default 5) is "
    "suppressed rather than shown, and so is any other count that would let a "
    "suppressed one be worked out (a total and all but one of its parts); such a "
    "secondary suppression may hide a zero."
)
class PeopleCount:
    value: int | None = strawberry.field(description="How many; null when suppressed.")
    suppressed: bool = strawberry.field(
        description="Whether the count is suppressed for this caller."
    )
    reason: enums.SuppressionReason | None = strawberry.field(
        description="Why the count is suppressed, so a page can say so; null when it "
        "is shown. SMALL_NUMBERS does not say whether the count is a small number "
        "itself or hidden to protect another: that would let small numbers be worked "
        "out (see SuppressionReason)."
    )


def people_count(disclosure: Disclosure, cell: Cell, value: int) -> PeopleCount:
    if disclosure.hides(cell):
        reason = (
            enums.SuppressionReason.WITHHELD
            if disclosure.withheld
            else enums.SuppressionReason.SMALL_NUMBERS
        )
        return PeopleCount(value=None, suppressed=True, reason=reason)
    return PeopleCount(value=value, suppressed=False, reason=None)


def share_unless(
    disclosure: Disclosure, fraction: Fraction | None, *of: Cell
) -> Share | None:
    """A share or mean, withheld when a count it is computed from is suppressed."""
    return None if disclosure.hides(*of) else share_or_none(fraction)


@strawberry.type(description="How many people have one value.")
class PeopleByKey:
    key: str = strawberry.field(description="The value counted.")
    count: PeopleCount = strawberry.field(description="How many people have it.")


def counts(counted: dict[str, int]) -> list[Count]:
    return [Count(key=key, count=count) for key, count in counted.items()]


# Counts keyed by the API's enums (the Count lists beside them are keyed by the
# lower-case strings of the domain, and kept for the clients that read them).


@strawberry.type(description="How many intended outcomes have one latest assessment.")
class AssessmentCount:
    assessment: enums.OutcomeAssessment | None = strawberry.field(
        description="The latest assessment; null for the outcomes not assessed yet."
    )
    count: int = strawberry.field(description="How many outcomes have it.")


@strawberry.type(description="How many contributions have one latest response.")
class ResponseCount:
    outcome: enums.ResponseOutcome | None = strawberry.field(
        description="The latest response's outcome; null for the contributions "
        "awaiting a response."
    )
    count: int = strawberry.field(description="How many contributions have it.")


@strawberry.type(description="How many changes have one scope.")
class ScopeCount:
    scope: enums.ChangeScope = strawberry.field(description="The change scope.")
    count: int = strawberry.field(description="How many changes have it.")


@strawberry.type(description="How many changes are in one impact area.")
class AreaCount:
    area: enums.ImpactArea = strawberry.field(description="The 4PI impact area.")
    count: int = strawberry.field(description="How many changes are in it.")


@strawberry.type(
    description="How many intended outcomes have one involvement difference, by "
    "their latest assessment."
)
class DifferenceCount:
    difference: enums.InvolvementDifference = strawberry.field(
        description="Whether involvement made a difference to them."
    )
    count: int = strawberry.field(description="How many outcomes have it.")


@strawberry.type(description="How many service users and carers are at one level.")
class LevelCount:
    level: enums.InvolvementLevel = strawberry.field(
        description="Where involvement happens."
    )
    count: PeopleCount = strawberry.field(
        description="How many service users and carers are involved at it."
        + SUPPRESSIBLE
    )


def keyed(
    counted: dict[str, int], missing: str, enum: type[E]
) -> list[tuple[E | None, int]]:
    """The domain's counts keyed by the enum, with the key for none (not assessed,
    awaiting response) as None."""
    return [
        (None if key == missing else enum(key), count) for key, count in counted.items()
    ]


def record_id(value: UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


def day_spread(spread: domain.DaySpread) -> DaySpread:
    return DaySpread(
        count=spread.count,
        median=share_or_none(spread.median),
        p90=spread.p90,
        longest=spread.longest,
    )


# 1. What were the intended outcomes?


@strawberry.type(
    description="An intended outcome, recorded at the start of an initiative, with its "
    "latest assessment in the slice (the assessment fields are null while it is not "
    "assessed)."
)
class OutcomeStatus:
    outcome_id: strawberry.ID = strawberry.field(description="The intended outcome.")
    initiative_id: strawberry.ID = strawberry.field(
        description="The initiative it belongs to."
    )
    description: str = strawberry.field(description="What the outcome is.")
    impact_areas: list[enums.ImpactArea] = strawberry.field(
        description="The 4PI impact areas it is tagged with."
    )
    assessment: enums.OutcomeAssessment | None = strawberry.field(
        description="How far it was achieved, by its latest assessment."
    )
    involvement_difference: enums.InvolvementDifference | None = strawberry.field(
        description="Whether involvement made a difference to it, by its latest "
        "assessment (impact question 4)."
    )
    evidence: str | None = strawberry.field(
        description="The evidence given with the latest assessment."
    )
    assessed_on: dt.date | None = strawberry.field(
        description="The day of the latest assessment."
    )


@strawberry.type(
    description="4PI impact question 1: what were the intended outcomes? Each with its "
    "latest assessment, and the share achieved or partly achieved.",
)
class IntendedOutcomes(Answered):
    outcomes: list[OutcomeStatus] = strawberry.field(
        description="The intended outcomes, in the order they were recorded.",
        resolver=lambda root: listed_once(outcome_statuses, root.answer.outcomes),
    )
    assessment_counts: list[AssessmentCount] = strawberry.field(
        description="The outcomes counted by their latest assessment, in the "
        "vocabulary's order, then those not assessed (a null assessment); only "
        "non-zero counts appear."
    )
    by_assessment: list[Count] = strawberry.field(
        description="The outcomes counted by their latest assessment, with "
        "not_assessed for the rest; only non-zero counts appear.",
        deprecation_reason="Keyed by lower-case strings: use assessmentCounts, keyed by the "
        "OutcomeAssessment enum.",
    )
    share_achieved_or_partly_achieved: Share | None = strawberry.field(
        description="The intended outcomes whose latest assessment is achieved or "
        "partly achieved, over all intended outcomes; null with no outcomes."
    )
    share_achieved: Share | None = strawberry.field(
        description="(Achieved + partly achieved) / all intended outcomes; null with "
        "no outcomes. Despite its name it counts partly achieved outcomes too.",
        deprecation_reason="Named for only half of what it counts: use "
        "shareAchievedOrPartlyAchieved (the same value).",
    )
    answer: strawberry.Private[domain.IntendedOutcomesAnswer]


def outcome_status(answer: domain.OutcomeStatus) -> OutcomeStatus:
    return OutcomeStatus(
        outcome_id=record_id(answer.outcome_id),
        initiative_id=record_id(answer.initiative_id),
        description=answer.description,
        impact_areas=[enums.ImpactArea(area) for area in answer.impact_areas],
        assessment=None
        if answer.assessment is None
        else enums.OutcomeAssessment(answer.assessment),
        involvement_difference=None
        if answer.involvement_difference is None
        else enums.InvolvementDifference(answer.involvement_difference),
        evidence=answer.evidence,
        assessed_on=answer.assessed_on,
    )


def outcome_statuses(
    outcomes: tuple[domain.OutcomeStatus, ...],
) -> list[OutcomeStatus]:
    return [outcome_status(outcome) for outcome in outcomes]


def intended_outcomes(report: domain.ImpactReport) -> IntendedOutcomes:
    answer = report.intended_outcomes
    return IntendedOutcomes(
        position=report.position,
        moment=report.moment,
        answer=answer,
        assessment_counts=[
            AssessmentCount(assessment=key, count=count)
            for key, count in keyed(
                answer.by_assessment, NOT_ASSESSED, enums.OutcomeAssessment
            )
        ],
        by_assessment=counts(answer.by_assessment),
        share_achieved_or_partly_achieved=share_or_none(answer.share_achieved),
        share_achieved=share_or_none(answer.share_achieved),
    )


# 2. What actual differences did service users and carers make?


@strawberry.type(
    description="One source of a change: a contribution from service users or carers, "
    "with what became of it."
)
class ContributionLink:
    contribution_id: strawberry.ID = strawberry.field(description="The contribution.")
    summary: str = strawberry.field(description="What was put forward, in short.")
    made_on: dt.date = strawberry.field(description="The day it was made.")
    outcome: enums.ResponseOutcome | None = strawberry.field(
        description="What the organisation did with it, by its latest response; null "
        "while there is no response yet."
    )
    responded_on: dt.date | None = strawberry.field(
        description="The day of the latest response; null while there is none."
    )
    feedback_given_on: dt.date | None = strawberry.field(
        description="The day contributors were first told what became of it; null "
        "while they have not been told."
    )


@strawberry.type(
    description="A change that traces to contributions: contribution -> response -> "
    "change -> feedback."
)
class ChangeChain:
    change_id: strawberry.ID = strawberry.field(description="The change.")
    initiative_id: strawberry.ID = strawberry.field(
        description="The initiative it was made in."
    )
    description: str = strawberry.field(description="What changed.")
    impact_area: enums.ImpactArea = strawberry.field(
        description="The 4PI impact area of the change."
    )
    scope: enums.ChangeScope = strawberry.field(
        description="How far it reaches: the activity, its end result, or beyond."
    )
    beyond_kind: enums.BeyondKind | None = strawberry.field(
        description="For a change beyond the activity, its kind (impact question 5)."
    )
    changed_on: dt.date = strawberry.field(description="The day it changed.")
    contributions: list[ContributionLink] = strawberry.field(
        description="The change's source contributions in the order it named them, "
        "never narrowed by the slice."
    )


@strawberry.type(
    description="4PI impact question 2: what actual differences did service users and "
    "carers make? The changes that trace back to their contributions, with the chain "
    "contribution -> response -> change -> feedback.",
)
class Differences(Answered):
    contributions: int = strawberry.field(
        description="How many contributions are in the slice."
    )
    response_counts: list[ResponseCount] = strawberry.field(
        description="Those contributions counted by their latest response outcome, "
        "in the vocabulary's order, then those awaiting a response (a null outcome); "
        "only non-zero counts appear."
    )
    by_response: list[Count] = strawberry.field(
        description="Those contributions counted by their latest response outcome, "
        "with awaiting_response for those without one; only non-zero counts appear.",
        deprecation_reason="Keyed by lower-case strings: use responseCounts, keyed by the "
        "ResponseOutcome enum.",
    )
    share_adopted_or_adapted: Share | None = strawberry.field(
        description="Contributions whose latest response is adopted or adapted, over "
        "all contributions in the slice; null with none."
    )
    changes: list[ChangeChain] = strawberry.field(
        description="The changes in the slice with at least one source contribution, "
        "in the order they were recorded.",
        resolver=lambda root: listed_once(change_chains, root.answer.changes),
    )
    scope_counts: list[ScopeCount] = strawberry.field(
        description="Those changes counted by scope; only non-zero counts appear."
    )
    area_counts: list[AreaCount] = strawberry.field(
        description="Those changes counted by impact area; only non-zero counts appear."
    )
    by_scope: list[Count] = strawberry.field(
        description="Those changes counted by scope; only non-zero counts appear.",
        deprecation_reason="Keyed by lower-case strings: use scopeCounts, keyed by the "
        "ChangeScope enum.",
    )
    by_area: list[Count] = strawberry.field(
        description="Those changes counted by impact area; only non-zero counts appear.",
        deprecation_reason="Keyed by lower-case strings: use areaCounts, keyed by the "
        "ImpactArea enum.",
    )
    untraced_changes: int = strawberry.field(
        description="Changes in the slice with no source contribution."
    )
    answer: strawberry.Private[domain.DifferencesAnswer]


def contribution_link(answer: domain.ContributionLink) -> ContributionLink:
    return ContributionLink(
        contribution_id=record_id(answer.contribution_id),
        summary=answer.summary,
        made_on=answer.made_on,
        outcome=None
        if answer.outcome is None
        else enums.ResponseOutcome(answer.outcome),
        responded_on=answer.responded_on,
        feedback_given_on=answer.feedback_given_on,
    )


def change_chain(answer: domain.ChangeChain) -> ChangeChain:
    return ChangeChain(
        change_id=record_id(answer.change_id),
        initiative_id=record_id(answer.initiative_id),
        description=answer.description,
        impact_area=enums.ImpactArea(answer.impact_area),
        scope=enums.ChangeScope(answer.scope),
        beyond_kind=None
        if answer.beyond_kind is None
        else enums.BeyondKind(answer.beyond_kind),
        changed_on=answer.changed_on,
        contributions=[contribution_link(link) for link in answer.contributions],
    )


def change_chains(changes: tuple[domain.ChangeChain, ...]) -> list[ChangeChain]:
    return [change_chain(change) for change in changes]


def differences(report: domain.ImpactReport) -> Differences:
    answer = report.differences
    return Differences(
        position=report.position,
        moment=report.moment,
        contributions=answer.contributions,
        response_counts=[
            ResponseCount(outcome=key, count=count)
            for key, count in keyed(
                answer.by_response, AWAITING_RESPONSE, enums.ResponseOutcome
            )
        ],
        by_response=counts(answer.by_response),
        share_adopted_or_adapted=share_or_none(answer.share_adopted_or_adapted),
        answer=answer,
        scope_counts=[
            ScopeCount(scope=enums.ChangeScope(key), count=count)
            for key, count in answer.by_scope.items()
        ],
        area_counts=[
            AreaCount(area=enums.ImpactArea(key), count=count)
            for key, count in answer.by_area.items()
        ],
        by_scope=counts(answer.by_scope),
        by_area=counts(answer.by_area),
        untraced_changes=answer.untraced_changes,
    )


# 3. How did everyone feel about the process?


@strawberry.type(description="How many process-experience answers gave one score.")
class ScoreCount:
    score: int = strawberry.field(description="The score, from 1 to 5.")
    count: PeopleCount = strawberry.field(
        description="How many gave it." + SUPPRESSIBLE
    )


@strawberry.type(
    description="One respondent kind's process-experience scores on one dimension."
)
class ScoreSummary:
    respondent_kind: enums.RespondentKind = strawberry.field(
        description="Who answered: service users, carers or staff."
    )
    dimension: enums.ProcessDimension = strawberry.field(
        description="What was scored from 1 to 5."
    )
    count: PeopleCount = strawberry.field(
        description="How many scores were given." + SUPPRESSIBLE
    )
    mean: Share | None = strawberry.field(
        description="The mean score, exactly; null when withheld because a count it "
        "comes from is suppressed."
    )
    distribution: list[ScoreCount] = strawberry.field(
        description="How many gave each score, always for every score from 1 to 5."
    )


@strawberry.type(
    description="4PI impact question 3: how did everyone feel about the process? "
    "Process-experience scores by respondent kind and dimension, and the response rate "
    "among those involved.",
)
class ProcessExperience(Answered):
    people_figures: enums.PeopleFigures = strawberry.field(
        description="How this answer's counts of people are shown to the caller."
    )
    scores: list[ScoreSummary] = strawberry.field(
        description="One summary for every respondent kind and dimension, a count "
        "of 0 and no mean where nobody scored it, by respondent kind and then "
        "dimension, each in its vocabulary's order: which were scored tells nothing "
        "about a suppressed count."
    )
    answers: PeopleCount = strawberry.field(
        description="How many process-experience answers are in the slice."
        + SUPPRESSIBLE
    )
    involved: PeopleCount = strawberry.field(
        description="How many people are involved: the distinct participants holding "
        "at least one role, active in the period if one is given, in an initiative in "
        "scope." + SUPPRESSIBLE
    )
    respondents: PeopleCount = strawberry.field(
        description="How many of those involved gave at least one answer in the slice."
        + SUPPRESSIBLE
    )
    response_rate: Share | None = strawberry.field(
        description="Respondents / those involved; null when nobody is involved, or "
        "when withheld because either count is suppressed."
    )


def score_summary(
    answer: domain.ScoreSummary, scope: UUID | None, disclosure: Disclosure
) -> ScoreSummary:
    kind, dimension = answer.respondent_kind, answer.dimension
    counted = cells.scores(scope, kind, dimension)
    parts = [cells.score(scope, kind, dimension, s) for s in answer.distribution]
    return ScoreSummary(
        respondent_kind=enums.RespondentKind(kind),
        dimension=enums.ProcessDimension(dimension),
        count=people_count(disclosure, counted, answer.count),
        mean=share_unless(disclosure, answer.mean, counted, *parts),
        distribution=[
            ScoreCount(
                score=score,
                count=people_count(
                    disclosure, cells.score(scope, kind, dimension, score), count
                ),
            )
            for score, count in answer.distribution.items()
        ],
    )


def process_experience(
    report: domain.ImpactReport, disclosure: Disclosure = cells.EXACT
) -> ProcessExperience:
    answer = report.process_experience
    scope = report.slice.initiative_id
    return ProcessExperience(
        position=report.position,
        moment=report.moment,
        people_figures=people_figures(disclosure),
        scores=[score_summary(summary, scope, disclosure) for summary in answer.scores],
        answers=people_count(disclosure, cells.answers(scope), answer.answers),
        involved=people_count(disclosure, cells.involved(scope), answer.involved),
        respondents=people_count(
            disclosure, cells.respondents(scope), answer.respondents
        ),
        response_rate=share_unless(
            disclosure,
            answer.response_rate,
            cells.respondents(scope),
            cells.involved(scope),
        ),
    )


# 4. Did involvement make a difference to the end result?


@strawberry.type(
    description="A change (a difference made), in short: what changed, where, when, "
    "and the contributions it came from."
)
class ChangeSummary:
    change_id: strawberry.ID = strawberry.field(description="The change.")
    initiative_id: strawberry.ID = strawberry.field(
        description="The initiative it was made in."
    )
    description: str = strawberry.field(description="What changed.")
    impact_area: enums.ImpactArea = strawberry.field(
        description="The 4PI impact area of the change."
    )
    changed_on: dt.date = strawberry.field(description="The day it changed.")
    contribution_ids: list[strawberry.ID] = strawberry.field(
        description="The contributions it came from, in the order it named them."
    )


@strawberry.type(
    description="4PI impact question 4: did involvement make a difference to the end "
    "result? End-result changes, and the intended outcomes assessed as changed by "
    "involvement.",
)
class EndResult(Answered):
    end_result_changes: list[ChangeSummary] = strawberry.field(
        description="Changes in the slice whose scope is the end result, in the order "
        "they were recorded.",
        resolver=lambda root: listed_once(
            change_summaries, root.answer.end_result_changes
        ),
    )
    difference_counts: list[DifferenceCount] = strawberry.field(
        description="Intended outcomes (as in question 1) counted by whether "
        "involvement made a difference to them, by their latest assessment; only "
        "non-zero counts appear."
    )
    outcomes_by_difference: list[Count] = strawberry.field(
        description="Intended outcomes (as in question 1) counted by whether "
        "involvement made a difference to them, by their latest assessment; only "
        "non-zero counts appear.",
        deprecation_reason="Keyed by lower-case strings: use differenceCounts, keyed by the "
        "InvolvementDifference enum.",
    )
    outcomes_changed_by_involvement: list[strawberry.ID] = strawberry.field(
        description="The intended outcomes where involvement made a significant or "
        "some difference, in the order they were recorded."
    )
    answer: strawberry.Private[domain.EndResultAnswer]


def change_summary(answer: domain.ChangeSummary) -> ChangeSummary:
    return ChangeSummary(
        change_id=record_id(answer.change_id),
        initiative_id=record_id(answer.initiative_id),
        description=answer.description,
        impact_area=enums.ImpactArea(answer.impact_area),
        changed_on=answer.changed_on,
        contribution_ids=[record_id(source) for source in answer.contribution_ids],
    )


def change_summaries(
    changes: tuple[domain.ChangeSummary, ...],
) -> list[ChangeSummary]:
    return [change_summary(change) for change in changes]


def end_result(report: domain.ImpactReport) -> EndResult:
    answer = report.end_result
    return EndResult(
        position=report.position,
        moment=report.moment,
        answer=answer,
        difference_counts=[
            DifferenceCount(difference=enums.InvolvementDifference(key), count=count)
            for key, count in answer.outcomes_by_difference.items()
        ],
        outcomes_by_difference=counts(answer.outcomes_by_difference),
        outcomes_changed_by_involvement=[
            record_id(outcome) for outcome in answer.outcomes_changed_by_involvement
        ],
    )


# 5. Did it make a difference beyond the activity?


@strawberry.type(description="The changes beyond the activity of one kind.")
class BeyondKindChanges:
    kind: enums.BeyondKind = strawberry.field(
        description="The kind of difference made beyond the activity."
    )
    changes: list[ChangeSummary] = strawberry.field(
        description="The changes of this kind, in the order they were recorded."
    )


@strawberry.type(
    description="4PI impact question 5: did involvement make a difference beyond the "
    "activity? Beyond-scope changes by kind: service delivery, understanding of mental "
    "health, recovery or wellbeing of individuals, growth of the people involved.",
)
class Beyond(Answered):
    by_kind: list[BeyondKindChanges] = strawberry.field(
        description="Beyond-scope changes in the slice by their kind; only kinds with "
        "changes appear.",
        resolver=lambda root: listed_once(beyond_kinds, root.answer.by_kind),
    )
    answer: strawberry.Private[domain.BeyondAnswer]


def beyond_kinds(
    by_kind: dict[str, tuple[domain.ChangeSummary, ...]],
) -> list[BeyondKindChanges]:
    return [
        BeyondKindChanges(
            kind=enums.BeyondKind(kind), changes=change_summaries(changes)
        )
        for kind, changes in by_kind.items()
    ]


def beyond(report: domain.ImpactReport) -> Beyond:
    answer = report.beyond
    return Beyond(
        position=report.position,
        moment=report.moment,
        answer=answer,
    )


# Presence


@strawberry.type(
    description="A meeting against the 4PI standard: at least two, ideally three, "
    "service users or carers, and a reserve named for a high-level meeting."
)
class MeetingCheck:
    meeting_id: strawberry.ID = strawberry.field(description="The meeting.")
    initiative_id: strawberry.ID = strawberry.field(
        description="The initiative it belongs to."
    )
    title: str = strawberry.field(description="What the meeting was.")
    held_at: dt.datetime = strawberry.field(description="When it was held.")
    high_level: bool = strawberry.field(
        description="Whether it is a high-level meeting."
    )
    decision_making: bool = strawberry.field(
        description="Whether it is a decision-making meeting."
    )
    service_users_and_carers: PeopleCount = strawberry.field(
        description="Distinct attendees who are service users or carers." + SUPPRESSIBLE
    )
    reserve_named: bool = strawberry.field(
        description="Whether a reserve service user or carer was named."
    )
    standard: str | None = strawberry.field(
        description="below_minimum (fewer than 2 service users or carers), minimum (2) "
        "or ideal (3 or more): the 4PI Presence indicator, shown to every caller, "
        "even when the count is suppressed. It tells no more than its own range: for "
        "a caller without the personal-data grant a count below the threshold is "
        "suppressed even when it is 0, so a meeting with 0 and one with 1 look the "
        "same, and so do 3 and 4 (with the default threshold of 5). Null only for "
        "such a caller in an answer as of a past moment: against the record now, a "
        "past standard would tell how many attendances were recorded since."
    )
    meets_standard: bool = strawberry.field(
        description="At least 2 service users or carers (standard minimum or ideal), "
        "and for a high-level meeting a reserve named."
    )


@strawberry.type(
    description="Those involved with one self-declared value of a monitoring category, "
    "against the reference population."
)
class DiversityRow:
    value: str = strawberry.field(
        description="The value of the category's vocabulary (including "
        "prefer_not_to_say), or not_recorded."
    )
    count: PeopleCount = strawberry.field(
        description="How many service users and carers." + SUPPRESSIBLE
    )
    share: Share | None = strawberry.field(
        description="Count / the category's total; null when the total is 0, or when "
        "withheld because either count is suppressed."
    )
    reference_share: Share | None = strawberry.field(
        description="The value's share of the reference population; null when it "
        "gives none."
    )
    ratio: Share | None = strawberry.field(
        description="Share / reference share; null unless both exist and the "
        "reference share is more than 0 (so also when the share is withheld)."
    )


@strawberry.type(
    description="The diversity of the service users and carers involved in one "
    "monitoring category, against the reference population."
)
class CategoryDiversity:
    category: enums.MonitoringCategory = strawberry.field(
        description="The monitoring category."
    )
    total: PeopleCount = strawberry.field(
        description="How many service users and carers are counted in it."
        + SUPPRESSIBLE
    )
    broad_rows: list[DiversityRow] = strawberry.field(
        description="For a category with an official grouping, the same people by "
        "broad group, each the sum of its rows (ETHNIC_GROUP: the 2021 census's five "
        "broad groups, asian, black, mixed, white and other, then prefer_not_to_say; "
        "AGE_BAND: under_18, 18_64 and 65_plus, as NHS mental health services are "
        "organised, then prefer_not_to_say; SEXUAL_ORIENTATION: the census's "
        "straight_or_heterosexual and lgb_plus, then prefer_not_to_say), then "
        "not_recorded. Each compares with "
        "the reference population at the level it was given: its referenceShare is "
        "the broad group's share where the reference gives broad groups, else the sum "
        "of its values' shares where the reference gives every one of them, else "
        "null. Suppressed counts are chosen over both levels at once, so a broad "
        "total less the visible rows under it never reveals a suppressed one. Empty "
        "for a category with no grouping."
    )
    rows: list[DiversityRow] = strawberry.field(
        description="Every value of the category's vocabulary in its order (including "
        "prefer_not_to_say), then not_recorded, zeros included."
    )


@strawberry.type(
    description="4PI Presence: service users and carers at each level and at "
    "decision-making meetings, each meeting checked against the standard, and the "
    "diversity of those involved against the reference population.",
)
class Presence(Answered):
    people_figures: enums.PeopleFigures = strawberry.field(
        description="How this answer's counts of people are shown to the caller."
    )
    level_counts: list[LevelCount] = strawberry.field(
        description="Distinct service users and carers involved, by the level of the "
        "initiative they hold a role in: every level for the organisation, the "
        "initiative's own level for an initiative, 0 where nobody is (which levels "
        "are listed tells nothing about a suppressed count)." + SUPPRESSIBLE
    )
    by_level: list[PeopleByKey] = strawberry.field(
        description="Distinct service users and carers involved, by the level of the "
        "initiative they hold a role in: every level for the organisation, the "
        "initiative's own level for an initiative, 0 where nobody is (which levels "
        "are listed tells nothing about a suppressed count)." + SUPPRESSIBLE,
        deprecation_reason="Keyed by lower-case strings: use levelCounts, keyed by the "
        "InvolvementLevel enum.",
    )
    at_decision_making_level: PeopleCount = strawberry.field(
        description="Distinct service users and carers holding a role, active in the "
        "slice, that is at a decision-making level." + SUPPRESSIBLE
    )
    at_decision_making_meetings: PeopleCount = strawberry.field(
        description="Distinct service users and carers who attended a decision-making "
        "meeting in the slice." + SUPPRESSIBLE
    )
    meetings: list[MeetingCheck] = strawberry.field(
        description="Every meeting in the slice, by when it was held, then the order "
        "it was recorded."
    )
    failing_meetings: list[strawberry.ID] = strawberry.field(
        description="The meetings that do not meet the standard, in the same order."
    )
    diversity: list[CategoryDiversity] = strawberry.field(
        description="Service users and carers involved against the reference "
        "population (the initiative's when the slice names an initiative that has one, "
        "else the organisation's; its latest revision), one entry per monitoring "
        "category. Each person counts once per category by their latest declaration; "
        "a category they left out is not_recorded."
    )


def meeting_check(answer: domain.MeetingCheck, disclosure: Disclosure) -> MeetingCheck:
    cell = cells.meeting(answer.meeting_id)
    return MeetingCheck(
        meeting_id=record_id(answer.meeting_id),
        initiative_id=record_id(answer.initiative_id),
        title=answer.title,
        held_at=answer.held_at,
        high_level=answer.high_level,
        decision_making=answer.decision_making,
        service_users_and_carers=people_count(
            disclosure, cell, answer.service_users_and_carers
        ),
        reserve_named=answer.reserve_named,
        standard=answer.standard if disclosure.tells_standards() else None,
        meets_standard=answer.meets_standard,
    )


def diversity_row(
    answer: domain.DiversityRow, counted: Cell, total: Cell, disclosure: Disclosure
) -> DiversityRow:
    return DiversityRow(
        value=answer.value,
        count=people_count(disclosure, counted, answer.count),
        share=share_unless(disclosure, answer.share, counted, total),
        reference_share=share_or_none(answer.reference_share),
        ratio=share_unless(disclosure, answer.ratio, counted, total),
    )


def category_diversity(
    answer: domain.CategoryDiversity, scope: UUID | None, disclosure: Disclosure
) -> CategoryDiversity:
    total = cells.people(scope)
    return CategoryDiversity(
        category=enums.MonitoringCategory(answer.category),
        total=people_count(disclosure, total, answer.total),
        rows=[
            diversity_row(
                row,
                cells.diversity(scope, answer.category, row.value),
                total,
                disclosure,
            )
            for row in answer.rows
        ],
        broad_rows=[
            diversity_row(
                row,
                cells.broad_diversity(scope, answer.category, row.value),
                total,
                disclosure,
            )
            for row in answer.broad_rows
        ],
    )


def presence(
    report: domain.ImpactReport, disclosure: Disclosure = cells.EXACT
) -> Presence:
    answer = report.presence
    scope = report.slice.initiative_id

    def by_level(level: str) -> Cell:
        return cells.level(level) if scope is None else cells.people(scope)

    return Presence(
        position=report.position,
        moment=report.moment,
        people_figures=people_figures(disclosure),
        level_counts=[
            LevelCount(
                level=enums.InvolvementLevel(level),
                count=people_count(disclosure, by_level(level), n),
            )
            for level, n in answer.by_level.items()
        ],
        by_level=[
            PeopleByKey(key=level, count=people_count(disclosure, by_level(level), n))
            for level, n in answer.by_level.items()
        ],
        at_decision_making_level=people_count(
            disclosure, cells.decision_level(scope), answer.at_decision_making_level
        ),
        at_decision_making_meetings=people_count(
            disclosure,
            cells.decision_meetings(scope),
            answer.at_decision_making_meetings,
        ),
        meetings=[meeting_check(meeting, disclosure) for meeting in answer.meetings],
        failing_meetings=[record_id(meeting) for meeting in answer.failing_meetings],
        diversity=[
            category_diversity(category, scope, disclosure)
            for category in answer.diversity
        ],
    )


# Process


@strawberry.type(description="When a meeting's papers were sent, against the meeting.")
class PapersNotice:
    meeting_id: strawberry.ID = strawberry.field(description="The meeting.")
    held_at: dt.datetime = strawberry.field(description="When it was held.")
    sent_at: dt.datetime | None = strawberry.field(
        description="When its papers were sent; null when none were sent."
    )
    days_in_advance: int | None = strawberry.field(
        description="Calendar days, where the organisation works, from papers sent to the meeting; null when none "
        "were sent."
    )


@strawberry.type(description="The support and training of one kind given in the slice.")
class SupportByKind:
    kind: enums.SupportKind = strawberry.field(
        description="The kind of support or training."
    )
    records: int = strawberry.field(description="How many times it was given.")
    people: PeopleCount = strawberry.field(
        description="The sum of the people each time reached." + SUPPRESSIBLE
    )
    hours: Decimal = strawberry.field(
        description="The sum of the hours given, where recorded."
    )


@strawberry.type(
    description="4PI Process: papers sent in advance, payment timeliness, feedback "
    "loop closure, days from contribution to response, and the support and training "
    "given.",
)
class Process(Answered):
    people_figures: enums.PeopleFigures = strawberry.field(
        description="How this answer's counts of people are shown to the caller."
    )
    papers: list[PapersNotice] = strawberry.field(
        description="The meetings of the presence answer, in its order, with when "
        "their papers were sent."
    )
    papers_spread: DaySpread = strawberry.field(
        description="Days papers were sent in advance, over the meetings with papers."
    )
    target_days: int = strawberry.field(
        description="The payment target: the most days from owed to paid that count "
        "as on time."
    )
    payment_days: DaySpread = strawberry.field(
        description="Paid payments in the slice: days from owed to paid."
    )
    paid_within_target: Share | None = strawberry.field(
        description="Of the paid payments, the share paid within the target days; null "
        "if none was paid."
    )
    unpaid: int = strawberry.field(description="Payments in the slice not yet paid.")
    feedback_closure: Share | None = strawberry.field(
        description="Contributions in the slice whose contributors were told what "
        "became of them, over all of them; null with none."
    )
    feedback_days: DaySpread = strawberry.field(
        description="Days from a contribution to the earliest feedback to its "
        "contributors."
    )
    response_days: DaySpread = strawberry.field(
        description="Days from a contribution to the earliest response to it."
    )
    awaiting_response: int = strawberry.field(
        description="Contributions in the slice with no response."
    )
    support: list[SupportByKind] = strawberry.field(
        description="Support and training in the slice by kind; only kinds given "
        "appear."
    )


def papers_notice(answer: domain.PapersNotice) -> PapersNotice:
    return PapersNotice(
        meeting_id=record_id(answer.meeting_id),
        held_at=answer.held_at,
        sent_at=answer.sent_at,
        days_in_advance=answer.days_in_advance,
    )


def support_by_kind(
    kind: str, total: domain.SupportTotal, scope: UUID | None, disclosure: Disclosure
) -> SupportByKind:
    return SupportByKind(
        kind=enums.SupportKind(kind),
        records=total.records,
        people=people_count(
            disclosure, cells.support_people(scope, kind), total.people
        ),
        hours=total.hours,
    )


def process(
    report: domain.ImpactReport, disclosure: Disclosure = cells.EXACT
) -> Process:
    answer = report.process
    scope = report.slice.initiative_id
    return Process(
        position=report.position,
        moment=report.moment,
        people_figures=people_figures(disclosure),
        papers=[papers_notice(notice) for notice in answer.papers],
        papers_spread=day_spread(answer.papers_spread),
        target_days=answer.target_days,
        payment_days=day_spread(answer.payment_days),
        paid_within_target=share_or_none(answer.paid_within_target),
        unpaid=answer.unpaid,
        feedback_closure=share_or_none(answer.feedback_closure),
        feedback_days=day_spread(answer.feedback_days),
        response_days=day_spread(answer.response_days),
        awaiting_response=answer.awaiting_response,
        support=[
            support_by_kind(kind, total, scope, disclosure)
            for kind, total in answer.support.items()
        ],
    )


# Principles


@strawberry.type(
    description="The involvement policy as of the answer's moment: its review is due "
    "the review interval after the last review (or adoption)."
)
class PolicyStatus:
    version_label: str = strawberry.field(description="The policy's version.")
    adopted_on: dt.date = strawberry.field(description="The day it was adopted.")
    last_reviewed_on: dt.date = strawberry.field(
        description="The day it was last reviewed (its adoption, if never reviewed)."
    )
    review_due_on: dt.date = strawberry.field(
        description="The day its next review is due."
    )
    overdue: bool = strawberry.field(
        description="Whether the moment's date is after the review was due."
    )
    days_until_due: int = strawberry.field(
        description="Days from the moment to the review due date; negative once "
        "overdue."
    )


@strawberry.type(
    description="4PI Principles: responsiveness (contributions that led to change), "
    "transparency (every decline explained), and the involvement policy's review "
    "status.",
)
class Principles(Answered):
    responsiveness: Share | None = strawberry.field(
        description="Contributions in the slice that are a source of any change, over "
        "all contributions in the slice; null with none."
    )
    declined: int = strawberry.field(
        description="Contributions in the slice whose latest response is declined."
    )
    declines_explained: int = strawberry.field(
        description="Of those, the ones declined with a rationale."
    )
    transparency: Share | None = strawberry.field(
        description="Declines explained / declined; null with no declines."
    )
    policy: PolicyStatus | None = strawberry.field(
        description="The involvement policy; null when the organisation has adopted "
        "none."
    )


def policy_status(answer: domain.PolicyStatus) -> PolicyStatus:
    return PolicyStatus(
        version_label=answer.version_label,
        adopted_on=answer.adopted_on,
        last_reviewed_on=answer.last_reviewed_on,
        review_due_on=answer.review_due_on,
        overdue=answer.overdue,
        days_until_due=answer.days_until_due,
    )


def principles(report: domain.ImpactReport) -> Principles:
    answer = report.principles
    return Principles(
        position=report.position,
        moment=report.moment,
        responsiveness=share_or_none(answer.responsiveness),
        declined=answer.declined,
        declines_explained=answer.declines_explained,
        transparency=share_or_none(answer.transparency),
        policy=None if answer.policy is None else policy_status(answer.policy),
    )


# Payments and benefits


@strawberry.type(
    description="One week (starting Monday) or calendar month of a person's earnings "
    "from fees. A paid fee counts in the period it was paid; an unpaid one in the "
    "period it is owed."
)
class EarningsPeriodTotal:
    period_start: dt.date = strawberry.field(
        description="The first day of the week or month."
    )
    paid: Decimal = strawberry.field(description="Fees paid in the period.")
    owed_unpaid: Decimal = strawberry.field(
        description="Fees owed in the period and not yet paid."
    )
    headroom: Decimal = strawberry.field(
        description="The earnings limit less what was paid; negative once crossed."
    )
    status: enums.EarningsStatus = strawberry.field(
        description="Where the period stands: BELOW the limit, NEAR it (not crossed, "
        "yet paid and owed together are over it: the warning before it is crossed), "
        "or CROSSED (what was paid is over it)."
    )
    crossed: bool = strawberry.field(
        description="Whether what was paid is over the earnings limit.",
        deprecation_reason="Use status, which is CROSSED exactly when this is true.",
    )
    would_cross: bool = strawberry.field(
        description="The warning before the limit is crossed: not crossed, yet paid "
        "and owed together are over it. False once the limit is crossed.",
        deprecation_reason="Use status, which is NEAR exactly when this is true "
        "(and CROSSED once the limit is crossed, when this is false).",
    )


@strawberry.type(
    description="A participant whose latest payment preference sets an earnings limit "
    "they choose to stay under, with their fees period by period. Fees are every fee "
    "paid to or owed this person in the organisation, narrowed by the slice's period "
    "but never by initiative, cycle or area: the limit is the person's, across all "
    "work."
)
class EarningsWatch:
    participant_id: strawberry.ID = strawberry.field(description="The participant.")
    pseudonym: str = strawberry.field(description="The participant's pseudonym.")
    earnings_limit: Decimal = strawberry.field(
        description="The most they choose to earn in a period."
    )
    earnings_period: enums.EarningsPeriod = strawberry.field(
        description="The period the limit applies to."
    )
    periods: list[EarningsPeriodTotal] = strawberry.field(
        description="The periods with fees, in date order."
    )


@strawberry.type(
    description="Payments and benefits: for each participant who set an earnings "
    "limit, the running total in each period and a warning before it is crossed.",
)
class PaymentsAndBenefits(Answered):
    watches: list[EarningsWatch] = strawberry.field(
        description="One watch for each participant with an earnings limit."
    )


def earnings_period_total(answer: domain.EarningsPeriodTotal) -> EarningsPeriodTotal:
    return EarningsPeriodTotal(
        period_start=answer.period_start,
        paid=answer.paid,
        owed_unpaid=answer.owed_unpaid,
        headroom=answer.headroom,
        status=enums.EarningsStatus(answer.status),
        crossed=answer.crossed,
        would_cross=answer.would_cross,
    )


def earnings_watch(answer: domain.EarningsWatch) -> EarningsWatch:
    return EarningsWatch(
        participant_id=record_id(answer.participant_id),
        pseudonym=answer.pseudonym,
        earnings_limit=answer.earnings_limit,
        earnings_period=enums.EarningsPeriod(answer.earnings_period),
        periods=[earnings_period_total(period) for period in answer.periods],
    )


def payments_and_benefits(report: domain.ImpactReport) -> PaymentsAndBenefits:
    return PaymentsAndBenefits(
        position=report.position,
        moment=report.moment,
        watches=[earnings_watch(watch) for watch in report.payments_and_benefits],
    )


# Cycles


@strawberry.type(description="The day a cycle entered one phase.")
class PhaseEntered:
    phase: enums.CyclePhase = strawberry.field(description="The phase.")
    on: dt.date = strawberry.field(description="The day the cycle entered it.")


@strawberry.type(
    description="An Act - Evaluate - Reflect - Learn cycle of an initiative and its "
    "progress."
)
class CycleView:
    initiative_id: strawberry.ID = strawberry.field(
        description="The initiative the cycle belongs to."
    )
    number: int = strawberry.field(description="The cycle's number in the initiative.")
    phase: enums.CyclePhase = strawberry.field(description="The phase it is in.")
    focus_areas: list[enums.ImpactArea] = strawberry.field(
        description="The 4PI impact areas the cycle focuses on."
    )
    entered: list[PhaseEntered] = strawberry.field(
        description="The day each phase was entered, in phase order."
    )
    findings: str = strawberry.field(description="What Evaluate found.")
    reflections: str = strawberry.field(description="What Reflect made of it.")
    lessons: str = strawberry.field(description="What Learn drew from it.")
    planned_actions: list[str] = strawberry.field(
        description="The actions Learn planned for the next Act."
    )
    actions_taken_up: list[str] = strawberry.field(
        description="The actions from the previous cycle that this cycle's Act took up."
    )
    taken_up_by_next: list[str] | None = strawberry.field(
        description="This cycle's planned actions that the next cycle's Act took up; "
        "null while there is no next cycle."
    )


@strawberry.type(
    description="4PI cycles: involvement as a continuous Act - Evaluate - Reflect - "
    "Learn - Act cycle, each cycle's progress.",
)
class Cycles(Answered):
    cycles: list[CycleView] = strawberry.field(
        description="The cycles in the slice (never narrowed by period), in the "
        "order they entered Act."
    )


def cycle_view(answer: domain.CycleView) -> CycleView:
    return CycleView(
        initiative_id=record_id(answer.initiative_id),
        number=answer.number,
        phase=enums.CyclePhase(answer.phase),
        focus_areas=[enums.ImpactArea(area) for area in answer.focus_areas],
        entered=[
            PhaseEntered(phase=enums.CyclePhase(phase), on=day)
            for phase, day in answer.entered.items()
        ],
        findings=answer.findings,
        reflections=answer.reflections,
        lessons=answer.lessons,
        planned_actions=list(answer.planned_actions),
        actions_taken_up=list(answer.actions_taken_up),
        taken_up_by_next=None
        if answer.taken_up_by_next is None
        else list(answer.taken_up_by_next),
    )


def cycles(report: domain.ImpactReport) -> Cycles:
    return Cycles(
        position=report.position,
        moment=report.moment,
        cycles=[cycle_view(cycle) for cycle in report.cycles],
    )
