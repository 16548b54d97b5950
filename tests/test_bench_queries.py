"""The benchmark's load generator asks what the API accepts: a query the schema refuses would measure error handling, not answers."""

import pytest

from bench import load
from fourpi.graphql.schema import build_schema
from graphql import parse, validate


@pytest.mark.parametrize("query", [load.REGISTER, load.ANSWERS, load.TYPENAME])
def test_every_benchmark_query_is_valid_against_the_schema(query: str) -> None:
    assert validate(build_schema()._schema, parse(query)) == []


def test_the_wrk_script_holds_each_query_as_a_string_lua_reads_back() -> None:
    # wrk's LuaJIT reads the escapes json.dumps writes (quote, backslash, newline),
    # but not unicode escapes.
    script = load.WRK_SCRIPT % {
        "workload": '"answers"',
        "token": '"secret"',
        "initiative": '""',
        "register": load.lua_string(load.REGISTER),
        "answers": load.lua_string(load.ANSWERS),
        "typename": load.lua_string(load.TYPENAME),
    }
    for query in (load.REGISTER, load.ANSWERS, load.TYPENAME):
        assert load.lua_string(query) in script
    assert script.isascii() and "\\u" not in script
