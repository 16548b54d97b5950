"""Instructions per write, and per first answer after a role, counted by callgrind.

Usage: python -m bench.instructions [--events 10000] [--count 200] [--answers 5]
       [--runs 2] [--store FOLDER]

Wall time on a busy machine moves with whatever else runs; the instructions a piece
of work executes do not. This counts them, the server's alone, with the composed app
(the API and the web app, as `fourpi serve` builds it) called in-process on SQLite,
no HTTP client and no socket:

1. `register`: registerParticipant mutations (as bench.load sends them);
2. `role`: assignRole mutations, each giving a person registered beforehand a role
   in the organisation's initiatives in turn;
   `role-in-one`: the same, every role in one initiative (bench.suite's), whose
   history every role lengthens: what a role costs once its initiative has had
   `--count` more of them;
3. `answers`: the five answers (bench.load's) asked right after a role, as
   bench.suite's first_answers_after_a_write asks them: a person registered and the
   answers asked, a role given, then the views caught up (what the server's
   projection worker does) and the answers asked again; that last is counted.

Each workload runs in its own process under `valgrind --tool=callgrind`, `runs`
times. Counting starts after a warm-up (20 writes; two rounds of answers) and covers
only the work counted: callgrind dumps its counts, and starts again from 0, on
entry to `getloadavg` (`--dump-before`), a C function nothing else calls, reached
from Python as os.getloadavg(), once before the work and once after. (Its
`--zero-before` is no use here: it leaves alone what the threads then waiting, the
worker threads a request runs in, have counted so far.) Each process also counts a
region that does nothing, and that is taken off. The store
(`--events` by bench.synthetic, views caught up) is made once and copied for each
run, so every run starts from the same log; give `--store` to keep it, or to reuse
one (for instance to compare two commits on one store).
"""

import argparse
import asyncio
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

from bench.load import body_of
from bench.suite import generate, write_one
from fourpi.bootstrap import open_records, open_views
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import ParticipantKind

WORKLOADS = ("register", "role", "role-in-one", "answers")
WARM_WRITES = 20
WARM_ANSWERS = 2
ASSIGN_ROLE = (
    "mutation($input: AssignRoleInput!) "
    "{ assignRole(input: $input) { id logPosition } }"
)
ONE_THREAD = {
    "PYTHONHASHSEED": "0",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}
"""The same hashes every run, and no BLAS threads: OpenBLAS's idle threads spin
waiting for work, so they would be counted whatever was asked of them."""
STORE_FILE = "bench.sqlite3"
SETUP_FILE = "setup.json"


def prepare(folder: Path, events: int, count: int) -> None:
    """A store of `events` synthetic events with its views caught up, tokens for a
    manager and an evaluator, and the people the role workload gives roles to."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / STORE_FILE}"
    org, initiative, _, _ = generate(url, events)
    records = open_records(url)
    initiatives, start = [], 1
    while batch := records.recorder.select_notifications(start=start, limit=1000):
        initiatives += [
            str(n.originator_id) for n in batch if "Initiative.Launched" in n.topic
        ]
        start = batch[-1].id + 1
    _, manager = records.issue_token(
        organisation_id=org, role=Role.MANAGER, actor="bench"
    )
    _, evaluator = records.issue_token(
        organisation_id=org, role=Role.EVALUATOR, actor="bench"
    )
    people = [
        str(
            records.register_participant(
                organisation_id=org,
                pseudonym=f"role-{number}",
                participant_kind=ParticipantKind.SERVICE_USER,
                actor="bench",
            )
        )
        for number in range(WARM_WRITES + count)
    ]
    views = open_views(url, records)
    views.catch_up()
    views.close()
    records.close()
    setup = {
        "organisation": str(org),
        "initiative": str(initiative),
        "initiatives": initiatives,
        "manager": manager,
        "evaluator": evaluator,
        "people": people,
        "events": events,
    }
    (folder / SETUP_FILE).write_text(json.dumps(setup))


class InProcess:
    """The composed app called as an ASGI server calls it, one request at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def post(self, token: str, body: Any) -> dict[str, Any]:
        content = orjson.dumps(body)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"127.0.0.1:8000"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
                (b"authorization", f"Bearer {token}".encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        answered = asyncio.Event()
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": content, "more_body": False}
            await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    answered.set()

        await self.app(scope, receive, send)
        answer: dict[str, Any] = orjson.loads(b"".join(chunks))
        if status != 200 or "errors" in answer:
            raise RuntimeError(f"{status}: {answer}")
        return answer


async def counted(work: Callable[[], Awaitable[object]]) -> None:
    """The work, with callgrind's counts dumped before it and after it."""
    os.getloadavg()
    await work()
    os.getloadavg()


async def nothing() -> None:
    return None


async def measure(folder: Path, workload: str, count: int) -> None:
    """The workload's warm-up, a region doing nothing, and the counted work."""
    from fourpi.graphql.app import create_app

    setup = json.loads((folder / SETUP_FILE).read_text())
    url = f"sqlite:///{folder / STORE_FILE}"
    org, initiative = UUID(setup["organisation"]), UUID(setup["initiative"])
    records = open_records(url)
    views = open_views(url, records)
    client = InProcess(create_app(records, views, run_projections=False, web=True))
    rng = random.Random(0)

    async def register(number: int) -> None:
        for _ in range(number):
            await client.post(setup["manager"], body_of("register", rng, None))

    people = iter(setup["people"])
    initiatives = itertools.cycle(
        [setup["initiative"]] if workload == "role-in-one" else setup["initiatives"]
    )

    async def assign(number: int) -> None:
        for _ in range(number):
            role = {
                "initiativeId": next(initiatives),
                "participantId": next(people),
                "role": "CO_WORKER",
                "paid": False,
                "decisionMaking": False,
                "startedOn": "2024-01-08",
            }
            body = {"query": ASSIGN_ROLE, "variables": {"input": role}}
            await client.post(setup["manager"], body)

    async def answers() -> None:
        views.catch_up()
        await client.post(setup["evaluator"], body_of("answers", rng, None))

    async def after_a_role(number: int) -> None:
        person = records.register_participant(
            organisation_id=org,
            pseudonym=f"after-role-{number}",
            participant_kind=ParticipantKind.SERVICE_USER,
            actor="bench",
        )
        await answers()  # the registration's answers, before the role
        write_one(records, "a role", org, initiative, person)

    await counted(nothing)
    if workload == "register":
        await register(WARM_WRITES)
        await counted(lambda: register(count))
    elif workload in ("role", "role-in-one"):
        await assign(WARM_WRITES)
        await counted(lambda: assign(count))
    else:
        await answers()
        for number in range(WARM_ANSWERS + count):
            await after_a_role(number)
            if number < WARM_ANSWERS:
                await answers()
            else:
                await counted(answers)
    views.close()
    records.close()


def summary(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"{path}: no summary line")


def run_once(store: Path, workload: str, count: int) -> float:
    """Instructions per operation, in one process under callgrind."""
    with tempfile.TemporaryDirectory(prefix="fourpi-instructions-") as scratch:
        copy = Path(scratch) / "store"
        shutil.copytree(store, copy)
        out = Path(scratch) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--dump-before=getloadavg",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.instructions",
                "--measure",
                workload,
                "--count",
                str(count),
                "--store",
                str(copy),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **ONE_THREAD},
        )
        # Dumps before and after each region: an odd one is what came before a
        # region, an even one a region, the first of them the one doing nothing.
        dumps = sorted(
            Path(scratch).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:])
        )
        idle, *regions = [summary(d) for d in dumps[1::2]]
        if not regions:
            raise RuntimeError(f"{workload}: nothing was counted")
        return sum(region - idle for region in regions) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--count", type=int, default=200, help="writes counted")
    parser.add_argument("--answers", type=int, default=5, help="answers counted")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--only", default=",".join(w for w in WORKLOADS if w != "role-in-one")
    )
    parser.add_argument("--store", type=Path)
    parser.add_argument("--measure", choices=WORKLOADS, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.measure:
        asyncio.run(measure(arguments.store, arguments.measure, arguments.count))
        return
    store = arguments.store or Path(tempfile.mkdtemp(prefix="fourpi-instructions-"))
    try:
        if not (store / SETUP_FILE).exists():
            prepare(store, arguments.events, arguments.count)
        for workload in arguments.only.split(","):
            count = arguments.answers if workload == "answers" else arguments.count
            per = [run_once(store, workload, count) for _ in range(arguments.runs)]
            print(
                f"{workload:9} {statistics.median(per):>14,.0f} instructions each "
                f"({', '.join(f'{p:,.0f}' for p in per)}; {count} counted a run)",
                flush=True,
            )
    finally:
        if arguments.store is None:
            shutil.rmtree(store, ignore_errors=True)


if __name__ == "__main__":
    main()
