"""The API's limits and its GraphQL-over-HTTP behaviour: a refusal is a clear client error with the right status, never a 500."""

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fourpi.config import ApiLimits
from fourpi.domain.access import Role
from tests.api import (
    GRAPHQL_RESPONSE,
    ApiStore,
    api_store,
    client,
    code_of,
    codes_of,
    data_of,
    errors_of,
    graphql,
    has_traceback,
    write_input,
)
from tests.helpers import post_scope

LIMITS = ApiLimits(
    # The schema's deepest path (presence.diversity.rows.share.value) is depth 4, so
    # a limit of 4 or more can never refuse a valid query: 3 is the one that bites.
    max_depth=3,
    max_tokens=300,
    max_aliases=3,
    max_body_bytes=2_000,
    max_page_size=10,
    read_wait_seconds=1,
)

DEEP = "{ presence { diversity { rows { share { value } } } } }"
SHALLOW = "{ differences { changes { changeId } } }"
MANY_TOKENS = "{ " + " ".join(["me { role }"] * 80) + " }"
MANY_ALIASES = "{ a: me { role } b: me { role } c: me { role } d: me { role } }"
SYNTAX_ERROR = "{ me { role } "
LAUNCH = {
    "name": "Peer support",
    "level": "COMMUNITY",
    "involvementKind": "PARTICIPATION",
    "methods": ["FOCUS_GROUP"],
    "purpose": "Shape peer support.",
    "limitsOfInfluence": "None stated.",
    "startedOn": "2024-02-01",
}


@dataclass
class Limited:
    store: ApiStore
    manager: str
    auditor: str


@pytest.fixture
def limited(tmp_path) -> Iterator[Limited]:
    with api_store(f"sqlite:///{tmp_path}/limits.sqlite3", LIMITS) as store:
        organisation = store.records.register_organisation(name="Mind", actor="test")
        manager = store.token(organisation, Role.MANAGER)
        auditor = store.token(organisation, Role.AUDITOR)
        store.views.catch_up()
        yield Limited(store, manager, auditor)


def run(limited: Limited, scenario: Any) -> Any:
    async def inside() -> Any:
        async with client(limited.store) as http:
            return await scenario(http)

    return asyncio.run(inside())


async def both_ways(
    http: httpx.AsyncClient, query: str, token: str
) -> tuple[httpx.Response, httpx.Response]:
    """The same request asking for plain JSON, then for the GraphQL response type."""
    as_json = await graphql(
        http, query, token=token, headers={"Accept": "application/json"}
    )
    as_graphql = await graphql(
        http, query, token=token, headers={"Accept": GRAPHQL_RESPONSE}
    )
    return as_json, as_graphql


def assert_refused_before_execution(
    as_json: httpx.Response, as_graphql: httpx.Response, words: str
) -> None:
    """A request refused before it ran: 200 as JSON, 400 as the GraphQL type, no data."""
    assert as_json.status_code == 200
    assert as_json.headers["content-type"] == "application/json"
    assert as_graphql.status_code == 400
    assert as_graphql.headers["content-type"] == GRAPHQL_RESPONSE
    for response in (as_json, as_graphql):
        body = response.json()
        assert "data" not in body
        (error,) = errors_of(response)
        assert words in error["message"], error["message"]
        assert not has_traceback(response.text)


def test_a_query_deeper_than_the_limit_is_refused(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        as_json, as_graphql = await both_ways(http, DEEP, limited.auditor)
        assert_refused_before_execution(
            as_json, as_graphql, "exceeds maximum operation depth of 3"
        )
        assert code_of(as_json) == code_of(as_graphql) == "BAD_USER_INPUT"
        data_of(await graphql(http, SHALLOW, token=limited.auditor))

    run(limited, scenario)


def test_a_query_with_too_many_tokens_is_refused(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        as_json, as_graphql = await both_ways(http, MANY_TOKENS, limited.auditor)
        assert_refused_before_execution(as_json, as_graphql, "more than 300 tokens")
        few = "{ " + " ".join(["me { role }"] * 3) + " }"
        data_of(await graphql(http, few, token=limited.auditor))

    run(limited, scenario)


def test_a_query_with_too_many_aliases_is_refused(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        as_json, as_graphql = await both_ways(http, MANY_ALIASES, limited.auditor)
        assert_refused_before_execution(
            as_json, as_graphql, "4 aliases found. Allowed: 3"
        )
        assert code_of(as_json) == "BAD_USER_INPUT"
        three = "{ a: me { role } b: me { role } c: me { role } }"
        assert data_of(await graphql(http, three, token=limited.auditor))["c"] == {
            "role": "AUDITOR"
        }

    run(limited, scenario)


def test_a_parse_error_carries_a_code(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        for query in (SYNTAX_ERROR, MANY_TOKENS):
            response = await graphql(http, query, token=limited.auditor)
            assert codes_of(response) == ["BAD_USER_INPUT"], response.text

    run(limited, scenario)


def test_a_body_over_the_limit_is_refused_with_413_and_nothing_runs(
    limited: Limited,
) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        before = limited.store.head()
        padded = {**LAUNCH, "purpose": "x" * 3_000}
        response = await graphql(
            http, write_input("launchInitiative"), {"input": padded}, limited.manager
        )
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/json"
        assert code_of(response) == "BAD_USER_INPUT"
        assert "larger than 2000 bytes" in errors_of(response)[0]["message"]
        assert limited.store.head() == before
        # Just under the limit is accepted.
        written = await graphql(
            http, write_input("launchInitiative"), {"input": LAUNCH}, limited.manager
        )
        assert len(written.request.content) < 2_000
        data_of(written)
        assert limited.store.head() == before + 1

    run(limited, scenario)


async def raw_request(
    store: ApiStore,
    chunks: list[bytes],
    token: str,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> list[Any]:
    """The ASGI messages the app sends for a POST whose body comes in chunks, with no
    Content-Length (as with Transfer-Encoding: chunked) unless `headers` declare one."""
    scope = post_scope(
        "/graphql",
        [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
            *(headers or []),
        ],
    )
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[Any] = []

    async def receive() -> Any:
        if incoming:
            return incoming.pop(0)
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    try:
        await store.app(scope, receive, send)
    except Exception as error:
        sent.append({"type": "raised", "error": repr(error)})
    return sent


def test_a_streamed_body_over_the_limit_is_refused_with_413(limited: Limited) -> None:
    body = json.dumps({"query": "{ me { role } }", "padding": "x" * 5_000}).encode()
    chunks = [body[i : i + 500] for i in range(0, len(body), 500)]
    sent = asyncio.run(raw_request(limited.store, chunks, limited.auditor))
    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [413], sent
    assert not [m for m in sent if m["type"] == "raised"], sent


def test_a_streamed_body_under_the_limit_is_answered(limited: Limited) -> None:
    body = json.dumps({"query": "{ me { role } }"}).encode()
    sent = asyncio.run(
        raw_request(limited.store, [body[:5], body[5:]], limited.auditor)
    )
    (start,) = [m for m in sent if m["type"] == "http.response.start"]
    assert start["status"] == 200
    answer = b"".join(
        m.get("body", b"") for m in sent if m["type"] == "http.response.body"
    )
    assert json.loads(answer) == {"data": {"me": {"role": "AUDITOR"}}}


def test_a_malformed_or_absurd_content_length_is_a_400_in_plain_words(
    limited: Limited,
) -> None:
    """Called as ASGI directly: uvicorn refuses huge headers before the app sees
    them, so this is the app's own rule. 5000 nines was an exception (int() takes
    no more than 4300 digits); '٣', '+1', '1_0' and two lengths that disagree were
    let through to a body of another size."""
    body = json.dumps({"query": "{ me { role } }"}).encode()
    size = str(len(body)).encode()
    declared: list[list[bytes]] = [
        [b"9" * 5_000],
        [b"1" * 101],
        [b""],
        [b"abc"],
        [b"-1"],
        [b"+" + size],
        [b" " + size],
        [b"1_0"],
        ["٣".encode()],
        [size, b"1"],
    ]
    for lengths in declared:
        before = limited.store.head()
        sent = asyncio.run(
            raw_request(
                limited.store,
                [body],
                limited.auditor,
                [(b"content-length", length) for length in lengths],
            )
        )
        assert not [m for m in sent if m["type"] == "raised"], (lengths, sent)
        starts = [m for m in sent if m["type"] == "http.response.start"]
        assert [m["status"] for m in starts] == [400], (lengths, sent)
        answer = b"".join(
            m.get("body", b"") for m in sent if m["type"] == "http.response.body"
        )
        (error,) = json.loads(answer)["errors"]
        assert error["message"] == (
            "the Content-Length header must be the size of the body in bytes, "
            "given once, in digits 0 to 9"
        ), lengths
        assert limited.store.head() == before
    # A length given well is still answered.
    sent = asyncio.run(
        raw_request(limited.store, [body], limited.auditor, [(b"content-length", size)])
    )
    (start,) = [m for m in sent if m["type"] == "http.response.start"]
    assert start["status"] == 200


def test_a_page_larger_than_the_limit_is_refused_naming_first(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        record = str(
            limited.store.records.recorder.select_notifications(1, 1)[0].originator_id
        )
        for query in (
            "{ eventLog(first: 11) { edges { cursor } } }",
            "{ eventLog(first: 0) { edges { cursor } } }",
            f'{{ history(recordId: "{record}", first: 11) {{ edges {{ cursor }} }} }}',
        ):
            for accept in ("application/json", GRAPHQL_RESPONSE):
                response = await graphql(
                    http, query, token=limited.auditor, headers={"Accept": accept}
                )
                # A field's own error: the request ran, so 200 either way.
                assert response.status_code == 200
                (error,) = errors_of(response)
                assert error["extensions"] == {
                    "code": "BAD_USER_INPUT",
                    "field": "first",
                }
                assert error["message"] == "first: must be from 1 to 10"
        page = data_of(
            await graphql(
                http,
                "{ eventLog(first: 10) { edges { cursor } } }",
                token=limited.auditor,
            )
        )
        assert len(page["eventLog"]["edges"]) == limited.store.head() == 3

    run(limited, scenario)


def test_the_default_page_fits_a_smaller_page_limit(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        page = await graphql(
            http, "{ eventLog { edges { cursor } } }", token=limited.auditor
        )
        data_of(page)

    run(limited, scenario)


def test_post_json_and_get_with_a_query_work(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        posted = await graphql(http, "{ me { role } }", token=limited.manager)
        assert posted.headers["content-type"] == "application/json"
        assert data_of(posted) == {"me": {"role": "MANAGER"}}
        auth = {"Authorization": f"Bearer {limited.manager}"}
        got = await http.get(
            "/graphql", params={"query": "{ me { role } }"}, headers=auth
        )
        assert data_of(got) == {"me": {"role": "MANAGER"}}
        with_variables = await http.get(
            "/graphql",
            params={
                "query": "query($first: Int!) { eventLog(first: $first) { edges { cursor } } }",
                "variables": json.dumps({"first": 5}),
            },
            headers={"Authorization": f"Bearer {limited.auditor}"},
        )
        assert data_of(with_variables)["eventLog"]["edges"]

    run(limited, scenario)


def test_a_mutation_over_get_is_405_and_writes_nothing(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        before = limited.store.head()
        response = await http.get(
            "/graphql",
            params={
                "query": write_input("launchInitiative"),
                "variables": json.dumps({"input": LAUNCH}),
            },
            headers={"Authorization": f"Bearer {limited.manager}"},
        )
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert "not allowed when using GET" in errors_of(response)[0]["message"]
        assert limited.store.head() == before

    run(limited, scenario)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
def test_another_method_is_405_in_json_naming_get_head_and_post(
    limited: Limited, method: str
) -> None:
    """A PUT or DELETE of /graphql got the web app's HTML page. Every other method
    gets the API's JSON refusal, naming in Allow the three it takes."""

    async def scenario(http: httpx.AsyncClient) -> None:
        before = limited.store.head()
        response = await http.request(
            method,
            "/graphql",
            json={"query": write_input("launchInitiative"), "variables": {}},
            headers={"Authorization": f"Bearer {limited.manager}"},
        )
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, POST"
        assert response.headers["content-type"].startswith("application/json")
        assert "GET and POST" in errors_of(response)[0]["message"]
        assert limited.store.head() == before

    run(limited, scenario)


@pytest.mark.parametrize(
    ("params", "accept"),
    [
        ({"query": "{ __typename }"}, "application/json"),
        ({"query": "{ nothing }"}, "application/graphql-response+json"),
        ({"query": "mutation { launchInitiative(input: {}) { id } }"}, "*/*"),
        ({}, "text/html"),
    ],
)
def test_head_is_answered_as_get_is_without_a_body(
    limited: Limited, params: dict[str, str], accept: str
) -> None:
    """HEAD of /graphql was refused 405, where a GET of the same address is
    answered (a query, or the page saying how to use the API): a client checking
    the address (a monitor, a link checker) was told it did not work. HEAD now
    gets what GET gets, status and headers, without the body (RFC 9110, 9.3.2)."""

    async def scenario(http: httpx.AsyncClient) -> None:
        before = limited.store.head()
        asked = {
            "params": params,
            "headers": {
                "Authorization": f"Bearer {limited.auditor}",
                "Accept": accept,
            },
        }
        got = await http.get("/graphql", **asked)
        headed = await http.head("/graphql", **asked)
        assert headed.status_code == got.status_code
        assert got.content
        assert headed.content == b""
        for name in ("content-type", "content-length", "allow", "cache-control"):
            assert headed.headers.get(name) == got.headers.get(name), name
        assert limited.store.head() == before

    run(limited, scenario)


def test_the_graphql_response_media_type_is_negotiated(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        as_json, as_graphql = await both_ways(http, SYNTAX_ERROR, limited.auditor)
        assert_refused_before_execution(as_json, as_graphql, "Syntax Error")
        as_json, as_graphql = await both_ways(http, "{ nothing }", limited.auditor)
        assert_refused_before_execution(
            as_json, as_graphql, "Cannot query field 'nothing'"
        )
        assert code_of(as_graphql) == "BAD_USER_INPUT"

        as_json, as_graphql = await both_ways(http, "{ me { role } }", limited.auditor)
        assert as_graphql.status_code == 200
        assert as_graphql.headers["content-type"] == GRAPHQL_RESPONSE
        assert (
            as_graphql.json() == as_json.json() == {"data": {"me": {"role": "AUDITOR"}}}
        )

        preferring = await graphql(
            http,
            "{ me { role } }",
            token=limited.auditor,
            headers={"Accept": f"application/json;q=0.5, {GRAPHQL_RESPONSE}"},
        )
        assert preferring.headers["content-type"] == GRAPHQL_RESPONSE
        declining = await graphql(
            http,
            "{ me { role } }",
            token=limited.auditor,
            headers={"Accept": f"application/json, {GRAPHQL_RESPONSE};q=0.1"},
        )
        assert declining.headers["content-type"] == "application/json"

        # Unauthenticated is a field's error: the request ran, so 200 with either type.
        _, anonymous = await both_ways(http, "{ me { role } }", "not-a-token")
        assert anonymous.status_code == 200
        assert code_of(anonymous) == "UNAUTHENTICATED"

    run(limited, scenario)


def test_a_malformed_request_is_400(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        headers = {
            "Authorization": f"Bearer {limited.auditor}",
            "Content-Type": "application/json",
        }
        for body, words in [
            (b"{not json", "not valid JSON"),
            (b'{"variables": {}}', "No GraphQL query found"),
            (b'{"query": "{ me { role } }", "variables": "x"}', "must be an object"),
        ]:
            response = await http.post("/graphql", content=body, headers=headers)
            assert response.status_code == 400, response.text
            assert words in errors_of(response)[0]["message"]
            assert code_of(response) == "BAD_USER_INPUT"

    run(limited, scenario)


def test_an_unexpected_error_is_masked_and_logged(
    limited: Limited, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret SQL detail")

    monkeypatch.setattr(limited.store.views, "report", broken)

    async def scenario(http: httpx.AsyncClient) -> list[httpx.Response]:
        return [
            await graphql(
                http,
                "{ differences { position } }",
                token=limited.manager,
                headers={"Accept": accept},
            )
            for accept in ("application/json", GRAPHQL_RESPONSE)
        ]

    with caplog.at_level(logging.ERROR, logger="fourpi.graphql"):
        responses = run(limited, scenario)
    for response in responses:
        assert response.status_code == 200
        (error,) = errors_of(response)
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        error_id = error["extensions"]["errorId"]
        assert error_id in error["message"]
        assert error["path"] == ["differences"]
        assert "secret SQL detail" not in response.text
        assert "RuntimeError" not in response.text
        assert not has_traceback(response.text)
        logged = [r for r in caplog.records if error_id in r.getMessage()]
        assert len(logged) == 1
        assert logged[0].exc_info is not None
        assert "secret SQL detail" in caplog.text


BAD_VARIABLES: list[tuple[str, dict[str, Any]]] = [
    ("an unknown enum value", {"input": {**LAUNCH, "level": "NATIONAL"}}),
    ("an impossible date", {"input": {**LAUNCH, "startedOn": "2024-13-01"}}),
    ("a number for a string", {"input": {**LAUNCH, "name": 5}}),
    ("null for a required field", {"input": {**LAUNCH, "name": None}}),
    ("a field the input does not have", {"input": {**LAUNCH, "colour": "red"}}),
    ("no input at all", {}),
]


def test_a_bad_variable_writes_nothing_and_is_never_a_500(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        before = limited.store.head()
        for what, variables in BAD_VARIABLES:
            response = await graphql(
                http, write_input("launchInitiative"), variables, limited.manager
            )
            assert response.status_code == 200, what
            assert response.json().get("data") is None, what
            assert not has_traceback(response.text), what
        assert limited.store.head() == before

    run(limited, scenario)


@pytest.mark.parametrize(
    ("what", "variables"), BAD_VARIABLES, ids=[w for w, _ in BAD_VARIABLES]
)
def test_a_bad_variable_is_a_client_error(
    limited: Limited, what: str, variables: dict[str, Any]
) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        response = await graphql(
            http, write_input("launchInitiative"), variables, limited.manager
        )
        assert codes_of(response) == ["BAD_USER_INPUT"], response.text
        assert "$input" in errors_of(response)[0]["message"]

    run(limited, scenario)


def test_the_same_mistake_as_a_literal_is_a_client_error(limited: Limited) -> None:
    async def scenario(http: httpx.AsyncClient) -> None:
        literal = (
            'mutation { launchInitiative(input: {name: "x", level: COMMUNITY, '
            'involvementKind: PARTICIPATION, methods: [SURVEY], purpose: "p", '
            'limitsOfInfluence: "l", startedOn: "2024-13-01"}) { id } }'
        )
        response = await graphql(http, literal, token=limited.manager)
        assert code_of(response) == "BAD_USER_INPUT"
        assert "month must be in 1..12" in errors_of(response)[0]["message"]

    run(limited, scenario)
