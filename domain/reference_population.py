"""The reference population (4PI Presence): the make-up of the population an initiative or organisation serves."""

from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID, uuid5

from fourpi.domain.errors import InvalidInput
from fourpi.domain.record import OrganisationRecord, check_member, check_text
from fourpi.domain.vocabulary import (
    BROAD_GROUPS,
    MONITORING_VALUES,
    MonitoringCategory,
)

Shares = dict[MonitoringCategory, dict[str, Decimal]]
ROUNDING_ALLOWANCE = Decimal("0.005")
SHARE_PRECISION = Decimal("0.0001")
"""The finest a share is given to: a hundredth of a percent."""


def check_shares(shares: Shares) -> Shares:
    """Each category's shares are fractions of the population, adding up to at most 1,
    given at one level: the category's values, or for a category with an official
    grouping (ethnic group, age band) its broad groups (a value both levels share,
    such as prefer_not_to_say, fits either)."""
    if not shares:
        raise InvalidInput("shares", "must describe at least one category")
    checked: Shares = {}
    for category, values in shares.items():
        category = check_member("shares", category, MonitoringCategory)
        if not values:
            raise InvalidInput(f"shares.{category}", "must give at least one share")
        category_shares: dict[str, Decimal] = {}
        level = _level(category, list(values))
        for value, share in values.items():
            key = check_member(f"shares.{category}", value, level)
            try:
                # A float as written (0.6), not its binary expansion (0.59999...).
                fraction = Decimal(str(share) if isinstance(share, float) else share)
            except (InvalidOperation, TypeError, ValueError):
                raise InvalidInput(
                    f"shares.{category}.{key}", "must be a fraction from 0 to 1"
                ) from None
            if not fraction.is_finite() or not Decimal(0) <= fraction <= Decimal(1):
                raise InvalidInput(
                    f"shares.{category}.{key}", "must be a fraction from 0 to 1"
                )
            if fraction != fraction.quantize(SHARE_PRECISION, rounding=ROUND_DOWN):
                # 1e-30 is a fraction from 0 to 1 whose exact form (1 over 10**30)
                # no answer's numerator and denominator can carry.
                raise InvalidInput(
                    f"shares.{category}.{key}",
                    "must be given to at most 4 decimal places (a hundredth of a "
                    "percent)",
                )
            category_shares[key.value] = fraction
        if sum(category_shares.values()) > 1 + ROUNDING_ALLOWANCE:
            raise InvalidInput(
                f"shares.{category}",
                f"the shares of a category must add up to at most 1 "
                f"(allowing {ROUNDING_ALLOWANCE} for rounding)",
            )
        checked[category] = category_shares
    return checked


def _level(category: MonitoringCategory, values: list[Any]) -> Any:
    """The vocabulary a category's shares are given in: its values, or its broad
    groups when one of them is only a broad group."""
    detailed = MONITORING_VALUES[category]
    if category not in BROAD_GROUPS:
        return detailed
    broad = BROAD_GROUPS[category][0]
    known = {v.value for v in detailed}
    grouped = {v.value for v in broad}
    only_broad = [v for v in values if v in grouped and v not in known]
    only_detailed = [v for v in values if v in known and v not in grouped]
    if only_broad and only_detailed:
        raise InvalidInput(
            f"shares.{category}",
            "must give its shares at one level: the values "
            f"({', '.join(map(str, only_detailed))}) or the broad groups "
            f"({', '.join(map(str, only_broad))}), not both",
        )
    if only_broad:
        return broad
    if any(v not in known and v not in grouped for v in values):
        allowed = ", ".join(v.value for v in detailed)
        groups = ", ".join(v.value for v in broad)
        bad = next(v for v in values if v not in known and v not in grouped)
        raise InvalidInput(
            f"shares.{category}",
            f"{bad!r} must be one of: {allowed}; or, for the whole category, one of "
            f"the broad groups: {groups}",
        )
    return detailed


class ReferencePopulation(OrganisationRecord):
    """One per initiative, and one for the organisation as a whole."""

    kind = "reference population"
    if TYPE_CHECKING:
        initiative_id: UUID | None
        description: str
        shares: Shares

    @staticmethod
    def id_for(organisation_id: UUID, initiative_id: UUID | None) -> UUID:
        scope = "organisation" if initiative_id is None else str(initiative_id)
        return uuid5(organisation_id, f"reference-population:{scope}")

    class Defined(OrganisationRecord.Created):
        initiative_id: UUID | None
        description: str
        shares: Shares

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.initiative_id = self.initiative_id
            aggregate.description = self.description
            aggregate.shares = self.shares

    class Revised(OrganisationRecord.Event):
        initiative_id: UUID | None
        description: str
        shares: Shares

        def apply(self, aggregate: Any) -> None:
            aggregate.description = self.description
            aggregate.shares = self.shares

    @classmethod
    def define(
        cls,
        *,
        organisation_id: UUID,
        initiative_id: UUID | None,
        description: str,
        shares: Shares,
        recorded_by: str,
    ) -> Self:
        return cls._open(
            cls.Defined,
            record_id=cls.id_for(organisation_id, initiative_id),
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            initiative_id=initiative_id,
            description=check_text("description", description),
            shares=check_shares(shares),
        )

    def revise(self, *, description: str, shares: Shares, recorded_by: str) -> None:
        self._record(
            self.Revised,
            recorded_by=recorded_by,
            initiative_id=self.initiative_id,
            description=check_text("description", description),
            shares=check_shares(shares),
        )
