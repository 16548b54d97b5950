"""The mistakes a newcomer makes on the command line get a short answer that says what is wrong and what to check, exit 1 (2 for a command used wrongly), and never a traceback or a silent wrong answer."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from click.testing import CliRunner, Result

from fourpi.bootstrap import open_records, open_views
from fourpi.cli import main
from fourpi.demo import create_demo
from fourpi.domain.access import Role
from tests.conftest import needs_postgres
from tests.helpers import (
    POSTGRES_URL,
    TEST_MASTER_KEY,
    names_on_many_lines,
    register,
)
from tests.test_serve import free_port

FOURPI = str(Path(sys.executable).parent / "fourpi")


def run(*arguments: str) -> Result:
    return CliRunner().invoke(main, list(arguments))


def refused(result: Result, exit_code: int, *phrases: str) -> str:
    """The error of a refused command: the exit code, no traceback, at most three
    lines, and every phrase in it."""
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), repr(result.exception)
    error = result.output[result.output.index("Error:") :].strip()
    assert len(error.splitlines()) <= 3, error
    for phrase in phrases:
        assert phrase in error, error
    return error


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    """A store holding the demo organisation, with one evaluator token."""
    url = f"sqlite:///{tmp_path_factory.mktemp('demo')}/demo.sqlite3"
    records = open_records(url)
    summary = create_demo(records)
    records.issue_token(
        organisation_id=summary.organisation_id,
        role=Role.EVALUATOR,
        label="eve",
        actor="test",
    )
    records.close()
    return url


# A store that cannot be reached or made


def test_a_refused_connection_is_told_in_two_lines() -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    for command in (["demo"], ["projections", "status"], ["serve"]):
        refused(
            run(*command, "--database", url),
            1,
            "cannot use the PostgreSQL server at 127.0.0.1:",
            "Connection refused",
            "Is the server running there?",
        )


def test_an_unknown_database_or_role_is_named() -> None:
    needs_postgres()
    server = POSTGRES_URL.split("?")[0].rsplit("/", 1)[0]
    refused(
        run("demo", "--database", f"{server}/no_such_database"),
        1,
        'database "no_such_database" does not exist',
        "createdb no_such_database",
    )
    nobody = server.replace("postgres@", "no_such_role@")
    refused(
        run("projections", "status", "--database", f"{nobody}/test"),
        1,
        'role "no_such_role" does not exist',
    )


def test_a_sqlite_folder_that_cannot_be_made_is_named(tmp_path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    refused(
        run("demo", "--database", f"sqlite:///{blocker}/store/fourpi.sqlite3"),
        1,
        f"cannot make the folder {blocker}/store for the SQLite store",
        "Not a directory",
        "Check the path in --database",
    )


@pytest.mark.parametrize("command", [["answers", "--organisation", "Mind"], ["demo"]])
def test_a_file_that_is_not_a_sqlite_store_is_named(tmp_path, command) -> None:
    """A --database pointing at a spreadsheet or any other file: sqlite3's
    'file is not a database' was a traceback."""
    impostor = tmp_path / "record.csv"
    impostor.write_text("Key,Pseudonym\n" * 1000)
    refused(
        run(*command, "--database", f"sqlite:///{impostor}"),
        1,
        f"cannot open the SQLite store {impostor}",
        "file is not a database",
        "Check the path in --database",
    )
    assert impostor.read_text() == "Key,Pseudonym\n" * 1000


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize(
    "command",
    [
        ["export", "/dev/full"],
        ["report", "--organisation", "Mind (demo)", "--format", "html", "--output"],
        ["workbook", "export", "--organisation", "Mind (demo)", "/dev/full"],
    ],
)
def test_a_full_disk_is_named_not_a_traceback(demo_url: str, command) -> None:
    """Writing to a disk with no space left (/dev/full) was a traceback, and the
    workbook's a second one as its zip file was closed."""
    if command[-1] == "--output":
        command = [*command, "/dev/full"]
    refused(
        run(*command, "--database", demo_url),
        1,
        "/dev/full",
        "No space left on device",
    )


# PostgreSQL URL parameters reach the driver


def test_postgresql_url_parameters_reach_the_driver() -> None:
    needs_postgres()
    schema = f"params_{uuid4().hex[:12]}"
    url = f"{POSTGRES_URL}?schema={schema}"
    refused(
        run("demo", "--database", f"{url}&sslmode=require"),
        1,
        "SSL",
    )
    refused(
        run("demo", "--database", f"{url}&no_such_parameter=1"),
        1,
        'invalid connection option "no_such_parameter"',
        "Check the parameters after '?'",
    )
    records = open_records(f"{url}&connect_timeout=7&application_name=fourpi-test")
    try:
        recorder: Any = records.recorder
        with recorder.datastore.get_connection() as connection:
            shown = connection.execute("SHOW application_name").fetchone()
        assert next(iter(shown.values())) == "fourpi-test"
    finally:
        records.close()
        import psycopg

        with psycopg.connect(POSTGRES_URL.split("?")[0], autocommit=True) as c:
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


# Commands that only read refuse a store that does not exist


# Ids of nothing in the store; fixed, since each process of pytest -n collects the
# same tests by their ids.
NO_SUCH_ID = "0b6f8f5e-3c1d-4a57-9f0e-6d2b7c4e1a93"

READING_COMMANDS = (
    ["projections", "status"],
    ["answers", "--organisation", "Mind"],
    ["audit", "verify"],
    ["audit", "anchor"],
    ["audit", "history", NO_SUCH_ID],
    ["audit", "replay", "--until", "1"],
    ["tokens", "list"],
    ["tokens", "revoke", NO_SUCH_ID],
    ["participants", "list", "--organisation", "Mind"],
    # Made an empty store at a mistyped path, listed nothing and exited 0.
    ["organisations", "list"],
)


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_a_reading_command_refuses_a_store_that_is_not_there(
    command: list[str], tmp_path
) -> None:
    mistyped = tmp_path / "mistyped" / "fourpi.sqlite3"
    refused(
        run(*command, "--database", f"sqlite:///{mistyped}"),
        1,
        f"no fourpi store at {mistyped}",
    )
    assert not mistyped.parent.exists(), "a command that only reads made a store"


def test_export_refuses_a_store_that_is_not_there(tmp_path) -> None:
    mistyped = tmp_path / "mistyped.sqlite3"
    refused(
        run(
            "export",
            str(tmp_path / "out.ndjson"),
            "--database",
            f"sqlite:///{mistyped}",
        ),
        1,
        f"no fourpi store at {mistyped}",
    )
    assert not mistyped.exists()


def test_a_reading_command_refuses_a_postgresql_schema_that_is_not_there() -> None:
    needs_postgres()
    url = f"{POSTGRES_URL}?schema=never_{uuid4().hex[:12]}"
    refused(
        run("projections", "status", "--database", url),
        1,
        "no fourpi store at schema 'never_",
    )


# Unknown organisation or initiative


def test_answers_take_an_organisation_by_name_or_id(demo_url: str) -> None:
    by_name = run("answers", "--database", demo_url, "--organisation", "Mind (demo)")
    assert by_name.exit_code == 0, by_name.output
    assert "Intended outcomes" in by_name.output
    listed = run("tokens", "list", "--database", demo_url)
    organisation_id = listed.output.split(" of ")[1].split()[0]
    by_id = run("answers", "--database", demo_url, "--organisation", organisation_id)
    assert by_id.exit_code == 0 and by_id.output == by_name.output


@pytest.mark.parametrize(
    "command",
    [
        ["answers", "--organisation", "Mind (typo)"],
        ["answers", "--organisation", "00000000-0000-0000-0000-00000000000a"],
        ["audit", "replay", "--until", "5", "--organisation", "Mind (typo)"],
        ["tokens", "list", "--organisation", "Mind (typo)"],
        ["participants", "list", "--organisation", "Mind (typo)"],
    ],
    ids=" ".join,
)
def test_an_unknown_organisation_is_refused(command: list[str], demo_url: str) -> None:
    given = command[command.index("--organisation") + 1]
    refused(
        run(*command, "--database", demo_url),
        1,
        f"--organisation: no organisation is named {given!r} or has that id",
    )


def test_an_unknown_initiative_is_refused(demo_url: str) -> None:
    unknown = str(uuid4())
    refused(
        run(
            "answers",
            "--database",
            demo_url,
            "--organisation",
            "Mind (demo)",
            "--initiative",
            unknown,
        ),
        1,
        f"--initiative: no initiative {unknown} is recorded for organisation",
    )
    refused(
        run(
            "audit",
            "replay",
            "--database",
            demo_url,
            "--until",
            "5",
            "--initiative",
            unknown,
        ),
        1,
        f"--initiative: no initiative {unknown} is recorded",
    )


# Finding ids


def test_participants_and_tokens_are_listed_id_first(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/ids.sqlite3"
    records = open_records(url)
    mind = records.register_organisation(name="Mind", actor="admin")
    other = records.register_organisation(name="Other", actor="admin")
    ann = register(records, mind, pseudonym="Ann")
    bea = register(records, mind, pseudonym="Bea")
    register(records, other, pseudonym="Not Mind's")
    evaluator, _ = records.issue_token(
        organisation_id=mind, role=Role.EVALUATOR, label="eve", actor="test"
    )
    admin, _ = records.issue_token(organisation_id=None, role=Role.ADMIN, actor="test")
    records.erase_participant(participant_id=bea, actor="test")
    records.close()

    people = run("participants", "list", "--database", url, "--organisation", "Mind")
    assert people.exit_code == 0, people.output
    assert people.output.splitlines() == [
        f"{ann}  Ann  (service_user)",
        f"{bea}  (erased)  (service_user)",
    ]
    tokens = run("tokens", "list", "--database", url)
    assert tokens.exit_code == 0, tokens.output
    assert tokens.output.splitlines() == [
        f"{evaluator}  evaluator  of {mind}  'eve'",
        f"{admin}  admin  global",
    ]
    revoked = run("tokens", "revoke", "--database", url, str(evaluator))
    assert revoked.exit_code == 0, revoked.output
    mine = run("tokens", "list", "--database", url, "--organisation", "Mind")
    assert mine.output.splitlines() == [
        f"{evaluator}  evaluator, revoked  of {mind}  'eve'"
    ]


def test_names_recorded_on_many_lines_are_listed_one_a_line(tmp_path) -> None:
    """A pseudonym recorded before names had to be on one line ('Project\nlead')
    printed over two lines of `participants list`, the second reading as a line of
    its own, as organisations' names did before they were escaped."""
    url = f"sqlite:///{tmp_path}/ids.sqlite3"
    records = open_records(url)
    with names_on_many_lines():
        mind = records.register_organisation(name="Mind\nCymru", actor="admin")
        lead = register(records, mind, pseudonym="Project\nlead\u2028one")
        tab = register(records, mind, pseudonym="Ann\tB\r")
    records.close()

    organisations = run("organisations", "list", "--database", url)
    assert organisations.output.splitlines() == [f"{mind} Mind\\nCymru"]
    people = run("participants", "list", "--database", url, "--organisation", mind)
    assert people.exit_code == 0, people.output
    assert people.output.splitlines() == [
        f"{lead}  Project\\nlead\\u2028one  (service_user)",
        f"{tab}  Ann\\tB  (service_user)",
    ]


# The small things


def test_revoking_an_unknown_token_is_not_a_usage_error(demo_url: str) -> None:
    unknown = str(uuid4())
    refused(
        run("tokens", "revoke", "--database", demo_url, unknown),
        1,
        f"access token {unknown} does not exist",
    )


@pytest.mark.parametrize(
    "command",
    [
        ["answers", "--organisation", "Mind (demo)"],
        ["workbook", "export", "--organisation", "Mind (demo)", "{folder}/x.xlsx"],
    ],
)
def test_a_log_position_beyond_the_log_is_refused(
    demo_url: str, tmp_path, command: list[str]
) -> None:
    """The workbook export took a position past the log's head as the whole log,
    and wrote it without a word, where the answers refuse it."""
    arguments = [part.format(folder=tmp_path) for part in command]
    refused(
        run(*arguments, "--as-of", "99999999", "--database", demo_url),
        2,
        "--as-of",
        "99999999 is beyond it",
    )
    assert not (tmp_path / "x.xlsx").exists()


MOMENT_COMMANDS = {
    "answers": ["answers", "--organisation", "Mind (demo)", "--as-of"],
    "audit replay": ["audit", "replay", "--until"],
    "workbook export": [
        "workbook",
        "export",
        "--organisation",
        "Mind (demo)",
        "{folder}/out",
        "--as-of",
    ],
    "report": [
        "report",
        "--organisation",
        "Mind (demo)",
        "--format",
        "html",
        "--output",
        "{folder}/out",
        "--as-of",
    ],
}


@pytest.mark.parametrize("command", MOMENT_COMMANDS)
@pytest.mark.parametrize(
    ("as_of", "rule"),
    [
        # A traceback (OverflowError: date value out of range), in the report and
        # the workbook export.
        ("9999-12-31T23:59:59-14:00", "must be within years 1 to 9999 once in UTC"),
        ("0001-01-01T00:00:00+14:00", "must be within years 1 to 9999 once in UTC"),
        # The API's words: "Variable '$asOf' has invalid value at .position: ...".
        ("99999999999", "99999999999 is beyond any log position"),
        # Read in the server's own zone, where every other command refuses it.
        ("2024-01-01T00:00:00", "a time must carry its time zone"),
        ("soon", "must be a log position or a time such as 2024-05-01T12:00:00+00:00"),
    ],
)
def test_every_command_reads_a_moment_as_the_answer_pages_read_it(
    demo_url: str, tmp_path, command: str, as_of: str, rule: str
) -> None:
    """One reading of a moment for every command that takes one, refused in the
    option's name before anything is opened or written. The commands had two
    parsers: the workbook export wrote a workbook as of 9999-12-31T23:59:59-14:00
    and took 99999999999 as "beyond the log", the report alone refused both."""
    arguments = [part.format(folder=tmp_path) for part in MOMENT_COMMANDS[command]]
    error = refused(
        run(*arguments, as_of, "--database", demo_url), 2, arguments[-1], rule
    )
    assert "Variable" not in error and "as_of:" not in error
    assert not (tmp_path / "out").exists()


def test_one_row_is_one_row(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/one.sqlite3"
    records = open_records(url)
    records.register_organisation(name="Mind", actor="admin")
    views = open_views(url, records)
    views.catch_up()
    views.close()
    records.close()
    status = run("projections", "status", "--database", url)
    assert status.exit_code == 0, status.output
    assert "1 rows" not in status.output
    assert any(
        line.split() == ["organisations", "1", "row"]
        for line in status.output.splitlines()
    ), status.output


def test_database_help_never_breaks_a_url() -> None:
    shown = CliRunner().invoke(main, ["demo", "--help"], terminal_width=60).output
    assert "sqlite:///FILE" in shown and "postgresql://USER@HOST/DB" in shown


def test_serving_several_processes_on_sqlite_is_refused(tmp_path) -> None:
    refused(
        run("serve", "--workers", "2", "--database", f"sqlite:///{tmp_path}/x.sqlite3"),
        2,
        "--workers 2: several API processes need PostgreSQL",
    )


def test_a_bad_logging_setting_is_named(monkeypatch) -> None:
    monkeypatch.setenv("FOURPI_LOG_FORMAT", "xml")
    refused(run("schema"), 2, "$FOURPI_LOG_FORMAT: must be plain or json, not 'xml'")


def test_a_new_master_key_file_is_announced_once(tmp_path) -> None:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("FOURPI_MASTER_KEY")
    }
    environment["XDG_DATA_HOME"] = str(tmp_path / "data")
    url = f"sqlite:///{tmp_path}/keyed.sqlite3"

    def status() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FOURPI, "tokens", "create", "--database", url, "--role", "admin"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    first = status()
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "data" / "fourpi" / "master.key"
    assert key_file.exists()
    assert f"made a new master key file at {key_file}" in first.stderr
    assert "Back it up, apart from the database" in first.stderr
    second = status()
    assert second.returncode == 0, second.stderr
    assert "master key file" not in second.stderr


def test_a_master_key_file_others_can_read_is_told_once(tmp_path) -> None:
    """The key is read before the store is touched (to refuse a bad one there) and
    again as the store opens: the warning was said twice."""
    key_file = tmp_path / "master.key"
    key_file.write_text(TEST_MASTER_KEY + "\n")
    key_file.chmod(0o644)
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("FOURPI_MASTER_KEY")
    } | {"FOURPI_MASTER_KEY_FILE": str(key_file)}
    url = f"sqlite:///{tmp_path}/told.sqlite3"
    made = subprocess.run(
        [FOURPI, "organisations", "create", "Mind", "--database", url],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert made.stderr.count("can be read by others: `chmod 600` it") == 1


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        (
            "FOURPI_READY_MAX_LAG",
            "lots",
            "$FOURPI_READY_MAX_LAG: must be a whole number",
        ),
        ("FOURPI_ROOT_PATH", "fourpi", "$FOURPI_ROOT_PATH: must start with /"),
        # Taken as they were: a space, ? or # made every link under it another
        # address, and .. or // one the proxy would not send on.
        *(
            (
                "FOURPI_ROOT_PATH",
                value,
                "$FOURPI_ROOT_PATH: must start with /, as /fourpi, and each part "
                "after a / be letters, digits, '-', '_', '.' or '~' (not . or ..), "
                f"not {value!r}",
            )
            for value in ("/a b", "/a?b", "/a#b", "/../x", "//x", "/é", "/a/./b")
        ),
        (
            "FOURPI_MAX_BODY_BYTES",
            "1e6",
            "$FOURPI_MAX_BODY_BYTES: must be a whole number",
        ),
        ("FOURPI_SESSION_HOURS", "twelve", "FOURPI_SESSION_HOURS: must be a number"),
        # float() named no setting ('could not convert string to float'), took
        # '٣' and '1_0', and let inf, nan and -1 through to every live read.
        *(
            (
                "FOURPI_READ_WAIT_SECONDS",
                value,
                "$FOURPI_READ_WAIT_SECONDS: must be a number of seconds from 0 to "
                f"600, such as 5 or 0.5, not {value!r}",
            )
            for value in ("x", "inf", "nan", "-1", "٣", "1_0", "601", "1e2")
        ),
        # Read by float() at each pattern, not at start: 'x' made every evaluator's
        # answer a 500, and inf or nan took away the pattern's time limit.
        *(
            (
                "FOURPI_SUPPRESSION_SECONDS",
                value,
                "$FOURPI_SUPPRESSION_SECONDS: must be a number of seconds from 0 to "
                f"600, such as 5 or 0.5, not {value!r}",
            )
            for value in ("x", "inf", "nan", "-1", "٣")
        ),
        # 0 closed every connection as it opened, before its request came.
        (
            "FOURPI_REQUEST_WAIT_SECONDS",
            "0",
            "$FOURPI_REQUEST_WAIT_SECONDS: must be more than 0 seconds",
        ),
        (
            "FOURPI_REQUEST_WAIT_SECONDS",
            "soon",
            "$FOURPI_REQUEST_WAIT_SECONDS: must be a number of seconds from 0 to 600",
        ),
        ("FOURPI_SESSION_HOURS", "inf", "FOURPI_SESSION_HOURS: must be a number"),
        (
            "FOURPI_SESSION_IDLE_MINUTES",
            "1e300",
            "FOURPI_SESSION_IDLE_MINUTES: must be at most 52560000 (a hundred years)",
        ),
        (
            "FOURPI_PERSONAL_LINK_DAYS",
            "1e12",
            "FOURPI_PERSONAL_LINK_DAYS: must be at most 36500 (a hundred years)",
        ),
        # Taken as they were: uvicorn keeps an entry it cannot read as a name to
        # compare with the client's address, which never matches, so the proxy's
        # headers were ignored without a word (and every client shared the proxy's
        # address, and its limit of failed sign-ins).
        *(
            (
                "FOURPI_FORWARDED_ALLOW_IPS",
                value,
                f"$FOURPI_FORWARDED_ALLOW_IPS: {entry!r} is not an address or a "
                "network",
            )
            for value, entry in (
                ("10.0.0.0/33", "10.0.0.0/33"),
                ("127.0.0.1, proxy.internal", "proxy.internal"),
                ("10.0.0.5/24", "10.0.0.5/24"),
                ("127.0.0.1,,", ""),
            )
        ),
        # Taken as it was: every invitation and personal link was built on it.
        *(
            (
                "FOURPI_PUBLIC_URL",
                value,
                "$FOURPI_PUBLIC_URL: must be where people reach the web app, as "
                f"https://fourpi.example.org, not {value!r}",
            )
            for value in (
                "notaurl",
                "javascript:alert(1)//",
                "https://",
                "http://x.org/?a=1",
                "http://x.org/#a",
                "ftp://x.org",
                "https://x.org:99999",
            )
        ),
    ],
)
def test_serve_names_a_bad_setting(
    variable, value, complaint, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv(variable, value)
    refused(run("serve", "--database", f"sqlite:///{tmp_path}/x.sqlite3"), 2, complaint)


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        # urllib raised these from deep in the parse: a traceback, not the setting.
        (
            "postgresql://postgres@127.0.0.1:99999/x",
            "the port must be a number from 1 to 65535",
        ),
        (
            "postgresql://postgres@127.0.0.1:abc/x",
            "the port must be a number from 1 to 65535",
        ),
        ("postgresql://postgres@[::1/x", "an IPv6 host goes in brackets"),
    ],
)
def test_a_database_url_urllib_cannot_read_is_named(url: str, complaint: str) -> None:
    refused(run("tokens", "list", "--database", url), 2, "--database", complaint)


def test_a_refused_database_url_never_shows_its_password() -> None:
    error = refused(
        run(
            "tokens",
            "list",
            "--database",
            "postgresql://ann:s3cretpass@127.0.0.1:5432/x?schema=a-b",
        ),
        2,
        "schema must be letters, digits and underscores",
    )
    assert "s3cretpass" not in error
    assert "postgresql://ann:***@127.0.0.1:5432/x?schema=a-b" in error


def test_a_bad_group_commit_setting_is_named_by_every_command(
    monkeypatch, tmp_path
) -> None:
    # Read only when the store was opened: every command that opened one ended
    # in a traceback.
    monkeypatch.setenv("FOURPI_GROUP_COMMIT", "maybe")
    url = f"sqlite:///{tmp_path}/x.sqlite3"
    refused(
        run("organisations", "create", "Mind", "--database", url),
        2,
        "$FOURPI_GROUP_COMMIT: must be on or off, not 'maybe'",
    )


def test_a_bad_public_url_is_named_before_an_invitation_is_made(
    monkeypatch, tmp_path
) -> None:
    url = f"sqlite:///{tmp_path}/x.sqlite3"
    assert run("organisations", "create", "Mind", "--database", url).exit_code == 0
    monkeypatch.setenv("FOURPI_PUBLIC_URL", "javascript:alert(1)//")
    refused(
        run(
            "accounts",
            "invite",
            "--organisation",
            "Mind",
            "--role",
            "manager",
            "--database",
            url,
            "ann@example.org",
        ),
        2,
        "$FOURPI_PUBLIC_URL: must be where people reach the web app",
    )


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        # Emptied the views and applied nothing ("Rebuilt the views from 0
        # events"), or, below 0, read the whole log in one batch (SQLite's LIMIT -5
        # is none).
        (["projections", "rebuild", "--batch-size", "0"], "--batch-size"),
        (["projections", "rebuild", "--batch-size", "-5"], "--batch-size"),
        # A wait of -1 or nan s is none: the worker looked for events without
        # pause, a core's worth; inf was a traceback (OverflowError).
        (["projections", "run", "--poll-seconds", "-1"], "--poll-seconds"),
        (["projections", "run", "--poll-seconds", "0"], "--poll-seconds"),
        (["projections", "run", "--poll-seconds", "nan"], "--poll-seconds"),
        (["projections", "run", "--poll-seconds", "inf"], "--poll-seconds"),
        # An empty --host (a variable never set, in --host "$HOST") listened on
        # every address of the machine.
        (["serve", "--host", ""], "--host"),
        (["serve", "--host", " "], "--host"),
    ],
)
def test_an_option_out_of_its_range_is_named_before_anything_is_done(
    arguments: list[str], complaint: str, tmp_path
) -> None:
    url = f"sqlite:///{tmp_path}/x.sqlite3"
    assert run("organisations", "create", "Mind", "--database", url).exit_code == 0
    assert run("projections", "rebuild", "--database", url).exit_code == 0
    refused(run(*arguments, "--database", url), 2, complaint)
    status = run("projections", "status", "--database", url)
    assert "Views at log position 1 of 1" in status.output, status.output


# Standard streams that are closed, or cannot show every character


def test_erasing_with_standard_input_closed_asks_for_yes(tmp_path) -> None:
    """Run with standard input closed (`0<&-`, as some schedulers do), sys.stdin is
    None, and asking whether it was a terminal was an AttributeError traceback."""
    records = open_records(f"sqlite:///{tmp_path}/s.sqlite3")
    organisation = records.register_organisation(name="Mind", actor="test")
    participant = register(records, organisation)
    records.close()
    ran = subprocess.run(
        [
            FOURPI,
            "participants",
            "erase",
            str(participant),
            "--database",
            f"sqlite:///{tmp_path}/s.sqlite3",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        # Closes descriptor 0 in the child before it starts: stdin=DEVNULL is
        # opened first, and then closed here.
        preexec_fn=lambda: os.close(0),
    )
    assert ran.returncode == 2, ran.stderr
    assert "Traceback" not in ran.stderr
    assert "pass --yes to confirm it when not running interactively" in ran.stderr


def test_a_name_the_terminal_cannot_show_is_escaped_not_a_traceback(tmp_path) -> None:
    """Under a locale whose encoding is not UTF-8 (Latin-1 here), listing an
    organisation named with a character outside it was a UnicodeEncodeError
    traceback, after some of the list had been printed."""
    url = f"sqlite:///{tmp_path}/s.sqlite3"
    records = open_records(url)
    records.register_organisation(name="Café ✓", actor="test")
    records.close()
    ran = subprocess.run(
        [FOURPI, "organisations", "list", "--database", url],
        env={**os.environ, "PYTHONIOENCODING": "latin-1"},
        capture_output=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert b"Traceback" not in ran.stderr
    assert ran.stdout.decode("latin-1").endswith(" Café \\u2713\n")


@pytest.mark.parametrize("held", ["bytes that are not text", "/dev/zero"])
def test_a_master_key_file_that_holds_no_key_is_refused_by_name(
    tmp_path, held: str
) -> None:
    """$FOURPI_MASTER_KEY_FILE naming a file of bytes that are not UTF-8 (a key
    saved raw, not as base64url) was a UnicodeDecodeError traceback, and naming
    /dev/zero (or any endless file) held every command for ever, reading it."""
    key_file = tmp_path / "master.key"
    if held == "/dev/zero":
        key_file.symlink_to("/dev/zero")
    else:
        key_file.write_bytes(bytes(range(128, 160)))
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith("FOURPI_MASTER_KEY")
    }
    environment["FOURPI_MASTER_KEY_FILE"] = str(key_file)
    ran = subprocess.run(
        [
            FOURPI,
            "organisations",
            "create",
            "Mind",
            "--database",
            f"sqlite:///{tmp_path}/s.sqlite3",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    assert (
        f"Error: {key_file}: not a master key: it must be the base64url of 32 bytes"
    ) in ran.stderr


def test_a_command_with_standard_output_closed_does_nothing_and_says_so(
    tmp_path,
) -> None:
    """With standard output closed (>&-), `tokens create` issued a token, printed
    it to nowhere and exited 0: a token no one can ever see, reported as done."""
    url = f"sqlite:///{tmp_path}/s.sqlite3"
    records = open_records(url)
    records.register_organisation(name="Mind", actor="test")
    records.close()

    def closed_output(*arguments: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [FOURPI, *arguments, "--database", url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            preexec_fn=lambda: os.close(1),
        )

    ran = closed_output("tokens", "create", "--organisation", "Mind", "--role", "admin")
    assert ran.returncode == 1, ran.stderr
    assert ran.stderr == (
        "Error: standard output is closed, so nothing this command prints could "
        "be read: nothing was done\n"
    )
    listed = run("tokens", "list", "--organisation", "Mind", "--database", url)
    assert listed.exit_code == 0 and listed.output == "", listed.output


def test_an_empty_database_url_is_refused_not_taken_for_the_default(tmp_path) -> None:
    """`--database "$URL"` with $URL unset wrote to the default store under
    ~/.local/share, exit 0, as if no --database had been given."""
    default_home = tmp_path / "data"
    ran = CliRunner().invoke(
        main,
        ["organisations", "create", "Mind", "--database", ""],
        env={"XDG_DATA_HOME": str(default_home)},
    )
    refused(ran, 2, "--database", "must not be empty")
    assert not (default_home / "fourpi").exists()


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        # With the From address missing, no note was ever sent and nothing said so.
        (
            {"FOURPI_SMTP_URL": "smtp://mail.example:587"},
            "$FOURPI_SMTP_URL is set but $FOURPI_MAIL_FROM is not: set both to "
            "send outcome notes by email, or neither",
        ),
        (
            {"FOURPI_MAIL_FROM": "notes@mind.example"},
            "$FOURPI_MAIL_FROM is set but $FOURPI_SMTP_URL is not: set both to "
            "send outcome notes by email, or neither",
        ),
        # Never checked: every note went out From an address no mail host takes.
        *(
            (
                {"FOURPI_SMTP_URL": "smtp://mail.example", "FOURPI_MAIL_FROM": sender},
                "$FOURPI_MAIL_FROM: must be one email address, as notes@mind.example "
                f"or Mind <notes@mind.example>, not {sender!r}",
            )
            for sender in (
                "notanemail",
                "notes@mind.example, other@mind.example",
                "Mind <notes@mind>",
                "notes@mind.example\u202e",
            )
        ),
    ],
)
@pytest.mark.parametrize("command", [["serve"], ["projections", "run"]])
def test_a_half_given_or_wrong_mail_setting_is_named_before_anything_starts(
    given, complaint, command, monkeypatch, tmp_path
) -> None:
    for variable in ("FOURPI_SMTP_URL", "FOURPI_MAIL_FROM"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in given.items():
        monkeypatch.setenv(variable, value)
    store = tmp_path / "x.sqlite3"
    refused(run(*command, "--database", f"sqlite:///{store}"), 2, complaint)
    assert not store.exists()
