"""A contribution from service users or carers, the organisation's response to it, and the feedback that closes the loop."""

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from fourpi.domain.errors import InvalidInput
from fourpi.domain.initiative import Initiative
from fourpi.domain.meeting import Meeting
from fourpi.domain.participant import Participant, check_people_named
from fourpi.domain.record import (
    OrganisationRecord,
    check_date,
    check_member,
    check_members,
    check_optional_text,
    check_same_organisation,
    check_text,
    check_unique_ids,
)
from fourpi.domain.vocabulary import (
    ContributionNature,
    FeedbackMethod,
    ImpactArea,
    ResponseOutcome,
)
from fourpi.local_time import local_date


@dataclass
class Response:
    outcome: ResponseOutcome
    rationale: str
    responded_on: date


@dataclass
class Feedback:
    given_on: date
    method: FeedbackMethod
    summary: str


class Contribution(OrganisationRecord):
    kind = "contribution"
    if TYPE_CHECKING:
        initiative_id: UUID
        meeting_id: UUID | None
        contributor_ids: tuple[UUID, ...]
        nature: ContributionNature
        summary: str
        impact_areas: tuple[ImpactArea, ...]
        made_on: date
        responses: list[Response]
        feedback: list[Feedback]

    class Logged(OrganisationRecord.Created):
        initiative_id: UUID
        meeting_id: UUID | None
        contributor_ids: tuple[UUID, ...]
        nature: ContributionNature
        summary: str
        impact_areas: tuple[ImpactArea, ...]
        made_on: date

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.initiative_id = self.initiative_id
            aggregate.meeting_id = self.meeting_id
            aggregate.contributor_ids = self.contributor_ids
            aggregate.nature = self.nature
            aggregate.summary = self.summary
            aggregate.impact_areas = self.impact_areas
            aggregate.made_on = self.made_on
            aggregate.responses = []
            aggregate.feedback = []

    class Responded(OrganisationRecord.Event):
        outcome: ResponseOutcome
        rationale: str
        responded_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.responses.append(
                Response(self.outcome, self.rationale, self.responded_on)
            )

    class FeedbackGiven(OrganisationRecord.Event):
        given_on: date
        method: FeedbackMethod
        summary: str

        def apply(self, aggregate: Any) -> None:
            aggregate.feedback.append(
                Feedback(self.given_on, self.method, self.summary)
            )

    @classmethod
    def log(
        cls,
        *,
        contribution_id: UUID,
        initiative: Initiative,
        meeting: Meeting | None,
        contributors: list[Participant],
        nature: ContributionNature,
        summary: str,
        impact_areas: tuple[ImpactArea, ...],
        made_on: date,
        recorded_by: str,
    ) -> Self:
        check_people_named(initiative.organisation_id, "contributor_ids", contributors)
        ids = check_unique_ids(
            "contributor_ids", (p.id for p in contributors), at_least=1
        )
        for person in contributors:
            if not person.has_lived_experience_voice:
                raise InvalidInput(
                    "contributor_ids",
                    f"participant {person.id} is {person.participant_kind}; "
                    "contributions come from service users or carers",
                )
        if meeting is not None:
            check_same_organisation(initiative.organisation_id, "meeting_id", [meeting])
            if meeting.initiative_id != initiative.id:
                raise InvalidInput(
                    "meeting_id", f"meeting {meeting.id} is not part of this initiative"
                )
        check_date("made_on", made_on)
        if meeting is not None and made_on < (held_on := local_date(meeting.held_at)):
            raise InvalidInput(
                "made_on",
                f"must not be before the meeting it was made at ({held_on})",
            )
        initiative.check_not_before_start("made_on", made_on)
        return cls._open(
            cls.Logged,
            record_id=contribution_id,
            organisation_id=initiative.organisation_id,
            recorded_by=recorded_by,
            initiative_id=initiative.id,
            meeting_id=None if meeting is None else meeting.id,
            contributor_ids=ids,
            nature=check_member("nature", nature, ContributionNature),
            summary=check_text("summary", summary),
            impact_areas=check_members("impact_areas", impact_areas, ImpactArea),
            made_on=made_on,
        )

    @property
    def latest_response(self) -> Response | None:
        return self.responses[-1] if self.responses else None

    @property
    def from_service_users_or_carers(self) -> bool:
        """Guaranteed when logged: only service users and carers contribute."""
        return bool(self.contributor_ids)

    def respond(
        self,
        *,
        outcome: ResponseOutcome,
        rationale: str,
        responded_on: date,
        recorded_by: str,
    ) -> None:
        outcome = check_member("outcome", outcome, ResponseOutcome)
        if outcome is ResponseOutcome.DECLINED:
            # 4PI asks for clarity and transparency: every decline is explained.
            rationale = check_text("rationale", rationale)
        else:
            rationale = check_optional_text("rationale", rationale)
        latest = self.latest_response
        if latest is not None and latest.outcome is not ResponseOutcome.DEFERRED:
            raise InvalidInput(
                "outcome",
                f"the contribution was already {latest.outcome} on "
                f"{latest.responded_on}; only a deferred one can be answered again",
            )
        check_date("responded_on", responded_on)
        earliest = latest.responded_on if latest else self.made_on
        if responded_on < earliest:
            raise InvalidInput(
                "responded_on",
                f"must not be before {earliest} (the contribution or its last response)",
            )
        self._record(
            self.Responded,
            recorded_by=recorded_by,
            outcome=outcome,
            rationale=rationale,
            responded_on=responded_on,
        )

    def give_feedback(
        self,
        *,
        given_on: date,
        method: FeedbackMethod,
        summary: str,
        recorded_by: str,
    ) -> None:
        latest = self.latest_response
        if latest is None:
            raise InvalidInput(
                "contribution_id",
                "has no response yet; feedback tells contributors what became of it",
            )
        check_date("given_on", given_on)
        if given_on < latest.responded_on:
            raise InvalidInput(
                "given_on", f"must not be before the response ({latest.responded_on})"
            )
        self._record(
            self.FeedbackGiven,
            recorded_by=recorded_by,
            given_on=given_on,
            method=check_member("method", method, FeedbackMethod),
            summary=check_text("summary", summary),
        )
