"""What every resolver can reach: the caller behind the bearer token (fourpi.privacy.visibility.Caller), and the services."""

import asyncio
from dataclasses import dataclass, field
from typing import Any

from strawberry.types import Info

from fourpi.domain.application import InvolvementRecords
from fourpi.privacy.visibility import Caller
from fourpi.projections.answers import ImpactReport
from fourpi.projections.disclosure import Disclosure
from fourpi.projections.views import ImpactViews

__all__ = ["Caller", "Context", "FourPIInfo", "Settings"]


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
