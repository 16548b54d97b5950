"""A process-experience answer (impact question 3): how one respondent felt about the involvement, scored 1 to 5."""

from datetime import date
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from fourpi.domain.errors import InvalidInput
from fourpi.domain.initiative import Initiative
from fourpi.domain.participant import Participant, check_people_named
from fourpi.domain.record import (
    OrganisationRecord,
    check_date,
    check_member,
    check_optional_text,
)
from fourpi.domain.vocabulary import (
    ParticipantKind,
    ProcessDimension,
    QuestionnaireStage,
    RespondentKind,
)

LOWEST_SCORE = 1
# A trustee or "other" participant may answer as any kind of respondent.
RESPONDENT_KIND_OF = {
    ParticipantKind.SERVICE_USER: RespondentKind.SERVICE_USER,
    ParticipantKind.CARER: RespondentKind.CARER,
    ParticipantKind.STAFF: RespondentKind.STAFF,
}
HIGHEST_SCORE = 5


def check_scores(scores: dict[ProcessDimension, int]) -> dict[ProcessDimension, int]:
    if not scores:
        raise InvalidInput("scores", "must score at least one dimension")
    checked: dict[ProcessDimension, int] = {}
    for dimension, score in scores.items():
        key = check_member("scores", dimension, ProcessDimension)
        if (
            not isinstance(score, int)
            or isinstance(score, bool)
            or not LOWEST_SCORE <= score <= HIGHEST_SCORE
        ):
            raise InvalidInput(
                f"scores.{key}",
                f"must be a whole number from {LOWEST_SCORE} to {HIGHEST_SCORE}",
            )
        checked[key] = score
    return {d: checked[d] for d in ProcessDimension if d in checked}


class ProcessExperienceAnswer(OrganisationRecord):
    kind = "process-experience answer"
    if TYPE_CHECKING:
        initiative_id: UUID
        participant_id: UUID | None
        respondent_kind: RespondentKind
        stage: QuestionnaireStage
        scores: dict[ProcessDimension, int]
        free_text: str
        answered_on: date

    class Recorded(OrganisationRecord.Created):
        initiative_id: UUID
        participant_id: UUID | None
        respondent_kind: RespondentKind
        stage: QuestionnaireStage
        scores: dict[ProcessDimension, int]
        free_text: str
        answered_on: date

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.initiative_id = self.initiative_id
            aggregate.participant_id = self.participant_id
            aggregate.respondent_kind = self.respondent_kind
            aggregate.stage = self.stage
            aggregate.scores = dict(self.scores)
            aggregate.free_text = self.free_text
            aggregate.answered_on = self.answered_on

    @classmethod
    def record(
        cls,
        *,
        answer_id: UUID,
        initiative: Initiative,
        respondent: Participant | None,
        respondent_kind: RespondentKind,
        stage: QuestionnaireStage,
        scores: dict[ProcessDimension, int],
        free_text: str,
        answered_on: date,
        recorded_by: str,
    ) -> Self:
        respondent_kind = check_member(
            "respondent_kind", respondent_kind, RespondentKind
        )
        if respondent is not None:
            check_people_named(
                initiative.organisation_id, "participant_id", [respondent]
            )
            expected = RESPONDENT_KIND_OF.get(respondent.participant_kind)
            if expected is not None and expected is not respondent_kind:
                raise InvalidInput(
                    "respondent_kind",
                    f"participant {respondent.id} is a {respondent.participant_kind}, "
                    f"not a {respondent_kind}",
                )
        check_date("answered_on", answered_on)
        initiative.check_not_before_start("answered_on", answered_on)
        return cls._open(
            cls.Recorded,
            record_id=answer_id,
            organisation_id=initiative.organisation_id,
            recorded_by=recorded_by,
            initiative_id=initiative.id,
            participant_id=None if respondent is None else respondent.id,
            respondent_kind=respondent_kind,
            stage=check_member("stage", stage, QuestionnaireStage),
            scores=check_scores(scores),
            free_text=check_optional_text("free_text", free_text),
            answered_on=answered_on,
        )
