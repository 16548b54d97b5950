"""Synthetic organisations for benchmarks: realistic 4PI histories of a chosen size, built with the real domain code."""

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from fourpi.domain.application import InvolvementRecords
from fourpi.domain.change import Change
from fourpi.domain.contribution import Contribution
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.organisation import Organisation
from fourpi.domain.participant import MonitoringData, Participant
from fourpi.domain.payment import Payment
from fourpi.domain.process_experience import ProcessExperienceAnswer
from fourpi.domain.record import OrganisationRecord
from fourpi.domain.vocabulary import (
    AgeBand,
    BeyondKind,
    ChangeScope,
    ContributionNature,
    EthnicGroup,
    FeedbackMethod,
    Gender,
    ImpactArea,
    InvolvementDifference,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    InvolvementRole,
    OutcomeAssessment,
    ParticipantKind,
    PaymentKind,
    ProcessDimension,
    QuestionnaireStage,
    RespondentKind,
    ResponseOutcome,
)

ACTOR = "bench"


def organisation(records: InvolvementRecords, name: str = "Synthetic Mind") -> UUID:
    record = Organisation.register(
        organisation_id=uuid4(), name=name, recorded_by=ACTOR
    )
    records.save(record)
    return record.id


def grow(
    records: InvolvementRecords, organisation_id: UUID, events: int, seed: int = 4
) -> int:
    """Add initiatives (about 250 events each) until at least `events` are recorded."""
    rng = random.Random(seed)
    written = 0
    number = 0
    while written < events:
        number += 1
        records_of_one = initiative(rng, organisation_id, number)
        written += sum(len(r.pending_events) for r in records_of_one)
        records.save(*records_of_one)
    return written


def initiative(rng: random.Random, org: UUID, number: int) -> list[OrganisationRecord]:
    start = date(2021, 1, 4) + timedelta(days=rng.randrange(0, 400))
    project = Initiative.launch(
        initiative_id=uuid4(),
        organisation_id=org,
        name=f"Initiative {number}",
        level=rng.choice(list(InvolvementLevel)),
        involvement_kind=rng.choice(list(InvolvementKind)),
        methods=(InvolvementMethod.WORKSHOP, InvolvementMethod.SURVEY),
        purpose="Improve the service with the people who use it.",
        limits_of_influence="The budget is set for the year.",
        started_on=start,
        recorded_by=ACTOR,
    )
    out: list[OrganisationRecord] = [project]
    people = []
    for n in range(12):
        person = Participant.register(
            participant_id=uuid4(),
            organisation_id=org,
            pseudonym=f"P{number}-{n}",
            participant_kind=rng.choice(
                [ParticipantKind.SERVICE_USER] * 3
                + [ParticipantKind.CARER, ParticipantKind.STAFF]
            ),
            recorded_by=ACTOR,
        )
        person.declare_monitoring_data(
            monitoring=MonitoringData(
                age_band=rng.choice(list(AgeBand)),
                gender=rng.choice(list(Gender)),
                ethnic_group=rng.choice(list(EthnicGroup)),
            ),
            recorded_by=ACTOR,
        )
        project.assign_role(
            role_id=uuid4(),
            participant=person,
            role=rng.choice(list(InvolvementRole)),
            paid=True,
            decision_making=rng.random() < 0.3,
            started_on=start,
            recorded_by=ACTOR,
        )
        people.append(person)
    voices = [p for p in people if p.has_lived_experience_voice] or people[:1]
    for _ in range(3):
        outcome_id = uuid4()
        project.record_intended_outcome(
            outcome_id=outcome_id,
            description="People who use the service shape it.",
            impact_areas=(rng.choice(list(ImpactArea)),),
            recorded_by=ACTOR,
        )
        project.assess_intended_outcome(
            outcome_id=outcome_id,
            assessment=rng.choice(list(OutcomeAssessment)),
            involvement_difference=rng.choice(list(InvolvementDifference)),
            evidence="Evaluation report",
            assessed_on=start + timedelta(days=200),
            recorded_by=ACTOR,
        )
    contributions = []
    for m in range(6):
        held = datetime.combine(start + timedelta(days=14 * (m + 1)), time(11), UTC)
        meeting = Meeting.schedule(
            meeting_id=uuid4(),
            initiative=project,
            title=f"Meeting {m + 1}",
            held_at=held,
            high_level=rng.random() < 0.3,
            decision_making=rng.random() < 0.5,
            recorded_by=ACTOR,
        )
        meeting.send_papers(
            sent_at=held - timedelta(days=rng.randrange(1, 10)), recorded_by=ACTOR
        )
        meeting.record_attendance(attendees=rng.sample(people, 5), recorded_by=ACTOR)
        out.append(meeting)
        for _ in range(4):
            made_on = held.date()
            contribution = Contribution.log(
                contribution_id=uuid4(),
                initiative=project,
                meeting=meeting,
                contributors=rng.sample(voices, 1),
                nature=rng.choice(list(ContributionNature)),
                summary="An insight from lived experience.",
                impact_areas=(rng.choice(list(ImpactArea)),),
                made_on=made_on,
                recorded_by=ACTOR,
            )
            outcome = rng.choice(list(ResponseOutcome))
            contribution.respond(
                outcome=outcome,
                rationale="Explained at the next meeting.",
                responded_on=made_on + timedelta(days=rng.randrange(1, 30)),
                recorded_by=ACTOR,
            )
            if rng.random() < 0.8:
                contribution.give_feedback(
                    given_on=made_on + timedelta(days=35),
                    method=FeedbackMethod.MEETING,
                    summary="You said, we did.",
                    recorded_by=ACTOR,
                )
            out.append(contribution)
            if outcome in (ResponseOutcome.ADOPTED, ResponseOutcome.ADAPTED):
                contributions.append(contribution)
    for _ in range(min(6, len(contributions))):
        scope = rng.choice(list(ChangeScope))
        sources = rng.sample(contributions, 1)
        out.append(
            Change.record(
                change_id=uuid4(),
                initiative=project,
                contributions=sources,
                description="A difference made.",
                impact_area=rng.choice(list(ImpactArea)),
                scope=scope,
                beyond_kind=rng.choice(list(BeyondKind))
                if scope is ChangeScope.BEYOND
                else None,
                evidence="Minutes",
                changed_on=sources[0].made_on + timedelta(days=60),
                recorded_by=ACTOR,
            )
        )
    for person in people:
        for w in range(3):
            payment = Payment.owe(
                payment_id=uuid4(),
                participant=person,
                initiative=project,
                payment_kind=PaymentKind.FEE,
                amount=Decimal("45.00"),
                owed_on=start + timedelta(days=14 * (w + 1)),
                description="Meeting fee",
                recorded_by=ACTOR,
            )
            payment.pay(
                paid_on=payment.owed_on + timedelta(days=rng.randrange(2, 30)),
                recorded_by=ACTOR,
            )
            out.append(payment)
        if person.participant_kind.value in ("service_user", "carer", "staff"):
            out.append(
                ProcessExperienceAnswer.record(
                    answer_id=uuid4(),
                    initiative=project,
                    respondent=person,
                    respondent_kind=RespondentKind(person.participant_kind.value),
                    stage=QuestionnaireStage.END_OF_INVOLVEMENT,
                    scores={d: rng.randrange(1, 6) for d in ProcessDimension},
                    free_text="",
                    answered_on=start + timedelta(days=210),
                    recorded_by=ACTOR,
                )
            )
    out.extend(people)
    return out
