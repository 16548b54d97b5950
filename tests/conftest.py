"""Shared fixtures: the same tests run on SQLite and on a real PostgreSQL, each in a store of its own.

The README's test command runs the tests in one process per core (pytest-xdist's
`-n auto`), so a test keeps to its own temporary folder, PostgreSQL schema (a random
name) and free port, builds nothing in the tree, and names its parameters the same
in every process (no uuid4() in a parametrize list: each process collects the tests
and they must agree). Session and module fixtures run once in each process."""

import os
from collections.abc import Iterator
from datetime import date
from uuid import UUID, uuid4

import eventsourcing.postgres  # noqa: F401
import psycopg
import pytest
from psycopg import sql

from fourpi.bootstrap import open_records
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import (
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
)
from tests.helpers import ACTOR, POSTGRES_URL, TEST_MASTER_KEY

# eventsourcing.postgres is imported above, before any test opens a store, as it is in
# a PostgreSQL process: the few stores a test leaves open are then collected at exit
# while the module they close with is still whole (fourpi imports it only for
# PostgreSQL, so a SQLite process starts faster).

IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        with psycopg.connect(POSTGRES_URL.split("?")[0], connect_timeout=3):
            return None
    except psycopg.Error as error:
        return f"no PostgreSQL server answers at {POSTGRES_URL}: {error}".strip()


_postgres_reason = postgres_unavailable()


def needs_postgres() -> None:
    """Skip the calling test when no PostgreSQL server answers, or fail it under
    CI=true, where PostgreSQL tests must run."""
    if _postgres_reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true, so PostgreSQL tests must run, but {_postgres_reason}")
    pytest.skip(_postgres_reason)


@pytest.fixture(scope="session", autouse=True)
def master_key() -> Iterator[str]:
    """One fixed master key for the session, in the environment so that the commands
    tests start use it too (a PostgreSQL store has no default key file)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FOURPI_MASTER_KEY", TEST_MASTER_KEY)
        patch.delenv("FOURPI_MASTER_KEY_FILE", raising=False)
        yield TEST_MASTER_KEY


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty event store: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fourpi.sqlite3"
        return
    needs_postgres()
    schema = f"test_{uuid4().hex[:12]}"
    yield f"{POSTGRES_URL}?schema={schema}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


@pytest.fixture
def records(database_url: str) -> Iterator[InvolvementRecords]:
    app = open_records(database_url)
    yield app
    app.close()


@pytest.fixture
def organisation_id(records: InvolvementRecords) -> UUID:
    return records.register_organisation(name="Test Mind", actor="admin")


@pytest.fixture
def initiative_id(records: InvolvementRecords, organisation_id: UUID) -> UUID:
    return records.launch_initiative(
        organisation_id=organisation_id,
        name="Diversifying who we involve",
        level=InvolvementLevel.STRATEGIC,
        involvement_kind=InvolvementKind.CO_PRODUCTION,
        methods=(InvolvementMethod.WORKSHOP,),
        purpose="Find out how to diversify who is involved.",
        limits_of_influence="The budget is fixed for this year.",
        started_on=date(2021, 1, 4),
        actor=ACTOR,
    )
