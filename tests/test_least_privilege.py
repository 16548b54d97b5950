"""Least privilege: the personal-data grant on tokens, and a walk of every field of the schema with every role's token, with and without the grant, that checks no person's personal data comes back to a token that is not granted it."""

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any
from uuid import UUID

import httpx
import pytest
from click.testing import CliRunner

from fourpi.bootstrap import open_records
from fourpi.cli import main
from fourpi.config import ApiLimits
from fourpi.domain.access import AccessToken, Role
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import InvalidInput
from fourpi.domain.personal import PERSONAL_FIELDS
from fourpi.domain.receipt import CommandReceipt
from fourpi.domain.vocabulary import (
    AgeBand,
    Disability,
    EarningsPeriod,
    EducationLevel,
    EthnicGroup,
    Gender,
    InvolvementRole,
    ParticipantKind,
    PaymentKind,
    PaymentPreference,
    ProcessDimension,
    QuestionnaireStage,
    RespondentKind,
    SexualOrientation,
)
from fourpi.graphql.context import Caller
from fourpi.graphql.schema import build_schema
from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    Undefined,
    get_named_type,
    is_non_null_type,
    parse,
    print_ast,
)
from tests.api import ApiStore, api_store, client, code_of, data_of, graphql
from tests.test_api_access import ANSWERS, CASES_BY_FIELD, Organisation

ACTOR = "test"

# The person whose data the walk looks for: every value is one no other fact holds.
PSEUDONYM = "Wren Halloway QZ7"
FREE_TEXT = "The evening sessions got me through a hard winter KV9"
EARNINGS_LIMIT = Decimal("987.65")
DECLARED: dict[str, StrEnum] = {
    "age_band": AgeBand.AGE_55_64,
    "gender": Gender.NON_BINARY,
    "ethnic_group": EthnicGroup.WHITE_ROMA,
    "disability": Disability.DISABLED,
    "sexual_orientation": SexualOrientation.BISEXUAL,
    "education_level": EducationLevel.APPRENTICESHIP,
}
MONITORING = {category: value.value for category, value in DECLARED.items()}
SPELLINGS = {
    category: {value.value, value.name.lower()} for category, value in DECLARED.items()
}
"""How each declared value can read: as stored, or as the GraphQL enum names it."""
MONITORING_KEY = "walk-subject-monitoring"
ANSWER_KEY = "walk-subject-answer"
PREFERENCE_KEY = "walk-subject-preference"

# What a response can give away about the person.
PSEUDONYM_SEEN, FREE_TEXT_SEEN, LIMIT_SEEN, MONITORING_SEEN, FINGERPRINT_SEEN = (
    "pseudonym",
    "free text",
    "earnings limit",
    "monitoring data",
    "a receipt's fingerprint",
)

MANAGER, EVALUATOR, AUDITOR, ADMIN, GLOBAL_ADMIN = (
    "manager",
    "evaluator",
    "auditor",
    "admin",
    "global admin",
)
ROLES = {
    MANAGER: Role.MANAGER,
    EVALUATOR: Role.EVALUATOR,
    AUDITOR: Role.AUDITOR,
    ADMIN: Role.ADMIN,
    GLOBAL_ADMIN: Role.ADMIN,
}


@dataclass(frozen=True)
class Rule:
    """Who may use a root field: these roles, and only with the grant if it says so."""

    roles: frozenset[str]
    needs_grant: bool = False


READ_ANSWERS = Rule(frozenset({MANAGER, EVALUATOR, AUDITOR}))
WRITE = Rule(frozenset({MANAGER}))

RULES: dict[str, Rule] = {
    **{name: READ_ANSWERS for name in ANSWERS},
    "paymentsAndBenefits": Rule(frozenset({MANAGER, AUDITOR}), needs_grant=True),
    "history": Rule(frozenset({MANAGER, AUDITOR})),
    "record": Rule(frozenset({MANAGER, AUDITOR})),
    **{
        name: Rule(frozenset({MANAGER, AUDITOR}))
        for name in ("participants", "contributions", "meetings", "changes")
    },
    "eventLog": Rule(frozenset({AUDITOR})),
    "integrity": Rule(frozenset({AUDITOR})),
    "me": Rule(frozenset(ROLES)),
    "registerOrganisation": Rule(frozenset({GLOBAL_ADMIN})),
    "issueToken": Rule(frozenset({ADMIN, GLOBAL_ADMIN})),
    "revokeToken": Rule(frozenset({ADMIN, GLOBAL_ADMIN})),
    "eraseParticipant": Rule(frozenset({ADMIN, GLOBAL_ADMIN})),
    "setSuppressionThreshold": Rule(frozenset({ADMIN})),
    **{
        name: WRITE
        for name in (
            "adoptInvolvementPolicy",
            "reviewInvolvementPolicy",
            "launchInitiative",
            "recordIntendedOutcome",
            "assessIntendedOutcome",
            "assignRole",
            "endRole",
            "startCycle",
            "evaluateCycle",
            "reflectOnCycle",
            "learnFromCycle",
            "registerParticipant",
            "declareMonitoringData",
            "setPaymentPreference",
            "scheduleMeeting",
            "sendMeetingPapers",
            "recordAttendance",
            "nameMeetingReserve",
            "makeReasonableAdjustment",
            "logContribution",
            "respondToContribution",
            "giveFeedback",
            "recordChange",
            "recordProcessExperience",
            "recordPaymentOwed",
            "recordPaymentMade",
            "recordSupport",
            "defineReferencePopulation",
        )
    },
}
"""The rules as users are told them, written apart from the code that applies them:
every root field of the schema has one, so a new field cannot go unwalked."""

# Where a granted token must find the person's data (what it finds elsewhere, and
# anything an ungranted token finds, is a leak).
SHOWN_WITH_THE_GRANT: dict[tuple[str, str], frozenset[str]] = {
    ("history", "subject"): frozenset({PSEUDONYM_SEEN, LIMIT_SEEN, MONITORING_SEEN}),
    ("record", "subject"): frozenset({PSEUDONYM_SEEN, LIMIT_SEEN, MONITORING_SEEN}),
    ("history", "answer"): frozenset({FREE_TEXT_SEEN}),
    ("record", "answer"): frozenset({FREE_TEXT_SEEN}),
    ("eventLog", "log"): frozenset(
        {PSEUDONYM_SEEN, LIMIT_SEEN, MONITORING_SEEN, FREE_TEXT_SEEN}
    ),
    ("paymentsAndBenefits", ""): frozenset({PSEUDONYM_SEEN, LIMIT_SEEN}),
    ("participants", ""): frozenset({PSEUDONYM_SEEN}),
}


def callers() -> Iterator[tuple[str, bool]]:
    """Every role's token without the grant, and with it where it may be granted."""
    for caller, role in ROLES.items():
        yield caller, False
        if role is not Role.EVALUATOR:
            yield caller, True


CALLERS = list(callers())


@cache
def schema() -> GraphQLSchema:
    return build_schema()._schema


def root_fields(graphql_schema: GraphQLSchema) -> list[tuple[str, GraphQLObjectType]]:
    """Every query and mutation field, with the root type it is on."""
    query, mutation = graphql_schema.query_type, graphql_schema.mutation_type
    assert query is not None and mutation is not None
    return [(name, root) for root in (query, mutation) for name in sorted(root.fields)]


def everything_below(graphql_schema: GraphQLSchema, type_: GraphQLOutputType) -> str:
    """A selection of every field below a type, so a response holds all it can give."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return ""
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        kinds = graphql_schema.get_possible_types(named)
        return (
            " { __typename "
            + " ".join(
                f"... on {kind.name}{everything_below(graphql_schema, kind)}"
                for kind in kinds
            )
            + " }"
        )
    assert isinstance(named, GraphQLObjectType), named
    parts = ["__typename"]
    for name, field in named.fields.items():
        required = [
            argument
            for argument, given in field.args.items()
            if is_non_null_type(given.type) and given.default_value is Undefined
        ]
        assert not required, f"{named.name}.{name} needs {required}: walk it by hand"
        parts.append(name + everything_below(graphql_schema, field.type))
    return " { " + " ".join(parts) + " }"


def walking_document(graphql_schema: GraphQLSchema, name: str) -> str:
    """The access test's request for a root field, asking for everything it returns."""
    case = CASES_BY_FIELD.get(name)
    assert case is not None, (
        f"{name}: add a request for it to CASES in tests/test_api_access.py"
    )
    document = parse(case.document)
    (operation,) = document.definitions
    assert isinstance(operation, OperationDefinitionNode)
    (field,) = operation.selection_set.selections
    assert isinstance(field, FieldNode) and field.name.value == name
    root = (
        graphql_schema.mutation_type
        if operation.operation.value == "mutation"
        else graphql_schema.query_type
    )
    assert root is not None
    selection = everything_below(graphql_schema, root.fields[name].type)
    variables = ", ".join(print_ast(v) for v in operation.variable_definitions or ())
    arguments = ", ".join(print_ast(a) for a in field.arguments or ())
    return (
        operation.operation.value
        + (f"({variables})" if variables else "")
        + f" {{ {name}"
        + (f"({arguments})" if arguments else "")
        + selection
        + " }"
    )


def event_log_document(graphql_schema: GraphQLSchema) -> str:
    """Every page of the event log, with all it returns."""
    query = graphql_schema.query_type
    assert query is not None
    selection = everything_below(graphql_schema, query.fields["eventLog"].type)
    return (
        "query($after: String) { eventLog(first: 100, after: $after)" + selection + " }"
    )


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Subject:
    """A person with every kind of personal data, in an organisation with one of every
    kind of record, and the tokens of every role with and without the grant."""

    def __init__(self, store: ApiStore) -> None:
        self.store = store
        records = self.records = store.records
        self.organisation = Organisation(store, "Walked Mind")
        org = self.organisation.id
        self.participant = records.register_participant(
            organisation_id=org,
            pseudonym=PSEUDONYM,
            participant_kind=ParticipantKind.SERVICE_USER,
            actor=ACTOR,
        )
        records.declare_monitoring_data(
            organisation_id=org,
            participant_id=self.participant,
            monitoring=dict(MONITORING),
            actor=ACTOR,
            idempotency_key=MONITORING_KEY,
        )
        records.set_payment_preference(
            organisation_id=org,
            participant_id=self.participant,
            payment_preference=PaymentPreference.FEES,
            earnings_limit=EARNINGS_LIMIT,
            earnings_period=EarningsPeriod.WEEK,
            actor=ACTOR,
            idempotency_key=PREFERENCE_KEY,
        )
        initiative = self.organisation.initiative
        records.assign_role(
            organisation_id=org,
            initiative_id=initiative,
            participant_id=self.participant,
            role=InvolvementRole.ADVISOR,
            paid=True,
            decision_making=True,
            started_on=date(2024, 1, 10),
            actor=ACTOR,
        )
        meeting = self.organisation.new_meeting()
        records.record_attendance(
            organisation_id=org,
            meeting_id=meeting,
            participant_ids=[self.participant, self.organisation.participant],
            actor=ACTOR,
        )
        self.answer = records.record_process_experience(
            organisation_id=org,
            initiative_id=initiative,
            respondent_kind=RespondentKind.SERVICE_USER,
            stage=QuestionnaireStage.END_OF_INVOLVEMENT,
            scores={ProcessDimension.LISTENED_TO: 2, ProcessDimension.SUPPORTED: 3},
            answered_on=date(2024, 3, 1),
            participant_id=self.participant,
            free_text=FREE_TEXT,
            actor=ACTOR,
            idempotency_key=ANSWER_KEY,
        )
        fee = records.record_payment_owed(
            organisation_id=org,
            participant_id=self.participant,
            payment_kind=PaymentKind.FEE,
            amount=Decimal("40.00"),
            owed_on=date(2024, 2, 1),
            initiative_id=initiative,
            actor=ACTOR,
        )
        records.record_payment_made(
            organisation_id=org, payment_id=fee, paid_on=date(2024, 2, 8), actor=ACTOR
        )
        self.receipts = {
            key: CommandReceipt.id_for(org, key)
            for key in (MONITORING_KEY, ANSWER_KEY, PREFERENCE_KEY)
        }
        self.fingerprints: set[str] = {
            records.repository.get(receipt).fingerprint
            for receipt in self.receipts.values()
        }
        self.tokens = {
            (caller, granted): store.token(
                None if caller == GLOBAL_ADMIN else org,
                ROLES[caller],
                personal_data=granted,
            )
            for caller, granted in CALLERS
        }

    def targets(self, name: str) -> dict[str, dict[str, Any] | None]:
        """The variables to send for a root field, by what they point at (None: the
        access test's own)."""
        if name in ("history", "record"):
            return {
                "initiative": {"id": str(self.organisation.initiative)},
                "subject": {"id": str(self.participant)},
                "answer": {"id": str(self.answer)},
                **{
                    f"receipt {key}": {"id": str(receipt)}
                    for key, receipt in self.receipts.items()
                },
            }
        if name == "eventLog":
            return {"log": None}
        return {"": None}

    def found_in(self, body: Any) -> set[str]:
        """What of the person's personal data a response holds."""
        text = str(body).lower()
        found = set()
        if PSEUDONYM.lower() in text:
            found.add(PSEUDONYM_SEEN)
        if FREE_TEXT.lower() in text:
            found.add(FREE_TEXT_SEEN)
        if str(EARNINGS_LIMIT) in text:
            found.add(LIMIT_SEEN)
        if any(fingerprint in text for fingerprint in self.fingerprints):
            found.add(FINGERPRINT_SEEN)
        if monitoring_in(body):
            found.add(MONITORING_SEEN)
        return found


def monitoring_in(value: Any) -> bool:
    """Whether any object in a response maps a monitoring category to the person's
    own self-declared value (however the key or the value is spelled)."""
    if isinstance(value, dict):
        for key, item in value.items():
            spellings = SPELLINGS.get(snake_case(str(key)), set())
            if isinstance(item, str) and item.lower() in spellings:
                return True
            if monitoring_in(item):
                return True
    if isinstance(value, list):
        return any(monitoring_in(item) for item in value)
    return False


PERSONAL_BY_TYPE = {
    event_class.__qualname__: fields for event_class, fields in PERSONAL_FIELDS.items()
}


def personal_state_fields(record_type: str) -> set[str]:
    return {
        field
        for qualname, fields in PERSONAL_BY_TYPE.items()
        if qualname.split(".")[0] == record_type
        for field in fields
    }


def check_redaction(body: Any, granted: bool, where: Any) -> int:
    """Every event and record in a response says which personal fields it withholds,
    and holds null for each; a granted token has nothing withheld. Returns how many
    personal fields were withheld."""
    withheld = 0
    if isinstance(body, list):
        return sum(check_redaction(item, granted, where) for item in body)
    if not isinstance(body, dict):
        return 0
    if {"type", "data", "redacted"} <= set(body):
        personal = PERSONAL_BY_TYPE.get(body["type"], frozenset())
        present = sorted(name for name in personal if name in body["data"])
        assert body["redacted"] == ([] if granted else present), (where, body)
        for name in body["redacted"]:
            assert body["data"][name] is None, (where, body)
        withheld += len(body["redacted"])
    if {"type", "state", "redacted"} <= set(body):
        attributes = personal_state_fields(body["type"])
        present = sorted(name for name in attributes if name in body["state"])
        assert body["redacted"] == ([] if granted else present), (where, body)
        for name in body["redacted"]:
            assert body["state"][name] is None, (where, body)
        withheld += len(body["redacted"])
    return withheld + sum(
        check_redaction(item, granted, where) for item in body.values()
    )


@pytest.fixture
def subject(database_url: str) -> Iterator[Subject]:
    with api_store(database_url, ApiLimits(read_wait_seconds=5)) as store:
        walked = Subject(store)
        store.views.catch_up()
        yield walked


def test_every_root_field_has_a_rule() -> None:
    assert set(RULES) == {name for name, _ in root_fields(schema())}


def test_every_root_field_can_be_asked_for_all_it_returns() -> None:
    graphql_schema = schema()
    for name, _ in root_fields(graphql_schema):
        document = walking_document(graphql_schema, name)
        assert "__typename" in document, name


async def ask(
    http: httpx.AsyncClient,
    subject: Subject,
    name: str,
    variables: dict[str, Any] | None,
    token: str,
) -> list[httpx.Response]:
    """One root field's responses (every page of the event log); the views caught up."""
    subject.store.views.catch_up()
    if name == "eventLog":
        pages = []
        after = None
        while True:
            response = await graphql(
                http, event_log_document(schema()), {"after": after}, token
            )
            pages.append(response)
            page = (response.json().get("data") or {}).get("eventLog")
            if page is None or not page["pageInfo"]["hasNextPage"]:
                return pages
            after = page["pageInfo"]["endCursor"]
    case = CASES_BY_FIELD[name]
    document = walking_document(schema(), name)
    sent = case.variables(subject.organisation) if variables is None else variables
    return [await graphql(http, document, sent, token)]


@pytest.mark.parametrize(
    ("caller", "granted"),
    CALLERS,
    ids=[f"{c}{' granted' if g else ''}" for c, g in CALLERS],
)
def test_every_field_with_every_token_gives_personal_data_only_with_the_grant(
    subject: Subject, caller: str, granted: bool
) -> None:
    token = subject.tokens[caller, granted]
    graphql_schema = schema()

    async def walk() -> tuple[int, int]:
        asked = withheld = 0
        async with client(subject.store) as http:
            for name, _ in root_fields(graphql_schema):
                rule = RULES.get(name)
                assert rule is not None, f"{name}: say in RULES who may use it"
                allowed = caller in rule.roles and (granted or not rule.needs_grant)
                for target, variables in subject.targets(name).items():
                    where = (caller, granted, name, target)
                    for response in await ask(http, subject, name, variables, token):
                        asked += 1
                        assert response.status_code == 200, (where, response.text)
                        body = response.json()
                        if allowed:
                            assert "errors" not in body, (where, body)
                            assert body["data"][name] is not None, where
                        else:
                            assert code_of(response) == "FORBIDDEN", (where, body)
                            assert body.get("data") is None, (where, body)
                        withheld += check_redaction(body, granted, where)
                        found = subject.found_in(body)
                        expected = (
                            SHOWN_WITH_THE_GRANT.get((name, target), frozenset())
                            if allowed and granted
                            else frozenset()
                        )
                        if name == "eventLog" and allowed:
                            # Spread over its pages: checked once they are all read.
                            assert found <= expected, (where, found, body)
                            log_found.update(found)
                        else:
                            assert found == expected, (where, found, body)
        return asked, withheld

    log_found: set[str] = set()
    asked, withheld = asyncio.run(walk())
    assert asked >= len(RULES)
    reads_records = caller in RULES["history"].roles
    if reads_records and granted:
        assert withheld == 0
    if reads_records and not granted:
        # pseudonym, monitoring, preference (3), free text, in history and in record
        assert withheld >= 2 * 6
    if caller in RULES["eventLog"].roles:
        shown = SHOWN_WITH_THE_GRANT["eventLog", "log"] if granted else frozenset()
        assert log_found == shown


# The grant itself


def test_only_manager_auditor_and_admin_tokens_may_be_granted_personal_data(
    records: InvolvementRecords, organisation_id: UUID
) -> None:
    for role in (Role.MANAGER, Role.AUDITOR, Role.ADMIN):
        token_id, secret = records.issue_token(
            organisation_id=organisation_id,
            role=role,
            actor=ACTOR,
            personal_data=True,
        )
        token = records.authenticate(secret)
        assert token is not None and token.id == token_id
        assert token.personal_data is True
        assert Caller.of(token).personal_data is True
    _, plain = records.issue_token(
        organisation_id=organisation_id, role=Role.AUDITOR, actor=ACTOR
    )
    token = records.authenticate(plain)
    assert token is not None and token.personal_data is False
    assert Caller.of(token).personal_data is False

    before = records.recorder.max_notification_id()
    with pytest.raises(InvalidInput) as refused:
        records.issue_token(
            organisation_id=organisation_id,
            role=Role.EVALUATOR,
            actor=ACTOR,
            personal_data=True,
        )
    assert refused.value.field == "personal_data"
    assert "evaluator tokens may not be granted personal data" in refused.value.rule
    with pytest.raises(InvalidInput) as not_a_flag:
        records.issue_token(
            organisation_id=organisation_id,
            role=Role.MANAGER,
            actor=ACTOR,
            personal_data="yes",
        )
    assert not_a_flag.value.field == "personal_data"
    assert records.recorder.max_notification_id() == before


def test_an_evaluator_caller_never_holds_the_grant_whatever_its_token_says() -> None:
    class Forged:
        id = UUID(int=1)
        role = Role.EVALUATOR
        organisation_id = UUID(int=2)
        personal_data = True

    assert Caller.of(Forged()).personal_data is False


def test_a_token_issued_before_the_grant_existed_reads_as_not_granted(
    records: InvolvementRecords, organisation_id: UUID
) -> None:
    _, secret = records.issue_token(
        organisation_id=organisation_id, role=Role.AUDITOR, actor=ACTOR
    )
    token = records.authenticate(secret)
    assert token is not None
    (issued,) = records.events.get(token.id)
    # The event as version 1 stored it: no grant, and no class version.
    stored = records.mapper.to_stored_event(issued)
    state = records.mapper.transcoder.decode(stored.state)
    assert state.pop("class_version") == 2
    del state["personal_data"]
    old = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=records.mapper.transcoder.encode(state),
    )
    upcast = records.mapper.to_domain_event(old)
    assert isinstance(upcast, AccessToken.Issued)
    assert upcast.personal_data is False
    rebuilt: Any = upcast.mutate(None)
    assert rebuilt.personal_data is False
    assert rebuilt.role is Role.AUDITOR


def test_the_grant_is_given_from_the_command_line(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/grant.sqlite3"
    records = open_records(url)
    records.register_organisation(name="Mind (test)", actor="admin")
    records.close()
    runner = CliRunner()

    def create(role: str, *extra: str) -> Any:
        return runner.invoke(
            main,
            [
                "tokens",
                "create",
                "--database",
                url,
                "--organisation",
                "Mind (test)",
                "--role",
                role,
                *extra,
            ],
        )

    granted = create("auditor", "--personal-data")
    assert granted.exit_code == 0, granted.output
    assert "personal data" in granted.stderr
    plain = create("manager")
    assert plain.exit_code == 0, plain.output
    refused = create("evaluator", "--personal-data")
    assert refused.exit_code == 2
    assert "evaluator tokens may not be granted personal data" in refused.output
    records = open_records(url)
    try:
        for created, expected in ((granted, True), (plain, False)):
            token = records.authenticate(created.stdout.strip().splitlines()[0])
            assert token is not None and token.personal_data is expected
    finally:
        records.close()


ISSUE = (
    "mutation($input: IssueTokenInput!) "
    "{ issueToken(input: $input) { tokenId token role personalData } }"
)
ME = "{ me { role personalData } }"


def test_the_grant_is_given_only_by_an_admin_who_holds_it(database_url: str) -> None:
    with api_store(database_url) as store:
        organisation = store.records.register_organisation(name="Mind", actor=ACTOR)
        plain_admin = store.token(organisation, Role.ADMIN)
        granted_admin = store.token(organisation, Role.ADMIN, personal_data=True)

        async def check() -> None:
            async with client(store) as http:
                before = store.head()
                refused = await graphql(
                    http,
                    ISSUE,
                    {"input": {"role": "AUDITOR", "personalData": True}},
                    plain_admin,
                )
                assert code_of(refused) == "FORBIDDEN"
                assert refused.json()["errors"][0]["extensions"]["field"] == (
                    "input.personalData"
                )
                assert store.head() == before

                for admin in (plain_admin, granted_admin):
                    evaluator = await graphql(
                        http,
                        ISSUE,
                        {"input": {"role": "EVALUATOR", "personalData": True}},
                        admin,
                    )
                    assert code_of(evaluator) == "BAD_USER_INPUT"
                    (error,) = evaluator.json()["errors"]
                    assert error["extensions"]["field"] == "input.personalData"
                    assert "evaluator tokens may not be granted" in error["message"]
                    assert store.head() == before

                issued = data_of(
                    await graphql(
                        http,
                        ISSUE,
                        {"input": {"role": "AUDITOR", "personalData": True}},
                        granted_admin,
                    )
                )["issueToken"]
                assert issued["personalData"] is True
                me = data_of(await graphql(http, ME, token=issued["token"]))
                assert me == {"me": {"role": "AUDITOR", "personalData": True}}

                plain = data_of(
                    await graphql(
                        http, ISSUE, {"input": {"role": "MANAGER"}}, granted_admin
                    )
                )["issueToken"]
                assert plain["personalData"] is False
                me = data_of(await graphql(http, ME, token=plain["token"]))
                assert me == {"me": {"role": "MANAGER", "personalData": False}}

        asyncio.run(check())
