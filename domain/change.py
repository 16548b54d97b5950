"""A change: a difference made, traced to the contributions it came from (impact questions 2, 4 and 5)."""

from datetime import date
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from fourpi.domain.contribution import Contribution
from fourpi.domain.errors import InvalidInput
from fourpi.domain.initiative import Initiative
from fourpi.domain.record import (
    OrganisationRecord,
    check_date,
    check_member,
    check_same_organisation,
    check_text,
    check_unique_ids,
)
from fourpi.domain.vocabulary import (
    BeyondKind,
    ChangeScope,
    ImpactArea,
    ResponseOutcome,
)


def check_source(
    initiative: Initiative, contribution: Contribution, changed_on: date
) -> None:
    """A change traces only to contributions it could have come from."""
    if contribution.initiative_id != initiative.id:
        raise InvalidInput(
            "contribution_ids",
            f"contribution {contribution.id} belongs to another initiative",
        )
    if not contribution.from_service_users_or_carers:
        raise InvalidInput(
            "contribution_ids",
            f"contribution {contribution.id} was not made by service users or carers",
        )
    latest = contribution.latest_response
    if latest is not None and latest.outcome is ResponseOutcome.DECLINED:
        raise InvalidInput(
            "contribution_ids",
            f"contribution {contribution.id} was declined; a change cannot come from it",
        )
    if changed_on < contribution.made_on:
        raise InvalidInput(
            "changed_on",
            f"must not be before contribution {contribution.id} was made "
            f"({contribution.made_on})",
        )


class Change(OrganisationRecord):
    kind = "change"
    if TYPE_CHECKING:
        initiative_id: UUID
        description: str
        impact_area: ImpactArea
        scope: ChangeScope
        beyond_kind: BeyondKind | None
        contribution_ids: tuple[UUID, ...]
        evidence: str
        changed_on: date

    class Recorded(OrganisationRecord.Created):
        initiative_id: UUID
        description: str
        impact_area: ImpactArea
        scope: ChangeScope
        beyond_kind: BeyondKind | None
        contribution_ids: tuple[UUID, ...]
        evidence: str
        changed_on: date

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.initiative_id = self.initiative_id
            aggregate.description = self.description
            aggregate.impact_area = self.impact_area
            aggregate.scope = self.scope
            aggregate.beyond_kind = self.beyond_kind
            aggregate.contribution_ids = self.contribution_ids
            aggregate.evidence = self.evidence
            aggregate.changed_on = self.changed_on

    @classmethod
    def record(
        cls,
        *,
        change_id: UUID,
        initiative: Initiative,
        contributions: list[Contribution],
        description: str,
        impact_area: ImpactArea,
        scope: ChangeScope,
        beyond_kind: BeyondKind | None,
        evidence: str,
        changed_on: date,
        recorded_by: str,
    ) -> Self:
        scope = check_member("scope", scope, ChangeScope)
        if scope is ChangeScope.BEYOND:
            if beyond_kind is None:
                raise InvalidInput(
                    "beyond_kind", "a change beyond the activity must say of what kind"
                )
            beyond_kind = check_member("beyond_kind", beyond_kind, BeyondKind)
        elif beyond_kind is not None:
            raise InvalidInput(
                "beyond_kind", f"only a change beyond the activity has one, not {scope}"
            )
        check_date("changed_on", changed_on)
        initiative.check_not_before_start("changed_on", changed_on)
        check_same_organisation(
            initiative.organisation_id, "contribution_ids", contributions
        )
        for contribution in contributions:
            check_source(initiative, contribution, changed_on)
        ids = check_unique_ids("contribution_ids", (c.id for c in contributions))
        return cls._open(
            cls.Recorded,
            record_id=change_id,
            organisation_id=initiative.organisation_id,
            recorded_by=recorded_by,
            initiative_id=initiative.id,
            description=check_text("description", description),
            impact_area=check_member("impact_area", impact_area, ImpactArea),
            scope=scope,
            beyond_kind=beyond_kind,
            contribution_ids=ids,
            evidence=check_text("evidence", evidence),
            changed_on=changed_on,
        )
