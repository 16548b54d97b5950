"""The 4PI impact report of an organisation or initiative, as of any moment, as HTML and PDF: the five answers and their indicators with charts, "you said, we did", each cycle's lessons, the GRIPP2 short-form sections, and the anchor of the log it was made from.

A report is made from the same answers the API gives the caller (fourpi.web.answers)
and records nothing. It prints the anchor, POSITION:SEAL as `fourpi audit anchor`
prints it, of the position its answers stand at, so an auditor can later prove the
log it came from unaltered with `fourpi audit verify --anchor POSITION:SEAL`.
"""

import threading
from dataclasses import dataclass, replace
from importlib import resources
from typing import Literal
from uuid import UUID

from fourpi import local_time
from fourpi.audit import Anchor
from fourpi.domain.application import InvolvementRecords
from fourpi.graphql.context import Caller
from fourpi.projections.views import ImpactViews
from fourpi.web.answers import (
    TEMPLATES,
    Answers,
    AnswerSlice,
    Moment,
    Section,
    as_of_text,
    contributions_flow,
    cut,
    gather,
    narrowing,
    sections,
    shown,
    subject,
    words,
)
from fourpi.web.charts import charts

Format = Literal["html", "pdf"]
SEALS_LOOKED_BACK = 256
REPORT_ROWS = 100
"""The most rows a table prints in the report (a 100k-event organisation has
thousands of meetings): the page's CSV and XLSX downloads hold every row."""


def anchor_at(recorder: object, position: int) -> Anchor | None:
    """The anchor of the log at a position: the seal of the last event at or below
    it (None before the first event)."""
    after = max(0, position - SEALS_LOOKED_BACK)
    while True:
        page = recorder.select_seals(after, SEALS_LOOKED_BACK)  # type: ignore[attr-defined]
        below = [seal for seal in page if seal.position <= position]
        if below:
            last = below[-1]
            return Anchor(last.position, last.chain)
        if after == 0:
            return None
        after = max(0, after - SEALS_LOOKED_BACK)


REPORT_ITEMS = 20
"""The most initiatives, changes, meetings or cycles the report's prose names one by
one; the tables and downloads hold the rest."""


def isolated(text: object) -> str:
    """Text as typed, set apart in a sentence of the report's own words (between
    U+2068 and U+2069, Unicode's first-strong isolate and its end). Free text may
    hold a bidirectional override or embedding, as right-to-left writing can, and
    one never closed turns round everything after it in its paragraph: a change
    described 'New rota' and an override printed '(2024-03-01)' and the words
    after it backwards."""
    return f"\u2068{text}\u2069"


def listed(items: list[str], noun: str) -> str:
    """Items joined for a sentence, the first REPORT_ITEMS of them and how many more."""
    shown = "; ".join(isolated(item) for item in items[:REPORT_ITEMS])
    more = len(items) - REPORT_ITEMS
    return shown if more <= 0 else f"{shown}; and {more} more {noun}"


@dataclass(frozen=True)
class Gripp2Part:
    """One section of the GRIPP2 short form (Staniszewska et al., 2017)."""

    heading: str
    prompt: str
    paragraphs: list[str]


def section_of(all_sections: list[Section], key: str) -> Section:
    return next(section for section in all_sections if section.key == key)


def gripp2(
    answers: Answers, records: InvolvementRecords, all_sections: list[Section]
) -> list[Gripp2Part]:
    """The GRIPP2 short form filled from the record: aim, methods, results,
    outcomes and a critical perspective."""
    data = answers.data
    chosen = answers.chosen
    in_scope = [
        initiative
        for initiative in answers.initiatives.values()
        if chosen.initiative_id is None or initiative["id"] == str(chosen.initiative_id)
    ]
    aim: list[str] = []
    methods: list[str] = []
    for initiative in in_scope[:REPORT_ITEMS]:
        # Purpose, limits and methods are set when an initiative is launched and
        # never changed, so the record as it stands now says what it said then.
        launched: object = records.repository.get(UUID(initiative["id"]))
        purpose = getattr(launched, "purpose", None)
        limits = getattr(launched, "limits_of_influence", None)
        ways = ", ".join(
            words(m.value).lower() for m in getattr(launched, "methods", ())
        )
        aim.append(
            f"{isolated(initiative['name'])}: "
            + (isolated(purpose) if purpose else "no purpose recorded.")
            + (f" Limits of influence: {isolated(limits)}" if limits else "")
        )
        methods.append(
            f"{isolated(initiative['name'])}: "
            f"{words(initiative['involvement_kind']).lower()} at "
            f"the {words(initiative['level']).lower()} level, from "
            f"{initiative['started_on']}" + (f", by {ways}." if ways else ".")
        )
    if len(in_scope) > REPORT_ITEMS:
        more = (
            f"and {len(in_scope) - REPORT_ITEMS} more initiatives, each with a report"
        )
        aim.append(more.capitalize() + " of its own.")
        methods.append(more.capitalize() + " of its own.")
    outcomes = [o["description"] for o in data["intendedOutcomes"]["outcomes"]]
    if outcomes:
        aim.append("Intended outcomes: " + listed(outcomes, "outcomes") + ".")
    presence = section_of(all_sections, "presence")
    experience = section_of(all_sections, "process_experience")
    methods += presence.summary + experience.summary
    for row in presence.tables[0].rows:
        methods.append(
            f"Service users and carers, {str(row[0]).lower()}: {shown(row[1])}."
        )
    flow = dict(contributions_flow(answers))
    differences = data["differences"]
    results = [
        f"Service users and carers made {flow['Contributions']} contributions: "
        f"{flow['Adopted or adapted']} were adopted or adapted, {flow['Led to a change']} "
        f"led to a change, and their contributors were told what became of "
        f"{flow['Contributors told']}.",
        *section_of(all_sections, "differences").summary,
        f"Declined: {data['principles']['declined']}, of which explained: "
        f"{data['principles']['declinesExplained']}.",
    ]
    results += [
        f"{words(change['scope'])}: {isolated(change['description'])} "
        f"({change['changedOn']})."
        for change in differences["changes"][:REPORT_ITEMS]
    ]
    if len(differences["changes"]) > REPORT_ITEMS:
        results.append(
            f"And {len(differences['changes']) - REPORT_ITEMS} more changes."
        )
    outcome_lines = [
        *section_of(all_sections, "intended_outcomes").summary,
        *section_of(all_sections, "end_result").summary,
        *section_of(all_sections, "beyond").summary,
    ]
    for kind in data["beyond"]["byKind"]:
        described = [change["description"] for change in kind["changes"]]
        outcome_lines.append(f"{words(kind['kind'])}: {listed(described, 'changes')}.")
    critical = critical_perspective(answers)
    return [
        Gripp2Part("Aim", "The aim of involvement in this work.", aim),
        Gripp2Part(
            "Methods",
            "How service users and carers were involved.",
            methods,
        ),
        Gripp2Part(
            "Results",
            "What involvement led to, positive and negative.",
            results,
        ),
        Gripp2Part(
            "Outcomes",
            "How far involvement influenced the work overall.",
            outcome_lines,
        ),
        Gripp2Part(
            "Critical perspective",
            "What went well and what did not, so others can learn from it.",
            critical,
        ),
    ]


def critical_perspective(answers: Answers) -> list[str]:
    data = answers.data
    lines = []
    failing = [
        m["title"]
        for m in data["presence"]["meetings"]
        if m["meetingId"] in set(data["presence"]["failingMeetings"])
    ]
    if failing:
        lines.append(
            f"{len(failing)} of {len(data['presence']['meetings'])} meetings fell "
            "below the 4PI standard: " + listed(failing, "meetings") + "."
        )
    process = data["process"]
    if process["awaitingResponse"]:
        lines.append(
            f"{process['awaitingResponse']} contributions are still awaiting a response."
        )
    flow = dict(contributions_flow(answers))
    untold = flow["Contributions"] - flow["Contributors told"]
    if untold:
        lines.append(
            f"Contributors have not yet been told what became of {untold} contributions."
        )
    if process["unpaid"]:
        lines.append(f"{process['unpaid']} payments are not yet paid.")
    policy = data["principles"]["policy"]
    if policy is None:
        lines.append("The organisation has adopted no involvement policy.")
    elif policy["overdue"]:
        lines.append(
            f"The involvement policy's review was due on {policy['reviewDueOn']} and is overdue."
        )
    for cycle in data["cycles"]["cycles"][-REPORT_ITEMS:]:
        if cycle["reflections"]:
            lines.append(
                f"Cycle {cycle['number']} reflected: {isolated(cycle['reflections'])}"
            )
        if cycle["lessons"]:
            lines.append(
                f"Cycle {cycle['number']} learnt: {isolated(cycle['lessons'])}"
            )
    if not lines:
        lines.append(
            "The record shows no shortfall against the standards in this slice."
        )
    return lines


def stylesheet() -> str:
    return (resources.files("fourpi.web") / "static" / "report.css").read_text()


def report_html(
    answers: Answers,
    records: InvolvementRecords,
    anchor: Anchor | None,
    *,
    linked: bool = False,
) -> str:
    """The report as one self-contained HTML document (its stylesheet inlined), or
    `linked` to /static/report.css, as the web app serves it (its pages' content
    security policy allows no inline style)."""
    all_sections = sections(answers)
    drawn = charts(answers, [t for s in all_sections for t in s.tables])
    return TEMPLATES.get_template("report/report.html").render(
        answers=answers,
        subject=subject(answers),
        narrowed=narrowing(answers),
        as_of_text=as_of_text(answers.moment),
        anchor=None if anchor is None else str(anchor),
        gripp2=gripp2(answers, records, all_sections),
        sections=[
            replace(section, notes=section.notes[-REPORT_ITEMS:])
            for section in cut(all_sections, REPORT_ROWS)
        ],
        charts=drawn,
        stylesheet=None if linked else stylesheet(),
        made_on=local_time.shown(local_time.now(), "%Y-%m-%d %H:%M"),
    )


PRINTING = threading.Lock()
"""One PDF at a time in a process: WeasyPrint, and Pango under it, are not made to
be used from two threads at once. The heavy-work turn (fourpi.threads) is one at a
time for an event loop; this holds for the process, however many loops it has."""


def pdf_of(html: str) -> bytes:
    """The report printed to PDF by WeasyPrint (which needs Pango on the system).

    The report's HTML holds all it shows (its stylesheet and charts inline), so
    WeasyPrint is let fetch no address at all: text typed by people, escaped as it
    is, could never make it read the server's files or reach its network."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    fetches_nothing = URLFetcher(allowed_protocols=())
    with PRINTING:
        document: bytes = weasyprint.HTML(
            string=html, url_fetcher=fetches_nothing
        ).write_pdf()
    return document


async def make_report(
    records: InvolvementRecords,
    views: ImpactViews,
    caller: Caller,
    chosen: AnswerSlice,
    moment: Moment,
    form: Format,
) -> bytes:
    """The report for the caller, slice and moment, as HTML (UTF-8) or PDF bytes."""
    answers = await gather(records, views, caller, chosen, moment)
    anchor = anchor_at(records.recorder, answers.position)
    html = report_html(answers, records, anchor)
    return html.encode() if form == "html" else pdf_of(html)
