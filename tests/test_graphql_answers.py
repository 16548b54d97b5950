"""The answer queries through GraphQL: every answer, the same numbers as the views, past moments, and who may ask."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from uuid import uuid4

import pytest
import strawberry

from fourpi.bootstrap import open_records, open_views
from fourpi.demo import DemoSummary, create_demo
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.graphql import answer_types
from fourpi.graphql.answer_queries import AnswerQueries
from fourpi.graphql.context import Caller, Context, Settings
from fourpi.projections.answers import Slice
from fourpi.projections.views import ImpactViews
from graphql import GraphQLObjectType, GraphQLOutputType, get_named_type

schema = strawberry.Schema(query=AnswerQueries)

ANSWERS = (
    "intendedOutcomes",
    "differences",
    "processExperience",
    "endResult",
    "beyond",
    "presence",
    "process",
    "principles",
    "paymentsAndBenefits",
    "cycles",
)


@dataclass
class Demo:
    records: InvolvementRecords
    views: ImpactViews
    summary: DemoSummary


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    url = f"sqlite:///{tmp_path_factory.mktemp('answers')}/x.sqlite3"
    records = open_records(url)
    summary = create_demo(records)
    views = open_views(records=records, database=url)
    views.catch_up()
    yield Demo(records, views, summary)
    views.close()
    records.close()


def run(
    demo: Demo,
    query: str,
    variables: dict[str, Any] | None = None,
    role: Role | None = Role.EVALUATOR,
    personal_data: bool = False,
) -> Any:
    caller = (
        None
        if role is None
        else Caller(
            token_id=uuid4(),
            role=role,
            organisation_id=demo.summary.organisation_id,
            personal_data=personal_data,
        )
    )
    context = Context(
        records=demo.records, views=demo.views, settings=Settings(), caller=caller
    )
    return asyncio.run(
        schema.execute(query, variable_values=variables, context_value=context)
    )


def data_of(result: Any) -> dict[str, Any]:
    assert result.errors is None, result.errors
    assert result.data is not None
    return dict(result.data)


def codes(result: Any) -> list[str]:
    assert result.errors
    return [error.extensions["code"] for error in result.errors]


def selection(type_: GraphQLOutputType) -> str:
    """Every field below a type, so a query built from it reads the whole answer."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        return ""
    fields = " ".join(
        name + selection(field.type) for name, field in named.fields.items()
    )
    return " { " + fields + " }"


def whole_answers_query(
    answers: tuple[str, ...] = ANSWERS, *, as_of: bool = False
) -> str:
    """Every field of the answers named, for a $slice (and an $asOf, if asked)."""
    root = schema._schema.type_map["AnswerQueries"]
    assert isinstance(root, GraphQLObjectType)
    arguments = "slice: $slice, asOf: $asOf" if as_of else "slice: $slice"
    fields = " ".join(
        f"{name}({arguments}){selection(root.fields[name].type)}" for name in answers
    )
    declared = "$slice: SliceInput, $asOf: AsOfInput" if as_of else "$slice: SliceInput"
    return f"query({declared}) {{ {fields} }}"


def fraction(share: dict[str, Any] | None) -> Fraction | None:
    if share is None:
        return None
    assert share["value"] == pytest.approx(share["numerator"] / share["denominator"])
    return Fraction(share["numerator"], share["denominator"])


def slices(demo: Demo) -> list[tuple[dict[str, Any] | None, Slice]]:
    organisation = demo.summary.organisation_id
    first = demo.summary.initiatives[0].initiative_id
    return [
        (None, Slice(organisation)),
        ({"initiativeId": str(first)}, Slice(organisation, first)),
    ]


@pytest.mark.parametrize("scope", ["organisation", "first initiative"])
def test_every_answer_answers_for_the_organisation_and_an_initiative(
    demo: Demo, scope: str
) -> None:
    given, chosen = slices(demo)[0 if scope == "organisation" else 1]
    data = data_of(
        run(
            demo,
            whole_answers_query(),
            {"slice": given},
            role=Role.MANAGER,
            personal_data=True,
        )
    )
    report = demo.views.report(chosen)
    for name in ANSWERS:
        assert data[name]["position"] == report.position
        assert data[name]["moment"] == report.moment.isoformat()
    assert data["intendedOutcomes"]["outcomes"]
    assert data["differences"]["changes"]
    assert data["presence"]["meetings"]
    assert data["process"]["support"]
    assert len(data["beyond"]["byKind"]) == len(report.beyond.by_kind)
    assert len(data["cycles"]["cycles"]) == len(report.cycles)
    assert len(data["paymentsAndBenefits"]["watches"]) == len(
        report.payments_and_benefits
    )


def test_the_numbers_are_those_of_the_views(demo: Demo) -> None:
    query = """query($slice: SliceInput) {
      intendedOutcomes(slice: $slice) {
        byAssessment { key count }
        shareAchieved { value numerator denominator }
      }
      differences(slice: $slice) {
        contributions
        shareAdoptedOrAdapted { value numerator denominator }
        changes { changeId }
      }
      processExperience(slice: $slice) {
        scores {
          respondentKind dimension count { value }
          distribution { score count { value } }
        }
      }
      presence(slice: $slice) { failingMeetings }
      process(slice: $slice, targetDays: 7) {
        targetDays
        support { kind records people { value } hours }
      }
      principles(slice: $slice) {
        transparency { value numerator denominator }
        policy { overdue daysUntilDue }
      }
    }"""
    for given, chosen in slices(demo):
        # Exact figures need the grant; small numbers are suppressed without it.
        data = data_of(
            run(demo, query, {"slice": given}, role=Role.MANAGER, personal_data=True)
        )
        report = demo.views.report(chosen, target_days=7)
        outcomes = data["intendedOutcomes"]
        assert fraction(outcomes["shareAchieved"]) == (
            report.intended_outcomes.share_achieved
        )
        assert {c["key"]: c["count"] for c in outcomes["byAssessment"]} == (
            report.intended_outcomes.by_assessment
        )
        differences = data["differences"]
        assert differences["contributions"] == report.differences.contributions
        assert fraction(differences["shareAdoptedOrAdapted"]) == (
            report.differences.share_adopted_or_adapted
        )
        assert [c["changeId"] for c in differences["changes"]] == [
            str(c.change_id) for c in report.differences.changes
        ]
        assert [
            (s["respondentKind"].lower(), s["dimension"].lower(), s["count"]["value"])
            for s in data["processExperience"]["scores"]
        ] == [
            (s.respondent_kind, s.dimension, s.count)
            for s in report.process_experience.scores
        ]
        assert data["presence"]["failingMeetings"] == [
            str(m) for m in report.presence.failing_meetings
        ]
        assert data["process"]["targetDays"] == 7
        assert {
            s["kind"].lower(): (s["records"], s["people"]["value"], s["hours"])
            for s in data["process"]["support"]
        } == {
            kind: (total.records, total.people, str(total.hours))
            for kind, total in report.process.support.items()
        }
        principles = data["principles"]
        assert fraction(principles["transparency"]) == report.principles.transparency
        assert report.principles.policy is not None
        assert principles["policy"]["daysUntilDue"] == (
            report.principles.policy.days_until_due
        )


def test_the_cycles_of_the_strategic_initiative(demo: Demo) -> None:
    strategic = demo.summary.initiatives[1].initiative_id
    query = """query($slice: SliceInput) {
      cycles(slice: $slice) {
        cycles {
          initiativeId number phase focusAreas
          entered { phase on }
          plannedActions takenUpByNext
        }
      }
    }"""
    data = data_of(run(demo, query, {"slice": {"initiativeId": str(strategic)}}))
    report = demo.views.report(Slice(demo.summary.organisation_id, strategic))
    assert report.cycles
    assert [
        (
            c["number"],
            c["phase"].lower(),
            [a.lower() for a in c["focusAreas"]],
            [(e["phase"].lower(), e["on"]) for e in c["entered"]],
            c["plannedActions"],
            c["takenUpByNext"],
        )
        for c in data["cycles"]["cycles"]
    ] == [
        (
            c.number,
            c.phase,
            list(c.focus_areas),
            [(phase, day.isoformat()) for phase, day in c.entered.items()],
            list(c.planned_actions),
            None if c.taken_up_by_next is None else list(c.taken_up_by_next),
        )
        for c in report.cycles
    ]
    assert {c["initiativeId"] for c in data["cycles"]["cycles"]} == {str(strategic)}


def test_an_answer_as_of_a_past_position(demo: Demo) -> None:
    query = """query($asOf: AsOfInput) {
      intendedOutcomes(asOf: $asOf) { position outcomes { outcomeId } }
      differences(asOf: $asOf) { position contributions }
      presence(asOf: $asOf) { position meetings { meetingId } }
    }"""
    now = data_of(run(demo, query))
    then = data_of(run(demo, query, {"asOf": {"position": 100}}))
    past = demo.views.report(Slice(demo.summary.organisation_id), as_of=100)
    assert {then[name]["position"] for name in then} == {100}
    assert then["differences"]["contributions"] == past.differences.contributions
    assert then["differences"]["contributions"] < now["differences"]["contributions"]
    assert len(then["presence"]["meetings"]) < len(now["presence"]["meetings"])
    assert len(then["intendedOutcomes"]["outcomes"]) == len(
        past.intended_outcomes.outcomes
    )


@pytest.mark.parametrize(
    "as_of", [{}, {"position": 100, "time": "2022-01-01T00:00:00+00:00"}]
)
def test_as_of_takes_exactly_one_of_position_or_time(
    demo: Demo, as_of: dict[str, Any]
) -> None:
    result = run(
        demo,
        "query($asOf: AsOfInput) { beyond(asOf: $asOf) { position } }",
        {"asOf": as_of},
    )
    assert codes(result) == ["BAD_USER_INPUT"]


def test_only_managers_and_auditors_granted_personal_data_see_payments_and_benefits(
    demo: Demo,
) -> None:
    query = """{ paymentsAndBenefits {
      watches { pseudonym earningsLimit earningsPeriod periods { paid crossed } }
    } }"""
    assert codes(run(demo, query, role=Role.EVALUATOR)) == ["FORBIDDEN"]
    # An evaluator's caller never holds the grant; were it to, it is still refused.
    granted_evaluator = run(demo, query, role=Role.EVALUATOR, personal_data=True)
    assert codes(granted_evaluator) == ["FORBIDDEN"]
    for role in (Role.MANAGER, Role.AUDITOR, Role.ADMIN):
        refused = run(demo, query, role=role)
        assert codes(refused) == ["FORBIDDEN"]
        assert refused.data is None
    for role in (Role.MANAGER, Role.AUDITOR):
        answered = run(demo, query, role=role, personal_data=True)
        watches = data_of(answered)["paymentsAndBenefits"]["watches"]
        report = demo.views.report(Slice(demo.summary.organisation_id))
        assert [w["pseudonym"] for w in watches] == [
            w.pseudonym for w in report.payments_and_benefits
        ]


def test_the_other_answers_are_for_evaluators_too(demo: Demo) -> None:
    fields = " ".join(f"{name} {{ position }}" for name in (*ANSWERS[:-2], "cycles"))
    assert data_of(run(demo, "{ " + fields + " }", role=Role.EVALUATOR))


def test_an_answer_needs_a_caller(demo: Demo) -> None:
    result = run(demo, "{ intendedOutcomes { position } }", role=None)
    assert codes(result) == ["UNAUTHENTICATED"]


def test_a_slice_names_an_initiative_by_its_id(demo: Demo) -> None:
    result = run(
        demo,
        "query($slice: SliceInput) { differences(slice: $slice) { contributions } }",
        {"slice": {"initiativeId": "not-a-uuid"}},
    )
    assert codes(result) == ["BAD_USER_INPUT"]
    assert result.errors[0].extensions["field"] == "slice.initiativeId"


def test_every_type_and_field_says_what_it_means() -> None:
    names = {
        value.__strawberry_definition__.name
        for value in vars(answer_types).values()
        if hasattr(value, "__strawberry_definition__")
    } | {"AnswerQueries"}
    # A base every answer inherits from; its fields are checked on each answer.
    names -= {"Answered"}
    assert {"IntendedOutcomes", "Share", "Count", "CycleView"} <= names
    undescribed = []
    for name in sorted(names):
        type_ = schema._schema.type_map[name]
        assert isinstance(type_, GraphQLObjectType)
        if not (type_.description or "").strip():
            undescribed.append(name)
        for field_name, field in type_.fields.items():
            if not (field.description or "").strip():
                undescribed.append(f"{name}.{field_name}")
            undescribed.extend(
                f"{name}.{field_name}({argument_name})"
                for argument_name, argument in field.args.items()
                if not (argument.description or "").strip()
            )
    assert undescribed == []
