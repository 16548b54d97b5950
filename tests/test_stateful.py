"""Random histories: a state machine drives the application service with valid and invalid commands and checks the store after every step."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from fourpi.domain.contribution import Contribution
from fourpi.domain.errors import DomainError
from fourpi.domain.initiative import PHASE_ORDER, Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.payment import Payment
from fourpi.domain.vocabulary import (
    BeyondKind,
    ChangeScope,
    ContributionNature,
    CyclePhase,
    ImpactArea,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    ParticipantKind,
    PaymentKind,
    ProcessDimension,
    QuestionnaireStage,
    RespondentKind,
    ResponseOutcome,
)
from tests.conftest import needs_postgres
from tests.helpers import Store

ACTOR = "state-machine"
START = date(2021, 1, 1)
days = st.integers(min_value=-30, max_value=400).map(
    lambda n: START + timedelta(days=n)
)
texts = st.sampled_from(["A considered point", "", "   "])


class InvolvementHistory(RuleBasedStateMachine):
    backend = "sqlite"

    participants = Bundle("participants")
    initiatives = Bundle("initiatives")
    contributions = Bundle("contributions")
    meetings = Bundle("meetings")
    payments = Bundle("payments")

    def __init__(self) -> None:
        super().__init__()
        self.store = Store(self.backend)
        # No fast-forward: the cache holds exactly what the commands did in memory.
        self.records = self.store.open(
            AGGREGATE_CACHE_MAXSIZE="10000", AGGREGATE_CACHE_FASTFORWARD="n"
        )
        self.organisation = self.records.register_organisation(name="Mind", actor=ACTOR)
        self.other = self.records.register_organisation(name="Other", actor=ACTOR)
        self.known: set[UUID] = {self.organisation, self.other}
        self.refused = 0

    def teardown(self) -> None:
        self.records.close()
        self.store.remove()

    # Running a command and checking that a refusal left no trace

    def attempt(self, touched: list[UUID], command: Callable[[], Any]) -> Any:
        position = self.records.recorder.max_notification_id() or 0
        before: dict[UUID, Any] = {
            i: self.records.repository.get(i) for i in touched if i in self.known
        }
        try:
            result = command()
        except DomainError as error:
            assert str(error), "a refusal must say why"
            event(f"refused: {type(error).__name__}")
            assert (self.records.recorder.max_notification_id() or 0) == position
            for record_id, record in before.items():
                assert self.records.repository.get(record_id) == record
            self.refused += 1
            return None
        assert (self.records.recorder.max_notification_id() or 0) > position
        event("recorded")
        if isinstance(result, UUID):
            self.known.add(result)
        return result

    def organisation_of(self, owned_by_other: bool) -> UUID:
        return self.other if owned_by_other else self.organisation

    # Rules

    @rule(
        target=participants,
        kind=st.sampled_from(ParticipantKind),
        elsewhere=st.booleans(),
    )
    def register_participant(self, kind: ParticipantKind, elsewhere: bool) -> Any:
        return (
            self.attempt(
                [],
                lambda: self.records.register_participant(
                    organisation_id=self.organisation_of(elsewhere),
                    pseudonym="Person",
                    participant_kind=kind,
                    actor=ACTOR,
                ),
            )
            or uuid4()
        )

    @rule(target=initiatives, started_on=days, purpose=texts)
    def launch_initiative(self, started_on: date, purpose: str) -> Any:
        return (
            self.attempt(
                [],
                lambda: self.records.launch_initiative(
                    organisation_id=self.organisation,
                    name="Initiative",
                    level=InvolvementLevel.OPERATIONAL,
                    involvement_kind=InvolvementKind.CO_PRODUCTION,
                    methods=(InvolvementMethod.WORKSHOP,),
                    purpose=purpose,
                    limits_of_influence="Within this year's budget",
                    started_on=started_on,
                    actor=ACTOR,
                ),
            )
            or uuid4()
        )

    @rule(
        target=contributions,
        initiative=initiatives,
        contributors=st.lists(participants, max_size=3),
        made_on=days,
        summary=texts,
    )
    def log_contribution(
        self, initiative: UUID, contributors: list[UUID], made_on: date, summary: str
    ) -> Any:
        return (
            self.attempt(
                [initiative],
                lambda: self.records.log_contribution(
                    organisation_id=self.organisation,
                    initiative_id=initiative,
                    contributor_ids=contributors,
                    nature=ContributionNature.RECOMMENDATION,
                    summary=summary,
                    impact_areas=(ImpactArea.DELIVERY,),
                    made_on=made_on,
                    actor=ACTOR,
                ),
            )
            or uuid4()
        )

    @rule(
        contribution=contributions,
        outcome=st.sampled_from(ResponseOutcome),
        rationale=texts,
        responded_on=days,
    )
    def respond(
        self,
        contribution: UUID,
        outcome: ResponseOutcome,
        rationale: str,
        responded_on: date,
    ) -> None:
        self.attempt(
            [contribution],
            lambda: self.records.respond_to_contribution(
                organisation_id=self.organisation,
                contribution_id=contribution,
                outcome=outcome,
                rationale=rationale,
                responded_on=responded_on,
                actor=ACTOR,
            ),
        )

    @rule(contribution=contributions, given_on=days)
    def give_feedback(self, contribution: UUID, given_on: date) -> None:
        self.attempt(
            [contribution],
            lambda: self.records.give_feedback(
                organisation_id=self.organisation,
                contribution_id=contribution,
                given_on=given_on,
                method="meeting",
                summary="You said, we did",
                actor=ACTOR,
            ),
        )

    @rule(
        initiative=initiatives,
        sources=st.lists(contributions, max_size=3),
        scope=st.sampled_from(ChangeScope),
        beyond_kind=st.none() | st.sampled_from(BeyondKind),
        changed_on=days,
    )
    def record_change(
        self,
        initiative: UUID,
        sources: list[UUID],
        scope: ChangeScope,
        beyond_kind: BeyondKind | None,
        changed_on: date,
    ) -> None:
        self.attempt(
            [],
            lambda: self.records.record_change(
                organisation_id=self.organisation,
                initiative_id=initiative,
                description="A new recruitment template",
                impact_area=ImpactArea.POLICY_AND_PLANNING,
                scope=scope,
                beyond_kind=beyond_kind,
                contribution_ids=sources,
                evidence="Minutes of the project meeting",
                changed_on=changed_on,
                actor=ACTOR,
            ),
        )

    @rule(
        initiative=initiatives,
        phase=st.sampled_from(CyclePhase),
        number=st.integers(min_value=0, max_value=3),
        on=days,
        taken_up=st.lists(st.sampled_from(["Recruit", "Pay promptly"]), max_size=2),
    )
    def move_cycle(
        self,
        initiative: UUID,
        phase: CyclePhase,
        number: int,
        on: date,
        taken_up: list[str],
    ) -> None:
        common = {
            "organisation_id": self.organisation,
            "initiative_id": initiative,
            "actor": ACTOR,
        }
        commands: dict[CyclePhase, Callable[[], Any]] = {
            CyclePhase.ACT: lambda: self.records.start_cycle(
                focus_areas=(ImpactArea.DELIVERY,),
                started_on=on,
                actions_taken_up=tuple(taken_up),
                **common,
            ),
            CyclePhase.EVALUATE: lambda: self.records.evaluate_cycle(
                number=number, findings="Findings", entered_on=on, **common
            ),
            CyclePhase.REFLECT: lambda: self.records.reflect_on_cycle(
                number=number, reflections="Reflections", entered_on=on, **common
            ),
            CyclePhase.LEARN: lambda: self.records.learn_from_cycle(
                number=number,
                lessons="Lessons",
                planned_actions=("Recruit", "Pay promptly"),
                entered_on=on,
                **common,
            ),
        }
        self.attempt([initiative], commands[phase])

    @rule(
        target=meetings,
        initiative=initiatives,
        held=days,
        elsewhere=st.booleans(),
    )
    def schedule_meeting(self, initiative: UUID, held: date, elsewhere: bool) -> Any:
        return (
            self.attempt(
                [],
                lambda: self.records.schedule_meeting(
                    organisation_id=self.organisation_of(elsewhere),
                    initiative_id=initiative,
                    title="Workshop",
                    held_at=datetime.combine(held, datetime.min.time(), UTC),
                    high_level=True,
                    decision_making=True,
                    actor=ACTOR,
                ),
            )
            or uuid4()
        )

    @rule(meeting=meetings, days_before=st.integers(min_value=-3, max_value=14))
    def send_papers(self, meeting: UUID, days_before: int) -> None:
        held_at = (
            self.records.repository.get(meeting).held_at
            if meeting in self.known
            else datetime(2021, 6, 1, tzinfo=UTC)
        )
        self.attempt(
            [meeting],
            lambda: self.records.send_meeting_papers(
                organisation_id=self.organisation,
                meeting_id=meeting,
                sent_at=held_at - timedelta(days=days_before),
                actor=ACTOR,
            ),
        )

    @rule(meeting=meetings, attendees=st.lists(participants, max_size=3))
    def record_attendance(self, meeting: UUID, attendees: list[UUID]) -> None:
        self.attempt(
            [meeting],
            lambda: self.records.record_attendance(
                organisation_id=self.organisation,
                meeting_id=meeting,
                participant_ids=attendees,
                actor=ACTOR,
            ),
        )

    @rule(
        target=payments,
        participant=participants,
        amount=st.sampled_from([Decimal("25.00"), Decimal("0"), Decimal("7.125")]),
        owed_on=days,
    )
    def owe_payment(self, participant: UUID, amount: Decimal, owed_on: date) -> Any:
        return (
            self.attempt(
                [],
                lambda: self.records.record_payment_owed(
                    organisation_id=self.organisation,
                    participant_id=participant,
                    payment_kind=PaymentKind.FEE,
                    amount=amount,
                    owed_on=owed_on,
                    actor=ACTOR,
                ),
            )
            or uuid4()
        )

    @rule(payment=payments, paid_on=days)
    def pay(self, payment: UUID, paid_on: date) -> None:
        self.attempt(
            [payment],
            lambda: self.records.record_payment_made(
                organisation_id=self.organisation,
                payment_id=payment,
                paid_on=paid_on,
                actor=ACTOR,
            ),
        )

    @rule(
        initiative=initiatives,
        participant=st.none() | participants,
        kind=st.sampled_from(RespondentKind),
        scores=st.dictionaries(
            st.sampled_from(ProcessDimension), st.integers(min_value=0, max_value=6)
        ),
        answered_on=days,
    )
    def answer_questionnaire(
        self,
        initiative: UUID,
        participant: UUID | None,
        kind: RespondentKind,
        scores: dict[ProcessDimension, int],
        answered_on: date,
    ) -> None:
        self.attempt(
            [],
            lambda: self.records.record_process_experience(
                organisation_id=self.organisation,
                initiative_id=initiative,
                participant_id=participant,
                respondent_kind=kind,
                stage=QuestionnaireStage.END_OF_INVOLVEMENT,
                scores=scores,
                answered_on=answered_on,
                actor=ACTOR,
            ),
        )

    @rule(payment=consumes(payments))
    def forget_a_payment(self, payment: UUID) -> None:
        """Keeps the bundles varied; nothing is recorded."""

    # Invariants, checked after every step

    @invariant()
    def memory_equals_the_store(self) -> None:
        """The state commands left in memory equals the state rebuilt from stored events."""
        fresh = self.store.open()
        try:
            for record_id in self.known:
                assert fresh.repository.get(record_id) == self.records.repository.get(
                    record_id
                )
        finally:
            fresh.close()

    @invariant()
    def every_event_decodes_and_versions_are_contiguous(self) -> None:
        versions: dict[Any, list[int]] = {}
        positions = []
        for notification in self.records.recorder.select_notifications(
            start=1, limit=1_000_000
        ):
            event: Any = self.records.mapper.to_domain_event(notification)
            assert event.organisation_id in (self.organisation, self.other)
            assert event.recorded_by == ACTOR
            versions.setdefault(notification.originator_id, []).append(
                notification.originator_version
            )
            positions.append(notification.id)
        assert positions == sorted(set(positions))
        for sequence in versions.values():
            assert sequence == list(range(1, len(sequence) + 1))

    @invariant()
    def the_record_keeps_the_4pi_rules(self) -> None:
        for record_id in self.known:
            record: Any = self.records.repository.get(record_id)
            if isinstance(record, Contribution):
                final = [r for r in record.responses if r.outcome != "deferred"]
                assert len(final) <= 1
                assert all(
                    r.rationale for r in record.responses if r.outcome == "declined"
                )
                assert not record.feedback or record.responses
            elif isinstance(record, Initiative):
                for number, cycle in enumerate(record.cycles, start=1):
                    assert cycle.number == number
                    assert list(cycle.phase_dates) == list(
                        PHASE_ORDER[: PHASE_ORDER.index(cycle.phase) + 1]
                    )
                    assert list(cycle.phase_dates.values()) == sorted(
                        cycle.phase_dates.values()
                    )
                    if number < len(record.cycles):
                        assert cycle.phase is CyclePhase.LEARN
            elif isinstance(record, Meeting):
                if record.papers_sent_at is not None:
                    assert record.papers_sent_at < record.held_at
            elif isinstance(record, Payment) and record.paid_on is not None:
                assert record.paid_on >= record.owed_on


def run_histories(backend: str, examples: int) -> None:
    machine = type(
        f"InvolvementHistoryOn{backend.title()}",
        (InvolvementHistory,),
        {"backend": backend},
    )
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_random_histories_on_sqlite() -> None:
    run_histories("sqlite", examples=40)


def test_random_histories_on_postgresql() -> None:
    needs_postgres()
    run_histories("postgresql", examples=15)
