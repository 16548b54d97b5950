"""The benchmark's load generator asks what the API and the web app accept: a query the schema refuses, or a form the web app refuses, would measure error handling, not answers and writes."""

import random

import pytest

from bench import load
from bench.suite import FORM_PATH
from fourpi.domain.vocabulary import ParticipantKind
from fourpi.graphql.schema import build_schema
from fourpi.web.forms import FORMS, KEY_FIELD, asked
from fourpi.web.sessions import CSRF_FIELD, SESSION_COOKIE
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
        "csrf": '"token"',
        "cookie": load.SESSION_COOKIE,
        "register": load.lua_string(load.REGISTER),
        "answers": load.lua_string(load.ANSWERS),
        "typename": load.lua_string(load.TYPENAME),
    }
    for query in (load.REGISTER, load.ANSWERS, load.TYPENAME):
        assert load.lua_string(query) in script
    assert script.isascii() and "\\u" not in script


def test_the_web_form_posted_is_the_register_a_person_form_with_its_fields() -> None:
    use_case = FORMS[FORM_PATH.rsplit("/", 1)[1]]
    assert use_case.name == "register_participant"
    assert load.SESSION_COOKIE == SESSION_COOKIE
    rng = random.Random(7)
    for _ in range(20):
        posted = load.form_of(rng, "token")
        assert posted.pop(CSRF_FIELD) == "token"
        assert posted.pop(KEY_FIELD)
        assert set(posted) == {field.name for field in asked(use_case)}
        ParticipantKind(posted["participant_kind"])
