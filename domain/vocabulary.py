"""The controlled vocabularies of the 4PI record: every value a record may take from a fixed list."""

import functools
from enum import StrEnum


class ImpactArea(StrEnum):
    """4PI impact areas: where impact is explored."""

    ETHOS_AND_CULTURE = "ethos_and_culture"
    POLICY_AND_PLANNING = "policy_and_planning"
    DELIVERY = "delivery"
    OUTCOMES_AND_OUTPUTS = "outcomes_and_outputs"
    DIVERSITY_AND_EQUALITY = "diversity_and_equality"
    SERVICE_USER_AND_CARER_EXPERIENCE = "service_user_and_carer_experience"


class InvolvementLevel(StrEnum):
    """4PI: where involvement happens."""

    INDIVIDUAL_CARE_AND_TREATMENT = "individual_care_and_treatment"
    COMMUNITY = "community"
    OPERATIONAL = "operational"
    STRATEGIC = "strategic"
    MONITORING_AND_EVALUATION = "monitoring_and_evaluation"


class InvolvementKind(StrEnum):
    """Mind: the kind of involvement an initiative offers."""

    INFLUENCE = "influence"
    PARTICIPATION = "participation"
    CO_PRODUCTION = "co_production"


class InvolvementMethod(StrEnum):
    """Mind: the ways people take part."""

    SURVEY = "survey"
    FOCUS_GROUP = "focus_group"
    ADVISORY_GROUP = "advisory_group"
    WORKSHOP = "workshop"
    LEADING_A_PROJECT = "leading_a_project"
    SHARING_A_STORY = "sharing_a_story"
    CAMPAIGN = "campaign"
    INTERVIEW = "interview"
    WORKING_GROUP = "working_group"


class ParticipantKind(StrEnum):
    """Who a participant is, for counting service users and carers apart from staff."""

    SERVICE_USER = "service_user"
    CARER = "carer"
    STAFF = "staff"
    TRUSTEE_OR_BOARD_MEMBER = "trustee_or_board_member"
    OTHER = "other"

    @property
    def has_lived_experience_voice(self) -> bool:
        """Service users and carers are the people whose involvement 4PI measures."""
        return self in (ParticipantKind.SERVICE_USER, ParticipantKind.CARER)


class RespondentKind(StrEnum):
    """Who answered a process-experience questionnaire."""

    SERVICE_USER = "service_user"
    CARER = "carer"
    STAFF = "staff"


class InvolvementRole(StrEnum):
    """4PI: potential roles for service users and carers."""

    AMBASSADOR = "ambassador"
    CRITICAL_FRIEND = "critical_friend"
    CO_WORKER = "co_worker"
    CONSULTANT = "consultant"
    EXPERT_BY_EXPERIENCE = "expert_by_experience"
    ADVISOR = "advisor"
    LEAD = "lead"


class ContributionNature(StrEnum):
    """What a service user or carer put forward."""

    IDEA = "idea"
    CONCERN = "concern"
    RECOMMENDATION = "recommendation"


class ResponseOutcome(StrEnum):
    """What the organisation decided to do with a contribution."""

    ADOPTED = "adopted"
    ADAPTED = "adapted"
    DECLINED = "declined"
    DEFERRED = "deferred"


class ChangeScope(StrEnum):
    """How far a difference reaches: impact questions 2, 4 and 5."""

    ACTIVITY = "activity"
    END_RESULT = "end_result"
    BEYOND = "beyond"


class BeyondKind(StrEnum):
    """Impact question 5: the kind of difference made beyond the activity itself."""

    SERVICE_DELIVERY = "service_delivery"
    UNDERSTANDING_OF_MENTAL_HEALTH = "understanding_of_mental_health"
    RECOVERY_OR_WELLBEING = "recovery_or_wellbeing"
    GROWTH_OF_PEOPLE_INVOLVED = "growth_of_people_involved"


class OutcomeAssessment(StrEnum):
    """Impact question 1: how far an intended outcome was achieved."""

    ACHIEVED = "achieved"
    PARTLY_ACHIEVED = "partly_achieved"
    NOT_ACHIEVED = "not_achieved"
    TOO_EARLY_TO_TELL = "too_early_to_tell"


class InvolvementDifference(StrEnum):
    """Impact question 4: whether involvement made a difference to an outcome."""

    SIGNIFICANT = "significant"
    SOME = "some"
    NONE = "none"
    UNKNOWN = "unknown"


class CyclePhase(StrEnum):
    """4PI: the Act - Evaluate - Reflect - Learn cycle, in its order."""

    ACT = "act"
    EVALUATE = "evaluate"
    REFLECT = "reflect"
    LEARN = "learn"


class ProcessDimension(StrEnum):
    """Impact question 3: what a process-experience questionnaire scores from 1 to 5."""

    LISTENED_TO = "listened_to"
    VALUED_AND_RESPECTED = "valued_and_respected"
    SUPPORTED = "supported"
    INFORMATION_CLEAR_AND_IN_TIME = "information_clear_and_in_time"
    PAYMENT_CLEAR_AND_TIMELY = "payment_clear_and_timely"
    WOULD_TAKE_PART_AGAIN = "would_take_part_again"


class QuestionnaireStage(StrEnum):
    """When a process-experience answer was given."""

    IN_FLIGHT = "in_flight"
    END_OF_INVOLVEMENT = "end_of_involvement"


class PaymentPreference(StrEnum):
    """NSUN: how a person chooses to be paid for involvement."""

    FEES = "fees"
    EXPENSES_ONLY = "expenses_only"
    REDUCED_FEE = "reduced_fee"
    VOUCHERS = "vouchers"
    NO_PAYMENT = "no_payment"

    @property
    def refuses_fees(self) -> bool:
        """Whether a fee would go against the choice (often made to protect benefits)."""
        return self in (PaymentPreference.EXPENSES_ONLY, PaymentPreference.NO_PAYMENT)


class EarningsPeriod(StrEnum):
    """The period an earnings limit applies to."""

    WEEK = "week"
    MONTH = "month"


class EarningsStatus(StrEnum):
    """Where a period's fees stand against a person's earnings limit."""

    BELOW = "below"
    NEAR = "near"
    CROSSED = "crossed"


class PaymentKind(StrEnum):
    """4PI Process: what a payment is for."""

    FEE = "fee"
    EXPENSE = "expense"
    TRAVEL = "travel"
    CHILDCARE = "childcare"
    CARER_COST = "carer_cost"
    PERSONAL_ASSISTANT_COST = "personal_assistant_cost"

    @property
    def counts_as_earnings(self) -> bool:
        """Fees are earnings for welfare benefits; reimbursed costs are not (NSUN)."""
        return self is PaymentKind.FEE


class SupportKind(StrEnum):
    """4PI Process: the support and training given."""

    ADMINISTRATIVE_SUPPORT = "administrative_support"
    SUPERVISION = "supervision"
    EMOTIONAL_SUPPORT = "emotional_support"
    PEER_SUPPORT_OR_MENTORING = "peer_support_or_mentoring"
    TRAINING_FOR_SERVICE_USERS_AND_CARERS = "training_for_service_users_and_carers"
    TRAINING_FOR_STAFF = "training_for_staff"


class FeedbackMethod(StrEnum):
    """How contributors were told what became of their contribution."""

    IN_PERSON = "in_person"
    MEETING = "meeting"
    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"
    NEWSLETTER = "newsletter"
    REPORT = "report"


class NoticePreference(StrEnum):
    """How a service user or carer would like to be told what became of what they
    said (each is also a way feedback is given: FeedbackMethod)."""

    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"
    IN_PERSON = "in_person"


# Self-declared monitoring data. Every category offers "prefer not to say";
# a category left out altogether is "not recorded", which is not the same.

PREFER_NOT_TO_SAY = "prefer_not_to_say"


class AgeBand(StrEnum):
    UNDER_18 = "under_18"
    AGE_18_24 = "18_24"
    AGE_25_34 = "25_34"
    AGE_35_44 = "35_44"
    AGE_45_54 = "45_54"
    AGE_55_64 = "55_64"
    AGE_65_PLUS = "65_plus"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class Gender(StrEnum):
    WOMAN = "woman"
    MAN = "man"
    NON_BINARY = "non_binary"
    SELF_DESCRIBED = "self_described"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class EthnicGroup(StrEnum):
    """The 19 ethnic groups of the 2021 census for England and Wales."""

    ASIAN_BANGLADESHI = "asian_bangladeshi"
    ASIAN_CHINESE = "asian_chinese"
    ASIAN_INDIAN = "asian_indian"
    ASIAN_PAKISTANI = "asian_pakistani"
    ASIAN_OTHER = "asian_other"
    BLACK_AFRICAN = "black_african"
    BLACK_CARIBBEAN = "black_caribbean"
    BLACK_OTHER = "black_other"
    MIXED_WHITE_AND_ASIAN = "mixed_white_and_asian"
    MIXED_WHITE_AND_BLACK_AFRICAN = "mixed_white_and_black_african"
    MIXED_WHITE_AND_BLACK_CARIBBEAN = "mixed_white_and_black_caribbean"
    MIXED_OTHER = "mixed_other"
    WHITE_BRITISH = "white_british"
    WHITE_IRISH = "white_irish"
    WHITE_GYPSY_OR_IRISH_TRAVELLER = "white_gypsy_or_irish_traveller"
    WHITE_ROMA = "white_roma"
    WHITE_OTHER = "white_other"
    OTHER_ARAB = "other_arab"
    OTHER_ANY_OTHER = "other_any_other"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class Disability(StrEnum):
    DISABLED = "disabled"
    NOT_DISABLED = "not_disabled"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class SexualOrientation(StrEnum):
    STRAIGHT_OR_HETEROSEXUAL = "straight_or_heterosexual"
    GAY_OR_LESBIAN = "gay_or_lesbian"
    BISEXUAL = "bisexual"
    OTHER = "other"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class EducationLevel(StrEnum):
    NO_QUALIFICATIONS = "no_qualifications"
    LEVEL_1_OR_2 = "level_1_or_2"
    APPRENTICESHIP = "apprenticeship"
    LEVEL_3 = "level_3"
    LEVEL_4_OR_ABOVE = "level_4_or_above"
    OTHER = "other"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class MonitoringCategory(StrEnum):
    """The categories of self-declared monitoring data, for diversity against a reference population."""

    AGE_BAND = "age_band"
    GENDER = "gender"
    ETHNIC_GROUP = "ethnic_group"
    DISABILITY = "disability"
    SEXUAL_ORIENTATION = "sexual_orientation"
    EDUCATION_LEVEL = "education_level"


MONITORING_VALUES: dict[MonitoringCategory, type[StrEnum]] = {
    MonitoringCategory.AGE_BAND: AgeBand,
    MonitoringCategory.GENDER: Gender,
    MonitoringCategory.ETHNIC_GROUP: EthnicGroup,
    MonitoringCategory.DISABILITY: Disability,
    MonitoringCategory.SEXUAL_ORIENTATION: SexualOrientation,
    MonitoringCategory.EDUCATION_LEVEL: EducationLevel,
}


# Official groupings above some categories' values, which evaluators compare with:
# a reference population is often only published at the broad level.


class BroadEthnicGroup(StrEnum):
    """The five broad ethnic groups of the 2021 census for England and Wales, each
    holding some of its 19 detailed groups."""

    ASIAN = "asian"
    """Asian, Asian British or Asian Welsh."""
    BLACK = "black"
    """Black, Black British, Black Welsh, Caribbean or African."""
    MIXED = "mixed"
    """Mixed or Multiple ethnic groups."""
    WHITE = "white"
    OTHER = "other"
    """Other ethnic group."""
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class BroadAgeBand(StrEnum):
    """Age bands as NHS mental health services are organised: children and young
    people's services, adult (working-age) services, older adults' services."""

    UNDER_18 = "under_18"
    AGE_18_64 = "18_64"
    AGE_65_PLUS = "65_plus"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


class BroadSexualOrientation(StrEnum):
    """The 2021 census's grouping: straight or heterosexual, and LGB+ (gay or
    lesbian, bisexual, and all other sexual orientations)."""

    STRAIGHT_OR_HETEROSEXUAL = "straight_or_heterosexual"
    LGB_PLUS = "lgb_plus"
    PREFER_NOT_TO_SAY = PREFER_NOT_TO_SAY


def _by_prefix(values: type[StrEnum], broad: type[StrEnum]) -> dict[str, str]:
    """Each detailed value under the broad group its name begins with."""
    groups = {}
    for value in values:
        head = value.value.split("_")[0]
        groups[value.value] = (
            PREFER_NOT_TO_SAY if value.value == PREFER_NOT_TO_SAY else broad(head).value
        )
    return groups


BROAD_GROUPS: dict[MonitoringCategory, tuple[type[StrEnum], dict[str, str]]] = {
    MonitoringCategory.ETHNIC_GROUP: (
        BroadEthnicGroup,
        _by_prefix(EthnicGroup, BroadEthnicGroup),
    ),
    MonitoringCategory.AGE_BAND: (
        BroadAgeBand,
        {
            detailed.value: broad.value
            for detailed, broad in {
                AgeBand.UNDER_18: BroadAgeBand.UNDER_18,
                AgeBand.AGE_18_24: BroadAgeBand.AGE_18_64,
                AgeBand.AGE_25_34: BroadAgeBand.AGE_18_64,
                AgeBand.AGE_35_44: BroadAgeBand.AGE_18_64,
                AgeBand.AGE_45_54: BroadAgeBand.AGE_18_64,
                AgeBand.AGE_55_64: BroadAgeBand.AGE_18_64,
                AgeBand.AGE_65_PLUS: BroadAgeBand.AGE_65_PLUS,
                AgeBand.PREFER_NOT_TO_SAY: BroadAgeBand.PREFER_NOT_TO_SAY,
            }.items()
        },
    ),
    MonitoringCategory.SEXUAL_ORIENTATION: (
        BroadSexualOrientation,
        {
            SexualOrientation.STRAIGHT_OR_HETEROSEXUAL.value: (
                BroadSexualOrientation.STRAIGHT_OR_HETEROSEXUAL.value
            ),
            SexualOrientation.GAY_OR_LESBIAN.value: BroadSexualOrientation.LGB_PLUS.value,
            SexualOrientation.BISEXUAL.value: BroadSexualOrientation.LGB_PLUS.value,
            SexualOrientation.OTHER.value: BroadSexualOrientation.LGB_PLUS.value,
            PREFER_NOT_TO_SAY: PREFER_NOT_TO_SAY,
        },
    ),
}
"""For a category with an official grouping: its broad values, and each detailed
value's broad one (every detailed value has one)."""


@functools.cache
def broad_members(category: MonitoringCategory) -> dict[str, tuple[str, ...]]:
    """Each broad value of the category, in its vocabulary's order, with its detailed
    values in theirs; empty for a category with no grouping. Worked out once per
    category (the answers ask for it per count): the same dict every call, never to
    be changed by a caller."""
    if category not in BROAD_GROUPS:
        return {}
    broad, of = BROAD_GROUPS[category]
    return {
        group.value: tuple(value for value, b in of.items() if b == group.value)
        for group in broad
    }
