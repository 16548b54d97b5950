"""The query fields that answer the five 4PI impact questions and the indicators around them, for any slice and past moment."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import replace
from typing import Annotated, Any, TypeVar

import strawberry

from fourpi.collection import collection_paused
from fourpi.graphql import answer_types as answers
from fourpi.graphql.context import FourPIInfo
from fourpi.graphql.permissions import READERS_OF_ANSWERS, READERS_OF_PEOPLE
from fourpi.graphql.reading import AsOfInput, SliceInput, disclosed, report_for
from fourpi.memo import Memo
from fourpi.projections.answers import DEFAULT_PAYMENT_TARGET_DAYS, ImpactReport

SliceArgument = Annotated[
    SliceInput | None,
    strawberry.argument(
        description="Which facts to answer about; by default all of the caller's "
        "organisation. A period (periodFrom, periodTo) narrows by the domain's own "
        "dates: when a meeting was held, a contribution made, an answer given; it "
        "says nothing of when those facts were recorded, so a meeting held in March "
        "but logged in May is in a March period, in the record as it stands now. "
        'Example: {periodFrom: "2024-01-01", periodTo: "2024-03-31"} is the '
        "first quarter's meetings, contributions and answers, however late they were "
        "logged. Contrast asOf."
    ),
]
AsOfArgument = Annotated[
    AsOfInput | None,
    strawberry.argument(
        description="A past moment to answer as of; by default the record as it "
        "stands now, including what this client has just written. asOf is the record "
        "as it stood when that moment was recorded: only the facts logged by then, "
        "whatever dates they carry, and none of the corrections logged since. "
        'Example: {time: "2024-04-01T09:00:00Z"} is what the answers said on the '
        "morning of 1 April, before the March meeting logged in May; to ask about "
        "March itself, give a period instead (see slice). The two combine: a period "
        "as of a moment is that period as the record then told it.",
    ),
]
TargetDaysArgument = Annotated[
    int,
    strawberry.argument(
        description="The payment target: the most days from owed to paid that count "
        "as paid on time."
    ),
]


T = TypeVar("T")

CONVERTED_ANSWERS_KEPT = 1024
_CONVERTED: Memo[tuple[Any, Any]] = Memo(CONVERTED_ANSWERS_KEPT)
"""Answers already converted for the API, each with the report's answer it was
converted from (kept with it, so that no other answer can take its id while the
conversion is kept)."""


DISCLOSURES_KEPT = 32
"""How many ways of showing counts of people (`how`: each holds its organisation's
suppression pattern, some 41,000 cells and 1 MB at 100k events) the kept
conversions may depend on; as many as the patterns kept
(`fourpi.privacy.suppression.PATTERNS_KEPT`)."""
_DISCLOSURES: OrderedDict[Hashable, None] = OrderedDict()
"""The ways of showing counts the kept conversions depend on, least lately used first."""
_DISCLOSURES_LOCK = threading.Lock()


def _note_disclosure(how: tuple[Any, ...]) -> None:
    """Note that conversions depending on `how` are used now; when that makes more
    than DISCLOSURES_KEPT, drop the conversions of the least lately used.

    Every write that moves a count of people gives the organisation a new pattern,
    and so a new way of showing its counts. Kept only by the number of conversions
    (CONVERTED_ANSWERS_KEPT, which many slices at one position need), conversions
    at hundreds of past positions each held their pattern: measured at 100k events,
    the server grew by 2.2 MB a write for at least 400 writes (1.15 GB)."""
    with _DISCLOSURES_LOCK:
        if how in _DISCLOSURES:
            _DISCLOSURES.move_to_end(how)
            return
        _DISCLOSURES[how] = None
        if len(_DISCLOSURES) <= DISCLOSURES_KEPT:
            return
        oldest, _ = _DISCLOSURES.popitem(last=False)
    _CONVERTED.drop(lambda key: key[4:] == oldest)


def once_per_report(convert: Callable[..., T], report: ImpactReport, *how: Any) -> T:
    """An answer converted from a report for the API, converted once and then shared
    by every request that gets the same answer: of the same report, of one moved on
    from it (reports are kept per log position, so the busy case is many evaluators
    asking at one position, and the next is the first answer after a write that
    changed nothing read), or of a report after a write that left this answer as it
    was (`evaluate` takes such answers from the last report as they are). Each
    conversion is named after the report's field it converts and reads nothing else
    of the report but its slice, moment and position; `how` is the rest of what it
    depends on (how people are disclosed). The converted answers are never changed
    after they are made."""
    answer = getattr(report, convert.__name__)

    def converted() -> tuple[Any, Any]:
        with collection_paused():
            return answer, convert(report, *how)

    if how:
        _note_disclosure(how)
    kept, found = _CONVERTED.get(
        (convert, id(answer), report.slice, report.moment, *how), converted
    )
    assert kept is answer
    if found.position != report.position:
        # A shallow copy: the converted lists are shared, never changed.
        found = replace(found, position=report.position)
    result: T = found
    return result


async def resolve_intended_outcomes(
    info: FourPIInfo, slice: SliceArgument = None, as_of: AsOfArgument = None
) -> answers.IntendedOutcomes:
    return once_per_report(
        answers.intended_outcomes, await report_for(info, slice, as_of)
    )


async def resolve_differences(
    info: FourPIInfo, slice: SliceArgument = None, as_of: AsOfArgument = None
) -> answers.Differences:
    return once_per_report(answers.differences, await report_for(info, slice, as_of))


async def resolve_process_experience(
    info: FourPIInfo, slice: SliceArgument = None, as_of: AsOfArgument = None
) -> answers.ProcessExperience:
    return once_per_report(
        answers.process_experience, *await disclosed(info, slice, as_of)
    )


async def resolve_end_result(
    info: FourPIInfo, slice: SliceArgument = None, as_of: AsOfArgument = None
) -> answers.EndResult:
    return once_per_report(answers.end_result, await report_for(info, slice, as_of))


async def resolve_beyond(
    info: FourPIInfo, slice: SliceArgument = None, as_of: AsOfArgument = None
) -> answers.Beyond:
    return once_per_report(answers.beyond, await report_for(info, slice, as_of))


async def resolve_presence(
    info: FourPIInfo, slice: SliceArgument = None, as_of: AsOfArgument = None
) -> answers.Presence:
    return once_per_report(answers.presence, *await disclosed(info, slice, as_of))


async def resolve_process(
    info: FourPIInfo,
    slice: SliceArgument = None,
    as_of: AsOfArgument = None,
    target_days: TargetDaysArgument = DEFAULT_PAYMENT_TARGET_DAYS,
) -> answers.Process:
    return once_per_report(
        answers.process, *await disclosed(info, slice, as_of, target_days)
    )


async def resolve_principles(
    info: FourPIInfo, slice: SliceArgument = None, as_of: AsOfArgument = None
) -> answers.Principles:
    return once_per_report(answers.principles, await report_for(info, slice, as_of))


async def resolve_payments_and_benefits(
    info: FourPIInfo, slice: SliceArgument = None, as_of: AsOfArgument = None
) -> answers.PaymentsAndBenefits:
    return once_per_report(
        answers.payments_and_benefits, await report_for(info, slice, as_of)
    )


async def resolve_cycles(
    info: FourPIInfo, slice: SliceArgument = None, as_of: AsOfArgument = None
) -> answers.Cycles:
    return once_per_report(answers.cycles, await report_for(info, slice, as_of))


@strawberry.type(
    description="The 4PI answers of the caller's organisation, for an initiative or the "
    "whole organisation, narrowed by impact area, cycle and period, as of now or any "
    "past moment."
)
class AnswerQueries:
    intended_outcomes: answers.IntendedOutcomes = strawberry.field(
        resolver=resolve_intended_outcomes,
        description="4PI impact question 1: what were the intended outcomes?",
        extensions=READERS_OF_ANSWERS,
    )
    differences: answers.Differences = strawberry.field(
        resolver=resolve_differences,
        description="4PI impact question 2: what actual differences did service users "
        "and carers make?",
        extensions=READERS_OF_ANSWERS,
    )
    process_experience: answers.ProcessExperience = strawberry.field(
        resolver=resolve_process_experience,
        description="4PI impact question 3: how did everyone feel about the process?",
        extensions=READERS_OF_ANSWERS,
    )
    end_result: answers.EndResult = strawberry.field(
        resolver=resolve_end_result,
        description="4PI impact question 4: did involvement make a difference to the "
        "end result?",
        extensions=READERS_OF_ANSWERS,
    )
    beyond: answers.Beyond = strawberry.field(
        resolver=resolve_beyond,
        description="4PI impact question 5: did it make a difference beyond the "
        "activity?",
        extensions=READERS_OF_ANSWERS,
    )
    presence: answers.Presence = strawberry.field(
        resolver=resolve_presence,
        description="4PI Presence: are service users and carers present, at every "
        "level and at decision-making meetings, and how diverse are they against the "
        "population served?",
        extensions=READERS_OF_ANSWERS,
    )
    process: answers.Process = strawberry.field(
        resolver=resolve_process,
        description="4PI Process: are papers sent in advance, people paid on time, "
        "contributors told what became of their contributions, and supported?",
        extensions=READERS_OF_ANSWERS,
    )
    principles: answers.Principles = strawberry.field(
        resolver=resolve_principles,
        description="4PI Principles: is the organisation responsive and transparent, "
        "and is its involvement policy reviewed on time?",
        extensions=READERS_OF_ANSWERS,
    )
    # It names people (pseudonym and participant id), which evaluators never need.
    payments_and_benefits: answers.PaymentsAndBenefits = strawberry.field(
        resolver=resolve_payments_and_benefits,
        description="Payments and benefits: is anyone who set an earnings limit about "
        "to cross it? Names people, so only managers and auditors may ask.",
        extensions=READERS_OF_PEOPLE,
    )
    cycles: answers.Cycles = strawberry.field(
        resolver=resolve_cycles,
        description="4PI cycles: how far has each Act - Evaluate - Reflect - Learn "
        "cycle come, and what did it learn?",
        extensions=READERS_OF_ANSWERS,
    )
