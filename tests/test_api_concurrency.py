"""Many requests at once: one report per request however many answers it asks, and no request fails for want of a connection."""

import asyncio
from typing import Any

from fourpi.demo import create_demo
from fourpi.domain.access import Role
from tests.api import api_store, client, data_of, graphql

FIVE_ANSWERS = """{
  intendedOutcomes { position }
  differences { contributions }
  processExperience { answers { value } }
  endResult { position }
  beyond { position }
}"""


def test_one_request_computes_its_report_once(tmp_path) -> None:
    with api_store(f"sqlite:///{tmp_path}/once.sqlite3") as store:
        summary = create_demo(store.records)
        evaluator = store.token(summary.organisation_id, Role.EVALUATOR)
        store.views.catch_up()
        calls = []
        report = store.views.report

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls.append(args)
            return report(*args, **kwargs)

        store.views.report = counted  # type: ignore[method-assign]

        async def ask() -> None:
            async with client(store) as c:
                data_of(await graphql(c, FIVE_ANSWERS, None, evaluator))

        asyncio.run(ask())
        assert len(calls) == 1


def test_many_evaluators_at_once_all_get_their_answers(tmp_path) -> None:
    with api_store(f"sqlite:///{tmp_path}/many.sqlite3") as store:
        summary = create_demo(store.records)
        evaluator = store.token(summary.organisation_id, Role.EVALUATOR)
        store.views.catch_up()

        async def ask_together() -> list[Any]:
            async with client(store) as c:
                return await asyncio.gather(
                    *(graphql(c, FIVE_ANSWERS, None, evaluator) for _ in range(40))
                )

        responses = asyncio.run(ask_together())
        assert [r.status_code for r in responses] == [200] * 40
        assert all(data_of(r)["differences"]["contributions"] > 0 for r in responses)
