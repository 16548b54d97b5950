"""Shared helpers for the HTTP tests of the GraphQL API: a store behind the ASGI app, its tokens, and requests over httpx."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import httpx

from fourpi.bootstrap import open_records, open_views
from fourpi.config import ApiLimits
from fourpi.domain.access import Role
from fourpi.graphql.app import create_app

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/', '.py", line ')
EXPECTED_CODES = frozenset(
    {"BAD_USER_INPUT", "NOT_FOUND", "CONFLICT", "FORBIDDEN", "UNAUTHENTICATED"}
)


class ApiStore:
    """One event store, its impact views, and the ASGI app that serves them."""

    def __init__(self, url: str, limits: ApiLimits | None = None) -> None:
        self.url = url
        self.records = open_records(url)
        self.views = open_views(url, self.records)
        self.limits = limits or ApiLimits(read_wait_seconds=5)
        self.app = create_app(
            self.records, self.views, limits=self.limits, run_projections=False
        )
        self.worker: threading.Thread | None = None
        self.stopping = threading.Event()

    def token(
        self, organisation_id: UUID | None, role: Role, *, personal_data: bool = False
    ) -> str:
        """The secret of a new token, issued through the service."""
        _, secret = self.records.issue_token(
            organisation_id=organisation_id,
            role=role,
            actor="test",
            personal_data=personal_data,
        )
        return secret

    def head(self) -> int:
        """The event log's head: unchanged by any refused request."""
        return int(self.records.recorder.max_notification_id() or 0)

    def start_worker(self) -> None:
        """Keep the views caught up in a thread, as `fourpi projections run` does."""
        self.stopping = threading.Event()
        self.worker = threading.Thread(
            target=self.views.run,
            kwargs={"poll_seconds": 0.02, "stopping": self.stopping},
            daemon=True,
        )
        self.worker.start()

    def stop_worker(self) -> None:
        if self.worker is None:
            return
        self.stopping.set()
        self.views.stop()
        self.worker.join(10)
        assert not self.worker.is_alive(), "the projection worker did not stop"
        self.worker = None

    def close(self) -> None:
        self.stop_worker()
        self.views.close()
        self.records.close()


@contextmanager
def api_store(
    url: str, limits: ApiLimits | None = None, *, worker: bool = False
) -> Iterator[ApiStore]:
    """A store for one test, closed afterwards (its worker stopped first)."""
    store = ApiStore(url, limits)
    try:
        if worker:
            store.start_worker()
        yield store
    finally:
        store.close()


def client(store: ApiStore) -> httpx.AsyncClient:
    """An httpx client that calls the app in process (no lifespan, no network)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=store.app), base_url="http://test"
    )


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST one GraphQL request as JSON, with the token as a bearer token."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return await client.post("/graphql", json=body, headers=sent)


def data_of(response: httpx.Response) -> dict[str, Any]:
    """The data of a request that must have fully succeeded."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    """The errors of a request that must have failed, each with a message."""
    body = response.json()
    errors: list[dict[str, Any]] = body.get("errors") or []
    assert errors, f"expected errors, got {body}"
    for error in errors:
        assert isinstance(error.get("message"), str) and error["message"]
    return errors


def codes_of(response: httpx.Response) -> list[str | None]:
    """The `extensions.code` of every error (None where one has none)."""
    return [
        (error.get("extensions") or {}).get("code") for error in errors_of(response)
    ]


def code_of(response: httpx.Response) -> str:
    """The one code a refused request gives."""
    codes = set(codes_of(response))
    assert len(codes) == 1, response.text
    (code,) = codes
    assert code is not None, response.text
    return code


def has_traceback(text: str) -> bool:
    return any(marker in text for marker in TRACEBACK_MARKERS)


def write_input(mutation: str) -> str:
    """The document of a mutation that takes one `input` and returns `Recorded`."""
    input_type = mutation[0].upper() + mutation[1:] + "Input"
    return (
        f"mutation Write($input: {input_type}!) "
        f"{{ {mutation}(input: $input) {{ id cycleNumber logPosition }} }}"
    )
