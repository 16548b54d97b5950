"""The checked-in schema is the code's schema: a client reading graphql/schema.graphql sees the API as it is."""

from pathlib import Path

from click.testing import CliRunner

from fourpi.cli import main
from fourpi.graphql.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "graphql" / "schema.graphql"


def test_the_checked_in_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text().strip() == build_schema().as_str().strip(), (
        "graphql/schema.graphql is out of date: run "
        "`fourpi schema > graphql/schema.graphql`"
    )


def test_the_schema_command_prints_it() -> None:
    printed = CliRunner().invoke(main, ["schema"])
    assert printed.exit_code == 0
    assert printed.output.strip() == SCHEMA_FILE.read_text().strip()


def test_every_type_and_field_has_a_description() -> None:
    schema = build_schema()._schema
    missing = []
    for name, graphql_type in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not graphql_type.description:
            missing.append(name)
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            if not field.description:
                missing.append(f"{name}.{field_name}")
            for argument_name, argument in getattr(field, "args", {}).items():
                if not argument.description:
                    missing.append(f"{name}.{field_name}({argument_name})")
    assert not missing, f"add descriptions to: {missing}"
