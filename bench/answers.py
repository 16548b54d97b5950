"""Read-side figures on a synthetic organisation: catch-up rate, live and as-of answer times, rebuild time and peak memory.

Usage: python -m bench.answers [--events 100000] [--database URL]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial

from bench.synthetic import grow, organisation
from fourpi.bootstrap import open_records, open_views
from fourpi.projections.answers import Slice


def timed(work: Callable[[], object], repeat: int = 5) -> tuple[float, float, float]:
    """Median, fastest and slowest seconds over `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


def rebuild_in_a_fresh_process(url: str) -> None:
    """Run in a child: rebuild, then report seconds and this process's peak memory."""
    views = open_views(url)
    started = time.perf_counter()
    position = views.rebuild()
    seconds = time.perf_counter() - started
    print(f"{position} {seconds:.3f} {peak_memory_mb():.1f}")


def peak_memory_mb() -> float:
    """This process's peak resident memory.

    Not getrusage's ru_maxrss: on Linux it survives exec, so a child would report
    the peak of the parent it was forked from.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--database")
    parser.add_argument("--rebuild-child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.rebuild_child:
        rebuild_in_a_fresh_process(arguments.rebuild_child)
        return
    url = arguments.database or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    records = open_records(url)
    org = organisation(records)
    started = time.perf_counter()
    events = grow(records, org, arguments.events)
    print(f"store      {url}")
    print(f"generated  {events} events in {time.perf_counter() - started:.1f} s")

    views = open_views(url, records)
    started = time.perf_counter()
    head = views.catch_up()
    seconds = time.perf_counter() - started
    print(
        f"catch-up   {head} events in {seconds:.2f} s ({head / seconds:,.0f} events/s)"
    )

    whole = Slice(org)
    (cold, _, _) = timed(lambda: views.report(whole), repeat=1)
    print(f"first      organisation, nothing cached: {cold:.3f} s")
    median, low, high = timed(lambda: views.report(whole))
    print(
        f"live       organisation: median {median:.3f} s (min {low:.3f}, max {high:.3f})"
    )
    for share in (0.1, 0.5, 0.9, 1.0):
        position = max(1, int(head * share))
        median, low, high = timed(partial(views.report, whole, as_of=position))
        print(
            f"as of      position {position:>8} ({share:>4.0%}): median {median:.3f} s "
            f"(min {low:.3f}, max {high:.3f})"
        )
    views.close()
    records.close()

    child = subprocess.run(
        [sys.executable, "-m", "bench.answers", "--rebuild-child", url],
        capture_output=True,
        text=True,
        check=True,
    )
    rebuilt, took, peak = child.stdout.split()
    print(
        f"rebuild    {rebuilt} events in {float(took):.2f} s "
        f"({int(rebuilt) / float(took):,.0f} events/s), peak memory {peak} MB"
    )


if __name__ == "__main__":
    main()
