"""What a hostile test from outside found, the API by raw requests and the command line by odd arguments and paths, each as the request or command that showed it: now refused naming the part at fault, never a traceback, and nothing written."""

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest

from fourpi.bootstrap import open_records
from fourpi.config import ApiLimits
from fourpi.demo import create_demo
from fourpi.domain.access import Role
from tests.api import ApiStore, api_store, client, data_of
from tests.test_command_line_errors import refused, run
from tests.test_hostile_requests import refused_as

LIMITS = ApiLimits(read_wait_seconds=5)
REGISTER = (
    "mutation Register {{ registerParticipant(input: {{pseudonym: {name}, "
    "participantKind: SERVICE_USER}}) {{ id }} }}"
)
PARTICIPANTS = "{ participants(first: 100) { nodes { id } } }"


@dataclass
class Outside:
    store: ApiStore
    organisation: UUID
    manager: str


@pytest.fixture
def outside(tmp_path) -> Iterator[Outside]:
    with api_store(f"sqlite:///{tmp_path}/s.sqlite3", LIMITS, worker=True) as store:
        organisation = store.records.register_organisation(name="Mind", actor="t")
        yield Outside(store, organisation, store.token(organisation, Role.MANAGER))


def send(
    outside: Outside, method: str, token: str | None = None, **request: Any
) -> httpx.Response:
    """One request to /graphql, with the manager's token unless another is given."""

    async def go() -> httpx.Response:
        async with client(outside.store) as http:
            return await http.request(
                method,
                "/graphql",
                headers={"Authorization": f"Bearer {token or outside.manager}"},
                **request,
            )

    return asyncio.run(go())


@pytest.mark.parametrize(
    "query",
    [
        REGISTER.format(name='"first"') + " query Read { me { role } }",
        "query Read { me { role } } " + REGISTER.format(name='"second"'),
        REGISTER.format(name='"one"')
        + REGISTER.format(name='"two"').replace("Register", "RegisterAgain", 1),
    ],
)
def test_several_operations_without_a_name_are_refused_and_none_runs(
    outside: Outside, query: str
) -> None:
    """GraphQL requires operationName when a document holds several operations;
    strawberry ran the first one, a mutation among them on the event loop."""
    response = send(outside, "POST", json={"query": query})
    assert response.status_code == 400, response.text
    message = refused_as(response, "BAD_USER_INPUT", "operationName")
    assert "more than one operation" in message
    listed = send(outside, "POST", json={"query": PARTICIPANTS})
    assert data_of(listed)["participants"]["nodes"] == []


def test_a_named_operation_among_several_still_runs(outside: Outside) -> None:
    query = REGISTER.format(name='"named"') + " query Read { me { role } }"
    response = send(outside, "POST", json={"query": query, "operationName": "Register"})
    assert data_of(response)["registerParticipant"]["id"]
    response = send(outside, "GET", params={"query": query, "operationName": "Read"})
    assert data_of(response) == {"me": {"role": "MANAGER"}}


@pytest.mark.parametrize(
    ("parameter", "value", "words"),
    [
        ("variables", "%ZZ", "not valid JSON"),
        ("variables", "[" * 70 + "]" * 70, "nests"),
        ("variables", '{"a": 1, "a": 2}', "twice"),
        ("extensions", "{", "not valid JSON"),
    ],
)
def test_a_get_parameter_that_is_not_json_is_named(
    outside: Outside, parameter: str, value: str, words: str
) -> None:
    response = send(
        outside, "GET", params={"query": "{ me { role } }", parameter: value}
    )
    assert response.status_code == 400, response.text
    message = refused_as(response, "BAD_USER_INPUT")
    assert words in message
    if words != "twice":
        assert parameter in message
        assert response.json()["errors"][0]["extensions"]["field"] == parameter


DEMO = ["--organisation", "Mind (demo)"]
HTML_REPORT = ["report", *DEMO, "--format", "html", "--output"]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.sqlite3"
    records = open_records(url)
    create_demo(records)
    records.close()
    return url


@pytest.mark.parametrize(
    "command",
    [
        ["export", "{missing}/log.ndjson"],
        ["export", "{folder}/log.ndjson", "--keys", "{missing}/keys.json"],
        [*HTML_REPORT, "{missing}/report.html"],
        ["workbook", "export", "{missing}/record.xlsx", *DEMO],
    ],
)
def test_a_file_that_cannot_be_written_is_named_not_a_traceback(
    demo_url: str, tmp_path, command: list[str]
) -> None:
    missing = tmp_path / "no such folder"
    arguments = [part.format(missing=missing, folder=tmp_path) for part in command]
    refused(
        run(*arguments, "--database", demo_url),
        1,
        str(missing),
        "No such file or directory",
    )
    assert not missing.exists()


def test_a_template_that_cannot_be_written_is_named_not_a_traceback(tmp_path) -> None:
    missing = tmp_path / "no such folder"
    result = run("workbook", "template", str(missing / "template.xlsx"))
    refused(result, 1, str(missing), "No such file or directory")


NOT_UTF8 = b"Mind \xff\xfe".decode("utf-8", "surrogateescape")
"""An argument in bytes that are not UTF-8, as Python hands it to a command."""


@pytest.mark.parametrize(
    "command",
    [
        ["answers"],
        ["report", "--format", "html", "--output", "{folder}/report.html"],
        ["tokens", "create", "--role", "manager"],
        ["participants", "list"],
        ["workbook", "export", "{folder}/record.xlsx"],
        ["workbook", "import", "{folder}"],
    ],
)
def test_an_organisation_in_bytes_that_are_not_utf8_is_named(
    demo_url: str, tmp_path, command: list[str]
) -> None:
    (tmp_path / "People.csv").write_text("Key,Pseudonym\n")  # a folder to import
    arguments = [part.format(folder=tmp_path) for part in command]
    result = run(*arguments, "--organisation", NOT_UTF8, "--database", demo_url)
    refused(result, 2, "--organisation", "not UTF-8")


def test_an_email_in_bytes_that_are_not_utf8_is_refused(demo_url: str) -> None:
    result = run(
        "accounts",
        "invite",
        f"{NOT_UTF8}@example.org".replace(" ", ""),
        "--organisation",
        "Mind (demo)",
        "--role",
        "manager",
        "--database",
        demo_url,
    )
    refused(result, 2, "email", "must be text")


def test_a_host_in_bytes_that_are_not_utf8_is_named(tmp_path) -> None:
    """It ended in a traceback from the address lookup."""
    result = run("serve", "--host", NOT_UTF8, "--database", f"sqlite:///{tmp_path}/s")
    refused(result, 2, "--host", "not UTF-8")


@pytest.mark.parametrize("port", ["65536", "99999", "-1"])
def test_a_port_outside_the_range_is_refused_not_served_elsewhere(
    tmp_path, port: str
) -> None:
    """uvicorn listened on some other port while saying it served this one."""
    result = run("serve", "--port", port, "--database", f"sqlite:///{tmp_path}/s")
    refused(result, 2, "--port", "0<=x<=65535")


SEAL = "a" * 64


ARABIC_INDIC_FIVE = "\u0665"


@pytest.mark.parametrize("position", ["²", ARABIC_INDIC_FIVE, "①", "9" * 5_000])
def test_an_anchor_in_digits_other_than_ascii_is_not_a_position(
    outside: Outside, demo_url: str, position: str
) -> None:
    """'²' passed str.isdigit and then failed in int() with Python's own words, as
    did 5,000 digits (past the 4,300 int() takes); an Arabic-Indic five was read as
    position 5."""
    auditor = outside.store.token(outside.organisation, Role.AUDITOR)
    response = send(
        outside,
        "POST",
        auditor,
        json={"query": f'{{ integrity(anchor: "{position}:{SEAL}") {{ intact }} }}'},
    )
    assert "is not POSITION:SEAL" in refused_as(response, "BAD_USER_INPUT", "anchor")
    result = run(
        "audit", "verify", "--anchor", f"{position}:{SEAL}", "--database", demo_url
    )
    refused(result, 2, "--anchor", "is not POSITION:SEAL")


@pytest.mark.parametrize("moment", ["²", ARABIC_INDIC_FIVE, "9" * 5_000])
def test_an_as_of_in_digits_other_than_ascii_is_not_a_position(
    demo_url: str, moment: str
) -> None:
    """5,000 digits were refused in Python's words (int() takes at most 4,300)."""
    result = run(
        "answers",
        "--organisation",
        "Mind (demo)",
        "--as-of",
        moment,
        "--database",
        demo_url,
    )
    refused(result, 2, "--as-of", "must be a log position or a time")


def test_a_period_that_ends_before_it_starts_is_refused(
    outside: Outside, demo_url: str, tmp_path
) -> None:
    """It was answered as a period in which nothing happened: 0 meetings."""
    response = send(
        outside,
        "POST",
        json={
            "query": '{ presence(slice: {periodFrom: "2025-01-01", '
            'periodTo: "2024-12-31"}) { position } }'
        },
    )
    message = refused_as(response, "BAD_USER_INPUT", "slice.periodTo")
    assert "on or after" in message
    period = ["--from", "2025-01-01", "--to", "2024-12-31", "--database", demo_url]
    result = run("answers", "--organisation", "Mind (demo)", *period)
    refused(result, 2, "--to", "on or after --from")
    output = tmp_path / "report.html"
    result = run(*HTML_REPORT, str(output), *period)
    refused(result, 2, "--to", "on or after")
    assert not output.exists()


@pytest.mark.parametrize("cycle", [0, -1, -(2**31), 10_000, 2**31 - 1])
def test_a_cycle_number_outside_1_to_9999_is_refused(
    outside: Outside, demo_url: str, tmp_path, cycle: int
) -> None:
    """It was answered as a cycle in which nothing happened; the web app already
    refused it, 10000 and more too (MOST_CYCLES), which the API and the command
    line answered with nothing."""
    rule = "must be a cycle number from 1 to 9999"
    response = send(
        outside,
        "POST",
        json={
            "query": "query($c: Int) { cycles(slice: {cycle: $c}) { position } }",
            "variables": {"c": cycle},
        },
    )
    message = refused_as(response, "BAD_USER_INPUT", "slice.cycle")
    assert message == f"slice.cycle: {rule}"
    result = run(
        "answers",
        "--organisation",
        "Mind (demo)",
        "--cycle",
        str(cycle),
        "--database",
        demo_url,
    )
    refused(result, 2, "--cycle", rule)
    output = tmp_path / "report.html"
    result = run(
        *HTML_REPORT, str(output), "--cycle", str(cycle), "--database", demo_url
    )
    refused(result, 2, "--cycle", rule)
    assert not output.exists()


@pytest.mark.parametrize(
    "time",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        # In UTC it is in the calendar; in London (its zone's first offset was
        # -00:01:15), the date it falls on is not.
        "0001-01-01T00:00:00+00:00",
    ],
)
def test_an_as_of_time_outside_the_calendar_names_the_api_field(
    outside: Outside, demo_url: str, time: str
) -> None:
    """Its UTC or local time falls before year 1 or after 9999: the API said
    'as_of: ...', the command line's word, where its own field is asOf.time."""
    rule = (
        "must be within years 1 to 9999 once in UTC and in the organisation's time zone"
    )
    response = send(
        outside,
        "POST",
        json={
            "query": "query($t: DateTime) { cycles(asOf: {time: $t}) { position } }",
            "variables": {"t": time},
        },
    )
    assert refused_as(response, "BAD_USER_INPUT", "asOf.time") == f"asOf.time: {rule}"
    result = run("answers", *DEMO, "--as-of", time, "--database", demo_url)
    refused(result, 2, "--as-of", rule)


@pytest.mark.parametrize("hours", ["1e-999999999", "0.001", "2.125"])
def test_hours_finer_than_a_hundredth_are_refused_and_nothing_is_written(
    outside: Outside, hours: str
) -> None:
    """1E-999999999 hours was recorded, and the organisation's workbook export then
    held 0 hours, which its own import refuses."""
    support = (
        "mutation($hours: Decimal) { recordSupport(input: {supportKind: SUPERVISION, "
        'givenOn: "2024-01-01", hours: $hours}) { logPosition } }'
    )
    head = outside.store.records.recorder.max_notification_id() or 0
    response = send(
        outside, "POST", json={"query": support, "variables": {"hours": hours}}
    )
    assert "hundredths" in refused_as(response, "BAD_USER_INPUT", "input.hours")
    assert (outside.store.records.recorder.max_notification_id() or 0) == head
    response = send(
        outside, "POST", json={"query": support, "variables": {"hours": "1.25"}}
    )
    assert data_of(response)["recordSupport"]["logPosition"] == head + 1


@pytest.mark.parametrize("operation", ["query", "mutation"])
def test_wrong_tokens_sent_all_at_once_are_answered_no_more_than_the_limit(
    tmp_path, operation: str
) -> None:
    """300 wrong tokens sent at once were all answered: each passed the check before
    any was counted, so the limit bounded guesses sent one by one only. A right
    token in the burst is refused alike once the allowance is spent."""
    limit = 5
    limits = ApiLimits(read_wait_seconds=5, max_bad_tokens=limit)
    query = (
        "{ me { role } }"
        if operation == "query"
        else REGISTER.format(name='"burst"').replace(" { id }", " { logPosition }")
    )
    with api_store(f"sqlite:///{tmp_path}/s.sqlite3", limits) as store:
        organisation = store.records.register_organisation(name="Mind", actor="t")
        manager = store.token(organisation, Role.MANAGER)
        tokens = [f"fourpi_wrong{n}" for n in range(60)]
        tokens.insert(30, manager)

        async def burst() -> list[httpx.Response]:
            async with client(store) as http:
                return await asyncio.gather(
                    *(
                        http.post(
                            "/graphql",
                            json={"query": query},
                            headers={"Authorization": f"Bearer {token}"},
                        )
                        for token in tokens
                    )
                )

        answers = asyncio.run(burst())
        told_wrong = [
            r for r in answers if r.status_code != 429 and "errors" in r.json()
        ]
        assert len(told_wrong) <= limit, [r.text for r in told_wrong]
        for response in answers:
            assert response.status_code in (200, 429), response.text
            if response.status_code == 429:
                assert refused_as(response, "TOO_MANY_REQUESTS")
                assert 0 < int(response.headers["retry-after"]) <= 60
