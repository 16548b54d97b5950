"""Queries and mutations generated from the schema by hypothesis-graphql never make the API fail with a 500 or leave the store unsound."""

import asyncio
import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

import graphql as graphql_core
from fourpi.config import ApiLimits
from fourpi.demo import DemoSummary, create_demo
from fourpi.domain.access import Role
from fourpi.graphql.schema import build_schema
from tests.api import (
    EXPECTED_CODES,
    ApiStore,
    api_store,
    client,
    data_of,
    graphql,
    has_traceback,
    write_input,
)

SCHEMA = build_schema().as_str()

# Generous query limits: the limits have tests of their own, and here every generated
# document should reach the resolvers.
LIMITS = ApiLimits(max_tokens=20_000, max_aliases=100, read_wait_seconds=5)

FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@dataclass
class Demo:
    store: ApiStore
    summary: DemoSummary
    manager: str
    auditor: str
    admin: str
    ids: list[str]


def demo_ids(summary: DemoSummary) -> list[str]:
    """Every id the demo made, so generated requests name real records."""
    ids: list[UUID] = [
        summary.organisation_id,
        summary.policy_id,
        *summary.reference_population_ids,
    ]
    for initiative in summary.initiatives:
        ids += [
            initiative.initiative_id,
            *initiative.participant_ids,
            *initiative.role_ids,
            *initiative.outcome_ids,
            *initiative.meeting_ids,
            *initiative.contribution_ids,
            *initiative.change_ids,
            *initiative.payment_ids,
            *initiative.support_ids,
            *initiative.answer_ids,
        ]
    return [str(i) for i in ids]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.sqlite3"
    with api_store(url, LIMITS) as store:
        summary = create_demo(store.records)
        store.views.catch_up()
        manager = store.token(summary.organisation_id, Role.MANAGER)
        auditor = store.token(summary.organisation_id, Role.AUDITOR)
        admin = store.token(summary.organisation_id, Role.ADMIN)
        store.start_worker()
        yield Demo(store, summary, manager, auditor, admin, demo_ids(summary))


def scalars(ids: list[str]) -> dict[str, st.SearchStrategy[graphql_core.ValueNode]]:
    """Values of the custom scalars, as a client would send them."""
    return {
        "Date": st.dates(date(2019, 1, 1), date(2026, 12, 31)).map(
            lambda day: nodes.String(day.isoformat())
        ),
        "DateTime": st.datetimes(
            datetime(2019, 1, 1), datetime(2026, 12, 31), timezones=st.just(UTC)
        ).map(lambda moment: nodes.String(moment.isoformat())),
        "Decimal": st.decimals(
            Decimal("0.01"), Decimal("500"), places=2, allow_nan=False
        ).map(lambda amount: nodes.String(str(amount))),
        "JSON": st.just(nodes.String("{}")),
        # Mostly the demo's real ids, so writes and reads find their records.
        "ID": st.one_of(
            st.sampled_from(ids), st.sampled_from(ids), st.uuids().map(str)
        ).map(nodes.String),
    }


def assert_well_answered(response: Any) -> None:
    """Never a 5xx, never an unexpected error, every error with a code, no traceback."""
    assert response.status_code < 500, response.text
    assert not has_traceback(response.text), response.text
    if response.status_code == 200:
        body = response.json()
        for error in body.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            assert code in EXPECTED_CODES, response.text


def send(demo: Demo, document: str, token: str) -> None:
    async def request() -> None:
        async with client(demo.store) as http:
            assert_well_answered(await graphql(http, document, token=token))

    asyncio.run(request())


def schema_without(type_name: str, field: str) -> graphql_core.GraphQLSchema:
    """The schema less one optional input field: what it generates is still valid,
    and never sends both halves of an either-or input."""
    schema = graphql_core.build_schema(SCHEMA)
    input_type = schema.type_map[type_name]
    assert isinstance(input_type, graphql_core.GraphQLInputObjectType)
    assert graphql_core.is_nullable_type(input_type.fields[field].type)
    del input_type.fields[field]
    return schema


# asOf takes a position or a time, never both: each variant sends at most one.
AS_OF_BY_POSITION = schema_without("AsOfInput", "time")
AS_OF_BY_TIME = schema_without("AsOfInput", "position")
PARSED = graphql_core.build_schema(SCHEMA)
assert PARSED.query_type is not None and PARSED.mutation_type is not None
QUERY_FIELDS = sorted(PARSED.query_type.fields)
MUTATION_FIELDS = sorted(PARSED.mutation_type.fields)
ADMIN_MUTATIONS = ["issueToken", "registerOrganisation", "revokeToken"]
AUDITOR_ONLY = {"eventLog", "integrity"}


def documents(
    kind: Any,
    fields: list[str],
    ids: list[str],
    schemas: tuple[graphql_core.GraphQLSchema, ...] = (PARSED,),
) -> st.SearchStrategy[str]:
    """Documents of one to three of these root fields, each field's strategy built once."""
    custom = scalars(ids)
    one_each = {
        name: st.one_of(
            *(kind(schema, fields=[name], custom_scalars=custom) for schema in schemas)
        )
        for name in fields
    }
    several = st.one_of(
        *(kind(schema, fields=fields, custom_scalars=custom) for schema in schemas)
    )
    return st.sampled_from(fields).flatmap(one_each.__getitem__) | several


def test_every_custom_scalar_has_a_strategy() -> None:
    custom = {
        named.name
        for named in PARSED.type_map.values()
        if isinstance(named, graphql_core.GraphQLScalarType)
        and not named.name.startswith("__")
    }
    assert custom - {"String", "Int", "Float", "Boolean"} <= set(scalars(["x"]))


def test_generated_queries_are_answered_without_server_errors(demo: Demo) -> None:
    as_manager = documents(
        queries,
        [f for f in QUERY_FIELDS if f not in AUDITOR_ONLY],
        demo.ids,
        (AS_OF_BY_POSITION, AS_OF_BY_TIME),
    )
    as_auditor = documents(
        queries, QUERY_FIELDS, demo.ids, (AS_OF_BY_POSITION, AS_OF_BY_TIME)
    )

    @settings(FUZZ, max_examples=80)
    @given(
        st.tuples(as_manager, st.just(demo.manager))
        | st.tuples(as_auditor, st.just(demo.auditor))
    )
    def check(request: tuple[str, str]) -> None:
        send(demo, *request)

    check()


def test_generated_mutations_are_answered_without_server_errors(demo: Demo) -> None:
    by_manager = documents(
        mutations,
        [f for f in MUTATION_FIELDS if f not in ADMIN_MUTATIONS],
        demo.ids,
    )
    by_others = documents(mutations, MUTATION_FIELDS, demo.ids)

    @settings(FUZZ, max_examples=70)
    @given(
        st.tuples(by_manager, st.just(demo.manager))
        | st.tuples(by_others, st.sampled_from([demo.admin, demo.auditor]))
    )
    def check(request: tuple[str, str]) -> None:
        send(demo, *request)

    check()


def test_the_store_is_sound_after_the_generated_requests(demo: Demo) -> None:
    store = demo.store
    store.stop_worker()
    records = store.records
    stored = records.recorder.select_notifications(1, 10**9)
    assert len(stored) == store.head()
    latest: dict[Any, int] = {}
    organisations: set[UUID] = set()
    for notification in stored:
        latest[notification.originator_id] = notification.originator_version
        event: Any = records.mapper.to_domain_event(notification)
        organisations.add(event.organisation_id)
    for record_id, version in latest.items():
        assert records.repository.get(record_id).version == version

    assert store.views.catch_up() == store.head()
    before = {o: store.views.store.read_facts(o, store.head()) for o in organisations}
    assert store.views.rebuild() == store.head()
    after = {o: store.views.store.read_facts(o, store.head()) for o in organisations}
    assert after == before
    assert demo.summary.organisation_id in organisations


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_nul_character_in_a_text_never_stops_the_views(database_url: str) -> None:
    async def scenario(store: ApiStore) -> None:
        organisation = store.records.register_organisation(name="Mind", actor="test")
        manager = store.token(organisation, Role.MANAGER)
        async with client(store) as http:
            response = await graphql(
                http,
                write_input("registerParticipant"),
                {"input": {"pseudonym": "Ama\x00ra", "participantKind": "CARER"}},
                manager,
            )
            assert_well_answered(response)
            if "errors" in response.json():
                return  # refused as bad input: nothing for the views to choke on
            data_of(response)
        try:
            store.views.catch_up()
        except Exception as error:
            pytest.fail(f"the views cannot catch up any more: {error!r}")
        assert store.views.position() == store.head()

    with api_store(database_url, LIMITS) as store:
        asyncio.run(scenario(store))


# Regressions: requests that reached the resolvers and came back as server errors.

EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


@pytest.mark.parametrize("time", EDGE_TIMES)
def test_an_as_of_time_at_the_edge_of_the_calendar_is_a_client_error(
    database_url: str, time: str
) -> None:
    async def scenario(store: ApiStore) -> None:
        organisation = store.records.register_organisation(name="Mind", actor="test")
        auditor = store.token(organisation, Role.AUDITOR)
        store.views.catch_up()
        async with client(store) as http:
            response = await graphql(
                http,
                "query($time: DateTime!) { differences(asOf: {time: $time}) "
                "{ position } }",
                {"time": time},
                auditor,
            )
            assert_well_answered(response)

    with api_store(database_url, LIMITS) as store:
        asyncio.run(scenario(store))


def forged_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"position:{position}".encode()).decode()


@pytest.mark.parametrize(
    "database_url",
    [
        pytest.param(
            "sqlite",
        ),
        "postgresql",
    ],
    indirect=True,
)
def test_a_forged_cursor_past_every_position_is_answered(database_url: str) -> None:
    async def scenario(store: ApiStore) -> None:
        organisation = store.records.register_organisation(name="Mind", actor="test")
        auditor = store.token(organisation, Role.AUDITOR)
        store.views.catch_up()
        async with client(store) as http:
            for position in (2**63, 10**30):
                response = await graphql(
                    http,
                    "query($after: String) { eventLog(after: $after) "
                    "{ edges { cursor } } }",
                    {"after": forged_cursor(position)},
                    auditor,
                )
                assert_well_answered(response)
            ordinary = await graphql(
                http,
                "query($after: String) { eventLog(after: $after) { edges { cursor } } }",
                {"after": forged_cursor(2**63 - 1)},
                auditor,
            )
            assert data_of(ordinary) == {"eventLog": {"edges": []}}

    with api_store(database_url, LIMITS) as store:
        asyncio.run(scenario(store))
