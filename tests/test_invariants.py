"""Every invariant of the 4PI record, through the application service, on both backends.

A refused command names the field and the rule it broke, and leaves the store exactly
as it was: the log position does not move and every affected record reloads equal to
what it was before the command.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any
from uuid import UUID, uuid4

import pytest

from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.change import Change
from fourpi.domain.contribution import Contribution
from fourpi.domain.errors import (
    CrossOrganisationReference,
    DomainError,
    InvalidInput,
    RecordNotFound,
)
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.participant import Participant
from fourpi.domain.payment import Payment
from fourpi.domain.policy import InvolvementPolicy
from fourpi.domain.process_experience import ProcessExperienceAnswer
from fourpi.domain.reference_population import ReferencePopulation
from fourpi.domain.vocabulary import (
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
from tests.helpers import ACTOR, log_position, register

START = date(2021, 1, 4)  # when the conftest initiative started
MADE_ON = date(2021, 2, 1)
OWED_ON = date(2021, 2, 1)
HELD_AT = datetime(2021, 3, 10, 18, 0, tzinfo=UTC)
FOCUS = (ImpactArea.DIVERSITY_AND_EQUALITY,)
PLANNED = "Hold sessions in community venues"

Affected = tuple[type, UUID, UUID]


def assert_refused(
    records: InvolvementRecords,
    error_class: type[DomainError],
    field: str,
    match: str,
    call: Callable[[], Any],
    *affected: Affected,
) -> DomainError:
    """The command is refused for `field`, and nothing in the store changed.

    `affected` are (kind, record id, organisation id) of records to reload and compare.
    """
    position = log_position(records)
    before: list[Any] = [records.load(k, i, org) for k, i, org in affected]
    with pytest.raises(error_class, match=match) as excinfo:
        call()
    assert excinfo.value.field == field
    assert log_position(records) == position
    after: list[Any] = [records.load(k, i, org) for k, i, org in affected]
    assert after == before
    return excinfo.value


def test_assert_refused_notices_a_changed_store(records, organisation_id):
    def record_then_refuse():
        register(records, organisation_id)
        raise InvalidInput("pseudonym", "refused too late")

    with pytest.raises(AssertionError):
        assert_refused(
            records, InvalidInput, "pseudonym", "too late", record_then_refuse
        )


def command(records: InvolvementRecords, use_case: str, **arguments: Any) -> partial:
    """A use case ready to run, recorded by the default actor unless told otherwise."""
    return partial(getattr(records, use_case), **({"actor": ACTOR} | arguments))


# Building blocks


def launch(records, organisation_id, **overrides) -> UUID:
    arguments = {
        "organisation_id": organisation_id,
        "name": "Peer support review",
        "level": InvolvementLevel.OPERATIONAL,
        "involvement_kind": InvolvementKind.PARTICIPATION,
        "methods": (InvolvementMethod.FOCUS_GROUP,),
        "purpose": "Review the peer support offer.",
        "limits_of_influence": "Staffing levels are out of scope.",
        "started_on": START,
    } | overrides
    return command(records, "launch_initiative", **arguments)()


def log_contribution(records, organisation_id, initiative_id, contributor_ids, **more):
    arguments = {
        "organisation_id": organisation_id,
        "initiative_id": initiative_id,
        "contributor_ids": contributor_ids,
        "nature": ContributionNature.IDEA,
        "summary": "Meet in community venues, not the hospital.",
        "impact_areas": FOCUS,
        "made_on": MADE_ON,
    } | more
    return command(records, "log_contribution", **arguments)


def schedule(records, organisation_id, initiative_id, **more):
    arguments = {
        "organisation_id": organisation_id,
        "initiative_id": initiative_id,
        "title": "Steering group",
        "held_at": HELD_AT,
        "high_level": True,
        "decision_making": True,
    } | more
    return command(records, "schedule_meeting", **arguments)


def respond(records, organisation_id, contribution_id, **more):
    arguments = {
        "organisation_id": organisation_id,
        "contribution_id": contribution_id,
        "outcome": ResponseOutcome.ADOPTED,
        "rationale": "",
        "responded_on": date(2021, 2, 15),
    } | more
    return command(records, "respond_to_contribution", **arguments)


def change(records, organisation_id, initiative_id, **more):
    arguments = {
        "organisation_id": organisation_id,
        "initiative_id": initiative_id,
        "description": "Sessions moved to the community centre.",
        "impact_area": ImpactArea.DELIVERY,
        "scope": ChangeScope.ACTIVITY,
        "evidence": "Minutes of the April steering group.",
        "changed_on": date(2021, 4, 20),
    } | more
    return command(records, "record_change", **arguments)


def answer(records, organisation_id, initiative_id, **more):
    arguments = {
        "organisation_id": organisation_id,
        "initiative_id": initiative_id,
        "respondent_kind": RespondentKind.SERVICE_USER,
        "stage": QuestionnaireStage.END_OF_INVOLVEMENT,
        "scores": {ProcessDimension.LISTENED_TO: 4},
        "answered_on": date(2021, 6, 1),
    } | more
    return command(records, "record_process_experience", **arguments)


def owe(records, organisation_id, participant_id, **more):
    arguments = {
        "organisation_id": organisation_id,
        "participant_id": participant_id,
        "payment_kind": PaymentKind.FEE,
        "amount": Decimal("25.00"),
        "owed_on": OWED_ON,
    } | more
    return command(records, "record_payment_owed", **arguments)


def assign(records, organisation_id, initiative_id, participant_id, **more):
    arguments = {
        "organisation_id": organisation_id,
        "initiative_id": initiative_id,
        "participant_id": participant_id,
        "role": InvolvementRole.ADVISOR,
        "paid": True,
        "decision_making": False,
        "started_on": date(2021, 2, 1),
    } | more
    return command(records, "assign_role", **arguments)


def adopt(records, organisation_id, **more):
    arguments = {
        "organisation_id": organisation_id,
        "version_label": "1.0",
        "adopted_on": date(2021, 1, 31),
    } | more
    return command(records, "adopt_involvement_policy", **arguments)


def define_population(records, organisation_id, shares, **more):
    arguments = {
        "organisation_id": organisation_id,
        "description": "Adults in contact with secondary mental health services.",
        "shares": shares,
    } | more
    return command(records, "define_reference_population", **arguments)


def cycle_phase(records, organisation_id, initiative_id, phase, number=1, **more):
    """The command that moves cycle `number` into `phase` (act starts a new cycle)."""
    base = {"organisation_id": organisation_id, "initiative_id": initiative_id}
    if phase is CyclePhase.ACT:
        arguments = base | {"focus_areas": FOCUS, "started_on": date(2021, 2, 1)}
        return command(records, "start_cycle", **(arguments | more))
    arguments = base | {"number": number, "entered_on": more.pop("entered_on", None)}
    if phase is CyclePhase.EVALUATE:
        use_case, text = "evaluate_cycle", {"findings": "Few carers attend."}
        default_day = date(2021, 3, 1)
    elif phase is CyclePhase.REFLECT:
        use_case, text = "reflect_on_cycle", {"reflections": "Evenings suit carers."}
        default_day = date(2021, 4, 1)
    else:
        use_case = "learn_from_cycle"
        text = {"lessons": "Venue matters.", "planned_actions": (PLANNED,)}
        default_day = date(2021, 5, 1)
    arguments["entered_on"] = arguments["entered_on"] or default_day
    return command(records, use_case, **(arguments | text | more))


def run_cycle(records, organisation_id, initiative_id, up_to=CyclePhase.LEARN):
    """Start cycle 1 and move it through its phases up to `up_to`."""
    for phase in CyclePhase:
        cycle_phase(records, organisation_id, initiative_id, phase)()
        if phase is up_to:
            return


@pytest.fixture
def participant_id(records, organisation_id) -> UUID:
    return register(records, organisation_id)


@pytest.fixture
def contribution_id(records, organisation_id, initiative_id, participant_id) -> UUID:
    return log_contribution(records, organisation_id, initiative_id, [participant_id])()


@pytest.fixture
def meeting_id(records, organisation_id, initiative_id) -> UUID:
    return schedule(records, organisation_id, initiative_id)()


@pytest.fixture
def payment_id(records, organisation_id, participant_id) -> UUID:
    return owe(records, organisation_id, participant_id)()


@pytest.fixture
def outcome_id(records, organisation_id, initiative_id) -> UUID:
    return command(
        records,
        "record_intended_outcome",
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        description="More carers take part.",
        impact_areas=FOCUS,
    )()


# Responses to contributions


def test_a_decline_needs_a_rationale(records, organisation_id, contribution_id):
    assert_refused(
        records,
        InvalidInput,
        "rationale",
        "rationale: must not be blank",
        respond(
            records,
            organisation_id,
            contribution_id,
            outcome=ResponseOutcome.DECLINED,
            rationale="  ",
        ),
        (Contribution, contribution_id, organisation_id),
    )


@pytest.mark.parametrize(
    "first",
    [ResponseOutcome.ADOPTED, ResponseOutcome.ADAPTED, ResponseOutcome.DECLINED],
)
def test_an_answered_contribution_cannot_be_answered_again(
    records, organisation_id, contribution_id, first
):
    respond(records, organisation_id, contribution_id, outcome=first, rationale="Why")()
    assert_refused(
        records,
        InvalidInput,
        "outcome",
        f"already {first} on 2021-02-15; only a deferred one can be answered again",
        respond(
            records,
            organisation_id,
            contribution_id,
            outcome=ResponseOutcome.ADAPTED,
            responded_on=date(2021, 3, 1),
        ),
        (Contribution, contribution_id, organisation_id),
    )


def test_a_deferred_contribution_is_answered_later(
    records, organisation_id, contribution_id
):
    respond(
        records,
        organisation_id,
        contribution_id,
        outcome=ResponseOutcome.DEFERRED,
        rationale="Budget decided in March.",
    )()
    respond(
        records,
        organisation_id,
        contribution_id,
        outcome=ResponseOutcome.ADOPTED,
        responded_on=date(2021, 3, 20),
    )()
    contribution = records.load(Contribution, contribution_id, organisation_id)
    assert [r.outcome for r in contribution.responses] == ["deferred", "adopted"]
    assert contribution.latest_response.responded_on == date(2021, 3, 20)


def test_a_response_is_not_before_the_contribution(
    records, organisation_id, contribution_id
):
    assert_refused(
        records,
        InvalidInput,
        "responded_on",
        "must not be before 2021-02-01",
        respond(
            records, organisation_id, contribution_id, responded_on=date(2021, 1, 31)
        ),
        (Contribution, contribution_id, organisation_id),
    )


def test_a_later_answer_is_not_before_the_deferral(
    records, organisation_id, contribution_id
):
    respond(
        records,
        organisation_id,
        contribution_id,
        outcome=ResponseOutcome.DEFERRED,
        responded_on=date(2021, 3, 1),
    )()
    assert_refused(
        records,
        InvalidInput,
        "responded_on",
        "must not be before 2021-03-01",
        respond(
            records, organisation_id, contribution_id, responded_on=date(2021, 2, 20)
        ),
        (Contribution, contribution_id, organisation_id),
    )


def test_feedback_needs_a_response_first(records, organisation_id, contribution_id):
    give = command(
        records,
        "give_feedback",
        organisation_id=organisation_id,
        contribution_id=contribution_id,
        given_on=date(2021, 3, 1),
        method=FeedbackMethod.EMAIL,
        summary="We now meet at the community centre.",
    )
    assert_refused(
        records,
        InvalidInput,
        "contribution_id",
        "has no response yet",
        give,
        (Contribution, contribution_id, organisation_id),
    )
    respond(records, organisation_id, contribution_id)()
    give()
    contribution = records.load(Contribution, contribution_id, organisation_id)
    assert [f.method for f in contribution.feedback] == [FeedbackMethod.EMAIL]


def test_feedback_is_not_before_the_response(records, organisation_id, contribution_id):
    respond(records, organisation_id, contribution_id)()
    assert_refused(
        records,
        InvalidInput,
        "given_on",
        "must not be before the response",
        command(
            records,
            "give_feedback",
            organisation_id=organisation_id,
            contribution_id=contribution_id,
            given_on=date(2021, 2, 14),
            method=FeedbackMethod.LETTER,
            summary="Thank you.",
        ),
        (Contribution, contribution_id, organisation_id),
    )


# The Act - Evaluate - Reflect - Learn cycle


@pytest.mark.parametrize(
    ("reached", "wanted", "skipped"),
    [
        (CyclePhase.ACT, CyclePhase.REFLECT, CyclePhase.EVALUATE),
        (CyclePhase.ACT, CyclePhase.LEARN, CyclePhase.EVALUATE),
        (CyclePhase.EVALUATE, CyclePhase.LEARN, CyclePhase.REFLECT),
    ],
)
def test_a_phase_cannot_be_skipped(
    records, organisation_id, initiative_id, reached, wanted, skipped
):
    run_cycle(records, organisation_id, initiative_id, up_to=reached)
    assert_refused(
        records,
        InvalidInput,
        "phase",
        f"cycle 1 is in {reached}; {skipped} comes before {wanted} and cannot be "
        "skipped",
        cycle_phase(records, organisation_id, initiative_id, wanted),
        (Initiative, initiative_id, organisation_id),
    )


@pytest.mark.parametrize(
    ("reached", "wanted"),
    [
        (CyclePhase.EVALUATE, CyclePhase.EVALUATE),
        (CyclePhase.REFLECT, CyclePhase.REFLECT),
        (CyclePhase.LEARN, CyclePhase.LEARN),
        (CyclePhase.LEARN, CyclePhase.EVALUATE),
    ],
)
def test_a_phase_cannot_be_entered_twice(
    records, organisation_id, initiative_id, reached, wanted
):
    run_cycle(records, organisation_id, initiative_id, up_to=reached)
    assert_refused(
        records,
        InvalidInput,
        "phase",
        f"cycle 1 has already entered {wanted}",
        cycle_phase(
            records, organisation_id, initiative_id, wanted, entered_on=date(2021, 6, 1)
        ),
        (Initiative, initiative_id, organisation_id),
    )


@pytest.mark.parametrize(
    "reached", [CyclePhase.ACT, CyclePhase.EVALUATE, CyclePhase.REFLECT]
)
def test_a_new_cycle_waits_for_the_previous_one_to_learn(
    records, organisation_id, initiative_id, reached
):
    run_cycle(records, organisation_id, initiative_id, up_to=reached)
    assert_refused(
        records,
        InvalidInput,
        "phase",
        f"cycle 1 is in {reached}; it must reach learn before the next cycle can act",
        cycle_phase(
            records,
            organisation_id,
            initiative_id,
            CyclePhase.ACT,
            started_on=date(2021, 6, 1),
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_a_new_cycle_takes_up_only_actions_the_previous_learn_planned(
    records, organisation_id, initiative_id
):
    run_cycle(records, organisation_id, initiative_id)
    assert_refused(
        records,
        InvalidInput,
        "actions_taken_up",
        re.escape("'Open a new ward' was not an action planned when cycle 1 learned"),
        cycle_phase(
            records,
            organisation_id,
            initiative_id,
            CyclePhase.ACT,
            started_on=date(2021, 6, 1),
            actions_taken_up=(PLANNED, "Open a new ward"),
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_the_first_cycle_has_no_actions_to_take_up(
    records, organisation_id, initiative_id
):
    assert_refused(
        records,
        InvalidInput,
        "actions_taken_up",
        "the first cycle has no planned actions to take up",
        cycle_phase(
            records,
            organisation_id,
            initiative_id,
            CyclePhase.ACT,
            actions_taken_up=(PLANNED,),
        ),
        (Initiative, initiative_id, organisation_id),
    )


@pytest.mark.parametrize("number", [0, 2, -1])
def test_a_cycle_that_does_not_exist_cannot_move_on(
    records, organisation_id, initiative_id, number
):
    run_cycle(records, organisation_id, initiative_id, up_to=CyclePhase.ACT)
    assert_refused(
        records,
        InvalidInput,
        "number",
        f"has no cycle {number}",
        cycle_phase(
            records, organisation_id, initiative_id, CyclePhase.EVALUATE, number
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_an_initiative_without_cycles_cannot_evaluate(
    records, organisation_id, initiative_id
):
    assert_refused(
        records,
        InvalidInput,
        "number",
        "has no cycle 1",
        cycle_phase(records, organisation_id, initiative_id, CyclePhase.EVALUATE),
        (Initiative, initiative_id, organisation_id),
    )


@pytest.mark.parametrize(
    ("reached", "wanted"),
    [
        (CyclePhase.ACT, CyclePhase.EVALUATE),
        (CyclePhase.EVALUATE, CyclePhase.REFLECT),
        (CyclePhase.REFLECT, CyclePhase.LEARN),
    ],
)
def test_a_phase_is_not_dated_before_the_previous_phase(
    records, organisation_id, initiative_id, reached, wanted
):
    run_cycle(records, organisation_id, initiative_id, up_to=reached)
    assert_refused(
        records,
        InvalidInput,
        "entered_on",
        f"must not be before cycle 1 entered {reached}",
        cycle_phase(
            records,
            organisation_id,
            initiative_id,
            wanted,
            entered_on=date(2021, 1, 31),
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_a_new_cycle_is_not_dated_before_the_previous_learn(
    records, organisation_id, initiative_id
):
    run_cycle(records, organisation_id, initiative_id)
    assert_refused(
        records,
        InvalidInput,
        "started_on",
        "must not be before cycle 1 entered learn",
        cycle_phase(
            records,
            organisation_id,
            initiative_id,
            CyclePhase.ACT,
            started_on=date(2021, 4, 30),
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_the_first_cycle_is_not_before_the_initiative_started(
    records, organisation_id, initiative_id
):
    assert_refused(
        records,
        InvalidInput,
        "started_on",
        "must not be before the initiative started",
        cycle_phase(
            records,
            organisation_id,
            initiative_id,
            CyclePhase.ACT,
            started_on=date(2020, 12, 31),
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_a_full_cycle_then_a_second_one_taking_up_a_planned_action(
    records, organisation_id, initiative_id
):
    run_cycle(records, organisation_id, initiative_id)
    number = cycle_phase(
        records,
        organisation_id,
        initiative_id,
        CyclePhase.ACT,
        started_on=date(2021, 5, 1),
        actions_taken_up=(PLANNED,),
    )()
    assert number == 2
    initiative = records.load(Initiative, initiative_id, organisation_id)
    first, second = initiative.cycles
    assert first.phase is CyclePhase.LEARN
    assert list(first.phase_dates) == list(CyclePhase)
    assert first.planned_actions == (PLANNED,)
    assert second.phase is CyclePhase.ACT
    assert second.actions_taken_up == (PLANNED,)


# Changes and the contributions they came from


def test_a_change_traces_only_to_contributions_of_its_initiative(
    records, organisation_id, initiative_id, contribution_id
):
    other_initiative = launch(records, organisation_id, name="Crisis line review")
    assert_refused(
        records,
        InvalidInput,
        "contribution_ids",
        f"contribution {contribution_id} belongs to another initiative",
        change(
            records,
            organisation_id,
            other_initiative,
            contribution_ids=[contribution_id],
        ),
        (Initiative, other_initiative, organisation_id),
        (Contribution, contribution_id, organisation_id),
    )


def test_a_change_never_traces_to_another_organisations_contribution(
    records, organisation_id, initiative_id
):
    theirs = build_world(records)
    error = assert_refused(
        records,
        CrossOrganisationReference,
        "contribution_ids",
        f"contribution {theirs.contribution_id} does not exist",
        change(
            records,
            organisation_id,
            initiative_id,
            contribution_ids=[theirs.contribution_id],
        ),
        (Contribution, theirs.contribution_id, theirs.organisation_id),
    )
    assert error.code == "NOT_FOUND"


def test_a_change_beyond_the_activity_says_of_what_kind(
    records, organisation_id, initiative_id
):
    assert_refused(
        records,
        InvalidInput,
        "beyond_kind",
        "a change beyond the activity must say of what kind",
        change(records, organisation_id, initiative_id, scope=ChangeScope.BEYOND),
        (Initiative, initiative_id, organisation_id),
    )


@pytest.mark.parametrize("scope", [ChangeScope.ACTIVITY, ChangeScope.END_RESULT])
def test_only_a_change_beyond_the_activity_has_a_beyond_kind(
    records, organisation_id, initiative_id, scope
):
    assert_refused(
        records,
        InvalidInput,
        "beyond_kind",
        f"only a change beyond the activity has one, not {scope}",
        change(
            records,
            organisation_id,
            initiative_id,
            scope=scope,
            beyond_kind=BeyondKind.RECOVERY_OR_WELLBEING,
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_a_change_beyond_the_activity_traced_to_a_contribution(
    records, organisation_id, initiative_id, contribution_id
):
    change_id = change(
        records,
        organisation_id,
        initiative_id,
        scope=ChangeScope.BEYOND,
        beyond_kind=BeyondKind.GROWTH_OF_PEOPLE_INVOLVED,
        contribution_ids=[contribution_id],
    )()
    recorded = records.load(Change, change_id, organisation_id)
    assert recorded.beyond_kind is BeyondKind.GROWTH_OF_PEOPLE_INVOLVED
    assert recorded.contribution_ids == (contribution_id,)


# Contributions


@pytest.mark.parametrize(
    "kind",
    [
        ParticipantKind.STAFF,
        ParticipantKind.TRUSTEE_OR_BOARD_MEMBER,
        ParticipantKind.OTHER,
    ],
)
def test_contributions_come_only_from_service_users_or_carers(
    records, organisation_id, initiative_id, participant_id, kind
):
    someone_else = register(records, organisation_id, kind=kind, pseudonym="Manager")
    assert_refused(
        records,
        InvalidInput,
        "contributor_ids",
        f"participant {someone_else} is {kind}; contributions come from service "
        "users or carers",
        log_contribution(
            records, organisation_id, initiative_id, [participant_id, someone_else]
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_a_carer_contributes(records, organisation_id, initiative_id):
    carer = register(records, organisation_id, kind=ParticipantKind.CARER)
    contribution_id = log_contribution(
        records, organisation_id, initiative_id, [carer, carer]
    )()
    contribution = records.load(Contribution, contribution_id, organisation_id)
    assert contribution.contributor_ids == (carer,)


def test_a_contribution_has_at_least_one_contributor(
    records, organisation_id, initiative_id
):
    assert_refused(
        records,
        InvalidInput,
        "contributor_ids",
        "must name at least 1",
        log_contribution(records, organisation_id, initiative_id, []),
        (Initiative, initiative_id, organisation_id),
    )


def test_a_contributions_meeting_is_of_the_same_initiative(
    records, organisation_id, initiative_id, participant_id
):
    other_initiative = launch(records, organisation_id, name="Crisis line review")
    their_meeting = schedule(records, organisation_id, other_initiative)()
    assert_refused(
        records,
        InvalidInput,
        "meeting_id",
        f"meeting {their_meeting} is not part of this initiative",
        log_contribution(
            records,
            organisation_id,
            initiative_id,
            [participant_id],
            meeting_id=their_meeting,
        ),
        (Initiative, initiative_id, organisation_id),
        (Meeting, their_meeting, organisation_id),
    )


def test_a_contribution_is_not_before_the_initiative_started(
    records, organisation_id, initiative_id, participant_id
):
    assert_refused(
        records,
        InvalidInput,
        "made_on",
        "must not be before the initiative started",
        log_contribution(
            records,
            organisation_id,
            initiative_id,
            [participant_id],
            made_on=date(2021, 1, 3),
        ),
        (Initiative, initiative_id, organisation_id),
    )


# Meetings and their papers


@pytest.mark.parametrize(
    "sent_at", [HELD_AT, HELD_AT + timedelta(hours=1), HELD_AT + timedelta(days=3)]
)
def test_papers_are_sent_before_the_meeting(
    records, organisation_id, meeting_id, sent_at
):
    assert_refused(
        records,
        InvalidInput,
        "sent_at",
        re.escape("papers must be sent before the meeting (2021-03-10T18:00:00+00:00)"),
        command(
            records,
            "send_meeting_papers",
            organisation_id=organisation_id,
            meeting_id=meeting_id,
            sent_at=sent_at,
        ),
        (Meeting, meeting_id, organisation_id),
    )


def test_papers_are_sent_only_once(records, organisation_id, meeting_id):
    send = partial(
        command,
        records,
        "send_meeting_papers",
        organisation_id=organisation_id,
        meeting_id=meeting_id,
    )
    send(sent_at=HELD_AT - timedelta(days=7))()
    assert_refused(
        records,
        InvalidInput,
        "sent_at",
        "papers were already sent at 2021-03-03T18:00:00",
        send(sent_at=HELD_AT - timedelta(days=2)),
        (Meeting, meeting_id, organisation_id),
    )


def test_papers_sent_the_day_before(records, organisation_id, meeting_id):
    london_summer_time = timezone(timedelta(hours=1))
    sent_at = datetime(2021, 3, 9, 19, 0, tzinfo=london_summer_time)
    command(
        records,
        "send_meeting_papers",
        organisation_id=organisation_id,
        meeting_id=meeting_id,
        sent_at=sent_at,
    )()
    meeting = records.load(Meeting, meeting_id, organisation_id)
    assert meeting.papers_sent_at == sent_at
    assert meeting.held_at - meeting.papers_sent_at == timedelta(hours=24)


def test_a_meeting_time_has_a_time_zone(records, organisation_id, initiative_id):
    assert_refused(
        records,
        InvalidInput,
        "held_at",
        "must be a date and time with a time zone",
        schedule(
            records, organisation_id, initiative_id, held_at=datetime(2021, 3, 10, 18)
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_papers_sent_time_has_a_time_zone(records, organisation_id, meeting_id):
    assert_refused(
        records,
        InvalidInput,
        "sent_at",
        "must be a date and time with a time zone",
        command(
            records,
            "send_meeting_papers",
            organisation_id=organisation_id,
            meeting_id=meeting_id,
            sent_at=datetime(2021, 3, 1, 9),
        ),
        (Meeting, meeting_id, organisation_id),
    )


def test_a_reserve_is_a_service_user_or_carer(records, organisation_id, meeting_id):
    staff = register(records, organisation_id, kind=ParticipantKind.STAFF)
    assert_refused(
        records,
        InvalidInput,
        "participant_id",
        "a reserve must be a service user or carer",
        command(
            records,
            "name_meeting_reserve",
            organisation_id=organisation_id,
            meeting_id=meeting_id,
            participant_id=staff,
        ),
        (Meeting, meeting_id, organisation_id),
    )


def test_attendance_is_recorded_once_per_person(
    records, organisation_id, meeting_id, participant_id
):
    attend = command(
        records,
        "record_attendance",
        organisation_id=organisation_id,
        meeting_id=meeting_id,
        participant_ids=[participant_id],
    )
    attend()
    assert_refused(
        records,
        InvalidInput,
        "participant_ids",
        f"participant {participant_id} is already recorded",
        attend,
        (Meeting, meeting_id, organisation_id),
    )


# Payments


def test_a_payment_is_not_paid_before_it_is_owed(records, organisation_id, payment_id):
    assert_refused(
        records,
        InvalidInput,
        "paid_on",
        re.escape("must not be before the payment was owed (2021-02-01)"),
        command(
            records,
            "record_payment_made",
            organisation_id=organisation_id,
            payment_id=payment_id,
            paid_on=date(2021, 1, 31),
        ),
        (Payment, payment_id, organisation_id),
    )


def test_a_payment_is_not_paid_twice(records, organisation_id, payment_id):
    pay = partial(
        command,
        records,
        "record_payment_made",
        organisation_id=organisation_id,
        payment_id=payment_id,
    )
    pay(paid_on=OWED_ON)()
    assert_refused(
        records,
        InvalidInput,
        "paid_on",
        "the payment was already paid on 2021-02-01",
        pay(paid_on=date(2021, 2, 8)),
        (Payment, payment_id, organisation_id),
    )
    assert records.load(Payment, payment_id, organisation_id).paid_on == OWED_ON


@pytest.mark.parametrize(
    ("amount", "rule"),
    [
        (Decimal("0"), "must be more than zero"),
        (Decimal("-5.00"), "must be more than zero"),
        (Decimal("10.005"), re.escape("must be in whole pence")),
        ("12.345", "must be in whole pence"),
        ("a lot", "must be an amount of money"),
    ],
)
def test_a_payment_amount_is_positive_in_whole_pence(
    records, organisation_id, participant_id, amount, rule
):
    assert_refused(
        records,
        InvalidInput,
        "amount",
        rule,
        owe(records, organisation_id, participant_id, amount=amount),
        (Participant, participant_id, organisation_id),
    )


def test_a_payment_in_pounds_and_pence_is_kept_to_the_penny(
    records, organisation_id, participant_id
):
    payment_id = owe(records, organisation_id, participant_id, amount=Decimal("12.5"))()
    assert records.load(Payment, payment_id, organisation_id).amount == Decimal("12.50")


def test_a_payment_amount_is_not_a_boolean(records, organisation_id, participant_id):
    assert_refused(
        records,
        InvalidInput,
        "amount",
        "amount",
        owe(records, organisation_id, participant_id, amount=True),
        (Participant, participant_id, organisation_id),
    )


# Support and training


def support(records, organisation_id, participant_id, **more):
    arguments = {
        "organisation_id": organisation_id,
        "participant_ids": [participant_id],
        "support_kind": SupportKind.TRAINING_FOR_SERVICE_USERS_AND_CARERS,
        "given_on": date(2021, 2, 1),
    } | more
    return command(records, "record_support", **arguments)


@pytest.mark.parametrize("hours", [Decimal("0"), Decimal("1000.5"), Decimal("-1")])
def test_support_hours_are_more_than_0_and_at_most_1000(
    records, organisation_id, participant_id, hours
):
    assert_refused(
        records,
        InvalidInput,
        "hours",
        "more than 0 and at most 1000",
        support(records, organisation_id, participant_id, hours=hours),
        (Participant, participant_id, organisation_id),
    )


def test_support_hours_that_are_not_a_number_are_refused(
    records, organisation_id, participant_id
):
    assert_refused(
        records,
        InvalidInput,
        "hours",
        "hours",
        support(records, organisation_id, participant_id, hours="two"),
        (Participant, participant_id, organisation_id),
    )


# Process experience


@pytest.mark.parametrize("score", [0, 6, 2.5, True, "4", None])
def test_process_experience_scores_are_whole_numbers_from_1_to_5(
    records, organisation_id, initiative_id, score
):
    assert_refused(
        records,
        InvalidInput,
        "scores.valued_and_respected",
        "must be a whole number from 1 to 5",
        answer(
            records,
            organisation_id,
            initiative_id,
            scores={
                ProcessDimension.LISTENED_TO: 5,
                ProcessDimension.VALUED_AND_RESPECTED: score,
            },
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_process_experience_scores_at_least_one_dimension(
    records, organisation_id, initiative_id
):
    assert_refused(
        records,
        InvalidInput,
        "scores",
        "must score at least one dimension",
        answer(records, organisation_id, initiative_id, scores={}),
        (Initiative, initiative_id, organisation_id),
    )


def test_process_experience_dimensions_come_from_the_vocabulary(
    records, organisation_id, initiative_id
):
    assert_refused(
        records,
        InvalidInput,
        "scores",
        "must be one of: listened_to, valued_and_respected",
        answer(records, organisation_id, initiative_id, scores={"happiness": 3}),
        (Initiative, initiative_id, organisation_id),
    )


@pytest.mark.parametrize(
    ("participant_kind", "respondent_kind"),
    [
        (ParticipantKind.SERVICE_USER, RespondentKind.STAFF),
        (ParticipantKind.CARER, RespondentKind.SERVICE_USER),
        (ParticipantKind.STAFF, RespondentKind.CARER),
    ],
)
def test_the_respondent_kind_matches_the_participant(
    records, organisation_id, initiative_id, participant_kind, respondent_kind
):
    person = register(records, organisation_id, kind=participant_kind)
    assert_refused(
        records,
        InvalidInput,
        "respondent_kind",
        f"participant {person} is a {participant_kind}, not a {respondent_kind}",
        answer(
            records,
            organisation_id,
            initiative_id,
            participant_id=person,
            respondent_kind=respondent_kind,
        ),
        (Participant, person, organisation_id),
    )


def test_a_trustee_may_answer_as_any_respondent_kind(
    records, organisation_id, initiative_id
):
    trustee = register(
        records, organisation_id, kind=ParticipantKind.TRUSTEE_OR_BOARD_MEMBER
    )
    answer_id = answer(
        records,
        organisation_id,
        initiative_id,
        participant_id=trustee,
        respondent_kind=RespondentKind.CARER,
        scores={ProcessDimension.WOULD_TAKE_PART_AGAIN: 5, "supported": 1},
    )()
    recorded = records.load(ProcessExperienceAnswer, answer_id, organisation_id)
    assert recorded.scores == {
        ProcessDimension.SUPPORTED: 1,
        ProcessDimension.WOULD_TAKE_PART_AGAIN: 5,
    }


# One organisation never references another's


@dataclass(frozen=True)
class World:
    """One organisation's records: an initiative and a record of each kind in it."""

    organisation_id: UUID
    initiative_id: UUID
    participant_id: UUID
    meeting_id: UUID
    contribution_id: UUID
    payment_id: UUID

    def affected(self) -> list[Affected]:
        return [
            (Initiative, self.initiative_id, self.organisation_id),
            (Participant, self.participant_id, self.organisation_id),
            (Meeting, self.meeting_id, self.organisation_id),
            (Contribution, self.contribution_id, self.organisation_id),
            (Payment, self.payment_id, self.organisation_id),
        ]


def build_world(records, name="Other Mind") -> World:
    organisation_id = records.register_organisation(name=name, actor="admin")
    initiative_id = launch(records, organisation_id)
    participant_id = register(records, organisation_id)
    meeting_id = schedule(records, organisation_id, initiative_id)()
    contribution_id = log_contribution(
        records, organisation_id, initiative_id, [participant_id]
    )()
    payment_id = owe(records, organisation_id, participant_id)()
    return World(
        organisation_id,
        initiative_id,
        participant_id,
        meeting_id,
        contribution_id,
        payment_id,
    )


ROLE = {
    "role": InvolvementRole.CRITICAL_FRIEND,
    "paid": False,
    "decision_making": True,
    "started_on": date(2021, 2, 1),
}
SCORES = {"scores": {ProcessDimension.SUPPORTED: 4}}
PAYMENT = {"payment_kind": PaymentKind.TRAVEL, "amount": Decimal("4.80")}
CONTRIBUTION = {
    "nature": ContributionNature.CONCERN,
    "summary": "Papers arrive too late to read.",
    "impact_areas": FOCUS,
    "made_on": MADE_ON,
}
CHANGE = {
    "description": "Papers now go out a week ahead.",
    "impact_area": ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE,
    "scope": ChangeScope.ACTIVITY,
    "evidence": "Terms of reference, version 2.",
    "changed_on": date(2021, 4, 1),
}
ANSWER = {
    "respondent_kind": RespondentKind.SERVICE_USER,
    "stage": QuestionnaireStage.IN_FLIGHT,
    "answered_on": date(2021, 5, 1),
}

# (use case, field, which record of the other organisation, the other arguments)
REFERENCES: list[tuple[str, str, str, Callable[[World, UUID], dict[str, Any]]]] = [
    (
        "record_intended_outcome",
        "initiative_id",
        "initiative_id",
        lambda w, x: {
            "initiative_id": x,
            "description": "Carers are heard.",
            "impact_areas": FOCUS,
        },
    ),
    (
        "assign_role",
        "initiative_id",
        "initiative_id",
        lambda w, x: {"initiative_id": x, "participant_id": w.participant_id} | ROLE,
    ),
    (
        "assign_role",
        "participant_id",
        "participant_id",
        lambda w, x: {"initiative_id": w.initiative_id, "participant_id": x} | ROLE,
    ),
    (
        "end_role",
        "initiative_id",
        "initiative_id",
        lambda w, x: {"initiative_id": x, "role_id": uuid4(), "ended_on": START},
    ),
    (
        "start_cycle",
        "initiative_id",
        "initiative_id",
        lambda w, x: {"initiative_id": x, "focus_areas": FOCUS, "started_on": START},
    ),
    (
        "evaluate_cycle",
        "initiative_id",
        "initiative_id",
        lambda w, x: {
            "initiative_id": x,
            "number": 1,
            "findings": "Few carers.",
            "entered_on": START,
        },
    ),
    (
        "declare_monitoring_data",
        "participant_id",
        "participant_id",
        lambda w, x: {"participant_id": x, "monitoring": {"age_band": "25_34"}},
    ),
    (
        "set_payment_preference",
        "participant_id",
        "participant_id",
        lambda w, x: {
            "participant_id": x,
            "payment_preference": PaymentPreference.FEES,
        },
    ),
    (
        "schedule_meeting",
        "initiative_id",
        "initiative_id",
        lambda w, x: {
            "initiative_id": x,
            "title": "Review",
            "held_at": HELD_AT,
            "high_level": False,
            "decision_making": False,
        },
    ),
    (
        "send_meeting_papers",
        "meeting_id",
        "meeting_id",
        lambda w, x: {"meeting_id": x, "sent_at": HELD_AT - timedelta(days=5)},
    ),
    (
        "record_attendance",
        "meeting_id",
        "meeting_id",
        lambda w, x: {"meeting_id": x, "participant_ids": [w.participant_id]},
    ),
    (
        "record_attendance",
        "participant_ids",
        "participant_id",
        lambda w, x: {
            "meeting_id": w.meeting_id,
            "participant_ids": [w.participant_id, x],
        },
    ),
    (
        "name_meeting_reserve",
        "participant_id",
        "participant_id",
        lambda w, x: {"meeting_id": w.meeting_id, "participant_id": x},
    ),
    (
        "make_reasonable_adjustment",
        "meeting_id",
        "meeting_id",
        lambda w, x: {"meeting_id": x, "description": "Large-print papers."},
    ),
    (
        "log_contribution",
        "initiative_id",
        "initiative_id",
        lambda w, x: (
            {"initiative_id": x, "contributor_ids": [w.participant_id]} | CONTRIBUTION
        ),
    ),
    (
        "log_contribution",
        "contributor_ids",
        "participant_id",
        lambda w, x: (
            {"initiative_id": w.initiative_id, "contributor_ids": [x]} | CONTRIBUTION
        ),
    ),
    (
        "log_contribution",
        "meeting_id",
        "meeting_id",
        lambda w, x: (
            {
                "initiative_id": w.initiative_id,
                "contributor_ids": [w.participant_id],
                "meeting_id": x,
            }
            | CONTRIBUTION
        ),
    ),
    (
        "respond_to_contribution",
        "contribution_id",
        "contribution_id",
        lambda w, x: {
            "contribution_id": x,
            "outcome": ResponseOutcome.ADOPTED,
            "responded_on": date(2021, 3, 1),
        },
    ),
    (
        "give_feedback",
        "contribution_id",
        "contribution_id",
        lambda w, x: {
            "contribution_id": x,
            "given_on": date(2021, 3, 1),
            "method": FeedbackMethod.MEETING,
            "summary": "You said, we did.",
        },
    ),
    (
        "record_change",
        "initiative_id",
        "initiative_id",
        lambda w, x: {"initiative_id": x} | CHANGE,
    ),
    (
        "record_change",
        "contribution_ids",
        "contribution_id",
        lambda w, x: (
            {
                "initiative_id": w.initiative_id,
                "contribution_ids": [w.contribution_id, x],
            }
            | CHANGE
        ),
    ),
    (
        "record_process_experience",
        "initiative_id",
        "initiative_id",
        lambda w, x: {"initiative_id": x} | ANSWER | SCORES,
    ),
    (
        "record_process_experience",
        "participant_id",
        "participant_id",
        lambda w, x: (
            {"initiative_id": w.initiative_id, "participant_id": x} | ANSWER | SCORES
        ),
    ),
    (
        "record_payment_owed",
        "participant_id",
        "participant_id",
        lambda w, x: {"participant_id": x, "owed_on": OWED_ON} | PAYMENT,
    ),
    (
        "record_payment_owed",
        "initiative_id",
        "initiative_id",
        lambda w, x: (
            {
                "participant_id": w.participant_id,
                "initiative_id": x,
                "owed_on": OWED_ON,
            }
            | PAYMENT
        ),
    ),
    (
        "record_payment_made",
        "payment_id",
        "payment_id",
        lambda w, x: {"payment_id": x, "paid_on": date(2021, 3, 1)},
    ),
    (
        "record_support",
        "initiative_id",
        "initiative_id",
        lambda w, x: {
            "initiative_id": x,
            "support_kind": SupportKind.SUPERVISION,
            "given_on": MADE_ON,
        },
    ),
    (
        "record_support",
        "participant_ids",
        "participant_id",
        lambda w, x: {
            "participant_ids": [w.participant_id, x],
            "support_kind": SupportKind.PEER_SUPPORT_OR_MENTORING,
            "given_on": MADE_ON,
        },
    ),
    (
        "define_reference_population",
        "initiative_id",
        "initiative_id",
        lambda w, x: {
            "initiative_id": x,
            "description": "People on the ward.",
            "shares": {MonitoringCategory.DISABILITY: {"disabled": Decimal("0.3")}},
        },
    ),
]
REFERENCE_IDS = [f"{use_case}-{field}" for use_case, field, _, _ in REFERENCES]


@pytest.mark.parametrize(
    ("use_case", "field", "foreign", "arguments"), REFERENCES, ids=REFERENCE_IDS
)
def test_another_organisations_record_is_forbidden(
    records, use_case, field, foreign, arguments
):
    mine = build_world(records, name="My Mind")
    theirs = build_world(records)
    their_id = getattr(theirs, foreign)
    call = command(
        records,
        use_case,
        organisation_id=mine.organisation_id,
        **arguments(mine, their_id),
    )
    error = assert_refused(
        records,
        CrossOrganisationReference,
        field,
        f"^[a-z ]+ {their_id} does not exist$",
        call,
        *mine.affected(),
        *theirs.affected(),
    )
    # In the very words of a record that does not exist (next test).
    assert error.code == "NOT_FOUND"


@pytest.mark.parametrize(
    ("use_case", "field", "foreign", "arguments"), REFERENCES, ids=REFERENCE_IDS
)
def test_an_unknown_record_is_not_found(records, use_case, field, foreign, arguments):
    mine = build_world(records, name="My Mind")
    unknown = uuid4()
    call = command(
        records,
        use_case,
        organisation_id=mine.organisation_id,
        **arguments(mine, unknown),
    )
    error = assert_refused(
        records,
        RecordNotFound,
        field,
        f"{unknown} does not exist",
        call,
        *mine.affected(),
    )
    assert error.code == "NOT_FOUND"


def test_another_organisations_record_cannot_be_loaded(records):
    mine = build_world(records, name="My Mind")
    theirs = build_world(records)
    with pytest.raises(CrossOrganisationReference) as excinfo:
        records.load(Initiative, theirs.initiative_id, mine.organisation_id)
    assert excinfo.value.field == "id"
    assert excinfo.value.code == "NOT_FOUND"
    with pytest.raises(
        CrossOrganisationReference,
        match=f"^initiative {theirs.initiative_id} does not exist$",
    ) as excinfo:
        records.load(
            Initiative, theirs.initiative_id, mine.organisation_id, "initiative_id"
        )
    assert excinfo.value.field == "initiative_id"
    loaded = records.load(Initiative, theirs.initiative_id, theirs.organisation_id)
    assert loaded.organisation_id == theirs.organisation_id


def test_a_record_of_another_kind_is_not_found(records, organisation_id, meeting_id):
    error = assert_refused(
        records,
        RecordNotFound,
        "initiative_id",
        f"initiative {meeting_id} does not exist",
        command(
            records,
            "record_intended_outcome",
            organisation_id=organisation_id,
            initiative_id=meeting_id,
            description="A meeting is not an initiative.",
            impact_areas=FOCUS,
        ),
        (Meeting, meeting_id, organisation_id),
    )
    assert error.code == "NOT_FOUND"


@pytest.mark.parametrize(
    ("use_case", "arguments"),
    [
        ("register_participant", {"pseudonym": "Ash", "participant_kind": "carer"}),
        (
            "adopt_involvement_policy",
            {"version_label": "1.0", "adopted_on": date(2021, 1, 1)},
        ),
        ("review_involvement_policy", {"reviewed_on": date(2021, 1, 1)}),
        (
            "define_reference_population",
            {
                "description": "Everyone",
                "shares": {"gender": {"woman": Decimal("0.5")}},
            },
        ),
        (
            "launch_initiative",
            {
                "name": "Ghost",
                "level": InvolvementLevel.COMMUNITY,
                "involvement_kind": InvolvementKind.INFLUENCE,
                "methods": (InvolvementMethod.SURVEY,),
                "purpose": "None",
                "limits_of_influence": "All",
                "started_on": START,
            },
        ),
    ],
)
def test_a_command_for_an_organisation_that_does_not_exist(
    records, organisation_id, use_case, arguments
):
    nowhere = uuid4()
    error = assert_refused(
        records,
        RecordNotFound,
        "organisation_id",
        f"organisation {nowhere} does not exist",
        command(records, use_case, organisation_id=nowhere, **arguments),
    )
    assert error.code == "NOT_FOUND"


def test_an_organisation_id_must_name_an_organisation(
    records, organisation_id, initiative_id
):
    error = assert_refused(
        records,
        RecordNotFound,
        "organisation_id",
        f"organisation {initiative_id} does not exist",
        command(
            records,
            "register_participant",
            organisation_id=initiative_id,
            pseudonym="Ash",
            participant_kind=ParticipantKind.CARER,
        ),
    )
    assert error.code == "NOT_FOUND"


# Intended outcomes


def assess(records, organisation_id, initiative_id, outcome_id, **more):
    arguments = {
        "organisation_id": organisation_id,
        "initiative_id": initiative_id,
        "outcome_id": outcome_id,
        "assessment": OutcomeAssessment.ACHIEVED,
        "involvement_difference": InvolvementDifference.SIGNIFICANT,
        "evidence": "Carer attendance doubled.",
        "assessed_on": date(2021, 12, 1),
    } | more
    return command(records, "assess_intended_outcome", **arguments)


def test_an_unknown_intended_outcome_cannot_be_assessed(
    records, organisation_id, initiative_id, outcome_id
):
    assert_refused(
        records,
        InvalidInput,
        "outcome_id",
        f"is not an intended outcome of initiative {initiative_id}",
        assess(records, organisation_id, initiative_id, uuid4()),
        (Initiative, initiative_id, organisation_id),
    )


@pytest.mark.parametrize(
    "assessment",
    [
        OutcomeAssessment.ACHIEVED,
        OutcomeAssessment.PARTLY_ACHIEVED,
        OutcomeAssessment.NOT_ACHIEVED,
    ],
)
def test_an_assessment_needs_evidence(
    records, organisation_id, initiative_id, outcome_id, assessment
):
    assert_refused(
        records,
        InvalidInput,
        "evidence",
        "evidence: must not be blank",
        assess(
            records,
            organisation_id,
            initiative_id,
            outcome_id,
            assessment=assessment,
            evidence=" ",
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_too_early_to_tell_needs_no_evidence(
    records, organisation_id, initiative_id, outcome_id
):
    assess(
        records,
        organisation_id,
        initiative_id,
        outcome_id,
        assessment=OutcomeAssessment.TOO_EARLY_TO_TELL,
        involvement_difference=InvolvementDifference.UNKNOWN,
        evidence="",
    )()
    initiative = records.load(Initiative, initiative_id, organisation_id)
    outcome = initiative.intended_outcomes[outcome_id]
    assert outcome.assessment is OutcomeAssessment.TOO_EARLY_TO_TELL
    assert outcome.involvement_difference is InvolvementDifference.UNKNOWN


def test_an_outcome_is_not_assessed_before_the_initiative_started(
    records, organisation_id, initiative_id, outcome_id
):
    assert_refused(
        records,
        InvalidInput,
        "assessed_on",
        re.escape("must not be before the initiative started (2021-01-04)"),
        assess(
            records,
            organisation_id,
            initiative_id,
            outcome_id,
            assessed_on=date(2021, 1, 3),
        ),
        (Initiative, initiative_id, organisation_id),
    )


# Roles


def test_a_participant_cannot_hold_the_same_open_role_twice(
    records, organisation_id, initiative_id, participant_id
):
    assign(records, organisation_id, initiative_id, participant_id)()
    assert_refused(
        records,
        InvalidInput,
        "role",
        f"participant {participant_id} already holds the advisor role here",
        assign(
            records,
            organisation_id,
            initiative_id,
            participant_id,
            started_on=date(2021, 3, 1),
        ),
        (Initiative, initiative_id, organisation_id),
    )


def test_a_participant_may_take_a_role_again_after_it_ended(
    records, organisation_id, initiative_id, participant_id
):
    role_id = assign(records, organisation_id, initiative_id, participant_id)()
    command(
        records,
        "end_role",
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        role_id=role_id,
        ended_on=date(2021, 6, 30),
    )()
    again = assign(
        records,
        organisation_id,
        initiative_id,
        participant_id,
        started_on=date(2021, 9, 1),
    )()
    initiative = records.load(Initiative, initiative_id, organisation_id)
    assert initiative.roles[role_id].ended_on == date(2021, 6, 30)
    assert initiative.roles[again].ended_on is None


def end_role(records, organisation_id, initiative_id, role_id, ended_on):
    return command(
        records,
        "end_role",
        organisation_id=organisation_id,
        initiative_id=initiative_id,
        role_id=role_id,
        ended_on=ended_on,
    )


def test_an_unknown_role_cannot_end(records, organisation_id, initiative_id):
    assert_refused(
        records,
        InvalidInput,
        "role_id",
        f"is not a role in initiative {initiative_id}",
        end_role(records, organisation_id, initiative_id, uuid4(), date(2021, 6, 1)),
        (Initiative, initiative_id, organisation_id),
    )


def test_a_role_ends_only_once(records, organisation_id, initiative_id, participant_id):
    role_id = assign(records, organisation_id, initiative_id, participant_id)()
    end_role(records, organisation_id, initiative_id, role_id, date(2021, 6, 1))()
    assert_refused(
        records,
        InvalidInput,
        "role_id",
        "the role already ended on 2021-06-01",
        end_role(records, organisation_id, initiative_id, role_id, date(2021, 7, 1)),
        (Initiative, initiative_id, organisation_id),
    )


def test_a_role_does_not_end_before_it_started(
    records, organisation_id, initiative_id, participant_id
):
    role_id = assign(records, organisation_id, initiative_id, participant_id)()
    assert_refused(
        records,
        InvalidInput,
        "ended_on",
        re.escape("must not be before the role started (2021-02-01)"),
        end_role(records, organisation_id, initiative_id, role_id, date(2021, 1, 31)),
        (Initiative, initiative_id, organisation_id),
    )


# The involvement policy


def policy_of(records, organisation_id) -> Affected:
    return (
        InvolvementPolicy,
        InvolvementPolicy.id_for(organisation_id),
        organisation_id,
    )


def review(records, organisation_id, reviewed_on):
    return command(
        records,
        "review_involvement_policy",
        organisation_id=organisation_id,
        reviewed_on=reviewed_on,
    )


def test_a_review_is_not_before_the_adoption(records, organisation_id):
    adopt(records, organisation_id)()
    assert_refused(
        records,
        InvalidInput,
        "reviewed_on",
        re.escape("must not be before the last review or adoption (2021-01-31)"),
        review(records, organisation_id, date(2021, 1, 30)),
        policy_of(records, organisation_id),
    )


def test_a_review_is_not_before_the_last_review(records, organisation_id):
    adopt(records, organisation_id)()
    review(records, organisation_id, date(2022, 6, 1))()
    assert_refused(
        records,
        InvalidInput,
        "reviewed_on",
        re.escape("must not be before the last review or adoption (2022-06-01)"),
        review(records, organisation_id, date(2022, 5, 31)),
        policy_of(records, organisation_id),
    )


def test_a_policy_cannot_be_reviewed_before_it_is_adopted(records, organisation_id):
    assert_refused(
        records,
        RecordNotFound,
        "organisation_id",
        "involvement policy .* does not exist",
        review(records, organisation_id, date(2022, 6, 1)),
    )


@pytest.mark.parametrize("label", ["1.0", " 1.0 "])
def test_revising_to_the_same_version_is_refused(records, organisation_id, label):
    adopt(records, organisation_id)()
    assert_refused(
        records,
        InvalidInput,
        "version_label",
        "version 1.0 is already adopted",
        adopt(
            records, organisation_id, version_label=label, adopted_on=date(2023, 1, 1)
        ),
        policy_of(records, organisation_id),
    )


def test_a_revision_is_not_adopted_before_the_current_version(records, organisation_id):
    adopt(records, organisation_id)()
    assert_refused(
        records,
        InvalidInput,
        "adopted_on",
        "must not be before the current version's last review or adoption",
        adopt(
            records, organisation_id, version_label="2.0", adopted_on=date(2021, 1, 1)
        ),
        policy_of(records, organisation_id),
    )


def test_a_revision_is_not_adopted_before_the_current_versions_last_review(
    records, organisation_id
):
    """A review of version 1.0 on 1 June 2022 says 1.0 was in force then: a version
    2.0 adopted in March 2022 would have the old version reviewed after it gave
    way, and no workbook could say which version that review was of."""
    adopt(records, organisation_id)()
    review(records, organisation_id, date(2022, 6, 1))()
    assert_refused(
        records,
        InvalidInput,
        "adopted_on",
        re.escape(
            "must not be before the current version's last review or adoption "
            "(2022-06-01)"
        ),
        adopt(
            records, organisation_id, version_label="2.0", adopted_on=date(2022, 3, 1)
        ),
        policy_of(records, organisation_id),
    )
    adopt(records, organisation_id, version_label="2.0", adopted_on=date(2022, 6, 1))()


@pytest.mark.parametrize("months", [0, -12, 121, True, 12.0])
def test_a_review_interval_is_1_to_120_months(records, organisation_id, months):
    assert_refused(
        records,
        InvalidInput,
        "review_interval_months",
        "must be a whole number of months from 1 to 120",
        adopt(records, organisation_id, review_interval_months=months),
    )
    adopt(records, organisation_id)()
    assert_refused(
        records,
        InvalidInput,
        "review_interval_months",
        "must be a whole number of months from 1 to 120",
        adopt(
            records,
            organisation_id,
            version_label="2.0",
            adopted_on=date(2023, 1, 1),
            review_interval_months=months,
        ),
        policy_of(records, organisation_id),
    )


def test_a_policy_is_reviewed_every_24_months_by_default(records, organisation_id):
    policy_id = adopt(records, organisation_id)()
    assert policy_id == InvolvementPolicy.id_for(organisation_id)
    policy = records.load(InvolvementPolicy, policy_id, organisation_id)
    assert policy.review_interval_months == 24
    assert policy.review_due_on == date(2023, 1, 31)
    assert not policy.is_overdue_on(date(2023, 1, 31))
    assert policy.is_overdue_on(date(2023, 2, 1))

    review(records, organisation_id, date(2022, 2, 28))()
    policy = records.load(InvolvementPolicy, policy_id, organisation_id)
    assert policy.review_due_on == date(2024, 2, 28)

    adopt(
        records,
        organisation_id,
        version_label="2.0",
        adopted_on=date(2024, 1, 31),
        review_interval_months=1,
    )()
    policy = records.load(InvolvementPolicy, policy_id, organisation_id)
    assert policy.version_label == "2.0"
    assert policy.reviews == []
    assert policy.review_due_on == date(2024, 2, 29)


# Participants


@pytest.mark.parametrize(
    ("limit", "period", "field"),
    [
        (Decimal("20.00"), None, "earnings_period"),
        (None, EarningsPeriod.WEEK, "earnings_limit"),
    ],
)
def test_an_earnings_limit_goes_with_its_period(
    records, organisation_id, participant_id, limit, period, field
):
    assert_refused(
        records,
        InvalidInput,
        field,
        re.escape("an earnings limit and its period (week or month) go together"),
        command(
            records,
            "set_payment_preference",
            organisation_id=organisation_id,
            participant_id=participant_id,
            payment_preference=PaymentPreference.REDUCED_FEE,
            earnings_limit=limit,
            earnings_period=period,
        ),
        (Participant, participant_id, organisation_id),
    )


def test_an_earnings_limit_is_an_amount_of_money(
    records, organisation_id, participant_id
):
    assert_refused(
        records,
        InvalidInput,
        "earnings_limit",
        "must be more than zero",
        command(
            records,
            "set_payment_preference",
            organisation_id=organisation_id,
            participant_id=participant_id,
            payment_preference=PaymentPreference.FEES,
            earnings_limit=Decimal("0"),
            earnings_period=EarningsPeriod.MONTH,
        ),
        (Participant, participant_id, organisation_id),
    )


def declare(records, organisation_id, participant_id, monitoring):
    return command(
        records,
        "declare_monitoring_data",
        organisation_id=organisation_id,
        participant_id=participant_id,
        monitoring=monitoring,
    )


def test_an_unknown_monitoring_category_is_refused(
    records, organisation_id, participant_id
):
    assert_refused(
        records,
        InvalidInput,
        "monitoring.religion",
        "monitoring.religion: is not a monitoring category",
        declare(
            records,
            organisation_id,
            participant_id,
            {"age_band": "25_34", "religion": "none"},
        ),
        (Participant, participant_id, organisation_id),
    )


def test_a_monitoring_value_comes_from_its_vocabulary(
    records, organisation_id, participant_id
):
    error = assert_refused(
        records,
        InvalidInput,
        "monitoring.ethnic_group",
        "monitoring.ethnic_group: must be one of: asian_bangladeshi, ",
        declare(records, organisation_id, participant_id, {"ethnic_group": "martian"}),
        (Participant, participant_id, organisation_id),
    )
    assert isinstance(error, InvalidInput)
    assert error.rule == "must be one of: " + ", ".join(EthnicGroup)


def test_monitoring_data_is_declared_with_prefer_not_to_say(
    records, organisation_id, participant_id
):
    declare(
        records,
        organisation_id,
        participant_id,
        {"ethnic_group": "white_roma", "disability": "prefer_not_to_say"},
    )()
    participant = records.load(Participant, participant_id, organisation_id)
    assert participant.monitoring.ethnic_group is EthnicGroup.WHITE_ROMA
    assert participant.monitoring.disability == "prefer_not_to_say"
    assert participant.monitoring.gender is None


def test_a_participant_kind_comes_from_its_vocabulary(records, organisation_id):
    assert_refused(
        records,
        InvalidInput,
        "participant_kind",
        "must be one of: service_user, carer, staff",
        command(
            records,
            "register_participant",
            organisation_id=organisation_id,
            pseudonym="Ash",
            participant_kind="volunteer",
        ),
    )


# Reference populations


@pytest.mark.parametrize(
    ("shares", "field", "rule"),
    [
        (
            {"gender": {"woman": Decimal("0.6"), "man": Decimal("0.6")}},
            "shares.gender",
            "the shares of a category must add up to at most 1",
        ),
        (
            {"gender": {"woman": Decimal("-0.1")}},
            "shares.gender.woman",
            "must be a fraction from 0 to 1",
        ),
        (
            {"gender": {"woman": Decimal("1.5")}},
            "shares.gender.woman",
            "must be a fraction from 0 to 1",
        ),
        (
            {"gender": {"woman": "half"}},
            "shares.gender.woman",
            "must be a fraction from 0 to 1",
        ),
        (
            {"gender": {"martian": Decimal("0.1")}},
            "shares.gender",
            "must be one of: woman, man, non_binary",
        ),
        (
            {"religion": {"none": Decimal("0.1")}},
            "shares",
            "must be one of: age_band, gender",
        ),
        ({"gender": {}}, "shares.gender", "must give at least one share"),
        ({}, "shares", "must describe at least one category"),
    ],
)
def test_reference_population_shares(records, organisation_id, shares, field, rule):
    population = (
        ReferencePopulation,
        ReferencePopulation.id_for(organisation_id, None),
        organisation_id,
    )
    assert_refused(
        records,
        InvalidInput,
        field,
        rule,
        define_population(records, organisation_id, shares),
    )
    define_population(records, organisation_id, {"disability": {"disabled": "0.25"}})()
    assert_refused(
        records,
        InvalidInput,
        field,
        rule,
        define_population(records, organisation_id, shares),
        population,
    )


def test_reference_population_shares_may_round_to_one(records, organisation_id):
    third = Decimal("0.334")
    population_id = define_population(
        records,
        organisation_id,
        {MonitoringCategory.AGE_BAND: {"18_24": third, "25_34": third, "35_44": third}},
    )()
    population = records.load(ReferencePopulation, population_id, organisation_id)
    assert sum(population.shares[MonitoringCategory.AGE_BAND].values()) == Decimal(
        "1.002"
    )


# Blank text and the actor


@pytest.mark.parametrize("field", ["name", "purpose", "limits_of_influence"])
@pytest.mark.parametrize("blank", ["", "   \n"])
def test_an_initiative_states_its_name_purpose_and_limits(
    records, organisation_id, field, blank
):
    assert_refused(
        records,
        InvalidInput,
        field,
        f"{field}: must not be blank",
        partial(launch, records, organisation_id, **{field: blank}),
    )


def test_blank_required_text_is_refused(
    records, organisation_id, initiative_id, participant_id, meeting_id
):
    run_cycle(records, organisation_id, initiative_id, up_to=CyclePhase.ACT)
    cases = [
        (
            "description",
            command(
                records,
                "record_intended_outcome",
                organisation_id=organisation_id,
                initiative_id=initiative_id,
                description=" ",
                impact_areas=FOCUS,
            ),
        ),
        (
            "summary",
            log_contribution(
                records, organisation_id, initiative_id, [participant_id], summary=""
            ),
        ),
        ("evidence", change(records, organisation_id, initiative_id, evidence="")),
        (
            "description",
            command(
                records,
                "make_reasonable_adjustment",
                organisation_id=organisation_id,
                meeting_id=meeting_id,
                description="",
            ),
        ),
        (
            "pseudonym",
            command(
                records,
                "register_participant",
                organisation_id=organisation_id,
                pseudonym="",
                participant_kind=ParticipantKind.CARER,
            ),
        ),
        ("title", schedule(records, organisation_id, initiative_id, title=" ")),
        (
            "findings",
            cycle_phase(
                records,
                organisation_id,
                initiative_id,
                CyclePhase.EVALUATE,
                findings="",
            ),
        ),
    ]
    for field, call in cases:
        assert_refused(
            records,
            InvalidInput,
            field,
            f"{field}: must not be blank",
            call,
            (Initiative, initiative_id, organisation_id),
            (Meeting, meeting_id, organisation_id),
        )


def test_blank_organisation_name_is_refused(records):
    assert_refused(
        records,
        InvalidInput,
        "name",
        "name: must not be blank",
        partial(records.register_organisation, name=" ", actor="admin"),
    )


@pytest.mark.parametrize("actor", ["", "  ", None])
def test_the_actor_must_not_be_blank(records, organisation_id, contribution_id, actor):
    for call in [
        respond(records, organisation_id, contribution_id, actor=actor),
        partial(launch, records, organisation_id, actor=actor),
        partial(records.register_organisation, name="Blank Mind", actor=actor),
    ]:
        assert_refused(
            records,
            InvalidInput,
            "actor",
            "actor: must name who",
            call,
            (Contribution, contribution_id, organisation_id),
        )


# Dates and choices checked since the first review of the demo


def test_a_change_cannot_come_from_a_declined_contribution(
    records, organisation_id, initiative_id, contribution_id
):
    respond(
        records,
        organisation_id,
        contribution_id,
        outcome=ResponseOutcome.DECLINED,
        rationale="Outside our remit: staffing is set by the trust.",
    )()
    assert_refused(
        records,
        InvalidInput,
        "contribution_ids",
        "was declined; a change cannot come from it",
        change(
            records, organisation_id, initiative_id, contribution_ids=[contribution_id]
        ),
        (Contribution, contribution_id, organisation_id),
    )


def test_a_change_cannot_predate_the_contribution_it_came_from(
    records, organisation_id, initiative_id, contribution_id
):
    assert_refused(
        records,
        InvalidInput,
        "changed_on",
        f"must not be before contribution {contribution_id} was made",
        change(
            records,
            organisation_id,
            initiative_id,
            contribution_ids=[contribution_id],
            changed_on=MADE_ON - timedelta(days=1),
        ),
    )


@pytest.mark.parametrize(
    "preference", [PaymentPreference.EXPENSES_ONLY, PaymentPreference.NO_PAYMENT]
)
def test_a_fee_is_refused_against_the_persons_choice(
    records, organisation_id, participant_id, preference
):
    command(
        records,
        "set_payment_preference",
        organisation_id=organisation_id,
        participant_id=participant_id,
        payment_preference=preference,
    )()
    assert_refused(
        records,
        InvalidInput,
        "payment_kind",
        # The same words for both choices: which one is personal data.
        f"participant {participant_id} chose not to be paid fees; a fee would go "
        "against that choice",
        owe(records, organisation_id, participant_id),
        (Participant, participant_id, organisation_id),
    )
    owe(records, organisation_id, participant_id, payment_kind=PaymentKind.TRAVEL)()


def test_dates_of_an_initiative_do_not_precede_its_start(
    records, organisation_id, initiative_id, participant_id
):
    before_start = START - timedelta(days=1)
    affected = (Initiative, initiative_id, organisation_id)
    assert_refused(
        records,
        InvalidInput,
        "started_on",
        "must not be before the initiative started",
        assign(
            records,
            organisation_id,
            initiative_id,
            participant_id,
            started_on=before_start,
        ),
        affected,
    )
    assert_refused(
        records,
        InvalidInput,
        "held_at",
        "must not be before the initiative started",
        schedule(
            records,
            organisation_id,
            initiative_id,
            held_at=datetime.combine(before_start, datetime.min.time(), UTC),
        ),
    )
    assert_refused(
        records,
        InvalidInput,
        "owed_on",
        "must not be before the initiative started",
        owe(
            records,
            organisation_id,
            participant_id,
            initiative_id=initiative_id,
            owed_on=before_start,
        ),
    )
    assert_refused(
        records,
        InvalidInput,
        "given_on",
        "must not be before the initiative started",
        command(
            records,
            "record_support",
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            support_kind=SupportKind.SUPERVISION,
            given_on=before_start,
        ),
    )


def test_a_contribution_made_at_a_meeting_is_not_dated_before_it(
    records, organisation_id, initiative_id, participant_id, meeting_id
):
    assert_refused(
        records,
        InvalidInput,
        "made_on",
        "must not be before the meeting it was made at",
        log_contribution(
            records,
            organisation_id,
            initiative_id,
            [participant_id],
            meeting_id=meeting_id,
            made_on=HELD_AT.date() - timedelta(days=1),
        ),
    )


def test_a_blank_actor_is_refused_before_anything_is_read(records, organisation_id):
    assert_refused(
        records,
        InvalidInput,
        "actor",
        "actor: must name who is recording this",
        command(
            records,
            "register_participant",
            actor="  ",
            organisation_id=organisation_id,
            pseudonym="A",
            participant_kind=ParticipantKind.CARER,
        ),
    )


@pytest.mark.parametrize("text", ["Nul\x00here", "Bell\x07", "Escape\x1b[31m"])
def test_text_with_control_characters_is_refused(records, organisation_id, text):
    assert_refused(
        records,
        InvalidInput,
        "pseudonym",
        "must not contain control characters",
        command(
            records,
            "register_participant",
            organisation_id=organisation_id,
            pseudonym=text,
            participant_kind=ParticipantKind.CARER,
        ),
    )


@pytest.mark.parametrize("line_break", ["\n", "\r", "\t", "\u2028", "\x85"])
def test_a_name_with_a_line_break_is_refused(records, organisation_id, line_break):
    """A name is how a record is chosen and listed: `fourpi organisations list`
    printed an organisation named "Mind\\nCymru" as two lines, the second looking
    like another organisation, and no one could type it to choose it."""
    name = f"Mind{line_break}Cymru"
    one_line = "must be on one line, with no line break or tab"
    assert_refused(
        records,
        InvalidInput,
        "name",
        one_line,
        command(records, "register_organisation", name=name),
    )
    assert_refused(
        records,
        InvalidInput,
        "name",
        one_line,
        partial(launch, records, organisation_id, name=name),
    )
    assert_refused(
        records,
        InvalidInput,
        "pseudonym",
        one_line,
        command(
            records,
            "register_participant",
            organisation_id=organisation_id,
            pseudonym=name,
            participant_kind=ParticipantKind.CARER,
        ),
    )
    assert_refused(
        records,
        InvalidInput,
        "label",
        one_line,
        command(
            records,
            "issue_token",
            organisation_id=organisation_id,
            role=Role.EVALUATOR,
            label=name,
        ),
    )


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("\u200b\u200b", "must not be blank"),
        ("\u200d \ufeff", "must not be blank"),
        ("\u3164", "must not be blank"),  # a Hangul filler, drawn as nothing
        ("\uffa0\u115f\u1160", "must not be blank"),
        ("\u2800\u2800", "must not be blank"),  # the blank Braille pattern
        ("\ufe0f\u034f", "must not be blank"),  # a variation selector, a joiner
        ("\U000e0101", "must not be blank"),
        ("River\u202eAsh", "must not hold a character that reorders the text"),
        ("\u2067Oak\u2069", "must not hold a character that reorders the text"),
    ],
)
def test_a_name_that_reads_as_blank_or_out_of_order_is_refused(
    records, organisation_id, name, rule
):
    """A pseudonym of zero-width spaces alone was recorded and shown as nothing (and
    so, until now, one of the characters Unicode says are drawn as nothing though
    they are letters or marks, as the Hangul filler, or of blank Braille); one
    with a right-to-left override was shown in another order than it was stored,
    so two people could look alike on every list."""
    for use_case, field, arguments in (
        (
            "register_participant",
            "pseudonym",
            {
                "organisation_id": organisation_id,
                "participant_kind": ParticipantKind.CARER,
                "pseudonym": name,
            },
        ),
        ("register_organisation", "name", {"name": name}),
    ):
        assert_refused(
            records, InvalidInput, field, rule, command(records, use_case, **arguments)
        )
