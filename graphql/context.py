"""What every resolver can reach: the caller behind the bearer token, and the services."""

import asyncio
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from strawberry.types import Info

from fourpi.domain.access import Role
from fourpi.domain.application import GLOBAL, InvolvementRecords
from fourpi.projections.answers import ImpactReport
from fourpi.projections.disclosure import Disclosure
from fourpi.projections.views import ImpactViews


@dataclass(frozen=True)
class Caller:
    """Who is asking: a live token's role and organisation (None for a global admin),
    and whether it is granted personal data."""

    token_id: UUID
    role: Role
    organisation_id: UUID | None
    personal_data: bool = False
    """Whether the token reads people's personal fields; never for an evaluator."""

    @property
    def actor(self) -> str:
        """How the events this caller records name who recorded them."""
        return f"token:{self.token_id}"

    @classmethod
    def of(cls, token: Any) -> "Caller":
        organisation = (
            None if token.organisation_id == GLOBAL else token.organisation_id
        )
        granted = bool(token.personal_data) and token.role is not Role.EVALUATOR
        return cls(token.id, token.role, organisation, granted)


@dataclass(frozen=True)
class Settings:
    """Limits and waits the API applies; see fourpi.config for their defaults."""

    max_page_size: int = 100
    read_wait_seconds: float = 5.0


@dataclass
class Context:
    """The strawberry context of one request."""

    records: InvolvementRecords
    views: ImpactViews
    settings: Settings
    caller: Caller | None
    head: int | None = None
    """The log's head when the request arrived (read when first needed, if not given):
    what the request reads is at least this new."""
    request: Any = None
    response: Any = None
    bearer_given: bool = False
    """Whether the request sent a bearer token (a caller of None then means the
    token was wrong or revoked, not missing)."""
    reports: "dict[tuple[Any, ...], asyncio.Future[ImpactReport]]" = field(
        default_factory=dict
    )
    """Answers computed (or being computed) during this request, shared by its fields."""
    disclosures: "dict[tuple[Any, ...], asyncio.Future[Disclosure]]" = field(
        default_factory=dict
    )
    """How the caller sees each report's counts of people, worked out once a request."""


FourPIInfo = Info[Context, None]
