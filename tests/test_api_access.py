"""Who may do what through the HTTP API, field by field, and that one organisation's tokens never reach another's records."""

import asyncio
import copy
import dataclasses
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from fourpi.config import ApiLimits
from fourpi.domain.access import Role
from fourpi.domain.policy import InvolvementPolicy
from fourpi.domain.receipt import CommandReceipt
from fourpi.domain.vocabulary import (
    ChangeScope,
    ContributionNature,
    ImpactArea,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    InvolvementRole,
    ParticipantKind,
    PaymentKind,
    ResponseOutcome,
)
from fourpi.graphql.schema import build_schema
from tests.api import (
    ApiStore,
    api_store,
    client,
    code_of,
    codes_of,
    data_of,
    graphql,
    write_input,
)

ACTOR = "test"
MARK = "BETA-SECRET"
"""Every text of organisation B carries this, so a leak to A's callers shows."""

# The callers, by role: an organisation's tokens, and a global admin's (no organisation).
MANAGER, EVALUATOR, AUDITOR, ADMIN, GLOBAL_ADMIN = (
    "manager",
    "evaluator",
    "auditor",
    "admin",
    "global admin",
)
CALLERS = (MANAGER, EVALUATOR, AUDITOR, ADMIN, GLOBAL_ADMIN)
ROLES = {
    MANAGER: Role.MANAGER,
    EVALUATOR: Role.EVALUATOR,
    AUDITOR: Role.AUDITOR,
    ADMIN: Role.ADMIN,
}


class Organisation:
    """An organisation with one of every kind of record, and a token for every role."""

    def __init__(self, store: ApiStore, name: str, text: str = "") -> None:
        self.store = store
        self.records = store.records
        self.text = text
        self.id = self.records.register_organisation(name=name, actor=ACTOR)
        self.records.adopt_involvement_policy(
            organisation_id=self.id,
            version_label="v1",
            adopted_on=date(2023, 1, 1),
            actor=ACTOR,
        )
        self.initiative = self.new_initiative()
        self.outcome = self.records.record_intended_outcome(
            organisation_id=self.id,
            initiative_id=self.initiative,
            description=f"More people take part. {text}",
            impact_areas=[ImpactArea.DELIVERY],
            actor=ACTOR,
        )
        self.participant = self.new_participant()
        self.carer = self.new_participant(ParticipantKind.CARER)
        self.role = self.new_role()
        self.meeting = self.new_meeting()
        self.contribution = self.new_contribution()
        self.change = self.records.record_change(
            organisation_id=self.id,
            initiative_id=self.initiative,
            description=f"Sessions moved. {text}",
            impact_area=ImpactArea.DELIVERY,
            scope=ChangeScope.ACTIVITY,
            evidence="Bookings.",
            changed_on=date(2024, 3, 1),
            contribution_ids=[self.contribution],
            actor=ACTOR,
        )
        self.payment = self.new_payment()
        self.tokens = {
            caller: store.token(self.id, role) for caller, role in ROLES.items()
        }
        self.token_id = self.new_token()

    def ids(self) -> dict[str, str]:
        """A record id of each kind, as a client sends it."""
        return {
            "organisation": str(self.id),
            "initiative": str(self.initiative),
            "outcome": str(self.outcome),
            "participant": str(self.participant),
            "role": str(self.role),
            "meeting": str(self.meeting),
            "contribution": str(self.contribution),
            "change": str(self.change),
            "payment": str(self.payment),
            "token": str(self.token_id),
        }

    # Fresh records, for writes that can be made only once to a record.

    def new_initiative(self) -> UUID:
        return self.records.launch_initiative(
            organisation_id=self.id,
            name=f"Community venues {self.text}",
            level=InvolvementLevel.OPERATIONAL,
            involvement_kind=InvolvementKind.CO_PRODUCTION,
            methods=(InvolvementMethod.WORKSHOP,),
            purpose=f"Find better venues. {self.text}",
            limits_of_influence="The budget is fixed.",
            started_on=date(2024, 1, 8),
            actor=ACTOR,
        )

    def new_participant(
        self, kind: ParticipantKind = ParticipantKind.SERVICE_USER
    ) -> UUID:
        return self.records.register_participant(
            organisation_id=self.id,
            pseudonym=f"Amara {self.text}",
            participant_kind=kind,
            actor=ACTOR,
        )

    def new_role(self) -> UUID:
        return self.records.assign_role(
            organisation_id=self.id,
            initiative_id=self.initiative,
            participant_id=self.new_participant(),
            role=InvolvementRole.EXPERT_BY_EXPERIENCE,
            paid=True,
            decision_making=True,
            started_on=date(2024, 1, 10),
            actor=ACTOR,
        )

    def new_meeting(self) -> UUID:
        return self.records.schedule_meeting(
            organisation_id=self.id,
            initiative_id=self.initiative,
            title=f"Steering group {self.text}",
            held_at=datetime(2024, 2, 1, 10, tzinfo=UTC),
            high_level=True,
            decision_making=True,
            actor=ACTOR,
        )

    def new_contribution(self, responded: bool = False) -> UUID:
        contribution = self.records.log_contribution(
            organisation_id=self.id,
            initiative_id=self.initiative,
            contributor_ids=[self.participant],
            nature=ContributionNature.RECOMMENDATION,
            summary=f"Hold the sessions in community venues. {self.text}",
            impact_areas=[ImpactArea.DELIVERY],
            made_on=date(2024, 2, 1),
            actor=ACTOR,
        )
        if responded:
            self.records.respond_to_contribution(
                organisation_id=self.id,
                contribution_id=contribution,
                outcome=ResponseOutcome.ADOPTED,
                rationale="Booked.",
                responded_on=date(2024, 2, 10),
                actor=ACTOR,
            )
        return contribution

    def new_payment(self) -> UUID:
        return self.records.record_payment_owed(
            organisation_id=self.id,
            participant_id=self.participant,
            payment_kind=PaymentKind.FEE,
            amount=Decimal("40.00"),
            owed_on=date(2024, 2, 1),
            initiative_id=self.initiative,
            actor=ACTOR,
        )

    def new_token(self) -> UUID:
        token_id, _ = self.records.issue_token(
            organisation_id=self.id, role=Role.EVALUATOR, actor=ACTOR, label=self.text
        )
        return token_id

    def new_cycle(self, phases: int) -> str:
        """A fresh initiative whose first cycle has gone through this many phases."""
        initiative = self.new_initiative()
        steps: list[Callable[[], object]] = [
            lambda: self.records.start_cycle(
                organisation_id=self.id,
                initiative_id=initiative,
                focus_areas=[ImpactArea.DELIVERY],
                started_on=date(2024, 1, 15),
                actor=ACTOR,
            ),
            lambda: self.records.evaluate_cycle(
                organisation_id=self.id,
                initiative_id=initiative,
                number=1,
                findings="Attendance doubled.",
                entered_on=date(2024, 3, 15),
                actor=ACTOR,
            ),
            lambda: self.records.reflect_on_cycle(
                organisation_id=self.id,
                initiative_id=initiative,
                number=1,
                reflections="Venues matter.",
                entered_on=date(2024, 3, 20),
                actor=ACTOR,
            ),
        ]
        for step in steps[:phases]:
            step()
        return str(initiative)


@dataclass(frozen=True)
class Case:
    """A minimal valid request for one root field."""

    field: str
    document: str
    variables: Callable[[Organisation], dict[str, Any]] = lambda org: {}
    ids: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """Where the request names a record: variable path -> the kinds of record to try there."""

    @property
    def is_mutation(self) -> bool:
        return self.document.lstrip().startswith("mutation")


ANY_RECORD = (
    "organisation",
    "initiative",
    "participant",
    "meeting",
    "contribution",
    "change",
    "payment",
    "outcome",
    "token",
)


def answer(name: str, selection: str) -> Case:
    return Case(
        name,
        f"query($slice: SliceInput) {{ {name}(slice: $slice) {{ position {selection} }} }}",
        lambda org: {"slice": {"initiativeId": str(org.initiative)}},
        {"slice.initiativeId": ("initiative",)},
    )


def write(
    name: str,
    given: Callable[[Organisation], dict[str, Any]],
    ids: dict[str, tuple[str, ...]] | None = None,
) -> Case:
    return Case(
        name,
        write_input(name),
        lambda org: {"input": given(org)},
        {f"input.{path}": kinds for path, kinds in (ids or {}).items()},
    )


def list_of(name: str, fields: str) -> str:
    return (
        f"{{ {name}(first: 5) {{ nodes {{ {fields} }} pageInfo {{ hasNextPage }} }} }}"
    )


INITIATIVE = ("initiative",)
PARTICIPANT = ("participant",)
MEETING = ("meeting",)
CONTRIBUTION = ("contribution",)

CASES = [
    # Queries
    answer("intendedOutcomes", "outcomes { outcomeId description }"),
    answer("differences", "contributions changes { changeId description }"),
    answer("processExperience", "answers { value } involved { value }"),
    answer("endResult", "endResultChanges { changeId description }"),
    answer("beyond", "byKind { kind }"),
    answer("presence", "__typename"),
    answer("process", "__typename"),
    answer("principles", "__typename"),
    answer("paymentsAndBenefits", "__typename"),
    answer("cycles", "cycles { number }"),
    Case(
        "history",
        "query($id: ID!) { history(recordId: $id) { edges { node { type data } } } }",
        lambda org: {"id": str(org.initiative)},
        {"id": ANY_RECORD},
    ),
    Case(
        "eventLog",
        "{ eventLog(first: 5) { edges { node { type data } } pageInfo { hasNextPage } } }",
    ),
    Case(
        "record",
        "query($id: ID!) { record(id: $id) { id type state } }",
        lambda org: {"id": str(org.initiative)},
        {"id": ANY_RECORD},
    ),
    Case("integrity", "{ integrity { intact events head broken { kind } } }"),
    Case("me", "{ me { role organisationId } }"),
    Case("organisation", "{ organisation { id name } }"),
    Case("initiatives", "{ initiatives { id name } }"),
    Case("participants", list_of("participants", "id pseudonym redacted")),
    Case("contributions", list_of("contributions", "id summary")),
    Case("meetings", list_of("meetings", "id title")),
    Case("changes", list_of("changes", "id description")),
    # Organisations and access
    Case(
        "registerOrganisation",
        write_input("registerOrganisation"),
        lambda org: {"input": {"name": "Gamma Mind"}},
    ),
    Case(
        "issueToken",
        "mutation($input: IssueTokenInput!) { issueToken(input: $input) { tokenId token role } }",
        lambda org: {"input": {"role": "EVALUATOR", "organisationId": str(org.id)}},
        {"input.organisationId": ("organisation",)},
    ),
    write(
        "revokeToken",
        lambda org: {"tokenId": str(org.new_token())},
        {"tokenId": ("token",)},
    ),
    write(
        "setSuppressionThreshold",
        # Any threshold but the one in force, so the write can be made again.
        lambda org: {
            "threshold": 7
            if org.records.organisation(org.id).suppression_threshold == 6
            else 6
        },
    ),
    write(
        "adoptInvolvementPolicy",
        lambda org: {"versionLabel": "v2", "adoptedOn": "2024-01-01"},
    ),
    write("reviewInvolvementPolicy", lambda org: {"reviewedOn": "2024-06-01"}),
    # Initiatives
    write(
        "launchInitiative",
        lambda org: {
            "name": "Peer support",
            "level": "COMMUNITY",
            "involvementKind": "PARTICIPATION",
            "methods": ["FOCUS_GROUP"],
            "purpose": "Shape peer support.",
            "limitsOfInfluence": "None stated.",
            "startedOn": "2024-02-01",
        },
    ),
    write(
        "recordIntendedOutcome",
        lambda org: {
            "initiativeId": str(org.initiative),
            "description": "People feel heard.",
            "impactAreas": ["ETHOS_AND_CULTURE"],
        },
        {"initiativeId": INITIATIVE},
    ),
    write(
        "assessIntendedOutcome",
        lambda org: {
            "initiativeId": str(org.initiative),
            "outcomeId": str(org.outcome),
            "assessment": "ACHIEVED",
            "involvementDifference": "SOME",
            "evidence": "Survey.",
            "assessedOn": "2024-05-01",
        },
        {"initiativeId": INITIATIVE, "outcomeId": ("outcome",)},
    ),
    write(
        "assignRole",
        lambda org: {
            "initiativeId": str(org.initiative),
            "participantId": str(org.new_participant(ParticipantKind.CARER)),
            "role": "ADVISOR",
            "paid": False,
            "decisionMaking": False,
            "startedOn": "2024-01-20",
        },
        {"initiativeId": INITIATIVE, "participantId": PARTICIPANT},
    ),
    write(
        "endRole",
        lambda org: {
            "initiativeId": str(org.initiative),
            "roleId": str(org.new_role()),
            "endedOn": "2024-04-01",
        },
        {"initiativeId": INITIATIVE, "roleId": ("role",)},
    ),
    write(
        "startCycle",
        lambda org: {
            "initiativeId": org.new_cycle(0),
            "focusAreas": ["DELIVERY"],
            "startedOn": "2024-01-15",
        },
        {"initiativeId": INITIATIVE},
    ),
    write(
        "evaluateCycle",
        lambda org: {
            "initiativeId": org.new_cycle(1),
            "number": 1,
            "findings": "Attendance doubled.",
            "enteredOn": "2024-03-15",
        },
        {"initiativeId": INITIATIVE},
    ),
    write(
        "reflectOnCycle",
        lambda org: {
            "initiativeId": org.new_cycle(2),
            "number": 1,
            "reflections": "Venues matter.",
            "enteredOn": "2024-03-20",
        },
        {"initiativeId": INITIATIVE},
    ),
    write(
        "learnFromCycle",
        lambda org: {
            "initiativeId": org.new_cycle(3),
            "number": 1,
            "lessons": "Go where people are.",
            "plannedActions": ["Try a second venue"],
            "enteredOn": "2024-03-25",
        },
        {"initiativeId": INITIATIVE},
    ),
    # Participants
    write(
        "registerParticipant",
        lambda org: {"pseudonym": "Ben", "participantKind": "CARER"},
    ),
    write(
        "eraseParticipant",
        lambda org: {"participantId": str(org.new_participant())},
        {"participantId": PARTICIPANT},
    ),
    write(
        "declareMonitoringData",
        lambda org: {
            "participantId": str(org.participant),
            "monitoring": {"gender": "WOMAN"},
        },
        {"participantId": PARTICIPANT},
    ),
    write(
        "setPaymentPreference",
        lambda org: {
            "participantId": str(org.participant),
            "paymentPreference": "FEES",
            "earningsLimit": "100.00",
            "earningsPeriod": "WEEK",
        },
        {"participantId": PARTICIPANT},
    ),
    # Meetings
    write(
        "scheduleMeeting",
        lambda org: {
            "initiativeId": str(org.initiative),
            "title": "Review",
            "heldAt": "2024-05-01T10:00:00+00:00",
            "highLevel": False,
            "decisionMaking": False,
        },
        {"initiativeId": INITIATIVE},
    ),
    write(
        "sendMeetingPapers",
        lambda org: {
            "meetingId": str(org.new_meeting()),
            "sentAt": "2024-01-25T09:00:00+00:00",
        },
        {"meetingId": MEETING},
    ),
    write(
        "recordAttendance",
        lambda org: {
            "meetingId": str(org.new_meeting()),
            "participantIds": [str(org.participant)],
        },
        {"meetingId": MEETING, "participantIds": PARTICIPANT},
    ),
    write(
        "nameMeetingReserve",
        lambda org: {
            "meetingId": str(org.new_meeting()),
            "participantId": str(org.carer),
        },
        {"meetingId": MEETING, "participantId": PARTICIPANT},
    ),
    write(
        "makeReasonableAdjustment",
        lambda org: {"meetingId": str(org.meeting), "description": "Large print."},
        {"meetingId": MEETING},
    ),
    # Contributions, responses, feedback, changes
    write(
        "logContribution",
        lambda org: {
            "initiativeId": str(org.initiative),
            "contributorIds": [str(org.participant)],
            "nature": "IDEA",
            "summary": "Evening sessions.",
            "impactAreas": ["DELIVERY"],
            "madeOn": "2024-02-01",
            "meetingId": str(org.meeting),
        },
        {
            "initiativeId": INITIATIVE,
            "contributorIds": PARTICIPANT,
            "meetingId": MEETING,
        },
    ),
    write(
        "respondToContribution",
        lambda org: {
            "contributionId": str(org.new_contribution()),
            "outcome": "ADAPTED",
            "rationale": "Some evenings.",
            "respondedOn": "2024-02-10",
        },
        {"contributionId": CONTRIBUTION},
    ),
    write(
        "giveFeedback",
        lambda org: {
            "contributionId": str(org.new_contribution(responded=True)),
            "givenOn": "2024-03-05",
            "method": "EMAIL",
            "summary": "You said, we did.",
        },
        {"contributionId": CONTRIBUTION},
    ),
    write(
        "recordChange",
        lambda org: {
            "initiativeId": str(org.initiative),
            "description": "Evening sessions added.",
            "impactArea": "DELIVERY",
            "scope": "ACTIVITY",
            "evidence": "Timetable.",
            "changedOn": "2024-03-01",
            "contributionIds": [str(org.contribution)],
        },
        {"initiativeId": INITIATIVE, "contributionIds": CONTRIBUTION},
    ),
    # Process experience, payments, support, reference populations
    write(
        "recordProcessExperience",
        lambda org: {
            "initiativeId": str(org.initiative),
            "respondentKind": "SERVICE_USER",
            "stage": "IN_FLIGHT",
            "scores": [{"dimension": "LISTENED_TO", "score": 4}],
            "answeredOn": "2024-03-10",
            "participantId": str(org.participant),
        },
        {"initiativeId": INITIATIVE, "participantId": PARTICIPANT},
    ),
    write(
        "recordPaymentOwed",
        lambda org: {
            "participantId": str(org.participant),
            "paymentKind": "TRAVEL",
            "amount": "12.50",
            "owedOn": "2024-02-01",
            "initiativeId": str(org.initiative),
        },
        {"participantId": PARTICIPANT, "initiativeId": INITIATIVE},
    ),
    write(
        "recordPaymentMade",
        lambda org: {"paymentId": str(org.new_payment()), "paidOn": "2024-02-08"},
        {"paymentId": ("payment",)},
    ),
    write(
        "recordSupport",
        lambda org: {
            "supportKind": "SUPERVISION",
            "givenOn": "2024-02-15",
            "initiativeId": str(org.initiative),
            "participantIds": [str(org.participant)],
            "hours": "1.5",
        },
        {"initiativeId": INITIATIVE, "participantIds": PARTICIPANT},
    ),
    write(
        "defineReferencePopulation",
        lambda org: {
            "description": "Adults in the borough.",
            "shares": [{"category": "GENDER", "value": "woman", "share": "0.51"}],
            "initiativeId": str(org.initiative),
        },
        {"initiativeId": INITIATIVE},
    ),
]
CASES_BY_FIELD = {case.field: case for case in CASES}

ANSWERS = {
    "intendedOutcomes",
    "differences",
    "processExperience",
    "endResult",
    "beyond",
    "presence",
    "process",
    "principles",
    "cycles",
    "organisation",
    "initiatives",
}


RECORD_LISTS = ("participants", "contributions", "meetings", "changes")


def allowed(caller: str, name: str) -> bool:
    """The rules as users are told them, written apart from the code that applies them."""
    if name == "me":
        return True
    if name in ANSWERS:
        return caller in (MANAGER, EVALUATOR, AUDITOR)
    if name == "paymentsAndBenefits":
        # It names people: only with the personal-data grant, which these tokens
        # lack (tests/test_least_privilege.py walks the grant).
        return False
    if name in ("history", "record", *RECORD_LISTS):
        return caller in (MANAGER, AUDITOR)
    if name in ("eventLog", "integrity"):
        return caller == AUDITOR
    if name == "registerOrganisation":
        return caller == GLOBAL_ADMIN
    if name in ("issueToken", "revokeToken", "eraseParticipant"):
        return caller in (ADMIN, GLOBAL_ADMIN)
    if name == "setSuppressionThreshold":
        # An organisation's own admin; a global admin belongs to no organisation.
        return caller == ADMIN
    return caller == MANAGER


def root_fields() -> set[str]:
    schema = build_schema()._schema
    assert schema.query_type is not None and schema.mutation_type is not None
    return set(schema.query_type.fields) | set(schema.mutation_type.fields)


def test_the_table_of_requests_covers_every_root_field() -> None:
    assert set(CASES_BY_FIELD) == root_fields()
    assert len(CASES_BY_FIELD) == len(CASES)


@dataclass
class World:
    """Two organisations, A and B, and a global admin, behind one app."""

    store: ApiStore
    a: Organisation
    b: Organisation
    global_admin: str

    def token(self, caller: str, organisation: Organisation | None = None) -> str:
        if caller == GLOBAL_ADMIN:
            return self.global_admin
        return (organisation or self.a).tokens[caller]


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    # Many wrong tokens are sent on purpose: the throttle is tested on its own.
    limits = ApiLimits(read_wait_seconds=5, max_bad_tokens=1_000_000)
    with api_store(database_url, limits) as store:
        a = Organisation(store, "Alpha Mind")
        b = Organisation(store, f"Beta Trust {MARK}", MARK)
        # B has more of everything, so a count says whose answer it is.
        b.new_contribution(responded=True)
        b.records.record_intended_outcome(
            organisation_id=b.id,
            initiative_id=b.initiative,
            description=f"A second outcome. {MARK}",
            impact_areas=[ImpactArea.DELIVERY],
            actor=ACTOR,
        )
        b.new_initiative()
        world = World(store, a, b, store.token(None, Role.ADMIN))
        store.views.catch_up()
        yield world


async def attempt(
    http: httpx.AsyncClient,
    world: World,
    case: Case,
    variables: dict[str, Any],
    token: str | None,
) -> tuple[httpx.Response, bool]:
    """Send one request with the views caught up; says whether the log grew."""
    world.store.views.catch_up()
    before = world.store.head()
    response = await graphql(http, case.document, variables, token)
    assert response.status_code == 200, response.text
    return response, world.store.head() != before


@pytest.mark.parametrize("caller", CALLERS)
def test_each_role_may_use_its_fields_and_is_refused_the_others(
    world: World, caller: str
) -> None:
    async def check() -> None:
        async with client(world.store) as http:
            for case in CASES:
                variables = case.variables(world.a)
                response, wrote = await attempt(
                    http, world, case, variables, world.token(caller)
                )
                if allowed(caller, case.field):
                    data = data_of(response)
                    assert data[case.field] is not None, case.field
                    assert wrote == case.is_mutation, case.field
                else:
                    assert code_of(response) == "FORBIDDEN", (case.field, response.text)
                    assert response.json().get("data") is None, case.field
                    assert not wrote, (
                        f"{case.field}: refused, yet something was written"
                    )

    asyncio.run(check())


def test_no_token_a_wrong_token_and_a_revoked_token_are_unauthenticated(
    world: World,
) -> None:
    revoked_id, revoked = world.store.records.issue_token(
        organisation_id=world.a.id, role=Role.MANAGER, actor=ACTOR
    )
    world.store.records.revoke_token(token_id=revoked_id, actor=ACTOR)
    wrong = world.a.tokens[MANAGER][:-4] + "abcd"
    headers: list[dict[str, str]] = [
        {},
        {"Authorization": f"Bearer {wrong}"},
        {"Authorization": "Bearer fourpi_not-a-token"},
        {"Authorization": f"Bearer {revoked}"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Basic {world.a.tokens[MANAGER]}"},
        {"Authorization": world.a.tokens[MANAGER]},
    ]

    async def check() -> None:
        async with client(world.store) as http:
            for case in CASES:
                variables = case.variables(world.a)
                for sent in headers:
                    world.store.views.catch_up()
                    before = world.store.head()
                    response = await graphql(
                        http, case.document, variables, headers=sent
                    )
                    assert response.status_code == 200
                    assert code_of(response) == "UNAUTHENTICATED", (case.field, sent)
                    assert world.store.head() == before
            # The revoked token worked before it was revoked; the others still do.
            me = data_of(
                await graphql(http, "{ me { role } }", token=world.a.tokens[MANAGER])
            )
            assert me == {"me": {"role": "MANAGER"}}

    asyncio.run(check())


def test_a_token_revoked_between_two_of_its_writes_writes_nothing_more(
    world: World,
) -> None:
    """Who a token belongs to is kept between writes, but never past its revocation:
    revoked beside the API (as `fourpi tokens revoke` does, in another process), the
    token's next write is refused at once and records nothing."""
    token_id, secret = world.store.records.issue_token(
        organisation_id=world.a.id, role=Role.MANAGER, actor=ACTOR
    )
    register = write_input("registerParticipant")

    def person(name: str) -> dict[str, Any]:
        return {"input": {"pseudonym": name, "participantKind": "CARER"}}

    async def check() -> None:
        async with client(world.store) as http:
            for name in ("First", "Second"):
                data_of(await graphql(http, register, person(name), secret))
            world.store.records.revoke_token(token_id=token_id, actor=ACTOR)
            before = world.store.head()
            refused = await graphql(http, register, person("Third"), secret)
            assert code_of(refused) == "UNAUTHENTICATED"
            assert world.store.head() == before
            # Another manager's token, known to the API as well, still writes.
            data_of(
                await graphql(http, register, person("Fourth"), world.a.tokens[MANAGER])
            )

    asyncio.run(check())


def with_id(variables: dict[str, Any], path: str, record_id: str) -> dict[str, Any]:
    """The variables with the id at `path` replaced (in a list: the list of that id)."""
    changed = copy.deepcopy(variables)
    *parents, last = path.split(".")
    place = changed
    for name in parents:
        place = place[name]
    place[last] = [record_id] if isinstance(place[last], list) else record_id
    return changed


def foreign_attempts() -> Iterator[tuple[str, Case, str, str]]:
    """Every (caller, field, path, kind) where A's caller names one of B's records."""
    for caller in (MANAGER, EVALUATOR, AUDITOR, ADMIN):
        for case in CASES:
            if allowed(caller, case.field):
                for path, kinds in case.ids.items():
                    for kind in kinds:
                        yield caller, case, path, kind


READS_THAT_FILTER = {
    "history",
    *(case.field for case in CASES if "slice.initiativeId" in case.ids),
}
"""Reads that answer an empty page or an empty answer for a record not the caller's."""


PARTS_OF_AN_INITIATIVE = {"outcome", "role"}
"""Not records of their own: one not in the initiative named is a bad input."""


def assert_nothing_of(world: World, response: httpx.Response, sent: str) -> None:
    """Nothing of B's is in the response, beyond the id A's caller sent."""
    text = response.text
    assert MARK not in text, text
    for record_id in world.b.ids().values():
        if record_id != sent:
            assert record_id not in text, text


def test_a_record_of_another_organisation_is_never_read_or_written(
    world: World,
) -> None:
    async def check() -> None:
        async with client(world.store) as http:
            tried = 0
            for caller, case, path, kind in foreign_attempts():
                foreign = world.b.ids()[kind]
                variables = with_id(case.variables(world.a), path, foreign)
                response, wrote = await attempt(
                    http, world, case, variables, world.token(caller)
                )
                where = (caller, case.field, path, kind)
                assert not wrote, where
                assert_nothing_of(world, response, foreign)
                if "errors" in response.json():
                    refusals = {"FORBIDDEN", "NOT_FOUND"}
                    if kind in PARTS_OF_AN_INITIATIVE:
                        refusals.add("BAD_USER_INPUT")
                    assert set(codes_of(response)) <= refusals, (where, response.text)
                    assert response.json().get("data") is None, where
                else:
                    assert case.field in READS_THAT_FILTER, (where, response.text)
                    answered = data_of(response)[case.field]
                    assert answered.get("edges", []) == [], where
                    assert answered.get("outcomes", []) == [], where
                    assert answered.get("changes", []) == [], where
                tried += 1
            assert tried > 100

    asyncio.run(check())


def test_a_read_naming_another_organisations_record_is_refused(world: World) -> None:
    async def check() -> None:
        async with client(world.store) as http:
            for caller, case, path, kind in foreign_attempts():
                if case.field not in READS_THAT_FILTER:
                    continue
                foreign = world.b.ids()[kind]
                variables = with_id(case.variables(world.a), path, foreign)
                response, _ = await attempt(
                    http, world, case, variables, world.token(caller)
                )
                assert "errors" in response.json(), (caller, case.field, kind)
                assert set(codes_of(response)) <= {"FORBIDDEN", "NOT_FOUND"}

    asyncio.run(check())


ORGANISATION_ANSWERS = """
{
  organisation { id name }
  initiatives { id }
  intendedOutcomes { outcomes { outcomeId } }
  differences { contributions changes { changeId } }
  presence { position }
}
"""


def test_an_evaluator_sees_only_its_own_organisations_answers(world: World) -> None:
    async def check() -> None:
        async with client(world.store) as http:
            seen = {}
            for organisation in (world.a, world.b):
                answered = data_of(
                    await graphql(
                        http, ORGANISATION_ANSWERS, token=organisation.tokens[EVALUATOR]
                    )
                )
                assert answered["organisation"]["id"] == str(organisation.id)
                seen[organisation.id] = answered
            a, b = seen[world.a.id], seen[world.b.id]
            assert MARK not in str(a)
            assert [i["id"] for i in a["initiatives"]] == [str(world.a.initiative)]
            assert len(b["initiatives"]) == 2
            assert a["intendedOutcomes"]["outcomes"] == [
                {"outcomeId": str(world.a.outcome)}
            ]
            assert len(b["intendedOutcomes"]["outcomes"]) == 2
            assert a["differences"]["contributions"] == 1
            assert b["differences"]["contributions"] == 2
            assert a["differences"]["changes"] == [{"changeId": str(world.a.change)}]

    asyncio.run(check())


ISSUE = (
    "mutation($input: IssueTokenInput!) "
    "{ issueToken(input: $input) { tokenId token role } }"
)


def test_an_organisations_admin_issues_tokens_only_for_its_own(world: World) -> None:
    async def check() -> None:
        async with client(world.store) as http:
            admin = world.a.tokens[ADMIN]
            before = world.store.head()
            refused = await graphql(
                http,
                ISSUE,
                {"input": {"role": "MANAGER", "organisationId": str(world.b.id)}},
                admin,
            )
            assert code_of(refused) == "FORBIDDEN"
            assert refused.json()["errors"][0]["extensions"]["field"] == (
                "input.organisationId"
            )
            assert world.store.head() == before
            registered = await graphql(
                http,
                write_input("registerOrganisation"),
                {"input": {"name": "Not allowed"}},
                admin,
            )
            assert code_of(registered) == "FORBIDDEN"
            assert world.store.head() == before

            own = data_of(
                await graphql(http, ISSUE, {"input": {"role": "AUDITOR"}}, admin)
            )
            me = data_of(
                await graphql(
                    http,
                    "{ me { role organisationId } }",
                    token=own["issueToken"]["token"],
                )
            )
            assert me == {"me": {"role": "AUDITOR", "organisationId": str(world.a.id)}}

            issued = data_of(
                await graphql(
                    http,
                    ISSUE,
                    {"input": {"role": "EVALUATOR", "organisationId": str(world.b.id)}},
                    world.global_admin,
                )
            )["issueToken"]
            for_b = issued["token"]
            answered = data_of(
                await graphql(
                    http, "{ me { organisationId } organisation { name } }", token=for_b
                )
            )
            assert answered["me"]["organisationId"] == str(world.b.id)
            assert MARK in answered["organisation"]["name"]

            # A's admin cannot revoke it (to them it is a token that does not
            # exist); the global admin can, and it stops at once.
            revoke = write_input("revokeToken")
            variables = {"input": {"tokenId": issued["tokenId"]}}
            before = world.store.head()
            assert code_of(await graphql(http, revoke, variables, admin)) == "NOT_FOUND"
            assert world.store.head() == before
            data_of(await graphql(http, revoke, variables, world.global_admin))
            after = await graphql(http, "{ me { role } }", token=for_b)
            assert code_of(after) == "UNAUTHENTICATED"

    asyncio.run(check())


def test_a_tokens_secret_is_never_stored(world: World) -> None:
    async def check() -> list[str]:
        async with client(world.store) as http:
            secrets = []
            for token, given in [
                (world.global_admin, {"role": "ADMIN"}),
                (
                    world.global_admin,
                    {"role": "MANAGER", "organisationId": str(world.a.id)},
                ),
                (world.a.tokens[ADMIN], {"role": "EVALUATOR", "label": "board"}),
            ]:
                issued = data_of(await graphql(http, ISSUE, {"input": given}, token))
                secrets.append(issued["issueToken"]["token"])
            for secret in secrets:
                me = data_of(await graphql(http, "{ me { tokenId } }", token=secret))
                assert me["me"]["tokenId"]
            return secrets

    secrets = asyncio.run(check())
    secrets += [world.global_admin, *world.a.tokens.values(), *world.b.tokens.values()]
    stored = world.store.records.recorder.select_notifications(1, 10**9)
    assert len(stored) == world.store.head()
    for notification in stored:
        for secret in secrets:
            assert secret.encode() not in notification.state
            assert secret.encode() not in bytes(notification.topic, "utf-8")


def as_sent(response: httpx.Response, sent: str) -> Any:
    """A response's body with the id the caller sent written as ID."""
    return json.loads(response.text.replace(sent, "ID"))


def test_another_organisations_record_reads_exactly_as_one_that_does_not_exist(
    world: World,
) -> None:
    """What A's callers are told of an id of B's is what they are told of an id no
    record has, in every field that takes one: whether a record is another
    organisation's, and so that it exists, is not theirs to know. Many ids are
    made from what can be guessed (a command's receipt from the organisation's id
    and its idempotency key, such as a workbook's row key, often a person's name;
    the involvement policy from the organisation's id), so a different answer
    would tell an organisation's former staff what it has recorded since."""
    key = "workbook:People:robin-evans"
    world.b.records.register_participant(
        organisation_id=world.b.id,
        pseudonym=f"Robin {MARK}",
        participant_kind=ParticipantKind.SERVICE_USER,
        actor=ACTOR,
        idempotency_key=key,
    )
    guessed = {
        "a receipt of B's": str(CommandReceipt.id_for(world.b.id, key)),
        "B's involvement policy": str(InvolvementPolicy.id_for(world.b.id)),
    }
    unused = str(CommandReceipt.id_for(world.b.id, "workbook:People:nobody"))
    record = "query($id: ID!) { record(id: $id) { recordId } }"
    history = (
        "query($id: ID!) { history(recordId: $id, first: 1) { edges { cursor } } }"
    )

    async def check() -> None:
        async with client(world.store) as http:
            for caller, case, path, kind in foreign_attempts():
                theirs = world.b.ids()[kind]
                nobodys = str(uuid4())
                told = []
                for sent in (theirs, nobodys):
                    variables = with_id(case.variables(world.a), path, sent)
                    response, wrote = await attempt(
                        http, world, case, variables, world.token(caller)
                    )
                    assert not wrote
                    told.append(as_sent(response, sent))
                assert told[0] == told[1], (caller, case.field, path, kind)
            for caller in (MANAGER, AUDITOR):
                for document in (record, history):
                    for what, guess in guessed.items():
                        told = [
                            as_sent(
                                await graphql(
                                    http,
                                    document,
                                    {"id": sent},
                                    world.token(caller),
                                ),
                                sent,
                            )
                            for sent in (guess, unused)
                        ]
                        assert told[0] == told[1], (caller, document, what)

    asyncio.run(check())
