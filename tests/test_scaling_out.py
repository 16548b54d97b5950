"""Several processes on one store, as the README's "Scaling out" runs them: two API processes and a projection worker on PostgreSQL read their writes across processes; `fourpi serve --workers 2` and `uvicorn --factory` serve the same app."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import psycopg
import pytest
from psycopg import sql

from fourpi.accounts import Accounts
from fourpi.bootstrap import open_records, open_views
from fourpi.domain.access import Role
from fourpi.operations.worker import ProjectionWorker
from fourpi.privacy.keystore import PersonalKeyStore
from tests.conftest import needs_postgres
from tests.helpers import POSTGRES_URL, register
from tests.test_serve import free_port, stop
from tests.web import PASSWORD, person

BIN = Path(sys.executable).parent
FOURPI = str(BIN / "fourpi")
LAUNCH = """mutation($name: String!) { launchInitiative(input: {
  name: $name, level: OPERATIONAL, involvementKind: PARTICIPATION,
  methods: [FOCUS_GROUP], purpose: "Check reads follow writes.",
  limitsOfInfluence: "None to speak of.", startedOn: "2024-01-08"
}) { id logPosition } }"""
NAMES = "{ initiatives { name } }"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    needs_postgres()
    schema = f"scale_{uuid4().hex[:12]}"
    yield f"{POSTGRES_URL}?schema={schema}"
    with psycopg.connect(POSTGRES_URL.split("?")[0], autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


def tokens(url: str) -> tuple[str, str]:
    """A manager's and an evaluator's secrets, of a new organisation."""
    records = open_records(url)
    try:
        mind = records.register_organisation(name="Mind", actor="test")
        _, manager = records.issue_token(
            organisation_id=mind, role=Role.MANAGER, actor="test"
        )
        _, evaluator = records.issue_token(
            organisation_id=mind, role=Role.EVALUATOR, actor="test"
        )
    finally:
        records.close()
    return manager, evaluator


@contextmanager
def started(*command: str, **environment: str) -> Iterator[subprocess.Popen[bytes]]:
    """A process of ours, stopped with Ctrl-C (SIGINT) at the end; it must exit 0."""
    process = subprocess.Popen(
        list(command),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "FOURPI_READ_WAIT_SECONDS": "10", **environment},
    )
    try:
        yield process
    finally:
        stop(process, 20)
    errors = process.stderr.read().decode() if process.stderr else ""
    assert process.returncode == 0, errors
    assert "Traceback" not in errors, errors


def ready(base: str, process: subprocess.Popen[bytes], seconds: float = 40) -> None:
    """Wait for /readyz to say ready: the store answers, the views are caught up,
    and a projection worker has reported."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        try:
            last = httpx.get(f"{base}/readyz", timeout=2)
            if last.status_code == 200:
                return
        except httpx.TransportError as error:
            last = error
        time.sleep(0.1)
    raise AssertionError(f"{base} was not ready within {seconds} s: {last}")


def ask(base: str, token: str, query: str, **variables: Any) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    )
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


@pytest.mark.slow
@pytest.mark.postgres
def test_two_api_processes_and_a_worker_read_their_writes(postgres_url: str) -> None:
    manager, evaluator = tokens(postgres_url)
    ports = free_port(), free_port()
    with ExitStack() as stack:
        worker = stack.enter_context(
            started(FOURPI, "projections", "run", "--database", postgres_url)
        )
        apis = [
            stack.enter_context(
                started(
                    FOURPI,
                    "serve",
                    "--no-projections",
                    "--database",
                    postgres_url,
                    "--port",
                    str(port),
                )
            )
            for port in ports
        ]
        first, second = (f"http://127.0.0.1:{port}" for port in ports)
        for base, process in zip((first, second), apis, strict=True):
            ready(base, process)
        seen = 0
        for n in range(25):
            writer, reader = (first, second) if n % 2 == 0 else (second, first)
            name = f"Read your writes {n}"
            ask(writer, manager, LAUNCH, name=name)
            names = [i["name"] for i in ask(reader, evaluator, NAMES)["initiatives"]]
            seen += name in names
        assert seen == 25
        assert worker.poll() is None


@pytest.mark.slow
@pytest.mark.postgres
def test_serve_runs_several_processes_on_postgresql(postgres_url: str) -> None:
    manager, evaluator = tokens(postgres_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with started(
        FOURPI,
        "serve",
        "--workers",
        "2",
        "--metrics",
        "--database",
        postgres_url,
        "--port",
        str(port),
    ) as process:
        ready(base, process)
        for n in range(6):
            name = f"Several processes {n}"
            ask(base, manager, LAUNCH, name=name)
            names = [i["name"] for i in ask(base, evaluator, NAMES)["initiatives"]]
            assert name in names
        assert "fourpi_requests_total" in httpx.get(f"{base}/metrics", timeout=5).text


@pytest.mark.slow
def test_uvicorn_loads_the_app_factory(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/factory.sqlite3"
    manager, evaluator = tokens(url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with started(
        str(BIN / "uvicorn"),
        "--factory",
        "fourpi.operations.serving:app_from_environment",
        "--port",
        str(port),
        FOURPI_DATABASE_URL=url,
    ) as process:
        ready(base, process)
        ask(base, manager, LAUNCH, name="Through the factory")
        names = [i["name"] for i in ask(base, evaluator, NAMES)["initiatives"]]
        assert names == ["Through the factory"]


def connections_dropped(application_name: str) -> int:
    """End every PostgreSQL connection of that application_name, as a restart of
    the server or a failover does; how many there were."""
    with psycopg.connect(POSTGRES_URL.split("?")[0], autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s",
            (application_name,),
        ).fetchone()
    assert dropped is not None
    return int(dropped[0])


def test_the_projection_worker_carries_on_when_postgresql_drops_its_connections(
    postgres_url: str,
) -> None:
    """PostgreSQL restarting (or failing over) drops every connection, the worker's
    LISTEN among them: the worker starts again, and the views catch up with what
    was written meanwhile. Before, its thread died ('stopped by an error'), and the
    views of `fourpi serve` stood still, every answer stale, until the process was
    restarted."""
    name = f"fourpi-test-{uuid4().hex[:12]}"
    dropping = f"{postgres_url}&application_name={name}"
    records = open_records(dropping)
    views = open_views(dropping, records)
    worker = ProjectionWorker(views).start()
    writer = open_records(postgres_url)
    reader = open_views(postgres_url, writer)
    try:
        mind = writer.register_organisation(name="Mind", actor="test")
        reader.wait(reader.head(), timeout=30)
        assert connections_dropped(name) >= 1
        register(writer, mind)
        assert reader.wait(reader.head(), timeout=60) == reader.head()
        assert worker.alive()
    finally:
        worker.stop()
        for opened in (reader, writer, views, records):
            opened.close()


def test_a_persons_key_and_a_session_are_read_again_when_postgresql_drops_its_connections(
    postgres_url: str,
) -> None:
    """After PostgreSQL restarts (or fails over), every pooled connection is dead.
    The library tries its own reads again on another; reading a person's key (to
    show their pseudonym) and a session (every signed-in request) failed instead,
    an errorId for each until the pool had let every dead connection go."""
    name = f"fourpi-test-{uuid4().hex[:12]}"
    records = open_records(f"{postgres_url}&application_name={name}")
    try:
        mind = records.register_organisation(name="Mind", actor="test")
        advisor = register(records, mind)
        accounts = Accounts(records)
        person(accounts, mind, "manager@mind.example", Role.MANAGER)
        session_id, _ = accounts.sign_in(
            email="manager@mind.example", password=PASSWORD, address="127.0.0.1"
        )
        keys = records.keys
        assert isinstance(keys, PersonalKeyStore)
        key = keys.read_key(advisor)
        assert key is not None
        assert connections_dropped(name) >= 1
        assert keys.read_key(advisor) == key
        assert connections_dropped(name) >= 1
        assert accounts.session(session_id) is not None
    finally:
        records.close()


@pytest.mark.slow
def test_the_projection_worker_stopped_by_sigterm_says_it_stopped(tmp_path) -> None:
    """systemd, Kubernetes and `kill` stop a service with SIGTERM. The worker died
    at once, without reporting it had stopped: readiness and `projections status`
    took it for alive for another 30 seconds."""
    url = f"sqlite:///{tmp_path}/worker.sqlite3"
    open_records(url).close()
    worker = subprocess.Popen(
        [FOURPI, "projections", "run", "--database", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 40
        while "alive" not in status(url):
            assert worker.poll() is None and time.monotonic() < deadline, status(url)
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    finally:
        if worker.poll() is None:
            worker.kill()
    errors = worker.stderr.read() if worker.stderr else ""
    assert worker.returncode == 0, errors
    assert "Traceback" not in errors, errors
    assert "Projection worker: none running" in status(url)


def status(url: str) -> str:
    return subprocess.run(
        [FOURPI, "projections", "status", "--database", url],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
