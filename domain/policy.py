"""The involvement policy (Mind): adopted with a version, reviewed at an interval, default every 24 months."""

from datetime import date
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID, uuid5

from fourpi.domain.calendar import add_months
from fourpi.domain.errors import InvalidInput
from fourpi.domain.record import (
    OrganisationRecord,
    check_date,
    check_optional_text,
    check_text,
)

DEFAULT_REVIEW_INTERVAL_MONTHS = 24


def check_review_interval(months: int) -> int:
    if (
        not isinstance(months, int)
        or isinstance(months, bool)
        or not 1 <= months <= 120
    ):
        raise InvalidInput(
            "review_interval_months", "must be a whole number of months from 1 to 120"
        )
    return months


class InvolvementPolicy(OrganisationRecord):
    """One per organisation; a new version replaces the old and restarts the clock."""

    kind = "involvement policy"
    if TYPE_CHECKING:
        version_label: str
        adopted_on: date
        review_interval_months: int
        summary: str
        reviews: list[date]

    @staticmethod
    def id_for(organisation_id: UUID) -> UUID:
        return uuid5(organisation_id, "involvement-policy")

    class Adopted(OrganisationRecord.Created):
        version_label: str
        adopted_on: date
        review_interval_months: int
        summary: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.version_label = self.version_label
            aggregate.adopted_on = self.adopted_on
            aggregate.review_interval_months = self.review_interval_months
            aggregate.summary = self.summary
            aggregate.reviews = []

    class Reviewed(OrganisationRecord.Event):
        reviewed_on: date
        notes: str

        def apply(self, aggregate: Any) -> None:
            aggregate.reviews.append(self.reviewed_on)

    class Revised(OrganisationRecord.Event):
        version_label: str
        adopted_on: date
        review_interval_months: int
        summary: str

        def apply(self, aggregate: Any) -> None:
            aggregate.version_label = self.version_label
            aggregate.adopted_on = self.adopted_on
            aggregate.review_interval_months = self.review_interval_months
            aggregate.summary = self.summary
            aggregate.reviews = []

    @classmethod
    def adopt(
        cls,
        *,
        organisation_id: UUID,
        version_label: str,
        adopted_on: date,
        review_interval_months: int,
        summary: str,
        recorded_by: str,
    ) -> Self:
        return cls._open(
            cls.Adopted,
            record_id=cls.id_for(organisation_id),
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            version_label=check_text("version_label", version_label, max_length=50),
            adopted_on=check_date("adopted_on", adopted_on),
            review_interval_months=check_review_interval(review_interval_months),
            summary=check_optional_text("summary", summary),
        )

    @property
    def last_reviewed_on(self) -> date:
        return self.reviews[-1] if self.reviews else self.adopted_on

    @property
    def review_due_on(self) -> date:
        return add_months(self.last_reviewed_on, self.review_interval_months)

    def is_overdue_on(self, day: date) -> bool:
        return day > self.review_due_on

    def review(self, *, reviewed_on: date, notes: str, recorded_by: str) -> None:
        check_date("reviewed_on", reviewed_on)
        if reviewed_on < self.last_reviewed_on:
            raise InvalidInput(
                "reviewed_on",
                f"must not be before the last review or adoption "
                f"({self.last_reviewed_on.isoformat()})",
            )
        self._record(
            self.Reviewed,
            recorded_by=recorded_by,
            reviewed_on=reviewed_on,
            notes=check_optional_text("notes", notes),
        )

    def revise(
        self,
        *,
        version_label: str,
        adopted_on: date,
        review_interval_months: int,
        summary: str,
        recorded_by: str,
    ) -> None:
        check_text("version_label", version_label, max_length=50)
        if version_label.strip() == self.version_label:
            raise InvalidInput(
                "version_label", f"version {self.version_label} is already adopted"
            )
        check_date("adopted_on", adopted_on)
        if adopted_on < self.last_reviewed_on:
            # A review says its version was in force that day: a new version
            # adopted earlier would leave the review of no version at all, and a
            # workbook, whose reviews name no version, could not tell whose it was.
            raise InvalidInput(
                "adopted_on",
                f"must not be before the current version's last review or adoption "
                f"({self.last_reviewed_on.isoformat()})",
            )
        self._record(
            self.Revised,
            recorded_by=recorded_by,
            version_label=version_label.strip(),
            adopted_on=adopted_on,
            review_interval_months=check_review_interval(review_interval_months),
            summary=check_optional_text("summary", summary),
        )
