"""Packaging guards: one import package, fourpi, whose subpackages are the top-level folders, and no shadowed graphql."""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SUBPACKAGE_FOLDERS = {
    "fourpi": "fourpi",
    "domain": "fourpi.domain",
    "projections": "fourpi.projections",
    "graphql": "fourpi.graphql",
    "web": "fourpi.web",
}


def packages_in_folders() -> set[str]:
    """Every folder holding Python modules, named as setuptools must list it."""
    found = set()
    for folder, package in SUBPACKAGE_FOLDERS.items():
        base = ROOT / folder
        for directory in [base, *base.rglob("*")]:
            if not directory.is_dir() or "__pycache__" in directory.parts:
                continue
            if any(directory.glob("*.py")):
                relative = directory.relative_to(base).parts
                found.add(".".join((package, *relative)))
    return found


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_folder_is_listed_for_setuptools() -> None:
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    missing = packages_in_folders() - listed
    assert not missing, (
        f"add to [tool.setuptools] packages in pyproject.toml: {missing}"
    )


def test_every_listed_package_maps_to_its_folder() -> None:
    settings = pyproject()["tool"]["setuptools"]
    package_dir = settings["package-dir"]
    for package in settings["packages"]:
        top = ".".join(package.split(".")[:2])
        assert top in package_dir, f"{package} has no package-dir entry for {top}"


def test_graphql_folder_never_has_an_init_file() -> None:
    assert not (ROOT / "graphql" / "__init__.py").exists(), (
        "graphql/__init__.py shadows graphql-core, which strawberry imports"
    )


def test_import_graphql_finds_graphql_core_even_with_the_repo_root_first() -> None:
    probe = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r}); import graphql; "
        "print(graphql.__file__); print(graphql.version)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    location = result.stdout.splitlines()[0]
    assert "site-packages" in location and not location.startswith(
        str(ROOT / "graphql")
    )


def test_the_command_line_works_from_any_directory(tmp_path: Path) -> None:
    fourpi = Path(sys.executable).parent / "fourpi"
    result = subprocess.run(
        [str(fourpi), "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stdout


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The names in the project's wheel, built once for the tests that read it."""
    return set(
        zipfile.ZipFile(built_wheel(tmp_path_factory.mktemp("wheel"))).namelist()
    )


@pytest.mark.slow
def test_the_wheel_holds_every_module(wheel_names: set[str]) -> None:
    """An editable install imports folders setuptools would drop; the wheel shows the truth."""
    for folder, package in SUBPACKAGE_FOLDERS.items():
        for module in (ROOT / folder).rglob("*.py"):
            inside = module.relative_to(ROOT / folder)
            expected = "/".join((*package.split("."), *inside.parts))
            assert expected in wheel_names, f"{expected} is missing from the wheel"


@pytest.mark.slow
def test_the_wheel_holds_the_demo_workbook(wheel_names: set[str]) -> None:
    """fourpi demo imports the workbook shipped as package data."""
    for sheet in (ROOT / "fourpi" / "demo_workbook").glob("*.csv"):
        assert f"fourpi/demo_workbook/{sheet.name}" in wheel_names


def built_wheel(folder: Path) -> Path:
    """The project's wheel, built into folder from a copy of the tree: setuptools
    writes build/ and *.egg-info beside the sources, and tests run in several
    processes at once (pytest -n), so two builds must not share them."""
    source = folder / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            ".*cache",
            ".hypothesis",
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(folder),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = folder.glob("fourpi-*.whl")
    return wheel
