"""A meeting of an initiative: when, how senior, when its papers went out, who attended and what was adjusted."""

from datetime import datetime
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from fourpi.domain.errors import InvalidInput
from fourpi.domain.initiative import Initiative, check_flag
from fourpi.domain.participant import Participant, check_people_named
from fourpi.domain.record import (
    OrganisationRecord,
    check_moment,
    check_text,
    check_unique_ids,
)
from fourpi.local_time import local_date


def check_held_at(initiative: Initiative, held_at: datetime) -> datetime:
    held_at = check_moment("held_at", held_at)
    initiative.check_not_before_start("held_at", local_date(held_at))
    return held_at


class Meeting(OrganisationRecord):
    kind = "meeting"
    if TYPE_CHECKING:
        initiative_id: UUID
        title: str
        held_at: datetime
        high_level: bool
        decision_making: bool
        papers_sent_at: datetime | None
        attendee_ids: list[UUID]
        reserve_id: UUID | None
        adjustments: list[str]

    class Scheduled(OrganisationRecord.Created):
        initiative_id: UUID
        title: str
        held_at: datetime
        high_level: bool
        decision_making: bool

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.initiative_id = self.initiative_id
            aggregate.title = self.title
            aggregate.held_at = self.held_at
            aggregate.high_level = self.high_level
            aggregate.decision_making = self.decision_making
            aggregate.papers_sent_at = None
            aggregate.attendee_ids = []
            aggregate.reserve_id = None
            aggregate.adjustments = []

    class PapersSent(OrganisationRecord.Event):
        sent_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.papers_sent_at = self.sent_at

    class AttendanceRecorded(OrganisationRecord.Event):
        participant_ids: tuple[UUID, ...]

        def apply(self, aggregate: Any) -> None:
            aggregate.attendee_ids.extend(self.participant_ids)

    class ReserveNamed(OrganisationRecord.Event):
        participant_id: UUID

        def apply(self, aggregate: Any) -> None:
            aggregate.reserve_id = self.participant_id

    class ReasonableAdjustmentMade(OrganisationRecord.Event):
        description: str

        def apply(self, aggregate: Any) -> None:
            aggregate.adjustments.append(self.description)

    @classmethod
    def schedule(
        cls,
        *,
        meeting_id: UUID,
        initiative: Initiative,
        title: str,
        held_at: datetime,
        high_level: bool,
        decision_making: bool,
        recorded_by: str,
    ) -> Self:
        return cls._open(
            cls.Scheduled,
            record_id=meeting_id,
            organisation_id=initiative.organisation_id,
            recorded_by=recorded_by,
            initiative_id=initiative.id,
            title=check_text("title", title, max_length=200),
            held_at=check_held_at(initiative, held_at),
            high_level=check_flag("high_level", high_level),
            decision_making=check_flag("decision_making", decision_making),
        )

    def send_papers(self, *, sent_at: datetime, recorded_by: str) -> None:
        sent_at = check_moment("sent_at", sent_at)
        if self.papers_sent_at is not None:
            raise InvalidInput(
                "sent_at",
                f"papers were already sent at {self.papers_sent_at.isoformat()}",
            )
        if sent_at >= self.held_at:
            raise InvalidInput(
                "sent_at",
                f"papers must be sent before the meeting ({self.held_at.isoformat()})",
            )
        self._record(self.PapersSent, recorded_by=recorded_by, sent_at=sent_at)

    def record_attendance(
        self, *, attendees: list[Participant], recorded_by: str
    ) -> None:
        check_people_named(self.organisation_id, "participant_ids", attendees)
        ids = check_unique_ids("participant_ids", (p.id for p in attendees), at_least=1)
        already = [i for i in ids if i in self.attendee_ids]
        if already:
            raise InvalidInput(
                "participant_ids", f"participant {already[0]} is already recorded"
            )
        self._record(
            self.AttendanceRecorded, recorded_by=recorded_by, participant_ids=ids
        )

    def name_reserve(self, *, reserve: Participant, recorded_by: str) -> None:
        check_people_named(self.organisation_id, "participant_id", [reserve])
        if not reserve.has_lived_experience_voice:
            raise InvalidInput(
                "participant_id", "a reserve must be a service user or carer"
            )
        self._record(
            self.ReserveNamed, recorded_by=recorded_by, participant_id=reserve.id
        )

    def make_reasonable_adjustment(self, *, description: str, recorded_by: str) -> None:
        self._record(
            self.ReasonableAdjustmentMade,
            recorded_by=recorded_by,
            description=check_text("description", description),
        )
