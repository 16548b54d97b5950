"""PostgreSQL going away under a running API (restarting, failing over, refusing connections): a request meanwhile is told the store is busy (503, STORE_BUSY), never an unexpected error; a save whose connection is ended mid-commit is stored once on another; and once the store is back, every request is answered again without a restart."""

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import psycopg
import pytest
from psycopg import sql
from starlette.testclient import TestClient

from fourpi.bootstrap import open_records, open_views, prepare_storage
from fourpi.config import parse_database_url
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.graphql.app import create_app
from fourpi.storage.store_access import STORE_UNREACHABLE
from tests.conftest import needs_postgres
from tests.helpers import POSTGRES_URL
from tests.test_serve import free_port, stop, wait_until_up

SERVER = POSTGRES_URL.split("?")[0]
FOURPI = str(Path(sys.executable).parent / "fourpi")
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

    def outage(self) -> Any:
        return refusing(self.dbname)


def ended(admin: Any, dbname: str, waiting: bool = False) -> int:
    """End the database's connections (those waiting for a lock only, if asked)."""
    found = admin.execute(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()"
        + (" AND wait_event_type = 'Lock'" if waiting else ""),
        (dbname,),
    ).fetchone()
    return int(found[0])


@contextmanager
def refusing(dbname: str) -> Iterator[None]:
    """The database refuses every connection, and ends those it had."""
    with psycopg.connect(SERVER, autocommit=True) as admin:
        name = sql.Identifier(dbname)
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
        try:
            ended(admin, dbname)
            yield
        finally:
            admin.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name)
            )


@contextmanager
def database_of_its_own() -> Iterator[str]:
    """A database of the test's own: an outage is made by refusing connections to
    it, which leaves every other test's alone."""
    needs_postgres()
    dbname = f"fourpi_outage_{uuid4().hex[:10]}"
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    try:
        yield dbname
    finally:
        with psycopg.connect(SERVER, autocommit=True) as admin:
            admin.execute(
                sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(
                    sql.Identifier(dbname)
                )
            )
            ended(admin, dbname)
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(dbname))
            )


@pytest.fixture
def own_database() -> Iterator[str]:
    with database_of_its_own() as dbname:
        yield dbname


def url_of(dbname: str) -> str:
    return f"{SERVER.rsplit('/', 1)[0]}/{dbname}"


@pytest.fixture
def served(own_database: str) -> Iterator[Served]:
    """The API on a database of its own, whose pool waits a second for a
    connection rather than thirty."""
    database = parse_database_url(url_of(own_database))
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
            yield Served(own_database, records, client, token)
    finally:
        views.close()
        records.close()


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
    # The projection worker, which lost the store too, starts again after a pause
    # and then reaches the write: asked until then (at most 30 s).
    for _ in range(300):
        names = served.ask(NAMES).json()["data"]["initiatives"]
        if names:
            break
        time.sleep(0.1)
    assert [each["name"] for each in names] == ["back"]


@pytest.mark.postgres
def test_a_page_while_the_store_is_away_says_so_and_to_try_again(
    own_database: str,
) -> None:
    """Found by the scale-out pass: the web app answered a form sent while
    PostgreSQL was away with its 500 page, "something went wrong on our side",
    as for a fault of ours. It is the busy page's kind: 503, Retry-After, and
    words saying the record could not be reached and what to do."""
    from fourpi.accounts import Accounts
    from tests.web import csrf_token, organisation_with_a_chain, person, sign_in

    database = parse_database_url(url_of(own_database))
    prepare_storage(database)
    records = InvolvementRecords(
        env=database.eventsourcing_env() | {"POSTGRES_CONNECT_TIMEOUT": "1"}
    )
    views = open_views(database, records)
    try:
        chain = organisation_with_a_chain(records, "Mind")
        person(Accounts(records), chain.organisation_id, "m@away.example", Role.MANAGER)
        app = create_app(records, views, run_projections=False, web=True)
        client = TestClient(app, raise_server_exceptions=False)
        sign_in(client, "m@away.example")
        form = {
            "csrf_token": csrf_token(client, "/"),
            "pseudonym": "Sam",
            "participant_kind": "carer",
        }
        with refusing(own_database):
            refused = client.post(
                "/record/registerParticipant", data=form, follow_redirects=False
            )
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["retry-after"]) > 0
        assert "<h1>Not available: try again in a minute</h1>" in refused.text
        assert "could not be reached" in refused.text
        assert client.get("/").status_code == 200  # back once the store is
    finally:
        views.close()
        records.close()


@pytest.mark.postgres
def test_a_save_whose_connection_ends_while_it_commits_is_stored_once(
    served: Served,
) -> None:
    """PostgreSQL restarting while a save waits for the log's lock: psycopg could
    not roll back on the dead connection and let out its Rollback, which nothing
    tried again: an unexpected error, and the save not stored."""
    outcome: dict[str, Any] = {}
    events = sql.Identifier("public", "fourpi_events")
    with psycopg.connect(url_of(served.dbname)) as holder:
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
    with psycopg.connect(url_of(served.dbname)) as reader:
        stored = reader.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE originator_id = %s").format(events),
            (outcome["id"],),
        ).fetchone()
    assert stored == (1,)


def workers(pid: int) -> list[int]:
    """uvicorn's worker processes under pid (not multiprocessing's resource
    tracker), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
                if (
                    int(stat.rsplit(")", 1)[1].split()[1]) == pid
                    and b"spawn_main" in command
                    and b"resource_tracker" not in command
                ):
                    found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.postgres
def test_serve_with_workers_outlasts_a_worker_restarted_while_the_store_refuses(
    own_database: str, tmp_path: Path
) -> None:
    """uvicorn starts again a worker that died; while the database did not accept
    connections ("not currently accepting connections", as while it starts or is
    being restored), that start failed as if for good (exit code 3), and uvicorn
    stopped the whole server."""
    url = url_of(own_database)
    records = open_records(url)
    mind = records.register_organisation(name="Mind", actor="test")
    _, token = records.issue_token(
        organisation_id=mind, role=Role.EVALUATOR, actor="test"
    )
    records.close()
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as errors:
        server = subprocess.Popen(
            [
                FOURPI,
                "serve",
                "--no-projections",
                "--workers",
                "2",
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env={**os.environ, "FOURPI_DATABASE_URL": url},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server, 60)
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        with refusing(own_database):
            os.kill(workers(server.pid)[0], signal.SIGKILL)
            deadline = time.monotonic() + 60
            # Until uvicorn has seen a start fail: it stops, or starts it again.
            while not re.search(
                r"cannot use the PostgreSQL server(.|\n)*"
                r"(failed to start|Child process \[\d+\] died)",
                log.read_text(),
            ):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            assert "failed to start" not in log.read_text()
        answered = 0
        deadline = time.monotonic() + 60
        while answered < 6:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            with contextlib.suppress(httpx.TransportError):
                response = httpx.post(
                    f"{base}/graphql",
                    json={"query": "{ me { role } }"},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                answered = answered + 1 if response.status_code == 200 else 0
            time.sleep(0.1)
    finally:
        stop(server, 30)
    assert "Traceback" not in log.read_text()
