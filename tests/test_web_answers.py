"""The answer pages, charts, downloads and impact report: every figure is the API's for the same caller, slice and moment, and no suppressed value reaches a page, a chart, a download or the PDF."""

import asyncio
import copy
import csv
import datetime as dt
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import openpyxl
import pypdf
import pytest
from click.testing import CliRunner

from fourpi.accounts import Accounts
from fourpi.audit import anchor_of
from fourpi.cli import main
from fourpi.demo import DemoSummary, create_demo
from fourpi.domain.access import Role
from fourpi.domain.vocabulary import (
    ChangeScope,
    ImpactArea,
    ProcessDimension,
    RespondentKind,
)
from fourpi.graphql.app import create_app
from fourpi.graphql.context import Caller
from fourpi.web import answer_routes
from fourpi.web import answers as web
from fourpi.web.charts import charts
from fourpi.web.downloads import csv_of, xlsx_of
from fourpi.web.report import anchor_at, pdf_of, report_html
from tests.api import ApiStore, client, data_of, graphql
from tests.conftest import IN_CI
from tests.helpers import counting_at_once, python_calls
from tests.web import TestClient, organisation_with_a_chain, person, sign_in

ROLES = {
    "evaluator": (Role.EVALUATOR, False),
    "manager": (Role.MANAGER, False),
    "manager granted personal data": (Role.MANAGER, True),
    "auditor": (Role.AUDITOR, False),
    "auditor granted personal data": (Role.AUDITOR, True),
}


@dataclass
class Demo:
    store: ApiStore
    summary: DemoSummary
    tokens: dict[str, str]

    def caller(self, role: str) -> Caller:
        token = self.store.records.authenticate(self.tokens[role])
        assert token is not None
        return Caller.of(token)

    def gather(
        self, role: str, chosen: web.AnswerSlice, moment: web.Moment = None
    ) -> web.Answers:
        return asyncio.run(
            web.gather(
                self.store.records, self.store.views, self.caller(role), chosen, moment
            )
        )

    def api(self, role: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The API's answer over HTTP, with the role's bearer token."""

        async def asked() -> dict[str, Any]:
            async with client(self.store) as http:
                return data_of(
                    await graphql(http, query, variables, token=self.tokens[role])
                )

        return asyncio.run(asked())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web')}/demo.sqlite3"
    store = ApiStore(url)
    summary = create_demo(store.records)
    store.views.catch_up()
    tokens = {
        name: store.token(summary.organisation_id, role, personal_data=granted)
        for name, (role, granted) in ROLES.items()
    }
    store.views.catch_up()  # a live read would otherwise wait for the tokens' events
    yield Demo(store, summary, tokens)
    store.close()


def slices(demo: Demo) -> dict[str, web.AnswerSlice]:
    first = demo.summary.initiatives[0].initiative_id
    return {
        "organisation": web.AnswerSlice(),
        "first initiative": web.AnswerSlice(first),
        "an impact area": web.AnswerSlice(impact_area="diversity_and_equality"),
    }


def table(answers: web.Answers, key: str) -> web.Table:
    (found,) = [t for t in web.all_tables(answers) if t.key == key]
    return found


def share(value: dict[str, Any] | None) -> Fraction | None:
    return None if value is None else Fraction(value["numerator"], value["denominator"])


def people(count: dict[str, Any]) -> int | None:
    """A count as the API gave it: None when suppressed."""
    return None if count["suppressed"] else count["value"]


def figure(cell: web.Cell) -> Any:
    """A cell's figure: hidden figures are None, shares and means exact."""
    if isinstance(cell, web.Hidden):
        return None
    if isinstance(cell, web.Ratio):
        return cell.exact
    return cell


def column(t: web.Table, name: str) -> list[Any]:
    index = t.columns.index(name)
    return [figure(row[index]) for row in t.rows]


def given(chosen: web.AnswerSlice, moment: web.Moment = None) -> dict[str, Any]:
    return {"slice": chosen.variables(), "asOf": web.as_of_variables(moment)}


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize(
    "scope", ["organisation", "first initiative", "an impact area"]
)
def test_every_figure_on_the_answer_content_is_the_apis_answer_for_the_caller(
    demo: Demo, role: str, scope: str
) -> None:
    chosen = slices(demo)[scope]
    answers = demo.gather(role, chosen)
    api = demo.api(role, web.ANSWERS_QUERY, given(chosen))

    outcomes = api["intendedOutcomes"]
    assert answers.position == outcomes["position"]
    assert column(table(answers, "outcomes-by-assessment"), "Count") == [
        c["count"] for c in outcomes["byAssessment"]
    ]
    assert len(table(answers, "outcomes").rows) == len(outcomes["outcomes"])

    differences = api["differences"]
    flow: dict[Any, Any] = dict(table(answers, "contributions-flow").rows)
    total = differences["contributions"]
    responses = {c["key"]: c["count"] for c in differences["byResponse"]}
    assert flow == {
        "Contributions": total,
        "Adopted or adapted": responses.get("adopted", 0) + responses.get("adapted", 0),
        "Led to a change": (share(api["principles"]["responsiveness"]) or 0) * total,
        "Contributors told": (share(api["process"]["feedbackClosure"]) or 0) * total,
    }
    for key, counts in (
        ("changes-by-scope", differences["byScope"]),
        ("changes-by-area", differences["byArea"]),
        ("contributions-by-response", differences["byResponse"]),
    ):
        assert column(table(answers, key), "Count") == [c["count"] for c in counts]
    said = table(answers, "you-said-we-did")
    assert column(said, "You said") == [
        link["summary"] for c in differences["changes"] for link in c["contributions"]
    ]

    experience = api["processExperience"]
    scores = table(answers, "process-scores")
    assert column(scores, "Scores given") == [
        people(s["count"]) for s in experience["scores"]
    ]
    assert column(scores, "Mean score") == [
        share(s["mean"]) for s in experience["scores"]
    ]
    for score in range(1, 6):
        assert column(scores, f"Scored {score}") == [
            next(
                (people(d["count"]) for d in s["distribution"] if d["score"] == score),
                0,
            )
            for s in experience["scores"]
        ]

    presence = api["presence"]
    assert column(table(answers, "meetings"), "Service users and carers") == [
        people(m["serviceUsersAndCarers"]) for m in presence["meetings"]
    ]
    assert column(table(answers, "presence-by-level"), "Service users and carers") == [
        *(people(level["count"]) for level in presence["byLevel"]),
        people(presence["atDecisionMakingLevel"]),
        people(presence["atDecisionMakingMeetings"]),
    ]
    for category in presence["diversity"]:
        key = "diversity-" + category["category"].lower().replace("_", "-")
        shown = table(answers, key)
        assert column(shown, "Service users and carers") == [
            people(row["count"]) for row in category["rows"]
        ]
        assert column(shown, "Share") == [
            share(row["share"]) for row in category["rows"]
        ]
        assert column(shown, "Reference share") == [
            share(row["referenceShare"]) for row in category["rows"]
        ]

    process = api["process"]
    days = table(answers, "days")
    spreads = [
        process["paymentDays"],
        process["responseDays"],
        process["feedbackDays"],
        process["papersSpread"],
    ]
    assert column(days, "How many") == [s["count"] for s in spreads]
    assert column(days, "Median days") == [share(s["median"]) for s in spreads]
    assert column(days, "90% within days") == [s["p90"] for s in spreads]
    assert column(days, "Longest days") == [s["longest"] for s in spreads]
    assert column(table(answers, "support"), "People reached") == [
        people(s["people"]) for s in process["support"]
    ]

    cycles = table(answers, "cycles")
    assert column(cycles, "Cycle") == [c["number"] for c in api["cycles"]["cycles"]]
    assert column(cycles, "Act") == [
        next((e["on"] for e in c["entered"] if e["phase"] == "ACT"), None)
        for c in api["cycles"]["cycles"]
    ]


@pytest.mark.parametrize("role", ["evaluator", "manager granted personal data"])
def test_the_feedback_loop_over_time_is_the_apis_answer_for_each_period(
    demo: Demo, role: str
) -> None:
    answers = demo.gather(role, web.AnswerSlice())
    rows = table(answers, "feedback-over-time").rows
    assert rows
    for label, made, told in rows:
        year = int(str(label)[:4])
        if "Q" in str(label):
            quarter = int(str(label)[-1])
            start = f"{year}-{3 * quarter - 2:02d}-01"
            end = {1: "03-31", 2: "06-30", 3: "09-30", 4: "12-31"}[quarter]
            period = {"periodFrom": start, "periodTo": f"{year}-{end}"}
        else:
            period = {"periodFrom": f"{year}-01-01", "periodTo": f"{year}-12-31"}
        api = demo.api(
            role,
            "query($slice: SliceInput) { differences(slice: $slice) { contributions } "
            "process(slice: $slice) { feedbackClosure { numerator denominator } } }",
            {"slice": period},
        )
        assert made == api["differences"]["contributions"]
        assert figure(told) == share(api["process"]["feedbackClosure"])


@pytest.mark.parametrize("role", list(ROLES))
def test_a_past_moment_shows_the_apis_answer_as_it_stood_then(
    demo: Demo, role: str
) -> None:
    chosen = web.AnswerSlice()
    answers = demo.gather(role, chosen, 300)
    api = demo.api(role, web.ANSWERS_QUERY, given(chosen, 300))
    assert answers.position == 300
    assert column(table(answers, "meetings"), "Service users and carers") == [
        people(m["serviceUsersAndCarers"]) for m in api["presence"]["meetings"]
    ]
    if not demo.caller(role).personal_data:
        # Past moments withhold every count of people from callers without the grant.
        assert api["presence"]["peopleFigures"] == "WITHHELD"
        hidden = [row[4] for row in table(answers, "meetings").rows]
        assert hidden and all(
            isinstance(cell, web.Hidden) and cell.text == web.WITHHELD_WORDING
            for cell in hidden
        )


def test_payments_and_benefits_only_where_the_caller_may_see_them(demo: Demo) -> None:
    for role in ROLES:
        answers = demo.gather(role, web.AnswerSlice())
        (section,) = [
            s for s in web.sections(answers) if s.key == "payments_and_benefits"
        ]
        assert section.shown_to_caller == demo.caller(role).personal_data
        if not section.shown_to_caller:
            assert section.tables == []


def test_the_page_shows_every_table_with_its_chart_and_csv_link(demo: Demo) -> None:
    answers = demo.gather("evaluator", web.AnswerSlice())
    links = web.Links("/answers", answers.chosen, None)
    page = web.page_html(answers, links)
    for title in (
        "Intended outcomes",
        "Differences made",
        "Process experience",
        "End result",
        "Beyond the activity",
    ):
        assert f">{title}</h2>" in page
    for section in web.sections(answers):
        for t in section.tables:
            assert f'id="table-{t.key}"' in page
            assert links.csv(t.key).replace("&", "&amp;") in page
    assert page.count(">Download CSV</a>") == len(web.all_tables(answers))
    drawn = charts(answers)
    assert {
        "outcomes-by-assessment",
        "contributions-flow",
        "changes-by-scope",
        "changes-by-area",
        "process-scores",
        "meetings",
        "days",
        "feedback-over-time",
        "cycles",
    } <= set(drawn)
    assert any(key.startswith("diversity-") for key in drawn)
    for chart in drawn.values():
        assert chart.title in page.replace("&#39;", "'")
        assert "<svg" in chart.svg()
    assert "fewer than 5" in page


SENTINEL = 987_654_321


def leaky(data: Any) -> Any:
    """The answers with a sentinel put in every suppressed count and every withheld
    share: what a leaking API would send. Rendering must never read them."""
    data = copy.deepcopy(data)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("suppressed") is True:
                node["value"] = SENTINEL
            # A share or mean the API withheld because a count beside it is hidden.
            beside_hidden = any(
                isinstance(value, dict) and value.get("suppressed") is True
                for value in node.values()
            )
            for key, value in node.items():
                if (
                    key in ("mean", "share", "ratio", "responseRate")
                    and value is None
                    and beside_hidden
                ):
                    node[key] = {
                        "value": SENTINEL / 1000,
                        "numerator": SENTINEL,
                        "denominator": 1000,
                    }
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    return data


def poppler(tool: str) -> str:
    """A poppler-utils program, which CI installs (.ci/run)."""
    found = shutil.which(tool)
    if found is None:
        if IN_CI:
            pytest.fail(f"CI=true, but {tool} (poppler-utils) is missing")
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return found


def pdf_text(document: bytes) -> str:
    """The PDF's text as poppler extracts it, after pypdf has opened it."""
    assert pypdf.PdfReader(io.BytesIO(document)).pages
    done = subprocess.run(
        [poppler("pdftotext"), "-layout", "-", "-"],
        input=document,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout.decode()


@pytest.mark.parametrize("scope", ["organisation", "first initiative"])
def test_a_suppressed_value_appears_nowhere(demo: Demo, scope: str) -> None:
    answers = demo.gather("evaluator", slices(demo)[scope])
    exact = demo.gather("manager granted personal data", slices(demo)[scope])
    suppressed = str(answers.data).count("'suppressed': True")
    assert suppressed, "the demo has suppressed counts for an evaluator"
    assert "True" not in str(exact.data).split("'suppressed'")[1][:8]
    answers.data = leaky(answers.data)
    assert str(SENTINEL) in str(answers.data)
    tables = web.all_tables(answers)
    drawn = charts(answers, tables)
    page = web.page_html(answers, web.Links("/answers", answers.chosen, None))
    html = report_html(answers, demo.store.records, None)
    places = {
        "page": page,
        "report": html,
        "chart specifications": str([chart.spec for chart in drawn.values()]),
        "SVG": "".join(chart.svg() for chart in drawn.values()),
        "CSV": "".join(csv_of(t) for t in tables),
        "PDF": pdf_text(pdf_of(html)),
    }
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_of(answers, tables)))
    places["XLSX"] = " ".join(
        str(cell)
        for sheet in workbook
        for row in sheet.iter_rows(values_only=True)
        for cell in row
    )
    for digits in (str(SENTINEL), f"{SENTINEL:,}", str(SENTINEL // 1000), "987654"):
        for place, text in places.items():
            assert digits not in text, f"a suppressed value reached the {place}"
    assert "fewer than 5" in places["PDF"].replace("\n", " ")


def test_a_name_like_a_formula_is_text_in_the_xlsx(demo: Demo) -> None:
    """The workbook's About sheet wrote the organisation's (or initiative's) name
    as it was: one named '=HYPERLINK(...)' became a live formula, and one with
    U+FFFF (stored before it was refused) a file no spreadsheet program opens."""
    answers = demo.gather("evaluator", slices(demo)["organisation"])
    answers.data["organisation"]["name"] = '=HYPERLINK("http://example.org") \uffff'
    workbook = openpyxl.load_workbook(
        io.BytesIO(xlsx_of(answers, web.all_tables(answers)))
    )
    named = workbook["About"]["B1"]
    # Text, shown as it was typed: no apostrophe before it (it showed one).
    assert named.data_type == "s"
    assert named.value == '=HYPERLINK("http://example.org") \ufffd'


def test_the_xlsx_work_grows_with_its_rows_not_their_square(demo: Demo) -> None:
    """Each row written looked up the sheet's last row, which openpyxl finds by
    reading every cell written so far: 4,000 rows took 7 s and a 60k-event
    organisation's workbook 10 s of the server's CPU, so a table of 40,000 meetings
    would take hours. Twice the rows now cost at most a little over twice the work,
    and every share is still formatted as one."""
    answers = demo.gather("evaluator", slices(demo)["organisation"])
    columns = ("Meeting", "People", "Share")

    def rows(count: int) -> list[web.Table]:
        share = web.Ratio(Fraction(1, 3))
        made = tuple((f"Meeting {n}", n, share) for n in range(count))
        return [web.Table("many", "Many meetings", columns, made)]

    small = python_calls(lambda: xlsx_of(answers, rows(500)))
    large = python_calls(lambda: xlsx_of(answers, rows(1000)))
    assert large < 2.2 * small, (small, large)
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_of(answers, rows(3))))["many"]
    assert [c.number_format for c in sheet["C"][2:]] == ["0%"] * 3
    assert sheet["C5"].value == pytest.approx(1 / 3)


def test_a_report_whose_charts_have_nothing_to_draw_is_a_pdf_poppler_reads_whole(
    demo: Demo,
) -> None:
    """Vega sizes a chart with no marks as infinitely large (an SVG 1.8e308 wide):
    every diversity chart of an evaluator's report as of a past moment, whose
    shares are all withheld, or of an organisation with nobody recorded yet. The
    page scaled it away, but WeasyPrint wrote 'nan' and 'inf' into the PDF's
    drawing, operators no PDF reader knows ('Syntax Error: Unknown operator
    nan'). Such a chart is now drawn as nothing, its finding and table kept."""
    records = demo.store.records
    answers = demo.gather("evaluator", web.AnswerSlice(), 300)
    document = pdf_of(report_html(answers, records, anchor_at(records.recorder, 300)))
    done = subprocess.run(
        [poppler("pdftotext"), "-", "-"],
        input=document,
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert done.stderr.decode() == ""
    empty = [chart for chart in charts(answers).values() if chart.svg() == ""]
    assert empty, "no chart of this report had nothing to draw"
    text = " ".join(done.stdout.decode().split())
    assert all(" ".join(chart.title.split()) in text for chart in empty)


def test_the_report_opens_has_its_sections_and_prints_its_anchor(
    demo: Demo, tmp_path: Path
) -> None:
    records = demo.store.records
    head = demo.store.head()
    answers = demo.gather(
        "evaluator", web.AnswerSlice(demo.summary.initiatives[1].initiative_id)
    )
    anchor = anchor_at(records.recorder, answers.position)
    assert str(anchor) == str(anchor_of(records.recorder))
    document = pdf_of(report_html(answers, records, anchor))
    assert demo.store.head() == head, "making a report records nothing"
    reader = pypdf.PdfReader(io.BytesIO(document))
    assert len(reader.pages) > 3
    text = " ".join(pdf_text(document).split())
    for heading in (
        "Intended outcomes",
        "Differences made",
        "Process experience",
        "End result",
        "Beyond the activity",
        "Presence",
        "Process",
        "Principles",
        "Cycles",
        "You said, we did",
        "Aim",
        "Methods",
        "Results",
        "Outcomes",
        "Critical perspective",
        "Planned for the next Act",
    ):
        assert heading in text, heading
    assert str(anchor) in text.replace(" ", "") or str(anchor) in pdf_text(
        document
    ).replace("\n", "")
    pdftoppm = poppler("pdftoppm")
    (tmp_path / "report.pdf").write_bytes(document)
    subprocess.run(
        [
            pdftoppm,
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(tmp_path / "report.pdf"),
            str(tmp_path / "first-page"),
        ],
        check=True,
        timeout=60,
    )
    picture = tmp_path / "first-page.png"
    assert picture.read_bytes().startswith(b"\x89PNG")


def test_the_report_of_a_past_moment_anchors_that_moment(demo: Demo) -> None:
    records = demo.store.records
    answers = demo.gather("auditor", web.AnswerSlice(), 120)
    anchor = anchor_at(records.recorder, answers.position)
    assert anchor is not None and anchor.position == 120
    html = report_html(answers, records, anchor)
    assert f'<code class="anchor-text">{anchor}</code>' in html
    assert "log position 120" in html


# The pages mounted behind sign-in, over HTTP


class Tables(HTMLParser):
    """The tables of a page, by id (table-KEY): each body row's cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.table: str | None = None
        self.cell: list[str] | None = None
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        if tag == "table" and str(given.get("id", "")).startswith("table-"):
            self.table = str(given["id"])[len("table-") :]
            self.tables[self.table] = []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.table and self.in_body:
            self.tables[self.table].append([])
        elif tag in ("td", "th") and self.table and self.in_body:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None and self.table:
            self.tables[self.table][-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.table = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def tables_on(page: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(page)
    return parser.tables


@dataclass
class Mounted:
    """The whole server (API and web app) on the demo, a signed-in session per role."""

    demo: Demo
    clients: dict[str, TestClient]

    def get(self, role: str, path: str) -> httpx.Response:
        return self.clients[role].get(path)


def test_an_as_of_time_whose_zone_has_seconds_is_answered_as_that_moment(
    mounted: Mounted,
) -> None:
    # London's own time before 1847 ran 1 minute 15 seconds behind GMT, and Python
    # writes it so; the API's DateTime takes a zone in whole minutes only.
    seconds = mounted.get("evaluator", "/answers?as_of=2024-05-01T11:58:45-00:01:15")
    minutes = mounted.get("evaluator", "/answers?as_of=2024-05-01T12:00:00%2B00:00")
    assert seconds.status_code == minutes.status_code == 200, seconds.text
    stood = re.compile(r"log position \d+")
    assert stood.findall(seconds.text) == stood.findall(minutes.text) != []


@pytest.fixture(scope="module")
def mounted(demo: Demo) -> Iterator[Mounted]:
    accounts = Accounts(demo.store.records)
    emails = {}
    for number, (name, (role, granted)) in enumerate(ROLES.items()):
        emails[name] = f"person{number}@answers.example"
        person(
            accounts,
            demo.summary.organisation_id,
            emails[name],
            role,
            personal_data=granted,
        )
    demo.store.views.catch_up()
    app = create_app(
        demo.store.records, demo.store.views, run_projections=False, web=True
    )
    clients = {}
    for name, email in emails.items():
        clients[name] = TestClient(app)
        sign_in(clients[name], email)
    yield Mounted(demo, clients)
    for signed in clients.values():
        signed.close()


def mounted_slices(demo: Demo) -> dict[str, tuple[str, web.AnswerSlice, web.Moment]]:
    first = demo.summary.initiatives[0].initiative_id
    return {
        "organisation": ("/answers", web.AnswerSlice(), None),
        "first initiative": (
            f"/answers/initiatives/{first}",
            web.AnswerSlice(first),
            None,
        ),
        "an impact area and cycle": (
            "/answers?area=diversity_and_equality&cycle=1",
            web.AnswerSlice(impact_area="diversity_and_equality", cycle=1),
            None,
        ),
        "a period": (
            f"/answers/initiatives/{first}?from=2024-01-01&to=2024-12-31",
            web.AnswerSlice(
                first, period_from=dt.date(2024, 1, 1), period_to=dt.date(2024, 12, 31)
            ),
            None,
        ),
        "as it stood at position 300": ("/answers?as_of=300", web.AnswerSlice(), 300),
    }


@pytest.mark.parametrize("role", list(ROLES))
def test_every_figure_on_the_mounted_pages_is_the_apis_for_the_signed_in_role(
    mounted: Mounted, role: str
) -> None:
    for scope, (path, chosen, moment) in mounted_slices(mounted.demo).items():
        response = mounted.get(role, path)
        assert response.status_code == 200, (scope, response.text)
        page = tables_on(response.text)
        answers = mounted.demo.gather(role, chosen, moment)
        expected = {
            t.key: [[web.shown(cell) for cell in row] for row in t.rows]
            or [["Nothing recorded in this slice."]]
            for t in (t.first(web.PAGE_ROWS) for t in web.all_tables(answers))
        }
        assert page == expected, scope
        # And straight from the API over HTTP with a token of the same role:
        api = mounted.demo.api(role, web.ANSWERS_QUERY, given(chosen, moment))
        assert f"log position {api['intendedOutcomes']['position']} " in response.text
        assert [int(row[1]) for row in page["outcomes-by-assessment"]] == [
            c["count"] for c in api["intendedOutcomes"]["byAssessment"]
        ], scope
        meetings = api["presence"]["meetings"][: web.PAGE_ROWS]
        assert [
            None if not row[4].isdigit() else int(row[4])
            for row in page["meetings"]
            if len(row) > 1
        ] == [people(m["serviceUsersAndCarers"]) for m in meetings], scope


def test_the_answers_are_in_the_navigation_and_linked_from_each_initiative(
    mounted: Mounted,
) -> None:
    first = mounted.demo.summary.initiatives[0].initiative_id
    for role in ("evaluator", "manager", "auditor"):
        home = mounted.get(role, "/").text
        assert '<a href="/answers">Answers</a>' in home
        initiative = mounted.get(role, f"/initiatives/{first}").text
        assert f'href="/answers/initiatives/{first}"' in initiative
    page = mounted.get("evaluator", "/answers").text
    assert '<a href="/answers" aria-current="page">Answers</a>' in page
    assert 'action="/sign-out"' in page  # in the frame, signed in
    assert '<form method="get" action="/answers" class="slice">' in page


MONITORING_NOTE = "Counts of people by their monitoring answers"


@pytest.mark.parametrize("role", list(ROLES))
def test_who_reads_the_records_without_the_grant_is_told_why_every_count_by_monitoring_answer_is_hidden(
    mounted: Mounted, role: str
) -> None:
    """A manager or auditor without the grant sees every diversity count hidden, a
    count of 12 as well as one of 2: the page says so and why, rather than leaving
    each to read as a small number."""
    page = mounted.get(role, "/answers").text
    told = MONITORING_NOTE in page
    assert told == (role in ("manager", "auditor")), role
    answers = mounted.demo.gather(role, web.AnswerSlice())
    diversity = next(
        t for t in web.all_tables(answers) if t.key.startswith("diversity-")
    )
    hidden = [isinstance(row[1], web.Hidden) for row in diversity.rows]
    assert hidden and all(hidden) if told else not all(hidden), (role, hidden)


def test_downloads_and_the_report_over_http(mounted: Mounted) -> None:
    first = mounted.demo.summary.initiatives[0].initiative_id
    answers = mounted.demo.gather("evaluator", web.AnswerSlice(first))
    base = f"/answers/initiatives/{first}"
    page = mounted.get("evaluator", base).text
    for t in web.all_tables(answers):
        link = f"{base}/tables/{t.key}.csv"
        assert f'href="{link}"' in page
        meetings = mounted.get("evaluator", link)
        assert meetings.status_code == 200
        assert meetings.headers["content-type"].startswith("text/csv")
        assert "attachment" in meetings.headers["content-disposition"]
        assert meetings.text == csv_of(t)
    rows = list(
        csv.reader(
            io.StringIO(mounted.get("evaluator", f"{base}/tables/meetings.csv").text)
        )
    )
    assert rows[0][4] == "Service users and carers"
    assert any(row[4].startswith("fewer than 5") for row in rows[1:])

    assert f'href="{base}/tables.xlsx"' in page
    workbook = mounted.get("evaluator", f"{base}/tables.xlsx?as_of=300")
    assert workbook.status_code == 200
    assert workbook.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    sheets = openpyxl.load_workbook(io.BytesIO(workbook.content)).sheetnames
    assert "About" in sheets and "meetings" in sheets

    assert f'href="{base}/report.pdf"' in page and f'href="{base}/report.html"' in page
    head = mounted.demo.store.head()
    pdf = mounted.get("evaluator", f"{base}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "GRIPP2" in pdf_text(pdf.content)
    report = mounted.get("evaluator", "/answers/report.html?from=2021-01-01")
    assert report.status_code == 200 and "GRIPP2" in report.text
    assert '<link rel="stylesheet" href="/static/report.css">' in report.text
    assert "<style>" not in report.text  # the pages' CSP allows no inline style
    assert str(anchor_of(mounted.demo.store.records.recorder)) in report.text
    assert mounted.demo.store.head() == head  # reading and reporting record nothing


def test_reports_asked_for_at_once_are_made_one_at_a_time(
    mounted: Mounted, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report takes seconds of CPU: a burst of them, from three people, waits
    its turn, rather than taking every core from the other pages
    (`HEAVY_WORK_AT_ONCE`)."""
    seen: list[int] = []
    monkeypatch.setattr(
        answer_routes, "report_html", counting_at_once(report_html, seen)
    )

    async def report_for(role: str) -> httpx.Response:
        signed = mounted.clients[role]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=signed.app),
            base_url=str(signed.base_url),
            cookies=signed.cookies,
        ) as http:
            return await http.get("/answers/report.html")

    async def burst() -> list[httpx.Response]:
        return await asyncio.gather(
            *(report_for(role) for role in ("evaluator", "manager", "auditor"))
        )

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all("GRIPP2" in r.text for r in responses)
    assert seen == [1, 1, 1]


def test_signed_out_refused_roles_and_unknown_things_on_the_answer_pages(
    mounted: Mounted,
) -> None:
    demo = mounted.demo
    signed_out = TestClient(mounted.clients["evaluator"].app)
    for path in ("/answers", "/answers/tables.xlsx", "/answers/report.pdf"):
        response = signed_out.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/sign-in"
    nothing = "/answers/initiatives/00000000-0000-0000-0000-000000000000"
    for path in (nothing, nothing + "/tables.xlsx", "/answers/initiatives/not-an-id"):
        response = mounted.get("evaluator", path)
        assert response.status_code == 404 and "Page not found" in response.text
    other = organisation_with_a_chain(demo.store.records, "Elsewhere")
    demo.store.views.catch_up()
    theirs = f"/answers/initiatives/{other.initiative_id}"
    for role in ROLES:
        for path in (theirs, theirs + "/tables/meetings.csv", theirs + "/report.html"):
            response = mounted.get(role, path)
            assert response.status_code == 404 and "Page not found" in response.text
            assert not any(secret in response.text for secret in other.secrets)
    missing = mounted.get("evaluator", "/answers/tables/nothing.csv")
    assert missing.status_code == 404 and "no table is named" in missing.text
    accounts = Accounts(demo.store.records)
    person(accounts, demo.summary.organisation_id, "admin@answers.example", Role.ADMIN)
    demo.store.views.catch_up()
    admin = TestClient(mounted.clients["evaluator"].app)
    sign_in(admin, "admin@answers.example")
    assert admin.get("/answers").status_code == 403
    assert '<a href="/answers">' not in admin.get("/").text


def test_hostile_parameters_get_a_precise_refusal(mounted: Mounted) -> None:
    asked = {
        "/answers?cycle=abc": "Cycle number: must be",
        "/answers?cycle=0": "Cycle number: must be",
        # 10000 is "from 1": the refusal names the bound it broke.
        "/answers?cycle=10000": "Cycle number: must be a cycle number from 1 to 9999",
        "/answers?area=nowhere": "Impact area: must be",
        "/answers?from=2021-02-30": "From: must be a date",
        "/answers?from=2022-01-01&to=2021-01-01": "To: must not be before from",
        "/answers?as_of=-1": "As it stood at: must be",
        "/answers?as_of=yesterday": "As it stood at: must be",
        "/answers?as_of=2024-05-01T12:00:00": "As it stood at: a time must carry its time zone",
        # Its UTC is before year 1: named as the page's parameter, not the API's.
        "/answers?as_of=0001-01-01T00:00:00%2B14:00": (
            "As it stood at: must be within years 1 to 9999 once in UTC"
        ),
        "/answers?as_of=999999": "beyond",
        # Past the API's Int: refused in the page's words, not the API's ('$asOf').
        "/answers?as_of=" + "9" * 40: "As it stood at: " + "9" * 40 + " is beyond",
        "/answers?as_of=2147483648": "As it stood at: 2147483648 is beyond",
        "/answers/tables.xlsx?as_of=2147483648": "As it stood at: 2147483648 is beyond",
        "/answers/tables.xlsx?cycle=%00": "Cycle number: must be",
    }
    for path, said in asked.items():
        response = mounted.get("evaluator", path)
        assert response.status_code == 400, (path, response.text)
        assert said in unescape(response.text), (path, response.text)
        assert "Show the answers without narrowing" in response.text


def test_pdfs_asked_in_two_threads_of_one_process_are_printed_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """WeasyPrint, and Pango under it, are not made to be used from two threads at
    once. A server's heavy work is one at a time for its event loop, but a process
    with two loops (the command line's report beside a server, an embedding) could
    print two PDFs at once, and a crash there takes every request of the process
    with it. PDFs are printed one at a time in a process, however asked."""
    from concurrent.futures import ThreadPoolExecutor

    import weasyprint

    seen: list[int] = []
    monkeypatch.setattr(
        weasyprint.HTML,
        "write_pdf",
        counting_at_once(weasyprint.HTML.write_pdf, seen),
    )
    with ThreadPoolExecutor(3) as threads:
        documents = list(threads.map(pdf_of, ["<p>One</p>", "<p>Two</p>", "<p>3</p>"]))
    assert all(document.startswith(b"%PDF-") for document in documents)
    assert seen == [1, 1, 1]


def test_fourpi_report_writes_html_and_pdf(demo: Demo, tmp_path: Path) -> None:
    runner = CliRunner()
    url = demo.store.url
    head = demo.store.head()
    html_file, pdf_file = tmp_path / "report.html", tmp_path / "report.pdf"
    done = runner.invoke(
        main,
        [
            "report",
            "--database",
            url,
            "--organisation",
            "Mind (demo)",
            "--format",
            "html",
            "--output",
            str(html_file),
        ],
    )
    assert done.exit_code == 0, done.output
    anchor = str(anchor_of(demo.store.records.recorder))
    assert anchor in html_file.read_text()
    done = runner.invoke(
        main,
        [
            "report",
            "--database",
            url,
            "--organisation",
            "Mind (demo)",
            "--initiative",
            str(demo.summary.initiatives[0].initiative_id),
            "--as-of",
            "200",
            "--format",
            "pdf",
            "--output",
            str(pdf_file),
        ],
    )
    assert done.exit_code == 0, done.output
    assert pdf_file.read_bytes().startswith(b"%PDF")
    assert demo.store.head() == head
    refused = runner.invoke(
        main,
        [
            "report",
            "--database",
            url,
            "--organisation",
            "Mind (demo)",
            "--as-of",
            "999999",
            "--format",
            "pdf",
            "--output",
            str(pdf_file),
        ],
    )
    assert refused.exit_code == 2 and "beyond" in refused.output


def test_hidden_figures_are_worded_in_one_place() -> None:
    hidden = {"value": None, "suppressed": True}
    assert web.hidden_text(hidden, "SMALL_NUMBERS_SUPPRESSED", 5) == (
        "fewer than 5, or hidden to protect a small number"
    )
    # SMALL_NUMBERS does not say whether a count is small itself or protects one
    # (see the API's SuppressionReason), so the words claim neither.
    assert web.hidden_text({**hidden, "reason": "SMALL_NUMBERS"}, "X", 7) == (
        "fewer than 7, or hidden to protect a small number"
    )
    assert web.hidden_text({**hidden, "reason": "WITHHELD"}, "X", 7) == (
        web.WITHHELD_WORDING
    )
    assert web.hidden_text(hidden, "WITHHELD", 5) == web.WITHHELD_WORDING
    assert web.DERIVED_WORDING == "hidden to protect a small number"


def test_a_long_table_is_cut_saying_how_long_and_many_meetings_draw_a_distribution(
    demo: Demo,
) -> None:
    answers = demo.gather("evaluator", web.AnswerSlice())
    meetings = table(answers, "meetings")
    many = web.Table(
        meetings.key,
        meetings.caption,
        meetings.columns,
        tuple(meetings.rows[i % len(meetings.rows)] for i in range(300)),
    )
    cut = many.first(100)
    assert len(cut.rows) == 100 and cut.of == 300
    assert many.first(300) is many
    (chart,) = charts(answers, [many]).values()
    layer = chart.spec["layer"][0]
    assert layer["encoding"]["y"]["aggregate"] == "count"
    assert "300 meetings" in chart.title
    assert chart.left_out == sum(isinstance(row[4], web.Hidden) for row in many.rows)
    assert "<svg" in chart.svg()


def test_every_kind_and_dimension_is_listed_and_nothing_scored_draws_no_chart(
    demo: Demo,
) -> None:
    """The scores table lists every respondent kind and dimension, scored or not
    (listing only those scored would tell that a hidden count is not 0); a table in
    which nobody scored anything draws no chart, rather than an empty one."""
    answers = demo.gather("evaluator", web.AnswerSlice())
    scores = table(answers, "process-scores")
    assert [row[:2] for row in scores.rows] == [
        (web.words(kind.name), web.words(dimension.name))
        for kind in RespondentKind
        for dimension in ProcessDimension
    ]
    nothing = web.Table(
        scores.key,
        scores.caption,
        scores.columns,
        tuple((*row[:2], 0, None, 0, 0, 0, 0, 0) for row in scores.rows),
    )
    assert charts(answers, [nothing]) == {}
    assert list(charts(answers, [scores])) == ["process-scores"]


def test_the_report_anchors_its_log_on_each_backend(database_url: str) -> None:
    store = ApiStore(database_url)
    try:
        summary = create_demo(store.records)
        store.views.catch_up()
        caller = Caller.of(
            store.records.authenticate(
                store.token(summary.organisation_id, Role.EVALUATOR)
            )
        )
        store.views.catch_up()
        answers = asyncio.run(
            web.gather(store.records, store.views, caller, web.AnswerSlice())
        )
        anchor = anchor_at(store.records.recorder, answers.position)
        assert str(anchor) == str(anchor_of(store.records.recorder))
        earlier = anchor_at(store.records.recorder, 50)
        assert earlier is not None and earlier.position == 50
        assert str(anchor) in report_html(answers, store.records, anchor)
    finally:
        store.close()


def test_a_text_that_never_closes_its_override_turns_round_none_of_the_reports_words(
    tmp_path: Path,
) -> None:
    """Free text may hold a bidirectional override (a right-to-left writer's
    marks), and one typed without its closing mark ran on in the report's
    sentence: a change described 'New rota' and an override printed its date,
    and every word after it, turned round (poppler read 'New rota.(10-30-4202)'). Each text
    in the report's prose is now set apart from the words around it."""
    store = ApiStore(f"sqlite:///{tmp_path}/bidi.sqlite3")
    try:
        chain = organisation_with_a_chain(store.records, "Rota Trust")
        store.views.catch_up()
        facts = store.views.cache.facts(chain.organisation_id, store.views.head())
        store.records.record_change(
            organisation_id=chain.organisation_id,
            initiative_id=chain.initiative_id,
            description="New rota\u202e",
            impact_area=ImpactArea.DELIVERY,
            scope=ChangeScope.ACTIVITY,
            evidence="The rota",
            changed_on=dt.date(2024, 3, 1),
            contribution_ids=[UUID(str(facts["contributions"][0]["contribution_id"]))],
            actor="test",
        )
        store.views.catch_up()
        caller = Caller.of(
            store.records.authenticate(
                store.token(chain.organisation_id, Role.EVALUATOR)
            )
        )
        answers = asyncio.run(
            web.gather(store.records, store.views, caller, web.AnswerSlice())
        )
        anchor = anchor_at(store.records.recorder, answers.position)
        text = " ".join(
            pdf_text(pdf_of(report_html(answers, store.records, anchor))).split()
        )
    finally:
        store.close()
    assert "Activity: New rota (2024-03-01)." in text
    assert "10-30-4202" not in text
