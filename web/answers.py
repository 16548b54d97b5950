"""The answer pages' content: the five 4PI impact answers and their indicators as sections of captioned tables, read through the GraphQL API for the caller, so every figure is the one the API gives them.

Nothing here decides what a caller may see. Every figure is read by executing the
API's own schema with the caller's role, organisation and personal-data grant: the
same resolvers, the same permission checks and the same small-number suppression
(fourpi.privacy.suppression) as a request over HTTP. A suppressed count reaches this
module without its value, so no table, chart, download or report can carry it; what is
shown in its place is worded in one place, `hidden_text`.
"""

import calendar
import datetime as dt
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import jinja2

from fourpi.config import ApiLimits
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import ImpactArea
from fourpi.graphql.calls import in_thread
from fourpi.graphql.context import Caller, Context, Settings
from fourpi.graphql.schema import build_schema
from fourpi.local_time import local_date
from fourpi.privacy.suppression import patterns_of
from fourpi.projections.views import ImpactViews

JSON = dict[str, Any]

SECTION_TITLES = {
    "intended_outcomes": "Intended outcomes",
    "differences": "Differences made",
    "process_experience": "Process experience",
    "end_result": "End result",
    "beyond": "Beyond the activity",
    "presence": "Presence",
    "process": "Process",
    "principles": "Principles",
    "payments_and_benefits": "Payments and benefits",
    "cycles": "Cycles",
}
"""The sections of every answer page and report, in order: the five questions are
headed as `fourpi answers` heads them, then the 4PI indicators."""

QUESTIONS = {
    "intended_outcomes": "What were the intended outcomes?",
    "differences": "What actual differences did service users and carers make?",
    "process_experience": "How did everyone feel about the process?",
    "end_result": "Did involvement make a difference to the end result?",
    "beyond": "Did it make a difference beyond the activity?",
    "presence": "Are service users and carers present, and how diverse are they "
    "against the population served?",
    "process": "Are papers sent in advance, people paid on time, contributors told "
    "what became of their contributions, and supported?",
    "principles": "Is the organisation responsive and transparent, and is its "
    "involvement policy reviewed on time?",
    "payments_and_benefits": "Is anyone who set an earnings limit about to cross it?",
    "cycles": "How far has each Act - Evaluate - Reflect - Learn cycle come, and "
    "what did it learn?",
}

FEEDBACK_BUCKETS = 8
"""At most this many periods in the feedback loop over time (each is one more answer
the API computes)."""


# How a hidden figure reads: the one place that words it.

WITHHELD_WORDING = "withheld for a past moment, a period or a cycle"
PROTECTED_WORDING = "hidden to protect a small number"
DERIVED_WORDING = PROTECTED_WORDING
"""A share or mean worked out from a hidden count: hidden with it."""


def hidden_text(count: JSON, figures: str, threshold: int) -> str:
    """What a suppressed count of people reads as, given how the answer shows its
    figures (PeopleFigures) and the organisation's threshold, by the count's
    `reason` (SuppressionReason). SMALL_NUMBERS does not say whether the count is a
    small number itself or hidden to protect one (saying so would let small numbers
    be worked out), so neither does the wording: it never calls a hidden count of 12
    "fewer than 5"."""
    reason = str(count.get("reason") or "").upper()
    if figures == "WITHHELD" or reason == "WITHHELD":
        return WITHHELD_WORDING
    return f"fewer than {threshold}, or {PROTECTED_WORDING}"


# Cells of a table


@dataclass(frozen=True)
class Hidden:
    """A figure the caller may not see: only the words shown in its place."""

    text: str


@dataclass(frozen=True)
class Ratio:
    """An exact share (shown as a percentage) or mean (shown to two places)."""

    exact: Fraction
    percent: bool = True

    @property
    def text(self) -> str:
        if self.percent:
            return f"{float(self.exact):.0%}"
        return f"{float(self.exact):.2f}"


Cell = str | int | Ratio | Hidden | None


def shown(cell: Cell) -> str:
    """A cell as it reads on a page, in a CSV file and in the report."""
    if cell is None:
        return "none"
    if isinstance(cell, Hidden | Ratio):
        return cell.text
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    return str(cell)


@dataclass(frozen=True)
class Table:
    """A captioned table of one answer; `key` names it in downloads and links."""

    key: str
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    of: int | None = None
    """When only the first rows are shown: how many rows the whole table has."""

    def first(self, limit: int) -> "Table":
        """The table cut to its first `limit` rows, saying how many it has."""
        if len(self.rows) <= limit:
            return self
        return replace(self, rows=self.rows[:limit], of=len(self.rows))


@dataclass
class Section:
    """One of the five questions or an indicator: its figures in words, its tables,
    and longer text (lessons, actions) where it has any."""

    key: str
    title: str
    question: str
    summary: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[tuple[str, list[str]]] = field(default_factory=list)
    shown_to_caller: bool = True


# The slice and the moment


@dataclass(frozen=True)
class AnswerSlice:
    """Which facts a page or report answers about, within the caller's organisation."""

    initiative_id: UUID | None = None
    impact_area: str | None = None
    cycle: int | None = None
    period_from: dt.date | None = None
    period_to: dt.date | None = None

    def variables(self) -> JSON:
        """The API's SliceInput."""
        given: JSON = {}
        if self.initiative_id is not None:
            given["initiativeId"] = str(self.initiative_id)
        if self.impact_area is not None:
            given["impactArea"] = ImpactArea(self.impact_area).name
        if self.cycle is not None:
            given["cycle"] = self.cycle
        if self.period_from is not None:
            given["periodFrom"] = self.period_from.isoformat()
        if self.period_to is not None:
            given["periodTo"] = self.period_to.isoformat()
        return given


Moment = int | dt.datetime | None
"""A log position, a time with its zone, or None for the record as it stands now."""


def as_of_variables(moment: Moment) -> JSON | None:
    if moment is None:
        return None
    if isinstance(moment, int):
        return {"position": moment}
    # In UTC: the same moment, in a zone the API's DateTime reads (whole minutes;
    # London's own time before 1847 was -00:01:15).
    return {"time": moment.astimezone(dt.UTC).isoformat()}


class AnswerError(Exception):
    """The API refused the question (a bad slice or moment, or the caller's role):
    its message names the field and the rule."""

    def __init__(self, message: str, field: str | None, code: str | None) -> None:
        super().__init__(message)
        self.field = field
        self.code = code


# Reading the API

PEOPLE = "{ value suppressed reason }"
"""A count of people, and why it is hidden when it is (hidden_text words it)."""
SHARE = "{ value numerator denominator }"
DAYS = f"{{ count median {SHARE} p90 longest }}"

ANSWERS_QUERY = f"""
query Answers($slice: SliceInput, $asOf: AsOfInput) {{
  organisation {{ id name }}
  intendedOutcomes(slice: $slice, asOf: $asOf) {{
    position moment
    outcomes {{ outcomeId initiativeId description impactAreas assessment
      involvementDifference evidence assessedOn }}
    byAssessment {{ key count }}
    shareAchieved {SHARE}
  }}
  differences(slice: $slice, asOf: $asOf) {{
    contributions byResponse {{ key count }} shareAdoptedOrAdapted {SHARE}
    changes {{ changeId initiativeId description impactArea scope beyondKind changedOn
      contributions {{ contributionId summary madeOn outcome respondedOn
        feedbackGivenOn }} }}
    byScope {{ key count }} byArea {{ key count }} untracedChanges
  }}
  processExperience(slice: $slice, asOf: $asOf) {{
    peopleFigures
    scores {{ respondentKind dimension count {PEOPLE} mean {SHARE}
      distribution {{ score count {PEOPLE} }} }}
    answers {PEOPLE} involved {PEOPLE} respondents {PEOPLE} responseRate {SHARE}
  }}
  endResult(slice: $slice, asOf: $asOf) {{
    endResultChanges {{ changeId description impactArea changedOn contributionIds }}
    outcomesByDifference {{ key count }}
    outcomesChangedByInvolvement
  }}
  beyond(slice: $slice, asOf: $asOf) {{
    byKind {{ kind changes {{ changeId description impactArea changedOn }} }}
  }}
  presence(slice: $slice, asOf: $asOf) {{
    peopleFigures
    byLevel {{ key count {PEOPLE} }}
    atDecisionMakingLevel {PEOPLE} atDecisionMakingMeetings {PEOPLE}
    meetings {{ meetingId initiativeId title heldAt highLevel decisionMaking
      serviceUsersAndCarers {PEOPLE} reserveNamed standard meetsStandard }}
    failingMeetings
    diversity {{ category total {PEOPLE}
      rows {{ value count {PEOPLE} share {SHARE} referenceShare {SHARE}
        ratio {SHARE} }} }}
  }}
  process(slice: $slice, asOf: $asOf) {{
    peopleFigures
    papers {{ meetingId heldAt sentAt daysInAdvance }}
    papersSpread {DAYS} targetDays paymentDays {DAYS} paidWithinTarget {SHARE}
    unpaid feedbackClosure {SHARE} feedbackDays {DAYS} responseDays {DAYS}
    awaitingResponse
    support {{ kind records people {PEOPLE} hours }}
  }}
  principles(slice: $slice, asOf: $asOf) {{
    responsiveness {SHARE} declined declinesExplained transparency {SHARE}
    policy {{ versionLabel adoptedOn lastReviewedOn reviewDueOn overdue
      daysUntilDue }}
  }}
  cycles(slice: $slice, asOf: $asOf) {{
    cycles {{ initiativeId number phase focusAreas entered {{ phase on }}
      findings reflections lessons plannedActions actionsTakenUp
      takenUpByNext }}
  }}
}}
"""

PAYMENTS_DOCUMENT = """
query Payments($slice: SliceInput, $asOf: AsOfInput) {
  paymentsAndBenefits(slice: $slice, asOf: $asOf) {
    watches { participantId pseudonym earningsLimit earningsPeriod
      periods { periodStart paid owedUnpaid headroom crossed wouldCross } }
  }
}
"""

_SCHEMA = build_schema(ApiLimits(max_tokens=20_000, max_aliases=4 * FEEDBACK_BUCKETS))
"""The API's schema (the same types, resolvers, permissions and suppression) with
room for the answer page's one large document."""


async def ask(
    records: InvolvementRecords,
    views: ImpactViews,
    caller: Caller,
    document: str,
    variables: JSON,
) -> tuple[JSON | None, list[JSON]]:
    """Execute a document through the API's schema as the caller: its data and its
    errors (each with its message and extensions), as the API would answer."""
    # The pages wait for the views as long as the API does (FOURPI_READ_WAIT_SECONDS).
    settings = Settings(
        read_wait_seconds=ApiLimits.from_environment().read_wait_seconds
    )
    context = Context(records=records, views=views, settings=settings, caller=caller)
    result = await _SCHEMA.execute(
        document, variable_values=variables, context_value=context
    )
    errors: list[JSON] = [dict(error.formatted) for error in result.errors or []]
    return result.data, errors


def refused(errors: list[JSON]) -> AnswerError:
    first = errors[0]
    extensions = first.get("extensions") or {}
    return AnswerError(
        str(first.get("message")), extensions.get("field"), extensions.get("code")
    )


@dataclass
class Answers:
    """Everything a page or report shows, as the API answered this caller."""

    caller: Caller
    chosen: AnswerSlice
    moment: Moment
    threshold: int
    data: JSON
    payments: JSON | None
    """The payments-and-benefits answer; None where the caller may not see it."""
    initiatives: dict[str, JSON]
    """The organisation's initiatives as of the answers' position, by id."""
    feedback_over_time: list[tuple[str, int, JSON | None]]
    """(period, contributions made in it, share whose contributors were told)."""

    @property
    def position(self) -> int:
        return int(self.data["intendedOutcomes"]["position"])

    @property
    def as_of_date(self) -> str:
        return str(self.data["intendedOutcomes"]["moment"])

    @property
    def organisation_name(self) -> str:
        return str(self.data["organisation"]["name"])

    @property
    def initiative_name(self) -> str | None:
        chosen = self.chosen.initiative_id
        if chosen is None:
            return None
        return str(self.initiatives.get(str(chosen), {}).get("name", chosen))

    def hidden(self, count: JSON, figures: str) -> Hidden:
        return Hidden(hidden_text(count, figures, self.threshold))


async def gather(
    records: InvolvementRecords,
    views: ImpactViews,
    caller: Caller,
    chosen: AnswerSlice,
    moment: Moment = None,
) -> Answers:
    """Every answer of a page for this caller, slice and moment, through the API."""
    variables: JSON = {"slice": chosen.variables(), "asOf": as_of_variables(moment)}
    data, errors = await ask(records, views, caller, ANSWERS_QUERY, variables)
    if errors or data is None:
        raise refused(errors)
    payments_data, payment_errors = await ask(
        records, views, caller, PAYMENTS_DOCUMENT, variables
    )
    payments = None if payment_errors or payments_data is None else payments_data
    organisation_id = UUID(data["organisation"]["id"])
    position = int(data["intendedOutcomes"]["position"])
    initiatives, threshold = await in_thread(
        initiatives_and_threshold, views, organisation_id, position
    )
    answers = Answers(
        caller=caller,
        chosen=chosen,
        moment=moment,
        threshold=threshold,
        data=data,
        payments=None if payments is None else payments["paymentsAndBenefits"],
        initiatives=initiatives,
        feedback_over_time=[],
    )
    answers.feedback_over_time = await feedback_over_time(records, views, answers)
    return answers


def initiatives_and_threshold(
    views: ImpactViews, organisation_id: UUID, position: int
) -> tuple[dict[str, JSON], int]:
    """The organisation's initiatives as of the answers' position (names and how
    each was launched, no figures), and its small-number threshold now, as the API's
    suppression reads it."""
    facts = views.cache.facts(organisation_id, position)
    initiatives = {
        str(row["initiative_id"]): {
            "id": str(row["initiative_id"]),
            "name": str(row["name"]),
            "level": str(row["level"]),
            "involvement_kind": str(row["involvement_kind"]),
            "started_on": row["started_on"],
        }
        for row in facts["initiatives"]
    }
    return initiatives, patterns_of(views).threshold(organisation_id, views.head())


def periods(first: dt.date, last: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """Calendar quarters from first to last, or years when there are too many
    quarters; at most FEEDBACK_BUCKETS, the latest kept."""
    quarters: list[tuple[str, dt.date, dt.date]] = []
    year, quarter = first.year, (first.month - 1) // 3
    while (year, quarter) <= (last.year, (last.month - 1) // 3):
        start = dt.date(year, 3 * quarter + 1, 1)
        last_month = 3 * quarter + 3  # not the next quarter's eve: 9999 has none
        end = dt.date(year, last_month, calendar.monthrange(year, last_month)[1])
        quarters.append((f"{year} Q{quarter + 1}", start, end))
        year, quarter = (year + 1, 0) if quarter == 3 else (year, quarter + 1)
    if len(quarters) <= FEEDBACK_BUCKETS:
        return quarters
    years = [
        (str(y), dt.date(y, 1, 1), dt.date(y, 12, 31))
        for y in range(first.year, last.year + 1)
    ]
    return years[-FEEDBACK_BUCKETS:]


async def feedback_over_time(
    records: InvolvementRecords, views: ImpactViews, answers: Answers
) -> list[tuple[str, int, JSON | None]]:
    """The feedback loop period by period: the contributions made in each and the
    share whose contributors were told, each asked of the API for that period."""
    chosen = answers.chosen
    scope = [
        initiative
        for initiative in answers.initiatives.values()
        if chosen.initiative_id is None or initiative["id"] == str(chosen.initiative_id)
    ]
    if not scope or answers.data["differences"]["contributions"] == 0:
        return []
    first = min(initiative["started_on"] for initiative in scope)
    last = dt.date.fromisoformat(answers.as_of_date)
    if chosen.period_from is not None:
        first = max(first, chosen.period_from)
    if chosen.period_to is not None:
        last = min(last, chosen.period_to)
    buckets = periods(first, last)
    if not buckets:
        return []
    fields = []
    variables: JSON = {"asOf": as_of_variables(answers.moment)}
    for index, (_, start, end) in enumerate(buckets):
        narrowed = replace(
            chosen,
            period_from=max(start, chosen.period_from or start),
            period_to=min(end, chosen.period_to or end),
        )
        variables[f"s{index}"] = narrowed.variables()
        fields.append(
            f"c{index}: differences(slice: $s{index}, asOf: $asOf) {{ contributions }} "
            f"f{index}: process(slice: $s{index}, asOf: $asOf) "
            f"{{ feedbackClosure {SHARE} }}"
        )
    declared = ", ".join(f"$s{i}: SliceInput" for i in range(len(buckets)))
    document = f"query Feedback({declared}, $asOf: AsOfInput) {{ {' '.join(fields)} }}"
    data, errors = await ask(records, views, answers.caller, document, variables)
    if errors or data is None:
        raise refused(errors)
    return [
        (
            label,
            int(data[f"c{index}"]["contributions"]),
            data[f"f{index}"]["feedbackClosure"],
        )
        for index, (label, _, _) in enumerate(buckets)
    ]


# From the API's figures to cells


def words(value: object) -> str:
    """A vocabulary value or enum name as plain words: NOT_ASSESSED -> Not assessed."""
    if value is None:
        return "none"
    text = str(value).replace("_", " ").lower()
    return text[:1].upper() + text[1:]


def ratio(share: JSON | None, *, percent: bool = True) -> Ratio | None:
    if share is None:
        return None
    return Ratio(Fraction(share["numerator"], share["denominator"]), percent)


def people(answers: Answers, count: JSON, figures: str) -> int | Hidden:
    """A count of people as the caller may see it."""
    if count["suppressed"]:
        return answers.hidden(count, figures)
    return int(count["value"])


def derived(
    share: JSON | None, *counts: JSON, percent: bool = True
) -> Ratio | Hidden | None:
    """A share or mean worked out from counts of people: withheld, and said so,
    when any of them is hidden."""
    if any(count["suppressed"] for count in counts):
        return Hidden(DERIVED_WORDING)
    return ratio(share, percent=percent)


def day(value: str | None) -> str | None:
    """A date or time from the API as a reader's date (for a time, the date where
    the organisation works)."""
    if value is None or len(value) == len("2024-05-01"):
        return value
    return local_date(dt.datetime.fromisoformat(value)).isoformat()


def spread_row(name: str, spread: JSON) -> tuple[Cell, ...]:
    median = spread["median"]
    return (
        name,
        spread["count"],
        None
        if median is None
        else Ratio(Fraction(median["numerator"], median["denominator"]), percent=False),
        spread["p90"],
        spread["longest"],
    )


def counted(key: str, caption: str, label: str, counts: list[JSON]) -> Table:
    return Table(
        key,
        caption,
        (label, "Count"),
        tuple((words(c["key"]), int(c["count"])) for c in counts),
    )


def initiative_name(answers: Answers, initiative_id: str) -> str:
    return str(answers.initiatives.get(initiative_id, {}).get("name", initiative_id))


# The sections


def intended_outcomes_section(answers: Answers) -> Section:
    answer = answers.data["intendedOutcomes"]
    section = new_section("intended_outcomes")
    total = len(answer["outcomes"])
    share = ratio(answer["shareAchieved"])
    section.summary.append(
        f"{total} intended outcomes; achieved or partly achieved: {shown(share)}."
    )
    section.tables.append(
        counted(
            "outcomes-by-assessment",
            "Intended outcomes by their latest assessment",
            "Assessment",
            answer["byAssessment"],
        )
    )
    section.tables.append(
        Table(
            "outcomes",
            "Each intended outcome and its latest assessment",
            (
                "Outcome",
                "Initiative",
                "Impact areas",
                "Assessment",
                "Difference involvement made",
                "Assessed on",
                "Evidence",
            ),
            tuple(
                (
                    o["description"],
                    initiative_name(answers, o["initiativeId"]),
                    ", ".join(words(a) for a in o["impactAreas"]),
                    words(o["assessment"] or "not_assessed"),
                    None
                    if o["involvementDifference"] is None
                    else words(o["involvementDifference"]),
                    o["assessedOn"],
                    o["evidence"],
                )
                for o in answer["outcomes"]
            ),
        )
    )
    return section


def contributions_flow(answers: Answers) -> tuple[tuple[str, int], ...]:
    """What became of contributions: made, adopted or adapted, led to a change,
    contributors told; each a count of contributions (never of people), exact from
    the API's shares of the same contributions."""
    differences = answers.data["differences"]
    total = int(differences["contributions"])
    by_response = {c["key"]: int(c["count"]) for c in differences["byResponse"]}

    def of(share: JSON | None) -> int:
        exact = ratio(share)
        return 0 if exact is None else int(exact.exact * total)

    return (
        ("Contributions", total),
        (
            "Adopted or adapted",
            by_response.get("adopted", 0) + by_response.get("adapted", 0),
        ),
        ("Led to a change", of(answers.data["principles"]["responsiveness"])),
        ("Contributors told", of(answers.data["process"]["feedbackClosure"])),
    )


def differences_section(answers: Answers) -> Section:
    answer = answers.data["differences"]
    section = new_section("differences")
    section.summary.append(
        f"{len(answer['changes'])} changes traced to {answer['contributions']} "
        f"contributions; adopted or adapted: "
        f"{shown(ratio(answer['shareAdoptedOrAdapted']))}; changes with no source "
        f"contribution: {answer['untracedChanges']}."
    )
    section.tables.append(
        Table(
            "contributions-flow",
            "What became of contributions",
            ("Stage", "Contributions"),
            contributions_flow(answers),
        )
    )
    section.tables.append(
        counted(
            "contributions-by-response",
            "Contributions by the organisation's latest response",
            "Response",
            answer["byResponse"],
        )
    )
    section.tables.append(
        counted("changes-by-scope", "Changes by scope", "Scope", answer["byScope"])
    )
    section.tables.append(
        counted(
            "changes-by-area", "Changes by impact area", "Impact area", answer["byArea"]
        )
    )
    section.tables.append(you_said_we_did(answers))
    return section


def you_said_we_did(answers: Answers) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for change in answers.data["differences"]["changes"]:
        for link in change["contributions"]:
            rows.append(
                (
                    link["summary"],
                    link["madeOn"],
                    words(link["outcome"] or "awaiting_response"),
                    change["description"],
                    words(change["scope"]),
                    change["changedOn"],
                    link["feedbackGivenOn"] or "not yet",
                )
            )
    return Table(
        "you-said-we-did",
        "You said, we did: each contribution and the change it led to",
        (
            "You said",
            "Said on",
            "Our response",
            "We did",
            "Scope",
            "Changed on",
            "Contributors told on",
        ),
        tuple(rows),
    )


def process_experience_section(answers: Answers) -> Section:
    answer = answers.data["processExperience"]
    figures = answer["peopleFigures"]
    section = new_section("process_experience")
    section.summary.append(
        f"Answers: {shown(people(answers, answer['answers'], figures))}; respondents: "
        f"{shown(people(answers, answer['respondents'], figures))} of "
        f"{shown(people(answers, answer['involved'], figures))} involved; response "
        f"rate: "
        f"{shown(derived(answer['responseRate'], answer['respondents'], answer['involved']))}."
    )
    rows: list[tuple[Cell, ...]] = []
    for summary in answer["scores"]:
        distribution = {d["score"]: d["count"] for d in summary["distribution"]}
        rows.append(
            (
                words(summary["respondentKind"]),
                words(summary["dimension"]),
                people(answers, summary["count"], figures),
                derived(
                    summary["mean"],
                    summary["count"],
                    *distribution.values(),
                    percent=False,
                ),
                *(
                    people(answers, distribution[score], figures)
                    if score in distribution
                    else 0
                    for score in range(1, 6)
                ),
            )
        )
    section.tables.append(
        Table(
            "process-scores",
            "Process-experience scores (1 to 5) by respondent kind and dimension",
            (
                "Respondent kind",
                "Dimension",
                "Scores given",
                "Mean score",
                "Scored 1",
                "Scored 2",
                "Scored 3",
                "Scored 4",
                "Scored 5",
            ),
            tuple(rows),
        )
    )
    return section


def end_result_section(answers: Answers) -> Section:
    answer = answers.data["endResult"]
    section = new_section("end_result")
    section.summary.append(
        f"{len(answer['endResultChanges'])} end-result changes; intended outcomes "
        f"changed by involvement: {len(answer['outcomesChangedByInvolvement'])}."
    )
    section.tables.append(
        Table(
            "end-result-changes",
            "Changes to the end result",
            ("Change", "Impact area", "Changed on", "Source contributions"),
            tuple(
                (
                    c["description"],
                    words(c["impactArea"]),
                    c["changedOn"],
                    len(c["contributionIds"]),
                )
                for c in answer["endResultChanges"]
            ),
        )
    )
    section.tables.append(
        counted(
            "outcomes-by-difference",
            "Intended outcomes by the difference involvement made to them",
            "Difference involvement made",
            answer["outcomesByDifference"],
        )
    )
    return section


def beyond_section(answers: Answers) -> Section:
    answer = answers.data["beyond"]
    section = new_section("beyond")
    section.summary.append(
        f"{sum(len(k['changes']) for k in answer['byKind'])} changes beyond the "
        "activity."
    )
    section.tables.append(
        Table(
            "beyond-by-kind",
            "Changes beyond the activity by kind",
            ("Kind", "Changes"),
            tuple((words(k["kind"]), len(k["changes"])) for k in answer["byKind"]),
        )
    )
    section.tables.append(
        Table(
            "beyond-changes",
            "Each change beyond the activity",
            ("Kind", "Change", "Impact area", "Changed on"),
            tuple(
                (
                    words(k["kind"]),
                    c["description"],
                    words(c["impactArea"]),
                    c["changedOn"],
                )
                for k in answer["byKind"]
                for c in k["changes"]
            ),
        )
    )
    return section


def presence_section(answers: Answers) -> Section:
    answer = answers.data["presence"]
    figures = answer["peopleFigures"]
    section = new_section("presence")
    failing = len(answer["failingMeetings"])
    section.summary.append(
        f"{len(answer['meetings'])} meetings, {failing} below the 4PI standard (at "
        "least two, ideally three, service users or carers, and a reserve named for "
        "a high-level meeting)."
    )
    section.tables.append(
        Table(
            "presence-by-level",
            "Service users and carers involved, by level",
            ("Where", "Service users and carers"),
            (
                *(
                    (words(level["key"]), people(answers, level["count"], figures))
                    for level in answer["byLevel"]
                ),
                (
                    "At a decision-making level",
                    people(answers, answer["atDecisionMakingLevel"], figures),
                ),
                (
                    "At decision-making meetings",
                    people(answers, answer["atDecisionMakingMeetings"], figures),
                ),
            ),
        )
    )
    section.tables.append(
        Table(
            "meetings",
            "Each meeting's service users and carers against the standard of two, "
            "ideally three",
            (
                "Meeting",
                "Held on",
                "High level",
                "Decision-making",
                "Service users and carers",
                "Standard",
                "Reserve named",
                "Meets the standard",
            ),
            tuple(
                (
                    m["title"],
                    day(m["heldAt"]),
                    "yes" if m["highLevel"] else "no",
                    "yes" if m["decisionMaking"] else "no",
                    people(answers, m["serviceUsersAndCarers"], figures),
                    answers.hidden(m["serviceUsersAndCarers"], figures)
                    if m["standard"] is None
                    else words(m["standard"]),
                    "yes" if m["reserveNamed"] else "no",
                    "yes" if m["meetsStandard"] else "no",
                )
                for m in answer["meetings"]
            ),
        )
    )
    for category in answer["diversity"]:
        total = category["total"]
        section.tables.append(
            Table(
                f"diversity-{category['category'].lower().replace('_', '-')}",
                f"Diversity: {words(category['category']).lower()} of service users "
                f"and carers involved (counted: "
                f"{shown(people(answers, total, figures))}) against the reference "
                "population",
                (
                    "Value",
                    "Service users and carers",
                    "Share",
                    "Reference share",
                    "Ratio",
                ),
                tuple(
                    (
                        words(row["value"]),
                        people(answers, row["count"], figures),
                        derived(row["share"], row["count"], total),
                        ratio(row["referenceShare"]),
                        derived(row["ratio"], row["count"], total, percent=False),
                    )
                    for row in category["rows"]
                ),
            )
        )
    return section


def process_section(answers: Answers) -> Section:
    answer = answers.data["process"]
    figures = answer["peopleFigures"]
    section = new_section("process")
    section.summary.append(
        f"Paid within {answer['targetDays']} days: "
        f"{shown(ratio(answer['paidWithinTarget']))}; unpaid: {answer['unpaid']}; "
        f"contributors told what became of their contribution: "
        f"{shown(ratio(answer['feedbackClosure']))}; awaiting a response: "
        f"{answer['awaitingResponse']}."
    )
    section.tables.append(
        Table(
            "days",
            "Days to pay, to respond, to tell contributors, and papers in advance",
            ("Measure", "How many", "Median days", "90% within days", "Longest days"),
            (
                spread_row("Days from owed to paid", answer["paymentDays"]),
                spread_row(
                    "Days from contribution to response", answer["responseDays"]
                ),
                spread_row(
                    "Days from contribution to feedback", answer["feedbackDays"]
                ),
                spread_row(
                    "Days papers were sent before the meeting", answer["papersSpread"]
                ),
            ),
        )
    )
    section.tables.append(
        Table(
            "feedback-over-time",
            "The feedback loop over time: contributions made in each period, and the "
            "share whose contributors were told",
            ("Period", "Contributions", "Contributors told"),
            tuple(
                (label, made, ratio(told))
                for label, made, told in answers.feedback_over_time
            ),
        )
    )
    section.tables.append(
        Table(
            "papers",
            "When each meeting's papers were sent",
            ("Meeting held on", "Papers sent on", "Days in advance"),
            tuple(
                (day(p["heldAt"]), day(p["sentAt"]) or "not sent", p["daysInAdvance"])
                for p in answer["papers"]
            ),
        )
    )
    section.tables.append(
        Table(
            "support",
            "Support and training given",
            ("Kind", "Times given", "People reached", "Hours"),
            tuple(
                (
                    words(s["kind"]),
                    s["records"],
                    people(answers, s["people"], figures),
                    str(s["hours"]),
                )
                for s in answer["support"]
            ),
        )
    )
    return section


def principles_section(answers: Answers) -> Section:
    answer = answers.data["principles"]
    section = new_section("principles")
    policy = answer["policy"]
    section.summary.append(
        f"Contributions that led to a change: {shown(ratio(answer['responsiveness']))}; "
        f"declines explained: {answer['declinesExplained']} of {answer['declined']}; "
        + (
            "no involvement policy adopted."
            if policy is None
            else f"policy review due on {policy['reviewDueOn']}"
            + (" (overdue)." if policy["overdue"] else ".")
        )
    )
    rows: list[tuple[Cell, ...]] = [
        (
            "Responsiveness: contributions that led to a change",
            ratio(answer["responsiveness"]),
        ),
        ("Contributions declined", answer["declined"]),
        ("Declines explained", answer["declinesExplained"]),
        ("Transparency: declines explained", ratio(answer["transparency"])),
    ]
    if policy is None:
        rows.append(("Involvement policy", "none adopted"))
    else:
        rows += [
            ("Involvement policy version", policy["versionLabel"]),
            ("Policy last reviewed on", policy["lastReviewedOn"]),
            ("Policy review due on", policy["reviewDueOn"]),
            ("Policy review overdue", "yes" if policy["overdue"] else "no"),
        ]
    section.tables.append(
        Table(
            "principles",
            "Responsiveness, transparency and policy review",
            ("Measure", "Value"),
            tuple(rows),
        )
    )
    return section


def payments_section(answers: Answers) -> Section:
    section = new_section("payments_and_benefits")
    if answers.payments is None:
        section.shown_to_caller = False
        section.summary.append(
            "Not shown: it names people, so only a manager's or auditor's token "
            "granted personal data may see it."
        )
        return section
    watches = answers.payments["watches"]
    warned = sum(
        1 for w in watches if any(p["crossed"] or p["wouldCross"] for p in w["periods"])
    )
    section.summary.append(
        f"{len(watches)} people set an earnings limit; {warned} near or over it in "
        "some period."
    )
    section.tables.append(
        Table(
            "earnings",
            "Earnings against each person's chosen limit, period by period",
            (
                "Person",
                "Limit",
                "Per",
                "Period starting",
                "Paid",
                "Owed, unpaid",
                "Headroom",
                "Crossed",
                "Would cross",
            ),
            tuple(
                (
                    w["pseudonym"],
                    str(w["earningsLimit"]),
                    words(w["earningsPeriod"]),
                    p["periodStart"],
                    str(p["paid"]),
                    str(p["owedUnpaid"]),
                    str(p["headroom"]),
                    "yes" if p["crossed"] else "no",
                    "yes" if p["wouldCross"] else "no",
                )
                for w in watches
                for p in w["periods"]
            ),
        )
    )
    return section


PHASES = ("ACT", "EVALUATE", "REFLECT", "LEARN")


def cycles_section(answers: Answers) -> Section:
    cycles = answers.data["cycles"]["cycles"]
    section = new_section("cycles")
    section.summary.append(f"{len(cycles)} Act - Evaluate - Reflect - Learn cycles.")
    rows: list[tuple[Cell, ...]] = []
    for cycle in cycles:
        entered = {e["phase"]: e["on"] for e in cycle["entered"]}
        name = initiative_name(answers, cycle["initiativeId"])
        rows.append(
            (
                name,
                cycle["number"],
                words(cycle["phase"]),
                *(entered.get(phase) for phase in PHASES),
                ", ".join(words(a) for a in cycle["focusAreas"]),
            )
        )
        said = (
            ("Found", cycle["findings"]),
            ("Reflected", cycle["reflections"]),
            ("Learnt", cycle["lessons"]),
        )
        lines = [
            *(f"{phase}: {text}" for phase, text in said if text),
            *(f"Planned for the next Act: {a}" for a in cycle["plannedActions"]),
            *(f"Taken up from the cycle before: {a}" for a in cycle["actionsTakenUp"]),
        ]
        section.notes.append((f"{name}, cycle {cycle['number']}", lines))
    section.tables.append(
        Table(
            "cycles",
            "Each initiative's cycles and the day each phase was entered",
            (
                "Initiative",
                "Cycle",
                "Phase now",
                "Act",
                "Evaluate",
                "Reflect",
                "Learn",
                "Focus",
            ),
            tuple(rows),
        )
    )
    return section


def new_section(key: str) -> Section:
    return Section(key, SECTION_TITLES[key], QUESTIONS[key])


def sections(answers: Answers) -> list[Section]:
    """The five questions, then the indicators, as a page and the report show them."""
    return [
        intended_outcomes_section(answers),
        differences_section(answers),
        process_experience_section(answers),
        end_result_section(answers),
        beyond_section(answers),
        presence_section(answers),
        process_section(answers),
        principles_section(answers),
        payments_section(answers),
        cycles_section(answers),
    ]


def all_tables(answers: Answers) -> list[Table]:
    return [table for section in sections(answers) for table in section.tables]


# Rendering a page

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("fourpi.web", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.globals.update(shown=shown, is_hidden=lambda cell: isinstance(cell, Hidden))


NARROWING_LABELS = {
    "area": "Impact area",
    "cycle": "Cycle number",
    "from": "From",
    "to": "To",
    "as_of": "As it stood at",
}
"""The labels of the narrowing form's fields (templates/answers/_narrowing.html), by
the query parameter each gives."""


def answers_page(prefix: str, initiative_id: object | None) -> str:
    """The answer page of the organisation (no initiative) or of an initiative,
    below the answer pages' root `prefix`."""
    return prefix if initiative_id is None else f"{prefix}/initiatives/{initiative_id}"


@dataclass(frozen=True)
class Links:
    """Where a page's links go: the page itself, its slice kept in every link."""

    prefix: str
    """The answer pages' root, e.g. /answers."""
    chosen: AnswerSlice
    moment: Moment

    def query(self, *, initiative: bool = True) -> str:
        given: dict[str, str] = {}
        if self.chosen.impact_area is not None:
            given["area"] = self.chosen.impact_area
        if self.chosen.cycle is not None:
            given["cycle"] = str(self.chosen.cycle)
        if self.chosen.period_from is not None:
            given["from"] = self.chosen.period_from.isoformat()
        if self.chosen.period_to is not None:
            given["to"] = self.chosen.period_to.isoformat()
        if self.moment is not None:
            given["as_of"] = as_of_text(self.moment)
        return "?" + urlencode(given) if given else ""

    @property
    def page(self) -> str:
        return answers_page(self.prefix, self.chosen.initiative_id)

    @property
    def organisation(self) -> str:
        return self.prefix + self.query()

    def initiative(self, initiative_id: str) -> str:
        return answers_page(self.prefix, initiative_id) + self.query()

    def csv(self, key: str) -> str:
        return f"{self.page}/tables/{key}.csv{self.query()}"

    @property
    def xlsx(self) -> str:
        return f"{self.page}/tables.xlsx{self.query()}"

    @property
    def pdf(self) -> str:
        return f"{self.page}/report.pdf{self.query()}"

    @property
    def html(self) -> str:
        return f"{self.page}/report.html{self.query()}"


def as_of_text(moment: Moment) -> str:
    if moment is None:
        return ""
    return str(moment) if isinstance(moment, int) else moment.isoformat()


def narrowing(answers: Answers) -> str:
    """The slice in words, beyond its organisation and initiative."""
    chosen = answers.chosen
    parts = []
    if chosen.impact_area is not None:
        parts.append(f"the impact area {words(chosen.impact_area).lower()}")
    if chosen.cycle is not None:
        parts.append(f"cycle {chosen.cycle}")
    if chosen.period_from is not None or chosen.period_to is not None:
        parts.append(
            f"the period {chosen.period_from or 'from the start'} to "
            f"{chosen.period_to or 'now'}"
        )
    return ", ".join(parts)


def subject(answers: Answers) -> str:
    return answers.initiative_name or answers.organisation_name


PAGE_ROWS = 500
"""The most rows a table shows on a page; its CSV and the XLSX hold every row."""


def cut(all_sections: list[Section], limit: int) -> list[Section]:
    """The sections with each table cut to its first `limit` rows."""
    return [
        replace(section, tables=[table.first(limit) for table in section.tables])
        for section in all_sections
    ]


def areas() -> list[tuple[str, str]]:
    """The narrowing form's impact areas: value and words."""
    return [(area.value, words(area.value)) for area in ImpactArea]


def page_context(answers: Answers, links: Links) -> dict[str, Any]:
    """What templates/answers/page.html shows (charts drawn: call it in a thread)."""
    from fourpi.web.charts import charts

    whole = sections(answers)
    drawn = {
        key: chart.drawn()
        for key, chart in charts(answers, [t for s in whole for t in s.tables]).items()
    }
    return {
        "answers": answers,
        "subject": subject(answers),
        "narrowed": narrowing(answers),
        "chosen": answers.chosen,
        "as_of_text": as_of_text(answers.moment),
        "areas": areas(),
        "labels": NARROWING_LABELS,
        "sections": cut(whole, PAGE_ROWS),
        "charts": drawn,
        "links": links,
    }


def page_html(answers: Answers, links: Links) -> str:
    """The answer page of an organisation or initiative on its own, without the
    signed-in frame's header (the app renders page_context in the frame)."""
    return TEMPLATES.get_template("answers/page.html").render(
        page_context(answers, links)
    )
