"""Small helpers the tests share: a default actor, registering people, the log position, and counting the work a call does."""

import os
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg import sql

from fourpi.bootstrap import open_records, open_views, prepare_storage
from fourpi.config import parse_database_url
from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import ParticipantKind

if TYPE_CHECKING:
    from fourpi.projections.views import ImpactViews

POSTGRES_URL = os.environ.get(
    "FOURPI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)

ACTOR = "manager@example.org"

TEST_MASTER_KEY = "Zm91cnBpLXRlc3QtbWFzdGVyLWtleS0zMi1ieXRlcyE"
"""The fixed master key every test store wraps its people's keys under (base64url of
32 bytes); tests/conftest.py puts it in the environment for the whole session."""


def register(
    records: InvolvementRecords,
    organisation_id: UUID,
    kind: ParticipantKind = ParticipantKind.SERVICE_USER,
    pseudonym: str = "Advisor",
) -> UUID:
    return records.register_participant(
        organisation_id=organisation_id,
        pseudonym=pseudonym,
        participant_kind=kind,
        actor=ACTOR,
    )


def python_calls(work: Callable[[], object]) -> int:
    """How many Python function calls (each step of a generator counts) the work
    makes in this thread: a measure of work that does not move with the machine's
    speed or load, so a test can tell work that grows with the square of its input
    from work that grows with the input."""
    calls = 0

    def counting(frame: Any, event: str, argument: Any) -> None:
        nonlocal calls
        if event == "call":
            calls += 1

    sys.setprofile(counting)
    try:
        work()
    finally:
        sys.setprofile(None)
    return calls


def synthetic_organisation(
    folder: Any, initiatives: int
) -> tuple["ImpactViews", UUID, int]:
    """A synthetic organisation of some initiatives, each with its people, roles,
    meetings, contributions, responses, changes, feedback and payments (about 250
    events each), in a SQLite store in the folder: its views caught up, its id,
    and their position."""
    from bench import synthetic

    url = f"sqlite:///{folder}/synthetic-{initiatives}.sqlite3"
    records = open_records(url)
    views = open_views(url, records=records)
    organisation_id = synthetic.organisation(records)
    rng = random.Random(4)
    for number in range(1, initiatives + 1):
        records.save(*synthetic.initiative(rng, organisation_id, number))
    views.catch_up()
    return views, organisation_id, views.position()


def log_position(records: InvolvementRecords) -> int:
    """How many events the store holds: unchanged by any refused command."""
    return records.recorder.max_notification_id() or 0


class Store:
    """A fresh event store for each random history."""

    def __init__(self, backend: str) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.folder = tempfile.mkdtemp()
            self.url = f"sqlite:///{self.folder}/history.sqlite3"
        else:
            self.schema = f"machine_{uuid4().hex[:12]}"
            self.url = f"{POSTGRES_URL}?schema={self.schema}"

    def open(self, **extra: str) -> InvolvementRecords:
        database = parse_database_url(self.url)
        prepare_storage(database)
        return InvolvementRecords(env=database.eventsourcing_env() | extra)

    def remove(self) -> None:
        if self.backend == "sqlite":
            shutil.rmtree(self.folder, ignore_errors=True)
            return
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(self.schema)
                )
            )


def post_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """The ASGI scope of a POST to `path`, for a test that sends its body (or its
    client's going away) message by message, as no HTTP client library can."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
    }


def counting_at_once(
    function: Callable[..., Any], seen: list[int]
) -> Callable[..., Any]:
    """The function, noting in `seen` how many calls of it are under way as each
    begins; each waits long enough for others to begin, were they let."""
    at_once = 0
    lock = threading.Lock()

    def counted(*arguments: Any, **named: Any) -> Any:
        nonlocal at_once
        with lock:
            at_once += 1
            seen.append(at_once)
        try:
            time.sleep(0.2)
            return function(*arguments, **named)
        finally:
            with lock:
                at_once -= 1

    return counted


@contextmanager
def names_on_many_lines() -> Iterator[None]:
    """Names recorded as they were before a name had to be on one line (b4773a5):
    text, but with line breaks and tabs, as stores and logs of that time hold them
    and must go on being read."""
    from fourpi.domain import access, account, initiative, organisation, participant
    from fourpi.domain.record import check_text

    def old_line(field: str, value: str, *, max_length: int) -> str:
        return check_text(field, value, max_length=max_length)

    def old_optional_line(field: str, value: str | None, *, max_length: int) -> str:
        if value is None or not value.strip():
            return ""
        return old_line(field, value, max_length=max_length)

    with pytest.MonkeyPatch.context() as patch:
        for module in (account, initiative, organisation, participant):
            patch.setattr(module, "check_line", old_line)
        patch.setattr(access, "check_optional_line", old_optional_line)
        yield
