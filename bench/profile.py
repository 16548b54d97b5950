"""Where the time goes in the workloads furthest from their targets.

Usage: python -m bench.profile [--events 100000]   (needs pyinstrument)

1. The write path without HTTP: register_participant straight on the application
   service (1 and 16 threads), token authentication alone, and the bare library's
   save, so the HTTP/GraphQL share of a durable write can be read off.
2. pyinstrument profiles of a rebuild of every view (the slowest workload in wall time)
   and of the five answers for the whole organisation (cached facts).
"""

import argparse
import tempfile
import threading
import time
from collections.abc import Callable

from bench.suite import bare_rate
from bench.synthetic import grow, organisation
from fourpi.audit import verify
from fourpi.bootstrap import open_records, open_views
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import ParticipantKind
from fourpi.projections.answers import Slice


def rate(work: Callable[[int], object], threads: int, seconds: float) -> float:
    counts = [0] * threads
    deadline = time.perf_counter() + seconds

    def loop(number: int) -> None:
        while time.perf_counter() < deadline:
            work(number)
            counts[number] += 1

    began = time.perf_counter()
    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.perf_counter() - began)


def main() -> None:
    from pyinstrument import Profiler  # type: ignore[import-not-found, unused-ignore]

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    arguments = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp()}/profile.sqlite3"
    records = open_records(url)
    org = organisation(records)
    grow(records, org, arguments.events)
    _, secret = records.issue_token(
        organisation_id=org, role=Role.MANAGER, actor="bench"
    )

    def register(number: int) -> None:
        records.register_participant(
            organisation_id=org,
            pseudonym=f"X{number}",
            participant_kind=ParticipantKind.CARER,
            actor="bench",
        )

    print("== the write path without HTTP (SQLite, 3 s each) ==")
    print(f"register_participant, 1 thread:   {rate(register, 1, 3):8,.0f}/s")
    print(f"register_participant, 16 threads: {rate(register, 16, 3):8,.0f}/s")
    print(
        f"authenticate(token), 1 thread:    "
        f"{rate(lambda n: records.authenticate(secret), 1, 3):8,.0f}/s"
    )
    print(f"bare library save, 16 threads:    {bare_rate('sqlite', 3):8,.0f}/s")

    views = open_views(url, records)
    profiler = Profiler(interval=0.001)
    profiler.start()
    views.rebuild()
    profiler.stop()
    print("\n== pyinstrument: rebuild of every view ==")
    print(profiler.output_text(unicode=False, color=False, show_all=False))

    profiler = Profiler(interval=0.001)
    profiler.start()
    verify(records.recorder)
    profiler.stop()
    print("\n== pyinstrument: audit verify ==")
    print(profiler.output_text(unicode=False, color=False, show_all=False))

    whole = Slice(org)
    views.report(whole)
    profiler = Profiler(interval=0.001)
    profiler.start()
    for _ in range(3):
        views.report(whole)
    profiler.stop()
    print("\n== pyinstrument: the organisation's answers, facts cached (x3) ==")
    print(profiler.output_text(unicode=False, color=False, show_all=False))


if __name__ == "__main__":
    main()
