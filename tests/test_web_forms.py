"""A manager's forms over HTTP: every mutation a manager has in the API has its form, drawn from the one description of its use case; a write answers 303 to the record's page, which names what was recorded; a second submit of the same form records once; the domain's refusal is shown beside the field it names with what was typed kept; the to-do page empties as its items are done."""

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strawberry.permission import PermissionExtension

from fourpi.accounts import Accounts
from fourpi.bootstrap import open_records, open_views
from fourpi.domain.access import Role
from fourpi.domain.use_cases import END_ROLE, RecordKind
from fourpi.domain.vocabulary import ParticipantKind
from fourpi.graphql.app import create_app
from fourpi.graphql.errors import camel_case
from fourpi.graphql.mutations import Mutation
from fourpi.graphql.permissions import Allow
from fourpi.projections.answers import Slice
from fourpi.web.forms import FORMS, readable_moments
from fourpi.web.record_choices import Choices
from fourpi.web.todo import to_do
from fourpi.web.workbook_upload import PROBLEMS_LISTED, VALUE_SHOWN
from fourpi.workbook import export_workbook
from tests.helpers import ACTOR, log_position, python_calls, synthetic_organisation
from tests.web import (
    TestClient,
    csrf_token,
    organisation_with_a_chain,
    person,
    sign_in,
    workbook_of_unknown_kinds,
)

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
MANAGER = "manager@mind.example"


def manager_mutations() -> set[str]:
    """The API's mutations a manager's token may perform, read from the schema."""
    found = set()
    for field in Mutation.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        roles: set[Role] = set()
        for extension in field.extensions:
            if isinstance(extension, PermissionExtension):
                for permission in extension.permissions:
                    if isinstance(permission, Allow):
                        roles |= permission.roles
        if Role.MANAGER in roles:
            found.add(camel_case(field.python_name))
    return found


def test_every_mutation_a_manager_has_has_a_form() -> None:
    mutations = manager_mutations()
    assert len(mutations) >= 28
    assert mutations - set(FORMS) == set(), "a manager's mutation with no form"


@dataclass
class Site:
    records: Any
    views: Any
    client: TestClient
    organisation_id: UUID

    def form(self, name: str, query: str = "") -> str:
        page = self.client.get(f"/record/{name}{query}")
        assert page.status_code == 200, page.text
        assert f'data-use-case="{name}"' in page.text
        found = KEY.search(page.text)
        assert found
        return found.group(1)

    def submit(self, name: str, data: dict[str, Any], *, key: str | None = None) -> Any:
        sent = {
            "csrf_token": csrf_token(self.client, "/"),
            "idempotency_key": key or self.form(name),
            **data,
        }
        return self.client.post(f"/record/{name}", data=sent, follow_redirects=False)

    def record(self, name: str, data: dict[str, Any]) -> str:
        """Submit a form that must be accepted; the record page's path."""
        response = self.submit(name, data)
        assert response.status_code == 303, response.text
        location = response.headers["location"]
        assert f"recorded={name}" in location
        page = self.client.get(location)
        assert page.status_code == 200
        assert "Recorded:" in page.text
        return str(location.split("?")[0])


@pytest.fixture
def site(tmp_path) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path}/forms.sqlite3"
    records = open_records(url)
    views = open_views(url, records)
    accounts = Accounts(records)
    mind = organisation_with_a_chain(records, "Mind")
    person(accounts, mind.organisation_id, MANAGER, Role.MANAGER, personal_data=True)
    app = create_app(records, views, web=True)
    with TestClient(app) as client:
        sign_in(client, MANAGER)
        yield Site(records, views, client, mind.organisation_id)
    views.close()
    records.close()


def record_id(path: str) -> str:
    return path.rsplit("/", 1)[1]


def test_every_form_is_drawn_with_its_use_case_and_an_idempotency_key(site) -> None:
    for name in FORMS:
        site.form(name)
    assert site.client.get("/record/eraseParticipant").status_code == 404


def test_a_meeting_time_typed_on_the_form_is_london_time(site) -> None:
    """A manager in England types 10:00 for a summer meeting: it is kept as 09:00
    UTC, and every page shows it as 10:00 BST."""
    initiative = site.record(
        "launchInitiative",
        {
            "name": "Summer listening",
            "level": "community",
            "involvement_kind": "participation",
            "methods": ["workshop"],
            "purpose": "Hear from carers over the summer.",
            "limits_of_influence": "None stated.",
            "started_on": "2025-06-02",
        },
    )
    meeting = site.record(
        "scheduleMeeting",
        {
            "initiative_id": record_id(initiative),
            "title": "Carers' workshop",
            "held_at": "2025-07-03T10:00",
            "high_level": "no",
            "decision_making": "no",
        },
    )
    site.views.catch_up()
    facts = site.views.cache.facts(site.organisation_id, site.views.position())
    (held,) = [
        r["held_at"] for r in facts["meetings"] if r["title"] == "Carers' workshop"
    ]
    assert held == datetime(2025, 7, 3, 9, tzinfo=UTC)
    assert "3 July 2025, 10:00 BST" in site.client.get(meeting).text
    assert "3 Jul 2025, 10:00 BST" in site.client.get(initiative).text


def test_a_meeting_time_the_clocks_skip_is_refused_beside_its_field(site) -> None:
    """01:30 on 29 March 2026 never showed on a clock in England (they went from
    01:00 to 02:00): it was kept as 02:30 BST. Now it is refused, naming the field,
    with what was typed kept, and nothing recorded."""
    facts = site.views.cache.facts(site.organisation_id, site.views.position())
    initiative_id = facts["initiatives"][0]["initiative_id"]
    before = log_position(site.records)
    refused = site.submit(
        "scheduleMeeting",
        {
            "initiative_id": str(initiative_id),
            "title": "Clocks go forward",
            "held_at": "2026-03-29T01:30",
            "high_level": "no",
            "decision_making": "no",
        },
    )
    assert refused.status_code == 400
    assert 'id="held-at-error"' in refused.text
    assert "01:30 on 29 March 2026 never showed on the clocks in Europe/London" in (
        refused.text
    )
    assert 'value="2026-03-29T01:30"' in refused.text
    assert log_position(site.records) == before


def test_long_texts_at_their_largest_beyond_ascii_are_recorded(site) -> None:
    """A purpose and limits of 10,000 characters each, the most the record takes,
    in a script whose every character UTF-8 writes in four bytes: a browser sends
    each byte percent-encoded, as three, so the form was 240 KB and refused as
    "too large" (the API's 100 KB limit), what was typed thrown away, though the
    same text is well within what the API takes."""
    longest = "\U0002070e" * 10_000  # 𠜎, a CJK ideograph beyond the BMP
    initiative = site.record(
        "launchInitiative",
        {
            "name": "Told in full",
            "level": "community",
            "involvement_kind": "participation",
            "methods": ["workshop"],
            "purpose": longest,
            "limits_of_influence": longest,
            "started_on": "2025-06-02",
        },
    )
    assert longest in site.client.get(initiative).text


def test_a_refusal_names_the_person_chosen_not_their_id(site) -> None:
    """Recording a person at a meeting twice was refused with "People who came:
    participant 5f0c...-... is already recorded": an id the manager never sees,
    among the people they ticked. It names the person as the form lists them."""
    facts = site.views.cache.facts(site.organisation_id, site.views.position())
    initiative_id = str(facts["initiatives"][0]["initiative_id"])
    person_page = site.record(
        "registerParticipant",
        {"pseudonym": "Robin", "participant_kind": "carer"},
    )
    participant_id = record_id(person_page)
    meeting = site.record(
        "scheduleMeeting",
        {
            "initiative_id": initiative_id,
            "title": "Twice",
            "held_at": "2025-02-03T10:00",
            "high_level": "no",
            "decision_making": "no",
        },
    )
    came = {"meeting_id": record_id(meeting), "participant_ids": [participant_id]}
    site.record("recordAttendance", came)
    refused = site.submit("recordAttendance", came)
    assert refused.status_code == 400
    summary = refused.text.split('class="error-summary"')[1].split("</div>")[0]
    assert participant_id not in summary
    assert "People who came: participant Robin (carer) is already recorded" in summary


def test_a_refusal_gives_its_dates_and_times_as_the_pages_do(site) -> None:
    """Papers sent twice were refused with "papers were already sent at
    2025-07-01T08:00:00+00:00": a time in UTC, as ISO 8601, for a manager who
    typed 09:00 on a summer's day in England."""
    facts = site.views.cache.facts(site.organisation_id, site.views.position())
    meeting = site.record(
        "scheduleMeeting",
        {
            "initiative_id": str(facts["initiatives"][0]["initiative_id"]),
            "title": "Papers twice",
            "held_at": "2025-07-03T10:00",
            "high_level": "no",
            "decision_making": "no",
        },
    )
    sent = {"meeting_id": record_id(meeting), "sent_at": "2025-07-01T09:00"}
    late = site.submit("sendMeetingPapers", sent | {"sent_at": "2025-07-04T09:00"})
    site.record("sendMeetingPapers", sent)
    again = site.submit("sendMeetingPapers", sent | {"sent_at": "2025-07-02T09:00"})
    assert "papers were already sent at 1 July 2025, 09:00 BST" in again.text
    assert "T08:00" not in again.text
    assert "papers must be sent before the meeting (3 July 2025, 10:00 BST)" in (
        late.text
    )


def test_a_manager_records_an_initiative_through_the_forms(site) -> None:
    initiative = site.record(
        "launchInitiative",
        {
            "name": "Crisis line review",
            "level": "operational",
            "involvement_kind": "co_production",
            "methods": ["workshop", "focus_group"],
            "purpose": "Shape the crisis line with its callers.",
            "limits_of_influence": "The budget is fixed.",
            "started_on": "2025-01-06",
        },
    )
    assert initiative.startswith("/initiatives/")
    initiative_id = record_id(initiative)
    person_page = site.record(
        "registerParticipant",
        {"pseudonym": "Robin", "participant_kind": "service_user"},
    )
    participant_id = record_id(person_page)
    page = site.client.get(person_page).text
    assert "Robin" in page
    assert f'href="/people/{participant_id}/personal-link"' in page
    assert "Make a personal link" in page
    site.record(
        "assignRole",
        {
            "initiative_id": initiative_id,
            "participant_id": participant_id,
            "role": "co_worker",
            "paid": "yes",
            "decision_making": "yes",
            "started_on": "2025-01-06",
        },
    )
    meeting = site.record(
        "scheduleMeeting",
        {
            "initiative_id": initiative_id,
            "title": "First workshop",
            "held_at": "2025-02-03T10:00",
            "high_level": "no",
            "decision_making": "yes",
        },
    )
    meeting_id = record_id(meeting)
    meeting_page = site.client.get(meeting).text
    assert 'data-use-case="recordAttendance"' in meeting_page
    assert meeting_page.index("Robin") < meeting_page.index("Mind advisor")
    after = site.record(
        "recordAttendance",
        {"meeting_id": meeting_id, "participant_ids": [participant_id]},
    )
    assert after == meeting
    contribution = site.record(
        "logContribution",
        {
            "initiative_id": initiative_id,
            "contributor_ids": [participant_id],
            "nature": "idea",
            "summary": "Call back within the hour",
            "impact_areas": ["delivery"],
            "made_on": "2025-02-03",
            "meeting_id": meeting_id,
        },
    )
    contribution_id = record_id(contribution)
    assert "Call back within the hour" in site.client.get(meeting).text
    todo = site.client.get("/to-do").text
    assert f"/record/respondToContribution?contribution_id={contribution_id}" in todo
    site.record(
        "respondToContribution",
        {
            "contribution_id": contribution_id,
            "outcome": "adopted",
            "rationale": "",
            "responded_on": "2025-02-10",
        },
    )
    todo = site.client.get("/to-do").text
    assert (
        f"/record/respondToContribution?contribution_id={contribution_id}" not in todo
    )
    assert f"/record/giveFeedback?contribution_id={contribution_id}" in todo
    change = site.record(
        "recordChange",
        {
            "initiative_id": initiative_id,
            "description": "Callbacks within the hour",
            "impact_area": "delivery",
            "scope": "activity",
            "evidence": "The rota",
            "changed_on": "2025-03-01",
            "contribution_ids": [contribution_id],
        },
    )
    assert change.startswith("/changes/")
    site.record(
        "giveFeedback",
        {
            "contribution_id": contribution_id,
            "given_on": "2025-03-02",
            "method": "meeting",
            "summary": "We did it",
        },
    )
    todo = site.client.get("/to-do").text
    assert f"/record/giveFeedback?contribution_id={contribution_id}" not in todo
    history = site.client.get(f"/history/{contribution_id}")
    assert history.status_code == 200
    assert MANAGER in history.text
    assert "Contribution: feedback given" in history.text
    # Its title tells it from another record's history, naming no one.
    title = f"<title>History of contribution {str(contribution_id)[:8]} "
    assert title in history.text


def test_the_history_shows_each_time_as_the_rest_of_the_app_does(
    site, monkeypatch
) -> None:
    """The history page showed times in UTC, where every other page shows the
    organisation's own ($FOURPI_TIME_ZONE): an auditor matching a meeting on an
    initiative's page to its history saw two clocks."""
    monkeypatch.setenv("FOURPI_TIME_ZONE", "Pacific/Auckland")
    person_page = site.record(
        "registerParticipant", {"pseudonym": "Sam", "participant_kind": "carer"}
    )
    participant_id = UUID(person_page.rsplit("/", 1)[1])
    (registered,) = site.records.events.get(participant_id)
    history = site.client.get(f"/history/{participant_id}").text
    in_auckland = registered.timestamp.astimezone(ZoneInfo("Pacific/Auckland"))
    assert in_auckland.strftime("%-d %b %Y, %H:%M:%S %Z") in history
    assert "UTC" not in history


def test_a_double_submit_records_once(site) -> None:
    key = site.form("registerParticipant")
    data = {"pseudonym": "Sam", "participant_kind": "carer"}
    first = site.submit("registerParticipant", data, key=key)
    second = site.submit("registerParticipant", data, key=key)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    site.views.catch_up()
    facts = site.views.cache.facts(site.organisation_id, site.views.position())
    assert [r["pseudonym"] for r in facts["participants"]].count("Sam") == 1


def test_a_refusal_is_shown_beside_its_field_with_the_input_kept(site) -> None:
    facts = site.views.cache.facts(site.organisation_id, site.views.position())
    contribution_id = facts["contributions"][0]["contribution_id"]
    refused = site.submit(
        "respondToContribution",
        {
            "contribution_id": str(contribution_id),
            "outcome": "declined",
            "rationale": "",
            "responded_on": "2025-02-10",
        },
    )
    assert refused.status_code == 400
    page = refused.text
    assert 'href="#rationale"' in page
    assert 'id="rationale-error"' in page
    assert '<option value="declined" selected>' in page
    assert 'value="2025-02-10"' in page
    unreadable = site.submit(
        "launchInitiative",
        {"name": "Kept name", "started_on": "not a date", "methods": ["survey"]},
    )
    assert unreadable.status_code == 400
    assert 'id="started-on-error"' in unreadable.text
    assert 'value="Kept name"' in unreadable.text
    assert 'value="survey" checked' in unreadable.text


def test_contributors_offered_are_the_organisations_service_users_and_carers(
    site,
) -> None:
    site.record(
        "registerParticipant", {"pseudonym": "Staff Jo", "participant_kind": "staff"}
    )
    site.record(
        "registerParticipant", {"pseudonym": "Carer Al", "participant_kind": "carer"}
    )
    page = site.client.get("/record/logContribution").text
    contributors = page.split('id="contributor-ids"')[1].split("</fieldset>")[0]
    assert "Carer Al" in contributors
    assert "Staff Jo" not in contributors
    assert "Elsewhere" not in page


PEOPLE_FORMS = (
    "assignRole",
    "recordAttendance",
    "nameMeetingReserve",
    "logContribution",
    "recordPaymentOwed",
    "recordSupport",
)
"""The forms whose new record names people."""


def test_an_erased_person_is_not_offered_and_a_crafted_post_is_refused(
    site,
) -> None:
    facts = site.views.cache.facts(site.organisation_id, site.views.catch_up())
    initiative_id = facts["initiatives"][0]["initiative_id"]
    (other,) = [r["participant_id"] for r in facts["participants"]]
    erased = site.records.register_participant(
        organisation_id=site.organisation_id,
        pseudonym="Erased Eli",
        participant_kind=ParticipantKind.SERVICE_USER,
        actor=ACTOR,
    )
    meeting = site.records.schedule_meeting(
        organisation_id=site.organisation_id,
        initiative_id=initiative_id,
        title="Steering group",
        held_at=datetime(2024, 3, 1, 10, tzinfo=UTC),
        high_level=True,
        decision_making=True,
        actor=ACTOR,
    )
    site.records.erase_participant(participant_id=erased, actor="admin")
    site.views.catch_up()
    for name in PEOPLE_FORMS:
        page = site.client.get(f"/record/{name}").text
        assert str(other) in page, name
        assert str(erased) not in page, name
    # The erased person's page says so and links to no form that would add to it.
    person_page = site.client.get(f"/people/{erased}").text
    assert "nothing new is recorded about them" in person_page
    assert "Record more" not in person_page
    assert "Record more" in site.client.get(f"/people/{other}").text
    head = site.records.recorder.max_notification_id()
    for name, data, anchor, label in (
        (
            "recordAttendance",
            {"meeting_id": str(meeting), "participant_ids": [str(other), str(erased)]},
            "participant-ids-1",
            "People who came",
        ),
        (
            "assignRole",
            {
                "initiative_id": str(initiative_id),
                "participant_id": str(erased),
                "role": "co_worker",
                "paid": "no",
                "decision_making": "no",
                "started_on": "2024-03-01",
            },
            "participant-id",
            "Person",
        ),
    ):
        refused = site.submit(name, data)
        assert refused.status_code == 400, (name, refused.status_code)
        page = refused.text
        assert "There is a problem" in page
        assert f'href="#{anchor}"' in page
        assert (
            f"{label}: participant {erased} is erased: nothing new about them may be "
            "recorded"
        ) in page
    assert site.records.recorder.max_notification_id() == head


def test_a_workbook_is_checked_then_imported_from_the_upload_page(site) -> None:
    template = site.client.get("/workbook/template")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("application/vnd.openxmlformats")

    def send(content: bytes, action: str) -> Any:
        return site.client.post(
            "/workbook",
            data={"csrf_token": csrf_token(site.client, "/workbook"), "action": action},
            files={"workbook": ("filled.xlsx", content)},
        )

    checked = send(template.content, "check")
    assert checked.status_code == 200
    assert "No problem" in checked.text
    book = openpyxl.load_workbook(io.BytesIO(template.content))
    book["People"].cell(row=2, column=1, value="p1")
    book["People"].cell(row=2, column=2, value="Robin")
    book["People"].cell(row=2, column=3, value="alien")
    filled = io.BytesIO()
    book.save(filled)
    refused = send(filled.getvalue(), "import")
    assert refused.status_code == 400
    problem = re.search(r"<tr><td>People</td><td>2</td><td>([^<]*)</td>", refused.text)
    assert problem is not None and problem.group(1) == "Kind of person"
    book["People"].cell(row=2, column=3, value="Carer")
    filled = io.BytesIO()
    book.save(filled)
    imported = send(filled.getvalue(), "import")
    assert imported.status_code == 200
    assert "Recorded: the workbook" in imported.text
    assert "Robin (carer)" in site.client.get("/record/assignRole").text
    unreadable = send(b"not a workbook", "import")
    assert unreadable.status_code == 400
    assert 'href="#workbook"' in unreadable.text
    assert "could not be read" in unreadable.text


def test_a_workbook_with_many_problems_lists_the_first_ones_and_says_so(site) -> None:
    """A workbook of the wrong shape can have a problem a row: the check lists the
    first PROBLEMS_LISTED (each value cut short), says how many there are, and
    that the rest show once those are put right."""
    rows = PROBLEMS_LISTED + 50
    wrong = workbook_of_unknown_kinds(rows, "alien " + "x" * 2000)
    checked = site.client.post(
        "/workbook",
        data={"csrf_token": csrf_token(site.client, "/workbook"), "action": "check"},
        files={"workbook": ("wrong.xlsx", wrong)},
    )
    assert checked.status_code == 400
    listed = re.findall(r"<tr><td>People</td><td>(\d+)</td>", checked.text)
    assert listed == [str(row) for row in range(2, PROBLEMS_LISTED + 2)]
    assert (
        f"{rows} problems: nothing was recorded. The first {PROBLEMS_LISTED} are "
        "listed: put them right and check it again to see the rest"
    ) in checked.text
    assert "x" * 100 not in checked.text
    assert "alien " + "x" * (VALUE_SHOWN - 7) + "…" in checked.text


def test_a_form_naming_no_record_is_recorded_without_reading_the_views(
    tmp_path,
) -> None:
    """A post is read from what was sent, and the use case checks every record it
    names: the organisation's records are read from the views (after waiting for
    them to reach the log's head) only for a form that needs them, to find the
    initiative of a record chosen. Registering a person reads nothing there, as the
    API's mutation does."""
    url = f"sqlite:///{tmp_path}/reads.sqlite3"
    records = open_records(url)
    views = open_views(url, records)
    mind = organisation_with_a_chain(records, "Mind")
    person(Accounts(records), mind.organisation_id, MANAGER, Role.MANAGER)
    views.catch_up()
    reads: list[str] = []
    position, facts = views.position, views.cache.facts

    def counted_position() -> int:
        reads.append("position")
        return int(position())

    def counted_facts(*args: Any, **kwargs: Any) -> Any:
        reads.append("facts")
        return facts(*args, **kwargs)

    # No projection worker here, so only the requests read the views.
    app = create_app(records, views, web=True, run_projections=False)
    with TestClient(app) as client:
        sign_in(client, MANAGER)
        sent = {
            "csrf_token": csrf_token(client, "/record"),
            "idempotency_key": "the-form-shown",
            "pseudonym": "Robin",
            "participant_kind": "carer",
        }
        views.position = counted_position  # type: ignore[method-assign]
        views.cache.facts = counted_facts  # type: ignore[method-assign]
        response = client.post(
            "/record/registerParticipant", data=sent, follow_redirects=False
        )
        assert response.status_code == 303, response.text
        assert reads == []
        participant_id = UUID(response.headers["location"].split("/")[2][:36])
        assert records.repository.get(participant_id).pseudonym == "Robin"
        # A form that names a record elsewhere reads the views to find its initiative.
        views.catch_up()
        client.post(
            "/record/endRole",
            data={
                "csrf_token": sent["csrf_token"],
                "idempotency_key": "another-form",
                "role_id": str(UUID(int=1)),
                "ended_on": "2025-01-06",
            },
            follow_redirects=False,
        )
        assert "facts" in reads
    views.close()
    records.close()


def grown(tmp_path: Any, initiatives: int) -> tuple[Choices, Any]:
    """A synthetic organisation's facts as a form or the to-do page reads them, and
    its answers."""
    views, organisation_id, position = synthetic_organisation(tmp_path, initiatives)
    report = views.report(Slice(organisation_id), live=position)
    return Choices(views.cache.facts(organisation_id, position), True), report


def test_the_to_do_page_and_a_form_grow_with_the_record_not_its_square(
    tmp_path: Any,
) -> None:
    """The to-do page looked through every feedback given for each response and
    each change, and a form naming a person looked through every person for each
    role or payment it offered: on a 60k-event organisation the to-do page took 8 s
    and held the server (every other request, /healthz too, waited for it), and the
    end-role form took 1.5 s. Twice the record now costs at most a little over
    twice the work."""
    (role,) = [f for f in END_ROLE.fields if f.refers_to is RecordKind.ROLE]
    work = {}
    for initiatives in (4, 8):
        choices, report = grown(tmp_path, initiatives)
        work[initiatives] = (
            python_calls(lambda: to_do(choices, report)),  # noqa: B023
            python_calls(lambda: choices.of(END_ROLE, role, "", {})),  # noqa: B023
        )
        lists = {t.title: t.items for t in to_do(choices, report)}
        assert lists["Contributors not yet told"], "the synthetic record has some"
    for index, page in enumerate(("to do", "end a role")):
        small, large = work[4][index], work[8][index]
        assert large < 2.2 * small, (page, small, large)


def test_a_sheet_fourpi_does_not_know_is_named_on_the_upload_page(site) -> None:
    """A People sheet typed 'Peple' was left unread, and the page said 'No
    problem: its 0 rows would record 0 new facts', then 'Recorded': the people
    were dropped and nothing said which sheet, or why. The page now names each
    sheet it did not read, and the sheet meant."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Peple"
    sheet.append(["Key", "Pseudonym", "Kind of person"])
    sheet.append(["p1", "Robin", "Carer"])
    content = io.BytesIO()
    book.save(content)
    for action in ("check", "import"):
        sent = site.client.post(
            "/workbook",
            data={"csrf_token": csrf_token(site.client, "/workbook"), "action": action},
            files={"workbook": ("filled.xlsx", content.getvalue())},
        )
        assert sent.status_code == 200
        assert (
            "sheet &#39;Peple&#39; is not one fourpi knows (did you mean "
            "&#39;People&#39;?): it was not read"
        ) in sent.text


@given(
    st.datetimes(
        timezones=st.builds(
            timezone,
            st.integers(-14 * 60, 14 * 60).map(lambda m: timedelta(minutes=m)),
        )
    ),
    st.text(max_size=20),
)
def test_any_moment_in_a_refusal_reads_as_a_page_shows_it_or_as_it_was(
    moment: datetime, around: str
) -> None:
    """Every time the domain can write, at the calendar's very ends too (where the
    organisation's time is outside it), is put as the pages show it, or left as
    written; never a failure drawing the refusal."""
    written = moment.isoformat()
    message = f"{around} at {written}."
    readable = readable_moments(message)
    assert readable == message or written not in readable


def test_the_organisations_own_export_uploaded_again_records_nothing_new(
    site, tmp_path
) -> None:
    """The upload page imports as the command line does: the organisation's own
    export, its records entered on these forms (keyed by their ids), recorded
    every one a second time. Now it records nothing; a changed row is refused by
    its sheet, row and column."""
    path = tmp_path / "record.xlsx"
    export_workbook(site.records, site.organisation_id, path, personal_data=True)
    head = site.records.recorder.max_notification_id()

    def send(content: bytes) -> Any:
        return site.client.post(
            "/workbook",
            data={
                "csrf_token": csrf_token(site.client, "/workbook"),
                "action": "import",
            },
            files={"workbook": ("record.xlsx", content)},
        )

    again = send(path.read_bytes())
    assert again.status_code == 200, again.text
    assert site.records.recorder.max_notification_id() == head
    book = openpyxl.load_workbook(path)
    book["Initiatives"]["B2"] = "Another name"
    changed = io.BytesIO()
    book.save(changed)
    refused = send(changed.getvalue())
    assert refused.status_code == 400
    assert "<tr><td>Initiatives</td><td>2</td><td>Name</td>" in refused.text
    assert "already in the store" in refused.text
    assert site.records.recorder.max_notification_id() == head
