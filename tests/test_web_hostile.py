"""The web app under requests the forms never send: a few bytes of workbook that name a far cell, posts past the API's body limit, answer pages asked for odd slices and moments, paths that would write lines of their own into the request log, clients that leave mid-post; each gets a 400 or 413 naming what was wrong (or is logged as it happened), never a 500 and never a server that fills its memory."""

import asyncio
import io
import logging
import re
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pypdf
import pytest
from openpyxl import load_workbook

from fourpi.accounts import Accounts
from fourpi.bootstrap import open_records, open_views
from fourpi.domain.access import Role
from fourpi.graphql.app import create_app
from fourpi.web import workbook_upload
from fourpi.web.answers import NARROWING_LABELS
from fourpi.web.report import pdf_of
from fourpi.workbook import import_upload, write_template
from tests.helpers import counting_at_once, log_position, post_scope
from tests.test_workbook import FORMULA_LIKE, formula_cells
from tests.web import (
    PASSWORD,
    TestClient,
    csrf_token,
    organisation_with_a_chain,
    person,
    sign_in,
)

MANAGER = "manager@mind.example"
EVALUATOR = "evaluator@mind.example"


@dataclass
class Site:
    records: Any
    manager: TestClient
    evaluator: TestClient
    organisation_id: UUID
    initiative_id: UUID


@contextmanager
def mind_with_people(tmp_path: Path, **options: Any) -> Iterator[tuple[Any, Any, Any]]:
    """An organisation with a chain, its manager and its evaluator, and the whole
    HTTP app over it (create_app's options): the records, the organisation, the app."""
    url = f"sqlite:///{tmp_path}/hostile.sqlite3"
    records = open_records(url)
    views = open_views(url, records)
    mind = organisation_with_a_chain(records, "Mind")
    for email, role in ((MANAGER, Role.MANAGER), (EVALUATOR, Role.EVALUATOR)):
        person(Accounts(records), mind.organisation_id, email, role)
    try:
        yield records, mind, create_app(records, views, web=True, **options)
    finally:
        views.close()
        records.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with mind_with_people(tmp_path) as (records, mind, app):
        evaluator = TestClient(app)  # the manager's client runs the app's lifespan
        with TestClient(app) as manager:
            sign_in(manager, MANAGER)
            sign_in(evaluator, EVALUATOR)
            yield Site(
                records, manager, evaluator, mind.organisation_id, mind.initiative_id
            )


# A workbook of a few bytes that spans the whole sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PACKAGE = "http://schemas.openxmlformats.org/package/2006"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx(sheet: str, **more: bytes) -> bytes:
    """A workbook with one sheet, People, whose XML (inside <worksheet>) is given."""
    parts = {
        "[Content_Types].xml": f'<Types xmlns="{PACKAGE}/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-'
        'package.relationships+xml"/><Default Extension="xml" ContentType='
        '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main'
        '+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet'
        '+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{PACKAGE}/relationships">'
        f'<Relationship Id="rId1" Type="{OFFICE}/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets>'
        '<sheet name="People" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{PACKAGE}/'
        f'relationships"><Relationship Id="rId1" Type="{OFFICE}/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{MAIN}">{sheet}</worksheet>',
    }
    content = io.BytesIO()
    with zipfile.ZipFile(content, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        for name, data in more.items():
            archive.writestr(name, data)
    return content.getvalue()


KEY_CELL = '<row r="1"><c r="A1" t="inlineStr"><is><t>Key</t></is></c></row>'
SPANNING_WORKBOOKS = {
    "a filled cell at XFD1048576": xlsx(
        f'<sheetData>{KEY_CELL}<row r="1048576"><c r="XFD1048576" t="n">'
        "<v>1</v></c></row></sheetData>"
    ),
    "a cell without a reference after one at XFC1048576": xlsx(
        f'<sheetData>{KEY_CELL}<row r="1048576"><c r="XFC1048576"><v>1</v></c>'
        "<c><v>2</v></c></row></sheetData>"
    ),
    "cells A1:XFD1048576 merged": xlsx(
        f'<sheetData>{KEY_CELL}</sheetData><mergeCells count="1">'
        '<mergeCell ref="A1:XFD1048576"/></mergeCells>'
    ),
    "a link on A1:XFD1048576": xlsx(
        f'<sheetData>{KEY_CELL}</sheetData><hyperlinks><hyperlink ref="A1:XFD1048576"'
        ' location="People!A1"/></hyperlinks>'
    ),
}


def upload(site: Site, content: bytes, action: str = "import") -> Any:
    return site.manager.post(
        "/workbook",
        data={"csrf_token": csrf_token(site.manager, "/workbook"), "action": action},
        files={"workbook": ("filled.xlsx", content)},
    )


@pytest.mark.parametrize("spanning", sorted(SPANNING_WORKBOOKS))
def test_a_small_workbook_spanning_a_whole_sheet_is_refused_unread(
    site: Site, spanning: str
) -> None:
    """openpyxl makes every cell from A1 to the furthest one a sheet names; a few
    bytes naming XFD1048576 would have it make 17 billion, so such a workbook is
    refused before it is unpacked, naming the sheet and the rule."""
    before = log_position(site.records)
    refused = upload(site, SPANNING_WORKBOOKS[spanning])
    assert refused.status_code == 400
    assert 'href="#workbook"' in refused.text
    assert "sheet &#39;People&#39; reaches row 1,048,576" in refused.text
    assert "more than 1,000,000 cells" in refused.text
    assert log_position(site.records) == before


def test_a_workbook_that_unpacks_to_more_than_100_mb_is_refused_unread(
    site: Site,
) -> None:
    """17 million empty rows: a few hundred kilobytes packed, and minutes of
    openpyxl's parsing unpacked."""
    rows = "<row/>" * (17 * 2**20)
    bomb = xlsx(f"<sheetData>{KEY_CELL}{rows}</sheetData>")
    assert len(bomb) < 1024 * 1024
    refused = upload(site, bomb)
    assert refused.status_code == 400
    assert "more than the 100 MB a workbook may hold" in refused.text


@pytest.mark.parametrize(
    "filler",
    [
        pytest.param("<row/>" * (15 * 2**20), id="15 million empty rows"),
        pytest.param("</sheetData><x/>" + "<x/>" * (20 * 2**20), id="20 million tags"),
    ],
)
def test_a_workbook_just_under_100_mb_of_markup_is_refused_in_a_moment(
    site: Site, filler: str
) -> None:
    """Under the 100 MB limit, 15 million empty rows or 20 million tags of no
    meaning (a few hundred kilobytes packed) held the check made to refuse such
    files for 50 seconds and 1.3 to 1.7 GB of memory, and the import (or upload)
    for twice that: the check now stops at the row past a sheet's last, or at a
    count of tags no 1,000,000 cells need."""
    sheet = f"<sheetData>{KEY_CELL}{filler}"
    if not filler.startswith("</sheetData>"):
        sheet += "</sheetData>"
    refused_in_a_moment(site, xlsx(sheet), "sheet &#39;People&#39;")


def refused_in_a_moment(site: Site, bomb: bytes, words: str) -> None:
    """A small upload that unpacks to a great deal is refused in under 20 seconds,
    in `words`, and records nothing."""
    assert len(bomb) < 1024 * 1024
    before = log_position(site.records)
    started = time.monotonic()
    refused = upload(site, bomb)
    assert time.monotonic() - started < 20
    assert refused.status_code == 400
    assert words in refused.text
    assert log_position(site.records) == before


MARKUP_BOMBS = {
    "5.5 million texts": (
        "xl/sharedStrings.xml",
        f'<sst xmlns="{MAIN}">',
        "<si><t>a</t></si>",
        5_500_000,
        "</sst>",
    ),
    "6 million styles": (
        "xl/styles.xml",
        f'<styleSheet xmlns="{MAIN}"><cellXfs>',
        "<xf/>",
        6_000_000,
        "</cellXfs></styleSheet>",
    ),
}
"""A part of the template made of one element many times: its name, its opening,
the element, how many, its closing."""


def with_part(part: str, content: bytes) -> bytes:
    """The template, its `part` (shared texts, or styles) replaced by `content`."""
    template = io.BytesIO()
    with (
        tempfile.TemporaryDirectory() as folder,
        zipfile.ZipFile(template, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        path = Path(folder) / "template.xlsx"
        write_template(path)
        with zipfile.ZipFile(path) as source:
            texts = part == "xl/sharedStrings.xml"
            for member in source.infolist():
                data = source.read(member.filename)
                if texts and member.filename == "[Content_Types].xml":
                    data = data.replace(
                        b"</Types>",
                        b'<Override PartName="/xl/sharedStrings.xml" ContentType="'
                        b"application/vnd.openxmlformats-officedocument."
                        b'spreadsheetml.sharedStrings+xml"/></Types>',
                    )
                elif texts and member.filename == "xl/_rels/workbook.xml.rels":
                    data = data.replace(
                        b"</Relationships>",
                        f'<Relationship Id="rIdTexts" Type="{OFFICE}/sharedStrings" '
                        'Target="sharedStrings.xml"/></Relationships>'.encode(),
                    )
                if member.filename != part:
                    archive.writestr(member, data)
        archive.writestr(part, content)
    return template.getvalue()


@pytest.mark.parametrize(
    ("bomb", "words"),
    [
        ("5.5 million texts", "holds more than 1,000,000 different texts"),
        (
            "6 million styles",
            "part &#39;xl/styles.xml&#39; takes it past 3,000,000 XML elements",
        ),
    ],
)
def test_a_workbook_of_millions_of_texts_or_styles_is_refused_in_a_moment(
    site: Site, bomb: str, words: str
) -> None:
    """Under a megabyte packed: 5.5 million one-letter texts in the shared texts
    part held an upload for a minute and a half and 640 MB, and 6 million empty
    styles for three minutes and 3.9 GB. openpyxl reads both parts whole, and only
    the sheets' elements were counted."""
    part, opening, element, count, closing = MARKUP_BOMBS[bomb]
    content = with_part(part, (opening + element * count + closing).encode())
    refused_in_a_moment(site, content, words)


def test_an_uploaded_workbook_is_read_in_memory_never_written_to_disk(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload was written to a temporary folder to be read: a server stopped
    mid-import (kill -9) left it there, people's personal data among it. Now no
    temporary file is made: with the temporary folder gone, the upload is still
    checked and imported."""
    template = site.manager.get("/workbook/template").content
    token = csrf_token(site.manager, "/workbook")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-such-folder"))
    for action in ("check", "import"):
        sent = site.manager.post(
            "/workbook",
            data={"csrf_token": token, "action": action},
            files={"workbook": ("filled.xlsx", template)},
        )
        assert sent.status_code == 200, sent.text
    assert not (tmp_path / "no-such-folder").exists()


def test_workbooks_uploaded_at_once_are_read_one_at_a_time(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The largest workbook allowed takes some 500 MB to read: a burst of uploads,
    from three managers, waits its turn rather than each taking as much at once
    (`HEAVY_WORK_AT_ONCE`)."""
    seen: list[int] = []
    monkeypatch.setattr(
        workbook_upload,
        "import_upload",
        counting_at_once(import_upload, seen),
    )
    template = site.manager.get("/workbook/template").content
    managers = [site.manager]
    for number in (2, 3):
        email = f"manager{number}@mind.example"
        person(Accounts(site.records), site.organisation_id, email, Role.MANAGER)
        managers.append(TestClient(site.manager.app))
        sign_in(managers[-1], email)

    async def upload_by(manager: TestClient) -> httpx.Response:
        token = csrf_token(manager, "/workbook")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url=str(manager.base_url),
            cookies=manager.cookies,
        ) as http:
            return await http.post(
                "/workbook",
                data={"csrf_token": token, "action": "check"},
                files={"workbook": ("filled.xlsx", template)},
            )

    async def burst() -> list[httpx.Response]:
        return await asyncio.gather(*(upload_by(m) for m in managers))

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert seen == [1, 1, 1]


# Posts larger than the API's body limit


def test_a_workbook_larger_than_the_apis_body_limit_is_uploaded(site: Site) -> None:
    """The upload page takes a file of up to 10 MB; the API's limit on a body
    (FOURPI_MAX_BODY_BYTES, 100,000 bytes) is not the upload's."""
    template = site.manager.get("/workbook/template").content
    padded = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(template)) as source,
        zipfile.ZipFile(padded, "w", zipfile.ZIP_STORED) as archive,
    ):
        for member in source.infolist():
            archive.writestr(member, source.read(member))
        archive.writestr("docProps/padding.bin", bytes(400_000))
    checked = upload(site, padded.getvalue(), action="check")
    assert checked.status_code == 200, checked.text[:300]
    assert "No problem" in checked.text


def test_a_post_larger_than_its_page_takes_gets_a_page_saying_how_large(
    site: Site,
) -> None:
    before = log_position(site.records)
    form = {
        "csrf_token": csrf_token(site.manager, "/record/registerParticipant"),
        "idempotency_key": "web:large",
        "participant_kind": "carer",
        "pseudonym": "x" * 400_000,
    }
    refused = site.manager.post("/record/registerParticipant", data=form)
    assert refused.status_code == 413
    assert refused.headers["content-type"].startswith("text/html")
    assert "This page takes at most 300 KB" in refused.text
    assert "content-security-policy" in refused.headers
    too_big = upload(site, bytes(11 * 2**20), action="check")
    assert too_big.status_code == 413
    assert "a file of at most 10 MB" in too_big.text
    assert log_position(site.records) == before
    api = site.manager.post("/graphql", content=b"x" * 200_000)
    assert api.status_code == 413
    assert api.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# Answer pages asked for odd slices and moments


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("as_of", "²"),
        ("as_of", "٣"),
        ("as_of", "9" * 5000),
        ("cycle", "²"),
        ("cycle", "9" * 5000),
    ],
)
def test_a_number_only_str_isdigit_takes_is_refused_naming_its_field(
    site: Site, parameter: str, value: str
) -> None:
    for path in ("/answers", f"/answers/initiatives/{site.initiative_id}"):
        refused = site.evaluator.get(path, params={parameter: value})
        assert refused.status_code == 400, (path, refused.text[-300:])
        # Named by the narrowing form's label for it (Cycle number, As it stood at).
        assert f"{NARROWING_LABELS[parameter]}: must be" in refused.text


def test_answers_as_of_the_last_moment_a_date_can_name_are_answered(
    site: Site,
) -> None:
    """Feedback over time is cut into quarters up to the moment asked about: the
    last quarter of 9999 has no next one to end before."""
    last = {"as_of": "9999-12-31T23:59:59+00:00"}
    for path in ("/answers", "/answers/tables.xlsx"):
        answered = site.evaluator.get(path, params=last)
        assert answered.status_code == 200, answered.text[-300:]


# The request log, written from what a stranger sends


def test_a_path_cannot_write_a_line_of_its_own_into_the_request_log(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="fourpi.requests")
    forged = "2026-12-07 01:00:00.000Z INFO fourpi.requests: GET / status=200"
    stranger = TestClient(site.manager.app)
    stranger.get("/nothing%0d%0a" + forged.replace(" ", "%20") + "%00")
    (line,) = [r for r in caplog.records if r.name == "fourpi.requests"]
    logged = line.getMessage()
    assert "\n" not in logged and "\r" not in logged and "\x00" not in logged
    assert "/nothing%0D%0A" + forged.replace(" ", "%20") + "%00" in logged
    assert line.path == logged.split()[1]  # type: ignore[attr-defined]


def test_a_client_that_goes_away_mid_post_is_not_logged_as_a_server_error(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    """No answer was sent, so none is logged: 499, as nginx logs it, and never a
    500 a stranger could raise the error rate with."""
    caplog.set_level(logging.INFO, logger="fourpi.requests")
    app = site.manager.app
    scope = post_scope(
        "/sign-in",
        [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"content-length", b"1000"),
        ],
    )
    messages = iter(
        [
            {"type": "http.request", "body": b"email=a", "more_body": True},
            {"type": "http.disconnect"},
        ]
    )
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages, {"type": "http.disconnect"})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent == []
    (line,) = [r for r in caplog.records if r.name == "fourpi.requests"]
    assert line.status == 499  # type: ignore[attr-defined]


def test_a_sheet_openpyxl_cannot_read_is_refused_naming_no_server_folder(
    site: Site,
) -> None:
    broken = xlsx('<sheetData><row><c t="d"><v>99999-99-99</v></c></row></sheetData>')
    refused = upload(site, broken)
    assert refused.status_code == 400
    assert "could not be read: filled.xlsx is not an .xlsx workbook" in refused.text
    assert tempfile.gettempdir() not in refused.text


def test_made_up_paths_take_no_metric_label_from_the_pages(tmp_path: Path) -> None:
    """The metrics keep at most 200 operation labels; paths no page has, and
    methods no page takes (405), are one label, so a stranger's made-up paths
    cannot leave the pages counted as other."""
    with mind_with_people(tmp_path, run_projections=False, metrics=True) as served:
        app = served[2]
        stranger, manager = TestClient(app), TestClient(app)
        sign_in(manager, MANAGER)
        for n in range(120):
            stranger.get(f"/made-up-{n}")
            manager.get(f"/made-up-too-{n}")
            stranger.get(f"/static/made-up-{n}.css")
            # A path a page has, but not by this method, with a made-up part.
            assert stranger.post(f"/my-page/made-up-{n}").status_code == 405
        assert manager.get("/to-do").status_code == 200
        metrics = stranger.get("/metrics").text
        assert 'fourpi_requests_total{operation="/to-do",status="200"} 1.0' in metrics
        assert "made-up" not in metrics
        unknown = re.findall(
            r'fourpi_requests_total\{operation="unknown path",status="\d+"\} (\S+)',
            metrics,
        )
        assert sum(float(n) for n in unknown) == 480


def test_made_up_parts_of_a_pages_address_take_no_metric_label(
    tmp_path: Path,
) -> None:
    """A page's address with a part of the caller's choosing (a record's id, an
    invitation's secret) was counted by the address as sent: a stranger sending
    200 made-up ids (sent to sign in, or told the link no longer works) took every
    label, and the pages' own requests were counted as other; so did a body too
    large sent to made-up addresses. Each is now counted by the page's address as
    the route table names it, and a request refused before any route took it
    under one label."""
    with mind_with_people(tmp_path, run_projections=False, metrics=True) as served:
        app = served[2]
        stranger = TestClient(app, follow_redirects=False)
        manager = TestClient(app)
        sign_in(manager, MANAGER)
        for n in range(60):
            assert stranger.get(f"/initiatives/made-up-{n}").status_code == 303
            assert stranger.post(f"/accounts/made-up-{n}/disable").status_code == 303
            assert stranger.get(f"/invitations/made-up-{n}").status_code == 410
            assert stranger.get(f"/initiatives/made-up-{n}/").status_code == 308
            # Refused before any route takes it: its address is anyone's to make up.
            too_large = stranger.post(f"/made-up-{n}", content=b"x" * 400_000)
            assert too_large.status_code == 413
        assert manager.get("/to-do").status_code == 200
        metrics = stranger.get("/metrics").text
        assert 'fourpi_requests_total{operation="/to-do",status="200"} 1.0' in metrics
        assert "made-up" not in metrics
        assert 'operation="other"' not in metrics
        initiative = re.findall(
            r'fourpi_requests_total\{operation="/initiatives/\{initiative_id\}",'
            r'status="303"\} (\S+)',
            metrics,
        )
        assert initiative == ["60.0"]
        assert (
            'fourpi_requests_total{operation="refused before routing",status="413"} 60.0'
            in metrics
        )


def test_names_typed_like_a_formula_are_text_in_the_answers_workbook(
    site: Site,
) -> None:
    """The workbook's About sheet wrote the initiative's and organisation's names
    as typed, so '=HYPERLINK(...)' was a live formula in every evaluator's
    download, where the tables beside it are written safe."""
    chain = organisation_with_a_chain(site.records, FORMULA_LIKE)
    email = "evaluator@formula.example"
    person(Accounts(site.records), chain.organisation_id, email, Role.EVALUATOR)
    evaluator = TestClient(site.manager.app)
    sign_in(evaluator, email)
    response = evaluator.get(f"/answers/initiatives/{chain.initiative_id}/tables.xlsx")
    assert response.status_code == 200
    assert formula_cells(io.BytesIO(response.content)) == []
    about = load_workbook(io.BytesIO(response.content))["About"]
    # Text cells, shown as typed (no apostrophe, which a workbook shows).
    assert about["B1"].value == f"{FORMULA_LIKE}: peer support review"
    assert about["B2"].value == FORMULA_LIKE


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("精神健康", "answers"),
        ("Gwasanaeth Cymraeg ŵ ŷ", "gwasanaeth-cymraeg-w-y"),
        ('Café "quoted"; filename=evil.exe', "cafe-quoted-filename-evil-exe"),
        ("../../etc/passwd\\x", "etc-passwd-x"),
    ],
)
def test_a_download_is_named_in_ascii_whatever_the_organisation_is_called(
    site: Site, name: str, stem: str
) -> None:
    """An organisation named outside Latin-1 (Chinese, Welsh) made every download of
    its answers (CSV, XLSX, PDF) a 500: the file name went into the
    Content-Disposition header as typed. A name is now spelt in ASCII letters and
    digits, or "answers" if none is left."""
    chain = organisation_with_a_chain(site.records, name)
    email = "evaluator@named.example"
    person(Accounts(site.records), chain.organisation_id, email, Role.EVALUATOR)
    evaluator = TestClient(site.manager.app, raise_server_exceptions=False)
    sign_in(evaluator, email)
    for download in ("tables.xlsx", "tables/contributions-flow.csv", "report.pdf"):
        response = evaluator.get(f"/answers/{download}")
        assert response.status_code == 200, download
        disposition = response.headers["content-disposition"]
        assert re.fullmatch(
            rf'attachment; filename="{stem}-\d+\.[a-z.-]+"', disposition
        )


def test_a_head_request_is_answered_as_its_get_on_pages_shown_signed_out(
    site: Site,
) -> None:
    """HEAD /sign-in and HEAD on an invitation link (as a link checker or a mail
    scanner sends) were read as a post without its CSRF token: 403. They answer as
    GET does, without a body, and the invitation still works afterwards."""
    _, secret = Accounts(site.records).invite(
        organisation_id=site.organisation_id,
        email="newcomer@mind.example",
        role=Role.EVALUATOR,
        actor="test",
    )
    stranger = TestClient(site.manager.app)
    for path in ("/sign-in", f"/invitations/{secret}"):
        got, head = stranger.get(path), stranger.head(path)
        assert (head.status_code, head.content) == (200, b""), path
        assert head.headers["content-type"] == got.headers["content-type"]
    assert "Choose a password" in stranger.get(f"/invitations/{secret}").text


def test_a_page_asked_for_with_a_slash_after_its_address_is_found(
    site: Site,
) -> None:
    """/to-do/ or /answers/ (typed, or a link written so) was "Page not found" for
    a page that is there: it leads to the page, keeping what was asked of it.
    An address that is no page's, or that would lead off this site, is not."""
    for path, page in (
        ("/to-do/", "/to-do"),
        ("/answers/?area=delivery", "/answers?area=delivery"),
        (f"/initiatives/{site.initiative_id}/", f"/initiatives/{site.initiative_id}"),
    ):
        led = site.manager.get(path, follow_redirects=False)
        assert (led.status_code, led.headers["location"]) == (308, page), path
        assert site.manager.get(path).status_code == 200, path
    for path in ("/nowhere/", "/%2Fevil.example/", "/static/"):
        assert site.manager.get(path, follow_redirects=False).status_code == 404, path


def test_the_apis_responses_carry_the_security_headers_the_pages_do(
    site: Site,
) -> None:
    """The web app's pages forbade framing and sniffing, but /graphql (its GraphiQL
    page is HTML on the same site as the pages), /healthz, /readyz and a body
    refused as too large carried none of it: GraphiQL could be framed."""
    stranger = TestClient(site.manager.app)
    answers = [
        stranger.get("/graphql", headers={"accept": "text/html"}),
        stranger.post("/graphql", json={"query": "{ me { role } }"}),
        stranger.post(
            "/graphql", content=b"query=x", headers={"content-type": "text/plain"}
        ),
        stranger.post("/graphql", content=b"x" * 2_000_000),
        stranger.get("/healthz"),
        stranger.get("/readyz"),
    ]
    assert "GraphiQL" in answers[0].text
    for answer in answers:
        where = (answer.request.method, answer.request.url.path, answer.status_code)
        assert answer.headers["x-frame-options"] == "DENY", where
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-content-type-options"] == "nosniff", where
        assert answer.headers["referrer-policy"] == "same-origin", where
        assert answer.headers["cache-control"] == "no-store", where


def test_printing_a_report_fetches_nothing_from_disk_or_network(tmp_path: Path) -> None:
    """WeasyPrint printed the report with its default fetcher, which reads any
    file:// or http:// address the HTML names. The report's HTML needs nothing
    from outside (its stylesheet and charts are inline) and escapes every name
    typed into it; should a name ever reach it unescaped, the server's files and
    its network still stay out of the PDF."""
    stylesheet = tmp_path / "page.css"
    stylesheet.write_text("@page { size: 100mm 100mm }")
    html = f'<link rel="stylesheet" href="{stylesheet.as_uri()}"><p>A report</p>'
    page = pypdf.PdfReader(io.BytesIO(pdf_of(html))).pages[0]
    assert round(float(page.mediabox.width)) != round(100 / 25.4 * 72)


def test_a_csrf_token_with_letters_outside_ascii_is_refused_not_a_500(
    site: Site,
) -> None:
    """A posted CSRF token holding a letter outside ASCII ('é') reached
    secrets.compare_digest as text, which refuses such strings with a TypeError:
    a 500 on every form of a signed-in person and on signing in. It is a token
    that does not match: 403, and nothing recorded."""
    before = log_position(site.records)
    stranger = TestClient(site.manager.app)
    csrf_token(stranger, "/sign-in")  # the signed-out form's cookie
    for client, path in (
        (site.manager, "/record/launch-initiative"),
        (site.manager, "/workbook"),
        (stranger, "/sign-in"),
    ):
        sent = {"csrf_token": "é" * 43, "email": MANAGER, "name": "Refused"}
        assert client.post(path, data=sent).status_code == 403, path
    assert log_position(site.records) == before


def test_joining_by_an_invitation_in_a_signed_in_browser_ends_its_earlier_session(
    site: Site,
) -> None:
    """Signing in ended the session the browser had before; joining by an
    invitation replaced its cookie but left that session live on the server,
    for anyone holding a copy of the old cookie, until it went idle."""
    _, secret = Accounts(site.records).invite(
        organisation_id=site.organisation_id,
        email="newcomer@mind.example",
        role=Role.EVALUATOR,
        actor="test",
    )
    shared = site.manager  # one browser: the manager's, then the newcomer's
    earlier = shared.cookies["fourpi_session"]
    joined = shared.post(
        f"/invitations/{secret}",
        data={
            "csrf_token": csrf_token(shared, f"/invitations/{secret}"),
            "display_name": "Newcomer",
            "password": PASSWORD,
            "confirmation": PASSWORD,
        },
        follow_redirects=False,
    )
    assert joined.status_code == 303
    assert shared.cookies["fourpi_session"] != earlier
    copied = TestClient(site.manager.app, cookies={"fourpi_session": earlier})
    assert copied.get("/", follow_redirects=False).headers["location"] == "/sign-in"


BROKEN_MULTIPART = {
    "a part with no name": b"--xx\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xx--",
    "no boundary": b"csrf_token=x",
}


@pytest.mark.parametrize("broken", sorted(BROKEN_MULTIPART))
def test_a_form_no_browser_sends_gets_a_page_in_plain_words(
    site: Site, broken: str
) -> None:
    """A multipart post that cannot be read (a part with no name, no boundary) was
    answered by Starlette's own line of plain text ("The Content-Disposition header
    field "name" must be provided."): the page that says what went wrong in plain
    words, 400, and nothing recorded, on the forms shown signed out, a manager's,
    and a contributor's own page."""
    boundary = "; boundary=xx" if broken == "a part with no name" else ""
    before = log_position(site.records)
    stranger = TestClient(site.manager.app)
    for client, path in (
        (stranger, "/sign-in"),
        (site.manager, "/record/launch-initiative"),
        (site.manager, "/workbook"),
    ):
        answer = client.post(
            path,
            content=BROKEN_MULTIPART[broken],
            headers={"content-type": f"multipart/form-data{boundary}"},
        )
        assert answer.status_code == 400, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "That could not be done" in answer.text, path
        assert "could not be read" in answer.text, path
        assert "Content-Disposition" not in answer.text, path
    assert log_position(site.records) == before


def test_a_file_missing_from_the_stylesheets_folder_gets_the_page_not_found(
    site: Site,
) -> None:
    """/static/ answered an unknown file with Starlette's "Not Found" in plain
    text: the page every other unknown address gets, 404."""
    for path in ("/static/nothing.css", "/static/%2e%2e/app.py"):
        answer = site.manager.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "Page not found" in answer.text, path


RANGES_NO_BROWSER_SENDS = (
    "bytes=abc",
    "bytes=5-1",
    "bytes=-0",
    "bytes=999999-",
    "words=0-1",
)


@pytest.mark.parametrize("asked", RANGES_NO_BROWSER_SENDS)
def test_a_stylesheet_asked_for_in_a_range_it_cannot_be_cut_to_comes_whole(
    site: Site, asked: str
) -> None:
    """/static/ answered a Range header it could not read with Starlette's line of
    plain text ("Range header: range must be requested", 400), or an empty 416:
    a stylesheet is small, so any range asked for gets it whole, as RFC 9110 lets
    a server do."""
    whole = site.manager.get("/static/fourpi.css")
    answer = site.manager.get("/static/fourpi.css", headers={"range": asked})
    assert answer.status_code == 200, answer.text
    assert answer.content == whole.content
    assert "accept-ranges" not in answer.headers


ANOTHER_SITE = (
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},  # a neighbouring subdomain, which can set cookies
    {"origin": "https://evil.example"},
    {"origin": "http://testserver.evil.example"},
    # No browser's word (a proxy that blanks it, a client that makes it up): the
    # Origin decides, as when there is no Sec-Fetch-Site at all.
    {"sec-fetch-site": "", "origin": "https://evil.example"},
    {"sec-fetch-site": "bogus", "origin": "https://evil.example"},
)
"""What a browser says of a form sent to us from a page of another site."""


@pytest.mark.parametrize("sent_from", ANOTHER_SITE, ids=str)
def test_a_form_sent_from_another_site_records_nothing_even_with_a_valid_token(
    site: Site, sent_from: dict[str, str]
) -> None:
    """Only the CSRF token stood between another site and a post: a page that had
    it (planted with the signed-out forms' cookie by a neighbouring subdomain, or
    read by a script of another origin) posted as the person. A post the browser
    says came from another site (Sec-Fetch-Site, Origin) is refused, 403, and
    records nothing, on the forms shown signed out and signed in; the same post from
    this site's own pages is taken."""
    before = log_position(site.records)
    stranger = TestClient(site.manager.app)
    signing_in = {"email": MANAGER, "password": PASSWORD}
    person = {"pseudonym": "Planted", "participant_kind": "service_user"}
    for client, path, sent in (
        (stranger, "/sign-in", signing_in),
        (site.manager, "/record/registerParticipant", person),
        (site.manager, "/sign-out", {}),
    ):
        sent = {
            **sent,
            "csrf_token": csrf_token(client, path.replace("/sign-out", "/")),
        }
        answer = client.post(path, data=sent, headers=sent_from, follow_redirects=False)
        assert answer.status_code == 403, path
    assert log_position(site.records) == before
    assert "fourpi_session" not in stranger.cookies
    assert site.manager.get("/", follow_redirects=False).status_code == 200

    own = {"origin": "http://testserver", "sec-fetch-site": "same-origin"}
    sent = {
        **person,
        "csrf_token": csrf_token(site.manager, "/record/registerParticipant"),
    }
    taken = site.manager.post(
        "/record/registerParticipant", data=sent, headers=own, follow_redirects=False
    )
    assert taken.status_code == 303
    assert log_position(site.records) > before


@pytest.mark.parametrize(
    ("public", "host", "origin"),
    [
        # A proxy that sends the port in Host (nginx's $host:$server_port).
        ("", "fourpi.example.org:443", "https://fourpi.example.org"),
        ("", "fourpi.example.org:80", "http://fourpi.example.org"),
        # A public URL written with its port, a proxy rewriting the host.
        (
            "https://fourpi.example.org:443/",
            "127.0.0.1:8000",
            "https://fourpi.example.org",
        ),
        (
            "https://FOURPI.example.org",
            "127.0.0.1:8000",
            "https://fourpi.example.org:443",
        ),
    ],
)
def test_a_post_from_this_site_named_with_its_default_port_is_taken(
    site: Site, monkeypatch, public: str, host: str, origin: str
) -> None:
    """A browser that sends no Sec-Fetch-Site is judged by its Origin, which never
    names the scheme's default port; the Host a proxy sends, or the public URL,
    may. The same site written two ways was taken for another: 403, nothing
    recorded, for a person posting from our own page. Another site is still
    refused, whatever port it names."""
    monkeypatch.setenv("FOURPI_PUBLIC_URL", public)
    path = "/record/registerParticipant"

    def posted_from(sender: str) -> int:
        sent = {
            "pseudonym": "Ported",
            "participant_kind": "service_user",
            "csrf_token": csrf_token(site.manager, path),
        }
        headers = {"host": host, "origin": sender}
        return site.manager.post(
            path, data=sent, headers=headers, follow_redirects=False
        ).status_code

    before = log_position(site.records)
    for stranger in ("https://evil.example", "https://evil.example:443"):
        assert posted_from(stranger) == 403, stranger
    assert log_position(site.records) == before
    assert posted_from(origin) == 303
    assert log_position(site.records) > before


def test_a_page_the_server_fails_to_draw_says_so_in_plain_words(
    tmp_path: Path, site: Site
) -> None:
    """Any failure no page expects (here, the store's sessions table gone) was
    answered by Starlette's line of text, "Internal Server Error": the page in the
    frame that says in plain words that it went wrong on our side, 500, with no
    trace of the code or the store, and no question asked of the store again."""
    with sqlite3.connect(tmp_path / "hostile.sqlite3") as database:
        database.execute("DROP TABLE fourpi_sessions")
    browser = TestClient(
        site.manager.app,
        raise_server_exceptions=False,
        cookies=dict(site.manager.cookies),
    )
    answer = browser.get("/")
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in answer.text
    for internal in ("Traceback", "fourpi_sessions", "OperationalError", "sqlite"):
        assert internal not in answer.text


CHART_WITH_A_CONTROL_CHARACTER = """
import sys
from fourpi.web.charts import base, svg_of

label = "Ward" + chr(int(sys.argv[1], 16)) + "7"
spec = base(
    label,
    [{"label": label, "value": 3}],
    mark="bar",
    encoding={
        "y": {"field": "label", "type": "nominal"},
        "x": {"field": "value", "type": "quantitative"},
    },
)
print(svg_of(spec))
"""


@pytest.mark.parametrize("code_point", ["0", "2", "1b", "fffe", "ffff"])
def test_a_chart_of_text_xml_cannot_hold_is_drawn_not_the_end_of_the_process(
    code_point: str,
) -> None:
    """vl-convert, which draws the charts, ends the whole process (a Rust panic that
    cannot unwind: 'aborting') when a label or title holds a character XML cannot
    hold: a control character, U+FFFE or U+FFFF. The record refuses them in what
    people type, but a chart is drawn in the server's own process, where an abort
    ends every request it is answering: what reaches vl-convert is made safe there
    too, each such character drawn as U+FFFD. Run in a process of its own, as the
    failure is that process's end."""
    import subprocess
    import sys

    drawn = subprocess.run(
        [sys.executable, "-c", CHART_WITH_A_CONTROL_CHARACTER, code_point],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert drawn.returncode == 0, drawn.stderr
    assert "<svg" in drawn.stdout
    assert "Ward\ufffd7" in drawn.stdout
