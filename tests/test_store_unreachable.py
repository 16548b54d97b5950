"""PostgreSQL going away under a running API (restarting, failing over, refusing connections): a request meanwhile is told the store is busy (503, STORE_BUSY), never an unexpected error; a save whose connection is ended mid-commit is stored once on another; and once the store is back, every request is answered again without a restart."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql
from starlette.testclient import TestClient

from fourpi.bootstrap import open_views, prepare_storage
from fourpi.config import parse_database_url
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.graphql.app import create_app
from fourpi.storage.store_access import STORE_UNREACHABLE
from tests.conftest import needs_postgres
from tests.helpers import POSTGRES_URL

SERVER = POSTGRES_URL.split("?")[0]
NAMES = "{ initiatives { name } }"
LAUNCH = """mutation($name: String!) { launchInitiative(input: {
  name: $name, level: OPERATIONAL, involvementKind: PARTICIPATION,
  methods: [FOCUS_GROUP], purpose: "Outlast an outage.",
  limitsOfInfluence: "None to speak of.", startedOn: "2024-01-08",
  idempotencyKey: $name
}) { id } }"""


@dataclass
class Served:
    dbname: str
    records: InvolvementRecords
    client: TestClient
    token: str

    def ask(self, query: str, **variables: Any) -> Any:
        return self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )

    @contextmanager
    def outage(self) -> Iterator[None]:
        """The database refuses every connection, and ends those it had."""
        with psycopg.connect(SERVER, autocommit=True) as admin:
            name = sql.Identifier(self.dbname)
            admin.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name)
            )
            try:
                ended(admin, self.dbname)
                yield
            finally:
                admin.execute(
                    sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name)
                )


def ended(admin: Any, dbname: str, waiting: bool = False) -> int:
    """End the database's connections (those waiting for a lock only, if asked)."""
    found = admin.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()"
        + (" AND wait_event_type = 'Lock'" if waiting else ""),
        (dbname,),
    ).fetchone()
    return int(found[0])


@pytest.fixture
def served() -> Iterator[Served]:
    """The API on a database of its own (an outage is made by refusing connections
    to it), whose pool waits a second for a connection rather than thirty."""
    needs_postgres()
    dbname = f"fourpi_outage_{uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    database = parse_database_url(f"{SERVER.rsplit('/', 1)[0]}/{dbname}")
    prepare_storage(database)
    records = InvolvementRecords(
        env=database.eventsourcing_env() | {"POSTGRES_CONNECT_TIMEOUT": "1"}
    )
    views = open_views(database, records)
    mind = records.register_organisation(name="Mind", actor="test")
    _, token = records.issue_token(
        organisation_id=mind, role=Role.MANAGER, actor="test"
    )
    try:
        # Started as a server starts it: its projection worker keeps the views.
        with TestClient(create_app(records, views)) as client:
            yield Served(dbname, records, client, token)
    finally:
        views.close()
        records.close()
        with psycopg.connect(SERVER, autocommit=True) as admin:
            ended(admin, dbname)
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(dbname))
            )


@pytest.mark.postgres
@pytest.mark.parametrize("query", ["read", "write"])
def test_a_request_while_the_store_is_away_is_told_it_is_busy(
    served: Served, query: str
) -> None:
    """Before: 500 with an errorId (an unexpected error), for a fault of no one's."""
    with served.outage():
        refused = (
            served.ask(NAMES) if query == "read" else served.ask(LAUNCH, name="away")
        )
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["retry-after"]) > 0
    (error,) = refused.json()["errors"]
    assert error == {"message": STORE_UNREACHABLE, "extensions": {"code": "STORE_BUSY"}}
    launched = served.ask(LAUNCH, name="back")
    assert launched.status_code == 200 and "errors" not in launched.json()
    names = served.ask(NAMES).json()["data"]["initiatives"]
    assert [each["name"] for each in names] == ["back"]


@pytest.mark.postgres
def test_a_save_whose_connection_ends_while_it_commits_is_stored_once(
    served: Served,
) -> None:
    """PostgreSQL restarting while a save waits for the log's lock: psycopg could
    not roll back on the dead connection and let out its Rollback, which nothing
    tried again: an unexpected error, and the save not stored."""
    outcome: dict[str, Any] = {}
    events = sql.Identifier("public", "fourpi_events")
    with psycopg.connect(f"{SERVER.rsplit('/', 1)[0]}/{served.dbname}") as holder:
        holder.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(events))

        def register() -> None:
            try:
                outcome["id"] = served.records.register_organisation(
                    name="Rethink", actor="test"
                )
            except Exception as error:
                outcome["error"] = error

        saving = threading.Thread(target=register)
        saving.start()
        with psycopg.connect(SERVER, autocommit=True) as admin:
            deadline = time.monotonic() + 30
            while not ended(admin, served.dbname, waiting=True):
                assert time.monotonic() < deadline, "the save never waited"
                time.sleep(0.05)
        holder.rollback()
    saving.join(60)
    assert "error" not in outcome, repr(outcome.get("error"))
    with psycopg.connect(f"{SERVER.rsplit('/', 1)[0]}/{served.dbname}") as reader:
        stored = reader.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE originator_id = %s").format(events),
            (outcome["id"],),
        ).fetchone()
    assert stored == (1,)
