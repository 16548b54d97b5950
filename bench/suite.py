"""The benchmark suite (issue #7): every workload, on SQLite and PostgreSQL, at several history sizes.

Usage: python -m bench.suite [--sizes 10000,100000,1000000] [--backends sqlite,postgresql]
       [--repeat 3] [--seconds 4] [--quick] [--only 2,7] [--out bench/results.json] [--plot-only]

For each backend and size it generates a fresh store (a SQLite file in a temporary
folder; a fresh `bench_<random>` schema in PostgreSQL's `test` database, dropped
afterwards) and runs each workload `repeat` times, printing the median, min-max, the
ceiling measured in the same run, and the ratio. The history at size N is one
organisation of min(N, 100,000) events (the one the answers are asked about) and, past
100,000, a second organisation holding the rest. HTTP load comes from a separate
process (bench.load) on loopback, bounded in time.
"""

import argparse
import json
import math
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.answers import peak_memory_mb
from bench.load import body_of
from bench.synthetic import grow, organisation
from fourpi.accounts import Accounts
from fourpi.audit import verify
from fourpi.bootstrap import open_records, open_views
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import (
    ContributionNature,
    ImpactArea,
    InvolvementRole,
    ParticipantKind,
)
from fourpi.projections.answers import Slice

ROOT = Path(__file__).resolve().parent.parent
FOURPI = str(Path(sys.executable).parent / "fourpi")
MAIN_ORGANISATION_EVENTS = 100_000
BATCH = 500


@dataclass
class Row:
    backend: str
    size: int
    workload: str
    unit: str
    values: list[float]
    ceiling: list[float] | None = None
    ceiling_unit: str = ""
    higher_is_better: bool = True
    target: str = ""
    met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def ratio(self) -> float | None:
        if not self.ceiling:
            return None
        ceiling = statistics.median(self.ceiling)
        if self.higher_is_better:
            return self.median / ceiling
        return self.median / ceiling  # a time over the ceiling's time


# Stores


@contextmanager
def fresh_store(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="fourpi-bench-")
        try:
            yield f"sqlite:///{folder}/bench.sqlite3"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"bench_{secrets.token_hex(4)}"
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/test?schema={schema}"
    finally:
        drop_schema(schema)


def drop_schema(schema: str) -> None:
    with psycopg.connect(
        "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True
    ) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def generate(url: str, size: int) -> tuple[UUID, UUID, int, float]:
    """The main organisation, one of its initiatives, the events written, seconds taken."""
    records = open_records(url)
    started = time.perf_counter()
    main = organisation(records, "Synthetic Mind")
    written = 1 + grow(records, main, min(size, MAIN_ORGANISATION_EVENTS))
    if size > written:
        other = organisation(records, "Another Trust")
        written += 1 + grow(records, other, size - written, seed=5)
    took = time.perf_counter() - started
    initiative = None
    for notification in records.recorder.select_notifications(start=1, limit=1000):
        if "Initiative.Launched" in notification.topic:
            initiative = UUID(str(notification.originator_id))
            break
    assert initiative is not None
    records.close()
    return main, initiative, written, took


# Log workloads, measured in a fresh child process each time


def measure_log_in_a_fresh_process(url: str) -> None:
    """Rebuild every view (time, peak memory), then read+decode, raw read and verify the log."""
    views = open_views(url)
    records = views.records
    started = time.perf_counter()
    position = views.rebuild()
    rebuild = time.perf_counter() - started
    peak = peak_memory_mb()
    recorder, mapper = records.recorder, records.mapper

    def read(decode: bool) -> int:
        count, start = 0, 1
        while True:
            batch = recorder.select_notifications(start=start, limit=BATCH)
            if not batch:
                return count
            if decode:
                for notification in batch:
                    mapper.to_domain_event(notification)
            count += len(batch)
            start = batch[-1].id + 1

    started = time.perf_counter()
    decoded = read(decode=True)
    read_decode = time.perf_counter() - started
    started = time.perf_counter()
    read(decode=False)
    raw = time.perf_counter() - started
    started = time.perf_counter()
    result = verify(recorder)
    verifying = time.perf_counter() - started
    assert result.intact, result.broken
    print(
        json.dumps(
            {
                "position": position,
                "events": decoded,
                "rebuild": rebuild,
                "peak_mb": peak,
                "read_decode": read_decode,
                "raw_read": raw,
                "verify": verifying,
                "verified": result.events,
            }
        )
    )


def log_workloads(backend: str, size: int, url: str, repeat: int) -> list[Row]:
    runs = []
    for _ in range(repeat):
        child = subprocess.run(
            [sys.executable, "-m", "bench.suite", "--measure-log", url],
            capture_output=True,
            text=True,
            check=True,
            timeout=3600,
            cwd=ROOT,
        )
        runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
    events = runs[0]["events"]
    decode_rates = [events / r["read_decode"] for r in runs]
    peak = max(r["peak_mb"] for r in runs)
    catch_up = Row(
        backend,
        size,
        "3 catch-up (events/s, all views)",
        "events/s",
        [r["position"] / r["rebuild"] for r in runs],
        decode_rates,
        "read+decode events/s",
        target="ratio >= 0.5",
    )
    catch_up.met = (catch_up.ratio or 0) >= 0.5
    rebuild = Row(
        backend,
        size,
        "4 rebuild (s, all views)",
        "s",
        [r["rebuild"] for r in runs],
        [r["read_decode"] for r in runs],
        "read+decode s",
        higher_is_better=False,
        target="time <= 2x, peak < 300 MB",
        extra={"peak_mb": peak},
    )
    rebuild.met = (rebuild.ratio or 99) <= 2 and peak < 300
    audit = Row(
        backend,
        size,
        "6 audit verify (events/s)",
        "events/s",
        [r["verified"] / r["verify"] for r in runs],
        [events / r["raw_read"] for r in runs],
        "raw read events/s",
        target="ratio >= 0.5",
    )
    audit.met = (audit.ratio or 0) >= 0.5
    return [catch_up, rebuild, audit]


def as_of_workload(
    backend: str, size: int, url: str, org: UUID, initiative: UUID, repeat: int
) -> list[Row]:
    """As-of answers for one initiative at 10/50/90/100% of the log, nothing cached."""
    records = open_records(url)
    views = open_views(url, records)
    head = views.position()
    rows = []
    for share in (0.1, 0.5, 0.9, 1.0):
        position = max(1, int(head * share))
        times = []
        for _ in range(repeat):
            views.cache.clear()
            views.reports.clear()  # cold: neither the facts nor the report are kept
            started = time.perf_counter()
            views.report(Slice(org, initiative), as_of=position)
            times.append(time.perf_counter() - started)
        row = Row(
            backend,
            size,
            f"5 as-of initiative @{share:.0%} (s)",
            "s",
            times,
            higher_is_better=False,
            target="median < 1 s",
            extra={"position": position},
        )
        row.met = row.median < 1.0
        rows.append(row)
    views.close()
    records.close()
    return rows


# HTTP workloads


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(
    url: str, port: int, projections: bool = True, workers: int = 1
) -> subprocess.Popen[bytes]:
    command = [FOURPI, "serve", "--database", url, "--port", str(port)]
    if not projections:
        command.append("--no-projections")
    if workers > 1:
        command += ["--workers", str(workers)]
    # The server's own log, kept for diagnosing errors counted by the load generator.
    log = Path(tempfile.gettempdir()) / f"fourpi-bench-serve-{port}.log"
    with log.open("wb") as out:
        return subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=out, cwd=ROOT
        )


def wait_healthy(port: int, timeout: float = 60.0) -> float:
    """Seconds until /healthz first answers 200."""
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
                == 200
            ):
                return time.perf_counter() - began
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise TimeoutError(f"server on port {port} did not answer in {timeout} s")


def drain(port: int, timeout: float = 120.0, quick: float = 0.05) -> None:
    """Wait until the server has nothing left in hand: /healthz answers at once.

    "At once" is within `quick` seconds or, from the fourth answer on, no slower
    than half as much again as the quickest before it: on a loaded machine no
    answer comes within 50 ms, and waiting for one would spend the whole timeout."""
    began = time.perf_counter()
    quickest = math.inf
    probes = 0
    while time.perf_counter() - began < timeout:
        asked = time.perf_counter()
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=timeout)
        took = time.perf_counter() - asked
        probes += 1
        if took < quick or (probes > 3 and took <= 1.5 * quickest):
            return
        quickest = min(quickest, took)
        time.sleep(0.2)


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


FORM_PATH = "/record/registerParticipant"
"""The web app's form that registers a person (the form of registerParticipant)."""


def load(
    port: int,
    token: str,
    workload: str,
    seconds: float,
    clients: int = 16,
    initiative: UUID | None = None,
    csrf: str = "",
) -> dict[str, Any]:
    """Load from bench.load; for the web form, `token` is the session's id."""
    if workload == "form":
        # name=value: a secret may begin with "-", which would read as an option.
        target = [f"http://127.0.0.1:{port}{FORM_PATH}", f"--session={token}"]
        target += [f"--csrf={csrf}"]
    else:
        target = [f"http://127.0.0.1:{port}/graphql", f"--token={token}"]
    command = [
        sys.executable,
        "-m",
        "bench.load",
        "--url",
        *target,
        "--workload",
        workload,
        "--clients",
        str(clients),
        "--seconds",
        str(seconds),
    ]
    if initiative:
        command += ["--initiative", str(initiative)]
    child = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 120,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(child.stdout)
    if result["errors"]:
        print(
            f"    ! {workload}: {result['errors']} errors, first: {result['first_error']}",
            flush=True,
        )
    return result


def start_up_workload(backend: str, size: int, url: str) -> Row:
    times = []
    for _ in range(5):
        port = free_port()
        began = time.perf_counter()
        server = launch(url, port)
        try:
            wait_healthy(port)
            times.append(time.perf_counter() - began)
        finally:
            stop(server)
    row = Row(
        backend,
        size,
        "7 start-up to first /healthz (s)",
        "s",
        times,
        higher_is_better=False,
        target="median <= 1.5 s",
    )
    row.met = row.median <= 1.5
    return row


def answers_workload(
    backend: str,
    size: int,
    url: str,
    org: UUID,
    initiative: UUID,
    repeat: int,
    seconds: float,
) -> list[Row]:
    records = open_records(url)
    _, token = records.issue_token(
        organisation_id=org, role=Role.EVALUATOR, actor="bench"
    )
    records.close()
    port = free_port()
    server = launch(url, port)
    try:
        wait_healthy(port)
        load(port, token, "answers", 1.0, clients=1)  # warm: facts read once
        answers, typename = [], []
        for _ in range(repeat):
            # The ceiling first, on an idle server: requests still in flight from the
            # answers would otherwise hold the { __typename } requests up.
            drain(port)
            typename.append(load(port, token, "typename", seconds))
            drain(port)
            answers.append(load(port, token, "answers", seconds))
        drain(port)
        whole = [
            load(port, token, "answers", seconds / 2, clients=1) for _ in range(repeat)
        ]
        load(port, token, "answers", 1.0, clients=1, initiative=initiative)
        one = [
            load(port, token, "answers", seconds / 2, clients=1, initiative=initiative)
            for _ in range(repeat)
        ]
        after_write = first_answers_after_a_write(url, port, token, org, repeat)
        after_others = {
            write: first_answers_after_a_write(
                url, port, token, org, repeat, write, initiative
            )
            for write in ("a contribution", "a role")
        }
    finally:
        stop(server)
    invalid = sum(r["errors"] for r in answers + typename + whole + one)
    throughput = Row(
        backend,
        size,
        "2 five answers, 16 clients (req/s)",
        "req/s",
        [r["rps"] for r in answers],
        [r["rps"] for r in typename],
        "{ __typename } req/s",
        target="ratio >= 0.5",
        extra={"errors": invalid, "p50": [r["p50"] for r in answers]},
    )
    throughput.met = invalid == 0 and (throughput.ratio or 0) >= 0.5
    latency_org = Row(
        backend,
        size,
        "2 five answers, 1 client, organisation (s)",
        "s",
        [r["p50"] for r in whole],
        higher_is_better=False,
        target="1M within 1.5x of 10k",
    )
    latency_one = Row(
        backend,
        size,
        "2 five answers, 1 client, initiative (s)",
        "s",
        [r["p50"] for r in one],
        higher_is_better=False,
        target="1M within 1.5x of 10k",
    )
    latency_cold = Row(
        backend,
        size,
        "2 five answers, first after a write, organisation (s)",
        "s",
        after_write,
        higher_is_better=False,
        target="median <= 0.25 s",
    )
    latency_cold.met = latency_cold.median <= 0.25
    others = [
        Row(
            backend,
            size,
            f"2 five answers, first after {write}, organisation (s)",
            "s",
            times,
            higher_is_better=False,
            target="(reported)",
        )
        for write, times in after_others.items()
    ]
    return [throughput, latency_org, latency_one, latency_cold, *others]


WRITES_BEFORE_ANSWERS: dict[str, str] = {
    "a write": "a person registered, who takes part in nothing yet: no answer reads it",
    "a contribution": "a contribution logged: the report changes, no count of people",
    "a role": "a service user given a role: counts of people change",
}
"""The writes the first answers after a write are timed after, by the workload's
name for them."""


def first_answers_after_a_write(
    url: str,
    port: int,
    token: str,
    org: UUID,
    repeat: int,
    write: str = "a write",
    initiative: UUID | None = None,
) -> list[float]:
    """The five answers asked once right after a write (see WRITES_BEFORE_ANSWERS):
    the server has no report for the new position yet, so this is what the first
    answer after that write costs (the views catching up, and whatever of the
    answers and the suppression pattern the write makes the server work out again)."""
    records = open_records(url)
    times = []

    def ask(http: httpx.Client) -> float:
        began = time.perf_counter()
        response = http.post(
            f"http://127.0.0.1:{port}/graphql",
            json=body_of("answers", random.Random(0), None),
        )
        took = time.perf_counter() - began
        if response.status_code != 200 or "errors" in response.json():
            raise RuntimeError(f"answers failed: {response.text[:300]}")
        return took

    try:
        with httpx.Client(
            headers={"Authorization": f"Bearer {token}"}, timeout=300.0
        ) as http:
            for number in range(repeat):
                person = records.register_participant(
                    organisation_id=org,
                    pseudonym=f"after-write-{number}-{secrets.token_hex(4)}",
                    participant_kind=ParticipantKind.SERVICE_USER,
                    actor="bench",
                )
                if write != "a write":
                    assert initiative is not None
                    ask(http)  # the registration's answers, before the write timed
                    write_one(records, write, org, initiative, person)
                times.append(ask(http))
    finally:
        records.close()
    return times


def write_one(
    records: Any, write: str, org: UUID, initiative: UUID, person: UUID
) -> None:
    if write == "a contribution":
        records.log_contribution(
            organisation_id=org,
            initiative_id=initiative,
            contributor_ids=[person],
            nature=ContributionNature.IDEA,
            summary="Hold the group in the evening",
            impact_areas=(ImpactArea.DELIVERY,),
            made_on=date(2024, 1, 8),
            actor="bench",
        )
    else:
        records.assign_role(
            organisation_id=org,
            initiative_id=initiative,
            participant_id=person,
            role=InvolvementRole.CO_WORKER,
            paid=False,
            decision_making=False,
            started_on=date(2024, 1, 8),
            actor="bench",
        )


class Thing(Aggregate):
    """The bare library's smallest aggregate: created by one event."""

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name


def bare_env(backend: str, folder: str, schema: str) -> dict[str, str]:
    if backend == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": f"{folder}/bare.sqlite3",
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "test",
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": "5432",
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": "",
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": "16",
    }


def bare_rate(backend: str, seconds: float, clients: int = 16) -> float:
    """The bare eventsourcing Application creating and saving one aggregate per call."""
    folder = tempfile.mkdtemp(prefix="fourpi-bare-")
    schema = f"bench_bare_{secrets.token_hex(4)}"
    if backend == "postgresql":
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=True
        ) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    app: Application[UUID] = Application(env=bare_env(backend, folder, schema))
    counts = [0] * clients
    failures = [0]
    barrier = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(number: int) -> None:
        barrier.wait()
        while time.perf_counter() < deadline[0]:
            try:
                app.save(Thing(name=f"t{number}"))
                counts[number] += 1
            except Exception:
                failures[0] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - began
    app.close()
    shutil.rmtree(folder, ignore_errors=True)
    if backend == "postgresql":
        drop_schema(schema)
    assert not failures[0], f"{failures[0]} bare saves failed"
    return sum(counts) / took


def signed_in_manager(url: str, org: UUID) -> tuple[str, str]:
    """A manager of the organisation signed in to the web app: the session's id
    (its cookie) and the CSRF token its forms carry."""
    records = open_records(url)
    accounts = Accounts(records)
    _, secret = accounts.invite(
        organisation_id=org,
        email=f"bench-{secrets.token_hex(4)}@bench.example",
        role=Role.MANAGER,
        actor="bench",
    )
    password = secrets.token_urlsafe(18)
    session_id, session = accounts.join(
        secret=secret, display_name="Bench", password=password, confirmation=password
    )
    records.close()
    return session_id, session.csrf_token


def writes_workload(
    backend: str, size: int, url: str, org: UUID, repeat: int, seconds: float
) -> list[Row]:
    """Durable writes over HTTP, 16 clients, against the bare library's saves in the
    same run: registerParticipant through the API, and the web app's form that
    registers a person, posted as a browser posts it (signed in, its CSRF token, a
    new idempotency key each time)."""
    records = open_records(url)
    _, token = records.issue_token(
        organisation_id=org, role=Role.MANAGER, actor="bench"
    )
    records.close()
    session, csrf = signed_in_manager(url, org)
    port = free_port()
    server = launch(url, port, projections=False)
    runs, posts, ceiling = [], [], []
    try:
        wait_healthy(port)
        load(port, token, "register", 1.0)  # warm
        load(port, session, "form", 1.0, csrf=csrf)
        for _ in range(repeat):
            runs.append(load(port, token, "register", seconds))
            posts.append(load(port, session, "form", seconds, csrf=csrf))
            ceiling.append(bare_rate(backend, seconds))
    finally:
        stop(server)
    invalid = sum(r["errors"] for r in runs)
    row = Row(
        backend,
        size,
        "1 durable writes, 16 clients (mut/s)",
        "mut/s",
        [r["rps"] for r in runs],
        ceiling,
        "bare library saves/s",
        target="ratio >= 0.5",
        extra={
            "errors": invalid,
            "p50": [r["p50"] for r in runs],
            "p99": [r["p99"] for r in runs],
        },
    )
    row.met = invalid == 0 and (row.ratio or 0) >= 0.5
    refused = sum(r["errors"] for r in posts)
    form = Row(
        backend,
        size,
        "1 web form posts, 16 clients (posts/s)",
        "posts/s",
        [r["rps"] for r in posts],
        ceiling,
        "bare library saves/s",
        target="ratio >= 0.5, rate >= the mutation's",
        extra={
            "errors": refused,
            "of_mutation": statistics.median(r["rps"] for r in posts) / row.median,
            "p50": [r["p50"] for r in posts],
            "p99": [r["p99"] for r in posts],
        },
    )
    form.met = refused == 0 and (form.ratio or 0) >= 0.5 and form.median >= row.median
    return [row, form, *scaled_out_writes(backend, size, url, token, repeat, seconds)]


def scaled_out_writes(
    backend: str, size: int, url: str, token: str, repeat: int, seconds: float
) -> list[Row]:
    """The same durable writes served as the README scales out on PostgreSQL (`fourpi
    serve --workers 2`, projections off as in the row above), against a bare ceiling
    measured beside them. Reported: the target is set for one process. SQLite serves
    one process (`--workers` refuses it)."""
    if backend != "postgresql":
        return []
    port = free_port()
    server = launch(url, port, projections=False, workers=2)
    runs, ceiling = [], []
    try:
        wait_healthy(port)
        load(port, token, "register", 1.0)  # warm both processes
        for _ in range(repeat):
            runs.append(load(port, token, "register", seconds))
            ceiling.append(bare_rate(backend, seconds))
    finally:
        stop(server)
    return [
        Row(
            backend,
            size,
            "1 durable writes, serve --workers 2, 16 clients (mut/s)",
            "mut/s",
            [r["rps"] for r in runs],
            ceiling,
            "bare library saves/s",
            target="(reported)",
            extra={"errors": sum(r["errors"] for r in runs)},
        )
    ]


def several_processes_workload(
    backend: str, size: int, url: str, org: UUID, repeat: int, seconds: float
) -> list[Row]:
    """`fourpi serve --workers N` (N = 1, 2; projections on, so one projection worker
    in the parent): durable writes and the five answers, 16 clients each. Only
    PostgreSQL serves several processes."""
    if backend != "postgresql":
        return []
    records = open_records(url)
    _, manager = records.issue_token(
        organisation_id=org, role=Role.MANAGER, actor="bench"
    )
    _, evaluator = records.issue_token(
        organisation_id=org, role=Role.EVALUATOR, actor="bench"
    )
    records.close()
    rows = []
    for workers in (1, 2):
        port = free_port()
        server = launch(url, port, workers=workers)
        writes, answers = [], []
        try:
            wait_healthy(port)
            load(port, evaluator, "answers", 1.0, clients=1)  # warm
            for _ in range(repeat):
                drain(port)
                writes.append(load(port, manager, "register", seconds))
                drain(port)
                # The first answers after the writes pay for the new position once.
                load(port, evaluator, "answers", 1.0, clients=1)
                answers.append(load(port, evaluator, "answers", seconds))
        finally:
            stop(server)
        for name, runs in (("durable writes", writes), ("five answers", answers)):
            unit = "mut/s" if name == "durable writes" else "req/s"
            row = Row(
                backend,
                size,
                f"8 serve --workers {workers}, {name}, 16 clients ({unit})",
                unit,
                [r["rps"] for r in runs],
                target="(reported)",
                extra={"errors": sum(r["errors"] for r in runs)},
            )
            rows.append(row)
    return rows


# Reporting


def format_number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def table_line(row: Row) -> str:
    ceiling = (
        f"{format_number(statistics.median(row.ceiling))} {row.ceiling_unit}"
        if row.ceiling
        else "-"
    )
    ratio = "-"
    if row.ratio is not None:
        ratio = f"{row.ratio:.2f}" if row.ratio >= 0.1 else f"{row.ratio:.2g}"
    extra = ""
    if "peak_mb" in row.extra:
        extra = f", peak {row.extra['peak_mb']:.0f} MB"
    if "position" in row.extra:
        extra = f", position {row.extra['position']}"
    if "of_mutation" in row.extra:
        extra = f", {row.extra['of_mutation']:.2f}x the mutation's"
    if row.extra.get("errors"):
        extra += f", {row.extra['errors']} ERRORS"
    met = {True: "met", False: "NOT met", None: ""}[row.met]
    return (
        f"| {row.backend} | {row.size:,} | {row.workload} | {format_number(row.median)} "
        f"| {format_number(min(row.values))}-{format_number(max(row.values))}{extra} "
        f"| {ceiling} | {ratio} | {row.target} | {met} |"
    )


HEADER = (
    "| backend | events | workload | median | min-max | ceiling (median) | ratio "
    "| target | |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def growth_rows(rows: list[Row]) -> list[str]:
    lines = []
    for backend in sorted({r.backend for r in rows}):
        for name in (
            "2 five answers, 1 client, organisation (s)",
            "2 five answers, 1 client, initiative (s)",
            "2 five answers, first after a write, organisation (s)",
        ):
            by_size = {
                r.size: r.median
                for r in rows
                if r.backend == backend and r.workload == name
            }
            if len(by_size) < 2:
                continue
            small, large = min(by_size), max(by_size)
            growth = by_size[large] / by_size[small]
            verdict = f"target <= 1.5x: {'met' if growth <= 1.5 else 'NOT met'}"
            lines.append(
                f"{backend}: {name}: {format_number(by_size[large])} s at {large:,} "
                f"/ {format_number(by_size[small])} s at {small:,} = {growth:.2f}x "
                f"({verdict})"
            )
    return lines


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib  # type: ignore[import-not-found, import-untyped, unused-ignore]

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # type: ignore[import-not-found, import-untyped, unused-ignore]

    panels: list[tuple[str, str, Callable[[Row], float]]] = [
        (
            "1 durable writes (ms per mutation, 16 clients)",
            "1 durable writes, 16 clients (mut/s)",
            lambda r: 1000 / r.median,
        ),
        (
            "2 five answers, organisation (s per request, 1 client)",
            "2 five answers, 1 client, organisation (s)",
            lambda r: r.median,
        ),
        (
            "2 five answers, one initiative (s per request)",
            "2 five answers, 1 client, initiative (s)",
            lambda r: r.median,
        ),
        (
            "3 catch-up (s per 1k events)",
            "3 catch-up (events/s, all views)",
            lambda r: 1000 / r.median,
        ),
        ("4 rebuild (s, whole log)", "4 rebuild (s, all views)", lambda r: r.median),
        (
            "5 as-of initiative @100% (s)",
            "5 as-of initiative @100% (s)",
            lambda r: r.median,
        ),
        (
            "6 audit verify (s per 1k events)",
            "6 audit verify (events/s)",
            lambda r: 1000 / r.median,
        ),
        (
            "7 start-up to first answer (s)",
            "7 start-up to first /healthz (s)",
            lambda r: r.median,
        ),
    ]
    figure, axes = plt.subplots(2, 4, figsize=(18, 8))
    for axis, (title, name, cost) in zip(axes.flat, panels, strict=True):
        for backend, style in (("sqlite", "o-"), ("postgresql", "s--")):
            points = sorted(
                (r.size, cost(r))
                for r in rows
                if r.backend == backend and r.workload == name
            )
            if points:
                axis.plot(*zip(*points, strict=True), style, label=backend)
        axis.set_xscale("log")
        axis.set_yscale("log")
        costs = [cost(r) for r in rows if r.workload == name]
        if costs:  # at least a decade shown, so noise does not look like growth
            middle = statistics.geometric_mean(costs)
            axis.set_ylim(
                min(min(costs) / 2, middle / 4), max(max(costs) * 2, middle * 4)
            )
        axis.set_title(title, fontsize=9)
        axis.set_xlabel("events in the history")
        axis.grid(True, which="both", alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=8)
    figure.suptitle("fourpi: cost of each workload against the length of the history")
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def workloads(
    backend: str,
    size: int,
    url: str,
    org: UUID,
    initiative: UUID,
    arguments: argparse.Namespace,
) -> list[Callable[[], list[Row]]]:
    repeat, seconds = arguments.repeat, arguments.seconds
    chosen: list[Callable[[], list[Row]]] = [
        lambda: log_workloads(backend, size, url, repeat),
        lambda: as_of_workload(backend, size, url, org, initiative, repeat),
        lambda: [start_up_workload(backend, size, url)],
        lambda: answers_workload(backend, size, url, org, initiative, repeat, seconds),
        lambda: writes_workload(backend, size, url, org, repeat, seconds),
        lambda: several_processes_workload(backend, size, url, org, repeat, seconds),
    ]
    if arguments.only is None:
        return chosen
    # The log workloads (3, 4, 6) come as one step; an HTTP-only run catches up first.
    steps = {"3": 0, "4": 0, "6": 0, "5": 1, "7": 2, "2": 3, "1": 4, "8": 5}
    wanted = sorted({steps[w] for w in arguments.only.split(",")})

    def catch_up() -> list[Row]:
        views = open_views(url)
        views.catch_up()
        views.close()
        return []

    return [catch_up, *(chosen[n] for n in wanted)]


def run(arguments: argparse.Namespace) -> list[Row]:
    rows: list[Row] = []
    out = Path(arguments.out)
    for backend in arguments.backends:
        for size in arguments.sizes:
            with fresh_store(backend) as url:
                print(f"\n== {backend}, {size:,} events ==", flush=True)
                org, initiative, written, took = generate(url, size)
                print(
                    f"generated {written:,} events in {took:.1f} s "
                    f"({written / took:,.0f}/s)",
                    flush=True,
                )
                steps = workloads(backend, size, url, org, initiative, arguments)
                for step in steps:
                    began = time.perf_counter()
                    done = step()
                    for row in done:
                        row.extra["generated"] = written
                        print(table_line(row), flush=True)
                    print(f"    ({time.perf_counter() - began:.0f} s)", flush=True)
                    rows.extend(done)
                    out.write_text(json.dumps([asdict(r) for r in rows], indent=1))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--seconds", type=float, default=4.0, help="length of each HTTP load run"
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--only", help="run only these workloads, by number: e.g. 2 or 1,7"
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--plot", default=str(ROOT / "bench" / "growth.png"))
    parser.add_argument(
        "--plot-only", action="store_true", help="redraw the plot from --out"
    )
    parser.add_argument("--measure-log", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure_log:
        measure_log_in_a_fresh_process(arguments.measure_log)
        return
    arguments.sizes = [int(s) for s in arguments.sizes.split(",")]
    arguments.backends = arguments.backends.split(",")
    if arguments.quick:
        arguments.sizes, arguments.repeat = [10_000, 100_000], 2
    if arguments.plot_only:
        # A later file's row replaces an earlier one for the same backend, size and
        # workload (a rerun of some workloads with --only).
        merged: dict[tuple[str, int, str], Row] = {}
        for name in arguments.out.split(","):
            for r in json.loads(Path(name).read_text()):
                merged[(r["backend"], r["size"], r["workload"])] = Row(**r)
        rows = sorted(
            merged.values(), key=lambda r: (r.backend != "sqlite", r.size, r.workload)
        )
    else:
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus", flush=True)
        rows = run(arguments)
    print("\n" + HEADER)
    for row in rows:
        print(table_line(row))
    for line in growth_rows(rows):
        print(line)
    plot(rows, Path(arguments.plot))
    print(f"plot: {arguments.plot}")


if __name__ == "__main__":
    main()
