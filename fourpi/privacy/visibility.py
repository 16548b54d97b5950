"""What a caller may see, decided in one place for the API and the web app alike: who is asking, which roles read what, the personal-data grant; redaction (fourpi.privacy.redaction) and small-number suppression (fourpi.privacy.suppression) build on it."""

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from fourpi.domain.access import Role
from fourpi.domain.application import GLOBAL
from fourpi.threads import in_thread

if TYPE_CHECKING:
    from fourpi.projections.disclosure import Disclosure
    from fourpi.projections.views import ImpactViews

READERS_OF_ANSWERS = frozenset({Role.MANAGER, Role.EVALUATOR, Role.AUDITOR})
"""The five impact questions and their indicators, with counts of people suppressed
for a caller without the personal-data grant."""
READERS_OF_RECORDS = frozenset({Role.MANAGER, Role.AUDITOR})
"""Records and histories, with personal fields redacted without the grant."""
WRITERS_OF_RECORDS = frozenset({Role.MANAGER})
AUDITORS = frozenset({Role.AUDITOR})
ADMINS = frozenset({Role.ADMIN})
"""Organisations, tokens and people's accounts."""
READ_WAIT_POLL_SECONDS = 0.01


@dataclass(frozen=True)
class Caller:
    """Who is asking: a live token's or a signed-in account's role and organisation
    (None for a global admin), and whether it is granted personal data."""

    token_id: UUID
    """The token's id; for a person signed in to the web app, their account's id."""
    role: Role
    organisation_id: UUID | None
    personal_data: bool = False
    """Whether the caller reads people's personal fields; never an evaluator."""
    holder: str = "token"
    """What token_id names: "token" or "account"."""

    @property
    def actor(self) -> str:
        """How the events this caller records name who recorded them."""
        return f"{self.holder}:{self.token_id}"

    @classmethod
    def of(cls, token: Any) -> "Caller":
        organisation = (
            None if token.organisation_id == GLOBAL else token.organisation_id
        )
        granted = bool(token.personal_data) and token.role is not Role.EVALUATOR
        return cls(token.id, token.role, organisation, granted)

    @classmethod
    def of_account(cls, account: Any) -> "Caller":
        """A person signed in to the web app, under the same rule as a token."""
        granted = bool(account.personal_data) and account.role is not Role.EVALUATOR
        return cls(
            account.id, account.role, account.organisation_id, granted, "account"
        )

    @property
    def reads_personal_data(self) -> bool:
        return self.personal_data and self.role is not Role.EVALUATOR

    @property
    def reads_records_without_grant(self) -> bool:
        """Whether it reads the records, but not people's personal fields: it knows
        every count of people but those by monitoring value, so those are all
        withheld from it (Disclosure.by_monitoring_withheld)."""
        return self.role in READERS_OF_RECORDS and not self.reads_personal_data


class Request(Protocol):
    """What one request (a GraphQL request's context, a web page's) holds."""

    views: "ImpactViews"
    caller: Caller | None
    head: int | None
    disclosures: "dict[tuple[Any, ...], asyncio.Future[Disclosure]]"


class Asking(Protocol):
    """A request being answered: strawberry's Info in the API, a page in the web app."""

    @property
    def context(self) -> Request: ...


GRANT_NOT_HELD = "only an admin granted personal data may grant it"


def may_pass_on_grant(caller: Caller) -> bool:
    """Whether the caller may give the personal-data grant to a token or an account
    that does not hold it: a grant is passed on only by someone who holds it."""
    return caller.reads_personal_data


def may_read_personal_data(info: Asking) -> bool:
    """Whether the caller is granted personal data (never an evaluator)."""
    caller = info.context.caller
    return caller is not None and caller.reads_personal_data


def reads_records_without_grant(info: Asking) -> bool:
    """Whether the caller reads the records, but not people's personal fields
    (Caller.reads_records_without_grant)."""
    caller = info.context.caller
    return caller is not None and caller.reads_records_without_grant


async def log_head(info: Asking) -> int:
    """The log's head when the request arrived, read once per request."""
    if info.context.head is None:
        info.context.head = await in_thread(info.context.views.head)
    return info.context.head


async def caught_up(views: "ImpactViews", head: int, wait_seconds: float) -> int:
    """Wait, up to `wait_seconds`, for the views to reach the log's head as it stood
    when the request arrived, so a caller reads what they have just written; the
    views' position. If the views are slow, reads go on from where they are: every
    answer says which position that is."""
    deadline = time.monotonic() + wait_seconds
    # Polled from the event loop: a waiting request holds no worker thread.
    while (position := await in_thread(views.position)) < head:
        views.nudge()
        if time.monotonic() >= deadline:
            break
        await asyncio.sleep(READ_WAIT_POLL_SECONDS)
    return position
