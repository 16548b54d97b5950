"""The projection's rules: which fact rows each kind of event adds to the read side."""

from collections.abc import Callable
from typing import Any

from fourpi.domain.change import Change
from fourpi.domain.contribution import Contribution
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.organisation import Organisation
from fourpi.domain.participant import Participant
from fourpi.domain.payment import Payment
from fourpi.domain.policy import InvolvementPolicy
from fourpi.domain.process_experience import ProcessExperienceAnswer
from fourpi.domain.reference_population import ReferencePopulation
from fourpi.domain.support import Support
from fourpi.projections.schema import Row

Fact = tuple[str, Row]
Rule = Callable[[Any], list[Fact]]


def value(member: Any) -> Any:
    """An enum's plain value; anything else as it is."""
    return getattr(member, "value", member)


def values(members: Any) -> tuple[Any, ...]:
    return tuple(value(m) for m in members)


def organisation_registered(e: Organisation.Registered) -> list[Fact]:
    return [("organisations", {"name": e.name})]


def policy_adopted(
    e: InvolvementPolicy.Adopted | InvolvementPolicy.Revised,
) -> list[Fact]:
    return [
        (
            "policies",
            {
                "version_label": e.version_label,
                "adopted_on": e.adopted_on,
                "review_interval_months": e.review_interval_months,
            },
        )
    ]


def policy_reviewed(e: InvolvementPolicy.Reviewed) -> list[Fact]:
    return [("policy_reviews", {"reviewed_on": e.reviewed_on})]


def initiative_launched(e: Initiative.Launched) -> list[Fact]:
    return [
        (
            "initiatives",
            {
                "initiative_id": e.originator_id,
                "name": e.name,
                "level": value(e.level),
                "involvement_kind": value(e.involvement_kind),
                "started_on": e.started_on,
            },
        )
    ]


def outcome_recorded(e: Initiative.IntendedOutcomeRecorded) -> list[Fact]:
    return [
        (
            "intended_outcomes",
            {
                "initiative_id": e.originator_id,
                "outcome_id": e.outcome_id,
                "description": e.description,
                "impact_areas": values(e.impact_areas),
            },
        )
    ]


def outcome_assessed(e: Initiative.IntendedOutcomeAssessed) -> list[Fact]:
    return [
        (
            "outcome_assessments",
            {
                "initiative_id": e.originator_id,
                "outcome_id": e.outcome_id,
                "assessment": value(e.assessment),
                "involvement_difference": value(e.involvement_difference),
                "evidence": e.evidence,
                "assessed_on": e.assessed_on,
            },
        )
    ]


def role_assigned(e: Initiative.RoleAssigned) -> list[Fact]:
    return [
        (
            "roles",
            {
                "initiative_id": e.originator_id,
                "role_id": e.role_id,
                "participant_id": e.participant_id,
                "role": value(e.role),
                "paid": e.paid,
                "decision_making": e.decision_making,
                "started_on": e.started_on,
            },
        )
    ]


def role_ended(e: Initiative.RoleEnded) -> list[Fact]:
    return [
        (
            "role_endings",
            {
                "initiative_id": e.originator_id,
                "role_id": e.role_id,
                "ended_on": e.ended_on,
            },
        )
    ]


def cycle_phase(
    e: Initiative.CycleEnteredAct
    | Initiative.CycleEnteredEvaluate
    | Initiative.CycleEnteredReflect
    | Initiative.CycleEnteredLearn,
) -> list[Fact]:
    row: Row = {
        "initiative_id": e.originator_id,
        "number": e.number,
        "entered_on": e.entered_on,
        "focus_areas": (),
        "notes": "",
        "planned_actions": (),
        "actions_taken_up": (),
    }
    if isinstance(e, Initiative.CycleEnteredAct):
        row |= {
            "phase": "act",
            "focus_areas": values(e.focus_areas),
            "actions_taken_up": tuple(e.actions_taken_up),
        }
    elif isinstance(e, Initiative.CycleEnteredEvaluate):
        row |= {"phase": "evaluate", "notes": e.findings}
    elif isinstance(e, Initiative.CycleEnteredReflect):
        row |= {"phase": "reflect", "notes": e.reflections}
    else:
        row |= {
            "phase": "learn",
            "notes": e.lessons,
            "planned_actions": tuple(e.planned_actions),
        }
    return [("cycle_phases", row)]


def participant_registered(e: Participant.Registered) -> list[Fact]:
    return [
        (
            "participants",
            {
                "participant_id": e.originator_id,
                "pseudonym": e.pseudonym,
                "participant_kind": value(e.participant_kind),
            },
        )
    ]


def monitoring_declared(e: Participant.MonitoringDataDeclared) -> list[Fact]:
    m = e.monitoring
    return [
        (
            "monitoring",
            {
                "participant_id": e.originator_id,
                "age_band": value(m.age_band),
                "gender": value(m.gender),
                "ethnic_group": value(m.ethnic_group),
                "disability": value(m.disability),
                "sexual_orientation": value(m.sexual_orientation),
                "education_level": value(m.education_level),
            },
        )
    ]


def payment_preference_set(e: Participant.PaymentPreferenceSet) -> list[Fact]:
    return [
        (
            "payment_preferences",
            {
                "participant_id": e.originator_id,
                "payment_preference": value(e.payment_preference),
                "earnings_limit": e.earnings_limit,
                "earnings_period": value(e.earnings_period),
            },
        )
    ]


def notice_preference_set(e: Participant.NoticePreferenceSet) -> list[Fact]:
    return [
        (
            "notice_preferences",
            {
                "participant_id": e.originator_id,
                "notice_preference": value(e.notice_preference),
                "email": e.email,
            },
        )
    ]


def erasure_requested(e: Participant.ErasureRequested) -> list[Fact]:
    return [
        (
            "erasure_requests",
            {"participant_id": e.originator_id, "requested_on": e.requested_on},
        )
    ]


def participant_erased(e: Participant.Erased) -> list[Fact]:
    """The store deletes the person's personal rows when it writes this one."""
    return [("erasures", {"participant_id": e.originator_id})]


def meeting_scheduled(e: Meeting.Scheduled) -> list[Fact]:
    return [
        (
            "meetings",
            {
                "meeting_id": e.originator_id,
                "initiative_id": e.initiative_id,
                "title": e.title,
                "held_at": e.held_at,
                "high_level": e.high_level,
                "decision_making": e.decision_making,
            },
        )
    ]


def papers_sent(e: Meeting.PapersSent) -> list[Fact]:
    return [("meeting_papers", {"meeting_id": e.originator_id, "sent_at": e.sent_at})]


def attendance_recorded(e: Meeting.AttendanceRecorded) -> list[Fact]:
    return [
        ("attendance", {"meeting_id": e.originator_id, "participant_id": p})
        for p in e.participant_ids
    ]


def reserve_named(e: Meeting.ReserveNamed) -> list[Fact]:
    return [
        (
            "meeting_reserves",
            {"meeting_id": e.originator_id, "participant_id": e.participant_id},
        )
    ]


def adjustment_made(e: Meeting.ReasonableAdjustmentMade) -> list[Fact]:
    return [
        ("adjustments", {"meeting_id": e.originator_id, "description": e.description})
    ]


def contribution_logged(e: Contribution.Logged) -> list[Fact]:
    facts: list[Fact] = [
        (
            "contributions",
            {
                "contribution_id": e.originator_id,
                "initiative_id": e.initiative_id,
                "meeting_id": e.meeting_id,
                "nature": value(e.nature),
                "summary": e.summary,
                "impact_areas": values(e.impact_areas),
                "made_on": e.made_on,
            },
        )
    ]
    facts += [
        ("contributors", {"contribution_id": e.originator_id, "participant_id": p})
        for p in e.contributor_ids
    ]
    return facts


def contribution_responded(e: Contribution.Responded) -> list[Fact]:
    return [
        (
            "responses",
            {
                "contribution_id": e.originator_id,
                "outcome": value(e.outcome),
                "rationale": e.rationale,
                "responded_on": e.responded_on,
            },
        )
    ]


def feedback_given(e: Contribution.FeedbackGiven) -> list[Fact]:
    return [
        (
            "feedback",
            {
                "contribution_id": e.originator_id,
                "given_on": e.given_on,
                "method": value(e.method),
                "summary": e.summary,
            },
        )
    ]


def change_recorded(e: Change.Recorded) -> list[Fact]:
    facts: list[Fact] = [
        (
            "changes",
            {
                "change_id": e.originator_id,
                "initiative_id": e.initiative_id,
                "description": e.description,
                "impact_area": value(e.impact_area),
                "scope": value(e.scope),
                "beyond_kind": value(e.beyond_kind),
                "evidence": e.evidence,
                "changed_on": e.changed_on,
            },
        )
    ]
    facts += [
        ("change_sources", {"change_id": e.originator_id, "contribution_id": c})
        for c in e.contribution_ids
    ]
    return facts


def process_experience_recorded(e: ProcessExperienceAnswer.Recorded) -> list[Fact]:
    facts: list[Fact] = [
        (
            "process_answers",
            {
                "answer_id": e.originator_id,
                "initiative_id": e.initiative_id,
                "participant_id": e.participant_id,
                "respondent_kind": value(e.respondent_kind),
                "stage": value(e.stage),
                "answered_on": e.answered_on,
            },
        )
    ]
    facts += [
        (
            "process_scores",
            {"answer_id": e.originator_id, "dimension": value(d), "score": s},
        )
        for d, s in e.scores.items()
    ]
    return facts


def payment_owed(e: Payment.Owed) -> list[Fact]:
    return [
        (
            "payments",
            {
                "payment_id": e.originator_id,
                "participant_id": e.participant_id,
                "initiative_id": e.initiative_id,
                "payment_kind": value(e.payment_kind),
                "amount": e.amount,
                "owed_on": e.owed_on,
            },
        )
    ]


def payment_made(e: Payment.Paid) -> list[Fact]:
    return [("payments_made", {"payment_id": e.originator_id, "paid_on": e.paid_on})]


def support_given(e: Support.Given) -> list[Fact]:
    return [
        (
            "support",
            {
                "support_id": e.originator_id,
                "initiative_id": e.initiative_id,
                "support_kind": value(e.support_kind),
                "given_on": e.given_on,
                "hours": e.hours,
                "people": len(e.participant_ids),
            },
        )
    ]


def reference_population(
    e: ReferencePopulation.Defined | ReferencePopulation.Revised,
) -> list[Fact]:
    return [
        (
            "reference_shares",
            {
                "initiative_id": e.initiative_id,
                "category": value(category),
                "value": share_value,
                "share": share,
            },
        )
        for category, shares in e.shares.items()
        for share_value, share in shares.items()
    ]


RULES: dict[type, Rule] = {
    Organisation.Registered: organisation_registered,
    InvolvementPolicy.Adopted: policy_adopted,
    InvolvementPolicy.Revised: policy_adopted,
    InvolvementPolicy.Reviewed: policy_reviewed,
    Initiative.Launched: initiative_launched,
    Initiative.IntendedOutcomeRecorded: outcome_recorded,
    Initiative.IntendedOutcomeAssessed: outcome_assessed,
    Initiative.RoleAssigned: role_assigned,
    Initiative.RoleEnded: role_ended,
    Initiative.CycleEnteredAct: cycle_phase,
    Initiative.CycleEnteredEvaluate: cycle_phase,
    Initiative.CycleEnteredReflect: cycle_phase,
    Initiative.CycleEnteredLearn: cycle_phase,
    Participant.Registered: participant_registered,
    Participant.MonitoringDataDeclared: monitoring_declared,
    Participant.PaymentPreferenceSet: payment_preference_set,
    Participant.Erased: participant_erased,
    Participant.NoticePreferenceSet: notice_preference_set,
    Participant.ErasureRequested: erasure_requested,
    Meeting.Scheduled: meeting_scheduled,
    Meeting.PapersSent: papers_sent,
    Meeting.AttendanceRecorded: attendance_recorded,
    Meeting.ReserveNamed: reserve_named,
    Meeting.ReasonableAdjustmentMade: adjustment_made,
    Contribution.Logged: contribution_logged,
    Contribution.Responded: contribution_responded,
    Contribution.FeedbackGiven: feedback_given,
    Change.Recorded: change_recorded,
    ProcessExperienceAnswer.Recorded: process_experience_recorded,
    Payment.Owed: payment_owed,
    Payment.Paid: payment_made,
    Support.Given: support_given,
    ReferencePopulation.Defined: reference_population,
    ReferencePopulation.Revised: reference_population,
}


def facts_of(event: Any) -> list[Fact]:
    """The rows an event adds (none for events no answer needs, such as receipts)."""
    rule = RULES.get(type(event))
    return rule(event) if rule else []
