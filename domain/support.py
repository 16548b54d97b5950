"""Support and training given to the people involved, or training given to staff (4PI Process)."""

from datetime import date
from decimal import Decimal, InvalidOperation
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
    check_same_organisation,
    check_unique_ids,
)
from fourpi.domain.vocabulary import SupportKind


def check_hours(hours: Decimal) -> Decimal:
    rule = "must be a number of hours more than 0 and at most 1000"
    if isinstance(hours, bool):
        raise InvalidInput("hours", rule)
    try:
        value = Decimal(hours)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput("hours", rule) from None
    if not value.is_finite() or not Decimal(0) < value <= Decimal(1000):
        raise InvalidInput("hours", rule)
    # Finer than a workbook cell keeps, it would not import again (1E-9 reads as 0).
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput("hours", "must be in hundredths of an hour at most")
    return value


class Support(OrganisationRecord):
    kind = "support"
    if TYPE_CHECKING:
        initiative_id: UUID | None
        support_kind: SupportKind
        participant_ids: tuple[UUID, ...]
        given_on: date
        hours: Decimal | None
        description: str

    class Given(OrganisationRecord.Created):
        initiative_id: UUID | None
        support_kind: SupportKind
        participant_ids: tuple[UUID, ...]
        given_on: date
        hours: Decimal | None
        description: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.initiative_id = self.initiative_id
            aggregate.support_kind = self.support_kind
            aggregate.participant_ids = self.participant_ids
            aggregate.given_on = self.given_on
            aggregate.hours = self.hours
            aggregate.description = self.description

    @classmethod
    def give(
        cls,
        *,
        support_id: UUID,
        organisation_id: UUID,
        initiative: Initiative | None,
        participants: list[Participant],
        support_kind: SupportKind,
        given_on: date,
        hours: Decimal | None,
        description: str,
        recorded_by: str,
    ) -> Self:
        check_date("given_on", given_on)
        if initiative is not None:
            check_same_organisation(organisation_id, "initiative_id", [initiative])
            initiative.check_not_before_start("given_on", given_on)
        check_people_named(organisation_id, "participant_ids", participants)
        if hours is not None:
            hours = check_hours(hours)
        return cls._open(
            cls.Given,
            record_id=support_id,
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            initiative_id=None if initiative is None else initiative.id,
            support_kind=check_member("support_kind", support_kind, SupportKind),
            participant_ids=check_unique_ids(
                "participant_ids", (p.id for p in participants)
            ),
            given_on=given_on,
            hours=hours,
            description=check_optional_text("description", description),
        )
