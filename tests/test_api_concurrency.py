"""Many requests at once: one report per request however many answers it asks, no request fails for want of a connection, and each of many writes at once learns the position of its own event."""

import asyncio
from typing import Any

from fourpi.audit import verify
from fourpi.demo import create_demo
from fourpi.domain.access import Role
from tests.api import api_store, client, data_of, graphql, write_input

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


REGISTER = write_input("registerParticipant")


def test_writers_at_once_each_get_the_position_of_their_own_event(tmp_path) -> None:
    """Concurrent writes are committed together (group commit); each one's
    logPosition is that of its own event, so answers as of it include that write."""
    with api_store(f"sqlite:///{tmp_path}/writers.sqlite3") as store:
        summary = create_demo(store.records)
        manager = store.token(summary.organisation_id, Role.MANAGER)

        async def write_together() -> list[Any]:
            async with client(store) as c:
                return await asyncio.gather(
                    *(
                        graphql(
                            c,
                            REGISTER,
                            {
                                "input": {
                                    "pseudonym": f"Writer {n}",
                                    "participantKind": "CARER",
                                }
                            },
                            manager,
                        )
                        for n in range(24)
                    )
                )

        written = [
            data_of(r)["registerParticipant"] for r in asyncio.run(write_together())
        ]
        positions = [w["logPosition"] for w in written]
        assert len(set(positions)) == len(written)
        for recorded in written:
            (event,) = store.records.recorder.select_notifications(
                start=recorded["logPosition"], limit=1
            )
            assert event.id == recorded["logPosition"]
            assert str(event.originator_id) == recorded["id"]
        assert max(positions) == store.head()
        assert verify(store.records.recorder).intact
