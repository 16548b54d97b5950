"""What auditors read: the history of any record, the organisation's whole event log, and a record as it stood at any version or moment."""

import base64
import datetime as dt
from dataclasses import fields, is_dataclass
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any
from uuid import UUID

import strawberry
from eventsourcing.application import AggregateNotFoundError
from strawberry.scalars import JSON

from fourpi.audit import Anchor, verify
from fourpi.domain.record import OrganisationRecord, parse_digits
from fourpi.graphql.calls import in_thread
from fourpi.graphql.context import FourPIInfo
from fourpi.graphql.errors import (
    BAD_USER_INPUT,
    NOT_FOUND,
    TOO_MANY_REQUESTS,
    client_error,
)
from fourpi.graphql.permissions import (
    AUDITORS,
    READERS_OF_RECORDS,
    caller_of,
    may_read_personal_data,
    organisation_of,
)
from fourpi.graphql.reading import answered_with, caught_up, parse_id, server_busy
from fourpi.privacy.redaction import (
    REDACTED_DESCRIPTION,
    redacted_event,
    redacted_state,
)
from fourpi.threads import (
    UNDER_WAY_RETRY_AFTER_SECONDS,
    AlreadyUnderWay,
    Left,
    ServerBusy,
    in_heavy_thread_for,
    unless_left,
)
from graphql import GraphQLError

CURSOR_PREFIX = "position:"
HIDDEN_EVENT_FIELDS = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "organisation_id",
        "recorded_by",
        # A token's hash is a credential: no one reads it back.
        "secret_hash",
        # A command receipt's digest of the command's arguments: no reader needs it,
        # and an unkeyed one is guessed back to the personal data it covers.
        "fingerprint",
    }
)


def json_ready(value: Any) -> Any:
    """A stored value as plain JSON: ids, dates and money as strings, vocabularies as values."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, dt.date):  # datetime too
        return value.isoformat()
    if isinstance(value, dict):
        return {str(json_ready(k)): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_ready(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_ready(getattr(value, f.name)) for f in fields(value)}
    return value


@strawberry.type(description="One fact in the event log, as it was recorded.")
class LoggedEvent:
    position: int = strawberry.field(description="Its position in the event log.")
    record_id: strawberry.ID = strawberry.field(
        description="The record the fact is about."
    )
    version: int = strawberry.field(description="The record's version this fact made.")
    type: str = strawberry.field(
        description="What happened, as Record.Event (e.g. Contribution.Responded)."
    )
    recorded_by: str = strawberry.field(description="Who recorded it (an actor id).")
    recorded_at: dt.datetime = strawberry.field(description="When it was recorded.")
    data: JSON = strawberry.field(
        description="What the fact says, as JSON; its personal fields are null unless "
        "the token is granted personal data (see redacted)."
    )
    redacted: list[str] = strawberry.field(description=REDACTED_DESCRIPTION)


@strawberry.type(description="One event in a page, with the cursor to read on from it.")
class EventEdge:
    cursor: str = strawberry.field(
        description="Pass as `after` to read the events after this one."
    )
    node: LoggedEvent = strawberry.field(description="The event.")


@strawberry.type(description="Where a page of events ends.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether more events follow.")
    end_cursor: str | None = strawberry.field(
        description="The last event's cursor, if any."
    )


@strawberry.type(
    description="A page of events in log order (a Relay-style connection)."
)
class EventConnection:
    edges: list[EventEdge] = strawberry.field(description="The events of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page ends.")


@strawberry.type(description="A record's state as it stood at one version.")
class RecordSnapshot:
    id: strawberry.ID = strawberry.field(description="The record's id.")
    type: str = strawberry.field(
        description="What kind of record it is (e.g. Initiative)."
    )
    version: int = strawberry.field(
        description="The version shown: how many facts it had."
    )
    modified_at: dt.datetime = strawberry.field(
        description="When that version was recorded."
    )
    state: JSON = strawberry.field(
        description="Every attribute of the record, as JSON; its personal attributes "
        "are null unless the token is granted personal data (see redacted)."
    )
    redacted: list[str] = strawberry.field(description=REDACTED_DESCRIPTION)


FIRST = Annotated[
    int | None,
    strawberry.argument(
        description="How many events to return: at most the page cap; 20 (or the cap, "
        "if smaller) when left out."
    ),
]
AFTER = Annotated[
    str | None,
    strawberry.argument(
        description="Return the events after this cursor (from a page's endCursor)."
    ),
]


def cursor_of(position: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{position}".encode()).decode()


LARGEST_POSITION = 2**63 - 1


def position_after(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith(CURSOR_PREFIX):
            raise ValueError(text)
        position = parse_digits(text.removeprefix(CURSOR_PREFIX))
        if position is None or position > LARGEST_POSITION:
            raise ValueError(text)
        return position
    except ValueError:
        raise client_error(
            "after: not a cursor this API gave out", BAD_USER_INPUT, "after"
        ) from None


DEFAULT_PAGE_SIZE = 20


def page_size(info: FourPIInfo, first: int | None) -> int:
    largest = info.context.settings.max_page_size
    if first is None:
        return min(DEFAULT_PAGE_SIZE, largest)
    if not 1 <= first <= largest:
        raise client_error(
            f"first: must be from 1 to {largest}", BAD_USER_INPUT, "first"
        )
    return first


async def page(
    info: FourPIInfo,
    first: int | None,
    after: str | None,
    record_id: UUID | None = None,
) -> EventConnection:
    first = page_size(info, first)
    organisation = organisation_of(info)
    if record_id is not None:
        await in_thread(check_record_of, info, record_id, organisation)
    start = position_after(after)
    views = info.context.views
    await caught_up(info)
    positions = await in_thread(
        views.store.log_positions,
        organisation,
        record_id=record_id,
        after=start,
        limit=first + 1,
    )
    events = await in_thread(read_events, info, positions[:first])
    edges = [EventEdge(cursor=cursor_of(e.position), node=e) for e in events]
    return EventConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(positions) > first,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def check_record_of(info: FourPIInfo, record_id: UUID, organisation: UUID) -> None:
    """A record's history is readable only by its own organisation."""
    try:
        record: Any = info.context.records.repository.get(record_id)
    except AggregateNotFoundError:
        record = None
    if getattr(record, "organisation_id", None) != organisation:
        # Another organisation's record reads exactly as one that does not exist.
        raise not_found(record_id, "recordId")


def not_found(record_id: UUID, field: str) -> GraphQLError:
    """What a caller is told of a record that is not their organisation's, whether
    another's or no one's: the same words either way."""
    return client_error(f"record {record_id} does not exist", NOT_FOUND, field)


def read_events(info: FourPIInfo, positions: list[int]) -> list[LoggedEvent]:
    records = info.context.records
    granted = may_read_personal_data(info)
    events = []
    for position in positions:
        (notification,) = records.recorder.select_notifications(
            start=position, limit=1, stop=position
        )
        event: Any = records.mapper.to_domain_event(notification)
        data, withheld = redacted_event(
            event,
            {k: v for k, v in vars(event).items() if k not in HIDDEN_EVENT_FIELDS},
            granted,
        )
        events.append(
            LoggedEvent(
                position=notification.id,
                record_id=strawberry.ID(str(notification.originator_id)),
                version=notification.originator_version,
                type=type(event).__qualname__,
                recorded_by=event.recorded_by,
                recorded_at=event.timestamp,
                data=json_ready(data),
                redacted=withheld,
            )
        )
    return events


def snapshot_of(
    info: FourPIInfo, record_id: UUID, version: int | None, as_of: dt.datetime | None
) -> RecordSnapshot:
    records = info.context.records
    organisation = organisation_of(info)
    # Whose record it is comes first, from its latest version: another organisation's
    # record is refused the same way whatever version or moment was asked, so no one
    # can time when it was made.
    try:
        latest: Any = records.replayed(record_id)
    except AggregateNotFoundError:
        latest = None
    if (
        not isinstance(latest, OrganisationRecord)
        or latest.organisation_id != organisation
    ):
        raise not_found(record_id, "id")
    if as_of is not None:
        history: list[Any] = list(records.events.get(record_id))
        version = max(
            (e.originator_version for e in history if e.timestamp <= as_of),
            default=0,
        )
        if version == 0:
            raise client_error(
                f"record {record_id} did not exist yet at {as_of.isoformat()}",
                NOT_FOUND,
                "asOf",
            )
    if version is not None and version > latest.version:
        raise client_error(
            f"version: record {record_id} has only {latest.version} versions",
            NOT_FOUND,
            "version",
        )
    record: Any = (
        latest
        if version is None or version == latest.version
        else records.replayed(record_id, version)
    )
    state, withheld = redacted_state(
        record,
        {
            name.lstrip("_"): value
            for name, value in vars(record).items()
            if name not in ("_pending_events", "secret_hash", "fingerprint")
        },
        may_read_personal_data(info),
    )
    return RecordSnapshot(
        id=strawberry.ID(str(record.id)),
        type=type(record).__name__,
        version=record.version,
        modified_at=record.modified_on,
        state=json_ready(state),
        redacted=withheld,
    )


@strawberry.type(description="Where the log stops proving itself, and how.")
class IntegrityBreak:
    position: int = strawberry.field(
        description="The first position that does not verify."
    )
    kind: str = strawberry.field(
        description="event-changed, event-removed, event-inserted, events-swapped, "
        "seal-rewritten, truncated or anchor-mismatch."
    )
    explanation: str = strawberry.field(description="What the break means, in words.")


@strawberry.type(
    description="The hash chain over the whole event log, recomputed now: every event "
    "is sealed in order with the seal before it, so no event can be changed, removed, "
    "inserted or reordered without the chain breaking."
)
class Integrity:
    intact: bool = strawberry.field(description="Whether every event verified.")
    events: int = strawberry.field(
        description="How many of your organisation's events verified (the chain, "
        "and so the check, covers every organisation's events; only yours are "
        "counted)."
    )
    head: str | None = strawberry.field(
        description="The last verified position and seal, as POSITION:SEAL: keep it "
        "outside the database and pass it back as `anchor` later."
    )
    broken: IntegrityBreak | None = strawberry.field(
        description="The first break, when the log does not verify."
    )


def integrity_of(info: FourPIInfo, anchor_text: str | None) -> Integrity:
    try:
        anchor = None if anchor_text is None else Anchor.parse(anchor_text)
    except ValueError as error:
        raise client_error(str(error), BAD_USER_INPUT, "anchor") from None
    result = verify(info.context.records.recorder, anchor=anchor)
    verified_to = result.head.position if result.head is not None else 0
    if result.broken is not None:
        verified_to = min(verified_to, result.broken.position - 1)
    # The chain is one for the whole log, but how many events another organisation
    # has is not this caller's to know: only the organisation's own are counted.
    own = info.context.views.store.events_of(organisation_of(info), verified_to)
    return Integrity(
        intact=result.intact,
        events=own,
        head=None if result.head is None else str(result.head),
        broken=None
        if result.broken is None
        else IntegrityBreak(
            position=result.broken.position,
            kind=result.broken.kind,
            explanation=result.broken.explanation,
        ),
    )


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The history of one record: every fact about it in order, with who "
        "recorded it, when, and its log position. Personal fields are withheld unless "
        "the token is granted personal data.",
        extensions=READERS_OF_RECORDS,
    )
    async def history(
        self,
        info: FourPIInfo,
        record_id: Annotated[
            strawberry.ID, strawberry.argument(description="The record's id.")
        ],
        first: FIRST = None,
        after: AFTER = None,
    ) -> EventConnection:
        return await page(info, first, after, parse_id(record_id, "recordId"))

    @strawberry.field(
        description="Verify the whole event log's hash chain now (every organisation's "
        "events are in one chain), optionally proving it still holds an anchored head.",
        extensions=AUDITORS,
    )
    async def integrity(
        self,
        info: FourPIInfo,
        anchor: Annotated[
            str | None,
            strawberry.argument(
                description="A head kept from an earlier check (POSITION:SEAL): proves "
                "no events were removed from the end since."
            ),
        ] = None,
    ) -> Integrity:
        await caught_up(info)
        try:
            # The whole log, every organisation's: heavy work, one at a time.
            return await unless_left(
                info.context.request.receive,
                in_heavy_thread_for(caller_of(info).actor, integrity_of, info, anchor),
            )
        except AlreadyUnderWay:
            answered_with(info, 429, UNDER_WAY_RETRY_AFTER_SECONDS)
            raise client_error(
                "integrity: another check of yours, in this request or an "
                "earlier one, is still being made: ask for one at a time, once "
                "it has answered",
                TOO_MANY_REQUESTS,
            ) from None
        except ServerBusy:
            raise server_busy(info, "integrity") from None
        except Left:
            # An answer to no one (logged as 499), not an unexpected error.
            raise client_error(
                "integrity: the client went away while the check waited its "
                "turn: it was not made",
                TOO_MANY_REQUESTS,
            ) from None

    @strawberry.field(
        description="The organisation's whole event log, in order, a page at a time. "
        "Personal fields are withheld unless the token is granted personal data.",
        extensions=AUDITORS,
    )
    async def event_log(
        self, info: FourPIInfo, first: FIRST = None, after: AFTER = None
    ) -> EventConnection:
        return await page(info, first, after)

    @strawberry.field(
        description="A record as it stood at a version, or at a moment (its latest "
        "version recorded by then), or now when neither is given. Personal attributes "
        "are withheld unless the token is granted personal data.",
        extensions=READERS_OF_RECORDS,
    )
    async def record(
        self,
        info: FourPIInfo,
        id: Annotated[
            strawberry.ID, strawberry.argument(description="The record's id.")
        ],
        version: Annotated[
            int | None,
            strawberry.argument(
                description="The version to show (1 is the first fact)."
            ),
        ] = None,
        as_of: Annotated[
            dt.datetime | None,
            strawberry.argument(
                description="A time with its zone: the latest version recorded by then."
            ),
        ] = None,
    ) -> RecordSnapshot:
        record_id = parse_id(id, "id")
        assert record_id is not None
        if version is not None and as_of is not None:
            raise client_error(
                "give a version or asOf, not both", BAD_USER_INPUT, "asOf"
            )
        if version is not None and version < 1:
            raise client_error("version: must be 1 or more", BAD_USER_INPUT, "version")
        if as_of is not None and as_of.tzinfo is None:
            raise client_error("asOf: must carry its time zone", BAD_USER_INPUT, "asOf")
        return await in_thread(snapshot_of, info, record_id, version, as_of)
