"""Evaluators' query results are kept whole and served again while nothing they depend on has changed: never an answer older than the caller's last write, never to a token that has been revoked, never a mutation or another role's request."""

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fourpi.domain.access import Role
from fourpi.graphql.app import FourPIGraphQL
from tests.api import ApiStore, api_store, client, code_of, data_of, graphql
from tests.helpers import ACTOR, register

ANSWERS = """query($slice: SliceInput) {
  presence(slice: $slice) { position byLevel { key count { value suppressed } } }
  differences(slice: $slice) { position contributions }
}"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ApiStore]:
    with api_store(f"sqlite:///{tmp_path}/fourpi.sqlite3", worker=True) as store:
        yield store


def kept(store: ApiStore) -> FourPIGraphQL:
    """The GraphQL view inside the app (under its middleware and Starlette)."""
    app: Any = store.app
    while not hasattr(app, "routes"):
        app = app.app
    for route in app.routes:
        # Under HeadAsGet, which answers HEAD as GET.
        endpoint = getattr(route.endpoint, "app", route.endpoint)
        if isinstance(endpoint, FourPIGraphQL):
            return endpoint
    raise AssertionError("no GraphQL route")


def ask(
    store: ApiStore, token: str, query: str = ANSWERS, variables: Any = None
) -> Any:
    async def send() -> Any:
        async with client(store) as http:
            return await graphql(http, query, variables, token)

    return asyncio.run(send())


def test_the_same_question_at_the_same_head_is_answered_once(store: ApiStore) -> None:
    organisation = store.records.register_organisation(name="Mind", actor=ACTOR)
    register(store.records, organisation)
    evaluator = store.token(organisation, Role.EVALUATOR)
    first = data_of(ask(store, evaluator))
    second = data_of(ask(store, evaluator))
    assert first == second
    assert len(kept(store).answered) == 1


def test_an_answer_after_a_write_is_worked_out_again(store: ApiStore) -> None:
    organisation = store.records.register_organisation(name="Mind", actor=ACTOR)
    evaluator = store.token(organisation, Role.EVALUATOR)
    before = data_of(ask(store, evaluator))
    register(store.records, organisation)
    after = data_of(ask(store, evaluator))
    assert after["presence"]["position"] > before["presence"]["position"]
    assert after["presence"]["position"] >= store.head() - 1


def test_an_answer_moved_on_past_a_newcomer_is_the_same_at_the_new_position(
    store: ApiStore,
) -> None:
    """A person registered who takes no part yet changes no answer: the answers
    after it are those before, at the new position (the converted answers are
    shared, their positions are not)."""
    organisation = store.records.register_organisation(name="Mind", actor=ACTOR)
    evaluator = store.token(organisation, Role.EVALUATOR)
    before = data_of(ask(store, evaluator))
    register(store.records, organisation)
    after = data_of(ask(store, evaluator))
    for name in ("presence", "differences"):
        assert after[name]["position"] == store.head()
        assert after[name] | {"position": 0} == before[name] | {"position": 0}
    again = data_of(ask(store, evaluator))
    assert again == after


def test_different_variables_are_different_answers(store: ApiStore) -> None:
    organisation = store.records.register_organisation(name="Mind", actor=ACTOR)
    evaluator = store.token(organisation, Role.EVALUATOR)
    whole = data_of(ask(store, evaluator))
    missing = ask(
        store,
        evaluator,
        variables={"slice": {"initiativeId": "00000000-0000-0000-0000-000000000001"}},
    )
    assert code_of(missing) == "NOT_FOUND"
    assert data_of(ask(store, evaluator)) == whole


def test_a_revoked_token_gets_no_kept_answer(store: ApiStore) -> None:
    organisation = store.records.register_organisation(name="Mind", actor=ACTOR)
    token_id, evaluator = store.records.issue_token(
        organisation_id=organisation, role=Role.EVALUATOR, actor=ACTOR
    )
    data_of(ask(store, evaluator))
    store.records.revoke_token(token_id=token_id, actor=ACTOR)
    assert code_of(ask(store, evaluator)) == "UNAUTHENTICATED"


def test_only_evaluators_queries_are_kept(store: ApiStore) -> None:
    organisation = store.records.register_organisation(name="Mind", actor=ACTOR)
    manager = store.token(organisation, Role.MANAGER)
    auditor = store.token(organisation, Role.AUDITOR)
    data_of(ask(store, manager))
    data_of(ask(store, auditor))
    data_of(
        ask(
            store,
            store.token(organisation, Role.EVALUATOR),
            "mutation { __typename }",
        )
    )
    assert len(kept(store).answered) == 0


def test_answers_at_an_earlier_head_are_not_kept(store: ApiStore) -> None:
    """Every request reads the head as it is then, so a result kept at an earlier
    head would never be served again: kept, they held memory without bound until
    ANSWERS_KEPT others pushed them out."""
    organisation = store.records.register_organisation(name="Mind", actor=ACTOR)
    evaluator = store.token(organisation, Role.EVALUATOR)
    ask(store, evaluator)
    ask(store, evaluator, variables={"slice": None})
    assert len(kept(store).answered) == 2
    register(store.records, organisation)
    after = data_of(ask(store, evaluator))
    assert len(kept(store).answered) == 1
    assert kept(store).answered_head == store.head()
    assert data_of(ask(store, evaluator)) == after
