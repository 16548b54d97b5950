"""The GraphQL write API: a manager's journey through the mutations, and who may write what."""

import asyncio
import inspect
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
import strawberry

from fourpi.bootstrap import open_records, open_views
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.change import Change
from fourpi.domain.contribution import Contribution
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.participant import Participant
from fourpi.domain.payment import Payment
from fourpi.domain.process_experience import ProcessExperienceAnswer
from fourpi.domain.reference_population import ReferencePopulation
from fourpi.domain.vocabulary import (
    ChangeScope,
    CyclePhase,
    Gender,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    MonitoringCategory,
    ProcessDimension,
    ResponseOutcome,
)
from fourpi.graphql.context import Caller, Context, Settings
from fourpi.graphql.mutations import Mutation
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from tests.helpers import log_position


@strawberry.type
class _Query:
    @strawberry.field(description="A query, because a schema needs one.")
    def ready(self) -> bool:
        return True


SCHEMA = strawberry.Schema(query=_Query, mutation=Mutation)


class Api:
    """One store, and requests to it as a chosen caller."""

    def __init__(self, url: str) -> None:
        self.records = open_records(url)
        self.views = open_views(database=url, records=self.records)
        self.org = self.records.register_organisation(name="Mind", actor="admin")
        self.caller: Caller | None = self.as_role(Role.MANAGER)

    def as_role(self, role: Role, organisation_id: Any = "own") -> Caller:
        organisation = self.org if organisation_id == "own" else organisation_id
        return Caller(token_id=uuid4(), role=role, organisation_id=organisation)

    def execute(self, query: str, variables: dict[str, Any]) -> Any:
        context = Context(
            records=self.records,
            views=self.views,
            settings=Settings(),
            caller=self.caller,
        )
        return asyncio.run(
            SCHEMA.execute(query, variable_values=variables, context_value=context)
        )

    def attempt(self, mutation: str, **given: Any) -> Any:
        """The raw result of one mutation with the given input."""
        input_type = mutation[0].upper() + mutation[1:] + "Input"
        payload = (
            "tokenId token role"
            if mutation == "issueToken"
            else "id cycleNumber logPosition"
        )
        query = (
            f"mutation Write($input: {input_type}!) "
            f"{{ {mutation}(input: $input) {{ {payload} }} }}"
        )
        return self.execute(query, {"input": given})

    def write(self, mutation: str, **given: Any) -> dict[str, Any]:
        """The payload of a mutation that must succeed."""
        result = self.attempt(mutation, **given)
        assert result.errors is None, result.errors
        payload: dict[str, Any] = result.data[mutation]
        return payload

    def refusal(self, mutation: str, **given: Any) -> dict[str, Any]:
        """The extensions of the one error a refused mutation returns."""
        result = self.attempt(mutation, **given)
        assert result.errors is not None and len(result.errors) == 1, result
        assert result.data is None or result.data.get(mutation) is None
        extensions: dict[str, Any] = result.errors[0].extensions
        return extensions


@pytest.fixture
def api(tmp_path) -> Iterator[Api]:
    store = Api(f"sqlite:///{tmp_path}/fourpi.sqlite3")
    yield store
    store.views.close()
    store.records.close()


def launching(**extra: Any) -> dict[str, Any]:
    """launchInitiative's input, with `extra` given or put in place of a field."""
    return {
        "name": "Diversifying who we involve",
        "level": "STRATEGIC",
        "involvementKind": "CO_PRODUCTION",
        "methods": ["WORKSHOP", "FOCUS_GROUP"],
        "purpose": "Find out how to diversify who is involved.",
        "limitsOfInfluence": "The budget is fixed for this year.",
        "startedOn": "2024-01-08",
        **extra,
    }


def launch(api: Api, **extra: Any) -> dict[str, Any]:
    return api.write("launchInitiative", **launching(**extra))


def steering_group(initiative: str, held_at: str) -> dict[str, Any]:
    """scheduleMeeting's input: the initiative's steering group, held at `held_at`."""
    return {
        "initiativeId": initiative,
        "title": "Steering group",
        "heldAt": held_at,
        "highLevel": True,
        "decisionMaking": True,
    }


def register(api: Api, pseudonym: str, kind: str = "SERVICE_USER") -> str:
    payload = api.write(
        "registerParticipant", pseudonym=pseudonym, participantKind=kind
    )
    assert isinstance(payload["id"], str)
    return payload["id"]


def contribute(api: Api, initiative: str, contributors: list[str]) -> str:
    payload = api.write(
        "logContribution",
        initiativeId=initiative,
        contributorIds=contributors,
        nature="RECOMMENDATION",
        summary="Hold the sessions in community venues.",
        impactAreas=["DIVERSITY_AND_EQUALITY"],
        madeOn="2024-02-01",
    )
    assert isinstance(payload["id"], str)
    return payload["id"]


def test_a_managers_journey_is_recorded(api: Api) -> None:
    positions: list[int] = []

    def write(mutation: str, **given: Any) -> dict[str, Any]:
        payload = api.write(mutation, **given)
        positions.append(payload["logPosition"])
        return payload

    launched = write(
        "launchInitiative",
        name="Diversifying who we involve",
        level="STRATEGIC",
        involvementKind="CO_PRODUCTION",
        methods=["WORKSHOP"],
        purpose="Find out how to diversify who is involved.",
        limitsOfInfluence="The budget is fixed for this year.",
        startedOn="2024-01-08",
    )
    initiative = launched["id"]
    outcome = write(
        "recordIntendedOutcome",
        initiativeId=initiative,
        description="More people from racialised communities take part.",
        impactAreas=["DIVERSITY_AND_EQUALITY", "ETHOS_AND_CULTURE"],
    )["id"]
    amara = write(
        "registerParticipant", pseudonym="Amara", participantKind="SERVICE_USER"
    )["id"]
    ben = write("registerParticipant", pseudonym="Ben", participantKind="CARER")["id"]
    write(
        "declareMonitoringData",
        participantId=amara,
        monitoring={"gender": "WOMAN", "ageBand": "PREFER_NOT_TO_SAY"},
    )
    write(
        "setPaymentPreference",
        participantId=amara,
        paymentPreference="FEES",
        earningsLimit="100.00",
        earningsPeriod="WEEK",
    )
    for person in (amara, ben):
        write(
            "assignRole",
            initiativeId=initiative,
            participantId=person,
            role="EXPERT_BY_EXPERIENCE",
            paid=True,
            decisionMaking=True,
            startedOn="2024-01-10",
        )
    meeting = write(
        "scheduleMeeting", **steering_group(initiative, "2024-02-01T10:00:00+00:00")
    )["id"]
    write("sendMeetingPapers", meetingId=meeting, sentAt="2024-01-25T09:00:00+00:00")
    write("recordAttendance", meetingId=meeting, participantIds=[amara, ben])
    write("nameMeetingReserve", meetingId=meeting, participantId=ben)
    write(
        "makeReasonableAdjustment",
        meetingId=meeting,
        description="Papers in large print.",
    )
    contribution = write(
        "logContribution",
        initiativeId=initiative,
        contributorIds=[amara, ben],
        nature="RECOMMENDATION",
        summary="Hold the sessions in community venues.",
        impactAreas=["DIVERSITY_AND_EQUALITY"],
        madeOn="2024-02-01",
        meetingId=meeting,
    )["id"]
    write(
        "respondToContribution",
        contributionId=contribution,
        outcome="ADOPTED",
        rationale="Venues booked for the spring.",
        respondedOn="2024-02-10",
    )
    change = write(
        "recordChange",
        initiativeId=initiative,
        description="Sessions moved to community venues.",
        impactArea="DIVERSITY_AND_EQUALITY",
        scope="ACTIVITY",
        evidence="Venue bookings.",
        changedOn="2024-03-01",
        contributionIds=[contribution],
    )["id"]
    write(
        "giveFeedback",
        contributionId=contribution,
        givenOn="2024-03-05",
        method="MEETING",
        summary="You said community venues; we moved the sessions.",
    )
    payment = write(
        "recordPaymentOwed",
        participantId=amara,
        paymentKind="FEE",
        amount="40.00",
        owedOn="2024-02-01",
        initiativeId=initiative,
    )["id"]
    write("recordPaymentMade", paymentId=payment, paidOn="2024-02-08")
    answer = write(
        "recordProcessExperience",
        initiativeId=initiative,
        respondentKind="SERVICE_USER",
        stage="IN_FLIGHT",
        scores=[
            {"dimension": "LISTENED_TO", "score": 5},
            {"dimension": "SUPPORTED", "score": 4},
        ],
        answeredOn="2024-03-10",
        participantId=amara,
    )["id"]
    write(
        "recordSupport",
        supportKind="PEER_SUPPORT_OR_MENTORING",
        givenOn="2024-02-15",
        initiativeId=initiative,
        participantIds=[amara],
        hours="1.5",
    )
    population = write(
        "defineReferencePopulation",
        description="Adults in the borough (2021 census).",
        shares=[
            {"category": "GENDER", "value": "woman", "share": "0.51"},
            {"category": "GENDER", "value": "man", "share": "0.49"},
        ],
        initiativeId=initiative,
    )["id"]
    started = write(
        "startCycle",
        initiativeId=initiative,
        focusAreas=["DIVERSITY_AND_EQUALITY"],
        startedOn="2024-01-15",
    )
    assert started["id"] is None
    assert started["cycleNumber"] == 1
    write(
        "evaluateCycle",
        initiativeId=initiative,
        number=1,
        findings="Attendance doubled.",
        enteredOn="2024-03-15",
    )
    write(
        "reflectOnCycle",
        initiativeId=initiative,
        number=1,
        reflections="Venues matter more than timing.",
        enteredOn="2024-03-20",
    )
    write(
        "learnFromCycle",
        initiativeId=initiative,
        number=1,
        lessons="Go where people are.",
        plannedActions=["Try a second venue"],
        enteredOn="2024-03-25",
    )
    write(
        "assessIntendedOutcome",
        initiativeId=initiative,
        outcomeId=outcome,
        assessment="PARTLY_ACHIEVED",
        involvementDifference="SIGNIFICANT",
        evidence="Monitoring returns.",
        assessedOn="2024-03-30",
    )

    assert positions == sorted(set(positions))
    assert positions[-1] == log_position(api.records)

    records, org = api.records, api.org
    assert api.caller is not None
    events: list[Any] = list(records.events.get(UUID(initiative)))
    assert {e.recorded_by for e in events} == {api.caller.actor}
    launched_initiative = records.load(Initiative, UUID(initiative), org)
    assert launched_initiative.methods == (InvolvementMethod.WORKSHOP,)
    assert launched_initiative.level is InvolvementLevel.STRATEGIC
    assert launched_initiative.involvement_kind is InvolvementKind.CO_PRODUCTION
    assert len(launched_initiative.roles) == 2
    (intended,) = launched_initiative.intended_outcomes.values()
    assert str(intended.outcome_id) == outcome
    assert intended.assessed_on == date(2024, 3, 30)
    (cycle,) = launched_initiative.cycles
    assert cycle.phase is CyclePhase.LEARN
    assert cycle.planned_actions == ("Try a second venue",)

    person = records.load(Participant, UUID(amara), org)
    assert person.monitoring.gender is Gender.WOMAN
    assert person.monitoring.ethnic_group is None
    held = records.load(Meeting, UUID(meeting), org)
    assert set(held.attendee_ids) == {UUID(amara), UUID(ben)}
    assert held.papers_sent_at is not None
    assert str(held.reserve_id) == ben
    logged = records.load(Contribution, UUID(contribution), org)
    assert logged.latest_response is not None
    assert logged.latest_response.outcome is ResponseOutcome.ADOPTED
    made = records.load(Change, UUID(change), org)
    assert made.scope is ChangeScope.ACTIVITY
    assert made.contribution_ids == (UUID(contribution),)
    assert records.load(Payment, UUID(payment), org).paid_on == date(2024, 2, 8)
    scored = records.load(ProcessExperienceAnswer, UUID(answer), org)
    assert scored.scores == {
        ProcessDimension.LISTENED_TO: 5,
        ProcessDimension.SUPPORTED: 4,
    }
    described = records.load(ReferencePopulation, UUID(population), org)
    assert str(described.shares[MonitoringCategory.GENDER]["woman"]) == "0.51"


def test_the_involvement_policy_is_adopted_and_reviewed(api: Api) -> None:
    adopted = api.write(
        "adoptInvolvementPolicy", versionLabel="v1", adoptedOn="2023-01-01"
    )
    reviewed = api.write("reviewInvolvementPolicy", reviewedOn="2024-01-01")
    assert adopted["id"] is not None
    assert reviewed["id"] is None
    assert reviewed["logPosition"] > adopted["logPosition"]


def test_a_decline_without_rationale_is_refused_and_nothing_is_written(
    api: Api,
) -> None:
    initiative = launch(api)["id"]
    contribution = contribute(api, initiative, [register(api, "Amara")])
    before = log_position(api.records)
    refused = api.refusal(
        "respondToContribution",
        contributionId=contribution,
        outcome="DECLINED",
        respondedOn="2024-02-10",
    )
    assert refused == {"code": "BAD_USER_INPUT", "field": "input.rationale"}
    assert log_position(api.records) == before


def test_a_refusal_names_the_field_as_the_client_sent_it(api: Api) -> None:
    """The message names the field as the extensions do (input.startedOn), not as
    the record keeps it (started_on)."""
    result = api.attempt("launchInitiative", **launching(startedOn="1800-01-01"))
    assert result.errors is not None and len(result.errors) == 1, result
    error = result.errors[0]
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "input.startedOn"}
    assert error.message == "input.startedOn: must be from 01/01/1900 to 31/12/2199"


def test_a_reused_key_names_its_first_write_as_the_api_does(api: Api) -> None:
    """The refusal of a key sent with another write names the write it first carried
    by its mutation (recordIntendedOutcome), not by the use case behind it."""
    initiative = launch(api)["id"]
    outcome = {"initiativeId": initiative, "impactAreas": ["DELIVERY"]}
    api.write("recordIntendedOutcome", description="A", idempotencyKey="k", **outcome)
    result = api.attempt(
        "recordIntendedOutcome", description="B", idempotencyKey="k", **outcome
    )
    assert result.errors is not None and len(result.errors) == 1, result
    assert result.errors[0].message == (
        "input.idempotencyKey: 'k' was already used for a different command "
        "(recordIntendedOutcome); use a new key for a new command"
    )


def test_a_meeting_time_given_without_its_zone_is_local_time(api: Api) -> None:
    """As the input says, and as the web app's forms and workbooks read it: 10:00
    on a July day in London is 09:00 UTC; papers sent at 09:00 in January, 09:00."""
    initiative = launch(api)["id"]
    meeting = api.write(
        "scheduleMeeting", **steering_group(initiative, "2026-07-01T10:00:00")
    )["id"]
    api.write("sendMeetingPapers", meetingId=meeting, sentAt="2026-01-25T09:00:00")
    held = api.records.load(Meeting, UUID(meeting), api.org)
    assert held.held_at == datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    assert held.papers_sent_at == datetime(2026, 1, 25, 9, 0, tzinfo=UTC)


def test_a_time_the_clocks_skipped_is_refused_naming_its_field(api: Api) -> None:
    """01:30 on 29 March 2026 never showed on London's clocks: refused, not moved."""
    initiative = launch(api)["id"]
    before = log_position(api.records)
    result = api.attempt(
        "scheduleMeeting", **steering_group(initiative, "2026-03-29T01:30:00")
    )
    assert result.errors is not None and len(result.errors) == 1, result
    assert result.errors[0].extensions == {
        "code": "BAD_USER_INPUT",
        "field": "input.heldAt",
    }
    assert "never showed on the clocks in Europe/London" in result.errors[0].message
    assert log_position(api.records) == before


@pytest.mark.parametrize(
    ("mutation", "field"),
    [
        ("assignRole", "participantId"),
        ("recordAttendance", "participantIds"),
        ("nameMeetingReserve", "participantId"),
        ("logContribution", "contributorIds"),
        ("recordPaymentOwed", "participantId"),
        ("recordSupport", "participantIds"),
    ],
)
def test_a_write_naming_an_erased_person_is_refused_naming_its_field(
    api: Api, mutation: str, field: str
) -> None:
    """Nothing new is recorded about an erased person: the API's invalid-input error
    names the field, for a list even beside someone who is not erased."""
    initiative = launch(api)["id"]
    erased, other = register(api, "Amara"), register(api, "Ben", "CARER")
    meeting = api.write(
        "scheduleMeeting", **steering_group(initiative, "2024-02-01T10:00:00+00:00")
    )["id"]
    api.records.erase_participant(participant_id=UUID(erased), actor="admin")
    rest = {
        "assignRole": {
            "initiativeId": initiative,
            "role": "ADVISOR",
            "paid": True,
            "decisionMaking": False,
            "startedOn": "2024-02-01",
        },
        "recordAttendance": {"meetingId": meeting},
        "nameMeetingReserve": {"meetingId": meeting},
        "logContribution": {
            "initiativeId": initiative,
            "nature": "IDEA",
            "summary": "Meet in the evening.",
            "impactAreas": ["DELIVERY"],
            "madeOn": "2024-02-01",
        },
        "recordPaymentOwed": {
            "paymentKind": "TRAVEL",
            "amount": "12.50",
            "owedOn": "2024-02-01",
        },
        "recordSupport": {
            "supportKind": "PEER_SUPPORT_OR_MENTORING",
            "givenOn": "2024-02-01",
        },
    }[mutation]
    named = [other, erased] if field.endswith("Ids") else erased
    before = log_position(api.records)
    result = api.attempt(mutation, **rest, **{field: named})
    assert result.errors is not None and len(result.errors) == 1, result
    assert result.errors[0].extensions == {
        "code": "BAD_USER_INPUT",
        "field": f"input.{field}",
    }
    assert "is erased: nothing new about them may be recorded" in (
        result.errors[0].message
    )
    assert log_position(api.records) == before


def test_a_bad_id_names_its_field(api: Api) -> None:
    refused = api.refusal(
        "recordIntendedOutcome",
        initiativeId="not-a-record-id",
        description="More people take part.",
        impactAreas=["DELIVERY"],
    )
    assert refused == {"code": "BAD_USER_INPUT", "field": "input.initiativeId"}


def test_a_repeated_idempotency_key_returns_the_first_result(api: Api) -> None:
    first = launch(api, idempotencyKey="launch-1")
    again = launch(api, idempotencyKey="launch-1")
    assert again["id"] == first["id"]
    assert again["logPosition"] == first["logPosition"] == log_position(api.records)


def placeholder(kind: Any) -> Any:
    """A well-formed value of a GraphQL input type, so only permissions can refuse it."""
    if isinstance(kind, GraphQLNonNull):
        return placeholder(kind.of_type)
    if isinstance(kind, GraphQLList):
        return [placeholder(kind.of_type)]
    if isinstance(kind, GraphQLEnumType):
        return next(iter(kind.values))
    if isinstance(kind, GraphQLInputObjectType):
        return {
            name: placeholder(field.type)
            for name, field in kind.fields.items()
            if isinstance(field.type, GraphQLNonNull)
        }
    assert isinstance(kind, GraphQLScalarType)
    return {
        "ID": str(uuid4()),
        "String": "placeholder",
        "Int": 1,
        "Boolean": True,
        "Date": "2024-01-01",
        "DateTime": "2024-01-01T10:00:00+00:00",
        "Decimal": "1",
    }[kind.name]


def every_mutation() -> Iterator[tuple[str, dict[str, Any]]]:
    mutation_type = SCHEMA._schema.mutation_type
    assert mutation_type is not None
    for name, field in mutation_type.fields.items():
        yield name, placeholder(field.args["input"].type)


@pytest.mark.parametrize("role", [Role.EVALUATOR, Role.AUDITOR])
def test_evaluators_and_auditors_may_write_nothing(api: Api, role: Role) -> None:
    api.caller = api.as_role(role)
    before = log_position(api.records)
    for name, given in every_mutation():
        assert api.refusal(name, **given)["code"] == "FORBIDDEN", name
    assert log_position(api.records) == before


def test_a_caller_without_a_token_is_unauthenticated(api: Api) -> None:
    api.caller = None
    before = log_position(api.records)
    for name, given in every_mutation():
        assert api.refusal(name, **given)["code"] == "UNAUTHENTICATED", name
    assert log_position(api.records) == before


def test_a_manager_cannot_write_to_another_organisations_record(api: Api) -> None:
    other = api.records.register_organisation(name="Other", actor="admin")
    theirs = api.records.launch_initiative(
        organisation_id=other,
        name="Their initiative",
        level=InvolvementLevel.COMMUNITY,
        involvement_kind=InvolvementKind.PARTICIPATION,
        methods=(InvolvementMethod.SURVEY,),
        purpose="Theirs.",
        limits_of_influence="None stated.",
        started_on=date(2024, 1, 1),
        actor="admin",
    )
    amara = register(api, "Amara")
    before = log_position(api.records)
    refused = api.refusal(
        "logContribution",
        initiativeId=str(theirs),
        contributorIds=[amara],
        nature="IDEA",
        summary="An idea.",
        impactAreas=["DELIVERY"],
        madeOn="2024-02-01",
    )
    # As an initiative that does not exist: whether it is another's is not told.
    assert refused["code"] == "NOT_FOUND"
    assert log_position(api.records) == before


def test_a_global_admin_registers_an_organisation_and_issues_its_token(
    api: Api,
) -> None:
    api.caller = api.as_role(Role.ADMIN, organisation_id=None)
    registered = api.write("registerOrganisation", name="Rethink")
    issued = api.write(
        "issueToken", organisationId=registered["id"], role="MANAGER", label="Lead"
    )
    assert issued["role"] == "MANAGER"
    token = api.records.authenticate(issued["token"])
    assert token is not None
    assert str(token.id) == issued["tokenId"]
    assert str(token.organisation_id) == registered["id"]
    assert token.role is Role.MANAGER
    stored = api.records.recorder.select_notifications(start=1, limit=10_000)
    assert stored and not any(issued["token"].encode() in n.state for n in stored)

    api.caller = Caller.of(token)
    initiative = launch(api)["id"]
    assert api.records.load(Initiative, UUID(initiative), UUID(registered["id"]))


def test_an_organisations_admin_manages_only_its_own_tokens(api: Api) -> None:
    other = api.records.register_organisation(name="Other", actor="admin")
    theirs, _ = api.records.issue_token(
        organisation_id=other, role=Role.MANAGER, actor="admin"
    )
    api.caller = api.as_role(Role.ADMIN)
    before = log_position(api.records)
    assert api.refusal("registerOrganisation", name="Rethink")["code"] == "FORBIDDEN"
    assert (
        api.refusal("issueToken", organisationId=str(other), role="MANAGER")["code"]
        == "FORBIDDEN"
    )
    assert api.refusal("revokeToken", tokenId=str(theirs))["code"] == "NOT_FOUND"
    assert log_position(api.records) == before

    issued = api.write("issueToken", role="EVALUATOR")
    token = api.records.authenticate(issued["token"])
    assert token is not None and token.organisation_id == api.org
    revoked = api.write("revokeToken", tokenId=issued["tokenId"])
    assert revoked["id"] is None and revoked["logPosition"] > before
    assert api.records.authenticate(issued["token"]) is None


def test_a_manager_may_not_administer(api: Api) -> None:
    assert api.refusal("registerOrganisation", name="Rethink")["code"] == "FORBIDDEN"
    assert api.refusal("issueToken", role="MANAGER")["code"] == "FORBIDDEN"


def test_repeated_scores_or_shares_are_refused_not_merged(api: Api) -> None:
    initiative = launch(api)["id"]
    refused = api.refusal(
        "recordProcessExperience",
        initiativeId=initiative,
        respondentKind="STAFF",
        stage="IN_FLIGHT",
        scores=[
            {"dimension": "LISTENED_TO", "score": 5},
            {"dimension": "LISTENED_TO", "score": 1},
        ],
        answeredOn="2024-03-10",
    )
    assert refused == {"code": "BAD_USER_INPUT", "field": "input.scores"}
    refused = api.refusal(
        "defineReferencePopulation",
        description="Adults in the borough.",
        shares=[
            {"category": "GENDER", "value": "woman", "share": "0.5"},
            {"category": "GENDER", "value": "woman", "share": "0.4"},
        ],
    )
    assert refused == {"code": "BAD_USER_INPUT", "field": "input.shares"}


def test_a_refused_share_or_score_is_named_by_its_place_in_the_list_sent(
    api: Api,
) -> None:
    """Shares and scores are sent as lists; a refused one is named by its place there
    (input.shares.1.share), as the client can find it, not by the category and value
    the record keeps it under, which read as the API's names mangle a value
    (input.shares.ageBand.1824 for 18_24)."""

    def refused(mutation: str, **given: Any) -> tuple[str, Any]:
        result = api.attempt(mutation, **given)
        assert result.errors is not None and len(result.errors) == 1, result
        return result.errors[0].message, result.errors[0].extensions["field"]

    def shares(*entries: tuple[str, str, str]) -> tuple[str, Any]:
        return refused(
            "defineReferencePopulation",
            description="Adults in the borough.",
            shares=[
                {"category": category, "value": value, "share": share}
                for category, value, share in entries
            ],
        )

    assert shares(("GENDER", "woman", "0.5"), ("AGE_BAND", "18_24", "1.5")) == (
        "input.shares.1.share: must be a fraction from 0 to 1",
        "input.shares.1.share",
    )
    message, field = shares(
        ("GENDER", "woman", "0.5"),
        ("ETHNIC_GROUP", "white_british", "0.9"),
        ("ETHNIC_GROUP", "prefer_not_to_say", "0.9"),
    )
    assert field == "input.shares.1"
    assert message.startswith("input.shares.1: the shares of a category must add up")
    initiative = launch(api)["id"]
    scores = {"LISTENED_TO": 5, "SUPPORTED": 9}
    assert refused(
        "recordProcessExperience",
        answeredOn="2024-03-10",
        scores=[{"dimension": d, "score": n} for d, n in scores.items()],
        initiativeId=initiative,
        stage="END_OF_INVOLVEMENT",
        respondentKind="CARER",
    ) == (
        "input.scores.1.score: must be a whole number from 1 to 5",
        "input.scores.1.score",
    )


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_every_use_case_has_a_mutation() -> None:
    use_cases = {
        name
        for name, method in vars(InvolvementRecords).items()
        if inspect.isfunction(method) and hasattr(method, "__wrapped__")
    }
    assert {"log_contribution", "register_organisation"} <= use_cases
    mutation_type = SCHEMA._schema.mutation_type
    assert mutation_type is not None
    mutations = {snake_case(name) for name in mutation_type.fields}
    # eraseParticipant runs the record_erasure use case and then destroys the key.
    # A personal link's use cases keep a secret beside the log (fourpi.personal_links)
    # and run from the web app and the command line; a contributor's own acts run
    # from their personal page.
    contributors_own = {
        "make_personal_link",
        "revoke_personal_link",
        "set_notice_preference",
        "request_erasure",
    }
    assert mutations == (use_cases - {"record_erasure"} - contributors_own) | {
        "issue_token",
        "revoke_token",
        "erase_participant",
    }


def test_every_mutation_input_and_payload_is_described() -> None:
    mutation_type = SCHEMA._schema.mutation_type
    assert mutation_type is not None
    seen: set[str] = set()

    def check(kind: Any) -> None:
        while isinstance(kind, GraphQLNonNull | GraphQLList):
            kind = kind.of_type
        if kind.name in seen:
            return
        seen.add(kind.name)
        assert kind.description, kind.name
        if isinstance(kind, GraphQLInputObjectType | GraphQLObjectType):
            for name, field in kind.fields.items():
                assert field.description, f"{kind.name}.{name}"
                check(field.type)

    for name, field in mutation_type.fields.items():
        assert field.description, name
        check(field.args["input"].type)
        check(field.type)
    assert {"Recorded", "TokenIssued", "MonitoringDataInput"} <= seen
