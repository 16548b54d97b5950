"""Answer pages and impact reports: the demo initiative's answer page, and the report of a synthetic organisation, each timed stage by stage.

Usage: python -m bench.reports [--events 100000] [--repeat 3] [--database URL]

Stages: the answers read through the API's schema (gather), the tables and chart
specifications (sections), the charts drawn as SVG (svg; vl-convert, the first one
in a process also starts its JavaScript engine), the page or report rendered as HTML,
and the PDF printed by WeasyPrint. A repeated run draws its charts from the drawing
cache, as a busy server does when callers see the same figures.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from uuid import UUID, uuid4

from bench.answers import peak_memory_mb
from bench.synthetic import grow, organisation
from fourpi.bootstrap import open_records, open_views
from fourpi.demo import create_demo
from fourpi.domain.access import Role
from fourpi.domain.application import InvolvementRecords
from fourpi.graphql.context import Caller
from fourpi.projections.views import ImpactViews
from fourpi.web.answers import AnswerSlice, Links, gather, page_html, sections
from fourpi.web.charts import charts, drawn
from fourpi.web.report import anchor_at, pdf_of, report_html


class Stopwatch:
    """Seconds per stage, each from the end of the one before."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.times[stage] = now - self.last
        self.last = now


def one_run(
    records: InvolvementRecords,
    views: ImpactViews,
    caller: Caller,
    chosen: AnswerSlice,
    report: bool,
) -> dict[str, float]:
    lap = Stopwatch()
    answers = asyncio.run(gather(records, views, caller, chosen))
    lap("gather")
    shown = sections(answers)
    specs = charts(answers, [t for s in shown for t in s.tables])
    lap("sections")
    for chart in specs.values():
        chart.svg()
    lap("svg")
    if not report:
        page_html(answers, Links("/answers", chosen, None))
        lap("page html")
    else:
        html = report_html(
            answers, records, anchor_at(records.recorder, answers.position)
        )
        lap("report html")
        pdf_of(html)
        lap("pdf")
    times = lap.times
    times["total"] = sum(times.values())
    rows = sum(len(t.rows) for s in shown for t in s.tables)
    times["table rows"] = rows
    return times


def measured(label: str, runs: list[dict[str, float]]) -> None:
    first, rest = runs[0], runs[1:] or runs
    stages = [k for k in first if k not in ("total", "table rows")]
    cold = " ".join(f"{k} {first[k]:.2f}" for k in stages)
    warm = " ".join(f"{k} {statistics.median(r[k] for r in rest):.2f}" for k in stages)
    total = [r["total"] for r in rest]
    print(
        f"{label}: {int(first['table rows'])} table rows; first {first['total']:.2f} s "
        f"({cold}); then median {statistics.median(total):.2f} s, "
        f"min {min(total):.2f}, max {max(total):.2f} ({warm})"
    )


def evaluator(organisation_id: UUID) -> Caller:
    return Caller(uuid4(), Role.EVALUATOR, organisation_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--database")
    parser.add_argument("--skip-demo", action="store_true")
    arguments = parser.parse_args()

    if not arguments.skip_demo:
        url = f"sqlite:///{tempfile.mkdtemp()}/demo.sqlite3"
        records = open_records(url)
        summary = create_demo(records)
        views = open_views(url, records)
        views.catch_up()
        caller = evaluator(summary.organisation_id)
        initiative = AnswerSlice(summary.initiatives[0].initiative_id)
        for report, label in (
            (False, "demo initiative, answer page"),
            (True, "demo initiative, report (PDF)"),
        ):
            runs = [
                one_run(records, views, caller, initiative, report)
                for _ in range(arguments.repeat + 1)
            ]
            measured(label, runs)
        views.close()
        records.close()

    url = arguments.database or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    records = open_records(url)
    org = organisation(records)
    started = time.perf_counter()
    events = grow(records, org, arguments.events)
    print(f"generated {events} events in {time.perf_counter() - started:.1f} s ({url})")
    views = open_views(url, records)
    views.catch_up()
    caller = evaluator(org)
    whole = AnswerSlice()
    for report, label in (
        (False, f"{events}-event organisation, answer page"),
        (True, f"{events}-event organisation, report (PDF)"),
    ):
        drawn.cache_clear()
        runs = [
            one_run(records, views, caller, whole, report)
            for _ in range(max(1, arguments.repeat - 1) + 1)
        ]
        measured(label, runs)
    print(f"peak memory {peak_memory_mb():.0f} MB")
    views.close()
    records.close()


if __name__ == "__main__":
    main()
