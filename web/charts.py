"""Charts of the answers: one Vega-Lite specification per chart, drawn on the server as SVG (vl-convert runs Vega offline), for the answer pages and the report alike.

Each chart is drawn from a table of fourpi.web.answers and only from the figures the
caller may see: a hidden figure (`Hidden`) is left out of the data, so no bar, point,
label or tooltip, and no part of the specification or the SVG, can carry it. The
table beside each chart is its text alternative and says what is hidden and why.
"""

import functools
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import orjson
import vl_convert

from fourpi.web.answers import Answers, Hidden, Ratio, Table, all_tables

SPEC = dict[str, Any]
FONT = "DejaVu Sans"
DRAWINGS_KEPT = 256
WIDTH = 420
COLOURS = ["#1d4e89", "#d1495b", "#00798c", "#edae49", "#66a182"]
"""Colours that keep a contrast of at least 3:1 against white."""


@dataclass(frozen=True)
class Chart:
    """A chart of one table: the finding in words, its specification, and the
    figures it could not draw."""

    table: str
    title: str
    spec: SPEC
    left_out: int
    """How many of the table's figures are hidden and so not drawn."""
    drawing: str | None = None
    """The SVG, once drawn (`drawn`)."""

    def svg(self) -> str:
        return svg_of(self.spec) if self.drawing is None else self.drawing

    def drawn(self) -> "Chart":
        """The chart with its SVG drawn now: vl-convert holds the interpreter while
        it draws (some 0.03-0.15 s a chart, 0.4 s a page at 100k events), so a page
        draws its charts in its worker thread, never while the template is rendered
        on the event loop, which every other request waits on."""
        return replace(self, drawing=self.svg())


def svg_of(spec: SPEC) -> str:
    """The chart drawn as SVG, with no XML declaration, ready to inline in HTML."""
    return drawn(orjson.dumps(drawable(spec), option=orjson.OPT_SORT_KEYS).decode())


NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What XML cannot hold: control characters (but tab, line feed and carriage
return), lone surrogates, U+FFFE and U+FFFF."""


def drawable(value: Any) -> Any:
    """The specification with each character XML cannot hold (NOT_IN_XML) as U+FFFD.
    vl-convert ends the whole process, every request it is answering with it, on
    one in a label or title (a Rust panic that cannot unwind). The record refuses
    them in what people type; this holds whatever a chart is given."""
    if isinstance(value, str):
        return NOT_IN_XML.sub("\ufffd", value)
    if isinstance(value, dict):
        return {key: drawable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [drawable(item) for item in value]
    return value


@functools.lru_cache(maxsize=DRAWINGS_KEPT)
def drawn(spec: str) -> str:
    """Drawings by their specification: the same answers draw the same charts for
    the page, its report and every caller who sees the same figures."""
    svg: str = vl_convert.vegalite_to_svg(spec)
    width = WIDTH_DRAWN.search(svg)
    if width is None or not float(width[1]) < LARGEST_DRAWING:
        # Vega sizes a chart with no marks (every value hidden, or nobody yet)
        # as infinitely large, 1.8e308 wide: WeasyPrint then writes 'nan' and
        # 'inf' into the PDF's drawing, operators no PDF reader knows. Its finding
        # and its table say what there is.
        return ""
    return re.sub(r"^<\?xml[^>]*>\s*", "", svg)


WIDTH_DRAWN = re.compile(r'<svg[^>]*?\swidth="([^"]+)"')
LARGEST_DRAWING = 100_000
"""Wider than any chart of a page or a report could be drawn, in pixels."""


def base(title: str, values: list[dict[str, Any]], **rest: Any) -> SPEC:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        # The finding is the figure's caption in the page and the report, as text
        # a screen reader and a search find; the drawing repeats it nowhere.
        "description": title,
        "width": WIDTH,
        "data": {"values": values},
        "config": {
            "font": FONT,
            "aria": False,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "labelLimit": 220},
            "legend": {"labelFontSize": 11, "titleFontSize": 11},
            "range": {"category": COLOURS},
        },
        **rest,
    }


def grouped_bars(
    title: str,
    values: list[dict[str, Any]],
    row: str,
    group: str,
    value: str,
    axis: dict[str, Any],
    legend: str | None = None,
) -> SPEC:
    """Horizontal bars, one row per `row`, a bar per `group` within it."""
    return base(
        title,
        values,
        height={"step": 12},
        mark={"type": "bar"},
        encoding={
            "y": {"field": row, "type": "nominal", "title": None, "sort": None},
            "yOffset": {"field": group},
            "x": {"field": value, "type": "quantitative", **axis},
            "color": {"field": group, "type": "nominal", "title": legend},
        },
    )


def whole_numbers(counts: list[Any]) -> dict[str, Any]:
    """An axis of counts that labels whole numbers only."""
    most = int(max(counts, default=0))
    if most <= 12:
        return {"values": list(range(most + 1)), "format": "d"}
    return {"tickMinStep": 1, "format": "d"}


def number(cell: object) -> float | None:
    """A cell's value to draw, or None when it is hidden or missing."""
    if isinstance(cell, bool) or cell is None or isinstance(cell, Hidden):
        return None
    if isinstance(cell, int):
        return float(cell)
    if isinstance(cell, Ratio):
        return float(cell.exact)
    return None


def hidden_count(table: Table, columns: tuple[int, ...]) -> int:
    return sum(1 for row in table.rows for i in columns if isinstance(row[i], Hidden))


def bars(
    table: Table, title: str, value_title: str, *, column: int = 1, sort: bool = False
) -> Chart:
    """One horizontal bar per row: its label and one count."""
    values = [
        {"label": str(row[0]), "value": number(row[column]), "order": index}
        for index, row in enumerate(table.rows)
        if number(row[column]) is not None
    ]
    spec = base(
        title,
        values,
        height={"step": 22},
        mark={"type": "bar", "color": COLOURS[0]},
        encoding={
            "y": {
                "field": "label",
                "type": "nominal",
                "title": None,
                "sort": "-x" if sort else {"field": "order"},
            },
            "x": {
                "field": "value",
                "type": "quantitative",
                "title": value_title,
                "axis": whole_numbers([v["value"] for v in values]),
            },
        },
    )
    return Chart(table.key, title, spec, hidden_count(table, (column,)))


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def largest(table: Table) -> tuple[str, int] | None:
    rows = [(str(r[0]), int(r[1])) for r in table.rows if isinstance(r[1], int)]
    return max(rows, key=lambda r: r[1]) if rows else None


# One chart builder per table that has a chart.


def outcomes_chart(answers: Answers, table: Table) -> Chart:
    answer = answers.data["intendedOutcomes"]
    total = len(answer["outcomes"])
    done = sum(
        int(c["count"])
        for c in answer["byAssessment"]
        if c["key"] in ("achieved", "partly_achieved")
    )
    return bars(
        table,
        f"{done} of {plural(total, 'intended outcome')} achieved or partly achieved",
        "Intended outcomes",
    )


def flow_chart(answers: Answers, table: Table) -> Chart:
    stage = {str(row[0]): row[1] for row in table.rows}
    title = (
        f"Of {plural(int(str(stage['Contributions'])), 'contribution')}, "
        f"{stage['Adopted or adapted']} were adopted or adapted, "
        f"{stage['Led to a change']} led to a change, and contributors were told "
        f"what became of {stage['Contributors told']}"
    )
    return bars(table, title, "Contributions")


def counted_chart(noun: str) -> Callable[[Answers, Table], Chart]:
    def chart(answers: Answers, table: Table) -> Chart:
        total = sum(int(str(row[1])) for row in table.rows)
        most = largest(table)
        title = f"{plural(total, noun)}" + (
            "" if most is None else f"; the most ({most[1]}): {most[0].lower()}"
        )
        return bars(table, title, noun.capitalize() + "s", sort=True)

    return chart


def scores_chart(answers: Answers, table: Table) -> Chart | None:
    means = [
        (mean, str(row[0]), str(row[1]))
        for row in table.rows
        if (mean := number(row[3])) is not None
    ]
    values = [{"kind": k, "dimension": d, "mean": m} for m, k, d in means]
    if means:
        low, high = min(means), max(means)
        title = (
            f"Mean scores from {low[0]:.2f} ({low[2].lower()}) to "
            f"{high[0]:.2f} ({high[2].lower()}) out of 5"
        )
    elif hidden_count(table, (3,)):
        title = "No mean score can be shown: each is worked out from a hidden count"
    else:
        return None  # nobody has scored anything: nothing to draw
    spec = grouped_bars(
        title,
        values,
        "dimension",
        "kind",
        "mean",
        {"title": "Mean score (1 to 5)", "scale": {"domain": [0, 5]}},
        legend="Respondents",
    )
    return Chart(table.key, title, spec, hidden_count(table, (3,)))


MOST_BARS = 40
"""More rows than this are drawn as a distribution, not one bar each."""


def attendance_chart(table: Table, title: str, values: list[dict[str, Any]]) -> Chart:
    """Many meetings: how many meetings had each number of service users and carers,
    against the standard (only meetings whose count the caller may see)."""
    spec = base(
        title,
        values,
        height=180,
        layer=[
            {
                "mark": {"type": "bar", "color": COLOURS[0]},
                "encoding": {
                    "x": {
                        "field": "people",
                        "type": "ordinal",
                        "title": "Service users and carers attending",
                    },
                    "y": {
                        "aggregate": "count",
                        "type": "quantitative",
                        "title": "Meetings",
                    },
                },
            },
        ],
    )
    return Chart(table.key, title, spec, hidden_count(table, (4,)))


def meetings_chart(answers: Answers, table: Table) -> Chart:
    values = [
        {"meeting": f"{row[0]} ({row[1]})", "people": number(row[4]), "order": i}
        for i, row in enumerate(table.rows)
        if number(row[4]) is not None
    ]
    meets = sum(1 for row in table.rows if row[7] == "yes")
    title = (
        f"{meets} of {plural(len(table.rows), 'meeting')} met the 4PI standard of "
        "at least two, ideally three, service users or carers"
    )
    if len(values) > MOST_BARS:
        return attendance_chart(table, title, values)
    standard = [
        {"people": 2, "line": "Standard: two"},
        {"people": 3, "line": "Ideally three"},
    ]
    spec = base(
        title,
        [],
        height={"step": 22},
        layer=[
            {
                "data": {"values": values},
                "mark": {"type": "bar", "color": COLOURS[0]},
                "encoding": {
                    "y": {
                        "field": "meeting",
                        "type": "nominal",
                        "title": None,
                        "sort": {"field": "order"},
                    },
                    "x": {
                        "field": "people",
                        "type": "quantitative",
                        "title": "Service users and carers attending",
                        "axis": whole_numbers([3] + [v["people"] for v in values]),
                    },
                },
            },
            {
                "data": {"values": standard},
                "mark": {"type": "rule", "strokeDash": [4, 3], "strokeWidth": 2},
                "encoding": {
                    "x": {"field": "people", "type": "quantitative"},
                    "color": {
                        "field": "line",
                        "type": "nominal",
                        "title": None,
                        "scale": {"range": [COLOURS[1], COLOURS[2]]},
                    },
                },
            },
        ],
    )
    return Chart(table.key, title, spec, hidden_count(table, (4,)))


def diversity_chart(answers: Answers, table: Table) -> Chart:
    category = table.caption.split(":")[1].split(" of ")[0].strip()
    values: list[dict[str, Any]] = []
    gaps = []
    for row in table.rows:
        share, reference = number(row[2]), number(row[3])
        if share is not None:
            values.append(
                {"value": str(row[0]), "who": "Those involved", "share": share}
            )
        if reference is not None:
            values.append(
                {"value": str(row[0]), "who": "Population", "share": reference}
            )
        if share is not None and reference:
            gaps.append((share - reference, str(row[0]), share, reference))
    if gaps:
        gap, name, share, reference = min(gaps)
        title = (
            f"{category.capitalize()}: {name.lower()} the least represented against the "
            f"population ({share:.0%} of those involved, {reference:.0%} of the population)"
            if gap < 0
            else f"{category.capitalize()}: no value is under-represented against the population"
        )
    elif not any(number(row[3]) is not None for row in table.rows):
        title = f"{category.capitalize()}: no reference population to compare with"
    else:
        title = (
            f"{category.capitalize()}: shares of those involved cannot be shown against "
            "the population (worked out from hidden counts)"
        )
    spec = grouped_bars(
        title,
        values,
        "value",
        "who",
        "share",
        {"title": "Share", "axis": {"format": "%"}},
    )
    return Chart(table.key, title, spec, hidden_count(table, (1, 2, 4)))


def days(cell: object) -> str:
    value = number(cell)
    return "no" if value is None else f"{value:g} days"


def days_chart(answers: Answers, table: Table) -> Chart:
    values: list[dict[str, Any]] = []
    for row in table.rows:
        for column, what in ((2, "Median"), (3, "90% within")):
            value = number(row[column])
            if value is not None:
                values.append({"measure": str(row[0]), "what": what, "days": value})
    spread = {str(row[0]): row for row in table.rows}
    pay = spread["Days from owed to paid"][2]
    respond = spread["Days from contribution to response"][2]
    title = (
        f"Payments took a median of {days(pay)} from owed to paid; responses "
        f"to contributions a median of {days(respond)}"
    )
    spec = grouped_bars(title, values, "measure", "what", "days", {"title": "Days"})
    return Chart(table.key, title, spec, 0)


def feedback_chart(answers: Answers, table: Table) -> Chart:
    values = [
        {"period": str(row[0]), "told": number(row[2]), "order": i}
        for i, row in enumerate(table.rows)
        if number(row[2]) is not None
    ]
    if values:
        first, last = values[0], values[-1]
        title = (
            f"Contributors were told what became of {first['told']:.0%} of the "
            f"contributions made in {first['period']}"
            + (
                ""
                if first is last
                else f", and of {last['told']:.0%} of those made in {last['period']}"
            )
        )
    else:
        title = "No contributions in these periods"
    spec = base(
        title,
        values,
        height=160,
        mark={"type": "line", "point": True, "color": COLOURS[0]},
        encoding={
            "x": {
                "field": "period",
                "type": "ordinal",
                "title": "Contributions made in",
                "sort": {"field": "order"},
            },
            "y": {
                "field": "told",
                "type": "quantitative",
                "title": "Contributors told",
                "axis": {"format": "%"},
                "scale": {"domain": [0, 1]},
            },
        },
    )
    return Chart(table.key, title, spec, 0)


PHASE_NAMES = ("Act", "Evaluate", "Reflect", "Learn")


def cycles_chart(answers: Answers, table: Table) -> Chart:
    moment = answers.as_of_date
    values: list[dict[str, Any]] = []
    for number, row in enumerate(table.rows):
        entered = [str(d) if d is not None else None for d in row[3:7]]
        following = table.rows[number + 1] if number + 1 < len(table.rows) else None
        # A cycle's last phase lasts until its initiative's next cycle enters Act.
        if following is not None and following[0] == row[0] and following[3]:
            moment_or_next = str(following[3])
        else:
            moment_or_next = moment
        for index, start in enumerate(entered):
            if start is None:
                continue
            later = [d for d in entered[index + 1 :] if d is not None]
            end = later[0] if later else moment_or_next
            values.append(
                {
                    "cycle": f"Cycle {row[1]}: {textwrap.shorten(str(row[0]), 40)}",
                    "phase": PHASE_NAMES[index],
                    "start": start,
                    "end": max(end, start),
                }
            )
    phases = [str(row[2]) for row in table.rows]
    title = (
        f"{plural(len(table.rows), 'cycle')}: "
        f"{sum(1 for p in phases if p == 'Learn')} reached Learn"
        if table.rows
        else "No cycles yet"
    )
    if len(table.rows) > MOST_BARS:
        began: dict[str, str] = {}
        for value in values:
            began[value["cycle"]] = max(began.get(value["cycle"], ""), value["start"])
        latest = set(sorted(began, key=began.__getitem__)[-MOST_BARS:])
        values = [v for v in values if v["cycle"] in latest]
        title += f" (the {MOST_BARS} latest drawn)"
    spec = base(
        title,
        values,
        height={"step": 22},
        mark={"type": "bar"},
        encoding={
            "y": {"field": "cycle", "type": "nominal", "title": None, "sort": None},
            "x": {"field": "start", "type": "temporal", "title": None},
            "x2": {"field": "end"},
            "color": {
                "field": "phase",
                "type": "nominal",
                "title": "Phase",
                "sort": list(PHASE_NAMES),
                "scale": {"domain": list(PHASE_NAMES)},
            },
        },
    )
    return Chart(table.key, title, spec, 0)


BUILDERS: dict[str, Callable[[Answers, Table], Chart | None]] = {
    "outcomes-by-assessment": outcomes_chart,
    "contributions-flow": flow_chart,
    "changes-by-scope": counted_chart("change"),
    "changes-by-area": counted_chart("change"),
    "process-scores": scores_chart,
    "meetings": meetings_chart,
    "days": days_chart,
    "feedback-over-time": feedback_chart,
    "cycles": cycles_chart,
}


def builder_of(key: str) -> Callable[[Answers, Table], Chart | None] | None:
    if key.startswith("diversity-"):
        return diversity_chart
    return BUILDERS.get(key)


def charts(answers: Answers, tables: list[Table] | None = None) -> dict[str, Chart]:
    """The chart of every table that has one and something to draw, by table key
    (a table with no rows has nothing, and so has the scores table when nobody has
    scored anything)."""
    drawn = {}
    for table in all_tables(answers) if tables is None else tables:
        build = builder_of(table.key)
        if build is not None and table.rows:
            chart = build(answers, table)
            if chart is not None:
                drawn[table.key] = chart
    return drawn


__all__ = ["Chart", "charts", "svg_of"]
