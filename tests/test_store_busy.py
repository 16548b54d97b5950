"""A store whose write lock another holds for longer than a request waits (a whole
log being imported): the request is told the store is busy and to try again, and
records nothing; it is not an unexpected error with an id for the operators."""

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import pytest
from psycopg import sql

from fourpi.accounts import Accounts
from fourpi.bootstrap import open_views, prepare_storage
from fourpi.config import Database, parse_database_url
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.graphql.app import create_app
from fourpi.listing import participants_of
from fourpi.personal_links import PersonalLinks
from fourpi.storage.store_access import STORE_BUSY, STORE_BUSY_RETRY_SECONDS
from tests.helpers import POSTGRES_URL
from tests.web import TestClient, csrf_token, organisation_with_a_chain, person, sign_in

MANAGER = "manager@busy.example"
REGISTER = (
    'mutation { registerParticipant(input: {pseudonym: "Sam", participantKind: CARER})'
    " { id } }"
)


@dataclass
class Busy:
    records: InvolvementRecords
    database: Database
    app: Any
    token: str
    organisation_id: UUID

    def head(self) -> int:
        return int(self.records.recorder.max_notification_id() or 0)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Another connection holds the store's write lock, as an import does: SQLite's
        one lock, or the lock every PostgreSQL writer takes on the events table."""
        if self.database.backend == "sqlite":
            lite = sqlite3.connect(
                self.database.sqlite_path,
                isolation_level=None,
                check_same_thread=False,  # may be let go by another thread
            )
            lite.execute("BEGIN IMMEDIATE")
            try:
                yield
            finally:
                lite.execute("ROLLBACK")
                lite.close()
            return
        recorder: Any = self.records.recorder
        events = sql.Identifier(self.database.schema, recorder.events_table_name)
        with psycopg.connect(POSTGRES_URL.split("?")[0]) as holder:
            holder.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(events))
            try:
                yield
            finally:
                holder.rollback()


@pytest.fixture
def busy(database_url: str) -> Iterator[Busy]:
    database = parse_database_url(database_url)
    prepare_storage(database)
    # A write waits a second for the lock, not thirty.
    wait = {"SQLITE_LOCK_TIMEOUT": "1", "POSTGRES_LOCK_TIMEOUT": "1"}
    records = InvolvementRecords(env=database.eventsourcing_env() | wait)
    views = open_views(database.url, records)
    chain = organisation_with_a_chain(records, "Mind")
    person(Accounts(records), chain.organisation_id, MANAGER, Role.MANAGER)
    _, token = records.issue_token(
        organisation_id=chain.organisation_id, role=Role.MANAGER, actor="test"
    )
    app = create_app(records, views, run_projections=False, web=True)
    yield Busy(records, database, app, token, chain.organisation_id)
    views.close()
    records.close()


def test_a_write_through_the_api_is_told_the_store_is_busy(busy: Busy) -> None:
    client = TestClient(busy.app)
    before = busy.head()
    with busy.locked():
        answer = client.post(
            "/graphql",
            json={"query": REGISTER},
            headers={"Authorization": f"Bearer {busy.token}"},
        )
    # As HTTP says it, with when to come back, as when the store is busy before
    # any field runs: it was 200 with no Retry-After.
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == str(STORE_BUSY_RETRY_SECONDS)
    (error,) = answer.json()["errors"]
    assert error["message"] == STORE_BUSY
    assert error["extensions"] == {"code": "STORE_BUSY"}  # no error id: not a fault
    assert busy.head() == before
    again = client.post(
        "/graphql",
        json={"query": REGISTER},
        headers={"Authorization": f"Bearer {busy.token}"},
    ).json()
    assert again["data"]["registerParticipant"]["id"]


def test_a_form_is_answered_with_a_page_saying_try_again(busy: Busy) -> None:
    client = TestClient(busy.app, raise_server_exceptions=False)
    sign_in(client, MANAGER)
    form = {
        "csrf_token": csrf_token(client, "/"),
        "pseudonym": "Sam",
        "participant_kind": "carer",
    }
    before = busy.head()
    with busy.locked():
        refused = client.post(
            "/record/registerParticipant", data=form, follow_redirects=False
        )
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "60"
    assert "<h1>Busy: try again in a minute</h1>" in refused.text
    assert "Nothing was recorded" in refused.text
    assert busy.head() == before


def test_a_write_waiting_past_a_turn_at_the_store_is_told_it_is_busy(
    busy: Busy,
) -> None:
    """A command that lost a race holds the store in its turn while it is decided
    again (fourpi.storage.sealing); a write of the same process waits for the
    pool's connection for writing, whose wait (5 s) ends before the store's lock's.
    Past it, the library's "Timed out waiting for return of writer" was an
    unexpected error, 500 with an error id, though nothing was done."""
    if busy.database.backend != "sqlite":
        pytest.skip("PostgreSQL's pool lends a connection to each writer")
    client = TestClient(busy.app)
    before = busy.head()
    holding, done = threading.Event(), threading.Event()

    def take_a_long_turn() -> None:
        recorder: Any = busy.records.recorder
        with recorder.turn():
            holding.set()
            done.wait(60)

    turn = threading.Thread(target=take_a_long_turn)
    turn.start()
    try:
        holding.wait(60)
        refused = client.post(
            "/graphql",
            json={"query": REGISTER},
            headers={"Authorization": f"Bearer {busy.token}"},
        )
    finally:
        done.set()
        turn.join(60)
    assert refused.status_code == 503
    assert int(refused.headers["retry-after"]) > 0
    (error,) = refused.json()["errors"]
    assert error["extensions"] == {"code": "STORE_BUSY"}, error
    assert busy.head() == before


def test_a_personal_page_the_busy_store_could_not_open_keeps_its_link_out_of_the_log(
    busy: Busy, caplog: pytest.LogCaptureFixture
) -> None:
    """A contributor's page opened while an import held SQLite's lock (its attempt
    is counted in a table before the link is looked up) was answered 503 and
    logged with its address whole, the person's link in it: anyone who reads the
    server's log could open their page. The log names the path as every request
    line does, the link as {secret}."""
    views = open_views(busy.database.url, busy.records)
    views.catch_up()
    (person,) = participants_of(views, busy.organisation_id)
    views.close()
    secret, _ = PersonalLinks(busy.records).make(
        organisation_id=busy.organisation_id,
        participant_id=person.participant_id,
        actor="test",
        reads_personal_data=True,
    )
    client = TestClient(busy.app, raise_server_exceptions=False)
    with busy.locked():
        answer = client.get(f"/my-page/{secret}")
    if busy.database.backend == "sqlite":
        assert answer.status_code == 503
    assert secret not in caplog.text
    assert client.get(f"/my-page/{secret}").status_code == 200


def test_a_request_that_recorded_a_write_before_the_store_was_busy_is_not_told_to_resend(
    busy: Busy,
) -> None:
    """A request with two writes: the first recorded, the second refused as the
    store became busy in between. Told 503 and Retry-After, as a request refused
    whole is, a client (or its retry logic) would send the request again and the
    first write would be recorded twice; it is answered 200 with the second's
    STORE_BUSY. (GraphQL nulls the whole of `data` when a write's field, never
    null, is refused, so the first's answer is not in it.)"""
    client = TestClient(busy.app)
    both = (
        'mutation { first: registerParticipant(input: {pseudonym: "Sam", '
        "participantKind: CARER}) { id } "
        'second: registerParticipant(input: {pseudonym: "Kit", '
        "participantKind: CARER}) { id } }"
    )
    saved = busy.records.save
    locked = busy.locked()

    def save_then_lock(*arguments: Any, **named: Any) -> Any:
        done = saved(*arguments, **named)
        if busy.records.save is save_then_lock:  # once: the store is busy from now
            busy.records.save = saved  # type: ignore[method-assign]
            locked.__enter__()
        return done

    busy.records.save = save_then_lock  # type: ignore[method-assign]
    before = busy.head()
    try:
        answer = client.post(
            "/graphql",
            json={"query": both},
            headers={"Authorization": f"Bearer {busy.token}"},
        )
    finally:
        busy.records.save = saved  # type: ignore[method-assign]
        locked.__exit__(None, None, None)
    assert answer.status_code == 200, answer.text
    assert "retry-after" not in answer.headers
    body = answer.json()
    (error,) = body["errors"]
    assert error["path"] == ["second"]
    assert error["extensions"] == {"code": "STORE_BUSY"}
    assert busy.head() > before
