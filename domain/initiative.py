"""An initiative: an involvement activity, project or programme, with its purpose, intended outcomes, roles and cycles."""

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from fourpi.domain.errors import InvalidInput
from fourpi.domain.participant import Participant, check_people_named
from fourpi.domain.record import (
    OrganisationRecord,
    check_date,
    check_line,
    check_member,
    check_members,
    check_optional_text,
    check_text,
)
from fourpi.domain.vocabulary import (
    CyclePhase,
    ImpactArea,
    InvolvementDifference,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    InvolvementRole,
    OutcomeAssessment,
)

PHASE_ORDER = tuple(CyclePhase)


@dataclass
class IntendedOutcome:
    outcome_id: UUID
    description: str
    impact_areas: tuple[ImpactArea, ...]
    assessment: OutcomeAssessment | None = None
    involvement_difference: InvolvementDifference | None = None
    assessed_on: date | None = None


@dataclass
class Role:
    role_id: UUID
    participant_id: UUID
    role: InvolvementRole
    paid: bool
    decision_making: bool
    started_on: date
    ended_on: date | None = None


@dataclass
class Cycle:
    number: int
    focus_areas: tuple[ImpactArea, ...]
    phase: CyclePhase
    phase_dates: dict[CyclePhase, date] = field(default_factory=dict)
    actions_taken_up: tuple[str, ...] = ()
    findings: str = ""
    reflections: str = ""
    lessons: str = ""
    planned_actions: tuple[str, ...] = ()


class Initiative(OrganisationRecord):
    kind = "initiative"
    if TYPE_CHECKING:
        name: str
        level: InvolvementLevel
        involvement_kind: InvolvementKind
        methods: tuple[InvolvementMethod, ...]
        purpose: str
        limits_of_influence: str
        started_on: date
        intended_outcomes: dict[UUID, IntendedOutcome]
        roles: dict[UUID, Role]
        cycles: list[Cycle]

    class Launched(OrganisationRecord.Created):
        name: str
        level: InvolvementLevel
        involvement_kind: InvolvementKind
        methods: tuple[InvolvementMethod, ...]
        purpose: str
        limits_of_influence: str
        started_on: date

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.name = self.name
            aggregate.level = self.level
            aggregate.involvement_kind = self.involvement_kind
            aggregate.methods = self.methods
            aggregate.purpose = self.purpose
            aggregate.limits_of_influence = self.limits_of_influence
            aggregate.started_on = self.started_on
            aggregate.intended_outcomes = {}
            aggregate.roles = {}
            aggregate.cycles = []

    class IntendedOutcomeRecorded(OrganisationRecord.Event):
        outcome_id: UUID
        description: str
        impact_areas: tuple[ImpactArea, ...]

        def apply(self, aggregate: Any) -> None:
            aggregate.intended_outcomes[self.outcome_id] = IntendedOutcome(
                self.outcome_id, self.description, self.impact_areas
            )

    class IntendedOutcomeAssessed(OrganisationRecord.Event):
        outcome_id: UUID
        assessment: OutcomeAssessment
        involvement_difference: InvolvementDifference
        evidence: str
        assessed_on: date

        def apply(self, aggregate: Any) -> None:
            outcome = aggregate.intended_outcomes[self.outcome_id]
            outcome.assessment = self.assessment
            outcome.involvement_difference = self.involvement_difference
            outcome.assessed_on = self.assessed_on

    class RoleAssigned(OrganisationRecord.Event):
        role_id: UUID
        participant_id: UUID
        role: InvolvementRole
        paid: bool
        decision_making: bool
        started_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.roles[self.role_id] = Role(
                self.role_id,
                self.participant_id,
                self.role,
                self.paid,
                self.decision_making,
                self.started_on,
            )

    class RoleEnded(OrganisationRecord.Event):
        role_id: UUID
        ended_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.roles[self.role_id].ended_on = self.ended_on

    class CycleEnteredAct(OrganisationRecord.Event):
        number: int
        focus_areas: tuple[ImpactArea, ...]
        actions_taken_up: tuple[str, ...]
        entered_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.cycles.append(
                Cycle(
                    number=self.number,
                    focus_areas=self.focus_areas,
                    phase=CyclePhase.ACT,
                    phase_dates={CyclePhase.ACT: self.entered_on},
                    actions_taken_up=self.actions_taken_up,
                )
            )

    class CycleEnteredEvaluate(OrganisationRecord.Event):
        number: int
        findings: str
        entered_on: date

        def apply(self, aggregate: Any) -> None:
            cycle = aggregate.cycles[self.number - 1]
            cycle.phase = CyclePhase.EVALUATE
            cycle.phase_dates[CyclePhase.EVALUATE] = self.entered_on
            cycle.findings = self.findings

    class CycleEnteredReflect(OrganisationRecord.Event):
        number: int
        reflections: str
        entered_on: date

        def apply(self, aggregate: Any) -> None:
            cycle = aggregate.cycles[self.number - 1]
            cycle.phase = CyclePhase.REFLECT
            cycle.phase_dates[CyclePhase.REFLECT] = self.entered_on
            cycle.reflections = self.reflections

    class CycleEnteredLearn(OrganisationRecord.Event):
        number: int
        lessons: str
        planned_actions: tuple[str, ...]
        entered_on: date

        def apply(self, aggregate: Any) -> None:
            cycle = aggregate.cycles[self.number - 1]
            cycle.phase = CyclePhase.LEARN
            cycle.phase_dates[CyclePhase.LEARN] = self.entered_on
            cycle.lessons = self.lessons
            cycle.planned_actions = self.planned_actions

    @classmethod
    def launch(
        cls,
        *,
        initiative_id: UUID,
        organisation_id: UUID,
        name: str,
        level: InvolvementLevel,
        involvement_kind: InvolvementKind,
        methods: tuple[InvolvementMethod, ...],
        purpose: str,
        limits_of_influence: str,
        started_on: date,
        recorded_by: str,
    ) -> Self:
        return cls._open(
            cls.Launched,
            record_id=initiative_id,
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            name=check_line("name", name, max_length=200),
            level=check_member("level", level, InvolvementLevel),
            involvement_kind=check_member(
                "involvement_kind", involvement_kind, InvolvementKind
            ),
            methods=check_members("methods", methods, InvolvementMethod),
            # 4PI Purpose: agreed at the start, with the limits of influence stated.
            purpose=check_text("purpose", purpose),
            limits_of_influence=check_text("limits_of_influence", limits_of_influence),
            started_on=check_date("started_on", started_on),
        )

    # Intended outcomes (impact question 1)

    def record_intended_outcome(
        self,
        *,
        outcome_id: UUID,
        description: str,
        impact_areas: tuple[ImpactArea, ...],
        recorded_by: str,
    ) -> None:
        self._record(
            self.IntendedOutcomeRecorded,
            recorded_by=recorded_by,
            outcome_id=outcome_id,
            description=check_text("description", description),
            impact_areas=check_members("impact_areas", impact_areas, ImpactArea),
        )

    def assess_intended_outcome(
        self,
        *,
        outcome_id: UUID,
        assessment: OutcomeAssessment,
        involvement_difference: InvolvementDifference,
        evidence: str,
        assessed_on: date,
        recorded_by: str,
    ) -> None:
        self.check_outcome_exists(outcome_id)
        assessment = check_member("assessment", assessment, OutcomeAssessment)
        if assessment is OutcomeAssessment.TOO_EARLY_TO_TELL:
            evidence = check_optional_text("evidence", evidence)
        else:
            evidence = check_text("evidence", evidence)
        check_date("assessed_on", assessed_on)
        self.check_not_before_start("assessed_on", assessed_on)
        self._record(
            self.IntendedOutcomeAssessed,
            recorded_by=recorded_by,
            outcome_id=outcome_id,
            assessment=assessment,
            involvement_difference=check_member(
                "involvement_difference", involvement_difference, InvolvementDifference
            ),
            evidence=evidence,
            assessed_on=assessed_on,
        )

    def check_outcome_exists(self, outcome_id: UUID) -> None:
        if outcome_id not in self.intended_outcomes:
            raise InvalidInput(
                "outcome_id", f"is not an intended outcome of initiative {self.id}"
            )

    def check_not_before_start(self, field_name: str, day: date) -> None:
        if day < self.started_on:
            raise InvalidInput(
                field_name,
                f"must not be before the initiative started ({self.started_on})",
            )

    # Roles (4PI Presence)

    def assign_role(
        self,
        *,
        role_id: UUID,
        participant: Participant,
        role: InvolvementRole,
        paid: bool,
        decision_making: bool,
        started_on: date,
        recorded_by: str,
    ) -> None:
        check_people_named(self.organisation_id, "participant_id", [participant])
        check_date("started_on", started_on)
        self.check_not_before_start("started_on", started_on)
        for existing in self.roles.values():
            if (
                existing.participant_id == participant.id
                and existing.role == role
                and existing.ended_on is None
            ):
                raise InvalidInput(
                    "role",
                    f"participant {participant.id} already holds the {role} role here",
                )
        self._record(
            self.RoleAssigned,
            recorded_by=recorded_by,
            role_id=role_id,
            participant_id=participant.id,
            role=check_member("role", role, InvolvementRole),
            paid=check_flag("paid", paid),
            decision_making=check_flag("decision_making", decision_making),
            started_on=started_on,
        )

    def end_role(self, *, role_id: UUID, ended_on: date, recorded_by: str) -> None:
        role = self.roles.get(role_id)
        if role is None:
            raise InvalidInput("role_id", f"is not a role in initiative {self.id}")
        if role.ended_on is not None:
            raise InvalidInput("role_id", f"the role already ended on {role.ended_on}")
        check_date("ended_on", ended_on)
        if ended_on < role.started_on:
            raise InvalidInput(
                "ended_on", f"must not be before the role started ({role.started_on})"
            )
        self._record(
            self.RoleEnded, recorded_by=recorded_by, role_id=role_id, ended_on=ended_on
        )

    # The Act - Evaluate - Reflect - Learn cycle

    @property
    def current_cycle(self) -> Cycle | None:
        return self.cycles[-1] if self.cycles else None

    def start_cycle(
        self,
        *,
        focus_areas: tuple[ImpactArea, ...],
        actions_taken_up: tuple[str, ...],
        started_on: date,
        recorded_by: str,
    ) -> int:
        """Enter Act in a new cycle; returns its number."""
        focus = check_members("focus_areas", focus_areas, ImpactArea)
        check_date("started_on", started_on)
        self.check_not_before_start("started_on", started_on)
        previous = self.current_cycle
        taken_up = tuple(check_text("actions_taken_up", a) for a in actions_taken_up)
        if previous is not None:
            if previous.phase is not CyclePhase.LEARN:
                raise InvalidInput(
                    "phase",
                    f"cycle {previous.number} is in {previous.phase}; it must reach "
                    "learn before the next cycle can act",
                )
            self.check_phase_date("started_on", previous, started_on)
            unknown = [a for a in taken_up if a not in previous.planned_actions]
            if unknown:
                raise InvalidInput(
                    "actions_taken_up",
                    f"{unknown[0]!r} was not an action planned when cycle "
                    f"{previous.number} learned",
                )
        elif taken_up:
            raise InvalidInput(
                "actions_taken_up", "the first cycle has no planned actions to take up"
            )
        number = len(self.cycles) + 1
        self._record(
            self.CycleEnteredAct,
            recorded_by=recorded_by,
            number=number,
            focus_areas=focus,
            actions_taken_up=taken_up,
            entered_on=started_on,
        )
        return number

    def evaluate_cycle(
        self, *, number: int, findings: str, entered_on: date, recorded_by: str
    ) -> None:
        cycle = self.cycle_entering(number, CyclePhase.EVALUATE, entered_on)
        self._record(
            self.CycleEnteredEvaluate,
            recorded_by=recorded_by,
            number=cycle.number,
            findings=check_text("findings", findings),
            entered_on=entered_on,
        )

    def reflect_on_cycle(
        self, *, number: int, reflections: str, entered_on: date, recorded_by: str
    ) -> None:
        cycle = self.cycle_entering(number, CyclePhase.REFLECT, entered_on)
        self._record(
            self.CycleEnteredReflect,
            recorded_by=recorded_by,
            number=cycle.number,
            reflections=check_text("reflections", reflections),
            entered_on=entered_on,
        )

    def learn_from_cycle(
        self,
        *,
        number: int,
        lessons: str,
        planned_actions: tuple[str, ...],
        entered_on: date,
        recorded_by: str,
    ) -> None:
        cycle = self.cycle_entering(number, CyclePhase.LEARN, entered_on)
        actions = tuple(
            dict.fromkeys(check_text("planned_actions", a) for a in planned_actions)
        )
        self._record(
            self.CycleEnteredLearn,
            recorded_by=recorded_by,
            number=cycle.number,
            lessons=check_text("lessons", lessons),
            planned_actions=actions,
            entered_on=entered_on,
        )

    def cycle_entering(self, number: int, phase: CyclePhase, entered_on: date) -> Cycle:
        """Phases go Act, Evaluate, Reflect, Learn: none skipped, none entered twice."""
        if (
            not isinstance(number, int)
            or isinstance(number, bool)
            or not 1 <= number <= len(self.cycles)
        ):
            raise InvalidInput("number", f"initiative {self.id} has no cycle {number}")
        cycle = self.cycles[number - 1]
        current = PHASE_ORDER.index(cycle.phase)
        wanted = PHASE_ORDER.index(phase)
        if wanted <= current:
            raise InvalidInput("phase", f"cycle {number} has already entered {phase}")
        if wanted > current + 1:
            raise InvalidInput(
                "phase",
                f"cycle {number} is in {cycle.phase}; {PHASE_ORDER[current + 1]} "
                f"comes before {phase} and cannot be skipped",
            )
        check_date("entered_on", entered_on)
        self.check_phase_date("entered_on", cycle, entered_on)
        return cycle

    @staticmethod
    def check_phase_date(field_name: str, cycle: Cycle, day: date) -> None:
        last = cycle.phase_dates[cycle.phase]
        if day < last:
            raise InvalidInput(
                field_name,
                f"must not be before cycle {cycle.number} entered {cycle.phase} "
                f"({last})",
            )


def check_flag(field_name: str, value: bool) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(field_name, "must be true or false")
    return value
