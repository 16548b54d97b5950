"""The command line for starting an organisation and inviting its people: organisations create and list, accounts invite (the link alone on the last line), and the demo's sign-in links."""

import re

from click.testing import CliRunner

from fourpi.accounts import Accounts
from fourpi.bootstrap import open_records
from fourpi.cli import main

LINK = re.compile(r"^http://127\.0\.0\.1:8000/invitations/[\w-]{43}$")


def run(*arguments: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(main, list(arguments), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def invite(url: str, *arguments: str, env: dict[str, str] | None = None):
    """`fourpi accounts invite` into the organisation named Mind."""
    return CliRunner().invoke(
        main,
        ["accounts", "invite", "--database", url, "--organisation", "Mind", *arguments],
        env=env,
    )


def test_an_organisation_is_created_listed_and_its_admin_invited(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    created = run("organisations", "create", "--database", url, "Rethink (test)")
    organisation_id, name = created.strip().split(" ", 1)
    assert name == "Rethink (test)"
    run("organisations", "create", "--database", url, "Another")
    listed = run("organisations", "list", "--database", url).splitlines()
    assert listed == [f"{organisation_id} Rethink (test)", listed[1]]
    assert listed[1].endswith(" Another")

    output = run(
        "accounts",
        "invite",
        "--database",
        url,
        "--organisation",
        "Rethink (test)",
        "--role",
        "admin",
        "Admin@Rethink.example",
    )
    link = output.splitlines()[-1]
    assert LINK.match(link), output
    records = open_records(url)
    try:
        account = Accounts(records).invitation(link.rsplit("/", 1)[1])
        assert account is not None and account.email == "admin@rethink.example"
        assert str(account.organisation_id) == organisation_id
    finally:
        records.close()


def test_an_invitation_link_is_built_on_the_public_url(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    run("organisations", "create", "--database", url, "Mind")
    result = invite(
        url,
        "--role",
        "manager",
        "pm@mind.example",
        env={"FOURPI_PUBLIC_URL": "https://involve.mind.example/"},
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].startswith(
        "https://involve.mind.example/invitations/"
    )


def test_a_refused_invitation_says_why_and_records_nothing(tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    run("organisations", "create", "--database", url, "Mind")
    result = invite(url, "--role", "evaluator", "--personal-data", "ev@mind.example")
    assert result.exit_code == 2
    assert "personal_data" in result.output
    records = open_records(url)
    try:
        assert records.recorder.max_notification_id() == 1
    finally:
        records.close()


def test_the_demo_prints_a_sign_in_link_for_a_manager_an_evaluator_and_an_auditor(
    tmp_path,
) -> None:
    url = f"sqlite:///{tmp_path}/demo.sqlite3"
    for _ in range(2):  # a new link each run
        lines = run("demo", "--database", url).splitlines()
        links = {}
        for line in lines[-3:]:
            label, link = line.strip().split(": ", 1)
            assert LINK.match(link), line
            links[label] = link
        assert set(links) == {"demo manager", "demo evaluator", "demo auditor"}
        records = open_records(url)
        try:
            accounts = Accounts(records)
            roles = {
                label: accounts.invitation(link.rsplit("/", 1)[1]).role.value
                for label, link in links.items()
            }
        finally:
            records.close()
        assert roles == {
            "demo manager": "manager",
            "demo evaluator": "evaluator",
            "demo auditor": "auditor",
        }
