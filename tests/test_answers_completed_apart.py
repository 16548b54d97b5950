"""Large answers completed for their responses (graphql-core checking and laying out every value a query selects) in a thread of their own, not on the event loop: on a real `fourpi serve`, another caller is answered again and again while several callers' large answers are completed, and every caller sees exactly what they saw when it was done on the event loop."""

import asyncio
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from bench.synthetic import grow, organisation
from fourpi.bootstrap import open_records
from fourpi.domain.access import Role
from fourpi.graphql.context import Context, Settings
from fourpi.graphql.schema import build_schema
from fourpi.web.answers import ANSWERS_QUERY, PAYMENTS_DOCUMENT
from tests.api import api_store
from tests.test_serve import FOURPI, free_port, stop, wait_until_up
from tests.test_suppression import histories, record_history
from tests.test_suppression_surfaces import caller

HEAVY_CALLERS = 6
"""Callers each asking the answer page's whole document at once."""
EVENTS = 25_000
"""The organisation's size: its answer page's document is some 150 KB of JSON,
completed in about 0.1 s."""
TYPENAME = {"query": "{ __typename }"}


def test_another_caller_is_answered_while_large_answers_are_completed(
    tmp_path: Any,
) -> None:
    """Six evaluators asked for an organisation's whole answers at once (the
    answer page's document, as its pages, CSVs, workbook and report ask it).
    Each answer was completed on the event loop, one after another, and no other
    request was answered meanwhile: another caller asking `{ __typename }` again
    each time it was answered got two or three answers before the last of the six
    (at 100k events: 9 people each downloading 3 CSVs held another's home page up
    to 3.3 s and /healthz 1.6 s). Now they are completed in a thread of their own
    and the other caller is answered many times over meanwhile."""
    url = f"sqlite:///{tmp_path}/large.sqlite3"
    records = open_records(url)
    mind = organisation(records)
    grow(records, mind, EVENTS)
    tokens = [
        records.issue_token(organisation_id=mind, role=Role.EVALUATOR, actor="test")[1]
        for _ in range(HEAVY_CALLERS + 1)
    ]
    records.close()
    port = free_port()
    process = subprocess.Popen(
        [FOURPI, "serve", "--database", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "FOURPI_READ_WAIT_SECONDS": "30"},
    )
    base = f"http://127.0.0.1:{port}"
    whole = {"query": ANSWERS_QUERY}

    def asked(token: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.post(f"{base}/graphql", json=body, headers=headers, timeout=300)

    try:
        wait_until_up(base, process)
        *heavy, light = tokens
        # Worked out once the views have caught up, and kept: what follows is
        # each caller's completion of it.
        first = asked(light, whole)
        assert first.status_code == 200, first.text[:300]
        assert "errors" not in first.json()
        assert len(first.content) > 100_000
        light_answers = 0
        with ThreadPoolExecutor(HEAVY_CALLERS) as pool:
            answers = [pool.submit(asked, token, whole) for token in heavy]
            while not all(answer.done() for answer in answers):
                response = asked(light, TYPENAME)
                assert response.json() == {"data": {"__typename": "Query"}}
                light_answers += 1
        for answer in answers:
            assert answer.result().status_code == 200
            assert answer.result().content == first.content
        assert light_answers >= 2 * HEAVY_CALLERS, light_answers
    finally:
        stop(process)


def on_the_event_loop() -> Any:
    """The API's schema with graphql-core's own completion, on the event loop."""
    schema = build_schema()
    schema.execution_context_class = StrawberryGraphQLCoreExecutionContext
    return schema


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(history=histories)
def test_each_caller_sees_what_they_saw_when_completed_on_the_loop(
    history: dict[str, Any],
) -> None:
    """Completing answers apart changes nothing a caller sees: an evaluator's
    counts of people suppressed and payments refused without the grant, a
    manager's exact counts and payments with it, an auditor's counts without the
    grant, are what the same schema completing on the event loop gives them."""
    folder = tempfile.mkdtemp(prefix="apart")
    apart, on_loop = build_schema(), on_the_event_loop()
    with api_store(f"sqlite:///{folder}/fourpi.sqlite3") as store:
        organisation_id, _ = record_history(store.records, history)
        callers = [
            caller(store, organisation_id, Role.EVALUATOR, False),
            caller(store, organisation_id, Role.MANAGER, True),
            caller(store, organisation_id, Role.AUDITOR, False),
        ]
        store.views.catch_up()
        head = store.views.head()

        async def seen(schema: Any, who: Any, document: str, moment: Any) -> Any:
            context = Context(
                records=store.records,
                views=store.views,
                settings=Settings(),
                caller=who,
            )
            result = await schema.execute(
                document, variable_values={"asOf": moment}, context_value=context
            )
            return result.data, [error.formatted for error in result.errors or []]

        for who in callers:
            for moment in (None, {"position": max(1, head // 2)}):
                for document in (ANSWERS_QUERY, PAYMENTS_DOCUMENT):
                    expected = asyncio.run(seen(on_loop, who, document, moment))
                    got = asyncio.run(seen(apart, who, document, moment))
                    assert got == expected, (who.role, moment, document[:30])
            # The grant decides who may see the people payments name.
            _, refused = asyncio.run(seen(apart, who, PAYMENTS_DOCUMENT, None))
            assert bool(refused) == (who.role is not Role.MANAGER), who.role
