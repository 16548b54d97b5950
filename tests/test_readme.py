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
