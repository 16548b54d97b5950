"""The README stays true: its Python examples run as shown, and CI runs its test command."""

import re
from pathlib import Path

import pytest

from fourpi.domain.errors import InvalidInput

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_the_examples_for_each_kind_of_user_run_as_shown(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FOURPI_DATABASE_URL", f"sqlite:///{tmp_path}/readme.sqlite3")
    manager, evaluator, auditor = re.findall(r"```python\n(.*?)```", README, re.S)[:3]
    namespace: dict = {}
    with pytest.raises(InvalidInput, match="rationale: must not be blank"):
        exec(compile(manager, "README manager example", "exec"), namespace)
    exec(compile(evaluator, "README evaluator example", "exec"), namespace)
    report = namespace["report"]
    assert report.differences.by_response == {"awaiting_response": 1}
    assert report.principles.declined == 0
    assert report.intended_outcomes.share_achieved is None
    exec(compile(auditor, "README auditor example", "exec"), namespace)
    namespace["views"].close()
    namespace["records"].close()


def test_ci_runs_the_readme_test_command() -> None:
    commands = re.search(r"```sh\n(.*?)```", README, re.S)
    assert commands is not None
    install, test = (
        line.split("#")[0].strip() for line in commands[1].splitlines()[:2]
    )
    ci = (ROOT / ".ci" / "run").read_text()
    assert test in ci
    assert (
        "pip install --quiet -e '.[dev]'" in ci and "pip install -e '.[dev]'" in install
    )


def test_the_api_examples_answer_without_errors(tmp_path) -> None:
    """Every curl example, sent with a token of the role it names, against the demo."""
    import asyncio

    import httpx

    from fourpi.bootstrap import open_records, open_views
    from fourpi.demo import create_demo
    from fourpi.domain.access import Role
    from fourpi.graphql.app import create_app

    examples = re.findall(
        r'Authorization: Bearer \$(\w+)".*?-d @- <<\'EOF\'\n(.*?)\nEOF', README, re.S
    )
    assert {role for role, _ in examples} == {"MANAGER", "EVALUATOR", "AUDITOR"}
    url = f"sqlite:///{tmp_path}/readme-api.sqlite3"
    records = open_records(url)
    summary = create_demo(records)
    views = open_views(url, records)
    views.catch_up()
    secrets = {
        role.name: records.issue_token(
            organisation_id=summary.organisation_id, role=role, actor="readme"
        )[1]
        for role in (Role.MANAGER, Role.EVALUATOR, Role.AUDITOR)
    }
    app = create_app(records, views, run_projections=False)

    async def send_all() -> list[dict]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t"
        ) as client:
            answers = []
            for role, body in examples:
                response = await client.post(
                    "/graphql",
                    content=body,
                    headers={
                        "Authorization": f"Bearer {secrets[role]}",
                        "Content-Type": "application/json",
                    },
                )
                assert response.status_code == 200, response.text
                answers.append(response.json())
                views.catch_up()
            return answers

    for answer in asyncio.run(send_all()):
        assert "errors" not in answer, answer
        assert answer["data"]
    views.close()
    records.close()
