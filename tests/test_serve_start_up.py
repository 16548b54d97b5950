"""Every way of serving (`fourpi serve`, with `--workers`, `fourpi projections run`, and the app factory under uvicorn) refuses a store it cannot use or a master key that is wrong in a line or two naming the setting, exits non-zero, and leaves the store as it was."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from fourpi.bootstrap import open_records
from fourpi.privacy.keystore import new_master_key
from tests.conftest import needs_postgres
from tests.helpers import POSTGRES_URL
from tests.test_serve import free_port

BIN = Path(sys.executable).parent
FOURPI = str(BIN / "fourpi")
FACTORY = "fourpi.operations.serving:app_from_environment"
SERVER = POSTGRES_URL.split("?")[0]


def server_url(**parts: str) -> str:
    """The test server's URL with a part changed (user, password, port, dbname)."""
    user = parts.get("user", "postgres")
    password = f":{parts['password']}" if "password" in parts else ""
    port = parts.get("port", "5432")
    dbname = parts.get("dbname", SERVER.rsplit("/", 1)[1])
    return f"postgresql://{user}{password}@127.0.0.1:{port}/{dbname}"


@pytest.fixture
def schema() -> Iterator[str]:
    needs_postgres()
    name = f"startup_{uuid4().hex[:12]}"
    yield name
    with psycopg.connect(SERVER, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
        )


def schema_exists(name: str) -> bool:
    with psycopg.connect(SERVER, autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)
        ).fetchone()
    return found is not None


def store_counts(name: str) -> Any:
    """How many events the store in that schema holds, and how many tables."""
    with psycopg.connect(SERVER, autocommit=True) as connection:
        return connection.execute(
            sql.SQL(
                "SELECT (SELECT count(*) FROM {}.fourpi_events), "
                "(SELECT count(*) FROM pg_tables WHERE schemaname = %s)"
            ).format(sql.Identifier(name)),
            (name,),
        ).fetchone()


def ways_to_serve(port: int) -> dict[str, list[str]]:
    return {
        "serve": [FOURPI, "serve", "--port", str(port)],
        "serve --workers 2": [FOURPI, "serve", "--workers", "2", "--port", str(port)],
        "projections run": [FOURPI, "projections", "run"],
        "uvicorn --factory": [
            str(BIN / "uvicorn"),
            "--factory",
            FACTORY,
            "--port",
            str(port),
        ],
        "uvicorn --factory --workers 2": [
            str(BIN / "uvicorn"),
            "--factory",
            FACTORY,
            "--workers",
            "2",
            "--port",
            str(port),
        ],
    }


WAYS = list(ways_to_serve(0))


def refused(command: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
    """The command run to its end (a minute at most: a server that keeps restarting
    its workers never ends), which must be a refusal without a traceback."""
    process = subprocess.Popen(
        command,
        env={
            name: value
            for name, value in os.environ.items()
            if name not in ("FOURPI_MASTER_KEY_FILE", "FOURPI_DATABASE_URL")
        }
        | {"FOURPI_PROJECTIONS": "off"}
        | environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its workers are ended with it, if it never ends
    )
    try:
        out, errors = process.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    started = subprocess.CompletedProcess(command, process.wait(), out, errors)
    if command[0].endswith("uvicorn") and "--workers" in command:
        # uvicorn's parent stops once a worker fails to start for good (exit code
        # 3), but then exits 0 itself: its own choice.
        assert "failed to start, stopping the parent" in started.stderr
    else:
        assert started.returncode != 0, started.stderr
    assert "Traceback" not in started.stderr, started.stderr
    return started


PROBLEMS = {
    "no server there": "Is the server running there?",
    "unknown database": "Create it (createdb",
    "unknown role": "Create the role on the server",
}


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize(
    ("way", "problem"),
    [
        (way, problem)
        for way in WAYS
        for problem in PROBLEMS
        # A server that does not answer may come back: uvicorn starts its worker
        # again until it does (exit code 1, not 3), so it does not end.
        if (way, problem) != ("uvicorn --factory --workers 2", "no server there")
    ],
)
def test_a_store_that_cannot_be_reached_is_told_in_a_line_or_two(
    way: str, problem: str
) -> None:
    complaint = PROBLEMS[problem]
    needs_postgres()
    url = {
        "no server there": server_url(port=str(free_port())),
        "unknown database": server_url(dbname=f"nowhere_{uuid4().hex[:8]}"),
        "unknown role": server_url(user="nobody_here", password="s3cret-word"),
    }[problem]
    started = refused(ways_to_serve(free_port())[way], FOURPI_DATABASE_URL=url)
    told = [line for line in started.stderr.splitlines() if "cannot use" in line]
    assert told, started.stderr
    assert complaint in started.stderr and "$FOURPI_DATABASE_URL" in started.stderr
    assert "s3cret-word" not in started.stderr


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("key", ["another store's", "malformed", "missing"])
def test_a_wrong_master_key_is_told_in_a_line_and_nothing_is_written(
    way: str, key: str, schema: str
) -> None:
    url = f"{SERVER}?schema={schema}"
    open_records(url).close()  # a store made with the test's master key
    before = store_counts(schema)
    given = {"another store's": new_master_key(), "malformed": "notakey", "missing": ""}
    started = refused(
        ways_to_serve(free_port())[way],
        FOURPI_DATABASE_URL=url,
        FOURPI_MASTER_KEY=given[key],
    )
    assert any(
        line.startswith(
            ("$FOURPI_MASTER_KEY", "Error: ", "the master key", "no master")
        )
        and "$FOURPI_MASTER_KEY" in line
        for line in started.stderr.splitlines()
    ), started.stderr
    after = store_counts(schema)
    assert after == before


@pytest.mark.postgres
@pytest.mark.parametrize("key", ["malformed", "missing"])
def test_a_wrong_master_key_makes_nothing_in_a_new_store(key: str, schema: str) -> None:
    """A serving process refused at start for its master key had made the store's
    schema all the same."""
    refused(
        [FOURPI, "serve", "--port", str(free_port())],
        FOURPI_DATABASE_URL=f"{SERVER}?schema={schema}",
        FOURPI_MASTER_KEY={"malformed": "notakey", "missing": ""}[key],
    )
    assert not schema_exists(schema)


def drop_connections_waiting_for_the_tables(application_name: str) -> None:
    """Hold the lock a starting process takes to make its tables, wait until a
    connection of that application_name waits for it, and end that connection, as a
    PostgreSQL restart does to every connection."""
    with psycopg.connect(SERVER, autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(hashtext(%s))", (application_name,))
        deadline = time.monotonic() + 50
        while time.monotonic() < deadline:
            dropped = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s AND wait_event_type = 'Lock'",
                (application_name,),
            ).fetchone()
            if dropped and dropped[0]:
                return
            time.sleep(0.05)
        raise AssertionError("no connection waited for the tables' lock")


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.parametrize("way", ["serve", "projections run", "uvicorn --factory"])
def test_a_connection_dropped_while_starting_is_told_in_a_line_or_two(
    way: str, schema: str
) -> None:
    """PostgreSQL restarting while a process starts (here: its connection waiting
    for the lock on making the tables, ended): a traceback from the driver before."""
    url = f"{SERVER}?schema={schema}"
    open_records(url).close()
    dropping = threading.Thread(
        target=drop_connections_waiting_for_the_tables, args=(schema,)
    )
    dropping.start()
    try:
        started = refused(
            ways_to_serve(free_port())[way],
            FOURPI_DATABASE_URL=f"{url}&application_name={schema}",
        )
    finally:
        dropping.join()
    assert "cannot use the PostgreSQL server" in started.stderr, started.stderr
