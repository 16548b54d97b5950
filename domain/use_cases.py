"""One typed description of each manager use case (its fields, types, plain-English labels and hints, vocabularies and references), from which every face (workbook sheets, API inputs, web forms) is drawn."""

from dataclasses import dataclass
from enum import Enum, StrEnum

from fourpi.domain.policy import DEFAULT_REVIEW_INTERVAL_MONTHS
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


class FieldKind(Enum):
    """What a field holds, which decides how a face asks for it and reads it."""

    TEXT = "text"
    LONG_TEXT = "long text"
    TEXT_LINES = "text, one item a line"
    DATE = "date"
    MOMENT = "date and time"
    YES_NO = "yes or no"
    WHOLE_NUMBER = "whole number"
    AMOUNT = "amount"
    DECIMAL = "number"
    SCORE = "score from 1 to 5"
    CHOICE = "one choice"
    CHOICES = "one or more choices"
    REFERENCE = "a record"
    REFERENCES = "records"
    SHARES = "shares of a population"


class RecordKind(StrEnum):
    """The kinds of record a use case makes and another use case may refer to."""

    INITIATIVE = "initiative"
    INTENDED_OUTCOME = "intended outcome"
    ROLE = "role"
    CYCLE = "cycle"
    PARTICIPANT = "participant"
    MEETING = "meeting"
    CONTRIBUTION = "contribution"
    CHANGE = "change"
    PROCESS_EXPERIENCE_ANSWER = "process-experience answer"
    PAYMENT = "payment"
    SUPPORT = "support"
    REFERENCE_POPULATION = "reference population"
    INVOLVEMENT_POLICY = "involvement policy"


CHOICE_KINDS = (FieldKind.CHOICE, FieldKind.CHOICES)
REFERENCE_KINDS = (FieldKind.REFERENCE, FieldKind.REFERENCES)


@dataclass(frozen=True)
class Field:
    """One input of a use case.

    `name` is the use case's keyword argument; a dotted name (monitoring.gender)
    is one entry of a mapping argument. A reference's `refers_to` names the kind of
    record it names; `implied_by` marks a field a face never asks for, because the
    record named by that other field carries it (an outcome's initiative)."""

    name: str
    label: str
    hint: str
    kind: FieldKind
    required: bool = True
    vocabulary: type[StrEnum] | None = None
    refers_to: RecordKind | None = None
    implied_by: str | None = None
    personal: bool = False
    default: str | int | None = None

    def __post_init__(self) -> None:
        if (self.kind in CHOICE_KINDS) != (self.vocabulary is not None):
            raise ValueError(
                f"{self.name}: a choice, and only a choice, names a vocabulary"
            )
        if (self.kind in REFERENCE_KINDS) != (self.refers_to is not None):
            raise ValueError(
                f"{self.name}: a reference, and only a reference, names a kind of record"
            )

    @property
    def argument(self) -> str:
        """The keyword argument this field fills (monitoring for monitoring.gender)."""
        return self.name.split(".", 1)[0]


@dataclass(frozen=True)
class UseCase:
    """A use case of InvolvementRecords (`name` is its method) as a manager sees it."""

    name: str
    label: str
    hint: str
    fields: tuple[Field, ...]
    makes: RecordKind | None = None
    """The kind of record whose id (or cycle number) the use case returns."""

    def field(self, name: str) -> Field:
        for field in self.fields:
            if field.name == name:
                return field
        raise KeyError(f"{self.name} has no field {name}")


# Plain-English labels of vocabulary values, where the value's code does not read well
# once its underscores are spaces.
LABELS: dict[StrEnum, str] = {
    ImpactArea.DIVERSITY_AND_EQUALITY: "Diversity and equality of opportunity",
    InvolvementMethod.LEADING_A_PROJECT: "Leading a project",
    ParticipantKind.TRUSTEE_OR_BOARD_MEMBER: "Trustee or board member",
    InvolvementDifference.NONE: "None",
    AgeBand.UNDER_18: "Under 18",
    AgeBand.AGE_18_24: "18 to 24",
    AgeBand.AGE_25_34: "25 to 34",
    AgeBand.AGE_35_44: "35 to 44",
    AgeBand.AGE_45_54: "45 to 54",
    AgeBand.AGE_55_64: "55 to 64",
    AgeBand.AGE_65_PLUS: "65 and over",
    Gender.SELF_DESCRIBED: "In another way (self-described)",
    EthnicGroup.ASIAN_BANGLADESHI: "Asian: Bangladeshi",
    EthnicGroup.ASIAN_CHINESE: "Asian: Chinese",
    EthnicGroup.ASIAN_INDIAN: "Asian: Indian",
    EthnicGroup.ASIAN_PAKISTANI: "Asian: Pakistani",
    EthnicGroup.ASIAN_OTHER: "Asian: any other Asian background",
    EthnicGroup.BLACK_AFRICAN: "Black: African",
    EthnicGroup.BLACK_CARIBBEAN: "Black: Caribbean",
    EthnicGroup.BLACK_OTHER: "Black: any other Black background",
    EthnicGroup.MIXED_WHITE_AND_ASIAN: "Mixed: White and Asian",
    EthnicGroup.MIXED_WHITE_AND_BLACK_AFRICAN: "Mixed: White and Black African",
    EthnicGroup.MIXED_WHITE_AND_BLACK_CARIBBEAN: "Mixed: White and Black Caribbean",
    EthnicGroup.MIXED_OTHER: "Mixed: any other mixed background",
    EthnicGroup.WHITE_BRITISH: "White: British",
    EthnicGroup.WHITE_IRISH: "White: Irish",
    EthnicGroup.WHITE_GYPSY_OR_IRISH_TRAVELLER: "White: Gypsy or Irish Traveller",
    EthnicGroup.WHITE_ROMA: "White: Roma",
    EthnicGroup.WHITE_OTHER: "White: any other White background",
    EthnicGroup.OTHER_ARAB: "Other: Arab",
    EthnicGroup.OTHER_ANY_OTHER: "Other: any other ethnic group",
    EducationLevel.LEVEL_1_OR_2: "Level 1 or 2 (GCSEs or equivalent)",
    EducationLevel.LEVEL_3: "Level 3 (A levels or equivalent)",
    EducationLevel.LEVEL_4_OR_ABOVE: "Level 4 or above (degree or equivalent)",
    SupportKind.TRAINING_FOR_SERVICE_USERS_AND_CARERS: (
        "Training for service users and carers"
    ),
}


def label_of(value: StrEnum) -> str:
    """A vocabulary value as people read it: 'Focus group' for focus_group."""
    return LABELS.get(value) or value.value.replace("_", " ").capitalize()


def _text(name: str, label: str, hint: str, *, required: bool = True) -> Field:
    return Field(name, label, hint, FieldKind.TEXT, required=required)


def _long(
    name: str, label: str, hint: str, *, required: bool = True, personal: bool = False
) -> Field:
    return Field(
        name, label, hint, FieldKind.LONG_TEXT, required=required, personal=personal
    )


def _date(name: str, label: str, hint: str, *, required: bool = True) -> Field:
    return Field(name, label, hint, FieldKind.DATE, required=required)


def _choice(
    name: str,
    label: str,
    hint: str,
    vocabulary: type[StrEnum],
    *,
    required: bool = True,
    personal: bool = False,
) -> Field:
    return Field(
        name,
        label,
        hint,
        FieldKind.CHOICE,
        required=required,
        vocabulary=vocabulary,
        personal=personal,
    )


def _choices(name: str, label: str, hint: str, vocabulary: type[StrEnum]) -> Field:
    return Field(name, label, hint, FieldKind.CHOICES, vocabulary=vocabulary)


def _reference(
    name: str, label: str, hint: str, kind: RecordKind, *, required: bool = True
) -> Field:
    return Field(
        name, label, hint, FieldKind.REFERENCE, required=required, refers_to=kind
    )


def _references(
    name: str, label: str, hint: str, kind: RecordKind, *, required: bool = True
) -> Field:
    return Field(
        name, label, hint, FieldKind.REFERENCES, required=required, refers_to=kind
    )


def _yes_no(name: str, label: str, hint: str) -> Field:
    return Field(name, label, hint, FieldKind.YES_NO)


def _implied_initiative(by: str) -> Field:
    return Field(
        "initiative_id",
        "Initiative",
        f"The initiative of the record named by {by}.",
        FieldKind.REFERENCE,
        refers_to=RecordKind.INITIATIVE,
        implied_by=by,
    )


INITIATIVE = _reference(
    "initiative_id",
    "Initiative",
    "The initiative it belongs to.",
    RecordKind.INITIATIVE,
)
OPTIONAL_INITIATIVE = _reference(
    "initiative_id",
    "Initiative",
    "The initiative it belongs to; leave blank for the whole organisation.",
    RecordKind.INITIATIVE,
    required=False,
)
IMPACT_AREAS = _choices(
    "impact_areas", "Impact areas", "The 4PI impact areas it concerns.", ImpactArea
)

ADOPT_INVOLVEMENT_POLICY = UseCase(
    "adopt_involvement_policy",
    "Adopt the involvement policy",
    "The organisation's involvement policy, or a new version of it.",
    (
        _text(
            "version_label",
            "Version",
            "The version of the policy, as the organisation names it.",
        ),
        _date(
            "adopted_on",
            "Adopted on",
            "The day it was adopted; the review clock starts here.",
        ),
        Field(
            "review_interval_months",
            "Review every (months)",
            "How often the policy is to be reviewed, in months.",
            FieldKind.WHOLE_NUMBER,
            required=False,
            default=DEFAULT_REVIEW_INTERVAL_MONTHS,
        ),
        _long("summary", "Summary", "What the policy says.", required=False),
    ),
    makes=RecordKind.INVOLVEMENT_POLICY,
)

REVIEW_INVOLVEMENT_POLICY = UseCase(
    "review_involvement_policy",
    "Review the involvement policy",
    "A review of the involvement policy.",
    (
        _date("reviewed_on", "Reviewed on", "The day it was reviewed."),
        _long("notes", "Notes", "What the review found.", required=False),
    ),
)

LAUNCH_INITIATIVE = UseCase(
    "launch_initiative",
    "Launch an initiative",
    "An involvement activity, project or programme, with its purpose agreed at the "
    "start and the limits of influence stated.",
    (
        _text("name", "Name", "The initiative's name."),
        _choice(
            "level",
            "Level",
            "Where the involvement happens (4PI).",
            InvolvementLevel,
        ),
        _choice(
            "involvement_kind",
            "Kind of involvement",
            "Influence, participation or co-production (Mind).",
            InvolvementKind,
        ),
        _choices("methods", "Methods", "How people take part.", InvolvementMethod),
        _long("purpose", "Purpose", "The purpose agreed at the start."),
        _long(
            "limits_of_influence",
            "Limits of influence",
            "What involvement can and cannot change here.",
        ),
        _date("started_on", "Started on", "The day it started."),
    ),
    makes=RecordKind.INITIATIVE,
)

RECORD_INTENDED_OUTCOME = UseCase(
    "record_intended_outcome",
    "Record an intended outcome",
    "What an initiative set out to achieve (impact question 1).",
    (
        INITIATIVE,
        _long("description", "Description", "What the initiative hopes for."),
        IMPACT_AREAS,
    ),
    makes=RecordKind.INTENDED_OUTCOME,
)

ASSESS_INTENDED_OUTCOME = UseCase(
    "assess_intended_outcome",
    "Assess an intended outcome",
    "How far an intended outcome was achieved, and whether involvement made a "
    "difference to it.",
    (
        _implied_initiative("outcome_id"),
        _reference(
            "outcome_id",
            "Intended outcome",
            "The intended outcome assessed.",
            RecordKind.INTENDED_OUTCOME,
        ),
        _choice(
            "assessment",
            "Assessment",
            "Achieved, partly achieved, not achieved or too early to tell.",
            OutcomeAssessment,
        ),
        _choice(
            "involvement_difference",
            "Difference involvement made",
            "Whether involvement made a difference to it (impact question 4).",
            InvolvementDifference,
        ),
        _long(
            "evidence",
            "Evidence",
            "What shows it (may be blank only when it is too early to tell).",
            required=False,
        ),
        _date("assessed_on", "Assessed on", "The day it was assessed."),
    ),
)

ASSIGN_ROLE = UseCase(
    "assign_role",
    "Give someone a role",
    "A participant's role in an initiative (4PI).",
    (
        INITIATIVE,
        _reference(
            "participant_id",
            "Person",
            "The person taking the role.",
            RecordKind.PARTICIPANT,
        ),
        _choice("role", "Role", "The 4PI role.", InvolvementRole),
        _yes_no("paid", "Paid", "Whether the role is paid."),
        _yes_no(
            "decision_making",
            "Decision-making",
            "Whether the role is at a decision-making level.",
        ),
        _date("started_on", "Started on", "The day the role started."),
    ),
    makes=RecordKind.ROLE,
)

END_ROLE = UseCase(
    "end_role",
    "End a role",
    "The end of a participant's role in an initiative.",
    (
        _implied_initiative("role_id"),
        _reference("role_id", "Role", "The role that ended.", RecordKind.ROLE),
        _date("ended_on", "Ended on", "The day the role ended."),
    ),
)

START_CYCLE = UseCase(
    "start_cycle",
    "Start a cycle",
    "A new Act-Evaluate-Reflect-Learn cycle of an initiative: it enters Act. The "
    "previous cycle must have reached Learn.",
    (
        INITIATIVE,
        _choices(
            "focus_areas",
            "Focus areas",
            "The 4PI impact areas this cycle focuses on.",
            ImpactArea,
        ),
        _date("started_on", "Started on", "The day it entered Act."),
        Field(
            "actions_taken_up",
            "Actions taken up",
            "Actions planned when the previous cycle learned, taken up now.",
            FieldKind.TEXT_LINES,
            required=False,
        ),
    ),
    makes=RecordKind.CYCLE,
)

CYCLE = _reference("number", "Cycle", "The cycle.", RecordKind.CYCLE)

EVALUATE_CYCLE = UseCase(
    "evaluate_cycle",
    "Evaluate a cycle",
    "A cycle moves from Act to Evaluate, with its findings.",
    (
        _implied_initiative("number"),
        CYCLE,
        _long("findings", "Findings", "What the evaluation found."),
        _date("entered_on", "Evaluated on", "The day it entered Evaluate."),
    ),
)

REFLECT_ON_CYCLE = UseCase(
    "reflect_on_cycle",
    "Reflect on a cycle",
    "A cycle moves from Evaluate to Reflect, with its reflections.",
    (
        _implied_initiative("number"),
        CYCLE,
        _long("reflections", "Reflections", "What was reflected on."),
        _date("entered_on", "Reflected on", "The day it entered Reflect."),
    ),
)

LEARN_FROM_CYCLE = UseCase(
    "learn_from_cycle",
    "Learn from a cycle",
    "A cycle moves from Reflect to Learn, with its lessons and the actions planned "
    "for the next Act.",
    (
        _implied_initiative("number"),
        CYCLE,
        _long("lessons", "Lessons", "What was learned."),
        Field(
            "planned_actions",
            "Planned actions",
            "The actions planned for the next Act.",
            FieldKind.TEXT_LINES,
        ),
        _date("entered_on", "Learned on", "The day it entered Learn."),
    ),
)

REGISTER_PARTICIPANT = UseCase(
    "register_participant",
    "Register a person",
    "A pseudonymous person who takes part.",
    (
        Field(
            "pseudonym",
            "Pseudonym",
            "A pseudonym, never the person's name.",
            FieldKind.TEXT,
            personal=True,
        ),
        _choice(
            "participant_kind",
            "Kind of person",
            "Service user, carer, staff, trustee or board member, or other.",
            ParticipantKind,
        ),
    ),
    makes=RecordKind.PARTICIPANT,
)

PARTICIPANT = _reference(
    "participant_id", "Person", "The person.", RecordKind.PARTICIPANT
)

MONITORING_HINT = (
    "Self-declared; every item offers 'Prefer not to say'. Leave blank when not "
    "recorded, which is not the same."
)

DECLARE_MONITORING_DATA = UseCase(
    "declare_monitoring_data",
    "Declare monitoring data",
    "What a person chose to declare about themselves. " + MONITORING_HINT,
    (
        PARTICIPANT,
        *(
            _choice(
                f"monitoring.{category.value}",
                label,
                MONITORING_HINT,
                vocabulary,
                required=False,
                personal=True,
            )
            for category, label, vocabulary in (
                (MonitoringCategory.AGE_BAND, "Age band", AgeBand),
                (MonitoringCategory.GENDER, "Gender", Gender),
                (MonitoringCategory.ETHNIC_GROUP, "Ethnic group", EthnicGroup),
                (MonitoringCategory.DISABILITY, "Disability", Disability),
                (
                    MonitoringCategory.SEXUAL_ORIENTATION,
                    "Sexual orientation",
                    SexualOrientation,
                ),
                (MonitoringCategory.EDUCATION_LEVEL, "Education", EducationLevel),
            )
        ),
    ),
)

SET_PAYMENT_PREFERENCE = UseCase(
    "set_payment_preference",
    "Set how a person is paid",
    "How a person chooses to be paid for involvement (NSUN), and any earnings limit "
    "they choose to stay under.",
    (
        PARTICIPANT,
        _choice(
            "payment_preference",
            "Payment preference",
            "Fees, expenses only, reduced fee, vouchers, or no payment.",
            PaymentPreference,
            personal=True,
        ),
        Field(
            "earnings_limit",
            "Earnings limit (£)",
            "The most the person wants to earn in each period, if they set a limit.",
            FieldKind.AMOUNT,
            required=False,
            personal=True,
        ),
        _choice(
            "earnings_period",
            "Earnings limit per",
            "Week or month: the period the earnings limit applies to.",
            EarningsPeriod,
            required=False,
            personal=True,
        ),
    ),
)

SCHEDULE_MEETING = UseCase(
    "schedule_meeting",
    "Schedule a meeting",
    "A meeting of an initiative.",
    (
        INITIATIVE,
        _text("title", "Title", "What the meeting is."),
        Field(
            "held_at",
            "Held at",
            "When it is held: a date and time (local time unless a zone is given).",
            FieldKind.MOMENT,
        ),
        _yes_no("high_level", "High-level", "Whether it is a high-level meeting."),
        _yes_no(
            "decision_making",
            "Decision-making",
            "Whether decisions are made at it.",
        ),
    ),
    makes=RecordKind.MEETING,
)

MEETING = _reference("meeting_id", "Meeting", "The meeting.", RecordKind.MEETING)

SEND_MEETING_PAPERS = UseCase(
    "send_meeting_papers",
    "Send a meeting's papers",
    "When a meeting's papers went out; they must go before the meeting.",
    (
        MEETING,
        Field(
            "sent_at",
            "Papers sent at",
            "When the papers were sent: a date and time (local time unless a zone is given).",
            FieldKind.MOMENT,
        ),
    ),
)

RECORD_ATTENDANCE = UseCase(
    "record_attendance",
    "Record attendance",
    "Who came to a meeting.",
    (
        MEETING,
        _references(
            "participant_ids",
            "People who came",
            "The people who attended.",
            RecordKind.PARTICIPANT,
        ),
    ),
)

NAME_MEETING_RESERVE = UseCase(
    "name_meeting_reserve",
    "Name a meeting's reserve",
    "The service user or carer held in reserve for a high-level meeting.",
    (
        MEETING,
        _reference(
            "participant_id",
            "Reserve",
            "The service user or carer in reserve.",
            RecordKind.PARTICIPANT,
        ),
    ),
)

MAKE_REASONABLE_ADJUSTMENT = UseCase(
    "make_reasonable_adjustment",
    "Make a reasonable adjustment",
    "An adjustment made so that people could take part in a meeting.",
    (
        MEETING,
        _long("description", "Reasonable adjustment", "The adjustment made."),
    ),
)

LOG_CONTRIBUTION = UseCase(
    "log_contribution",
    "Log a contribution",
    "An idea, concern or recommendation from one or more service users or carers.",
    (
        INITIATIVE,
        _references(
            "contributor_ids",
            "Contributors",
            "The service users and carers it came from.",
            RecordKind.PARTICIPANT,
        ),
        _choice(
            "nature",
            "Nature",
            "An idea, a concern or a recommendation.",
            ContributionNature,
        ),
        _long("summary", "Summary", "What they put forward."),
        IMPACT_AREAS,
        _date("made_on", "Made on", "The day it was made."),
        _reference(
            "meeting_id",
            "Meeting",
            "The meeting it was made at, if any.",
            RecordKind.MEETING,
            required=False,
        ),
    ),
    makes=RecordKind.CONTRIBUTION,
)

CONTRIBUTION = _reference(
    "contribution_id", "Contribution", "The contribution.", RecordKind.CONTRIBUTION
)

RESPOND_TO_CONTRIBUTION = UseCase(
    "respond_to_contribution",
    "Respond to a contribution",
    "What the organisation decided to do with a contribution.",
    (
        CONTRIBUTION,
        _choice(
            "outcome",
            "Response",
            "Adopted, adapted, declined or deferred.",
            ResponseOutcome,
        ),
        _long(
            "rationale",
            "Rationale",
            "Why: required when declined (4PI asks for clarity and transparency).",
            required=False,
        ),
        _date("responded_on", "Responded on", "The day it was decided."),
    ),
)

GIVE_FEEDBACK = UseCase(
    "give_feedback",
    "Give feedback to contributors",
    "When and how the people who contributed were told what became of it.",
    (
        CONTRIBUTION,
        _date("given_on", "Given on", "The day they were told."),
        _choice("method", "How", "How they were told.", FeedbackMethod),
        _long("summary", "What they were told", "What they were told."),
    ),
)

RECORD_CHANGE = UseCase(
    "record_change",
    "Record a change",
    "A difference made, with the contributions it came from.",
    (
        INITIATIVE,
        _long("description", "What changed", "What changed."),
        _choice(
            "impact_area", "Impact area", "The 4PI impact area it is in.", ImpactArea
        ),
        _choice(
            "scope",
            "Scope",
            "Activity (question 2), end result (question 4) or beyond the activity "
            "(question 5).",
            ChangeScope,
        ),
        _choice(
            "beyond_kind",
            "Kind of difference beyond",
            "For a change beyond the activity: the kind of difference it made.",
            BeyondKind,
            required=False,
        ),
        _long("evidence", "Evidence", "What shows it."),
        _date("changed_on", "Changed on", "The day it changed."),
        _references(
            "contribution_ids",
            "Came from contributions",
            "The contributions it came from, if any.",
            RecordKind.CONTRIBUTION,
            required=False,
        ),
    ),
    makes=RecordKind.CHANGE,
)

RECORD_PROCESS_EXPERIENCE = UseCase(
    "record_process_experience",
    "Record a process-experience answer",
    "An answer to the questionnaire on how the process felt (impact question 3).",
    (
        INITIATIVE,
        _reference(
            "participant_id",
            "Person",
            "The person who answered; leave blank for an anonymous answer.",
            RecordKind.PARTICIPANT,
            required=False,
        ),
        _choice(
            "respondent_kind",
            "Respondent",
            "Service user, carer or staff.",
            RespondentKind,
        ),
        _choice(
            "stage",
            "Stage",
            "In flight, or at the end of involvement.",
            QuestionnaireStage,
        ),
        _date("answered_on", "Answered on", "The day it was answered."),
        *(
            Field(
                f"scores.{dimension.value}",
                label_of(dimension),
                "From 1 (not at all) to 5 (completely); blank when not answered.",
                FieldKind.SCORE,
                required=False,
            )
            for dimension in ProcessDimension
        ),
        _long(
            "free_text",
            "In their words",
            "Anything else they said.",
            required=False,
            personal=True,
        ),
    ),
    makes=RecordKind.PROCESS_EXPERIENCE_ANSWER,
)

RECORD_PAYMENT_OWED = UseCase(
    "record_payment_owed",
    "Record a payment owed",
    "A payment owed to a person: a fee, or a cost to reimburse.",
    (
        PARTICIPANT,
        OPTIONAL_INITIATIVE,
        _choice("payment_kind", "For", "What the payment is for.", PaymentKind),
        Field("amount", "Amount (£)", "In pounds and pence.", FieldKind.AMOUNT),
        _date("owed_on", "Owed on", "The day it became owed."),
        _long("description", "Description", "What it was for.", required=False),
    ),
    makes=RecordKind.PAYMENT,
)

RECORD_PAYMENT_MADE = UseCase(
    "record_payment_made",
    "Record a payment made",
    "The day a payment owed was paid.",
    (
        _reference("payment_id", "Payment", "The payment.", RecordKind.PAYMENT),
        _date("paid_on", "Paid on", "The day it was paid."),
    ),
)

RECORD_SUPPORT = UseCase(
    "record_support",
    "Record support or training",
    "Support or training given (4PI Process).",
    (
        OPTIONAL_INITIATIVE,
        _choice(
            "support_kind", "Kind", "The kind of support or training.", SupportKind
        ),
        _date("given_on", "Given on", "The day it was given."),
        _references(
            "participant_ids",
            "People",
            "The people who received it, if any.",
            RecordKind.PARTICIPANT,
            required=False,
        ),
        Field(
            "hours",
            "Hours",
            "How many hours, if known.",
            FieldKind.DECIMAL,
            required=False,
        ),
        _long("description", "Description", "What it was.", required=False),
    ),
    makes=RecordKind.SUPPORT,
)

DEFINE_REFERENCE_POPULATION = UseCase(
    "define_reference_population",
    "Define a reference population",
    "The make-up of the population an initiative or the organisation serves "
    "(4PI Presence), against which diversity is measured.",
    (
        OPTIONAL_INITIATIVE,
        _long("description", "Description", "Which population it is."),
        Field(
            "shares",
            "Shares",
            "For each monitoring category, the share of the population in each "
            "group, as a fraction from 0 to 1.",
            FieldKind.SHARES,
        ),
    ),
    makes=RecordKind.REFERENCE_POPULATION,
)

MANAGER_USE_CASES: tuple[UseCase, ...] = (
    ADOPT_INVOLVEMENT_POLICY,
    REVIEW_INVOLVEMENT_POLICY,
    LAUNCH_INITIATIVE,
    RECORD_INTENDED_OUTCOME,
    ASSESS_INTENDED_OUTCOME,
    ASSIGN_ROLE,
    END_ROLE,
    START_CYCLE,
    EVALUATE_CYCLE,
    REFLECT_ON_CYCLE,
    LEARN_FROM_CYCLE,
    REGISTER_PARTICIPANT,
    DECLARE_MONITORING_DATA,
    SET_PAYMENT_PREFERENCE,
    SCHEDULE_MEETING,
    SEND_MEETING_PAPERS,
    RECORD_ATTENDANCE,
    NAME_MEETING_RESERVE,
    MAKE_REASONABLE_ADJUSTMENT,
    LOG_CONTRIBUTION,
    RESPOND_TO_CONTRIBUTION,
    GIVE_FEEDBACK,
    RECORD_CHANGE,
    RECORD_PROCESS_EXPERIENCE,
    RECORD_PAYMENT_OWED,
    RECORD_PAYMENT_MADE,
    RECORD_SUPPORT,
    DEFINE_REFERENCE_POPULATION,
)
"""Every use case a manager has, as InvolvementRecords names them."""

USE_CASE_NAMED: dict[str, UseCase] = {
    use_case.name: use_case for use_case in MANAGER_USE_CASES
}
"""Each manager use case by its method's name (log_contribution)."""
