"""A demo organisation modelled on Mind's co-produced project, made through the use cases."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from fourpi.domain.application import InvolvementRecords
from fourpi.domain.reference_population import Shares
from fourpi.domain.vocabulary import (
    AgeBand,
    BeyondKind,
    ChangeScope,
    ContributionNature,
    Disability,
    EarningsPeriod,
    EducationLevel,
    EthnicGroup,
    FeedbackMethod,
    Gender,
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
    SexualOrientation,
    SupportKind,
)

ACTOR = "fourpi demo"
ORGANISATION_NAME = "Mind (demo)"
POLICY_VERSION = "2.0"
POLICY_ADOPTED_ON = date(2020, 3, 1)
POLICY_REVIEWED_ON = date(2022, 2, 15)

SU = ParticipantKind.SERVICE_USER
CARER = ParticipantKind.CARER
STAFF = ParticipantKind.STAFF
END = QuestionnaireStage.END_OF_INVOLVEMENT
IN_FLIGHT = QuestionnaireStage.IN_FLIGHT


def key(*parts: str) -> str:
    """The idempotency key of one demo step: the same step always carries the same key."""
    return ":".join(("demo", *parts))


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# The plan: what the demo records, as literal tables.


@dataclass(frozen=True)
class Person:
    key: str
    pseudonym: str
    kind: ParticipantKind
    monitoring: dict[str, str | None] | None = None
    preference: PaymentPreference | None = None
    earnings_limit: Decimal | None = None
    earnings_period: EarningsPeriod | None = None


@dataclass(frozen=True)
class RolePlan:
    person: str
    role: InvolvementRole
    paid: bool
    decision_making: bool
    started_on: date
    ended_on: date | None = None


@dataclass(frozen=True)
class Assessment:
    assessed_on: date
    assessment: OutcomeAssessment
    difference: InvolvementDifference
    evidence: str = ""


@dataclass(frozen=True)
class OutcomePlan:
    key: str
    description: str
    impact_areas: tuple[ImpactArea, ...]
    assessments: tuple[Assessment, ...]


@dataclass(frozen=True)
class MeetingPlan:
    key: str
    title: str
    held_at: datetime
    high_level: bool
    decision_making: bool
    papers_days_before: int
    attendees: tuple[str, ...]
    adjustments: tuple[str, ...] = ()
    reserve: str | None = None


@dataclass(frozen=True)
class Reply:
    outcome: ResponseOutcome
    responded_on: date
    rationale: str = ""


@dataclass(frozen=True)
class Told:
    given_on: date
    method: FeedbackMethod
    summary: str


@dataclass(frozen=True)
class ContributionPlan:
    key: str
    meeting: str | None
    contributors: tuple[str, ...]
    nature: ContributionNature
    summary: str
    impact_areas: tuple[ImpactArea, ...]
    made_on: date
    replies: tuple[Reply, ...]
    told: Told | None = None


@dataclass(frozen=True)
class ChangePlan:
    key: str
    description: str
    impact_area: ImpactArea
    scope: ChangeScope
    evidence: str
    changed_on: date
    contributions: tuple[str, ...] = ()
    beyond_kind: BeyondKind | None = None


@dataclass(frozen=True)
class PaymentPlan:
    key: str
    person: str
    kind: PaymentKind
    amount: Decimal
    owed_on: date
    paid_on: date | None
    description: str


@dataclass(frozen=True)
class SupportPlan:
    key: str
    kind: SupportKind
    given_on: date
    people: tuple[str, ...]
    hours: Decimal
    description: str


@dataclass(frozen=True)
class AnswerPlan:
    key: str
    person: str
    respondent_kind: RespondentKind
    stage: QuestionnaireStage
    answered_on: date
    # One score per ProcessDimension, in its order; None where left unanswered.
    scores: tuple[int | None, ...]
    free_text: str = ""


@dataclass(frozen=True)
class CyclePlan:
    started_on: date
    focus_areas: tuple[ImpactArea, ...]
    actions_taken_up: tuple[str, ...] = ()
    findings: tuple[date, str] | None = None
    reflections: tuple[date, str] | None = None
    lessons: tuple[date, str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class InitiativePlan:
    key: str
    name: str
    level: InvolvementLevel
    kind: InvolvementKind
    methods: tuple[InvolvementMethod, ...]
    purpose: str
    limits_of_influence: str
    started_on: date
    people: tuple[Person, ...]
    roles: tuple[RolePlan, ...]
    outcomes: tuple[OutcomePlan, ...]
    meetings: tuple[MeetingPlan, ...]
    contributions: tuple[ContributionPlan, ...]
    changes: tuple[ChangePlan, ...]
    payments: tuple[PaymentPlan, ...]
    support: tuple[SupportPlan, ...]
    answers: tuple[AnswerPlan, ...]
    cycles: tuple[CyclePlan, ...] = ()
    reference_population: tuple[str, Shares] | None = None


# What the demo made.


@dataclass(frozen=True)
class InitiativeSummary:
    name: str
    initiative_id: UUID
    participant_ids: tuple[UUID, ...]
    role_ids: tuple[UUID, ...]
    outcome_ids: tuple[UUID, ...]
    meeting_ids: tuple[UUID, ...]
    contribution_ids: tuple[UUID, ...]
    change_ids: tuple[UUID, ...]
    payment_ids: tuple[UUID, ...]
    support_ids: tuple[UUID, ...]
    answer_ids: tuple[UUID, ...]
    cycle_numbers: tuple[int, ...]

    def counts(self) -> str:
        counted = [
            (len(self.participant_ids), "participants"),
            (len(self.role_ids), "roles"),
            (len(self.outcome_ids), "intended outcomes"),
            (len(self.meeting_ids), "meetings"),
            (len(self.contribution_ids), "contributions"),
            (len(self.change_ids), "changes"),
            (len(self.payment_ids), "payments"),
            (len(self.support_ids), "support and training records"),
            (len(self.answer_ids), "process-experience answers"),
            (len(self.cycle_numbers), "cycles"),
        ]
        return ", ".join(f"{count} {what}" for count, what in counted if count)


@dataclass(frozen=True)
class DemoSummary:
    organisation_name: str
    organisation_id: UUID
    policy_id: UUID
    reference_population_ids: tuple[UUID, ...]
    initiatives: tuple[InitiativeSummary, ...]

    def lines(self) -> list[str]:
        lines = [
            f"Organisation: {self.organisation_name} ({self.organisation_id})",
            f"Involvement policy {POLICY_VERSION}: adopted {POLICY_ADOPTED_ON}, "
            f"last reviewed {POLICY_REVIEWED_ON} ({self.policy_id})",
            f"Reference populations: {len(self.reference_population_ids)}",
        ]
        for initiative in self.initiatives:
            lines.append(f"Initiative: {initiative.name} ({initiative.initiative_id})")
            lines.append(f"  {initiative.counts()}")
        return lines


# Organisation and policy


# Census 2021, England and Wales, rounded: the population Mind serves as a whole.
ENGLAND_AND_WALES: Shares = {
    MonitoringCategory.ETHNIC_GROUP: {
        EthnicGroup.WHITE_BRITISH: Decimal("0.743"),
        EthnicGroup.WHITE_IRISH: Decimal("0.009"),
        EthnicGroup.WHITE_GYPSY_OR_IRISH_TRAVELLER: Decimal("0.001"),
        EthnicGroup.WHITE_ROMA: Decimal("0.002"),
        EthnicGroup.WHITE_OTHER: Decimal("0.062"),
        EthnicGroup.MIXED_WHITE_AND_BLACK_CARIBBEAN: Decimal("0.009"),
        EthnicGroup.MIXED_WHITE_AND_BLACK_AFRICAN: Decimal("0.004"),
        EthnicGroup.MIXED_WHITE_AND_ASIAN: Decimal("0.008"),
        EthnicGroup.MIXED_OTHER: Decimal("0.008"),
        EthnicGroup.ASIAN_INDIAN: Decimal("0.031"),
        EthnicGroup.ASIAN_PAKISTANI: Decimal("0.027"),
        EthnicGroup.ASIAN_BANGLADESHI: Decimal("0.011"),
        EthnicGroup.ASIAN_CHINESE: Decimal("0.007"),
        EthnicGroup.ASIAN_OTHER: Decimal("0.016"),
        EthnicGroup.BLACK_AFRICAN: Decimal("0.025"),
        EthnicGroup.BLACK_CARIBBEAN: Decimal("0.010"),
        EthnicGroup.BLACK_OTHER: Decimal("0.005"),
        EthnicGroup.OTHER_ARAB: Decimal("0.006"),
        EthnicGroup.OTHER_ANY_OTHER: Decimal("0.016"),
    },
    MonitoringCategory.GENDER: {
        Gender.WOMAN: Decimal("0.510"),
        Gender.MAN: Decimal("0.489"),
        Gender.NON_BINARY: Decimal("0.001"),
    },
    MonitoringCategory.AGE_BAND: {
        AgeBand.UNDER_18: Decimal("0.210"),
        AgeBand.AGE_18_24: Decimal("0.084"),
        AgeBand.AGE_25_34: Decimal("0.134"),
        AgeBand.AGE_35_44: Decimal("0.128"),
        AgeBand.AGE_45_54: Decimal("0.134"),
        AgeBand.AGE_55_64: Decimal("0.124"),
        AgeBand.AGE_65_PLUS: Decimal("0.186"),
    },
    MonitoringCategory.DISABILITY: {
        Disability.DISABLED: Decimal("0.178"),
        Disability.NOT_DISABLED: Decimal("0.822"),
    },
}

# The same census, adults from Black, Asian, mixed and other ethnic groups only:
# the people the diversity project set out to involve.
RACIALISED_ADULTS: Shares = {
    MonitoringCategory.ETHNIC_GROUP: {
        EthnicGroup.ASIAN_INDIAN: Decimal("0.169"),
        EthnicGroup.ASIAN_PAKISTANI: Decimal("0.148"),
        EthnicGroup.ASIAN_BANGLADESHI: Decimal("0.060"),
        EthnicGroup.ASIAN_CHINESE: Decimal("0.038"),
        EthnicGroup.ASIAN_OTHER: Decimal("0.087"),
        EthnicGroup.BLACK_AFRICAN: Decimal("0.137"),
        EthnicGroup.BLACK_CARIBBEAN: Decimal("0.055"),
        EthnicGroup.BLACK_OTHER: Decimal("0.027"),
        EthnicGroup.MIXED_WHITE_AND_BLACK_CARIBBEAN: Decimal("0.049"),
        EthnicGroup.MIXED_WHITE_AND_BLACK_AFRICAN: Decimal("0.022"),
        EthnicGroup.MIXED_WHITE_AND_ASIAN: Decimal("0.044"),
        EthnicGroup.MIXED_OTHER: Decimal("0.044"),
        EthnicGroup.OTHER_ARAB: Decimal("0.033"),
        EthnicGroup.OTHER_ANY_OTHER: Decimal("0.087"),
    },
    MonitoringCategory.GENDER: {
        Gender.WOMAN: Decimal("0.505"),
        Gender.MAN: Decimal("0.493"),
        Gender.NON_BINARY: Decimal("0.002"),
    },
    MonitoringCategory.AGE_BAND: {
        AgeBand.AGE_18_24: Decimal("0.145"),
        AgeBand.AGE_25_34: Decimal("0.230"),
        AgeBand.AGE_35_44: Decimal("0.215"),
        AgeBand.AGE_45_54: Decimal("0.170"),
        AgeBand.AGE_55_64: Decimal("0.120"),
        AgeBand.AGE_65_PLUS: Decimal("0.120"),
    },
}


def create_organisation(records: InvolvementRecords) -> tuple[UUID, UUID, UUID]:
    """The organisation, its involvement policy (adopted and reviewed once) and the
    organisation-wide reference population."""
    organisation_id = records.register_organisation(
        name=ORGANISATION_NAME, actor=ACTOR, idempotency_key=key("organisation")
    )
    policy_id = records.adopt_involvement_policy(
        organisation_id=organisation_id,
        version_label=POLICY_VERSION,
        adopted_on=POLICY_ADOPTED_ON,
        summary=(
            "People with lived experience of mental health problems shape our work at "
            "every level, from the services we provide to our strategy. We say at the "
            "start what can and cannot change, pay people fairly for their time, and "
            "tell them what became of what they said."
        ),
        actor=ACTOR,
        idempotency_key=key("policy", "adopt", POLICY_VERSION),
    )
    records.review_involvement_policy(
        organisation_id=organisation_id,
        reviewed_on=POLICY_REVIEWED_ON,
        notes=(
            "Reviewed with the lived experience advisory group: kept version 2.0, "
            "added a commitment to measure who we involve against the population."
        ),
        actor=ACTOR,
        idempotency_key=key("policy", "review", str(POLICY_REVIEWED_ON)),
    )
    population_id = records.define_reference_population(
        organisation_id=organisation_id,
        description="People in England and Wales (Census 2021, rounded)",
        shares=ENGLAND_AND_WALES,
        actor=ACTOR,
        idempotency_key=key("reference-population", "organisation"),
    )
    return organisation_id, policy_id, population_id


# Initiative A: Mind's co-produced project to diversify who it involves (seed 004)

ADVISORS = tuple(f"advisor-{n}" for n in range(1, 7))
A_START = date(2021, 6, 1)
A_END = date(2022, 6, 30)

DIVERSITY_PEOPLE = (
    Person(
        "lead",
        "Project lead",
        SU,
        {
            "age_band": AgeBand.AGE_35_44,
            "gender": Gender.WOMAN,
            "ethnic_group": EthnicGroup.BLACK_CARIBBEAN,
            "disability": Disability.NOT_DISABLED,
            "sexual_orientation": SexualOrientation.STRAIGHT_OR_HETEROSEXUAL,
            "education_level": EducationLevel.LEVEL_4_OR_ABOVE,
        },
        PaymentPreference.FEES,
    ),
    Person(
        "advisor-1",
        "Advisor 1",
        SU,
        {
            "age_band": AgeBand.AGE_25_34,
            "gender": Gender.MAN,
            "ethnic_group": EthnicGroup.BLACK_AFRICAN,
            "disability": Disability.DISABLED,
            "sexual_orientation": SexualOrientation.STRAIGHT_OR_HETEROSEXUAL,
            "education_level": EducationLevel.LEVEL_3,
        },
        PaymentPreference.FEES,
    ),
    Person(
        "advisor-2",
        "Advisor 2",
        SU,
        {
            "age_band": AgeBand.AGE_45_54,
            "gender": Gender.WOMAN,
            "ethnic_group": EthnicGroup.ASIAN_PAKISTANI,
            "disability": Disability.NOT_DISABLED,
            "sexual_orientation": SexualOrientation.PREFER_NOT_TO_SAY,
            "education_level": EducationLevel.LEVEL_1_OR_2,
        },
        PaymentPreference.FEES,
    ),
    # On benefits: chooses to keep fees under a monthly limit (NSUN).
    Person(
        "advisor-3",
        "Advisor 3",
        SU,
        {
            "age_band": AgeBand.AGE_18_24,
            "gender": Gender.NON_BINARY,
            "ethnic_group": EthnicGroup.MIXED_WHITE_AND_BLACK_CARIBBEAN,
            "disability": Disability.DISABLED,
            "sexual_orientation": SexualOrientation.BISEXUAL,
            "education_level": EducationLevel.LEVEL_3,
        },
        PaymentPreference.FEES,
        Decimal("150.00"),
        EarningsPeriod.MONTH,
    ),
    Person(
        "advisor-4",
        "Advisor 4",
        SU,
        {
            "age_band": AgeBand.AGE_55_64,
            "gender": Gender.WOMAN,
            "ethnic_group": EthnicGroup.ASIAN_BANGLADESHI,
            "disability": Disability.PREFER_NOT_TO_SAY,
            "education_level": EducationLevel.NO_QUALIFICATIONS,
        },
        PaymentPreference.EXPENSES_ONLY,
    ),
    Person(
        "advisor-5",
        "Advisor 5",
        SU,
        {
            "age_band": AgeBand.PREFER_NOT_TO_SAY,
            "gender": Gender.MAN,
            "ethnic_group": EthnicGroup.OTHER_ARAB,
            "sexual_orientation": SexualOrientation.GAY_OR_LESBIAN,
        },
        PaymentPreference.FEES,
    ),
    # Declared nothing: "not recorded" is a different answer from prefer not to say.
    Person("advisor-6", "Advisor 6", SU, None, PaymentPreference.FEES),
    Person(
        "involvement-manager",
        "Involvement manager",
        STAFF,
        {
            "age_band": AgeBand.AGE_45_54,
            "gender": Gender.WOMAN,
            "ethnic_group": EthnicGroup.WHITE_BRITISH,
            "education_level": EducationLevel.LEVEL_4_OR_ABOVE,
        },
    ),
    Person(
        "recruitment-partner",
        "Recruitment partner",
        STAFF,
        {
            "age_band": AgeBand.AGE_25_34,
            "gender": Gender.MAN,
            "ethnic_group": EthnicGroup.ASIAN_INDIAN,
            "sexual_orientation": SexualOrientation.PREFER_NOT_TO_SAY,
        },
    ),
    # A freelancer with equality expertise: neither staff nor a service user.
    Person(
        "equality-coordinator",
        "Equality coordinator",
        ParticipantKind.OTHER,
        {
            "age_band": AgeBand.AGE_35_44,
            "gender": Gender.WOMAN,
            "ethnic_group": EthnicGroup.BLACK_AFRICAN,
        },
        PaymentPreference.FEES,
    ),
)

DIVERSITY_ROLES = (
    RolePlan(
        "equality-coordinator",
        InvolvementRole.CONSULTANT,
        paid=True,
        decision_making=False,
        started_on=A_START,
        ended_on=date(2021, 7, 30),
    ),
    RolePlan(
        "lead",
        InvolvementRole.LEAD,
        paid=True,
        decision_making=True,
        started_on=date(2021, 7, 5),
        ended_on=A_END,
    ),
    *(
        RolePlan(
            advisor,
            InvolvementRole.ADVISOR,
            paid=True,
            # Advisors 1 to 3 also sit on the project meeting that makes decisions.
            decision_making=advisor in ("advisor-1", "advisor-2", "advisor-3"),
            started_on=date(2021, 9, 1),
            ended_on=A_END,
        )
        for advisor in ADVISORS
    ),
)

DIVERSITY_OUTCOMES = (
    OutcomePlan(
        "more-people",
        "More people from racialised communities involved in our lived experience work",
        (ImpactArea.DIVERSITY_AND_EQUALITY,),
        (
            Assessment(
                date(2022, 1, 31),
                OutcomeAssessment.TOO_EARLY_TO_TELL,
                InvolvementDifference.UNKNOWN,
            ),
            Assessment(
                date(2022, 12, 15),
                OutcomeAssessment.PARTLY_ACHIEVED,
                InvolvementDifference.SIGNIFICANT,
                "27% of the lived experience advisors recruited in 2022 were from "
                "racialised communities, up from 9% in 2020; applicants named the new "
                "guidance and videos as the reason they applied.",
            ),
        ),
    ),
    OutcomePlan(
        "recruitment-changed",
        "Recruitment of lived experience advisors changed by the advisors' insight",
        (ImpactArea.POLICY_AND_PLANNING, ImpactArea.DELIVERY),
        (
            Assessment(
                date(2022, 7, 15),
                OutcomeAssessment.ACHIEVED,
                InvolvementDifference.SIGNIFICANT,
                "The new template and guidance have been live on the recruitment "
                "system since April 2022; both were co-created in workshops 3 and 4.",
            ),
        ),
    ),
    OutcomePlan(
        "demographic-framework",
        "A framework to measure and use demographic information",
        (ImpactArea.OUTCOMES_AND_OUTPUTS,),
        (
            Assessment(
                date(2022, 9, 30),
                OutcomeAssessment.ACHIEVED,
                InvolvementDifference.SOME,
                "Framework agreed by the leadership team; the first quarterly report "
                "came out in September 2022. Advisors shaped which questions are "
                "asked and how the answers are explained to people.",
            ),
        ),
    ),
    OutcomePlan(
        "lasting-relationships",
        "Relationships with user-led organisations that last beyond the project",
        (ImpactArea.ETHOS_AND_CULTURE,),
        (
            Assessment(
                date(2022, 12, 15),
                OutcomeAssessment.TOO_EARLY_TO_TELL,
                InvolvementDifference.UNKNOWN,
            ),
        ),
    ),
)

# The first two workshops were only for people from racialised communities, so that
# they felt safe to share experiences; staff joined from the third.
DIVERSITY_MEETINGS = (
    MeetingPlan(
        "workshop-1",
        "Workshop 1: what gets in the way of being involved",
        at(2021, 9, 14, 10),
        high_level=False,
        decision_making=False,
        papers_days_before=7,
        attendees=("lead", *ADVISORS),
        adjustments=(
            "No session starts before 10am",
            "Materials sent a week in advance, in plain English and large print",
        ),
    ),
    MeetingPlan(
        "workshop-2",
        "Workshop 2: trust, safety and the corporate narrative",
        at(2021, 10, 12, 10, 30),
        high_level=False,
        decision_making=False,
        papers_days_before=5,
        attendees=(
            "lead",
            "advisor-1",
            "advisor-2",
            "advisor-3",
            "advisor-4",
            "advisor-6",
        ),
        adjustments=(
            "No session starts before 10am",
            "A quiet room and a wellbeing lead on hand throughout",
        ),
    ),
    MeetingPlan(
        "project-meeting-1",
        "Project meeting: holding the project to account",
        at(2021, 11, 2, 13),
        high_level=True,
        decision_making=True,
        papers_days_before=7,
        attendees=(
            "lead",
            "advisor-1",
            "advisor-2",
            "involvement-manager",
            "recruitment-partner",
            "equality-coordinator",
        ),
        adjustments=("A briefing call for the lived experience members beforehand",),
        reserve="advisor-3",
    ),
    MeetingPlan(
        "workshop-3",
        "Workshop 3: recruitment, with staff",
        at(2021, 11, 23, 10),
        high_level=False,
        decision_making=False,
        papers_days_before=7,
        attendees=(
            "lead",
            "advisor-1",
            "advisor-2",
            "advisor-3",
            "advisor-5",
            "advisor-6",
            "involvement-manager",
            "recruitment-partner",
        ),
        adjustments=(
            "No session starts before 10am",
            "Live captions on the video call",
        ),
    ),
    # Papers went out the day before and only the lead could attend: the meeting
    # the 4PI presence and papers checks should flag.
    MeetingPlan(
        "project-meeting-2",
        "Project meeting: signing off the barriers report",
        at(2022, 2, 8, 14),
        high_level=True,
        decision_making=True,
        papers_days_before=1,
        attendees=("lead", "involvement-manager", "equality-coordinator"),
    ),
    MeetingPlan(
        "workshop-4",
        "Workshop 4: co-creating guidance and videos for applicants",
        at(2022, 3, 15, 10),
        high_level=False,
        decision_making=False,
        papers_days_before=10,
        attendees=(
            "lead",
            "advisor-1",
            "advisor-3",
            "advisor-4",
            "advisor-5",
            "recruitment-partner",
        ),
        adjustments=(
            "No session starts before 10am",
            "Materials sent in advance, with an interpreter for one advisor",
        ),
    ),
)

DIVERSITY_CONTRIBUTIONS = (
    ContributionPlan(
        "community-organisations",
        None,
        ("lead",),
        ContributionNature.IDEA,
        "Go to the community organisations people already trust, rather than expect "
        "them to find Mind; offer time to talk the project through first.",
        (ImpactArea.DIVERSITY_AND_EQUALITY,),
        date(2021, 8, 10),
        (Reply(ResponseOutcome.ADOPTED, date(2021, 8, 24)),),
        Told(
            date(2021, 8, 25),
            FeedbackMethod.PHONE,
            "We wrote to 14 user-led and community organisations and offered calls.",
        ),
    ),
    ContributionPlan(
        "committee-experience",
        "workshop-1",
        ("advisor-1", "advisor-2"),
        ContributionNature.CONCERN,
        "Adverts ask for experience of committees and boards, which screens out "
        "people from our communities who have never been invited onto one.",
        (ImpactArea.DIVERSITY_AND_EQUALITY, ImpactArea.POLICY_AND_PLANNING),
        date(2021, 9, 14),
        (Reply(ResponseOutcome.ADOPTED, date(2021, 9, 28)),),
        Told(
            date(2021, 10, 5),
            FeedbackMethod.EMAIL,
            "You said the adverts screen people out; we have taken committee "
            "experience out of every advisor role description.",
        ),
    ),
    ContributionPlan(
        "trust-and-security",
        "workshop-1",
        ("advisor-3", "advisor-4"),
        ContributionNature.CONCERN,
        "People do not trust that their stories and data are safe with a large "
        "charity; say plainly who sees what, and why.",
        (ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE, ImpactArea.ETHOS_AND_CULTURE),
        date(2021, 9, 14),
        (
            Reply(
                ResponseOutcome.ADAPTED,
                date(2021, 10, 12),
                "A plain-English privacy note for advisors now; a review of data "
                "sharing is for the information governance team, who have the insight.",
            ),
        ),
        Told(
            date(2021, 10, 12),
            FeedbackMethod.MEETING,
            "We shared the draft privacy note at workshop 2 and changed it there.",
        ),
    ),
    ContributionPlan(
        "statements-not-change",
        "workshop-2",
        ("advisor-1", "advisor-6"),
        ContributionNature.CONCERN,
        "People are cynical about organisations that call themselves anti-racist "
        "without changing how they work; show what changed after each session.",
        (ImpactArea.ETHOS_AND_CULTURE,),
        date(2021, 10, 12),
        (
            Reply(
                ResponseOutcome.DEFERRED,
                date(2021, 10, 19),
                "Taken to the project meeting, which decides what we publish.",
            ),
            Reply(
                ResponseOutcome.ADOPTED,
                date(2021, 11, 2),
                "The project meeting agreed to publish what changed after every "
                "workshop.",
            ),
        ),
        Told(
            date(2021, 11, 23),
            FeedbackMethod.MEETING,
            "Workshop 3 opened with a 'you said, we did' page for workshops 1 and 2.",
        ),
    ),
    ContributionPlan(
        "corporate-narrative",
        "workshop-2",
        ("advisor-2",),
        ContributionNature.RECOMMENDATION,
        "Mind should say publicly what it got wrong on race, not only what it plans "
        "to do next.",
        (ImpactArea.ETHOS_AND_CULTURE,),
        date(2021, 10, 12),
        (
            Reply(
                ResponseOutcome.DECLINED,
                date(2021, 11, 2),
                "Outside our remit: public statements are made by the communications "
                "directorate. We passed the insight on to them in the advisors' words.",
            ),
        ),
        Told(
            date(2021, 11, 9),
            FeedbackMethod.EMAIL,
            "We could not act on this ourselves; here is who we passed it to and why.",
        ),
    ),
    ContributionPlan(
        "recruitment-template",
        "workshop-3",
        ("advisor-1", "advisor-3", "advisor-5"),
        ContributionNature.IDEA,
        "A recruitment template that asks about lived experience and community "
        "connections instead of committee experience.",
        (ImpactArea.POLICY_AND_PLANNING, ImpactArea.DELIVERY),
        date(2021, 11, 23),
        (Reply(ResponseOutcome.ADOPTED, date(2021, 12, 7)),),
        Told(
            date(2022, 1, 10),
            FeedbackMethod.EMAIL,
            "The template you drafted is being built into the recruitment system.",
        ),
    ),
    ContributionPlan(
        "advisor-videos",
        "workshop-3",
        ("advisor-5", "advisor-6"),
        ContributionNature.IDEA,
        "Short videos of current advisors showing what the role is really like.",
        (ImpactArea.DELIVERY, ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE),
        date(2021, 11, 23),
        (
            Reply(
                ResponseOutcome.ADAPTED,
                date(2021, 12, 7),
                "Filmed only with advisors who volunteered, with the right to "
                "withdraw their clip at any time.",
            ),
        ),
        Told(
            date(2022, 3, 15),
            FeedbackMethod.MEETING,
            "The first cut of the videos was shown and changed at workshop 4.",
        ),
    ),
    # Adopted, but nobody went back to tell the advisor: an open feedback loop.
    ContributionPlan(
        "link-staff-recruitment",
        "workshop-3",
        ("advisor-2",),
        ContributionNature.RECOMMENDATION,
        "Link what staff recruitment has learned about racialised applicants with "
        "how lived experience advisors are recruited.",
        (ImpactArea.POLICY_AND_PLANNING, ImpactArea.DIVERSITY_AND_EQUALITY),
        date(2021, 11, 23),
        (Reply(ResponseOutcome.ADOPTED, date(2021, 12, 7)),),
    ),
    ContributionPlan(
        "measure-who-we-involve",
        "project-meeting-1",
        ("lead", "advisor-1"),
        ContributionNature.RECOMMENDATION,
        "Measure who we involve with demographic data, and use it to change what we "
        "do rather than only collect it.",
        (ImpactArea.OUTCOMES_AND_OUTPUTS, ImpactArea.DIVERSITY_AND_EQUALITY),
        date(2021, 11, 2),
        (Reply(ResponseOutcome.ADOPTED, date(2021, 11, 2)),),
        Told(
            date(2022, 2, 28),
            FeedbackMethod.REPORT,
            "The barriers report recommends a demographic framework across Mind.",
        ),
    ),
    ContributionPlan(
        "safer-interviews",
        "workshop-4",
        ("advisor-3", "advisor-4"),
        ContributionNature.IDEA,
        "Guidance for recruiting managers on making interviews feel safe: questions "
        "in advance and a choice of format.",
        (ImpactArea.DELIVERY,),
        date(2022, 3, 15),
        (
            Reply(
                ResponseOutcome.ADAPTED,
                date(2022, 3, 29),
                "Questions in advance for everyone; a choice of format where the role "
                "allows it.",
            ),
        ),
        Told(
            date(2022, 4, 5),
            FeedbackMethod.EMAIL,
            "The guidance for recruiting managers now includes your advice.",
        ),
    ),
    # Still waiting on finance: deferred, and nobody has been told yet.
    ContributionPlan(
        "bank-transfer-only",
        "workshop-4",
        ("advisor-4",),
        ContributionNature.CONCERN,
        "Paying by bank transfer only shuts out people without a bank account.",
        (ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE,),
        date(2022, 3, 15),
        (
            Reply(
                ResponseOutcome.DEFERRED,
                date(2022, 3, 29),
                "The finance team is reviewing how we pay people.",
            ),
        ),
    ),
)

DIVERSITY_CHANGES = (
    ChangePlan(
        "barriers-report",
        "A report on the barriers for Black, Asian and minority ethnic communities in "
        "being involved, with recommendations for teams across Mind",
        ImpactArea.DIVERSITY_AND_EQUALITY,
        ChangeScope.ACTIVITY,
        "Report signed off at the project meeting of 8 February 2022.",
        date(2022, 2, 8),
        (
            "community-organisations",
            "committee-experience",
            "trust-and-security",
            "statements-not-change",
            "link-staff-recruitment",
        ),
    ),
    ChangePlan(
        "recruitment-template",
        "A new lived experience advisor template on the recruitment system",
        ImpactArea.POLICY_AND_PLANNING,
        ChangeScope.END_RESULT,
        "Template live on the recruitment system; drafted by advisors in workshop 3.",
        date(2022, 4, 20),
        ("committee-experience", "recruitment-template"),
    ),
    ChangePlan(
        "applicant-guidance",
        "Guidance for recruiting managers and applicants, and videos showing what it "
        "is like to be a lived experience advisor",
        ImpactArea.DELIVERY,
        ChangeScope.END_RESULT,
        "Guidance and videos published on the website in June 2022.",
        date(2022, 6, 1),
        ("advisor-videos", "safer-interviews"),
    ),
    ChangePlan(
        "demographic-framework",
        "A framework to measure and use demographic information across the "
        "organisation",
        ImpactArea.OUTCOMES_AND_OUTPUTS,
        ChangeScope.BEYOND,
        "Adopted by the leadership team for all services, not only involvement.",
        date(2022, 6, 20),
        ("measure-who-we-involve", "link-staff-recruitment"),
        BeyondKind.SERVICE_DELIVERY,
    ),
    ChangePlan(
        "advisors-growth",
        "Advisors presented the project at other charities' co-production workshops; "
        "two have since taken paid lived experience roles",
        ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE,
        ChangeScope.BEYOND,
        "Advisors' own accounts in the end-of-involvement questionnaires.",
        date(2022, 6, 30),
        ("advisor-videos", "safer-interviews"),
        BeyondKind.GROWTH_OF_PEOPLE_INVOLVED,
    ),
    # The staff's own idea: a difference made, but not by service users or carers.
    ChangePlan(
        "minutes-on-intranet",
        "Project meeting and workshop notes shared on the intranet so that teams can "
        "act on the insights directly",
        ImpactArea.ETHOS_AND_CULTURE,
        ChangeScope.ACTIVITY,
        "Intranet page set up by the involvement manager after project meeting 1.",
        date(2021, 11, 15),
    ),
)

DIVERSITY_TRAVEL = {
    "lead": Decimal("18.40"),
    "advisor-1": Decimal("12.60"),
    "advisor-2": Decimal("7.80"),
    "advisor-4": Decimal("22.50"),
    "advisor-5": Decimal("9.20"),
    "advisor-6": Decimal("15.00"),
}
PAID_AFTER_DAYS = 12
# Most claims were paid within a fortnight; these were not.
LATE_OR_UNPAID: dict[tuple[str, str, PaymentKind], int | None] = {
    ("workshop-2", "advisor-1", PaymentKind.FEE): 38,
    ("workshop-2", "advisor-2", PaymentKind.FEE): 38,
    ("project-meeting-2", "lead", PaymentKind.FEE): 31,
    ("workshop-4", "advisor-5", PaymentKind.TRAVEL): None,
}


def meeting_fee(person: str, meeting: MeetingPlan) -> Decimal:
    """Workshop days pay more than project meetings; the lead also designs the day."""
    if person == "lead":
        return Decimal("150.00") if meeting.high_level else Decimal("250.00")
    return Decimal("50.00") if meeting.high_level else Decimal("75.00")


def diversity_payments() -> tuple[PaymentPlan, ...]:
    """A fee and travel for every service user at every meeting, as they chose."""
    preferences = {p.key: p.preference for p in DIVERSITY_PEOPLE if p.kind is SU}
    plans: list[PaymentPlan] = []
    for meeting in DIVERSITY_MEETINGS:
        owed_on = meeting.held_at.date()
        for person in meeting.attendees:
            if person not in preferences:
                continue
            due: list[tuple[PaymentKind, Decimal]] = []
            if preferences[person] is PaymentPreference.FEES:
                due.append((PaymentKind.FEE, meeting_fee(person, meeting)))
            if person in DIVERSITY_TRAVEL:
                due.append((PaymentKind.TRAVEL, DIVERSITY_TRAVEL[person]))
            for kind, amount in due:
                days = LATE_OR_UNPAID.get((meeting.key, person, kind), PAID_AFTER_DAYS)
                plans.append(
                    PaymentPlan(
                        f"{meeting.key}:{person}:{kind}",
                        person,
                        kind,
                        amount,
                        owed_on,
                        None if days is None else owed_on + timedelta(days=days),
                        f"{kind.capitalize()}: {meeting.title}",
                    )
                )
    return (
        PaymentPlan(
            "brief-and-tender",
            "equality-coordinator",
            PaymentKind.FEE,
            Decimal("480.00"),
            date(2021, 6, 25),
            date(2021, 7, 6),
            "Writing the brief and running the tender for the project lead",
        ),
        PaymentPlan(
            "childcare-workshop-1",
            "advisor-6",
            PaymentKind.CHILDCARE,
            Decimal("30.00"),
            date(2021, 9, 14),
            date(2021, 9, 21),
            "Childcare during workshop 1",
        ),
        *plans,
        # With workshop 3 this brings November to 135.00 of the 150.00 limit.
        PaymentPlan(
            "draft-report-review",
            "advisor-3",
            PaymentKind.FEE,
            Decimal("60.00"),
            date(2021, 11, 30),
            date(2021, 12, 10),
            "Reading and commenting on the draft barriers report",
        ),
        PaymentPlan(
            "barriers-report",
            "lead",
            PaymentKind.FEE,
            Decimal("750.00"),
            date(2022, 1, 31),
            date(2022, 2, 11),
            "Writing the barriers report",
        ),
    )


DIVERSITY_SUPPORT = (
    SupportPlan(
        "supervision-lead",
        SupportKind.SUPERVISION,
        date(2021, 8, 2),
        ("lead",),
        Decimal("10"),
        "Fortnightly supervision for the project lead from the involvement manager",
    ),
    SupportPlan(
        "admin-setup",
        SupportKind.ADMINISTRATIVE_SUPPORT,
        date(2021, 9, 6),
        ADVISORS,
        Decimal("6"),
        "Help setting up as a supplier and claiming fees, travel and childcare",
    ),
    SupportPlan(
        "debrief-workshop-2",
        SupportKind.EMOTIONAL_SUPPORT,
        date(2021, 10, 13),
        ("advisor-1", "advisor-2", "advisor-3", "advisor-4", "advisor-6"),
        Decimal("3"),
        "One-to-one debrief calls after workshop 2, which discussed racism",
    ),
    SupportPlan(
        "peer-space",
        SupportKind.PEER_SUPPORT_OR_MENTORING,
        date(2021, 11, 30),
        ("lead", *ADVISORS),
        Decimal("8"),
        "A monthly peer support space for advisors, run by the project lead",
    ),
    SupportPlan(
        "panel-training",
        SupportKind.TRAINING_FOR_SERVICE_USERS_AND_CARERS,
        date(2022, 1, 18),
        ("advisor-1", "advisor-3", "advisor-5"),
        Decimal("4"),
        "Training to sit on recruitment interview panels",
    ),
    SupportPlan(
        "managers-training",
        SupportKind.TRAINING_FOR_STAFF,
        date(2022, 5, 10),
        ("involvement-manager", "recruitment-partner"),
        Decimal("3"),
        "Anti-racist recruitment practice for recruiting managers, co-delivered by "
        "two advisors",
    ),
)

DIVERSITY_ANSWERS = (
    AnswerPlan(
        "lead",
        "lead",
        RespondentKind.SERVICE_USER,
        END,
        date(2022, 7, 8),
        (5, 5, 4, 4, 3, 5),
        "The test-and-learn approach let the advisors set the direction.",
    ),
    AnswerPlan(
        "advisor-1",
        "advisor-1",
        RespondentKind.SERVICE_USER,
        END,
        date(2022, 7, 8),
        (4, 4, 4, 5, 2, 4),
        "I was listened to, but waited over a month to be paid for workshop 2.",
    ),
    AnswerPlan(
        "advisor-2",
        "advisor-2",
        RespondentKind.SERVICE_USER,
        END,
        date(2022, 7, 11),
        (3, 4, 4, 4, 2, 3),
        "Disappointed Mind would not say publicly what it got wrong, though I "
        "understood why.",
    ),
    AnswerPlan(
        "advisor-3",
        "advisor-3",
        RespondentKind.SERVICE_USER,
        END,
        date(2022, 7, 12),
        (5, 5, 5, 4, 5, 5),
        "Keeping my fees under my benefits limit was handled carefully.",
    ),
    AnswerPlan(
        "advisor-4-in-flight",
        "advisor-4",
        RespondentKind.SERVICE_USER,
        IN_FLIGHT,
        date(2021, 12, 1),
        (4, 4, 3, 3, 4, 4),
    ),
    AnswerPlan(
        "advisor-5",
        "advisor-5",
        RespondentKind.SERVICE_USER,
        END,
        date(2022, 7, 14),
        (4, 5, 4, 3, 3, 5),
        "Seeing the videos go live made it feel real.",
    ),
    AnswerPlan(
        "advisor-6",
        "advisor-6",
        RespondentKind.SERVICE_USER,
        END,
        date(2022, 7, 20),
        (4, 4, 5, 4, 4, 4),
    ),
    # Staff are not paid for involvement, so they skip the payment question.
    AnswerPlan(
        "involvement-manager",
        "involvement-manager",
        RespondentKind.STAFF,
        END,
        date(2022, 7, 15),
        (4, 5, 4, 4, None, 5),
        "Hearing the first two workshops' insights changed how I recruit.",
    ),
    AnswerPlan(
        "recruitment-partner",
        "recruitment-partner",
        RespondentKind.STAFF,
        END,
        date(2022, 7, 15),
        (4, 4, 3, 3, None, 4),
    ),
)


def diversity_initiative() -> InitiativePlan:
    return InitiativePlan(
        key="diversity",
        name="Diversifying who we involve",
        level=InvolvementLevel.STRATEGIC,
        kind=InvolvementKind.CO_PRODUCTION,
        methods=(
            InvolvementMethod.WORKSHOP,
            InvolvementMethod.ADVISORY_GROUP,
            InvolvementMethod.LEADING_A_PROJECT,
            InvolvementMethod.INTERVIEW,
        ),
        purpose=(
            "Find out, with people from Black, Asian and minority ethnic (racialised) "
            "communities, why so few of them are involved in our lived experience "
            "work, and co-produce the solutions. We have not got this right and we "
            "want to listen, learn and change."
        ),
        limits_of_influence=(
            "Advisors direct the workshops and the products; the project meeting acts "
            "within the involvement team's remit and budget. Public statements, pay "
            "rates and payment systems belong to other directorates: insights about "
            "them are passed on, with an answer back after the session."
        ),
        started_on=A_START,
        people=DIVERSITY_PEOPLE,
        roles=DIVERSITY_ROLES,
        outcomes=DIVERSITY_OUTCOMES,
        meetings=DIVERSITY_MEETINGS,
        contributions=DIVERSITY_CONTRIBUTIONS,
        changes=DIVERSITY_CHANGES,
        payments=diversity_payments(),
        support=DIVERSITY_SUPPORT,
        answers=DIVERSITY_ANSWERS,
        reference_population=(
            "Adults in England and Wales from Black, Asian, mixed and other ethnic "
            "groups (Census 2021, rounded)",
            RACIALISED_ADULTS,
        ),
    )


# Initiative B: a strategic programme, run in Act-Evaluate-Reflect-Learn cycles

B_START = date(2021, 3, 1)
CARER_FOCUS_GROUPS = "Run carer-only focus groups at times that suit caring"
PAPER_AND_PHONE = "Offer the survey on paper and by phone"
ADVISORY_GROUP_EARLY = "Bring the advisory group in before priorities are drafted"
REPORT_BACK = "Report back to everyone who took part on what changed in the strategy"
CO_DESIGN_MEASURES = (
    "Co-design the strategy's progress measures with the advisory group"
)

STRATEGY_PEOPLE = (
    Person(
        "strategy-advisor-1",
        "Strategy advisor 1",
        SU,
        {
            "age_band": AgeBand.AGE_25_34,
            "gender": Gender.WOMAN,
            "ethnic_group": EthnicGroup.MIXED_WHITE_AND_ASIAN,
            "disability": Disability.DISABLED,
        },
        PaymentPreference.FEES,
    ),
    Person(
        "strategy-advisor-2",
        "Strategy advisor 2",
        SU,
        {
            "age_band": AgeBand.AGE_18_24,
            "gender": Gender.MAN,
            "ethnic_group": EthnicGroup.WHITE_BRITISH,
            "education_level": EducationLevel.LEVEL_3,
        },
        PaymentPreference.REDUCED_FEE,
    ),
    Person(
        "carer-1",
        "Carer 1",
        CARER,
        {
            "age_band": AgeBand.AGE_55_64,
            "gender": Gender.WOMAN,
            "ethnic_group": EthnicGroup.WHITE_BRITISH,
            "disability": Disability.NOT_DISABLED,
        },
        PaymentPreference.VOUCHERS,
    ),
    # Carer's Allowance has a weekly earnings limit.
    Person(
        "carer-2",
        "Carer 2",
        CARER,
        {
            "age_band": AgeBand.AGE_45_54,
            "gender": Gender.MAN,
            "ethnic_group": EthnicGroup.BLACK_CARIBBEAN,
        },
        PaymentPreference.FEES,
        Decimal("128.00"),
        EarningsPeriod.WEEK,
    ),
    Person(
        "carer-3",
        "Carer 3",
        CARER,
        {
            "age_band": AgeBand.AGE_65_PLUS,
            "gender": Gender.PREFER_NOT_TO_SAY,
            "ethnic_group": EthnicGroup.PREFER_NOT_TO_SAY,
        },
        PaymentPreference.NO_PAYMENT,
    ),
    Person("strategy-lead", "Strategy lead", STAFF),
    Person("trustee", "Trustee", ParticipantKind.TRUSTEE_OR_BOARD_MEMBER),
)

STRATEGY_ROLES = (
    RolePlan(
        "strategy-advisor-1",
        InvolvementRole.EXPERT_BY_EXPERIENCE,
        True,
        True,
        date(2021, 3, 15),
    ),
    RolePlan(
        "strategy-advisor-2", InvolvementRole.ADVISOR, True, True, date(2021, 3, 15)
    ),
    RolePlan("carer-1", InvolvementRole.ADVISOR, True, True, date(2021, 10, 4)),
    RolePlan(
        "carer-2", InvolvementRole.CRITICAL_FRIEND, True, False, date(2021, 10, 4)
    ),
    RolePlan(
        "carer-3",
        InvolvementRole.CRITICAL_FRIEND,
        False,
        False,
        date(2021, 10, 4),
        date(2022, 5, 31),
    ),
)

STRATEGY_OUTCOMES = (
    OutcomePlan(
        "priorities",
        "The strategy's priorities reflect what service users and carers told us",
        (ImpactArea.POLICY_AND_PLANNING,),
        (
            Assessment(
                date(2022, 6, 30),
                OutcomeAssessment.ACHIEVED,
                InvolvementDifference.SIGNIFICANT,
                "Three of the five priorities were reworded or added after the focus "
                "groups and the advisory group.",
            ),
        ),
    ),
    OutcomePlan(
        "carers-heard",
        "Carers' voices heard as clearly as service users'",
        (
            ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE,
            ImpactArea.DIVERSITY_AND_EQUALITY,
        ),
        (
            Assessment(
                date(2022, 6, 30),
                OutcomeAssessment.PARTLY_ACHIEVED,
                InvolvementDifference.SOME,
                "Carers rose from 6% to 14% of survey responses; the evening focus "
                "groups were full, but carers are still under-represented.",
            ),
        ),
    ),
    OutcomePlan(
        "progress-measured",
        "Progress on the strategy measured together with people with lived experience",
        (ImpactArea.OUTCOMES_AND_OUTPUTS,),
        (
            Assessment(
                date(2023, 2, 7),
                OutcomeAssessment.TOO_EARLY_TO_TELL,
                InvolvementDifference.UNKNOWN,
            ),
        ),
    ),
)

STRATEGY_CYCLES = (
    CyclePlan(
        date(2021, 4, 6),
        (ImpactArea.POLICY_AND_PLANNING, ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE),
        findings=(
            date(2021, 7, 15),
            "1,240 survey responses, but only 6% from carers and few from people "
            "under 25; focus groups said the draft priorities read as written for "
            "professionals.",
        ),
        reflections=(
            date(2021, 8, 10),
            "We asked too late and only online: the advisory group saw the priorities "
            "once they were already drafted, and carers could not come in the day.",
        ),
        lessons=(
            date(2021, 9, 7),
            "Who we hear from depends on when and how we ask.",
            (CARER_FOCUS_GROUPS, PAPER_AND_PHONE, ADVISORY_GROUP_EARLY),
        ),
    ),
    CyclePlan(
        date(2021, 10, 4),
        (ImpactArea.POLICY_AND_PLANNING, ImpactArea.DIVERSITY_AND_EQUALITY),
        actions_taken_up=(CARER_FOCUS_GROUPS, ADVISORY_GROUP_EARLY),
        findings=(
            date(2022, 3, 10),
            "Carers' share of responses more than doubled; the advisory group "
            "reworded two priorities and added one on anti-racism.",
        ),
        reflections=(
            date(2022, 4, 5),
            "Early involvement changed the priorities themselves, not just the "
            "wording; people asked what would happen to what they said.",
        ),
        lessons=(
            date(2022, 5, 10),
            "Involvement has to continue into how the strategy is measured.",
            (REPORT_BACK, CO_DESIGN_MEASURES),
        ),
    ),
    CyclePlan(
        date(2023, 1, 9),
        (ImpactArea.OUTCOMES_AND_OUTPUTS,),
        actions_taken_up=(CO_DESIGN_MEASURES,),
    ),
)

STRATEGY_MEETINGS = (
    MeetingPlan(
        "carers-focus-group",
        "Carers' focus group on the draft priorities",
        at(2021, 11, 16, 18, 30),
        high_level=False,
        decision_making=False,
        papers_days_before=7,
        attendees=("carer-1", "carer-2", "carer-3"),
        adjustments=("Held in the evening, with replacement care paid for",),
    ),
    MeetingPlan(
        "advisory-group-priorities",
        "Strategy advisory group: agreeing the priorities",
        at(2022, 1, 25, 14),
        high_level=True,
        decision_making=True,
        papers_days_before=14,
        attendees=(
            "strategy-advisor-1",
            "strategy-advisor-2",
            "carer-1",
            "strategy-lead",
            "trustee",
        ),
        adjustments=("Papers in plain English, with a glossary",),
        reserve="carer-2",
    ),
    MeetingPlan(
        "advisory-group-measures",
        "Strategy advisory group: progress measures",
        at(2023, 1, 24, 14),
        high_level=True,
        decision_making=True,
        papers_days_before=3,
        attendees=("strategy-advisor-1", "carer-2", "strategy-lead"),
        reserve="strategy-advisor-2",
    ),
)

STRATEGY_CONTRIBUTIONS = (
    ContributionPlan(
        "under-25-panel",
        None,
        ("strategy-advisor-2",),
        ContributionNature.IDEA,
        "Add a panel of under-25s to the strategy's governance.",
        (ImpactArea.DIVERSITY_AND_EQUALITY,),
        date(2021, 6, 20),
        (
            Reply(
                ResponseOutcome.DEFERRED,
                date(2021, 7, 20),
                "To be decided with the advisory group once the priorities are agreed.",
            ),
        ),
        Told(
            date(2021, 7, 27),
            FeedbackMethod.EMAIL,
            "We will come back to this with the advisory group.",
        ),
    ),
    ContributionPlan(
        "name-carers",
        "carers-focus-group",
        ("carer-1", "carer-2"),
        ContributionNature.CONCERN,
        "Carers are left out at discharge; the strategy should name carers as "
        "partners, not fold them into 'families'.",
        (ImpactArea.POLICY_AND_PLANNING, ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE),
        date(2021, 11, 16),
        (Reply(ResponseOutcome.ADOPTED, date(2021, 12, 14)),),
        Told(
            date(2022, 1, 20),
            FeedbackMethod.NEWSLETTER,
            "You said carers were invisible; the draft strategy now names them.",
        ),
    ),
    ContributionPlan(
        "carers-line",
        "carers-focus-group",
        ("carer-3",),
        ContributionNature.IDEA,
        "A carers' line in local Minds' out-of-hours support.",
        (ImpactArea.DELIVERY,),
        date(2021, 11, 16),
        (
            Reply(
                ResponseOutcome.DECLINED,
                date(2021, 12, 14),
                "Outside our remit: local Minds are independent charities that set "
                "their own services. We shared the idea with their carers' leads.",
            ),
        ),
        Told(
            date(2021, 12, 20),
            FeedbackMethod.LETTER,
            "Why we could not take this on, and who we passed it to.",
        ),
    ),
    ContributionPlan(
        "measurable-anti-racism",
        "advisory-group-priorities",
        ("strategy-advisor-1", "strategy-advisor-2"),
        ContributionNature.RECOMMENDATION,
        "Make becoming anti-racist a measurable priority, overseen by people with "
        "lived experience.",
        (ImpactArea.ETHOS_AND_CULTURE, ImpactArea.DIVERSITY_AND_EQUALITY),
        date(2022, 1, 25),
        (
            Reply(
                ResponseOutcome.ADAPTED,
                date(2022, 2, 22),
                "Adopted as a priority; its measures will be co-designed in the next "
                "cycle rather than fixed now.",
            ),
        ),
        Told(
            date(2022, 3, 1),
            FeedbackMethod.EMAIL,
            "Anti-racism is now a strategic priority; measures to follow with you.",
        ),
    ),
    ContributionPlan(
        "plain-english-progress",
        "advisory-group-measures",
        ("strategy-advisor-1", "carer-2"),
        ContributionNature.RECOMMENDATION,
        "Report progress against each priority in plain English every year.",
        (ImpactArea.OUTCOMES_AND_OUTPUTS,),
        date(2023, 1, 24),
        (Reply(ResponseOutcome.ADOPTED, date(2023, 2, 7)),),
    ),
)

STRATEGY_CHANGES = (
    ChangePlan(
        "strategy-names-carers",
        "The five-year strategy names carers as partners, including at discharge",
        ImpactArea.POLICY_AND_PLANNING,
        ChangeScope.END_RESULT,
        "Published strategy, priority 3.",
        date(2022, 5, 26),
        ("name-carers",),
    ),
    ChangePlan(
        "anti-racism-priority",
        "Becoming anti-racist is a strategic priority with lived experience oversight",
        ImpactArea.DIVERSITY_AND_EQUALITY,
        ChangeScope.END_RESULT,
        "Published strategy, priority 5, and the oversight group's terms of reference.",
        date(2022, 5, 26),
        ("measurable-anti-racism",),
    ),
    ChangePlan(
        "carers-evidence-pack",
        "Carers' accounts from the focus groups are used in local Minds' staff "
        "induction",
        ImpactArea.SERVICE_USER_AND_CARER_EXPERIENCE,
        ChangeScope.BEYOND,
        "Induction pack used by 12 local Minds by September 2022.",
        date(2022, 9, 12),
        ("name-carers",),
        BeyondKind.UNDERSTANDING_OF_MENTAL_HEALTH,
    ),
    ChangePlan(
        "progress-report",
        "A plain-English annual progress report, drafted with the advisory group",
        ImpactArea.OUTCOMES_AND_OUTPUTS,
        ChangeScope.ACTIVITY,
        "First draft circulated to the advisory group in March 2023.",
        date(2023, 3, 1),
        ("plain-english-progress",),
    ),
)

STRATEGY_PAYMENTS = (
    PaymentPlan(
        "carer-1:focus-group",
        "carer-1",
        PaymentKind.FEE,
        Decimal("40.00"),
        date(2021, 11, 16),
        date(2021, 11, 16),
        "Shopping vouchers for the carers' focus group",
    ),
    PaymentPlan(
        "carer-2:focus-group",
        "carer-2",
        PaymentKind.FEE,
        Decimal("60.00"),
        date(2021, 11, 16),
        date(2021, 11, 26),
        "Fee for the carers' focus group",
    ),
    PaymentPlan(
        "carer-2:replacement-care",
        "carer-2",
        PaymentKind.CARER_COST,
        Decimal("45.00"),
        date(2021, 11, 16),
        date(2021, 11, 26),
        "Replacement care during the carers' focus group",
    ),
    PaymentPlan(
        "strategy-advisor-1:priorities",
        "strategy-advisor-1",
        PaymentKind.FEE,
        Decimal("75.00"),
        date(2022, 1, 25),
        date(2022, 2, 3),
        "Fee for the advisory group on the priorities",
    ),
    PaymentPlan(
        "strategy-advisor-1:priorities:travel",
        "strategy-advisor-1",
        PaymentKind.TRAVEL,
        Decimal("11.30"),
        date(2022, 1, 25),
        date(2022, 2, 3),
        "Travel to the advisory group on the priorities",
    ),
    PaymentPlan(
        "strategy-advisor-2:priorities",
        "strategy-advisor-2",
        PaymentKind.FEE,
        Decimal("40.00"),
        date(2022, 1, 25),
        date(2022, 2, 3),
        "Reduced fee for the advisory group on the priorities",
    ),
    PaymentPlan(
        "carer-1:priorities",
        "carer-1",
        PaymentKind.FEE,
        Decimal("75.00"),
        date(2022, 1, 25),
        date(2022, 2, 3),
        "Shopping vouchers for the advisory group on the priorities",
    ),
    PaymentPlan(
        "strategy-advisor-1:measures",
        "strategy-advisor-1",
        PaymentKind.FEE,
        Decimal("75.00"),
        date(2023, 1, 24),
        date(2023, 2, 2),
        "Fee for the advisory group on progress measures",
    ),
    PaymentPlan(
        "carer-2:measures",
        "carer-2",
        PaymentKind.FEE,
        Decimal("75.00"),
        date(2023, 1, 24),
        date(2023, 2, 28),
        "Fee for the advisory group on progress measures",
    ),
)

STRATEGY_SUPPORT = (
    SupportPlan(
        "induction",
        SupportKind.TRAINING_FOR_SERVICE_USERS_AND_CARERS,
        date(2021, 3, 22),
        ("strategy-advisor-1", "strategy-advisor-2"),
        Decimal("2.5"),
        "Induction: how Mind's strategy is made and where decisions are taken",
    ),
    SupportPlan(
        "carers-admin",
        SupportKind.ADMINISTRATIVE_SUPPORT,
        date(2021, 11, 9),
        ("carer-1", "carer-2"),
        Decimal("1.5"),
        "Arranging vouchers and booking replacement care",
    ),
)

STRATEGY_ANSWERS = (
    AnswerPlan(
        "carer-3-in-flight",
        "carer-3",
        RespondentKind.CARER,
        IN_FLIGHT,
        date(2021, 12, 1),
        (3, 3, 4, 4, None, 3),
        "Not sure yet whether my idea will go anywhere.",
    ),
    AnswerPlan(
        "carer-1",
        "carer-1",
        RespondentKind.CARER,
        END,
        date(2022, 6, 15),
        (5, 4, 4, 3, 5, 5),
        "Evening sessions made it possible for me to take part at all.",
    ),
    AnswerPlan(
        "carer-2",
        "carer-2",
        RespondentKind.CARER,
        END,
        date(2022, 6, 15),
        (4, 4, 3, 4, 4, 4),
        "Being paid as a carer felt like recognition.",
    ),
    AnswerPlan(
        "strategy-advisor-1",
        "strategy-advisor-1",
        RespondentKind.SERVICE_USER,
        END,
        date(2022, 6, 20),
        (5, 5, 4, 4, 4, 5),
    ),
    AnswerPlan(
        "strategy-lead",
        "strategy-lead",
        RespondentKind.STAFF,
        END,
        date(2022, 6, 30),
        (4, 4, 3, 4, None, 5),
    ),
)


def strategy_initiative() -> InitiativePlan:
    return InitiativePlan(
        key="strategy",
        name="Service user and carer voice in our five-year strategy",
        level=InvolvementLevel.STRATEGIC,
        kind=InvolvementKind.INFLUENCE,
        methods=(
            InvolvementMethod.SURVEY,
            InvolvementMethod.FOCUS_GROUP,
            InvolvementMethod.ADVISORY_GROUP,
        ),
        purpose=(
            "Make sure the priorities of Mind's next five-year strategy, and how "
            "progress on them is measured, are shaped by service users and carers."
        ),
        limits_of_influence=(
            "The board of trustees approves the strategy and the budget envelope is "
            "fixed; the advisory group agrees the priorities' wording and measures, "
            "and every suggestion gets an answer."
        ),
        started_on=B_START,
        people=STRATEGY_PEOPLE,
        roles=STRATEGY_ROLES,
        outcomes=STRATEGY_OUTCOMES,
        meetings=STRATEGY_MEETINGS,
        contributions=STRATEGY_CONTRIBUTIONS,
        changes=STRATEGY_CHANGES,
        payments=STRATEGY_PAYMENTS,
        support=STRATEGY_SUPPORT,
        answers=STRATEGY_ANSWERS,
        cycles=STRATEGY_CYCLES,
    )


# Recording a plan through the use cases


def register_participants(
    records: InvolvementRecords, organisation_id: UUID, people: tuple[Person, ...]
) -> dict[str, UUID]:
    """Each person with what they chose to declare and how they want to be paid."""
    ids: dict[str, UUID] = {}
    for person in people:
        step = ("participant", person.key)
        participant_id = records.register_participant(
            organisation_id=organisation_id,
            pseudonym=person.pseudonym,
            participant_kind=person.kind,
            actor=ACTOR,
            idempotency_key=key(*step),
        )
        ids[person.key] = participant_id
        if person.monitoring is not None:
            records.declare_monitoring_data(
                organisation_id=organisation_id,
                participant_id=participant_id,
                monitoring=dict(person.monitoring),
                actor=ACTOR,
                idempotency_key=key(*step, "monitoring"),
            )
        if person.preference is not None:
            records.set_payment_preference(
                organisation_id=organisation_id,
                participant_id=participant_id,
                payment_preference=person.preference,
                earnings_limit=person.earnings_limit,
                earnings_period=person.earnings_period,
                actor=ACTOR,
                idempotency_key=key(*step, "payment-preference"),
            )
    return ids


def record_initiative(
    records: InvolvementRecords, organisation_id: UUID, plan: InitiativePlan
) -> tuple[InitiativeSummary, UUID | None]:
    """Launches the initiative and records everything in its plan, in story order."""
    org = organisation_id
    initiative_id = records.launch_initiative(
        organisation_id=org,
        name=plan.name,
        level=plan.level,
        involvement_kind=plan.kind,
        methods=plan.methods,
        purpose=plan.purpose,
        limits_of_influence=plan.limits_of_influence,
        started_on=plan.started_on,
        actor=ACTOR,
        idempotency_key=key(plan.key, "launch"),
    )
    people = register_participants(records, org, plan.people)
    population_id = None
    if plan.reference_population is not None:
        description, shares = plan.reference_population
        population_id = records.define_reference_population(
            organisation_id=org,
            initiative_id=initiative_id,
            description=description,
            shares=shares,
            actor=ACTOR,
            idempotency_key=key(plan.key, "reference-population"),
        )
    outcome_ids = record_outcomes(records, org, initiative_id, plan)
    role_ids = record_roles(records, org, initiative_id, plan, people)
    cycle_numbers = record_cycles(records, org, initiative_id, plan)
    meeting_ids = record_meetings(records, org, initiative_id, plan, people)
    contribution_ids = record_contributions(
        records, org, initiative_id, plan, people, meeting_ids
    )
    change_ids = record_changes(records, org, initiative_id, plan, contribution_ids)
    payment_ids = record_payments(records, org, initiative_id, plan, people)
    support_ids = record_support(records, org, initiative_id, plan, people)
    answer_ids = record_answers(records, org, initiative_id, plan, people)
    # Roles end and outcomes are assessed once the work is done, as in the story.
    end_roles(records, org, initiative_id, plan, role_ids)
    assess_outcomes(records, org, initiative_id, plan, outcome_ids)
    summary = InitiativeSummary(
        name=plan.name,
        initiative_id=initiative_id,
        participant_ids=tuple(people.values()),
        role_ids=tuple(role_ids),
        outcome_ids=tuple(outcome_ids.values()),
        meeting_ids=tuple(meeting_ids.values()),
        contribution_ids=tuple(contribution_ids.values()),
        change_ids=tuple(change_ids),
        payment_ids=tuple(payment_ids),
        support_ids=tuple(support_ids),
        answer_ids=tuple(answer_ids),
        cycle_numbers=cycle_numbers,
    )
    return summary, population_id


def record_outcomes(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
) -> dict[str, UUID]:
    return {
        outcome.key: records.record_intended_outcome(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            description=outcome.description,
            impact_areas=outcome.impact_areas,
            actor=ACTOR,
            idempotency_key=key(plan.key, "outcome", outcome.key),
        )
        for outcome in plan.outcomes
    }


def assess_outcomes(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
    outcome_ids: dict[str, UUID],
) -> None:
    for outcome in plan.outcomes:
        for assessment in outcome.assessments:
            records.assess_intended_outcome(
                organisation_id=organisation_id,
                initiative_id=initiative_id,
                outcome_id=outcome_ids[outcome.key],
                assessment=assessment.assessment,
                involvement_difference=assessment.difference,
                evidence=assessment.evidence,
                assessed_on=assessment.assessed_on,
                actor=ACTOR,
                idempotency_key=key(
                    plan.key, "outcome", outcome.key, str(assessment.assessed_on)
                ),
            )


def record_roles(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
    people: dict[str, UUID],
) -> list[UUID]:
    return [
        records.assign_role(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            participant_id=people[role.person],
            role=role.role,
            paid=role.paid,
            decision_making=role.decision_making,
            started_on=role.started_on,
            actor=ACTOR,
            idempotency_key=key(plan.key, "role", role.person, role.role),
        )
        for role in plan.roles
    ]


def end_roles(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
    role_ids: list[UUID],
) -> None:
    for role, role_id in zip(plan.roles, role_ids, strict=True):
        if role.ended_on is not None:
            records.end_role(
                organisation_id=organisation_id,
                initiative_id=initiative_id,
                role_id=role_id,
                ended_on=role.ended_on,
                actor=ACTOR,
                idempotency_key=key(plan.key, "role", role.person, role.role, "end"),
            )


def record_changes(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
    contribution_ids: dict[str, UUID],
) -> list[UUID]:
    return [
        records.record_change(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            description=change.description,
            impact_area=change.impact_area,
            scope=change.scope,
            evidence=change.evidence,
            changed_on=change.changed_on,
            contribution_ids=[contribution_ids[c] for c in change.contributions],
            beyond_kind=change.beyond_kind,
            actor=ACTOR,
            idempotency_key=key(plan.key, "change", change.key),
        )
        for change in plan.changes
    ]


def record_support(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
    people: dict[str, UUID],
) -> list[UUID]:
    return [
        records.record_support(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            support_kind=support.kind,
            given_on=support.given_on,
            participant_ids=[people[p] for p in support.people],
            hours=support.hours,
            description=support.description,
            actor=ACTOR,
            idempotency_key=key(plan.key, "support", support.key),
        )
        for support in plan.support
    ]


def record_answers(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
    people: dict[str, UUID],
) -> list[UUID]:
    return [
        records.record_process_experience(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            participant_id=people[answer.person],
            respondent_kind=answer.respondent_kind,
            stage=answer.stage,
            scores={
                dimension: score
                for dimension, score in zip(
                    ProcessDimension, answer.scores, strict=True
                )
                if score is not None
            },
            answered_on=answer.answered_on,
            free_text=answer.free_text,
            actor=ACTOR,
            idempotency_key=key(plan.key, "answer", answer.key),
        )
        for answer in plan.answers
    ]


def record_cycles(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
) -> tuple[int, ...]:
    """Each cycle through as many of Act, Evaluate, Reflect and Learn as it reached."""
    numbers: list[int] = []
    for index, cycle in enumerate(plan.cycles, start=1):
        step = ("cycle", str(index))
        number = records.start_cycle(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            focus_areas=cycle.focus_areas,
            started_on=cycle.started_on,
            actions_taken_up=cycle.actions_taken_up,
            actor=ACTOR,
            idempotency_key=key(plan.key, *step, "act"),
        )
        numbers.append(number)
        if cycle.findings is not None:
            on, findings = cycle.findings
            records.evaluate_cycle(
                organisation_id=organisation_id,
                initiative_id=initiative_id,
                number=number,
                findings=findings,
                entered_on=on,
                actor=ACTOR,
                idempotency_key=key(plan.key, *step, "evaluate"),
            )
        if cycle.reflections is not None:
            on, reflections = cycle.reflections
            records.reflect_on_cycle(
                organisation_id=organisation_id,
                initiative_id=initiative_id,
                number=number,
                reflections=reflections,
                entered_on=on,
                actor=ACTOR,
                idempotency_key=key(plan.key, *step, "reflect"),
            )
        if cycle.lessons is not None:
            on, lessons, planned_actions = cycle.lessons
            records.learn_from_cycle(
                organisation_id=organisation_id,
                initiative_id=initiative_id,
                number=number,
                lessons=lessons,
                planned_actions=planned_actions,
                entered_on=on,
                actor=ACTOR,
                idempotency_key=key(plan.key, *step, "learn"),
            )
    return tuple(numbers)


def record_meetings(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
    people: dict[str, UUID],
) -> dict[str, UUID]:
    ids: dict[str, UUID] = {}
    for meeting in plan.meetings:
        step = (plan.key, "meeting", meeting.key)
        meeting_id = records.schedule_meeting(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            title=meeting.title,
            held_at=meeting.held_at,
            high_level=meeting.high_level,
            decision_making=meeting.decision_making,
            actor=ACTOR,
            idempotency_key=key(*step),
        )
        ids[meeting.key] = meeting_id
        records.send_meeting_papers(
            organisation_id=organisation_id,
            meeting_id=meeting_id,
            sent_at=meeting.held_at - timedelta(days=meeting.papers_days_before),
            actor=ACTOR,
            idempotency_key=key(*step, "papers"),
        )
        if meeting.reserve is not None:
            records.name_meeting_reserve(
                organisation_id=organisation_id,
                meeting_id=meeting_id,
                participant_id=people[meeting.reserve],
                actor=ACTOR,
                idempotency_key=key(*step, "reserve"),
            )
        for number, adjustment in enumerate(meeting.adjustments, start=1):
            records.make_reasonable_adjustment(
                organisation_id=organisation_id,
                meeting_id=meeting_id,
                description=adjustment,
                actor=ACTOR,
                idempotency_key=key(*step, "adjustment", str(number)),
            )
        records.record_attendance(
            organisation_id=organisation_id,
            meeting_id=meeting_id,
            participant_ids=[people[p] for p in meeting.attendees],
            actor=ACTOR,
            idempotency_key=key(*step, "attendance"),
        )
    return ids


def record_contributions(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
    people: dict[str, UUID],
    meetings: dict[str, UUID],
) -> dict[str, UUID]:
    """Each contribution with every response to it and, where given, the feedback."""
    ids: dict[str, UUID] = {}
    for contribution in plan.contributions:
        step = (plan.key, "contribution", contribution.key)
        contribution_id = records.log_contribution(
            organisation_id=organisation_id,
            initiative_id=initiative_id,
            contributor_ids=[people[p] for p in contribution.contributors],
            nature=contribution.nature,
            summary=contribution.summary,
            impact_areas=contribution.impact_areas,
            made_on=contribution.made_on,
            meeting_id=None
            if contribution.meeting is None
            else meetings[contribution.meeting],
            actor=ACTOR,
            idempotency_key=key(*step),
        )
        ids[contribution.key] = contribution_id
        for number, reply in enumerate(contribution.replies, start=1):
            records.respond_to_contribution(
                organisation_id=organisation_id,
                contribution_id=contribution_id,
                outcome=reply.outcome,
                rationale=reply.rationale,
                responded_on=reply.responded_on,
                actor=ACTOR,
                idempotency_key=key(*step, "response", str(number)),
            )
        if contribution.told is not None:
            records.give_feedback(
                organisation_id=organisation_id,
                contribution_id=contribution_id,
                given_on=contribution.told.given_on,
                method=contribution.told.method,
                summary=contribution.told.summary,
                actor=ACTOR,
                idempotency_key=key(*step, "feedback"),
            )
    return ids


def record_payments(
    records: InvolvementRecords,
    organisation_id: UUID,
    initiative_id: UUID,
    plan: InitiativePlan,
    people: dict[str, UUID],
) -> list[UUID]:
    ids: list[UUID] = []
    for payment in plan.payments:
        step = (plan.key, "payment", payment.key)
        payment_id = records.record_payment_owed(
            organisation_id=organisation_id,
            participant_id=people[payment.person],
            payment_kind=payment.kind,
            amount=payment.amount,
            owed_on=payment.owed_on,
            initiative_id=initiative_id,
            description=payment.description,
            actor=ACTOR,
            idempotency_key=key(*step, "owed"),
        )
        ids.append(payment_id)
        if payment.paid_on is not None:
            records.record_payment_made(
                organisation_id=organisation_id,
                payment_id=payment_id,
                paid_on=payment.paid_on,
                actor=ACTOR,
                idempotency_key=key(*step, "paid"),
            )
    return ids


def create_demo(records: InvolvementRecords) -> DemoSummary:
    """Creates the demo organisation, or finds it again: every step carries a fixed
    idempotency key, so a second run returns the same ids and records nothing."""
    organisation_id, policy_id, population_id = create_organisation(records)
    population_ids = [population_id]
    initiatives: list[InitiativeSummary] = []
    for plan in (diversity_initiative(), strategy_initiative()):
        summary, initiative_population_id = record_initiative(
            records, organisation_id, plan
        )
        initiatives.append(summary)
        if initiative_population_id is not None:
            population_ids.append(initiative_population_id)
    return DemoSummary(
        organisation_name=ORGANISATION_NAME,
        organisation_id=organisation_id,
        policy_id=policy_id,
        reference_population_ids=tuple(population_ids),
        initiatives=tuple(initiatives),
    )
