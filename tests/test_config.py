"""Configuration: database URLs, the documented default, and what the stores are set up with."""

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from fourpi.bootstrap import open_records
from fourpi.cli import main
from fourpi.config import (
    ApiLimits,
    DatabaseURLError,
    database_from_environment,
    default_database_path,
    parse_database_url,
)


def test_the_default_is_a_sqlite_file_under_the_data_home(
    monkeypatch, tmp_path
) -> None:
    monkeypatch.delenv("FOURPI_DATABASE_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    database = database_from_environment()
    assert database.backend == "sqlite"
    assert Path(database.sqlite_path) == tmp_path / "fourpi" / "fourpi.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_database_path() == Path.home() / ".local/share/fourpi/fourpi.sqlite3"


def test_the_option_wins_over_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FOURPI_DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite3")
    assert database_from_environment().sqlite_path.endswith("env.sqlite3")
    chosen = database_from_environment(f"sqlite:///{tmp_path}/option.sqlite3")
    assert chosen.sqlite_path.endswith("option.sqlite3")


def test_sqlite_urls_relative_and_absolute(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_database_url("sqlite:///data/x.sqlite3").sqlite_path == str(
        tmp_path / "data" / "x.sqlite3"
    )
    assert (
        parse_database_url("sqlite:////srv/x.sqlite3").sqlite_path == "/srv/x.sqlite3"
    )


def test_postgresql_urls() -> None:
    database = parse_database_url(
        "postgresql://ann:s%40cret@db.example:6432/fourpi?schema=mind"
    )
    env = database.eventsourcing_env()
    assert (
        env["PERSISTENCE_MODULE"]
        == "fourpi.storage.postgres_factory:OptionsPostgresFactory"
    )
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]) == (
        "db.example",
        "6432",
        "fourpi",
    )
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("ann", "s@cret")
    assert env["POSTGRES_SCHEMA"] == "mind"
    assert "s@cret" not in database.display and "cret" not in database.display
    defaults = parse_database_url("postgresql://127.0.0.1/test")
    assert (defaults.user, defaults.port, defaults.schema) == (
        "postgres",
        5432,
        "public",
    )


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("mysql://db/x", "scheme must be sqlite or postgresql"),
        ("sqlite://", "sqlite:///path"),
        ("postgresql://127.0.0.1/", "name the database"),
        ("postgresql://127.0.0.1/x?schema=a;drop", "letters, digits and underscores"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, complaint: str) -> None:
    with pytest.raises(DatabaseURLError, match=complaint):
        parse_database_url(url)


def test_every_event_is_encoded_by_our_transcoder(tmp_path) -> None:
    records = open_records(f"sqlite:///{tmp_path}/x.sqlite3")
    assert type(records.mapper.transcoder).__name__ == "OrjsonTranscoder"
    records.close()


def test_the_sqlite_file_is_in_write_ahead_logging_mode(tmp_path) -> None:
    path = tmp_path / "nested" / "folder" / "x.sqlite3"
    records = open_records(f"sqlite:///{path}")
    records.register_organisation(name="Mind", actor="admin")
    records.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_command_line_refuses_a_bad_url_clearly() -> None:
    result = CliRunner().invoke(main, ["demo", "--database", "mysql://x/y"])
    assert result.exit_code == 2
    assert "scheme must be sqlite or postgresql" in result.output


def test_every_command_explains_itself() -> None:
    for arguments in (["--help"], ["demo", "--help"]):
        result = CliRunner().invoke(main, arguments)
        assert result.exit_code == 0 and "Usage:" in result.output
    assert "--database" in CliRunner().invoke(main, ["demo", "--help"]).output


def test_tokens_are_created_once_and_revoked_from_the_command_line(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/tokens.sqlite3"
    records = open_records(url)
    organisation = records.register_organisation(name="Mind (test)", actor="admin")
    records.close()
    runner = CliRunner()
    created = runner.invoke(
        main,
        [
            "tokens",
            "create",
            "--database",
            url,
            "--organisation",
            "Mind (test)",
            "--role",
            "evaluator",
        ],
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[0]
    token_id = created.stderr.split()[1]
    records = open_records(url)
    token = records.authenticate(secret)
    assert token is not None and token.organisation_id == organisation
    assert str(token.id) == token_id
    revoked = runner.invoke(main, ["tokens", "revoke", "--database", url, token_id])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert open_records(url).authenticate(secret) is None
    nobody = runner.invoke(
        main,
        [
            "tokens",
            "create",
            "--database",
            url,
            "--organisation",
            "Nobody",
            "--role",
            "manager",
        ],
    )
    assert (
        nobody.exit_code == 1 and "no organisation is named 'Nobody'" in nobody.output
    )
    records.close()


@pytest.mark.parametrize(
    "written", ["٣", "1_000", " 12", "+3", "-1", "1e3", "0x10", "9" * 101, "²"]
)
def test_a_whole_number_setting_takes_ascii_digits_alone(
    monkeypatch, tmp_path, written: str
) -> None:
    """int() read '٣' (an Arabic-Indic digit) as 3 and '1_000' as 1000, so a
    setting written wrongly was taken as a number nobody meant; '²' gave int()'s
    own words. The one rule for numbers given as text, parse_digits, with the
    setting named, before anything is served."""
    monkeypatch.setenv("FOURPI_MAX_BODY_BYTES", written)
    with pytest.raises(ValueError) as refused:
        ApiLimits.from_environment()
    assert str(refused.value) == (
        f"$FOURPI_MAX_BODY_BYTES: must be a whole number in digits 0 to 9, "
        f"not {written!r}"
    )
    result = CliRunner().invoke(
        main, ["serve", "--database", f"sqlite:///{tmp_path}/s.sqlite3"]
    )
    assert result.exit_code == 2, result.output
    assert "$FOURPI_MAX_BODY_BYTES: must be a whole number in digits 0 to 9" in (
        result.output
    )
    monkeypatch.setenv("FOURPI_MAX_BODY_BYTES", "1000")
    assert ApiLimits.from_environment().max_body_bytes == 1000


@pytest.mark.parametrize(
    ("variable", "written", "least"),
    [
        # Each was taken, and then no query could run: depth 0 refused every one.
        ("FOURPI_MAX_QUERY_DEPTH", "0", "2 (a field and one inside it)"),
        ("FOURPI_MAX_QUERY_DEPTH", "1", "2 (a field and one inside it)"),
        ("FOURPI_MAX_QUERY_TOKENS", "0", "100 (a short query)"),
        ("FOURPI_MAX_BODY_BYTES", "10", "1000 (a short query and its JSON)"),
        ("FOURPI_MAX_PAGE_SIZE", "0", "1 (one event a page)"),
        (
            "FOURPI_MAX_QUERY_COST",
            "0",
            "500 (a set of answers with its integrity check)",
        ),
        (
            "FOURPI_MAX_BAD_TOKENS",
            "0",
            "1 (else one mistyped token shuts a client out)",
        ),
    ],
)
def test_an_api_limit_that_no_query_could_pass_is_refused(
    monkeypatch, tmp_path, variable: str, written: str, least: str
) -> None:
    monkeypatch.setenv(variable, written)
    with pytest.raises(ValueError) as refused:
        ApiLimits.from_environment()
    assert (
        str(refused.value) == f"${variable}: must be at least {least}, not {written!r}"
    )
    result = CliRunner().invoke(
        main, ["serve", "--database", f"sqlite:///{tmp_path}/s.sqlite3"]
    )
    assert result.exit_code == 2, result.output
    assert f"${variable}: must be at least" in result.output


def test_no_aliases_at_all_is_a_limit_queries_can_keep(monkeypatch) -> None:
    monkeypatch.setenv("FOURPI_MAX_QUERY_ALIASES", "0")
    assert ApiLimits.from_environment().max_aliases == 0
