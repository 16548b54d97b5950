"""The small-number suppression pattern of a synthetic organisation, timed on its own.

Usage: python -m bench.pattern [--events 100000] [--table /tmp/fourpi-pattern-100000.pickle]
       [--threshold 5] [--seconds 3600] [--repeat 3] [--after-roles N]

The table of counts of people is built once, as `fourpi.privacy.suppression` builds it
(`people_table(people_figures(facts, organisation))`), from a fresh SQLite store grown
by `bench.synthetic`, and pickled to --table; later runs read the pickle, so only the
pattern is timed.

--after-roles N: instead, on a fresh store of that size, give a newly registered
service user a role N times (the suite's "first answer after a role"), and time the
pattern the views hand out right after each (`Patterns.of`: the figures, the table,
and the pattern worked out again from the last), against the same pattern worked out
from nothing.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import fourpi.privacy.suppression
from bench.suite import write_one
from bench.synthetic import grow, organisation
from fourpi.bootstrap import open_records, open_views
from fourpi.collection import collection_paused
from fourpi.domain.vocabulary import ParticipantKind
from fourpi.privacy.suppression import Patterns
from fourpi.projections.disclosure import (
    PATTERN_SECONDS,
    PeopleTable,
    people_table,
    suppressed_cells,
)
from fourpi.projections.evaluate import people_figures


@contextmanager
def grown(events: int) -> Iterator[tuple[Any, Any, UUID, int]]:
    """A fresh SQLite store holding an organisation of about `events` events, its
    views caught up: (records, views, the organisation, the position)."""
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
        yield records, views, main, views.catch_up()
        records.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def table_of(events: int) -> PeopleTable:
    """The table of a fresh organisation of about `events` events."""
    with grown(events) as (_, views, main, position):
        facts = views.store.read_facts(main, position)
        return people_table(people_figures(facts, main))


def after_roles(events: int, writes: int) -> None:
    """Time the pattern handed out right after each of `writes` roles given."""
    steps = ("kept_people_figures", "kept_people_table", "suppression_pattern")
    spent: dict[str, float] = dict.fromkeys(steps, 0.0)
    for name in steps:
        setattr(fourpi.privacy.suppression, name, _timed(spent, name))
    with grown(events) as (records, views, main, position):
        patterns = Patterns(views)
        threshold = patterns.threshold(main, position)
        patterns.of(main, position, threshold)
        facts = views.cache.facts(main, position)
        initiatives = [UUID(str(row["initiative_id"])) for row in facts["initiatives"]]
        took = []
        for number in range(writes):
            person = records.register_participant(
                organisation_id=main,
                pseudonym=f"after-role-{number}",
                participant_kind=ParticipantKind.SERVICE_USER,
                actor="bench",
            )
            initiative = initiatives[number * 37 % len(initiatives)]
            write_one(records, "a role", main, initiative, person)
            position = views.catch_up()
            facts = views.cache.facts(main, position)
            spent.update(dict.fromkeys(steps, 0.0))
            started = time.perf_counter()
            handed_out = patterns.of(main, position, threshold)
            took.append(time.perf_counter() - started)
            parts = ", ".join(f"{name} {spent[name]:.3f}" for name in steps)
            with collection_paused():
                started = time.perf_counter()
                afresh = suppressed_cells(
                    people_table(people_figures(facts, main)), threshold
                )
                whole = time.perf_counter() - started
            print(
                f"after a role: {took[-1]:.3f} s ({parts}); from nothing {whole:.3f} s;"
                f" {len(handed_out)} suppressed, the same: {handed_out == afresh}"
            )
        print(
            f"median {statistics.median(took):.3f} s, min {min(took):.3f}; patterns"
            f" worked out again in part: {patterns.solved_in_part} of {writes}"
        )


def _timed(spent: dict[str, float], name: str) -> Callable[..., Any]:
    """The module's function of that name, adding the seconds each call takes."""
    original = getattr(fourpi.privacy.suppression, name)

    def timed(*args: Any, **named: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **named)
        finally:
            spent[name] += time.perf_counter() - started

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--table", type=Path)
    parser.add_argument("--threshold", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3600.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--after-roles", type=int, default=0)
    chosen = parser.parse_args()
    if chosen.after_roles:
        after_roles(chosen.events, chosen.after_roles)
        return
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
