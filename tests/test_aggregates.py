"""The aggregates on their own: no database, just commands, state and pending events."""

import copy
import inspect
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from fourpi.domain import vocabulary
from fourpi.domain.calendar import add_months
from fourpi.domain.change import Change
from fourpi.domain.contribution import Contribution
from fourpi.domain.errors import CrossOrganisationReference, DomainError, InvalidInput
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.organisation import Organisation
from fourpi.domain.participant import MonitoringData, Participant
from fourpi.domain.payment import Payment
from fourpi.domain.policy import InvolvementPolicy
from fourpi.domain.process_experience import ProcessExperienceAnswer
from fourpi.domain.receipt import CommandReceipt
from fourpi.domain.record import OrganisationRecord, check_member
from fourpi.domain.reference_population import ReferencePopulation
from fourpi.domain.support import Support
from fourpi.domain.vocabulary import (
    MONITORING_VALUES,
    PREFER_NOT_TO_SAY,
    BeyondKind,
    ChangeScope,
    ContributionNature,
    CyclePhase,
    EarningsPeriod,
    EthnicGroup,
    FeedbackMethod,
    ImpactArea,
    InvolvementDifference,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    InvolvementRole,
    MonitoringCategory,
    NoticePreference,
    OutcomeAssessment,
    ParticipantKind,
    PaymentKind,
    PaymentPreference,
    ProcessDimension,
    QuestionnaireStage,
    RespondentKind,
    ResponseOutcome,
    SupportKind,
)

ORG = UUID("6d1f7c1e-2f0a-4b8e-9d57-0c3b2a1f4e01")
OTHER_ORG = UUID("0b9e5a2c-7d4f-4e61-8a3b-5c2d1e0f9a77")
ACTOR = "manager@example.org"
START = date(2021, 1, 4)
HELD_AT = datetime(2021, 3, 10, 18, 0, tzinfo=UTC)
FOCUS = (ImpactArea.DELIVERY,)

AGGREGATES: list[type[OrganisationRecord]] = [
    Organisation,
    InvolvementPolicy,
    Initiative,
    Participant,
    Meeting,
    Contribution,
    Change,
    ProcessExperienceAnswer,
    Payment,
    Support,
    ReferencePopulation,
    CommandReceipt,
]


# Building blocks


def an_initiative(organisation_id: UUID = ORG, **overrides: Any) -> Initiative:
    arguments = {
        "initiative_id": uuid4(),
        "organisation_id": organisation_id,
        "name": "Diversifying who we involve",
        "level": InvolvementLevel.STRATEGIC,
        "involvement_kind": InvolvementKind.CO_PRODUCTION,
        "methods": (InvolvementMethod.WORKSHOP,),
        "purpose": "Find out how to diversify who is involved.",
        "limits_of_influence": "The budget is fixed for this year.",
        "started_on": START,
        "recorded_by": ACTOR,
    } | overrides
    return Initiative.launch(**arguments)


def a_participant(
    kind: ParticipantKind = ParticipantKind.SERVICE_USER, organisation_id: UUID = ORG
) -> Participant:
    return Participant.register(
        participant_id=uuid4(),
        organisation_id=organisation_id,
        pseudonym="Robin",
        participant_kind=kind,
        recorded_by=ACTOR,
    )


def a_meeting(initiative: Initiative) -> Meeting:
    return Meeting.schedule(
        meeting_id=uuid4(),
        initiative=initiative,
        title="Steering group",
        held_at=HELD_AT,
        high_level=True,
        decision_making=True,
        recorded_by=ACTOR,
    )


def a_contribution(
    initiative: Initiative,
    contributors: list[Participant],
    meeting: Meeting | None = None,
    made_on: date = date(2021, 2, 1),
) -> Contribution:
    return Contribution.log(
        contribution_id=uuid4(),
        initiative=initiative,
        meeting=meeting,
        contributors=contributors,
        nature=ContributionNature.RECOMMENDATION,
        summary="Send papers a week ahead.",
        impact_areas=FOCUS,
        made_on=made_on,
        recorded_by=ACTOR,
    )


def a_payment(participant: Participant, initiative: Initiative | None = None):
    return Payment.owe(
        payment_id=uuid4(),
        participant=participant,
        initiative=initiative,
        payment_kind=PaymentKind.FEE,
        amount=Decimal("30"),
        owed_on=date(2021, 3, 10),
        description="Steering group fee",
        recorded_by=ACTOR,
    )


def a_policy(**overrides: Any) -> InvolvementPolicy:
    arguments = {
        "organisation_id": ORG,
        "version_label": "1.0",
        "adopted_on": date(2021, 1, 31),
        "review_interval_months": 24,
        "summary": "",
        "recorded_by": ACTOR,
    } | overrides
    return InvolvementPolicy.adopt(**arguments)


def a_population(shares=None) -> ReferencePopulation:
    return ReferencePopulation.define(
        organisation_id=ORG,
        initiative_id=None,
        description="People using our services.",
        shares=shares or {MonitoringCategory.GENDER: {"woman": Decimal("0.5")}},
        recorded_by=ACTOR,
    )


def run_cycle(initiative: Initiative, planned=("Meet in community venues",)) -> int:
    number = initiative.start_cycle(
        focus_areas=FOCUS,
        actions_taken_up=(),
        started_on=date(2021, 2, 1),
        recorded_by=ACTOR,
    )
    initiative.evaluate_cycle(
        number=number,
        findings="Few carers came.",
        entered_on=date(2021, 3, 1),
        recorded_by=ACTOR,
    )
    initiative.reflect_on_cycle(
        number=number,
        reflections="Daytime meetings exclude carers.",
        entered_on=date(2021, 4, 1),
        recorded_by=ACTOR,
    )
    initiative.learn_from_cycle(
        number=number,
        lessons="Meet in the evening.",
        planned_actions=planned,
        entered_on=date(2021, 5, 1),
        recorded_by=ACTOR,
    )
    return number


def the_whole_story() -> list[OrganisationRecord]:
    """Every kind of record, with every kind of fact recorded on it at least once."""
    organisation = Organisation.register(
        organisation_id=ORG, name="Test Mind", recorded_by=ACTOR
    )
    organisation.set_suppression_threshold(threshold=10, recorded_by=ACTOR)
    policy = a_policy()
    policy.review(reviewed_on=date(2022, 1, 31), notes="Still fit", recorded_by=ACTOR)
    policy.revise(
        version_label="2.0",
        adopted_on=date(2023, 1, 1),
        review_interval_months=12,
        summary="Adds payment rates.",
        recorded_by=ACTOR,
    )
    initiative = an_initiative()
    service_user = a_participant()
    carer = a_participant(ParticipantKind.CARER)
    service_user.declare_monitoring_data(
        monitoring=MonitoringData.checked(age_band="25_34", ethnic_group="white_irish"),
        recorded_by=ACTOR,
    )
    service_user.set_payment_preference(
        payment_preference=PaymentPreference.FEES,
        earnings_limit=Decimal("167"),
        earnings_period=EarningsPeriod.WEEK,
        recorded_by=ACTOR,
    )
    service_user.make_personal_link(expires_on=date(2024, 6, 1), recorded_by=ACTOR)
    service_user.revoke_personal_link(recorded_by=ACTOR)
    service_user.set_notice_preference(
        notice_preference=NoticePreference.EMAIL,
        email="someone@example.org",
        recorded_by=ACTOR,
    )
    service_user.request_erasure(requested_on=date(2024, 6, 1), recorded_by=ACTOR)
    outcome_id = uuid4()
    initiative.record_intended_outcome(
        outcome_id=outcome_id,
        description="Carers take part.",
        impact_areas=FOCUS,
        recorded_by=ACTOR,
    )
    initiative.assess_intended_outcome(
        outcome_id=outcome_id,
        assessment=OutcomeAssessment.PARTLY_ACHIEVED,
        involvement_difference=InvolvementDifference.SOME,
        evidence="Two carers joined.",
        assessed_on=date(2021, 12, 1),
        recorded_by=ACTOR,
    )
    role_id = uuid4()
    initiative.assign_role(
        role_id=role_id,
        participant=carer,
        role=InvolvementRole.CO_WORKER,
        paid=True,
        decision_making=True,
        started_on=date(2021, 2, 1),
        recorded_by=ACTOR,
    )
    initiative.end_role(role_id=role_id, ended_on=date(2021, 9, 1), recorded_by=ACTOR)
    run_cycle(initiative)
    meeting = a_meeting(initiative)
    meeting.send_papers(sent_at=HELD_AT - timedelta(days=7), recorded_by=ACTOR)
    meeting.record_attendance(attendees=[service_user, carer], recorded_by=ACTOR)
    meeting.name_reserve(reserve=carer, recorded_by=ACTOR)
    meeting.make_reasonable_adjustment(description="Step-free room", recorded_by=ACTOR)
    contribution = a_contribution(
        initiative, [service_user, carer], meeting, made_on=HELD_AT.date()
    )
    contribution.respond(
        outcome=ResponseOutcome.ADAPTED,
        rationale="Five working days, not seven.",
        responded_on=date(2021, 3, 20),
        recorded_by=ACTOR,
    )
    contribution.give_feedback(
        given_on=date(2021, 3, 25),
        method=FeedbackMethod.MEETING,
        summary="You said, we did.",
        recorded_by=ACTOR,
    )
    change = Change.record(
        change_id=uuid4(),
        initiative=initiative,
        contributions=[contribution],
        description="Papers go out five working days ahead.",
        impact_area=ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE,
        scope=ChangeScope.ACTIVITY,
        beyond_kind=None,
        evidence="Terms of reference v2.",
        changed_on=date(2021, 4, 1),
        recorded_by=ACTOR,
    )
    answer = ProcessExperienceAnswer.record(
        answer_id=uuid4(),
        initiative=initiative,
        respondent=carer,
        respondent_kind=RespondentKind.CARER,
        stage=QuestionnaireStage.IN_FLIGHT,
        scores={ProcessDimension.LISTENED_TO: 4},
        free_text="",
        answered_on=date(2021, 5, 1),
        recorded_by=ACTOR,
    )
    payment = a_payment(service_user, initiative)
    payment.pay(paid_on=date(2021, 3, 17), recorded_by=ACTOR)
    support = Support.give(
        support_id=uuid4(),
        organisation_id=ORG,
        initiative=initiative,
        participants=[service_user],
        support_kind=SupportKind.PEER_SUPPORT_OR_MENTORING,
        given_on=date(2021, 2, 10),
        hours=Decimal("1.5"),
        description="",
        recorded_by=ACTOR,
    )
    population = a_population()
    population.revise(
        description="People using our services, 2021 census.",
        shares={"gender": {"woman": Decimal("0.52"), "man": Decimal("0.47")}},
        recorded_by=ACTOR,
    )
    carer.erase(recorded_by=ACTOR)
    receipt = CommandReceipt.issue(
        organisation_id=ORG,
        idempotency_key="k-1",
        command="give_feedback",
        fingerprint="f",
        result=None,
        recorded_by=ACTOR,
    )
    return [
        organisation,
        policy,
        initiative,
        service_user,
        carer,
        meeting,
        contribution,
        change,
        answer,
        payment,
        support,
        population,
        receipt,
    ]


def declared_events(aggregate_class: type) -> dict[str, type]:
    """The facts an aggregate declares, by name (not its generic Event base)."""
    return {
        name: value
        for name, value in vars(aggregate_class).items()
        if inspect.isclass(value)
        and issubclass(value, OrganisationRecord.Event)
        and name != "Event"
    }


# Every event names its organisation and who recorded it


def test_every_event_names_its_organisation_and_who_recorded_it():
    for record in the_whole_story():
        events = record.collect_events()
        assert events, record
        assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
        for event in events:
            assert isinstance(event, OrganisationRecord.Event)
            assert event.organisation_id == ORG, event
            assert event.recorded_by == ACTOR, event
            assert event.originator_id == record.id
        assert record.pending_events == []


def test_the_story_records_every_kind_of_fact():
    triggered = {
        f"{type(record).__name__}.{type(event).__name__}"
        for record in the_whole_story()
        for event in record.collect_events()
    }
    declared = {
        f"{aggregate.__name__}.{name}"
        for aggregate in AGGREGATES
        for name in declared_events(aggregate)
        if name != "Created"
    }
    assert declared <= triggered


def test_facts_are_recorded_by_the_actor_given_to_the_command():
    initiative = an_initiative(recorded_by="lead@example.org")
    initiative.record_intended_outcome(
        outcome_id=uuid4(),
        description="Carers take part.",
        impact_areas=FOCUS,
        recorded_by="evaluator@example.org",
    )
    launched, recorded = cast(
        list[OrganisationRecord.Event], initiative.collect_events()
    )
    assert launched.recorded_by == "lead@example.org"
    assert recorded.recorded_by == "evaluator@example.org"
    assert recorded.organisation_id == ORG


# Event names are past tense

IRREGULAR_PAST_TENSE = {"Sent", "Given", "Made", "Paid", "Set"}


def is_past_tense(word: str) -> bool:
    return word.endswith("ed") or word in IRREGULAR_PAST_TENSE


@pytest.mark.parametrize("aggregate", AGGREGATES, ids=lambda a: a.__name__)
def test_event_class_names_are_past_tense(aggregate):
    names = declared_events(aggregate)
    assert set(names) - {"Created"}, f"{aggregate.__name__} declares no facts"
    for name in names:
        words = re.findall(r"[A-Z][a-z]*", name)
        assert any(is_past_tense(w) for w in words), f"{aggregate.__name__}.{name}"


@pytest.mark.parametrize(
    "qualified_name",
    [
        "Organisation.Registered",
        "InvolvementPolicy.Adopted",
        "InvolvementPolicy.Reviewed",
        "InvolvementPolicy.Revised",
        "Initiative.Launched",
        "Initiative.IntendedOutcomeRecorded",
        "Initiative.IntendedOutcomeAssessed",
        "Initiative.RoleAssigned",
        "Initiative.RoleEnded",
        "Initiative.CycleEnteredAct",
        "Initiative.CycleEnteredEvaluate",
        "Initiative.CycleEnteredReflect",
        "Initiative.CycleEnteredLearn",
        "Participant.Registered",
        "Participant.MonitoringDataDeclared",
        "Participant.PaymentPreferenceSet",
        "Participant.PersonalLinkMade",
        "Participant.PersonalLinkRevoked",
        "Participant.NoticePreferenceSet",
        "Participant.ErasureRequested",
        "Meeting.Scheduled",
        "Meeting.PapersSent",
        "Meeting.AttendanceRecorded",
        "Meeting.ReserveNamed",
        "Meeting.ReasonableAdjustmentMade",
        "Contribution.Logged",
        "Contribution.Responded",
        "Contribution.FeedbackGiven",
        "Change.Recorded",
        "ProcessExperienceAnswer.Recorded",
        "Payment.Owed",
        "Payment.Paid",
        "Support.Given",
        "ReferencePopulation.Defined",
        "ReferencePopulation.Revised",
        "CommandReceipt.Issued",
    ],
)
def test_the_named_facts_exist(qualified_name):
    aggregate_name, event_name = qualified_name.split(".")
    aggregate = next(a for a in AGGREGATES if a.__name__ == aggregate_name)
    assert event_name in declared_events(aggregate)


# add_months


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2021, 1, 31), 1, date(2021, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2021, 3, 31), 1, date(2021, 4, 30)),
        (date(2021, 11, 15), 3, date(2022, 2, 15)),
        (date(2021, 12, 31), 1, date(2022, 1, 31)),
        (date(2021, 1, 31), 24, date(2023, 1, 31)),
        (date(2021, 6, 30), 120, date(2031, 6, 30)),
        (date(2021, 5, 9), 0, date(2021, 5, 9)),
        (date(2021, 1, 31), -2, date(2020, 11, 30)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


# A refused command leaves the aggregate as it was


def refuse_decline_without_rationale():
    contribution = a_contribution(an_initiative(), [a_participant()])
    return contribution, lambda: contribution.respond(
        outcome=ResponseOutcome.DECLINED,
        rationale="",
        responded_on=date(2021, 3, 1),
        recorded_by=ACTOR,
    )


def refuse_second_answer():
    contribution = a_contribution(an_initiative(), [a_participant()])
    contribution.respond(
        outcome=ResponseOutcome.ADOPTED,
        rationale="",
        responded_on=date(2021, 3, 1),
        recorded_by=ACTOR,
    )
    return contribution, lambda: contribution.respond(
        outcome=ResponseOutcome.DECLINED,
        rationale="Changed our minds",
        responded_on=date(2021, 4, 1),
        recorded_by=ACTOR,
    )


def refuse_feedback_without_response():
    contribution = a_contribution(an_initiative(), [a_participant()])
    return contribution, lambda: contribution.give_feedback(
        given_on=date(2021, 3, 1),
        method=FeedbackMethod.EMAIL,
        summary="Thanks",
        recorded_by=ACTOR,
    )


def refuse_skipped_phase():
    initiative = an_initiative()
    initiative.start_cycle(
        focus_areas=FOCUS,
        actions_taken_up=(),
        started_on=date(2021, 2, 1),
        recorded_by=ACTOR,
    )
    return initiative, lambda: initiative.reflect_on_cycle(
        number=1,
        reflections="Too soon",
        entered_on=date(2021, 3, 1),
        recorded_by=ACTOR,
    )


def refuse_unplanned_action():
    initiative = an_initiative()
    run_cycle(initiative)
    return initiative, lambda: initiative.start_cycle(
        focus_areas=FOCUS,
        actions_taken_up=("Something nobody planned",),
        started_on=date(2021, 6, 1),
        recorded_by=ACTOR,
    )


def refuse_second_open_role():
    initiative = an_initiative()
    participant = a_participant()

    def assign():
        initiative.assign_role(
            role_id=uuid4(),
            participant=participant,
            role=InvolvementRole.LEAD,
            paid=True,
            decision_making=True,
            started_on=date(2021, 2, 1),
            recorded_by=ACTOR,
        )

    assign()
    return initiative, assign


def refuse_role_of_another_organisation():
    initiative = an_initiative()
    return initiative, lambda: initiative.assign_role(
        role_id=uuid4(),
        participant=a_participant(organisation_id=OTHER_ORG),
        role=InvolvementRole.LEAD,
        paid=True,
        decision_making=True,
        started_on=date(2021, 2, 1),
        recorded_by=ACTOR,
    )


def refuse_assessment_without_evidence():
    initiative = an_initiative()
    outcome_id = uuid4()
    initiative.record_intended_outcome(
        outcome_id=outcome_id,
        description="Carers take part.",
        impact_areas=FOCUS,
        recorded_by=ACTOR,
    )
    return initiative, lambda: initiative.assess_intended_outcome(
        outcome_id=outcome_id,
        assessment=OutcomeAssessment.ACHIEVED,
        involvement_difference=InvolvementDifference.SIGNIFICANT,
        evidence="",
        assessed_on=date(2021, 6, 1),
        recorded_by=ACTOR,
    )


def refuse_blank_actor():
    initiative = an_initiative()
    return initiative, lambda: initiative.record_intended_outcome(
        outcome_id=uuid4(),
        description="Carers take part.",
        impact_areas=FOCUS,
        recorded_by="  ",
    )


def refuse_late_papers():
    meeting = a_meeting(an_initiative())
    return meeting, lambda: meeting.send_papers(sent_at=HELD_AT, recorded_by=ACTOR)


def refuse_papers_twice():
    meeting = a_meeting(an_initiative())
    meeting.send_papers(sent_at=HELD_AT - timedelta(days=1), recorded_by=ACTOR)
    return meeting, lambda: meeting.send_papers(
        sent_at=HELD_AT - timedelta(days=2), recorded_by=ACTOR
    )


def refuse_staff_reserve():
    meeting = a_meeting(an_initiative())
    staff = a_participant(ParticipantKind.STAFF)
    return meeting, lambda: meeting.name_reserve(reserve=staff, recorded_by=ACTOR)


def refuse_attendance_of_another_organisation():
    meeting = a_meeting(an_initiative())
    stranger = a_participant(organisation_id=OTHER_ORG)
    return meeting, lambda: meeting.record_attendance(
        attendees=[a_participant(), stranger], recorded_by=ACTOR
    )


def refuse_payment_before_owed():
    payment = a_payment(a_participant())
    return payment, lambda: payment.pay(paid_on=date(2021, 3, 9), recorded_by=ACTOR)


def refuse_payment_twice():
    payment = a_payment(a_participant())
    payment.pay(paid_on=date(2021, 3, 10), recorded_by=ACTOR)
    return payment, lambda: payment.pay(paid_on=date(2021, 3, 11), recorded_by=ACTOR)


def refuse_limit_without_period():
    participant = a_participant()
    return participant, lambda: participant.set_payment_preference(
        payment_preference=PaymentPreference.FEES,
        earnings_limit=Decimal("100"),
        earnings_period=None,
        recorded_by=ACTOR,
    )


def refuse_review_before_adoption():
    policy = a_policy()
    return policy, lambda: policy.review(
        reviewed_on=date(2021, 1, 1), notes="", recorded_by=ACTOR
    )


def refuse_same_version():
    policy = a_policy()
    return policy, lambda: policy.revise(
        version_label="1.0",
        adopted_on=date(2022, 1, 1),
        review_interval_months=24,
        summary="",
        recorded_by=ACTOR,
    )


def refuse_shares_over_one():
    population = a_population()
    return population, lambda: population.revise(
        description="Oops",
        shares={"gender": {"woman": Decimal("0.7"), "man": Decimal("0.7")}},
        recorded_by=ACTOR,
    )


def refuse_staff_contribution():
    initiative = an_initiative()
    staff = a_participant(ParticipantKind.STAFF)
    return initiative, lambda: a_contribution(initiative, [staff])


def refuse_change_from_another_initiative():
    initiative = an_initiative()
    contribution = a_contribution(an_initiative(), [a_participant()])
    return contribution, lambda: Change.record(
        change_id=uuid4(),
        initiative=initiative,
        contributions=[contribution],
        description="Something changed.",
        impact_area=ImpactArea.DELIVERY,
        scope=ChangeScope.ACTIVITY,
        beyond_kind=None,
        evidence="Minutes.",
        changed_on=date(2021, 4, 1),
        recorded_by=ACTOR,
    )


REFUSALS: dict[str, Callable[[], tuple[OrganisationRecord, Callable[[], Any]]]] = {
    f.__name__.removeprefix("refuse_"): f
    for f in [
        refuse_decline_without_rationale,
        refuse_second_answer,
        refuse_feedback_without_response,
        refuse_skipped_phase,
        refuse_unplanned_action,
        refuse_second_open_role,
        refuse_role_of_another_organisation,
        refuse_assessment_without_evidence,
        refuse_blank_actor,
        refuse_late_papers,
        refuse_papers_twice,
        refuse_staff_reserve,
        refuse_attendance_of_another_organisation,
        refuse_payment_before_owed,
        refuse_payment_twice,
        refuse_limit_without_period,
        refuse_review_before_adoption,
        refuse_same_version,
        refuse_shares_over_one,
        refuse_staff_contribution,
        refuse_change_from_another_initiative,
    ]
}


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_refused_command_leaves_no_pending_event(refusal):
    aggregate, command = REFUSALS[refusal]()
    pending = list(aggregate.pending_events)
    version = aggregate.version
    state = copy.deepcopy(aggregate)
    with pytest.raises(DomainError):
        command()
    assert aggregate.pending_events == pending
    assert all(a is b for a, b in zip(aggregate.pending_events, pending, strict=True))
    assert aggregate.version == version
    assert aggregate == state


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_refused_command_after_collecting_leaves_nothing_pending(refusal):
    aggregate, command = REFUSALS[refusal]()
    aggregate.collect_events()
    with pytest.raises(DomainError):
        command()
    assert aggregate.pending_events == []


# Deterministic ids


def test_the_reference_population_id_is_deterministic_per_organisation():
    initiative_id = uuid4()
    organisation_wide = ReferencePopulation.id_for(ORG, None)
    assert organisation_wide == ReferencePopulation.id_for(ORG, None)
    assert ReferencePopulation.id_for(ORG, initiative_id) == ReferencePopulation.id_for(
        ORG, initiative_id
    )
    ids = {
        organisation_wide,
        ReferencePopulation.id_for(ORG, initiative_id),
        ReferencePopulation.id_for(ORG, uuid4()),
        ReferencePopulation.id_for(OTHER_ORG, None),
        ReferencePopulation.id_for(OTHER_ORG, initiative_id),
    }
    assert len(ids) == 5
    assert a_population().id == organisation_wide


def test_the_involvement_policy_id_is_deterministic_per_organisation():
    assert InvolvementPolicy.id_for(ORG) == InvolvementPolicy.id_for(ORG)
    assert InvolvementPolicy.id_for(ORG) != InvolvementPolicy.id_for(OTHER_ORG)
    assert InvolvementPolicy.id_for(ORG) != ReferencePopulation.id_for(ORG, None)
    assert a_policy().id == InvolvementPolicy.id_for(ORG)
    assert a_policy(organisation_id=OTHER_ORG).id == InvolvementPolicy.id_for(OTHER_ORG)


def test_the_command_receipt_id_is_deterministic_per_organisation_and_key():
    assert CommandReceipt.id_for(ORG, "k") == CommandReceipt.id_for(ORG, "k")
    assert CommandReceipt.id_for(ORG, "k") != CommandReceipt.id_for(OTHER_ORG, "k")
    assert CommandReceipt.id_for(ORG, "k") != CommandReceipt.id_for(ORG, "k2")


# Vocabularies

VOCABULARIES = [
    value
    for value in vars(vocabulary).values()
    if inspect.isclass(value) and issubclass(value, StrEnum) and value is not StrEnum
]


@pytest.mark.parametrize("enum", VOCABULARIES, ids=lambda e: e.__name__)
def test_vocabularies_accept_their_string_values(enum):
    assert len(enum) > 1
    for member in enum:
        assert enum(member.value) is member
        assert member == member.value
        assert str(member) == member.value
        assert check_member("field", member.value, enum) is member
    with pytest.raises(InvalidInput, match="field: must be one of: ") as excinfo:
        check_member("field", "not-a-value", enum)
    assert excinfo.value.rule == "must be one of: " + ", ".join(enum)


def test_every_monitoring_category_has_a_vocabulary_with_prefer_not_to_say():
    assert set(MONITORING_VALUES) == set(MonitoringCategory)
    for category, values in MONITORING_VALUES.items():
        assert PREFER_NOT_TO_SAY in set(values), category
        assert category.value in {
            f.name for f in MonitoringData.__dataclass_fields__.values()
        }


def test_the_2021_census_has_19_ethnic_groups():
    assert len(EthnicGroup) == 19 + 1  # and prefer not to say


def test_only_service_users_and_carers_have_a_lived_experience_voice():
    voices = {k for k in ParticipantKind if k.has_lived_experience_voice}
    assert voices == {ParticipantKind.SERVICE_USER, ParticipantKind.CARER}


def test_only_fees_count_as_earnings():
    assert {k for k in PaymentKind if k.counts_as_earnings} == {PaymentKind.FEE}


def test_cycle_phases_are_in_order():
    assert list(CyclePhase) == ["act", "evaluate", "reflect", "learn"]


# State after commands


def test_a_launched_initiative_keeps_its_purpose_and_limits():
    initiative = an_initiative(
        methods=("workshop", InvolvementMethod.SURVEY, "workshop"),
        purpose="  Find out how to diversify who is involved.  ",
    )
    assert initiative.organisation_id == ORG
    assert initiative.methods == (InvolvementMethod.WORKSHOP, InvolvementMethod.SURVEY)
    assert initiative.purpose == "Find out how to diversify who is involved."
    assert initiative.limits_of_influence == "The budget is fixed for this year."
    assert initiative.cycles == [] and initiative.roles == {}
    (launched,) = initiative.collect_events()
    assert isinstance(launched, Initiative.Launched)
    assert launched.started_on == START


def test_a_cycle_moves_through_its_phases_in_order():
    initiative = an_initiative()
    run_cycle(
        initiative, planned=("Evening meetings", "Evening meetings", "Pay travel")
    )
    (cycle,) = initiative.cycles
    assert cycle.phase is CyclePhase.LEARN
    assert cycle.phase_dates == {
        CyclePhase.ACT: date(2021, 2, 1),
        CyclePhase.EVALUATE: date(2021, 3, 1),
        CyclePhase.REFLECT: date(2021, 4, 1),
        CyclePhase.LEARN: date(2021, 5, 1),
    }
    assert cycle.planned_actions == ("Evening meetings", "Pay travel")
    assert [type(e).__name__ for e in initiative.collect_events()] == [
        "Launched",
        "CycleEnteredAct",
        "CycleEnteredEvaluate",
        "CycleEnteredReflect",
        "CycleEnteredLearn",
    ]
    number = initiative.start_cycle(
        focus_areas=FOCUS,
        actions_taken_up=("Pay travel",),
        started_on=date(2021, 5, 1),
        recorded_by=ACTOR,
    )
    assert number == 2
    assert initiative.current_cycle.actions_taken_up == ("Pay travel",)
    (entered,) = initiative.collect_events()
    assert isinstance(entered, Initiative.CycleEnteredAct)
    assert entered.number == 2


def test_a_skipped_phase_is_refused_naming_the_phase():
    initiative = an_initiative()
    initiative.start_cycle(
        focus_areas=FOCUS, actions_taken_up=(), started_on=START, recorded_by=ACTOR
    )
    with pytest.raises(InvalidInput, match="evaluate comes before learn") as excinfo:
        initiative.learn_from_cycle(
            number=1,
            lessons="x",
            planned_actions=(),
            entered_on=START,
            recorded_by=ACTOR,
        )
    assert excinfo.value.field == "phase"


def test_a_deferred_contribution_is_answered_again():
    contribution = a_contribution(an_initiative(), [a_participant()])
    assert contribution.latest_response is None
    contribution.respond(
        outcome="deferred",
        rationale="",
        responded_on=date(2021, 2, 1),
        recorded_by=ACTOR,
    )
    contribution.respond(
        outcome=ResponseOutcome.DECLINED,
        rationale="  Outside the budget.  ",
        responded_on=date(2021, 2, 1),
        recorded_by=ACTOR,
    )
    assert [r.outcome for r in contribution.responses] == [
        ResponseOutcome.DEFERRED,
        ResponseOutcome.DECLINED,
    ]
    latest = contribution.latest_response
    assert latest is not None and latest.rationale == "Outside the budget."
    events = contribution.collect_events()
    assert [type(e) for e in events] == [
        Contribution.Logged,
        Contribution.Responded,
        Contribution.Responded,
    ]


def test_contributors_of_another_organisation_are_forbidden():
    initiative = an_initiative()
    stranger = a_participant(organisation_id=OTHER_ORG)
    with pytest.raises(CrossOrganisationReference) as excinfo:
        a_contribution(initiative, [a_participant(), stranger])
    assert excinfo.value.field == "contributor_ids"
    # In the words of a record that does not exist: its existence is not told.
    assert excinfo.value.code == "NOT_FOUND"
    assert str(excinfo.value) == f"participant {stranger.id} does not exist"


def test_a_meeting_of_another_organisation_is_forbidden_for_a_contribution():
    initiative = an_initiative()
    their_meeting = a_meeting(an_initiative(organisation_id=OTHER_ORG))
    with pytest.raises(CrossOrganisationReference) as excinfo:
        a_contribution(initiative, [a_participant()], their_meeting)
    assert excinfo.value.field == "meeting_id"


def test_a_payment_for_another_organisations_initiative_is_forbidden():
    with pytest.raises(CrossOrganisationReference) as excinfo:
        a_payment(a_participant(), an_initiative(organisation_id=OTHER_ORG))
    assert excinfo.value.field == "initiative_id"


def test_support_for_another_organisations_people_is_forbidden():
    with pytest.raises(CrossOrganisationReference) as excinfo:
        Support.give(
            support_id=uuid4(),
            organisation_id=ORG,
            initiative=None,
            participants=[a_participant(organisation_id=OTHER_ORG)],
            support_kind=SupportKind.SUPERVISION,
            given_on=START,
            hours=None,
            description="",
            recorded_by=ACTOR,
        )
    assert excinfo.value.field == "participant_ids"


def test_a_change_of_another_organisations_contribution_is_forbidden():
    theirs = an_initiative(organisation_id=OTHER_ORG)
    their_contribution = a_contribution(
        theirs, [a_participant(organisation_id=OTHER_ORG)]
    )
    with pytest.raises(CrossOrganisationReference) as excinfo:
        Change.record(
            change_id=uuid4(),
            initiative=an_initiative(),
            contributions=[their_contribution],
            description="x",
            impact_area=ImpactArea.DELIVERY,
            scope=ChangeScope.BEYOND,
            beyond_kind=BeyondKind.SERVICE_DELIVERY,
            evidence="y",
            changed_on=START,
            recorded_by=ACTOR,
        )
    assert excinfo.value.field == "contribution_ids"


def test_a_policy_review_moves_the_due_date():
    policy = a_policy(adopted_on=date(2024, 2, 29), review_interval_months=12)
    assert policy.last_reviewed_on == date(2024, 2, 29)
    assert policy.review_due_on == date(2025, 2, 28)
    policy.review(reviewed_on=date(2024, 8, 31), notes="", recorded_by=ACTOR)
    assert policy.reviews == [date(2024, 8, 31)]
    assert policy.review_due_on == date(2025, 8, 31)
    assert not policy.is_overdue_on(date(2025, 8, 31))
    assert policy.is_overdue_on(date(2025, 9, 1))
    policy.revise(
        version_label=" 2.0 ",
        adopted_on=date(2024, 9, 1),
        review_interval_months=6,
        summary="",
        recorded_by=ACTOR,
    )
    assert policy.version_label == "2.0"
    assert policy.review_due_on == date(2025, 3, 1)
    assert [type(e).__name__ for e in policy.collect_events()] == [
        "Adopted",
        "Reviewed",
        "Revised",
    ]


def test_a_payment_is_owed_then_paid():
    payment = a_payment(a_participant())
    assert payment.amount == Decimal("30.00")
    assert payment.paid_on is None
    payment.pay(paid_on=date(2021, 3, 10), recorded_by=ACTOR)
    assert payment.paid_on == date(2021, 3, 10)
    assert [type(e) for e in payment.collect_events()] == [Payment.Owed, Payment.Paid]


def test_a_participant_sets_an_earnings_limit():
    participant = a_participant()
    participant.set_payment_preference(
        payment_preference="reduced_fee",
        earnings_limit="40.5",
        earnings_period="month",
        recorded_by=ACTOR,
    )
    assert participant.payment_preference is PaymentPreference.REDUCED_FEE
    assert participant.earnings_limit == Decimal("40.50")
    assert participant.earnings_period is EarningsPeriod.MONTH


def test_monitoring_data_is_checked_and_read_by_category():
    data = MonitoringData.checked(gender="prefer_not_to_say", disability=None)
    assert (
        data.value_of(MonitoringCategory.GENDER) is vocabulary.Gender.PREFER_NOT_TO_SAY
    )
    assert data.value_of(MonitoringCategory.DISABILITY) is None
    assert data.value_of(MonitoringCategory.AGE_BAND) is None
    with pytest.raises(InvalidInput) as excinfo:
        MonitoringData.checked(age_band="ancient")
    assert excinfo.value.field == "monitoring.age_band"


def test_process_experience_scores_are_kept_in_dimension_order():
    answer = ProcessExperienceAnswer.record(
        answer_id=uuid4(),
        initiative=an_initiative(),
        respondent=None,
        respondent_kind="staff",
        stage=QuestionnaireStage.END_OF_INVOLVEMENT,
        scores={"would_take_part_again": 5, ProcessDimension.LISTENED_TO: 1},
        free_text="  ",
        answered_on=date(2021, 6, 1),
        recorded_by=ACTOR,
    )
    assert list(answer.scores.items()) == [
        (ProcessDimension.LISTENED_TO, 1),
        (ProcessDimension.WOULD_TAKE_PART_AGAIN, 5),
    ]
    assert answer.free_text == ""
    assert answer.participant_id is None


@pytest.mark.parametrize("score", [0, 6, 2.5, True, False])
def test_a_score_outside_1_to_5_names_its_dimension(score):
    with pytest.raises(InvalidInput, match="from 1 to 5") as excinfo:
        ProcessExperienceAnswer.record(
            answer_id=uuid4(),
            initiative=an_initiative(),
            respondent=None,
            respondent_kind=RespondentKind.CARER,
            stage=QuestionnaireStage.IN_FLIGHT,
            scores={ProcessDimension.SUPPORTED: score},
            free_text="",
            answered_on=date(2021, 6, 1),
            recorded_by=ACTOR,
        )
    assert excinfo.value.field == "scores.supported"


def test_reference_population_shares_are_keyed_by_value():
    population = a_population(
        {"ethnic_group": {EthnicGroup.WHITE_BRITISH: "0.8", "asian_indian": "0.05"}}
    )
    assert population.shares == {
        MonitoringCategory.ETHNIC_GROUP: {
            "white_british": Decimal("0.8"),
            "asian_indian": Decimal("0.05"),
        }
    }
    assert population.initiative_id is None


def test_a_meeting_records_attendance_reserve_and_adjustments():
    initiative = an_initiative()
    meeting = a_meeting(initiative)
    service_user, carer = a_participant(), a_participant(ParticipantKind.CARER)
    meeting.record_attendance(
        attendees=[service_user, service_user, carer], recorded_by=ACTOR
    )
    meeting.name_reserve(reserve=carer, recorded_by=ACTOR)
    meeting.make_reasonable_adjustment(description="Hearing loop", recorded_by=ACTOR)
    assert meeting.initiative_id == initiative.id
    assert meeting.attendee_ids == [service_user.id, carer.id]
    assert meeting.reserve_id == carer.id
    assert meeting.adjustments == ["Hearing loop"]
    assert meeting.papers_sent_at is None
