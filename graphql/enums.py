"""The 4PI vocabularies as GraphQL enums, one for each controlled list of the record.

strawberry.enum marks each domain enum in place, so the aliases below are the
domain classes themselves: values pass between the API and the domain unchanged.
"""

from enum import Enum
from typing import TypeAlias

import strawberry

from fourpi.domain import vocabulary as v
from fourpi.domain.access import Role as DomainRole

strawberry.enum(
    v.ImpactArea, description="A 4PI impact area: where impact is explored."
)
ImpactArea: TypeAlias = v.ImpactArea
strawberry.enum(v.InvolvementLevel, description="Where involvement happens (4PI).")
InvolvementLevel: TypeAlias = v.InvolvementLevel
strawberry.enum(
    v.InvolvementKind, description="Mind: influence, participation or co-production."
)
InvolvementKind: TypeAlias = v.InvolvementKind
strawberry.enum(v.InvolvementMethod, description="How people take part.")
InvolvementMethod: TypeAlias = v.InvolvementMethod
strawberry.enum(
    v.ParticipantKind, description="Who a participant is: service user, carer, staff..."
)
ParticipantKind: TypeAlias = v.ParticipantKind
strawberry.enum(
    v.RespondentKind, description="Who answered a process-experience questionnaire."
)
RespondentKind: TypeAlias = v.RespondentKind
strawberry.enum(
    v.InvolvementRole, description="A 4PI role for service users and carers."
)
InvolvementRole: TypeAlias = v.InvolvementRole
strawberry.enum(
    v.ContributionNature, description="What a service user or carer put forward."
)
ContributionNature: TypeAlias = v.ContributionNature
strawberry.enum(
    v.ResponseOutcome, description="What the organisation did with a contribution."
)
ResponseOutcome: TypeAlias = v.ResponseOutcome
strawberry.enum(
    v.ChangeScope,
    description="How far a difference reaches: the activity, its end result, or beyond.",
)
ChangeScope: TypeAlias = v.ChangeScope
strawberry.enum(
    v.BeyondKind,
    description="The kind of difference made beyond the activity (question 5).",
)
BeyondKind: TypeAlias = v.BeyondKind
strawberry.enum(
    v.OutcomeAssessment, description="How far an intended outcome was achieved."
)
OutcomeAssessment: TypeAlias = v.OutcomeAssessment
strawberry.enum(
    v.InvolvementDifference,
    description="Whether involvement made a difference to an intended outcome.",
)
InvolvementDifference: TypeAlias = v.InvolvementDifference
strawberry.enum(
    v.CyclePhase, description="A phase of the Act - Evaluate - Reflect - Learn cycle."
)
CyclePhase: TypeAlias = v.CyclePhase
strawberry.enum(
    v.ProcessDimension,
    description="What a process-experience answer scores from 1 to 5.",
)
ProcessDimension: TypeAlias = v.ProcessDimension
strawberry.enum(
    v.QuestionnaireStage, description="When a process-experience answer was given."
)
QuestionnaireStage: TypeAlias = v.QuestionnaireStage
strawberry.enum(
    v.PaymentPreference, description="How a person chooses to be paid (NSUN)."
)
PaymentPreference: TypeAlias = v.PaymentPreference
strawberry.enum(
    v.EarningsPeriod, description="The period an earnings limit applies to."
)
EarningsPeriod: TypeAlias = v.EarningsPeriod
strawberry.enum(
    v.EarningsStatus,
    description="Where a period's fees stand against the earnings limit: BELOW it; "
    "NEAR, not crossed yet but paid and owed together are over it (pay the owed "
    "fees and it is crossed); CROSSED, paid alone is over it.",
)
EarningsStatus: TypeAlias = v.EarningsStatus
strawberry.enum(v.PaymentKind, description="What a payment is for.")
PaymentKind: TypeAlias = v.PaymentKind
strawberry.enum(v.SupportKind, description="Support and training given (4PI).")
SupportKind: TypeAlias = v.SupportKind
strawberry.enum(
    v.FeedbackMethod, description="How contributors were told what became of it."
)
FeedbackMethod: TypeAlias = v.FeedbackMethod
strawberry.enum(
    v.MonitoringCategory, description="A category of self-declared monitoring data."
)
MonitoringCategory: TypeAlias = v.MonitoringCategory
strawberry.enum(v.AgeBand, description="Self-declared age band.")
AgeBand: TypeAlias = v.AgeBand
strawberry.enum(v.Gender, description="Self-declared gender.")
Gender: TypeAlias = v.Gender
strawberry.enum(
    v.EthnicGroup,
    description="Self-declared ethnic group (2021 census, England and Wales).",
)
EthnicGroup: TypeAlias = v.EthnicGroup
strawberry.enum(v.Disability, description="Self-declared disability.")
Disability: TypeAlias = v.Disability
strawberry.enum(v.SexualOrientation, description="Self-declared sexual orientation.")
SexualOrientation: TypeAlias = v.SexualOrientation
strawberry.enum(v.EducationLevel, description="Self-declared highest education level.")
EducationLevel: TypeAlias = v.EducationLevel
strawberry.enum(DomainRole, description="What an access token may do.")
Role: TypeAlias = DomainRole


@strawberry.enum(
    description="How an answer's counts of people are shown to the caller."
)
class PeopleFigures(Enum):
    EXACT = strawberry.enum_value(
        "exact",
        description="Exactly: the caller's token is granted personal data.",
    )
    SMALL_NUMBERS_SUPPRESSED = strawberry.enum_value(
        "small_numbers_suppressed",
        description="A count from 1 to below the organisation's threshold (default "
        "5) is suppressed, and so is any count that would let one be worked out from "
        "the others; shares and means computed from a suppressed count are withheld.",
    )
    WITHHELD = strawberry.enum_value(
        "withheld",
        description="Every count of people is suppressed: figures narrowed by a past "
        "moment, a period or a cycle could be subtracted from their neighbours to "
        "reveal a small number, so only a caller granted personal data sees them. "
        "Ask for the record as it stands now, by organisation or initiative.",
    )


@strawberry.enum(description="Why a count of people is suppressed for the caller.")
class SuppressionReason(Enum):
    SMALL_NUMBERS = strawberry.enum_value(
        "small_numbers",
        description="The small-number rule: the count is from 1 to below the "
        "organisation's threshold (default 5), or it is hidden so that such a count "
        "cannot be worked out from the others (a total less its visible parts); a "
        "meeting's count of service users and carers below the threshold is hidden "
        "even when 0, so that 0 and 1 look the same. Which of these it is, is not "
        "said, and cannot be: with a total of 4 and four rows under it each marked a "
        "small number itself, every row would be 1 (each at least 1, adding up to "
        "4). Marking the protecting counts instead would tell them as 0 or at least "
        "the threshold, and pin their neighbours the same way.",
    )
    WITHHELD = strawberry.enum_value(
        "withheld",
        description="Every count of people of this answer is withheld: it is "
        "narrowed by a past moment (asOf), a period or a cycle (peopleFigures "
        "WITHHELD), so only a caller granted personal data sees it.",
    )
