"""Random histories on the calendar's edges: after every write, every answer of the API for every role comes back without an internal error, equals what views opened afresh give, and an answer as of a past position is what the live answer said there."""

import asyncio
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
import strawberry
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from fourpi.bootstrap import open_views
from fourpi.domain.access import Role
from fourpi.domain.organisation import Organisation
from fourpi.domain.participant import Participant
from fourpi.graphql import answer_queries, answer_types
from fourpi.graphql.answer_queries import AnswerQueries
from fourpi.graphql.context import Caller, Context, Settings
from fourpi.memo import Memo
from fourpi.projections.answers import MOST_CYCLES
from tests import histories
from tests.conftest import needs_postgres
from tests.helpers import ACTOR, Store
from tests.test_graphql_answers import ANSWERS, whole_answers_query

EDGES = (date(1900, 1, 1), date(1900, 2, 28), date(2000, 2, 29), date(2199, 12, 31))
"""The first and last days a fact may carry, and leap days."""
CALENDAR = (date(1, 1, 1), date(9999, 12, 31))
"""The ends of the calendar, which a period may give though no fact is dated there."""
ROLES = (
    (Role.MANAGER, True),
    (Role.MANAGER, False),
    (Role.EVALUATOR, False),
    (Role.AUDITOR, True),
    (Role.AUDITOR, False),
)
WITH_PAYMENTS = whole_answers_query(as_of=True)
WITHOUT_PAYMENTS = whole_answers_query(
    tuple(a for a in ANSWERS if a != "paymentsAndBenefits"), as_of=True
)
"""Payments and benefits name people: refused to a caller without the grant."""
ANSWER_SCHEMA = strawberry.Schema(query=AnswerQueries)
QUESTIONS = 4
"""The most questions a history asks again after every write."""


class AnswersAfterEveryWrite(RuleBasedStateMachine):
    backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.store = Store(self.backend)
        self.records = self.store.open()
        self.views = open_views(self.store.url, self.records)
        self.live: dict[tuple[Any, ...], Any] = {}
        """What the live answers said, by question and position, while no erasure
        or threshold since could change what they say of the past."""
        self.questions: list[tuple[UUID, dict[str, Any]]] = []

    def teardown(self) -> None:
        self.views.close()
        self.records.close()
        self.store.remove()

    @initialize(data=st.data())
    def a_history(self, data: st.DataObject) -> None:
        self.known = histories.play(
            self.records,
            data,
            steps=data.draw(st.integers(5, 30)),
            on=st.one_of(histories.days, st.sampled_from(EDGES)),
        )
        # Each whole organisation, which every write of it changes.
        self.questions = [
            (organisation, {}) for organisation in self.known.organisations
        ]

    @rule(data=st.data(), writes=st.integers(1, 6))
    def some_writes(self, data: st.DataObject, writes: int) -> None:
        before = self.head()
        for _ in range(writes):
            histories.play_one(self.records, data, self.known)
        topics = {
            n.topic
            for n in self.records.recorder.select_notifications(
                start=before + 1, limit=1_000
            )
        }
        if any(
            topic.endswith(ended)
            for topic in topics
            for ended in (
                Participant.Erased.__qualname__,
                Organisation.SuppressionThresholdSet.__qualname__,
            )
        ):
            # An erasure deletes the person's rows at every position, and a new
            # threshold suppresses past answers as it does live ones.
            self.live.clear()

    @rule(
        data=st.data(),
        threshold=st.integers(2, 6),
    )
    def a_threshold(self, data: st.DataObject, threshold: int) -> None:
        organisation = data.draw(st.sampled_from(self.known.organisations))
        if self.records.organisation(organisation).suppression_threshold != threshold:
            self.records.set_suppression_threshold(
                organisation_id=organisation, threshold=threshold, actor=ACTOR
            )
            self.live.clear()

    def head(self) -> int:
        return self.records.recorder.max_notification_id() or 0

    def ask(
        self, views: Any, organisation: UUID, role: tuple[Role, bool], variables: Any
    ) -> Any:
        caller = Caller(
            token_id=uuid4(),
            role=role[0],
            organisation_id=organisation,
            personal_data=role[1],
        )
        context = Context(
            records=self.records, views=views, settings=Settings(), caller=caller
        )
        query = WITH_PAYMENTS if role[1] else WITHOUT_PAYMENTS
        result = asyncio.run(
            ANSWER_SCHEMA.execute(query, variables, context_value=context)
        )
        assert result.errors is None, (variables, role, result.errors)
        return result.data

    def a_question(self, data: st.DataObject) -> tuple[UUID, dict[str, Any]]:
        """An organisation and a slice of it, on the calendar's edges or not."""
        organisation = data.draw(st.sampled_from(self.known.organisations))
        initiatives = self.known.initiatives[organisation]
        chosen: dict[str, Any] = {}
        if initiatives and data.draw(st.booleans()):
            chosen["initiativeId"] = str(data.draw(st.sampled_from(initiatives)))
        if data.draw(st.booleans()):
            chosen["cycle"] = data.draw(st.sampled_from([1, 2, MOST_CYCLES]))
        if data.draw(st.booleans()):
            chosen["impactArea"] = "DELIVERY"
        start = data.draw(st.none() | st.sampled_from(EDGES + CALENDAR))
        end = data.draw(st.none() | st.sampled_from(EDGES + CALENDAR))
        if start is not None and end is not None and end < start:
            start, end = end, start
        if start is not None:
            chosen["periodFrom"] = start.isoformat()
        if end is not None:
            chosen["periodTo"] = end.isoformat()
        return organisation, chosen

    @rule(data=st.data())
    def a_new_question(self, data: st.DataObject) -> None:
        if len(self.questions) < QUESTIONS:
            self.questions.append(self.a_question(data))

    @invariant()
    def every_answer_is_that_of_every_fact(self) -> None:
        """Every question asked so far, of the views that keep their last answers
        and the rows recorded since, is answered as views opened afresh answer it:
        live, for a random role, and as of a position where a live answer was seen,
        as that live answer was."""
        position = self.views.catch_up()
        afresh = open_views(self.store.url, self.records)
        try:
            afresh.catch_up()
            for number, (organisation, chosen) in enumerate(self.questions):
                role = ROLES[(position + number) % len(ROLES)]
                past = [
                    p
                    for (o, c, r, p) in self.live
                    if (o, c, r) == (organisation, repr(chosen), role)
                ]
                for at in (None, *past[:1]):
                    self.same_answers(afresh, organisation, chosen, role, position, at)
        finally:
            afresh.close()

    def same_answers(
        self,
        afresh: Any,
        organisation: UUID,
        chosen: dict[str, Any],
        role: tuple[Role, bool],
        position: int,
        at: int | None,
    ) -> None:
        variables = {
            "slice": chosen or None,
            "asOf": None if at is None else {"position": at},
        }
        kept = self.ask(self.views, organisation, role, variables)
        with pytest.MonkeyPatch.context() as patched:
            # Converted afresh too, sharing nothing kept.
            patched.setattr(answer_queries, "_CONVERTED", Memo(64))
            patched.setattr(answer_types, "_LISTS", Memo(64))
            assert kept == self.ask(afresh, organisation, role, variables)
        question = (organisation, repr(chosen), role)
        if at is None:
            self.live[(*question, position)] = kept
        elif role[1] and (*question, at) in self.live:
            # A caller without the grant is told less of the past than of now
            # (counts of people as of a past moment are withheld).
            assert kept == self.live[(*question, at)], "as of the past"


def run_histories(backend: str, examples: int) -> None:
    machine = type(
        f"AnswersAfterEveryWriteOn{backend.title()}",
        (AnswersAfterEveryWrite,),
        {"backend": backend},
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )


def test_every_answer_after_every_write_on_sqlite() -> None:
    run_histories("sqlite", examples=5)


def test_every_answer_after_every_write_on_postgresql() -> None:
    needs_postgres()
    run_histories("postgresql", examples=3)
