"""What a hostile test of the running service found (issue 13), each as the request that showed it: every one is now refused as the client's mistake, answered, or kept from leaking, never a 500, a stall or a broken answer."""

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import fourpi.domain.record as record_rules
import fourpi.domain.reference_population as reference_rules
from fourpi.audit import verify
from fourpi.config import ApiLimits
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import Gender, MonitoringCategory, ParticipantKind
from fourpi.graphql import audit_queries
from fourpi.workbook import export_workbook
from tests.api import (
    ApiStore,
    api_store,
    client,
    code_of,
    data_of,
    errors_of,
    graphql,
    write_input,
)
from tests.helpers import Store
from tests.histories import days, play
from tests.test_api_limits import LAUNCH

LIMITS = ApiLimits(read_wait_seconds=5)
FUZZ_EXAMPLES = int(os.environ.get("FOURPI_FUZZ_EXAMPLES") or 60)
"""How many random requests the fuzz test sends; raise it for a longer hunt."""
EVERY_ANSWER = """{
  intendedOutcomes { position shareAchieved { value } }
  differences { contributions changes { description } }
  processExperience { answers { value suppressed } }
  endResult { endResultChanges { description } }
  beyond { byKind { kind } }
  presence { meetings { title meetsStandard } }
  process { unpaid feedbackClosure { value } }
  principles { declined policy { overdue reviewDueOn daysUntilDue } }
  cycles { cycles { number } }
}"""


@dataclass
class World:
    store: ApiStore
    organisation: UUID
    manager: str
    evaluator: str
    auditor: str


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with api_store(database_url, LIMITS, worker=True) as store:
        organisation = store.records.register_organisation(name="Mind", actor="t")
        yield World(
            store,
            organisation,
            manager=store.token(organisation, Role.MANAGER),
            evaluator=store.token(organisation, Role.EVALUATOR),
            auditor=store.token(organisation, Role.AUDITOR, personal_data=True),
        )


def run(world: World, scenario: Any) -> Any:
    async def go() -> Any:
        async with client(world.store) as http:
            return await scenario(http)

    return asyncio.run(go())


def fragment_bomb(levels: int) -> str:
    """Fragments that each spread the next one twice: 2**levels fields once spread."""
    parts = ["{ ...F0 }"]
    parts += [
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    ]
    parts.append(f"fragment F{levels} on Query {{ __typename }}")
    return "\n".join(parts)


def refused_as(response: httpx.Response, code: str, field: str | None = None) -> str:
    """The one error's message, after checking its code (and field), and no errorId."""
    (error,) = errors_of(response)
    extensions = error.get("extensions") or {}
    assert extensions.get("code") == code, response.text
    assert "errorId" not in extensions, response.text
    if field is not None:
        assert extensions.get("field") == field, response.text
    return str(error["message"])


# 1. Denial of service with no token.


def test_a_fragment_bomb_is_refused_at_once_and_others_are_answered_meanwhile(
    tmp_path,
) -> None:
    with api_store(f"sqlite:///{tmp_path}/s.sqlite3", LIMITS) as store:
        organisation = store.records.register_organisation(name="Mind", actor="t")
        manager = store.token(organisation, Role.MANAGER)

        async def timed(request: Any) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            response = await request
            return response, time.monotonic() - started

        async def scenario() -> None:
            async with client(store) as http:
                (bomb, bomb_took), (me, me_took) = await asyncio.gather(
                    timed(graphql(http, fragment_bomb(30))),
                    timed(graphql(http, "{ me { role } }", token=manager)),
                )
            message = refused_as(bomb, "QUERY_TOO_COSTLY")
            assert "budget of 1000" in message
            # Expanded, the bomb took minutes (15 s at 4 levels, times 4 a level);
            # refused by its weight, well under a second. The bound is loose so
            # that a loaded machine (tests run one process per core) cannot fail it.
            assert bomb_took < 10, bomb_took
            assert data_of(me) == {"me": {"role": "MANAGER"}}
            assert me_took < 10, me_took

        asyncio.run(scenario())


def test_introspection_that_multiplies_is_refused_but_graphiqls_is_answered(
    world: World,
) -> None:
    from graphql import get_introspection_query

    async def scenario(http: httpx.AsyncClient) -> None:
        standard = await graphql(http, get_introspection_query(descriptions=True))
        assert "__schema" in data_of(standard)
        nested = await graphql(
            http,
            "{ __schema { types { fields { type { fields { type { fields { name } } }"
            " } } } } }",
        )
        assert nested.status_code in (200, 400)
        assert code_of(nested) == "BAD_USER_INPUT"

    run(world, scenario)


# 2. One manager write breaks every answer of its organisation, for good.


@pytest.mark.parametrize(
    ("mutation", "given", "field"),
    [
        (
            "adoptInvolvementPolicy",
            {"versionLabel": "v", "adoptedOn": "9999-12-31"},
            "input.adoptedOn",
        ),
        (
            "adoptInvolvementPolicy",
            {"versionLabel": "v", "adoptedOn": "1899-12-31"},
            "input.adoptedOn",
        ),
        ("launchInitiative", {**LAUNCH, "startedOn": "2200-01-01"}, "input.startedOn"),
    ],
)
def test_a_date_outside_1900_to_2199_is_refused_naming_its_field(
    world: World, mutation: str, given: dict[str, Any], field: str
) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        before = world.store.head()
        response = await graphql(
            http, write_input(mutation), {"input": given}, world.manager
        )
        message = refused_as(response, "BAD_USER_INPUT", field)
        assert "from 01/01/1900 to 31/12/2199" in message
        assert world.store.head() == before

    run(world, scenario)


def test_a_review_at_the_end_of_the_range_leaves_every_answer_answerable(
    world: World,
) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        adopted = await graphql(
            http,
            write_input("adoptInvolvementPolicy"),
            {
                "input": {
                    "versionLabel": "v",
                    "adoptedOn": "2199-12-31",
                    "reviewIntervalMonths": 120,
                }
            },
            world.manager,
        )
        data_of(adopted)
        reviewed = await graphql(
            http,
            write_input("reviewInvolvementPolicy"),
            {"input": {"reviewedOn": "9999-12-31"}},
            world.manager,
        )
        refused_as(reviewed, "BAD_USER_INPUT", "input.reviewedOn")
        for token in (world.manager, world.evaluator, world.auditor):
            answers = data_of(await graphql(http, EVERY_ANSWER, token=token))
            assert answers["principles"]["policy"]["reviewDueOn"] == "2209-12-31"

    run(world, scenario)


def test_a_fact_stored_before_dates_were_bounded_breaks_no_answer(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As an older version of fourpi accepted it: the last day of the calendar.
    monkeypatch.setattr(record_rules, "LATEST", date.max)
    world.store.records.adopt_involvement_policy(
        organisation_id=world.organisation,
        actor="t",
        version_label="v",
        adopted_on=date(9999, 12, 31),
    )
    monkeypatch.undo()

    async def scenario(http: httpx.AsyncClient) -> None:
        for token in (world.manager, world.evaluator, world.auditor):
            answers = data_of(await graphql(http, EVERY_ANSWER, token=token))
            assert answers["principles"]["policy"]["reviewDueOn"] == "9999-12-31"

    run(world, scenario)


FULL_PRESENCE = """{ presence { diversity { category rows { value
  referenceShare { value numerator denominator }
  ratio { value numerator denominator } } } } }"""


def test_a_reference_share_past_four_decimal_places_is_refused_and_breaks_no_answer(
    world: World,
) -> None:
    """A share of 1e-30 was accepted, and its exact fraction (1 over 10**30) is past
    what a GraphQL Int holds: every caller's presence answer was an
    INTERNAL_SERVER_ERROR from then on."""
    participant = world.store.records.register_participant(
        organisation_id=world.organisation,
        actor="t",
        pseudonym="Amara",
        participant_kind=ParticipantKind.SERVICE_USER,
    )
    world.store.records.declare_monitoring_data(
        organisation_id=world.organisation,
        actor="t",
        participant_id=participant,
        monitoring={"gender": Gender.WOMAN.value},
    )

    async def scenario(http: httpx.AsyncClient) -> None:
        before = world.store.head()
        for share in ("1e-30", "0.00001", "0.123456789"):
            response = await graphql(
                http,
                write_input("defineReferencePopulation"),
                {
                    "input": {
                        "description": "Our county",
                        "shares": [
                            {"category": "GENDER", "value": "woman", "share": share}
                        ],
                    }
                },
                world.manager,
            )
            assert "at most 4 decimal places" in refused_as(
                response, "BAD_USER_INPUT", "input.shares.0.share"
            )
        assert world.store.head() == before
        data_of(
            await graphql(
                http,
                write_input("defineReferencePopulation"),
                {
                    "input": {
                        "description": "Our county",
                        "shares": [
                            {"category": "GENDER", "value": "woman", "share": "0.0001"}
                        ],
                    }
                },
                world.manager,
            )
        )
        for token in (world.manager, world.evaluator, world.auditor):
            data_of(await graphql(http, FULL_PRESENCE, token=token))

    run(world, scenario)


def test_a_share_stored_before_shares_were_bounded_breaks_no_answer(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As an older version of fourpi accepted it: a share of 1e-30.
    monkeypatch.setattr(reference_rules, "SHARE_PRECISION", Decimal("1e-40"))
    world.store.records.define_reference_population(
        organisation_id=world.organisation,
        actor="t",
        description="Our county",
        shares={MonitoringCategory.GENDER: {"woman": Decimal("1e-30")}},
    )
    monkeypatch.undo()

    async def scenario(http: httpx.AsyncClient) -> None:
        for token in (world.manager, world.evaluator, world.auditor):
            data_of(await graphql(http, FULL_PRESENCE, token=token))

    run(world, scenario)


EDGE_DAYS = (
    st.sampled_from(
        [date(1900, 1, 1), date(2199, 12, 31), date(1899, 12, 31), date(2200, 1, 1)]
    )
    | days
)


def test_every_history_the_domain_accepts_leaves_every_answer_answerable() -> None:
    """For any history, dates at and beyond the edges of the range included, every
    answer is computed without error, for the organisation and each initiative."""
    from fourpi.bootstrap import open_views
    from fourpi.projections.answers import Slice

    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        store = Store("sqlite")
        records = store.open()
        try:
            known = play(
                records, data, steps=data.draw(st.integers(20, 80)), on=EDGE_DAYS
            )
            views = open_views(store.url, records)
            views.catch_up()
            for organisation in known.organisations:
                for initiative in [None, *known.initiatives[organisation]]:
                    piece = Slice(organisation, initiative_id=initiative)
                    views.report(piece)
                    views.report(piece, as_of=datetime(2199, 12, 31, tzinfo=UTC))
            views.close()
        finally:
            records.close()
            store.remove()

    check()


# 5. One caller can slow everyone.


def test_costly_requests_are_refused_before_they_run(world: World) -> None:
    integrity = (
        "{ " + " ".join(f"i{n}: integrity {{ intact }}" for n in range(15)) + " }"
    )
    as_of = (
        "{ "
        + " ".join(
            f"a{n}: differences(asOf: {{position: {n}}}) {{ position }}"
            for n in range(15)
        )
        + " }"
    )

    async def scenario(http: httpx.AsyncClient) -> None:
        for document in (integrity, as_of):
            started = time.monotonic()
            response = await graphql(http, document, token=world.auditor)
            took = time.monotonic() - started
            message = refused_as(response, "QUERY_TOO_COSTLY")
            assert "would cost" in message and "budget of 1000" in message
            assert took < 1, took
        # One integrity check, and several answers at one moment, are within budget.
        one = data_of(
            await graphql(http, "{ integrity { intact } }", token=world.auditor)
        )
        assert one == {"integrity": {"intact": True}}
        same_moment = (
            "{ differences(asOf: {position: 1}) { position } "
            "principles(asOf: {position: 1}) { position } "
            "presence(asOf: {position: 1}) { position } }"
        )
        data_of(await graphql(http, same_moment, token=world.auditor))

    run(world, scenario)


def test_the_budget_is_a_setting(tmp_path) -> None:
    limits = ApiLimits(read_wait_seconds=5, max_query_cost=3)
    with api_store(f"sqlite:///{tmp_path}/s.sqlite3", limits) as store:
        organisation = store.records.register_organisation(name="Mind", actor="t")
        manager = store.token(organisation, Role.MANAGER)

        async def scenario() -> None:
            async with client(store) as http:
                data_of(await graphql(http, "{ me { role } }", token=manager))
                four = "{ me { role tokenId organisationId } }"
                message = refused_as(
                    await graphql(http, four, token=manager), "QUERY_TOO_COSTLY"
                )
                assert "would cost 4, more than the budget of 3" in message

        asyncio.run(scenario())


def test_a_long_request_does_not_hold_up_others(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow_verify = verify

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.5)
        return slow_verify(*args, **kwargs)

    monkeypatch.setattr(audit_queries, "verify", slow)

    async def scenario(http: httpx.AsyncClient) -> None:
        long = asyncio.ensure_future(
            graphql(http, "{ integrity { intact } }", token=world.auditor)
        )
        await asyncio.sleep(0.2)
        started = time.monotonic()
        me = await graphql(http, "{ me { role } }", token=world.manager)
        health = await http.get("/healthz")
        took = time.monotonic() - started
        assert not long.done()
        assert data_of(me) == {"me": {"role": "MANAGER"}}
        assert health.json() == {"status": "ok"}
        assert took < 0.5, took
        assert data_of(await long) == {"integrity": {"intact": True}}

    run(world, scenario)


# 6. HTTP 500 in plain text with no errorId.


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"null", "must be a JSON object"),
        (b"[]", "must be a JSON object"),
        (b'{"query": "{ me { role } }", "x": "\xff\xfe"}', "not valid UTF-8"),
        (
            b'{"query": "{ me { role } }", "variables": {"a": '
            + b"[" * 40_000
            + b"]" * 40_000
            + b"}}",
            "nests",
        ),
        (b'{"query": "{ me { role } }", "operationName": {}}', "operationName"),
        (b'{"query": "{ me { role } }", "operationName": ["a"]}', "operationName"),
        (b'{"query": "{ me { role } }", "query": "{ me { role } }"}', "twice"),
        (b'{"query": "{ me { role } }", "variables": {"a": NaN}}', "NaN"),
    ],
)
def test_a_malformed_body_is_a_400_with_a_graphql_error(
    tmp_path, body: bytes, words: str
) -> None:
    limits = ApiLimits(read_wait_seconds=5, max_body_bytes=200_000)
    with api_store(f"sqlite:///{tmp_path}/s.sqlite3", limits) as store:
        organisation = store.records.register_organisation(name="Mind", actor="t")
        evaluator = store.token(organisation, Role.EVALUATOR)

        async def scenario() -> None:
            async with client(store) as http:
                response = await http.post(
                    "/graphql",
                    content=body,
                    headers={
                        "Authorization": f"Bearer {evaluator}",
                        "Content-Type": "application/json",
                    },
                )
            assert response.status_code == 400, response.text
            assert words in refused_as(response, "BAD_USER_INPUT")

        asyncio.run(scenario())


# 7. INTERNAL_SERVER_ERROR for ordinary bad input.


def test_ordinary_bad_input_is_bad_user_input_naming_the_field(world: World) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        launched = data_of(
            await graphql(
                http, write_input("launchInitiative"), {"input": LAUNCH}, world.manager
            )
        )
        initiative = launched["launchInitiative"]["id"]
        person = world.store.records.register_participant(
            organisation_id=world.organisation,
            actor="t",
            pseudonym="Amara",
            participant_kind=ParticipantKind.SERVICE_USER,
        )
        before = world.store.head()
        owed = (
            'mutation { recordPaymentOwed(input: {participantId: "%s", '
            'paymentKind: FEE, amount: %s, owedOn: "2024-03-01"}) { id } }'
        )
        for amount in ("1E+400", '"1E+400"', "123456789012345678901234567890"):
            response = await graphql(http, owed % (person, amount), token=world.manager)
            refused_as(response, "BAD_USER_INPUT", "input.amount")
        limit = await graphql(
            http,
            write_input("setPaymentPreference"),
            {
                "input": {
                    "participantId": str(person),
                    "paymentPreference": "FEES",
                    "earningsLimit": "12345678901234567890123456789",
                    "earningsPeriod": "MONTH",
                }
            },
            world.manager,
        )
        refused_as(limit, "BAD_USER_INPUT", "input.earningsLimit")
        meeting = {
            "initiativeId": initiative,
            "title": "Workshop",
            "heldAt": "9999-12-31T23:59:59-14:00",
            "highLevel": False,
            "decisionMaking": False,
        }
        held = await graphql(
            http, write_input("scheduleMeeting"), {"input": meeting}, world.manager
        )
        refused_as(held, "BAD_USER_INPUT", "input.heldAt")
        surrogate = await http.post(
            "/graphql",
            content=(
                b'{"query": "mutation W($input: ScheduleMeetingInput!) '
                b'{ scheduleMeeting(input: $input) { id } }", "variables": {"input": '
                b'{"initiativeId": "' + initiative.encode() + b'", "title": "x\\ud800",'
                b' "heldAt": "2024-03-01T10:00:00Z", "highLevel": false, '
                b'"decisionMaking": false}}}'
            ),
            headers={
                "Authorization": f"Bearer {world.manager}",
                "Content-Type": "application/json",
            },
        )
        refused_as(surrogate, "BAD_USER_INPUT", "input.title")
        assert world.store.head() == before

    run(world, scenario)


# 8. Another organisation's record creation time leaks.


def test_another_organisations_record_looks_the_same_at_every_moment(
    world: World,
) -> None:
    other = world.store.records.register_organisation(name="Other", actor="t")
    their_auditor = world.store.token(other, Role.AUDITOR)
    ours = world.store.records.register_participant(
        organisation_id=world.organisation,
        actor="t",
        pseudonym="Amara",
        participant_kind=ParticipantKind.SERVICE_USER,
    )
    query = (
        "query R($id: ID!, $at: DateTime) { record(id: $id, asOf: $at) { version } }"
    )

    async def scenario(http: httpx.AsyncClient) -> None:
        answers = set()
        for at in (None, "1990-01-01T00:00:00Z", "2199-01-01T00:00:00Z"):
            response = await graphql(
                http, query, {"id": str(ours), "at": at}, their_auditor
            )
            (error,) = errors_of(response)
            answers.add((error["message"], error["extensions"]["code"]))
        assert len(answers) == 1, answers
        for version in (1, 99):
            response = await graphql(
                http,
                "query R($id: ID!, $v: Int) { record(id: $id, version: $v) { version } }",
                {"id": str(ours), "v": version},
                their_auditor,
            )
            (error,) = errors_of(response)
            answers.add((error["message"], error["extensions"]["code"]))
        assert len(answers) == 1, answers

    run(world, scenario)


# 9. Activity across organisations.


def test_integrity_counts_only_the_callers_own_events(world: World) -> None:
    other = world.store.records.register_organisation(name="Other", actor="t")
    for n in range(7):
        world.store.records.register_participant(
            organisation_id=other,
            actor="t",
            pseudonym=f"P{n}",
            participant_kind=ParticipantKind.CARER,
        )
    world.store.records.register_participant(
        organisation_id=world.organisation,
        actor="t",
        pseudonym="Amara",
        participant_kind=ParticipantKind.SERVICE_USER,
    )

    async def scenario(http: httpx.AsyncClient) -> None:
        ours = data_of(
            await graphql(
                http, "{ integrity { intact events head } }", token=world.auditor
            )
        )["integrity"]
        log = data_of(
            await graphql(
                http,
                "{ eventLog(first: 100) { edges { cursor } } }",
                token=world.auditor,
            )
        )
        assert ours["intact"]
        assert ours["events"] == len(log["eventLog"]["edges"])
        assert ours["events"] < world.store.head()
        # The head proves the whole log: it is the log's last position.
        assert ours["head"].startswith(f"{world.store.head()}:")
        assert (await http.get("/healthz")).json() == {"status": "ok"}

    run(world, scenario)


# 10. Small ones.


def test_a_control_character_in_an_idempotency_key_is_refused(world: World) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        before = world.store.head()
        response = await graphql(
            http,
            write_input("launchInitiative"),
            {"input": {**LAUNCH, "idempotencyKey": "key\u0000one"}},
            world.manager,
        )
        assert "control characters" in refused_as(
            response, "BAD_USER_INPUT", "input.idempotencyKey"
        )
        assert world.store.head() == before

    run(world, scenario)


@pytest.mark.parametrize("field", ["name", "idempotencyKey"])
def test_a_noncharacter_is_refused_so_the_workbook_export_still_opens(
    world: World, field: str, tmp_path: Path
) -> None:
    """U+FFFE and U+FFFF are not characters XML can hold: an initiative named with one
    (or a row key, which an idempotency key becomes) made every export of the
    organisation's workbook a file no spreadsheet program opens."""

    async def scenario(http: httpx.AsyncClient) -> None:
        before = world.store.head()
        for text in ("Peer support \uffff", "Peer support \ufffe"):
            response = await graphql(
                http,
                write_input("launchInitiative"),
                {"input": {**LAUNCH, field: text}},
                world.manager,
            )
            assert "U+FFFE or U+FFFF" in refused_as(
                response, "BAD_USER_INPUT", f"input.{field}"
            )
        assert world.store.head() == before

    run(world, scenario)
    path = tmp_path / "record.xlsx"
    export_workbook(world.store.records, world.organisation, path, personal_data=True)
    load_workbook(path).close()


def test_a_wrong_or_revoked_token_is_told_it_is_not_valid(world: World) -> None:
    revoked_id, revoked = world.store.records.issue_token(
        organisation_id=world.organisation, role=Role.MANAGER, actor="t"
    )
    world.store.records.revoke_token(token_id=revoked_id, actor="t")

    async def scenario(http: httpx.AsyncClient) -> None:
        for token in (revoked, world.manager[:-3] + "xyz"):
            response = await graphql(http, "{ me { role } }", token=token)
            assert "not valid" in refused_as(response, "UNAUTHENTICATED")
        missing = await graphql(http, "{ me { role } }")
        assert "is required" in refused_as(missing, "UNAUTHENTICATED")

    run(world, scenario)


def test_many_wrong_tokens_from_one_address_are_throttled(tmp_path) -> None:
    limits = ApiLimits(read_wait_seconds=5, max_bad_tokens=5)
    with api_store(f"sqlite:///{tmp_path}/s.sqlite3", limits) as store:
        organisation = store.records.register_organisation(name="Mind", actor="t")
        manager = store.token(organisation, Role.MANAGER)

        async def scenario() -> None:
            async with client(store) as http:
                for n in range(5):
                    wrong = await graphql(http, "{ me { role } }", token=f"wrong{n}")
                    assert code_of(wrong) == "UNAUTHENTICATED"
                refused = await graphql(http, "{ me { role } }", token=manager)
                assert refused.status_code == 429
                assert 0 < int(refused.headers["retry-after"]) <= 60
                assert code_of(refused) == "TOO_MANY_REQUESTS"
                # The window is the address's own: another address is not held up.
                other = httpx.AsyncClient(
                    transport=httpx.ASGITransport(
                        app=store.app, client=("10.0.0.9", 123)
                    ),
                    base_url="http://test",
                )
                async with other:
                    data_of(await graphql(other, "{ me { role } }", token=manager))

        asyncio.run(scenario())


# The fuzzing that found these, cheap enough to run every time.

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["query", "variables", "operationName", "extensions", "input", "x"]
            )
            | st.text(),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def test_no_body_is_ever_answered_with_a_server_error(tmp_path) -> None:
    """Random bytes and random JSON, as the body of a POST or the parameters of a
    GET: a 200, 400, 405 or 413 with GraphQL errors in JSON, never a 500."""
    import json

    with api_store(f"sqlite:///{tmp_path}/s.sqlite3", LIMITS) as store:
        organisation = store.records.register_organisation(name="Mind", actor="t")
        evaluator = store.token(organisation, Role.EVALUATOR)
        headers = {
            "Authorization": f"Bearer {evaluator}",
            "Content-Type": "application/json",
        }

        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None)
        @given(
            body=st.binary(max_size=200)
            | JSON_VALUES.map(lambda v: json.dumps(v).encode())
            | st.builds(
                lambda q, v, o: json.dumps(
                    {"query": q, "variables": v, "operationName": o}
                ).encode(),
                st.sampled_from(["{ me { role } }", "query A { me { role } }", ""])
                | st.text(max_size=30),
                JSON_VALUES,
                st.none() | st.text(max_size=5) | JSON_VALUES,
            ),
            as_get=st.booleans(),
        )
        def check(body: bytes, as_get: bool) -> None:
            async def send() -> httpx.Response:
                async with client(store) as http:
                    if as_get:
                        return await http.get(
                            "/graphql",
                            params={
                                "query": "{ me { role } }",
                                "variables": body.decode("latin-1"),
                            },
                            headers=headers,
                        )
                    return await http.post("/graphql", content=body, headers=headers)

            response = asyncio.run(send())
            assert response.status_code in (200, 400, 405, 413), response.text
            errors = response.json().get("errors") or []
            for error in errors:
                assert (error.get("extensions") or {}).get("code") in {
                    "BAD_USER_INPUT",
                    "UNAUTHENTICATED",
                    "FORBIDDEN",
                    "NOT_FOUND",
                    "QUERY_TOO_COSTLY",
                }, response.text

        check()
