"""The organisation: the tenant every other record belongs to."""

from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from fourpi.domain.record import OrganisationRecord, check_text


class Organisation(OrganisationRecord):
    kind = "organisation"
    if TYPE_CHECKING:
        name: str

    class Registered(OrganisationRecord.Created):
        name: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.name = self.name

    @classmethod
    def register(cls, *, organisation_id: UUID, name: str, recorded_by: str) -> Self:
        return cls._open(
            cls.Registered,
            record_id=organisation_id,
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            name=check_text("name", name, max_length=200),
        )
