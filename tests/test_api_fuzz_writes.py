"""Every mutation sent with arbitrary and badly typed variables: a refused write leaves the store as it was and says which field, in the client's words; an accepted one leaves every answer, record list, the audit chain and the other organisation's answers readable for every role."""

import asyncio
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from psycopg import sql

import graphql as graphql_core
from fourpi.audit import export_log, verify_export
from fourpi.config import ApiLimits
from fourpi.demo import DemoSummary, create_demo
from fourpi.domain.access import Role, token_id_for
from fourpi.domain.vocabulary import (
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    ParticipantKind,
)
from fourpi.graphql.context import Caller
from fourpi.graphql.schema import build_schema
from fourpi.web import answers as web
from fourpi.web.downloads import csv_of, xlsx_of
from fourpi.web.report import make_report
from fourpi.workbook import import_path
from fourpi.workbook.exporting import export_rows
from fourpi.workbook.writing import write_workbook
from tests.api import (
    EXPECTED_CODES,
    GRAPHQL_RESPONSE,
    JSON,
    ApiStore,
    api_store,
    client,
    data_of,
    errors_of,
    graphql,
    has_traceback,
    write_input,
)
from tests.conftest import needs_postgres
from tests.helpers import POSTGRES_URL
from tests.test_api_fuzz import demo_ids
from tests.test_graphql_answers import ANSWERS
from tests.test_graphql_mutations import launching

SCHEMA = graphql_core.build_schema(build_schema().as_str())
assert SCHEMA.mutation_type is not None and SCHEMA.query_type is not None
MUTATIONS = SCHEMA.mutation_type.fields
ADMIN_ONLY = {"issueToken", "registerOrganisation", "revokeToken", "eraseParticipant"}
ADMIN_ONLY |= {"setSuppressionThreshold"}
LIMITS = ApiLimits(
    max_tokens=50_000,
    max_aliases=200,
    max_query_cost=100_000,
    max_page_size=1_000,
    read_wait_seconds=5,
)
HUNTING = os.environ.get("FOURPI_FUZZ_EXAMPLES")
"""Set for a longer hunt: that many random examples, new ones each run."""
FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=not HUNTING,
    max_examples=int(HUNTING or 60),
    suppress_health_check=list(HealthCheck),
)
NAMES_PEOPLE = {"paymentsAndBenefits"}
LISTS = ["participants", "contributions", "meetings", "changes"]


def selection(of: graphql_core.GraphQLOutputType, depth: int = 0) -> str:
    """Every field of an output type, nested to its leaves (arguments left out)."""
    named = graphql_core.get_named_type(of)
    if not isinstance(named, graphql_core.GraphQLObjectType):
        return ""
    parts = []
    for name, child in named.fields.items():
        if any(graphql_core.is_non_null_type(a.type) for a in child.args.values()):
            continue
        parts.append(name + selection(child.type, depth + 1))
    return " { " + " ".join(parts) + " }"


def root(name: str) -> str:
    assert SCHEMA.query_type is not None
    return name + selection(SCHEMA.query_type.fields[name].type)


def answers_document(names_people: bool) -> str:
    fields = [a for a in ANSWERS if names_people or a not in NAMES_PEOPLE]
    by_initiative = [
        f"i_{a}: {root(a).replace(a, a + '(slice: $slice, asOf: $asOf)', 1)}"
        for a in fields
    ]
    return (
        "query Answers($slice: SliceInput, $asOf: AsOfInput) { "
        + " ".join(root(a) for a in fields)
        + " "
        + " ".join(by_initiative)
        + " }"
    )


def lists_document() -> str:
    return (
        "query Lists { "
        + " ".join(root(f).replace(f, f + "(first: 1000)", 1) for f in LISTS)
        + " "
        + root("initiatives")
        + " "
        + root("organisation")
        + " }"
    )


AUDIT_DOCUMENT = (
    "query Audit { integrity { intact } eventLog(first: 5) { edges { cursor } } }"
)


@dataclass
class Fuzzed:
    """The store under fuzz: the demo organisation, written to; another, never."""

    store: ApiStore
    own: UUID
    other: UUID
    tokens: dict[str, str]
    other_tokens: dict[str, str]
    pools: dict[str, list[str]]
    initiative: str
    other_answers: dict[str, Any] = field(default_factory=dict)


def tokens_of(store: ApiStore, organisation: UUID) -> dict[str, str]:
    return {
        "manager": store.token(organisation, Role.MANAGER),
        "evaluator": store.token(organisation, Role.EVALUATOR),
        "auditor": store.token(organisation, Role.AUDITOR),
        "auditor+personal": store.token(organisation, Role.AUDITOR, personal_data=True),
        "manager+personal": store.token(organisation, Role.MANAGER, personal_data=True),
        "admin": store.token(organisation, Role.ADMIN),
        "global admin": store.token(None, Role.ADMIN),
    }


def other_organisation(store: ApiStore) -> tuple[UUID, list[str]]:
    """A small second organisation whose records the fuzz names but must not touch."""
    records = store.records
    other = records.register_organisation(name="Other trust", actor="test")
    initiative = records.launch_initiative(
        organisation_id=other,
        actor="test",
        name="Theirs",
        level=InvolvementLevel.STRATEGIC,
        involvement_kind=InvolvementKind.CO_PRODUCTION,
        methods=(InvolvementMethod.WORKSHOP,),
        purpose="Theirs.",
        limits_of_influence="None.",
        started_on=date(2024, 1, 1),
    )
    person = records.register_participant(
        organisation_id=other,
        actor="test",
        pseudonym="Theirs 1",
        participant_kind=ParticipantKind.SERVICE_USER,
    )
    return other, [str(initiative), str(person)]


def pools_of(
    summary: DemoSummary, theirs: list[str], store: ApiStore
) -> dict[str, list[str]]:
    """The demo's ids by the kind of record a field names (initiativeId, contributorIds)."""
    pools: dict[str, list[str]] = {"organisation": [str(summary.organisation_id)]}
    kinds = {
        "initiative": "initiative_id",
        "participant": "participant_ids",
        "contributor": "participant_ids",
        "role": "role_ids",
        "outcome": "outcome_ids",
        "meeting": "meeting_ids",
        "contribution": "contribution_ids",
        "change": "change_ids",
        "payment": "payment_ids",
        "record": "answer_ids",
    }
    for kind, attribute in kinds.items():
        pools[kind] = []
        for initiative in summary.initiatives:
            found = getattr(initiative, attribute)
            pools[kind] += [
                str(i) for i in (found if isinstance(found, tuple) else [found])
            ]
    # Tokens only to revoke: the fuzz's own tokens must keep working.
    spare = [store.token(summary.organisation_id, Role.MANAGER) for _ in range(3)]
    pools["token"] = [str(token_id_for(secret)) for secret in spare]
    pools["any"] = demo_ids(summary)
    pools["other"] = theirs
    return pools


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Fuzzed]:
    """The demo in a store of its own, on each database (they differ in what text
    and numbers they keep), with a second organisation beside it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('writes')}/writes.sqlite3"
        with fuzzed_store(url) as fuzzed:
            yield fuzzed
        return
    needs_postgres()
    schema = f"test_{uuid4().hex[:12]}"
    try:
        with fuzzed_store(f"{POSTGRES_URL}?schema={schema}") as fuzzed:
            yield fuzzed
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(schema)
                )
            )


@contextmanager
def fuzzed_store(url: str) -> Iterator[Fuzzed]:
    with api_store(url, LIMITS) as store:
        summary = create_demo(store.records)
        other, their_ids = other_organisation(store)
        own = summary.organisation_id
        first = summary.initiatives[0]
        # An erased person and an ended role: writes that name them must be refused
        # or handled, never break the answers.
        store.records.erase_participant(
            organisation_id=own, actor="test", participant_id=first.participant_ids[-1]
        )
        fuzzed = Fuzzed(
            store,
            own,
            other,
            tokens_of(store, own),
            tokens_of(store, other),
            pools_of(summary, their_ids, store),
            str(first.initiative_id),
        )
        store.views.catch_up()
        fuzzed.other_answers = run(other_answers(fuzzed))
        yield fuzzed


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


# Values a client can send: well typed, odd, and badly typed.

ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\ud800",
        "\udfff lone",
        "\u202e reversed",
        "\ufeff",
        "e\u0301",
        "\U0001f600",
        "\n\r\t",
        "x" * 20_000,
        "<script>alert(1)</script>",
        "'; DROP TABLE events; --",
        "=1+1",
        "\u0000\u0001\u001f\u007f",
    ]
)
TEXT = st.text(max_size=30) | ODD_TEXT
ODD_DATES = st.sampled_from(
    [
        "0001-01-01",
        "1899-12-31",
        "1900-01-01",
        "2199-12-31",
        "2200-01-01",
        "9999-12-31",
        "10000-01-01",
        "2024-02-30",
        "2024-1-1",
        "2024-01-01T00:00:00",
        "",
        "today",
        "-2024-01-01",
        "+2024-01-01",
        "\uff12\uff10\uff12\uff14-01-01",
    ]
)
DATES = (
    st.dates(date(2019, 1, 1), date(2026, 12, 31)).map(date.isoformat)
    | st.dates().map(date.isoformat)
    | ODD_DATES
)
ODD_TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00+25:00",
        "2024-03-31T01:30:00+01:00",
        "2024-01-01",
        "2024-01-01T24:00:00Z",
    ]
)
TIMES = (
    st.datetimes(
        timezones=st.timezones() | st.none(),
    ).map(lambda moment: moment.isoformat())
    | ODD_TIMES
)
DECIMALS = st.sampled_from(
    [
        "0",
        "-1",
        "-0.01",
        "0.001",
        "1e400",
        "1E+2",
        "NaN",
        "-Infinity",
        "Infinity",
        "sNaN",
        "12.5",
        "99999999999999999999999999999999.99",
        "١٢",
        " 5 ",
        "5,00",
        "",
    ]
) | st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str)
INTS = st.integers(-3, 30) | st.sampled_from(
    [2**31 - 1, -(2**31), 2**31, 2**63, -(2**63) - 1, 10**30]
)
ZONES = st.sampled_from(
    [timezone(timedelta(minutes=m)) for m in (0, 60, -300, 345, 840, -720)]
)
"""Zones as ISO writes them: a zone of seconds (a city's mean time before 1900)
is refused by the DateTime scalar, rightly."""
BAD = st.sampled_from([None, 1.5, True, [], {}, "1", -1, {"a": 1}, ["x"]])


def values(
    of: graphql_core.GraphQLInputType,
    pools: dict[str, list[str]],
    name: str = "",
    odd: bool = False,
) -> st.SearchStrategy[Any]:
    """Values for one input field: plausible ones (an id of the right kind, by the
    field's name; a day in range; any text), or, when odd, the edges and the wrong:
    any record's id, another organisation's, an unknown one, far days, odd numbers."""
    if isinstance(of, graphql_core.GraphQLNonNull):
        return values(of.of_type, pools, name, odd)
    if isinstance(of, graphql_core.GraphQLList):
        item = values(of.of_type, pools, name, odd)
        if not odd:
            return st.lists(item, min_size=1, max_size=3, unique_by=repr)
        return st.one_of(
            st.lists(item, max_size=4),
            item.map(lambda one: [one, one]),
            item.map(lambda one: [one] * 2_000),
        )
    if isinstance(of, graphql_core.GraphQLEnumType):
        plain = st.sampled_from(sorted(of.values))
        if not odd:
            return plain
        return st.sampled_from(["", "done", sorted(of.values)[0].lower()])
    if isinstance(of, graphql_core.GraphQLInputObjectType):
        required = {
            field: values(f.type, pools, field, odd)
            for field, f in of.fields.items()
            if graphql_core.is_required_input_field(f)
        }
        optional = {
            field: values(f.type, pools, field, odd) | st.none()
            for field, f in of.fields.items()
            if not graphql_core.is_required_input_field(f)
        }
        return st.fixed_dictionaries(required, optional=optional)
    assert isinstance(of, graphql_core.GraphQLScalarType)
    if of.name == "ID":
        kind = name.removesuffix("s").removesuffix("Id")
        right = pools.get(kind) or pools["any"]
        if not odd:
            return st.sampled_from(right)
        return st.one_of(
            st.sampled_from(pools["any"]),
            st.sampled_from(pools["other"]),
            st.uuids().map(str),
            TEXT,
        )
    if of.name == "Int" and name == "number" and not odd:
        return st.integers(1, 3)
    if name == "idempotencyKey" and not odd:
        # A few keys, so that some are reused with another write.
        return st.sampled_from(["k1", "k2", "k3"])
    plain_scalars: dict[str, st.SearchStrategy[Any]] = {
        "String": st.text(st.characters(codec="utf-8"), min_size=1, max_size=30),
        "Int": st.integers(0, 30),
        "Boolean": st.booleans(),
        "Date": st.dates(date(2019, 1, 1), date(2026, 12, 31)).map(date.isoformat),
        "DateTime": st.datetimes(
            datetime(2019, 1, 1), datetime(2026, 12, 31), timezones=ZONES
        ).map(datetime.isoformat),
        "Decimal": st.decimals(Decimal("0.01"), Decimal("300"), places=2).map(str),
        "Float": st.floats(0, 100),
    }
    odd_scalars: dict[str, st.SearchStrategy[Any]] = {
        "String": TEXT,
        "Int": INTS,
        "Boolean": BAD,
        "Date": DATES,
        "DateTime": TIMES,
        "Decimal": DECIMALS,
        "Float": st.floats(),
    }
    return (odd_scalars if odd else plain_scalars)[of.name]


def input_type(mutation: str) -> graphql_core.GraphQLInputType:
    argument = MUTATIONS[mutation].args["input"]
    return argument.type


def spoiled(
    given: dict[str, Any], of: graphql_core.GraphQLInputObjectType
) -> st.SearchStrategy[dict[str, Any]]:
    """The input with one field missing, of a wrong type, or one the schema lacks."""
    names = sorted(of.fields)
    return st.one_of(
        st.sampled_from(names).map(
            lambda name: {k: v for k, v in given.items() if k != name}
        ),
        st.tuples(st.sampled_from(names), BAD).map(
            lambda wrong: {**given, wrong[0]: wrong[1]}
        ),
        st.just({**given, "organisationId": given.get("initiativeId", "x")}),
    )


def inputs(
    mutation: str, pools: dict[str, list[str]]
) -> st.SearchStrategy[dict[str, Any]]:
    """Plausible inputs; some with one field odd; some spoiled."""
    of = graphql_core.get_named_type(input_type(mutation))
    assert isinstance(of, graphql_core.GraphQLInputObjectType)
    plain = values(of, pools)
    one_odd = st.tuples(plain, st.sampled_from(sorted(of.fields))).flatmap(
        lambda chosen: values(of.fields[chosen[1]].type, pools, chosen[1], True).map(
            lambda odd: {**chosen[0], chosen[1]: odd}
        )
    )
    return st.one_of(
        plain, plain, one_odd, one_odd, plain.flatmap(lambda given: spoiled(given, of))
    )


def write_document(mutation: str) -> str:
    named = graphql_core.get_named_type(input_type(mutation))
    payload = selection(MUTATIONS[mutation].type)
    return f"mutation Write($input: {named.name}!) {{ {mutation}(input: $input){payload} }}"


# What must hold after every request.


def assert_well_answered(response: Any, sent: Any) -> list[dict[str, Any]]:
    """Never a 5xx or a traceback; every error with an expected code; the errors."""
    assert response.status_code < 500, (sent, response.text)
    assert not has_traceback(response.text), response.text
    body = response.json()
    errors: list[dict[str, Any]] = body.get("errors") or []
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        assert code in EXPECTED_CODES, (sent, response.text)
    return errors


def assert_names_the_field(error: dict[str, Any]) -> None:
    """A refusal about a field starts with it in the client's words (input.madeOn,
    never input.made_on); one the schema refused says where (at .madeOn)."""
    named = (error.get("extensions") or {}).get("field")
    if named is None:
        return
    assert named.startswith("input"), error
    assert error["message"].startswith(f"{named}: "), error
    assert "_" not in named, error


async def answers_for_every_role(
    fuzzed: Fuzzed, tokens: dict[str, str], asked: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every answer, now and as `asked` (a slice and a moment), for every role,
    without an error and without a small number shown: what each role saw."""
    store = fuzzed.store
    seen: dict[str, Any] = {}
    async with client(store) as http:
        for role, token in tokens.items():
            if role.endswith("admin"):
                continue
            names_people = role.endswith("+personal")
            response = await graphql(
                http, answers_document(names_people), asked or {}, token
            )
            assert response.status_code == 200, (role, response.text)
            body = response.json()
            assert "errors" not in body, (role, body["errors"])
            seen[role] = body["data"]
            if not role.endswith("+personal"):
                threshold = store.records.organisation(
                    fuzzed.own if tokens is fuzzed.tokens else fuzzed.other
                ).suppression_threshold
                assert small_numbers(body["data"], threshold) == [], role
            if role == "evaluator":
                continue
            lists = await graphql(http, lists_document(), None, token)
            assert lists.status_code == 200, (role, lists.text)
            assert "errors" not in lists.json(), (role, lists.json()["errors"])
            seen[role + " lists"] = lists.json()["data"]
            if role.startswith("auditor"):
                audit = await graphql(http, AUDIT_DOCUMENT, None, token)
                assert "errors" not in audit.json(), (role, audit.json())
                assert audit.json()["data"]["integrity"]["intact"] is True
    return seen


def small_numbers(answer: Any, threshold: int, at: str = "") -> list[str]:
    """Where an answer shows a count of people from 1 to below the threshold."""
    if isinstance(answer, list):
        return [
            f
            for i, v in enumerate(answer)
            for f in small_numbers(v, threshold, f"{at}.{i}")
        ]
    if not isinstance(answer, dict):
        return []
    if answer.keys() >= {"value", "suppressed"} and not answer["suppressed"]:
        value = answer["value"]
        return (
            [f"{at}={value}"]
            if isinstance(value, int) and 0 < value < threshold
            else []
        )
    return [
        f for k, v in answer.items() for f in small_numbers(v, threshold, f"{at}.{k}")
    ]


def without_positions(answer: Any) -> Any:
    """An answer less its log positions, which move with any organisation's writes."""
    if isinstance(answer, dict):
        return {
            k: without_positions(v)
            for k, v in answer.items()
            if k not in {"position", "logPosition"}
        }
    if isinstance(answer, list):
        return [without_positions(v) for v in answer]
    return answer


async def other_answers(fuzzed: Fuzzed) -> dict[str, Any]:
    seen = await answers_for_every_role(fuzzed, fuzzed.other_tokens, None)
    return without_positions(seen)


def events(store: ApiStore) -> list[Any]:
    return [
        (n.originator_id, n.originator_version, n.topic, n.state)
        for n in store.records.recorder.select_notifications(1, 10**9)
    ]


async def write(
    fuzzed: Fuzzed,
    mutation: str,
    given: dict[str, Any],
    token: str,
    asked: dict[str, Any],
) -> None:
    store = fuzzed.store
    head = store.head()
    body = json.dumps(
        {"query": write_document(mutation), "variables": {"input": given}}
    )
    async with client(store) as http:
        response = await http.post(
            "/graphql",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": JSON},
        )
    errors = assert_well_answered(response, (mutation, given))
    event(f"{mutation}: {'refused' if errors else 'accepted'}")
    if errors:
        assert store.head() == head, ("a refused write recorded", mutation, given)
        for error in errors:
            assert_names_the_field(error)
        return
    store.views.catch_up()
    await answers_for_every_role(fuzzed, fuzzed.tokens, asked)
    if token != fuzzed.tokens["global admin"]:  # which may write to any organisation
        assert await other_answers(fuzzed) == fuzzed.other_answers


def asking(pools: dict[str, list[str]]) -> st.SearchStrategy[dict[str, Any]]:
    """A slice of the answers (an initiative, an area, a cycle, a period) and a
    moment (a log position or a time, far in the past or future too)."""
    assert SCHEMA.query_type is not None
    slice_type = SCHEMA.type_map["SliceInput"]
    assert isinstance(slice_type, graphql_core.GraphQLInputObjectType)
    areas = graphql_core.get_named_type(slice_type.fields["impactArea"].type)
    assert isinstance(areas, graphql_core.GraphQLEnumType)
    day = st.dates().map(date.isoformat)
    slices = st.fixed_dictionaries(
        {},
        optional={
            "initiativeId": st.sampled_from(pools["initiative"]),
            "impactArea": st.sampled_from(sorted(areas.values)),
            "cycle": st.integers(1, 3),
            "periodFrom": day,
        },
    ).flatmap(
        lambda chosen: (
            st.just(chosen)
            | day.filter(lambda to: to >= chosen.get("periodFrom", "")).map(
                lambda to: {**chosen, "periodTo": to}
            )
        )
    )
    moments = st.one_of(
        st.none(),
        st.integers(0, 600).map(lambda position: {"position": position}),
        st.datetimes(timezones=ZONES)
        .filter(lambda moment: 1 < moment.astimezone(UTC).year < 9999)
        .map(lambda moment: {"time": moment.isoformat()}),
    )
    return st.fixed_dictionaries({"slice": slices | st.none(), "asOf": moments})


def test_the_answers_survive_every_write(fuzzed: Fuzzed) -> None:
    names = sorted(MUTATIONS)
    requests = st.sampled_from(names).flatmap(
        lambda name: st.tuples(
            st.just(name),
            inputs(name, fuzzed.pools),
            st.sampled_from(
                ["admin", "global admin"] if name in ADMIN_ONLY else ["manager"] * 4
            )
            | st.sampled_from(["manager", "evaluator", "auditor", "admin"]),
        )
    )

    @FUZZ
    @given(requests, asking(fuzzed.pools))
    def check(request: tuple[str, dict[str, Any], str], asked: dict[str, Any]) -> None:
        mutation, given_input, role = request
        run(write(fuzzed, mutation, given_input, fuzzed.tokens[role], asked))

    check()


def assert_reports(fuzzed: Fuzzed, secret: str) -> None:
    """The report, the answer page's tables, their CSV and xlsx downloads, for the
    caller of this token: of the organisation, and of its first initiative."""
    store = fuzzed.store
    token = store.records.authenticate(secret)
    assert token is not None
    caller = Caller.of(token)
    for each in (web.AnswerSlice(), web.AnswerSlice(UUID(fuzzed.initiative))):
        html = run(make_report(store.records, store.views, caller, each, None, "html"))
        assert b"GRIPP2" in html
        answers = run(web.gather(store.records, store.views, caller, each, None))
        tables = web.all_tables(answers)
        assert [csv_of(t) for t in tables]
        assert xlsx_of(answers, tables)


def test_the_record_exports_and_rebuilds_after_the_writes(
    fuzzed: Fuzzed, tmp_path: Path
) -> None:
    """What the writes left behind exports as a workbook that imports again without
    a problem, makes reports and downloads for every role, exports as a log that
    verifies, and rebuilds into the same views."""
    store = fuzzed.store
    for organisation in (fuzzed.own, fuzzed.other):
        for personal_data in (False, True):
            rows = export_rows(store.records, organisation, personal_data=personal_data)
            path = tmp_path / f"{organisation}-{personal_data}.xlsx"
            write_workbook(path, rows)
            if personal_data:
                report = import_path(
                    store.records, "A copy", path, actor="test", dry_run=True
                )
                assert report.problems == [], report.problems
    for role in ("evaluator", "manager+personal"):  # the least shown, and the most
        assert_reports(fuzzed, fuzzed.tokens[role])
    log = tmp_path / "log.ndjson"
    with log.open("wb") as out:
        exported = export_log(store.records.recorder, out)
    # PostgreSQL may leave gaps in the positions (a write that lost a race).
    assert exported == len(events(store)) == verify_export(log)
    assert store.views.catch_up() == store.head()
    before = {
        o: store.views.store.read_facts(o, store.head())
        for o in (fuzzed.own, fuzzed.other)
    }
    assert store.views.rebuild() == store.head()
    after = {
        o: store.views.store.read_facts(o, store.head())
        for o in (fuzzed.own, fuzzed.other)
    }
    assert after == before


# Regressions: what the fuzz found.


def test_a_refusal_of_a_record_names_the_field_as_the_client_sent_it(
    database_url: str,
) -> None:
    """A write naming a record that does not exist was refused in words that did not
    say which of its ids was at fault ('participant … does not exist', for an input
    with an initiative, a meeting and several contributors); so were an unknown
    record and a log position past the views. The message now starts with the field,
    as every other refusal's does."""

    async def scenario(store: ApiStore) -> None:
        organisation = store.records.register_organisation(name="Mind", actor="test")
        manager = store.token(organisation, Role.MANAGER)
        auditor = store.token(organisation, Role.AUDITOR)
        async with client(store) as http:
            launched = await graphql(
                http,
                write_input("launchInitiative"),
                {"input": launching()},
                manager,
            )
            initiative = data_of(launched)["launchInitiative"]["id"]
            stranger = str(uuid4())
            store.views.catch_up()
            head = store.head()
            refusals = [
                (
                    write_input("logContribution"),
                    {
                        "input": {
                            "initiativeId": initiative,
                            "contributorIds": [stranger],
                            "nature": "IDEA",
                            "summary": "An idea.",
                            "impactAreas": ["DELIVERY"],
                            "madeOn": "2024-02-01",
                        }
                    },
                    manager,
                    "input.contributorIds",
                ),
                (
                    "query($id: ID!) { record(id: $id) { version } }",
                    {"id": stranger},
                    auditor,
                    "id",
                ),
                (
                    "query { differences(asOf: {position: 2147483647}) { position } }",
                    None,
                    auditor,
                    "asOf.position",
                ),
            ]
            for document, variables, token, field in refusals:
                response = await graphql(http, document, variables, token)
                (error,) = errors_of(response)
                assert error["extensions"]["field"] == field
                assert error["message"].startswith(f"{field}: "), error["message"]
            assert store.head() == head

    with api_store(database_url, LIMITS) as store:
        asyncio.run(scenario(store))


# The query side: whatever arrives, an answer with a code, never a 5xx.

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | TEXT,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["p", "t", "slice", "asOf", "x"]), inner)
    ),
    max_leaves=8,
)
QUERIES = [
    "query Q($p: Int, $t: DateTime) { differences(asOf: {position: $p, time: $t}) "
    "{ position } }",
    "query Q($slice: SliceInput, $asOf: AsOfInput) { presence(slice: $slice, "
    "asOf: $asOf) { position } cycles(slice: $slice) { position } }",
    'query Q($p: Int) { history(recordId: "x", first: $p) { edges { cursor } } }',
    "query Q($x: String) { eventLog(after: $x) { edges { cursor } } }",
    "query Q($x: ID!, $p: Int, $t: DateTime) { record(id: $x, version: $p, asOf: $t) "
    "{ version } }",
    "query Q { " + " ".join(f"a{i}: me {{ role }}" for i in range(20)) + " }",
    "query Q { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
    "query Q { me { role } } query R { organisation { name } }",
    '{ integrity(anchor: "99999999999999999999:ab") { intact } }',
    "mutation Q($x: ID!) { endRole(input: {initiativeId: $x, roleId: $x, "
    'endedOn: "2024-01-01"}) { id } }',
    "subscription Q { me { role } }",
    "",
]
CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "application/graphql-response+json",
    "application/graphql",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
]


def test_any_request_is_answered_with_a_code(fuzzed: Fuzzed) -> None:
    body = st.fixed_dictionaries(
        {"query": st.sampled_from(QUERIES) | JSON_VALUES},
        optional={
            "variables": st.dictionaries(
                st.sampled_from(["p", "t", "x", "slice", "asOf"]), JSON_VALUES
            )
            | JSON_VALUES,
            "operationName": st.sampled_from(["Q", "R", "Z", ""]) | JSON_VALUES,
            "extensions": JSON_VALUES,
        },
    )
    requests = st.tuples(
        st.sampled_from(["GET", "POST"]),
        body | st.lists(body, max_size=2),
        st.sampled_from(CONTENT_TYPES),
        st.sampled_from(["application/json", GRAPHQL_RESPONSE, "text/html", "*/*"]),
        st.sampled_from(sorted(fuzzed.tokens)),
    )

    async def send(request: tuple[str, Any, str, str, str]) -> None:
        method, sent, content_type, accept, role = request
        headers = {
            "Authorization": f"Bearer {fuzzed.tokens[role]}",
            "Content-Type": content_type,
            "Accept": accept,
        }
        async with client(fuzzed.store) as http:
            if method == "GET":
                params = {
                    k: v if isinstance(v, str) else json.dumps(v)
                    for k, v in (sent.items() if isinstance(sent, dict) else [])
                }
                response = await http.get("/graphql", params=params, headers=headers)
            else:
                response = await http.post(
                    "/graphql", content=json.dumps(sent), headers=headers
                )
        if "text/html" in response.headers.get("content-type", ""):
            assert response.status_code == 200
            return
        assert_well_answered(response, request)

    head = fuzzed.store.head()

    @FUZZ
    @given(requests)
    def check(request: tuple[str, Any, str, str, str]) -> None:
        run(send(request))

    check()
    assert fuzzed.store.head() - head <= 1  # at most a role ended, by a manager
