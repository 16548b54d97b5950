"""Random 4PI histories for property tests: varied, mostly valid sequences of use cases drawn step by step with hypothesis."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from hypothesis import strategies as st

from fourpi.domain.application import InvolvementRecords
from fourpi.domain.errors import DomainError
from fourpi.domain.vocabulary import (
    MONITORING_VALUES,
    BeyondKind,
    ChangeScope,
    ContributionNature,
    EarningsPeriod,
    FeedbackMethod,
    ImpactArea,
    InvolvementDifference,
    InvolvementKind,
    InvolvementLevel,
    InvolvementMethod,
    InvolvementRole,
    MonitoringCategory,
    OutcomeAssessment,
    ParticipantKind,
    PaymentKind,
    PaymentPreference,
    ProcessDimension,
    QuestionnaireStage,
    RespondentKind,
    ResponseOutcome,
    SupportKind,
)

ACTOR = "history"
EPOCH = date(2022, 1, 3)
DAYS = 120
days = st.integers(min_value=0, max_value=DAYS).map(lambda n: EPOCH + timedelta(days=n))
PLANNED = ("Meet in the community", "Pay within a week")


@dataclass
class Known:
    """What a history has created so far, by organisation."""

    organisations: list[UUID] = field(default_factory=list)
    initiatives: dict[UUID, list[UUID]] = field(default_factory=dict)
    participants: dict[UUID, list[UUID]] = field(default_factory=dict)
    meetings: dict[UUID, list[tuple[UUID, UUID]]] = field(default_factory=dict)
    contributions: dict[UUID, list[tuple[UUID, UUID]]] = field(default_factory=dict)
    outcomes: dict[UUID, list[tuple[UUID, UUID]]] = field(default_factory=dict)
    roles: dict[UUID, list[tuple[UUID, UUID]]] = field(default_factory=dict)
    payments: dict[UUID, list[UUID]] = field(default_factory=dict)
    recorded: int = 0
    refused: int = 0
    days: st.SearchStrategy[date] = days
    """The days the history's facts fall on."""

    def add(self, organisation: UUID) -> None:
        """An organisation the history writes to, with nothing in it yet."""
        self.organisations.append(organisation)
        for registry in (
            self.initiatives,
            self.participants,
            self.meetings,
            self.contributions,
            self.outcomes,
            self.roles,
            self.payments,
        ):
            registry[organisation] = []


def play(
    records: InvolvementRecords,
    data: st.DataObject,
    *,
    steps: int,
    on: st.SearchStrategy[date] = days,
) -> Known:
    """Run `steps` random use cases against the records, on days drawn from `on`;
    refusals are part of history."""
    known = Known(days=on)
    for name in ("Mind", "Other"):
        known.add(records.register_organisation(name=name, actor=ACTOR))
    for _ in range(steps):
        play_one(records, data, known)
    return known


def play_one(
    records: InvolvementRecords,
    data: st.DataObject,
    known: Known,
    steps: tuple[Any, ...] | None = None,
) -> None:
    """One random use case of `steps` (by default any), against either organisation."""
    organisation = data.draw(st.sampled_from(known.organisations))
    step = data.draw(st.sampled_from(steps or STEPS))
    arguments = step(known, organisation, data)
    if arguments is None:
        return
    use_case, kwargs, remember = arguments
    try:
        result = getattr(records, use_case)(
            organisation_id=organisation, actor=ACTOR, **kwargs
        )
    except DomainError:
        known.refused += 1
        return
    known.recorded += 1
    if remember is not None:
        remember(result)


Arguments = tuple[str, dict[str, Any], Any] | None


def pick(data: st.DataObject, items: list[Any]) -> Any:
    return data.draw(st.sampled_from(items)) if items else None


def areas(data: st.DataObject) -> tuple[ImpactArea, ...]:
    return tuple(
        data.draw(
            st.lists(st.sampled_from(ImpactArea), min_size=1, max_size=2, unique=True)
        )
    )


def launch(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    if len(known.initiatives[org]) >= 3:
        return None
    return (
        "launch_initiative",
        {
            "name": "Initiative",
            "level": data.draw(st.sampled_from(InvolvementLevel)),
            "involvement_kind": data.draw(st.sampled_from(InvolvementKind)),
            "methods": (InvolvementMethod.WORKSHOP,),
            "purpose": "A purpose",
            "limits_of_influence": "Some limits",
            "started_on": EPOCH + timedelta(days=data.draw(st.integers(0, 10))),
        },
        known.initiatives[org].append,
    )


def register(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    if len(known.participants[org]) >= 10:
        return None
    return (
        "register_participant",
        {
            "pseudonym": f"Person {len(known.participants[org]) + 1}",
            "participant_kind": data.draw(
                st.sampled_from(
                    [ParticipantKind.SERVICE_USER] * 3
                    + [ParticipantKind.CARER] * 2
                    + list(ParticipantKind)
                )
            ),
        },
        known.participants[org].append,
    )


def declare(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    person = pick(data, known.participants[org])
    if person is None:
        return None
    categories = data.draw(st.lists(st.sampled_from(MonitoringCategory), unique=True))
    monitoring = {
        category.value: data.draw(
            st.sampled_from(list(MONITORING_VALUES[category])[:4])
        )
        for category in categories
    }
    return (
        "declare_monitoring_data",
        {"participant_id": person, "monitoring": monitoring},
        None,
    )


def prefer(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    person = pick(data, known.participants[org])
    if person is None:
        return None
    limited = data.draw(st.booleans())
    return (
        "set_payment_preference",
        {
            "participant_id": person,
            "payment_preference": data.draw(
                st.sampled_from([PaymentPreference.FEES, PaymentPreference.REDUCED_FEE])
            ),
            "earnings_limit": Decimal(data.draw(st.sampled_from([40, 75, 120])))
            if limited
            else None,
            "earnings_period": data.draw(st.sampled_from(EarningsPeriod))
            if limited
            else None,
        },
        None,
    )


def erase(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    person = pick(data, known.participants[org])
    if person is None:
        return None
    return ("erase_participant", {"participant_id": person}, None)


def assign(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    initiative = pick(data, known.initiatives[org])
    person = pick(data, known.participants[org])
    if initiative is None or person is None:
        return None
    return (
        "assign_role",
        {
            "initiative_id": initiative,
            "participant_id": person,
            "role": data.draw(st.sampled_from(InvolvementRole)),
            "paid": data.draw(st.booleans()),
            "decision_making": data.draw(st.booleans()),
            "started_on": data.draw(known.days),
        },
        lambda role: known.roles[org].append((initiative, role)),
    )


def end_role(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    chosen = pick(data, known.roles[org])
    if chosen is None:
        return None
    return (
        "end_role",
        {
            "initiative_id": chosen[0],
            "role_id": chosen[1],
            "ended_on": data.draw(known.days),
        },
        None,
    )


def outcome(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    initiative = pick(data, known.initiatives[org])
    if initiative is None:
        return None
    return (
        "record_intended_outcome",
        {
            "initiative_id": initiative,
            "description": "An outcome",
            "impact_areas": areas(data),
        },
        lambda outcome_id: known.outcomes[org].append((initiative, outcome_id)),
    )


def assess(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    chosen = pick(data, known.outcomes[org])
    if chosen is None:
        return None
    return (
        "assess_intended_outcome",
        {
            "initiative_id": chosen[0],
            "outcome_id": chosen[1],
            "assessment": data.draw(st.sampled_from(OutcomeAssessment)),
            "involvement_difference": data.draw(st.sampled_from(InvolvementDifference)),
            "evidence": "Minutes",
            "assessed_on": data.draw(known.days),
        },
        None,
    )


def schedule(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    initiative = pick(data, known.initiatives[org])
    if initiative is None:
        return None
    held = datetime.combine(data.draw(known.days), time(10), UTC)
    return (
        "schedule_meeting",
        {
            "initiative_id": initiative,
            "title": "Meeting",
            "held_at": held,
            "high_level": data.draw(st.booleans()),
            "decision_making": data.draw(st.booleans()),
        },
        lambda meeting: known.meetings[org].append((initiative, meeting)),
    )


def papers(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    chosen = pick(data, known.meetings[org])
    if chosen is None:
        return None
    return (
        "send_meeting_papers",
        {
            "meeting_id": chosen[1],
            # The meeting's own time is not known here: most are before it, some not.
            "sent_at": datetime.combine(data.draw(known.days), time(9), UTC),
        },
        None,
    )


def attend(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    chosen = pick(data, known.meetings[org])
    if chosen is None or not known.participants[org]:
        return None
    people = data.draw(
        st.lists(
            st.sampled_from(known.participants[org]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    return (
        "record_attendance",
        {"meeting_id": chosen[1], "participant_ids": people},
        None,
    )


def reserve(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    chosen = pick(data, known.meetings[org])
    person = pick(data, known.participants[org])
    if chosen is None or person is None:
        return None
    return (
        "name_meeting_reserve",
        {"meeting_id": chosen[1], "participant_id": person},
        None,
    )


def contribute(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    initiative = pick(data, known.initiatives[org])
    if initiative is None or not known.participants[org]:
        return None
    people = data.draw(
        st.lists(
            st.sampled_from(known.participants[org]),
            min_size=1,
            max_size=2,
            unique=True,
        )
    )
    meetings = [m for i, m in known.meetings[org] if i == initiative]
    return (
        "log_contribution",
        {
            "initiative_id": initiative,
            "contributor_ids": people,
            "nature": data.draw(st.sampled_from(ContributionNature)),
            "summary": "A contribution",
            "impact_areas": areas(data),
            "made_on": data.draw(known.days),
            "meeting_id": pick(data, meetings) if data.draw(st.booleans()) else None,
        },
        lambda contribution: known.contributions[org].append(
            (initiative, contribution)
        ),
    )


def respond(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    chosen = pick(data, known.contributions[org])
    if chosen is None:
        return None
    outcome = data.draw(st.sampled_from(ResponseOutcome))
    return (
        "respond_to_contribution",
        {
            "contribution_id": chosen[1],
            "outcome": outcome,
            "rationale": data.draw(st.sampled_from(["Because", ""])),
            "responded_on": data.draw(known.days),
        },
        None,
    )


def feedback(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    chosen = pick(data, known.contributions[org])
    if chosen is None:
        return None
    return (
        "give_feedback",
        {
            "contribution_id": chosen[1],
            "given_on": data.draw(known.days),
            "method": data.draw(st.sampled_from(FeedbackMethod)),
            "summary": "You said, we did",
        },
        None,
    )


def change(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    initiative = pick(data, known.initiatives[org])
    if initiative is None:
        return None
    own = [c for i, c in known.contributions[org] if i == initiative]
    sources = (
        data.draw(st.lists(st.sampled_from(own), max_size=2, unique=True))
        if own
        else []
    )
    scope = data.draw(st.sampled_from(ChangeScope))
    return (
        "record_change",
        {
            "initiative_id": initiative,
            "description": "A change",
            "impact_area": data.draw(st.sampled_from(ImpactArea)),
            "scope": scope,
            "beyond_kind": data.draw(st.sampled_from(BeyondKind))
            if scope is ChangeScope.BEYOND
            else None,
            "evidence": "A report",
            "changed_on": data.draw(known.days),
            "contribution_ids": sources,
        },
        None,
    )


def answer(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    initiative = pick(data, known.initiatives[org])
    if initiative is None:
        return None
    person = pick(data, known.participants[org]) if data.draw(st.booleans()) else None
    return (
        "record_process_experience",
        {
            "initiative_id": initiative,
            "participant_id": person,
            "respondent_kind": data.draw(st.sampled_from(RespondentKind)),
            "stage": data.draw(st.sampled_from(QuestionnaireStage)),
            "scores": data.draw(
                st.dictionaries(
                    st.sampled_from(ProcessDimension), st.integers(1, 5), min_size=1
                )
            ),
            "answered_on": data.draw(known.days),
        },
        None,
    )


def owe(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    person = pick(data, known.participants[org])
    if person is None:
        return None
    initiative = (
        pick(data, known.initiatives[org]) if data.draw(st.booleans()) else None
    )
    return (
        "record_payment_owed",
        {
            "participant_id": person,
            "initiative_id": initiative,
            "payment_kind": data.draw(
                st.sampled_from([PaymentKind.FEE, PaymentKind.FEE, *PaymentKind])
            ),
            "amount": Decimal(data.draw(st.sampled_from(["20.00", "35.50", "60.00"]))),
            "owed_on": data.draw(known.days),
        },
        known.payments[org].append,
    )


def pay(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    payment = pick(data, known.payments[org])
    if payment is None:
        return None
    return (
        "record_payment_made",
        {"payment_id": payment, "paid_on": data.draw(known.days)},
        None,
    )


def support(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    people = known.participants[org]
    return (
        "record_support",
        {
            "support_kind": data.draw(st.sampled_from(SupportKind)),
            "given_on": data.draw(known.days),
            "initiative_id": pick(data, known.initiatives[org]),
            "participant_ids": data.draw(
                st.lists(st.sampled_from(people), max_size=2, unique=True)
            )
            if people
            else [],
            "hours": data.draw(st.sampled_from([None, Decimal("1.5"), Decimal("3")])),
        },
        None,
    )


def population(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    category = data.draw(st.sampled_from(MonitoringCategory))
    vocabulary = list(MONITORING_VALUES[category])
    chosen = data.draw(
        st.lists(st.sampled_from(vocabulary[:4]), min_size=1, max_size=3, unique=True)
    )
    share = Decimal(1) / len(chosen)
    return (
        "define_reference_population",
        {
            "description": "Local population",
            "shares": {
                category: {v.value: share.quantize(Decimal("0.001")) for v in chosen}
            },
            "initiative_id": pick(data, known.initiatives[org])
            if data.draw(st.booleans())
            else None,
        },
        None,
    )


def policy(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    return (
        "adopt_involvement_policy",
        {
            "version_label": data.draw(st.sampled_from(["1", "2", "3"])),
            "adopted_on": data.draw(known.days),
            "review_interval_months": data.draw(st.sampled_from([1, 2, 24])),
        },
        None,
    )


def review(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    return ("review_involvement_policy", {"reviewed_on": data.draw(known.days)}, None)


def cycle(known: Known, org: UUID, data: st.DataObject) -> Arguments:
    initiative = pick(data, known.initiatives[org])
    if initiative is None:
        return None
    phase = data.draw(st.sampled_from(["start", "evaluate", "reflect", "learn"]))
    number = data.draw(st.integers(1, 3))
    on = data.draw(known.days)
    if phase == "start":
        taken = data.draw(st.lists(st.sampled_from(PLANNED), max_size=1))
        return (
            "start_cycle",
            {
                "initiative_id": initiative,
                "focus_areas": areas(data),
                "started_on": on,
                "actions_taken_up": tuple(taken),
            },
            None,
        )
    if phase == "evaluate":
        return (
            "evaluate_cycle",
            {
                "initiative_id": initiative,
                "number": number,
                "findings": "F",
                "entered_on": on,
            },
            None,
        )
    if phase == "reflect":
        return (
            "reflect_on_cycle",
            {
                "initiative_id": initiative,
                "number": number,
                "reflections": "R",
                "entered_on": on,
            },
            None,
        )
    return (
        "learn_from_cycle",
        {
            "initiative_id": initiative,
            "number": number,
            "lessons": "L",
            "planned_actions": PLANNED,
            "entered_on": on,
        },
        None,
    )


STEPS = (
    launch,
    launch,
    register,
    register,
    register,
    declare,
    prefer,
    erase,
    assign,
    assign,
    end_role,
    outcome,
    assess,
    assess,
    schedule,
    papers,
    attend,
    attend,
    reserve,
    contribute,
    contribute,
    contribute,
    respond,
    respond,
    feedback,
    change,
    change,
    answer,
    answer,
    owe,
    owe,
    pay,
    pay,
    support,
    population,
    policy,
    review,
    cycle,
    cycle,
    cycle,
)


def slices(known: Known) -> st.SearchStrategy[Any]:
    """Random slices over the organisations and initiatives a history created."""
    from fourpi.projections.answers import Slice

    @st.composite
    def build(draw: Any) -> Slice:
        organisation = draw(st.sampled_from(known.organisations))
        initiatives = known.initiatives[organisation]
        start = draw(st.none() | days)
        end = draw(st.none() | days)
        return Slice(
            organisation_id=organisation,
            initiative_id=draw(st.none() | st.sampled_from(initiatives))
            if initiatives
            else None,
            impact_area=draw(
                st.none() | st.sampled_from([a.value for a in ImpactArea])
            ),
            cycle=draw(st.none() | st.integers(1, 3)),
            period_from=start,
            period_to=end,
        )

    return build()
