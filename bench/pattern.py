"""The small-number suppression pattern of a synthetic organisation, timed on its own.

Usage: python -m bench.pattern [--events 100000] [--table /tmp/fourpi-pattern-100000.pickle]
       [--threshold 5] [--seconds 3600] [--repeat 3]

The table of counts of people is built once, as `fourpi.privacy.suppression` builds it
(`people_table(people_figures(facts, organisation))`), from a fresh SQLite store grown
by `bench.synthetic`, and pickled to --table; later runs read the pickle, so only the
pattern is timed.
"""

import argparse
import base64
import os
import pickle
import secrets
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.synthetic import grow, organisation
from fourpi.bootstrap import open_records, open_views
from fourpi.projections.disclosure import (
    PATTERN_SECONDS,
    PeopleTable,
    people_table,
    suppressed_cells,
)
from fourpi.projections.evaluate import people_figures


def table_of(events: int) -> PeopleTable:
    """The table of a fresh organisation of about `events` events."""
    os.environ.setdefault(
        "FOURPI_MASTER_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    )
    folder = tempfile.mkdtemp(prefix="fourpi-pattern-")
    try:
        url = f"sqlite:///{folder}/bench.sqlite3"
        records = open_records(url)
        main = organisation(records)
        grow(records, main, events)
        views = open_views(url, records)
        position = views.catch_up()
        facts = views.store.read_facts(main, position)
        return people_table(people_figures(facts, main))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--table", type=Path)
    parser.add_argument("--threshold", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--repeat", type=int, default=3)
    chosen = parser.parse_args()
    path = chosen.table or Path(f"/tmp/fourpi-pattern-{chosen.events}.pickle")
    if path.exists():
        table = pickle.loads(path.read_bytes())
    else:
        table = table_of(chosen.events)
        path.write_bytes(pickle.dumps(table))
    print(f"table: {len(table.values)} cells, {len(table.groups)} groups ({path})")
    took = []
    for _ in range(chosen.repeat):
        started = time.perf_counter()
        hidden = suppressed_cells(table, chosen.threshold, seconds=chosen.seconds)
        took.append(time.perf_counter() - started)
    everything = len(hidden) == len(table.values)
    print(
        f"pattern: {len(hidden)} suppressed"
        f"{' (every cell: out of time?)' if everything else ''}; seconds: median "
        f"{statistics.median(took):.3f}, min {min(took):.3f}, max {max(took):.3f} "
        f"(cap {chosen.seconds:g}; the service's default is {PATTERN_SECONDS:g})"
    )


if __name__ == "__main__":
    main()
