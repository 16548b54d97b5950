"""The GraphQL write API: one mutation per use case of the 4PI record, each a thin mapping onto the application service."""

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, TypeVar
from uuid import UUID

import strawberry

# Importing the GraphQL enums names and describes the domain's vocabularies, which
# the inputs below use as they are (the enum classes are the domain's own).
import fourpi.graphql.enums  # noqa: F401
from fourpi.domain.access import Role, check_grant
from fourpi.domain.errors import DomainError, InvalidInput
from fourpi.domain.policy import DEFAULT_REVIEW_INTERVAL_MONTHS
from fourpi.domain.use_cases import (
    ADOPT_INVOLVEMENT_POLICY,
    ASSESS_INTENDED_OUTCOME,
    ASSIGN_ROLE,
    DECLARE_MONITORING_DATA,
    DEFINE_REFERENCE_POPULATION,
    END_ROLE,
    EVALUATE_CYCLE,
    GIVE_FEEDBACK,
    LAUNCH_INITIATIVE,
    LEARN_FROM_CYCLE,
    LOG_CONTRIBUTION,
    MAKE_REASONABLE_ADJUSTMENT,
    NAME_MEETING_RESERVE,
    RECORD_ATTENDANCE,
    RECORD_CHANGE,
    RECORD_INTENDED_OUTCOME,
    RECORD_PAYMENT_MADE,
    RECORD_PAYMENT_OWED,
    RECORD_PROCESS_EXPERIENCE,
    RECORD_SUPPORT,
    REFLECT_ON_CYCLE,
    REGISTER_PARTICIPANT,
    RESPOND_TO_CONTRIBUTION,
    REVIEW_INVOLVEMENT_POLICY,
    SCHEDULE_MEETING,
    SEND_MEETING_PAPERS,
    SET_PAYMENT_PREFERENCE,
    START_CYCLE,
)
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
from fourpi.graphql.calls import for_input
from fourpi.graphql.context import Caller, FourPIInfo
from fourpi.graphql.drawn import drawn_from, input_description
from fourpi.graphql.errors import BAD_USER_INPUT, FORBIDDEN, client_error, from_domain
from fourpi.graphql.permissions import ADMINS, MANAGERS, caller_of, organisation_of
from fourpi.graphql.reading import local_moment, parse_id
from fourpi.privacy.visibility import may_pass_on_grant

INPUT = strawberry.argument(
    description="The facts to record; each field of the input type says what it is."
)

# Payloads


@strawberry.type(
    description="What a write recorded, and where the event log stood just after it."
)
class Recorded:
    id: strawberry.ID | None = strawberry.field(
        description="The new record's id when the write created one (an initiative, "
        "intended outcome, role, participant, meeting, contribution, change, "
        "process-experience answer, payment, support, reference population, involvement "
        "policy or organisation); null when it added to an existing record."
    )
    cycle_number: int | None = strawberry.field(
        description="The number of the Act-Evaluate-Reflect-Learn cycle that entered Act "
        "(startCycle only); null otherwise."
    )
    log_position: int = strawberry.field(
        description="The event log's position just after this write: ask for answers as "
        "of this position to see them include it."
    )


@strawberry.type(
    description="A new access token. The secret is shown here once and never again: "
    "only a hash of it is kept, so store it safely now."
)
class TokenIssued:
    token_id: strawberry.ID = strawberry.field(
        description="The token's id, to revoke it later."
    )
    token: str = strawberry.field(
        description="The secret to send as 'Authorization: Bearer <token>'; shown once."
    )
    role: Role = strawberry.field(description="What the token may do.")
    personal_data: bool = strawberry.field(
        description="Whether the token is granted personal data."
    )


# Inputs


def _idempotency_key() -> Any:
    return strawberry.field(
        default=None,
        description="Any string unique to this write in the organisation: sent again "
        "with the same write, nothing new is recorded and the first result is returned; "
        "sent with a different write, it is refused.",
    )


@strawberry.input(description="Register an organisation (a tenant of the 4PI record).")
class RegisterOrganisationInput:
    name: str = strawberry.field(description="The organisation's name.")
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(
    description="Set the organisation's small-number threshold: counts of people from "
    "1 to below it are suppressed for callers whose token is not granted personal data."
)
class SetSuppressionThresholdInput:
    threshold: int = strawberry.field(
        description="From 2 to 100; the default is 5 (counts from 1 to 4 suppressed)."
    )
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(ADOPT_INVOLVEMENT_POLICY))
@drawn_from(ADOPT_INVOLVEMENT_POLICY)
class AdoptInvolvementPolicyInput:
    version_label: str
    adopted_on: dt.date
    summary: str = ""
    review_interval_months: int = DEFAULT_REVIEW_INTERVAL_MONTHS
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(REVIEW_INVOLVEMENT_POLICY))
@drawn_from(REVIEW_INVOLVEMENT_POLICY)
class ReviewInvolvementPolicyInput:
    reviewed_on: dt.date
    notes: str = ""
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(LAUNCH_INITIATIVE))
@drawn_from(LAUNCH_INITIATIVE)
class LaunchInitiativeInput:
    name: str
    level: InvolvementLevel
    involvement_kind: InvolvementKind
    methods: list[InvolvementMethod]
    purpose: str
    limits_of_influence: str
    started_on: dt.date
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(RECORD_INTENDED_OUTCOME))
@drawn_from(RECORD_INTENDED_OUTCOME)
class RecordIntendedOutcomeInput:
    initiative_id: strawberry.ID
    description: str
    impact_areas: list[ImpactArea]
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(ASSESS_INTENDED_OUTCOME))
@drawn_from(ASSESS_INTENDED_OUTCOME)
class AssessIntendedOutcomeInput:
    initiative_id: strawberry.ID
    outcome_id: strawberry.ID
    assessment: OutcomeAssessment
    involvement_difference: InvolvementDifference
    evidence: str
    assessed_on: dt.date
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(ASSIGN_ROLE))
@drawn_from(ASSIGN_ROLE)
class AssignRoleInput:
    initiative_id: strawberry.ID
    participant_id: strawberry.ID
    role: InvolvementRole
    paid: bool
    decision_making: bool
    started_on: dt.date
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(END_ROLE))
@drawn_from(END_ROLE)
class EndRoleInput:
    initiative_id: strawberry.ID
    role_id: strawberry.ID
    ended_on: dt.date
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(START_CYCLE))
@drawn_from(START_CYCLE)
class StartCycleInput:
    initiative_id: strawberry.ID
    focus_areas: list[ImpactArea]
    started_on: dt.date
    actions_taken_up: list[str] = strawberry.field(default_factory=list)
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(EVALUATE_CYCLE))
@drawn_from(EVALUATE_CYCLE)
class EvaluateCycleInput:
    initiative_id: strawberry.ID
    number: int
    findings: str
    entered_on: dt.date
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(REFLECT_ON_CYCLE))
@drawn_from(REFLECT_ON_CYCLE)
class ReflectOnCycleInput:
    initiative_id: strawberry.ID
    number: int
    reflections: str
    entered_on: dt.date
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(LEARN_FROM_CYCLE))
@drawn_from(LEARN_FROM_CYCLE)
class LearnFromCycleInput:
    initiative_id: strawberry.ID
    number: int
    lessons: str
    planned_actions: list[str]
    entered_on: dt.date
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(REGISTER_PARTICIPANT))
@drawn_from(REGISTER_PARTICIPANT)
class RegisterParticipantInput:
    pseudonym: str
    participant_kind: ParticipantKind
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(
    description="Self-declared monitoring data. Every category offers PREFER_NOT_TO_SAY; "
    "a category left null or out is not recorded, which is not the same."
)
class MonitoringDataInput:
    age_band: AgeBand | None = strawberry.field(
        default=None, description="Age band, if declared."
    )
    gender: Gender | None = strawberry.field(
        default=None, description="Gender, if declared."
    )
    ethnic_group: EthnicGroup | None = strawberry.field(
        default=None, description="Ethnic group (2021 census groups), if declared."
    )
    disability: Disability | None = strawberry.field(
        default=None, description="Disability, if declared."
    )
    sexual_orientation: SexualOrientation | None = strawberry.field(
        default=None, description="Sexual orientation, if declared."
    )
    education_level: EducationLevel | None = strawberry.field(
        default=None, description="Highest education level, if declared."
    )


@strawberry.input(description=input_description(DECLARE_MONITORING_DATA))
@drawn_from(DECLARE_MONITORING_DATA)
class DeclareMonitoringDataInput:
    participant_id: strawberry.ID
    monitoring: MonitoringDataInput = strawberry.field()
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(SET_PAYMENT_PREFERENCE))
@drawn_from(SET_PAYMENT_PREFERENCE)
class SetPaymentPreferenceInput:
    participant_id: strawberry.ID
    payment_preference: PaymentPreference
    earnings_limit: Decimal | None = None
    earnings_period: EarningsPeriod | None = None
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(
    description="Erase a participant's personal data for good (crypto-shredding)."
)
class EraseParticipantInput:
    participant_id: strawberry.ID = strawberry.field(
        description="The participant to erase."
    )
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(SCHEDULE_MEETING))
@drawn_from(SCHEDULE_MEETING)
class ScheduleMeetingInput:
    initiative_id: strawberry.ID
    title: str
    held_at: dt.datetime
    high_level: bool
    decision_making: bool
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(SEND_MEETING_PAPERS))
@drawn_from(SEND_MEETING_PAPERS)
class SendMeetingPapersInput:
    meeting_id: strawberry.ID
    sent_at: dt.datetime
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(RECORD_ATTENDANCE))
@drawn_from(RECORD_ATTENDANCE)
class RecordAttendanceInput:
    meeting_id: strawberry.ID
    participant_ids: list[strawberry.ID]
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(NAME_MEETING_RESERVE))
@drawn_from(NAME_MEETING_RESERVE)
class NameMeetingReserveInput:
    meeting_id: strawberry.ID
    participant_id: strawberry.ID
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(MAKE_REASONABLE_ADJUSTMENT))
@drawn_from(MAKE_REASONABLE_ADJUSTMENT)
class MakeReasonableAdjustmentInput:
    meeting_id: strawberry.ID
    description: str
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(LOG_CONTRIBUTION))
@drawn_from(LOG_CONTRIBUTION)
class LogContributionInput:
    initiative_id: strawberry.ID
    contributor_ids: list[strawberry.ID]
    nature: ContributionNature
    summary: str
    impact_areas: list[ImpactArea]
    made_on: dt.date
    meeting_id: strawberry.ID | None = None
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(RESPOND_TO_CONTRIBUTION))
@drawn_from(RESPOND_TO_CONTRIBUTION)
class RespondToContributionInput:
    contribution_id: strawberry.ID
    outcome: ResponseOutcome
    responded_on: dt.date
    rationale: str = ""
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(GIVE_FEEDBACK))
@drawn_from(GIVE_FEEDBACK)
class GiveFeedbackInput:
    contribution_id: strawberry.ID
    given_on: dt.date
    method: FeedbackMethod
    summary: str
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(RECORD_CHANGE))
@drawn_from(RECORD_CHANGE)
class RecordChangeInput:
    initiative_id: strawberry.ID
    description: str
    impact_area: ImpactArea
    scope: ChangeScope
    evidence: str
    changed_on: dt.date
    contribution_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    beyond_kind: BeyondKind | None = None
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description="One score of a process-experience answer.")
class ProcessScoreInput:
    dimension: ProcessDimension = strawberry.field(description="What is scored.")
    score: int = strawberry.field(description="From 1 to 5.")


@strawberry.input(description=input_description(RECORD_PROCESS_EXPERIENCE))
@drawn_from(RECORD_PROCESS_EXPERIENCE)
class RecordProcessExperienceInput:
    initiative_id: strawberry.ID
    respondent_kind: RespondentKind
    stage: QuestionnaireStage
    scores: list[ProcessScoreInput] = strawberry.field()
    answered_on: dt.date
    participant_id: strawberry.ID | None = None
    free_text: str = ""
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(RECORD_PAYMENT_OWED))
@drawn_from(RECORD_PAYMENT_OWED)
class RecordPaymentOwedInput:
    participant_id: strawberry.ID
    payment_kind: PaymentKind
    amount: Decimal
    owed_on: dt.date
    initiative_id: strawberry.ID | None = None
    description: str = ""
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(RECORD_PAYMENT_MADE))
@drawn_from(RECORD_PAYMENT_MADE)
class RecordPaymentMadeInput:
    payment_id: strawberry.ID
    paid_on: dt.date
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description=input_description(RECORD_SUPPORT))
@drawn_from(RECORD_SUPPORT)
class RecordSupportInput:
    support_kind: SupportKind
    given_on: dt.date
    initiative_id: strawberry.ID | None = None
    participant_ids: list[strawberry.ID] = strawberry.field(default_factory=list)
    hours: Decimal | None = None
    description: str = ""
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(
    description="One share of a reference population: the fraction of the population "
    "with this value in this monitoring category."
)
class PopulationShareInput:
    category: MonitoringCategory = strawberry.field(
        description="The monitoring category."
    )
    value: str = strawberry.field(
        description="A value of the category as the answers spell it, e.g. "
        "'woman', '18_24', 'white_british', 'prefer_not_to_say'."
    )
    share: Decimal = strawberry.field(
        description="The fraction from 0 to 1; a category's shares add up to at most 1."
    )


@strawberry.input(description=input_description(DEFINE_REFERENCE_POPULATION))
@drawn_from(DEFINE_REFERENCE_POPULATION)
class DefineReferencePopulationInput:
    description: str
    shares: list[PopulationShareInput]
    initiative_id: strawberry.ID | None = None
    idempotency_key: str | None = _idempotency_key()


@strawberry.input(description="Issue an access token.")
class IssueTokenInput:
    role: Role = strawberry.field(description="What the token may do.")
    organisation_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The organisation the token belongs to. Absent: the caller's own "
        "organisation, or for a global admin a new global admin token. Only a global "
        "admin may name another organisation.",
    )
    label: str = strawberry.field(
        default="", description="A note on who or what the token is for."
    )
    personal_data: bool = strawberry.field(
        default=False,
        description="Grant the token personal data: it reads pseudonyms, monitoring "
        "data, payment preferences and earnings limits, and free text, which are "
        "otherwise withheld. Manager, auditor and admin tokens only, and only by an "
        "admin whose own token holds the grant.",
    )


@strawberry.input(description="Revoke an access token: it stops working at once.")
class RevokeTokenInput:
    token_id: strawberry.ID = strawberry.field(description="The token to revoke.")


# Mapping inputs to the service's arguments

R = TypeVar("R")


def _ids(values: Iterable[strawberry.ID], field: str) -> list[UUID | None]:
    return [parse_id(value, field) for value in values]


def _once_each(keys: list[Any], field: str) -> None:
    # A list becomes a mapping here, and a repeated key would silently lose a value.
    if len(set(keys)) != len(keys):
        raise client_error(
            f"{field}: each entry must be given at most once", BAD_USER_INPUT, field
        )


def _by_place(
    use_case: Callable[..., R], field: str, keys: list[tuple[str, ...]], leaf: str
) -> Callable[..., R]:
    """The use case, with a refused entry of a list the client sent, which the record
    keeps under its keys (shares.age_band.18_24), named by its place in that list
    (shares.1.share): the keys, read as the API names fields, would be mangled
    (ageBand.1824), and are not how the client sent them. A refusal of all a key's
    entries together (a category's shares adding up to more than 1) names the first."""

    def run(**arguments: Any) -> R:
        try:
            return use_case(**arguments)
        except InvalidInput as error:
            root, _, rest = (error.field or "").partition(".")
            if root != field or not rest:
                raise
            named = tuple(rest.split("."))
            for place, key in enumerate(keys):
                if key == named:
                    raise InvalidInput(f"{field}.{place}.{leaf}", error.rule) from None
                if key[: len(named)] == named:
                    raise InvalidInput(f"{field}.{place}", error.rule) from None
            raise

    return run


def _scores(given: list[ProcessScoreInput]) -> dict[Any, int]:
    _once_each([s.dimension for s in given], "input.scores")
    return {s.dimension: s.score for s in given}


def _shares(given: list[PopulationShareInput]) -> dict[Any, dict[str, Decimal]]:
    _once_each([(s.category, s.value) for s in given], "input.shares")
    shares: dict[Any, dict[str, Decimal]] = {}
    for share in given:
        shares.setdefault(share.category, {})[share.value] = share.share
    return shares


def _written(
    info: FourPIInfo, use_case: Callable[..., object], **arguments: Any
) -> Recorded:
    """Runs the use case (in the request's worker thread, see fourpi.graphql.app);
    the log position is that of its save."""
    records = info.context.records
    result, position = for_input(
        partial(records.with_position, partial(use_case, **arguments))
    )
    return Recorded(
        id=strawberry.ID(str(result)) if isinstance(result, UUID) else None,
        cycle_number=result if isinstance(result, int) else None,
        log_position=position,
    )


def _recorded(
    info: FourPIInfo, use_case: Callable[..., object], **arguments: Any
) -> Recorded:
    """Runs a use case of the 4PI record for the caller's own organisation."""
    return _written(
        info,
        use_case,
        organisation_id=organisation_of(info),
        actor=caller_of(info).actor,
        **arguments,
    )


def _global_admin(info: FourPIInfo) -> Caller:
    caller = caller_of(info)
    if caller.organisation_id is not None:
        raise client_error("only a global admin may register organisations", FORBIDDEN)
    return caller


def _token_organisation(caller: Caller, given: UUID | None) -> UUID | None:
    """A global admin issues for any organisation; an organisation's admin only for its own."""
    if caller.organisation_id is None:
        return given
    if given is not None and given != caller.organisation_id:
        raise client_error(
            "input.organisationId: an organisation's admin may issue tokens only for "
            "its own organisation",
            FORBIDDEN,
            "input.organisationId",
        )
    return caller.organisation_id


# Resolvers: each maps its input to the arguments of one use case


def _register_organisation(
    info: FourPIInfo, input: Annotated[RegisterOrganisationInput, INPUT]
) -> Recorded:
    caller = _global_admin(info)
    return _written(
        info,
        info.context.records.register_organisation,
        name=input.name,
        actor=caller.actor,
        idempotency_key=input.idempotency_key,
    )


def _issue_token(
    info: FourPIInfo, input: Annotated[IssueTokenInput, INPUT]
) -> TokenIssued:
    caller = caller_of(info)
    organisation = _token_organisation(
        caller, parse_id(input.organisation_id, "input.organisationId")
    )
    try:
        check_grant(input.role, input.personal_data)
    except DomainError as error:
        raise from_domain(error, under="input") from error
    if input.personal_data and not may_pass_on_grant(caller):
        raise client_error(
            "input.personalData: only an admin whose own token is granted personal "
            "data may grant it",
            FORBIDDEN,
            "input.personalData",
        )
    token_id, secret = for_input(
        partial(
            info.context.records.issue_token,
            organisation_id=organisation,
            role=input.role,
            actor=caller.actor,
            label=input.label,
            personal_data=input.personal_data,
        )
    )
    return TokenIssued(
        token_id=strawberry.ID(str(token_id)),
        token=secret,
        role=input.role,
        personal_data=input.personal_data,
    )


def _revoke_token(
    info: FourPIInfo, input: Annotated[RevokeTokenInput, INPUT]
) -> Recorded:
    caller = caller_of(info)
    return _written(
        info,
        info.context.records.revoke_token,
        token_id=parse_id(input.token_id, "input.tokenId"),
        actor=caller.actor,
        organisation_id=caller.organisation_id,
    )


def _set_suppression_threshold(
    info: FourPIInfo, input: Annotated[SetSuppressionThresholdInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.set_suppression_threshold,
        threshold=input.threshold,
        idempotency_key=input.idempotency_key,
    )


def _adopt_involvement_policy(
    info: FourPIInfo, input: Annotated[AdoptInvolvementPolicyInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.adopt_involvement_policy,
        version_label=input.version_label,
        adopted_on=input.adopted_on,
        summary=input.summary,
        review_interval_months=input.review_interval_months,
        idempotency_key=input.idempotency_key,
    )


def _review_involvement_policy(
    info: FourPIInfo, input: Annotated[ReviewInvolvementPolicyInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.review_involvement_policy,
        reviewed_on=input.reviewed_on,
        notes=input.notes,
        idempotency_key=input.idempotency_key,
    )


def _launch_initiative(
    info: FourPIInfo, input: Annotated[LaunchInitiativeInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.launch_initiative,
        name=input.name,
        level=input.level,
        involvement_kind=input.involvement_kind,
        methods=input.methods,
        purpose=input.purpose,
        limits_of_influence=input.limits_of_influence,
        started_on=input.started_on,
        idempotency_key=input.idempotency_key,
    )


def _record_intended_outcome(
    info: FourPIInfo, input: Annotated[RecordIntendedOutcomeInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.record_intended_outcome,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        description=input.description,
        impact_areas=input.impact_areas,
        idempotency_key=input.idempotency_key,
    )


def _assess_intended_outcome(
    info: FourPIInfo, input: Annotated[AssessIntendedOutcomeInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.assess_intended_outcome,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        outcome_id=parse_id(input.outcome_id, "input.outcomeId"),
        assessment=input.assessment,
        involvement_difference=input.involvement_difference,
        evidence=input.evidence,
        assessed_on=input.assessed_on,
        idempotency_key=input.idempotency_key,
    )


def _assign_role(
    info: FourPIInfo, input: Annotated[AssignRoleInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.assign_role,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        participant_id=parse_id(input.participant_id, "input.participantId"),
        role=input.role,
        paid=input.paid,
        decision_making=input.decision_making,
        started_on=input.started_on,
        idempotency_key=input.idempotency_key,
    )


def _end_role(info: FourPIInfo, input: Annotated[EndRoleInput, INPUT]) -> Recorded:
    return _recorded(
        info,
        info.context.records.end_role,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        role_id=parse_id(input.role_id, "input.roleId"),
        ended_on=input.ended_on,
        idempotency_key=input.idempotency_key,
    )


def _start_cycle(
    info: FourPIInfo, input: Annotated[StartCycleInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.start_cycle,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        focus_areas=input.focus_areas,
        started_on=input.started_on,
        actions_taken_up=input.actions_taken_up,
        idempotency_key=input.idempotency_key,
    )


def _evaluate_cycle(
    info: FourPIInfo, input: Annotated[EvaluateCycleInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.evaluate_cycle,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        number=input.number,
        findings=input.findings,
        entered_on=input.entered_on,
        idempotency_key=input.idempotency_key,
    )


def _reflect_on_cycle(
    info: FourPIInfo, input: Annotated[ReflectOnCycleInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.reflect_on_cycle,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        number=input.number,
        reflections=input.reflections,
        entered_on=input.entered_on,
        idempotency_key=input.idempotency_key,
    )


def _learn_from_cycle(
    info: FourPIInfo, input: Annotated[LearnFromCycleInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.learn_from_cycle,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        number=input.number,
        lessons=input.lessons,
        planned_actions=input.planned_actions,
        entered_on=input.entered_on,
        idempotency_key=input.idempotency_key,
    )


def _register_participant(
    info: FourPIInfo, input: Annotated[RegisterParticipantInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.register_participant,
        pseudonym=input.pseudonym,
        participant_kind=input.participant_kind,
        idempotency_key=input.idempotency_key,
    )


def _declare_monitoring_data(
    info: FourPIInfo, input: Annotated[DeclareMonitoringDataInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.declare_monitoring_data,
        participant_id=parse_id(input.participant_id, "input.participantId"),
        monitoring=dataclasses.asdict(input.monitoring),
        idempotency_key=input.idempotency_key,
    )


def _set_payment_preference(
    info: FourPIInfo, input: Annotated[SetPaymentPreferenceInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.set_payment_preference,
        participant_id=parse_id(input.participant_id, "input.participantId"),
        payment_preference=input.payment_preference,
        earnings_limit=input.earnings_limit,
        earnings_period=input.earnings_period,
        idempotency_key=input.idempotency_key,
    )


def _erase_participant(
    info: FourPIInfo, input: Annotated[EraseParticipantInput, INPUT]
) -> Recorded:
    caller = caller_of(info)
    # A global admin erases in the participant's own organisation; an
    # organisation's admin only among its own participants (another's reads as
    # one that does not exist).
    return _written(
        info,
        info.context.records.erase_participant,
        participant_id=parse_id(input.participant_id, "input.participantId"),
        organisation_id=caller.organisation_id,
        actor=caller.actor,
        idempotency_key=input.idempotency_key,
    )


def _schedule_meeting(
    info: FourPIInfo, input: Annotated[ScheduleMeetingInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.schedule_meeting,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        title=input.title,
        held_at=local_moment(input.held_at, "input.heldAt"),
        high_level=input.high_level,
        decision_making=input.decision_making,
        idempotency_key=input.idempotency_key,
    )


def _send_meeting_papers(
    info: FourPIInfo, input: Annotated[SendMeetingPapersInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.send_meeting_papers,
        meeting_id=parse_id(input.meeting_id, "input.meetingId"),
        sent_at=local_moment(input.sent_at, "input.sentAt"),
        idempotency_key=input.idempotency_key,
    )


def _record_attendance(
    info: FourPIInfo, input: Annotated[RecordAttendanceInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.record_attendance,
        meeting_id=parse_id(input.meeting_id, "input.meetingId"),
        participant_ids=_ids(input.participant_ids, "input.participantIds"),
        idempotency_key=input.idempotency_key,
    )


def _name_meeting_reserve(
    info: FourPIInfo, input: Annotated[NameMeetingReserveInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.name_meeting_reserve,
        meeting_id=parse_id(input.meeting_id, "input.meetingId"),
        participant_id=parse_id(input.participant_id, "input.participantId"),
        idempotency_key=input.idempotency_key,
    )


def _make_reasonable_adjustment(
    info: FourPIInfo, input: Annotated[MakeReasonableAdjustmentInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.make_reasonable_adjustment,
        meeting_id=parse_id(input.meeting_id, "input.meetingId"),
        description=input.description,
        idempotency_key=input.idempotency_key,
    )


def _log_contribution(
    info: FourPIInfo, input: Annotated[LogContributionInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.log_contribution,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        contributor_ids=_ids(input.contributor_ids, "input.contributorIds"),
        nature=input.nature,
        summary=input.summary,
        impact_areas=input.impact_areas,
        made_on=input.made_on,
        meeting_id=parse_id(input.meeting_id, "input.meetingId"),
        idempotency_key=input.idempotency_key,
    )


def _respond_to_contribution(
    info: FourPIInfo, input: Annotated[RespondToContributionInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.respond_to_contribution,
        contribution_id=parse_id(input.contribution_id, "input.contributionId"),
        outcome=input.outcome,
        rationale=input.rationale,
        responded_on=input.responded_on,
        idempotency_key=input.idempotency_key,
    )


def _give_feedback(
    info: FourPIInfo, input: Annotated[GiveFeedbackInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.give_feedback,
        contribution_id=parse_id(input.contribution_id, "input.contributionId"),
        given_on=input.given_on,
        method=input.method,
        summary=input.summary,
        idempotency_key=input.idempotency_key,
    )


def _record_change(
    info: FourPIInfo, input: Annotated[RecordChangeInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.record_change,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        description=input.description,
        impact_area=input.impact_area,
        scope=input.scope,
        evidence=input.evidence,
        changed_on=input.changed_on,
        contribution_ids=_ids(input.contribution_ids, "input.contributionIds"),
        beyond_kind=input.beyond_kind,
        idempotency_key=input.idempotency_key,
    )


def _record_process_experience(
    info: FourPIInfo, input: Annotated[RecordProcessExperienceInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        _by_place(
            info.context.records.record_process_experience,
            "scores",
            [(s.dimension.value,) for s in input.scores],
            "score",
        ),
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        respondent_kind=input.respondent_kind,
        stage=input.stage,
        scores=_scores(input.scores),
        answered_on=input.answered_on,
        participant_id=parse_id(input.participant_id, "input.participantId"),
        free_text=input.free_text,
        idempotency_key=input.idempotency_key,
    )


def _record_payment_owed(
    info: FourPIInfo, input: Annotated[RecordPaymentOwedInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.record_payment_owed,
        participant_id=parse_id(input.participant_id, "input.participantId"),
        payment_kind=input.payment_kind,
        amount=input.amount,
        owed_on=input.owed_on,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        description=input.description,
        idempotency_key=input.idempotency_key,
    )


def _record_payment_made(
    info: FourPIInfo, input: Annotated[RecordPaymentMadeInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.record_payment_made,
        payment_id=parse_id(input.payment_id, "input.paymentId"),
        paid_on=input.paid_on,
        idempotency_key=input.idempotency_key,
    )


def _record_support(
    info: FourPIInfo, input: Annotated[RecordSupportInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        info.context.records.record_support,
        support_kind=input.support_kind,
        given_on=input.given_on,
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        participant_ids=_ids(input.participant_ids, "input.participantIds"),
        hours=input.hours,
        description=input.description,
        idempotency_key=input.idempotency_key,
    )


def _define_reference_population(
    info: FourPIInfo, input: Annotated[DefineReferencePopulationInput, INPUT]
) -> Recorded:
    return _recorded(
        info,
        _by_place(
            info.context.records.define_reference_population,
            "shares",
            [(s.category.value, s.value) for s in input.shares],
            "share",
        ),
        description=input.description,
        shares=_shares(input.shares),
        initiative_id=parse_id(input.initiative_id, "input.initiativeId"),
        idempotency_key=input.idempotency_key,
    )


# The write root: every mutation, and who may use it


@strawberry.type(description="Everything that can be recorded, one use case each.")
class Mutation:
    # Organisations, access and the involvement policy
    register_organisation: Recorded = strawberry.mutation(
        resolver=_register_organisation,
        description="Register an organisation (global admins only).",
        extensions=ADMINS,
    )
    issue_token: TokenIssued = strawberry.mutation(
        resolver=_issue_token,
        description="Issue an access token; its secret is returned once.",
        extensions=ADMINS,
    )
    revoke_token: Recorded = strawberry.mutation(
        resolver=_revoke_token,
        description="Revoke an access token (an organisation's admin: only its own "
        "organisation's).",
        extensions=ADMINS,
    )
    set_suppression_threshold: Recorded = strawberry.mutation(
        resolver=_set_suppression_threshold,
        description="Set the organisation's small-number threshold (an "
        "organisation's admin).",
        extensions=ADMINS,
    )
    adopt_involvement_policy: Recorded = strawberry.mutation(
        resolver=_adopt_involvement_policy,
        description="Adopt the involvement policy, or a new version of it.",
        extensions=MANAGERS,
    )
    review_involvement_policy: Recorded = strawberry.mutation(
        resolver=_review_involvement_policy,
        description="Record a review of the involvement policy.",
        extensions=MANAGERS,
    )

    # Initiatives: purpose, intended outcomes, roles, cycles
    launch_initiative: Recorded = strawberry.mutation(
        resolver=_launch_initiative,
        description="Launch an initiative with its purpose and limits of influence.",
        extensions=MANAGERS,
    )
    record_intended_outcome: Recorded = strawberry.mutation(
        resolver=_record_intended_outcome,
        description="Record an intended outcome of an initiative (impact question 1).",
        extensions=MANAGERS,
    )
    assess_intended_outcome: Recorded = strawberry.mutation(
        resolver=_assess_intended_outcome,
        description="Assess an intended outcome, and whether involvement made a "
        "difference to it.",
        extensions=MANAGERS,
    )
    assign_role: Recorded = strawberry.mutation(
        resolver=_assign_role,
        description="Give a participant a role in an initiative.",
        extensions=MANAGERS,
    )
    end_role: Recorded = strawberry.mutation(
        resolver=_end_role,
        description="End a participant's role in an initiative.",
        extensions=MANAGERS,
    )
    start_cycle: Recorded = strawberry.mutation(
        resolver=_start_cycle,
        description="Start a new Act-Evaluate-Reflect-Learn cycle: it enters Act.",
        extensions=MANAGERS,
    )
    evaluate_cycle: Recorded = strawberry.mutation(
        resolver=_evaluate_cycle,
        description="Move a cycle into Evaluate, recording its findings.",
        extensions=MANAGERS,
    )
    reflect_on_cycle: Recorded = strawberry.mutation(
        resolver=_reflect_on_cycle,
        description="Move a cycle into Reflect, recording its reflections.",
        extensions=MANAGERS,
    )
    learn_from_cycle: Recorded = strawberry.mutation(
        resolver=_learn_from_cycle,
        description="Move a cycle into Learn, recording its lessons and the actions "
        "planned for the next Act.",
        extensions=MANAGERS,
    )

    # Participants
    register_participant: Recorded = strawberry.mutation(
        resolver=_register_participant,
        description="Register a participant under a pseudonym.",
        extensions=MANAGERS,
    )
    declare_monitoring_data: Recorded = strawberry.mutation(
        resolver=_declare_monitoring_data,
        description="Record a participant's self-declared monitoring data.",
        extensions=MANAGERS,
    )
    set_payment_preference: Recorded = strawberry.mutation(
        resolver=_set_payment_preference,
        description="Record how a participant chooses to be paid.",
        extensions=MANAGERS,
    )
    erase_participant: Recorded = strawberry.mutation(
        resolver=_erase_participant,
        description="Erase a participant's personal data for good (admins only; an "
        "organisation's admin only its own participants). Their key is destroyed, so "
        "their pseudonym, monitoring data, payment preference and earnings limit, and "
        "the free text of their process-experience answers read as erased everywhere, "
        "in every answer as of any position too; their other facts remain, and the log "
        "still verifies. Erasing someone already erased records nothing. It cannot be "
        "undone.",
        extensions=ADMINS,
    )

    # Meetings
    schedule_meeting: Recorded = strawberry.mutation(
        resolver=_schedule_meeting,
        description="Schedule a meeting of an initiative.",
        extensions=MANAGERS,
    )
    send_meeting_papers: Recorded = strawberry.mutation(
        resolver=_send_meeting_papers,
        description="Record when a meeting's papers were sent.",
        extensions=MANAGERS,
    )
    record_attendance: Recorded = strawberry.mutation(
        resolver=_record_attendance,
        description="Record who attended a meeting.",
        extensions=MANAGERS,
    )
    name_meeting_reserve: Recorded = strawberry.mutation(
        resolver=_name_meeting_reserve,
        description="Name a service user or carer as a meeting's reserve.",
        extensions=MANAGERS,
    )
    make_reasonable_adjustment: Recorded = strawberry.mutation(
        resolver=_make_reasonable_adjustment,
        description="Record a reasonable adjustment made for a meeting.",
        extensions=MANAGERS,
    )

    # Contributions, responses, feedback, changes
    log_contribution: Recorded = strawberry.mutation(
        resolver=_log_contribution,
        description="Log a contribution from service users or carers.",
        extensions=MANAGERS,
    )
    respond_to_contribution: Recorded = strawberry.mutation(
        resolver=_respond_to_contribution,
        description="Record what the organisation decided to do with a contribution.",
        extensions=MANAGERS,
    )
    give_feedback: Recorded = strawberry.mutation(
        resolver=_give_feedback,
        description="Record that contributors were told what became of their "
        "contribution.",
        extensions=MANAGERS,
    )
    record_change: Recorded = strawberry.mutation(
        resolver=_record_change,
        description="Record a change: a difference made, and where it came from.",
        extensions=MANAGERS,
    )

    # Process experience, payments, support, reference populations
    record_process_experience: Recorded = strawberry.mutation(
        resolver=_record_process_experience,
        description="Record a process-experience questionnaire answer.",
        extensions=MANAGERS,
    )
    record_payment_owed: Recorded = strawberry.mutation(
        resolver=_record_payment_owed,
        description="Record a payment owed to a participant.",
        extensions=MANAGERS,
    )
    record_payment_made: Recorded = strawberry.mutation(
        resolver=_record_payment_made,
        description="Record that a payment owed was paid.",
        extensions=MANAGERS,
    )
    record_support: Recorded = strawberry.mutation(
        resolver=_record_support,
        description="Record support or training given.",
        extensions=MANAGERS,
    )
    define_reference_population: Recorded = strawberry.mutation(
        resolver=_define_reference_population,
        description="Define the reference population of an initiative or of the "
        "organisation.",
        extensions=MANAGERS,
    )
