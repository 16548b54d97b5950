"""The organisation: the tenant every other record belongs to."""

from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from fourpi.domain.errors import InvalidInput
from fourpi.domain.record import OrganisationRecord, check_line

DEFAULT_SUPPRESSION_THRESHOLD = 5
"""Counts of people from 1 to below this are suppressed for callers without the
personal-data grant (DOMAIN.md: "default under 5")."""
LOWEST_SUPPRESSION_THRESHOLD = 2
HIGHEST_SUPPRESSION_THRESHOLD = 100


class Organisation(OrganisationRecord):
    kind = "organisation"
    if TYPE_CHECKING:
        name: str
        suppression_threshold: int

    class Registered(OrganisationRecord.Created):
        name: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.name = self.name
            aggregate.suppression_threshold = DEFAULT_SUPPRESSION_THRESHOLD

    class SuppressionThresholdSet(OrganisationRecord.Event):
        threshold: int

        def apply(self, aggregate: Any) -> None:
            aggregate.suppression_threshold = self.threshold

    @classmethod
    def register(cls, *, organisation_id: UUID, name: str, recorded_by: str) -> Self:
        return cls._open(
            cls.Registered,
            record_id=organisation_id,
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            name=check_line("name", name, max_length=200),
        )

    def set_suppression_threshold(self, *, threshold: int, recorded_by: str) -> None:
        """Counts of people from 1 to below `threshold` are suppressed for callers
        without the personal-data grant."""
        if (
            not isinstance(threshold, int)
            or isinstance(threshold, bool)
            or not LOWEST_SUPPRESSION_THRESHOLD
            <= threshold
            <= HIGHEST_SUPPRESSION_THRESHOLD
        ):
            raise InvalidInput(
                "threshold",
                f"must be a whole number from {LOWEST_SUPPRESSION_THRESHOLD} to "
                f"{HIGHEST_SUPPRESSION_THRESHOLD}",
            )
        if threshold == self.suppression_threshold:
            raise InvalidInput("threshold", f"is already {threshold}")
        self._record(
            self.SuppressionThresholdSet, recorded_by=recorded_by, threshold=threshold
        )
