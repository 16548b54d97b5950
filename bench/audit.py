"""Audit figures on a synthetic log: verify, export and import rates, and verify's peak memory.

Usage: python -m bench.audit [--events 200000] [--database URL]
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.answers import peak_memory_mb
from bench.synthetic import grow, organisation
from fourpi.audit import export_log, import_log, verify
from fourpi.bootstrap import open_records


def verify_in_a_fresh_process(url: str) -> None:
    records = open_records(url)
    started = time.perf_counter()
    result = verify(records.recorder)
    seconds = time.perf_counter() - started
    assert result.intact, result.broken
    print(f"{result.events} {seconds:.3f} {peak_memory_mb():.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--database")
    parser.add_argument("--verify-child", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.verify_child:
        verify_in_a_fresh_process(arguments.verify_child)
        return
    folder = Path(tempfile.mkdtemp())
    url = arguments.database or f"sqlite:///{folder}/bench.sqlite3"
    records = open_records(url)
    events = grow(records, organisation(records), arguments.events)
    print(f"store      {url}: {events} events")
    child = subprocess.run(
        [sys.executable, "-m", "bench.audit", "--verify-child", url],
        capture_output=True,
        text=True,
        check=True,
    )
    verified, took, peak = child.stdout.split()
    rate = int(verified) / float(took)
    print(
        f"verify     {verified} events in {float(took):.2f} s ({rate:,.0f} events/s; "
        f"{1_000_000 / rate:.0f} s per million), peak memory {peak} MB"
    )
    started = time.perf_counter()
    with (folder / "log.ndjson").open("wb") as out:
        exported = export_log(records.recorder, out)
    took_export = time.perf_counter() - started
    print(
        f"export     {exported} events in {took_export:.2f} s ({exported / took_export:,.0f} events/s)"
    )
    target = open_records(f"sqlite:///{folder}/imported.sqlite3")
    started = time.perf_counter()
    imported = import_log(target.recorder, folder / "log.ndjson")
    took_import = time.perf_counter() - started
    print(
        f"import     {imported} events in {took_import:.2f} s ({imported / took_import:,.0f} events/s, verifying the file first)"
    )


if __name__ == "__main__":
    main()
