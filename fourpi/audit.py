"""Audit of the event log: verify its hash chain, anchor its head, and export or import it whole, streaming with bounded memory."""

from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from hashlib import sha256
from itertools import chain, islice, zip_longest
from pathlib import Path
from types import UnionType
from typing import (
    Any,
    BinaryIO,
    TypeVar,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)
from uuid import UUID

import orjson
from eventsourcing.domain import AggregateCreated, DomainEvent, Snapshot
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from eventsourcing.utils import TopicError, get_topic, resolve_topic

from fourpi.domain.personal import personal_fields_of
from fourpi.domain.record import parse_digits
from fourpi.privacy.shredding import ENVELOPE
from fourpi.storage.sealing import GENESIS, EventRow, Seal, SealRow, chain_of, digest_of
from fourpi.storage.transcoder import DATA, TAG, OrjsonTranscoder

BATCH = 1_000
SCAN_BATCH = 10_000
"""Rows verify reads a query (plain tuples); it holds a batch of events and one of seals."""
Progress = Callable[[int], None]
"""Told the position reached, every batch."""


@dataclass(frozen=True)
class Anchor:
    """The head of the log at some moment, kept by an auditor outside the database."""

    position: int
    chain: str

    def __str__(self) -> str:
        return f"{self.position}:{self.chain}"

    @classmethod
    def parse(cls, text: str) -> "Anchor":
        given, _, chain = text.strip().partition(":")
        position = parse_digits(given)
        if position is None or len(chain) != 64:
            raise ValueError(
                f"anchor: {text!r} is not POSITION:SEAL as `fourpi audit anchor` prints it"
            )
        return cls(position, chain.lower())


@dataclass(frozen=True)
class Break:
    """Where the log stops proving itself, and how."""

    position: int
    kind: str
    explanation: str


@dataclass(frozen=True)
class Verification:
    events: int
    head: Anchor | None
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def notifications(recorder: Any, batch: int = BATCH) -> Iterator[Notification]:
    position = 0
    while True:
        page = recorder.select_notifications(start=position + 1, limit=batch)
        if not page:
            return
        yield from page
        position = page[-1].id


def seals(recorder: Any, batch: int = BATCH) -> Iterator[Seal]:
    position = 0
    while True:
        page = recorder.select_seals(position, batch)
        if not page:
            return
        yield from page
        position = page[-1].position


def event_rows(recorder: Any, batch: int | None = None) -> Iterator[EventRow]:
    """Every event as a plain tuple, in log order, read in big batches."""
    return chain.from_iterable(pages(recorder.select_event_rows, batch))


def seal_rows(recorder: Any, batch: int | None = None) -> Iterator[SealRow]:
    """Every seal as a plain tuple, in log order, read in big batches."""
    return chain.from_iterable(pages(recorder.select_seal_rows, batch))


def pages(
    select: Callable[[int, int], list[Any]], batch: int | None
) -> Iterator[list[Any]]:
    """Rows whose first column is the position, a batch at a time from the first."""
    limit = batch or SCAN_BATCH
    position = 0
    while page := select(position, limit):
        yield page
        position = page[-1][0]


def verify(
    recorder: Any, *, anchor: Anchor | None = None, progress: Progress | None = None
) -> Verification:
    """Recompute the chain from the first event to the last and report the first break.

    digest_of and chain_of, inlined: the same bytes hashed, with less work for each
    event (each topic's length prefix kept, no hex round trips), as this loop runs
    once for every event in the log.
    """
    topics: dict[str, bytes] = {}
    previous_position, previous_chain = 0, None
    previous = GENESIS
    anchored_chain = None
    anchored_at = None if anchor is None else anchor.position
    count = 0
    for event, seal in zip_longest(event_rows(recorder), seal_rows(recorder)):
        if event is None or seal is None or event[0] != seal[0]:
            return broken(
                count, previous_position, previous_chain, unpaired(event, seal)
            )
        position, topic, record, version, state = event
        _, sealed_after, sealed_digest, sealed_chain = seal
        prefixed = topics.get(topic)
        if prefixed is None:
            prefixed = topics[topic] = length_prefixed(topic.encode())
        try:
            at, of, by = str(position).encode(), str(version).encode(), record.encode()
            digest = sha256(
                b"\0\0\0%c%b%b%b%b\0\0\0%c%b%b"
                % (
                    len(at),
                    at,
                    prefixed,
                    len(by).to_bytes(4, "big"),
                    by,
                    len(of),
                    of,
                    state,
                )
            ).digest()
        except (TypeError, OverflowError):
            # Not the types the schema keeps (a tampered row): the definition itself.
            digest = bytes.fromhex(digest_of(position, topic, record, version, state))
        if digest.hex() != sealed_digest:
            return broken(
                count, previous_position, previous_chain, changed(recorder, event)
            )
        if sealed_after != previous_position:
            return broken(
                count,
                previous_position,
                previous_chain,
                relinked(sealed_after, previous_position),
            )
        # The previous seal's chain, as the bytes it was checked to be.
        chained = sha256(
            previous + previous_position.to_bytes(8, "big") + digest
        ).digest()
        if chained.hex() != sealed_chain:
            return broken(
                count,
                previous_position,
                previous_chain,
                Break(
                    position,
                    "seal-rewritten",
                    f"the chain breaks between positions {previous_position} and {position}: "
                    "a seal was rewritten, so it no longer leads to the next",
                ),
            )
        previous_position, previous_chain, previous = position, sealed_chain, chained
        if position == anchored_at:
            anchored_chain = sealed_chain
        count += 1
        if progress is not None and count % BATCH == 0:
            progress(position)
    head = None if previous_chain is None else Anchor(previous_position, previous_chain)
    if anchor is not None:
        if previous_position < anchor.position:
            return Verification(
                count,
                head,
                Break(
                    anchor.position,
                    "truncated",
                    f"the log ends at position {previous_position}, before the anchored "
                    f"position {anchor.position}: its newest events were removed",
                ),
            )
        if anchored_chain != anchor.chain:
            return Verification(
                count,
                head,
                Break(
                    anchor.position,
                    "anchor-mismatch",
                    "the log at the anchored position is not what it was when anchored: "
                    "its history up to there was rewritten",
                ),
            )
    return Verification(count, head, None)


def length_prefixed(encoded: bytes) -> bytes:
    return len(encoded).to_bytes(4, "big") + encoded


def unpaired(event: EventRow | None, seal: SealRow | None) -> Break:
    """The break where the next event and the next seal are not at one position."""
    if seal is None or (event is not None and event[0] < seal[0]):
        assert event is not None
        return Break(
            event[0],
            "event-inserted",
            "an event is stored here with no seal: it was written outside fourpi",
        )
    return Break(
        seal[0],
        "event-removed",
        "the event sealed at this position is missing: it was deleted",
    )


def changed(recorder: Any, event: EventRow) -> Break:
    """The break where an event does not match its seal's digest."""
    elsewhere = sealed_elsewhere(recorder, event)
    if elsewhere is not None:
        return Break(
            event[0],
            "events-swapped",
            f"the event stored here was sealed at position {elsewhere}: "
            "events were moved or swapped",
        )
    return Break(
        event[0],
        "event-changed",
        "the event stored here is not the event that was sealed: its data, "
        "record, version or type was changed",
    )


def relinked(sealed_after: int, previous_position: int) -> Break:
    """The break where a seal does not point to the event sealed before it."""
    if sealed_after > previous_position:
        return Break(
            sealed_after,
            "event-removed",
            f"the event at position {sealed_after} was deleted with its "
            "seal: the next seal still points to it",
        )
    return Break(
        previous_position,
        "event-inserted",
        "this event and its seal were inserted: the next seal points past it",
    )


def broken(count: int, position: int, chain: str | None, at: Break) -> Verification:
    head = None if chain is None else Anchor(position, chain)
    return Verification(count, head, at)


def sealed_elsewhere(recorder: Any, event: EventRow) -> int | None:
    """The position whose seal fits this event's content, if any (a move or swap)."""
    at, topic, record, version, state = event
    for position, _, digest, _ in seal_rows(recorder):
        if position != at and digest == digest_of(
            position, topic, record, version, state
        ):
            return position
    return None


def anchor_of(recorder: Any) -> Anchor | None:
    last: Seal | None = recorder.last_seal()
    return None if last is None else Anchor(last.position, last.chain)


# Export and import: one event a line, with its position and seal.


def export_log(
    recorder: Any, out: BinaryIO, *, progress: Progress | None = None
) -> int:
    count = 0
    for event, seal in zip(notifications(recorder), seals(recorder), strict=False):
        if event.id != seal.position:
            raise ValueError(
                f"the log does not verify at position {min(event.id, seal.position)}: "
                "run `fourpi audit verify` before exporting"
            )
        out.write(orjson.dumps(line_of(event, seal)) + b"\n")
        count += 1
        if progress is not None and count % BATCH == 0:
            progress(event.id)
    return count


def line_of(event: Notification, seal: Seal) -> dict[str, Any]:
    return {
        "position": event.id,
        "record_id": str(event.originator_id),
        "version": event.originator_version,
        "topic": event.topic,
        "state": bytes(event.state).decode("utf-8"),
        "previous_position": seal.previous_position,
        "digest": seal.digest,
        "chain": seal.chain,
    }


@dataclass(frozen=True)
class ExportedEvent:
    stored: StoredEvent
    seal: Seal


EXPORTED_FIELDS = {
    "position": int,
    "record_id": str,
    "version": int,
    "topic": str,
    "state": str,
    "previous_position": int,
    "digest": str,
    "chain": str,
}
"""What every line of an export holds (line_of), and of what type."""


def read_export(path: Path) -> Iterator[ExportedEvent]:
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            try:
                yield exported_event(line)
            except ValueError as error:
                raise ValueError(
                    f"{path}, line {number}: not an exported event ({error})"
                ) from None


def exported_event(line: bytes) -> ExportedEvent:
    """One line of an export, or why it is not one, by its field and the rule."""
    try:
        item = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise ValueError("each line must be JSON in UTF-8") from None
    if not isinstance(item, dict):
        raise ValueError("each line must be a JSON object")
    for field, kind in EXPORTED_FIELDS.items():
        if field not in item:
            raise ValueError(f"it has no {field}")
        # bool is an int to isinstance; true is no version.
        if type(item[field]) is not kind:
            rule = "a whole number" if kind is int else "text"
            raise ValueError(f"{field}: must be {rule}")
    try:
        record_id = UUID(item["record_id"])
    except ValueError:
        raise ValueError("record_id: must be a UUID") from None
    stored = StoredEvent(
        originator_id=record_id,
        originator_version=item["version"],
        topic=item["topic"],
        state=item["state"].encode("utf-8"),
    )
    seal = Seal(
        item["position"], item["previous_position"], item["digest"], item["chain"]
    )
    return ExportedEvent(stored, seal)


TRANSCODER = OrjsonTranscoder()
GIVEN_BY_THE_LOG = {"originator_id", "originator_version"}
"""An event's fields its stored state does not hold: its record and version."""


def check_readable(stored: StoredEvent) -> None:
    """An event the views can read: one of fourpi's own, its state JSON holding every
    field of its kind. A file whose chain verifies may hold anything (the chain is no
    secret), and one event the views cannot read, once stored, would stop them, and
    every answer, for good. A topic is resolved only inside fourpi: resolving one
    imports its module."""
    module = stored.topic.partition(":")[0]
    try:
        kind = resolve_topic(stored.topic) if module.startswith("fourpi.") else None
    except TopicError:
        kind = None
    if not (
        isinstance(kind, type)
        and issubclass(kind, DomainEvent)
        and not issubclass(kind, Snapshot)
        and is_dataclass(kind)
    ):
        raise ValueError("topic: must name one of fourpi's events")
    try:
        raw = orjson.loads(stored.state)
    except orjson.JSONDecodeError:
        raw = None
    if nesting_of(raw) > DEEPEST_NESTING:
        raise ValueError(
            f"state: nests values more than {DEEPEST_NESTING} deep, as no event of "
            "fourpi's does"
        )
    outside = topic_outside_fourpi(raw)
    if outside is not None:
        raise ValueError(f"state: names {outside!r}, which is not one of fourpi's")
    try:
        state = TRANSCODER.decode(stored.state)
    except (ValueError, TypeError, KeyError, TopicError):
        state = None
    if not isinstance(state, dict):
        raise ValueError("state: must be an event's fields as JSON")
    version = state.pop("class_version", 1)
    try:
        while version < getattr(kind, "class_version", 1):
            getattr(kind, f"upcast_v{version}_v{version + 1}")(state)
            version += 1
    except (AttributeError, TypeError, KeyError, ValueError):
        raise ValueError(f"state: class_version {version} cannot be read") from None
    needed = sorted(
        f.name
        for f in fields(kind)
        if f.default is MISSING
        and f.default_factory is MISSING
        and f.name not in GIVEN_BY_THE_LOG
        and f.name not in state
    )
    if needed:
        raise ValueError(
            f"state: has no {needed[0]}, which every {kind.__qualname__} holds"
        )
    hints = hints_of(kind)
    personal = personal_fields_of(kind)
    for name, value in state.items():
        if name in hints and not (
            fits(value, hints[name]) or (name in personal and is_envelope(value))
        ):
            raise ValueError(
                f"state: {name} is not {described(hints[name])}, as every "
                f"{kind.__qualname__} holds it"
            )


@cache
def hints_of(kind: type) -> dict[str, Any]:
    """A class's fields' types, worked out once a class, not once an event."""
    return get_type_hints(kind)


DEEPEST_NESTING = 64
"""How deep an event's state may nest lists and mappings: fourpi's own nest a few
levels (a tagged value in a mapping in a mapping); orjson reads up to 1,024, past
what Python's recursion (the checks here, the transcoder) can follow."""


def nesting_of(raw: Any) -> int:
    """How deep a JSON value nests lists and mappings, found without recursion."""
    deepest = 0
    waiting = [(raw, 0)]
    while waiting:
        value, depth = waiting.pop()
        if isinstance(value, dict):
            value = list(value.values())
        if isinstance(value, list):
            deepest = max(deepest, depth + 1)
            if deepest > DEEPEST_NESTING:
                return deepest
            waiting.extend((item, depth + 1) for item in value)
    return deepest


TAGS_NAMING_A_TOPIC = frozenset({"enum", "dataclass"})


def topic_outside_fourpi(raw: Any) -> str | None:
    """A topic a tagged value of the state names (an enum's, a dataclass's) outside
    fourpi, found before the state is decoded: decoding it would import its module,
    whatever that does."""
    if isinstance(raw, list):
        return next(filter(None, map(topic_outside_fourpi, raw)), None)
    if not isinstance(raw, dict):
        return None
    if raw.get(TAG) in TAGS_NAMING_A_TOPIC:
        data = raw.get(DATA)
        topic = data[0] if isinstance(data, list) and data else None
        if not (isinstance(topic, str) and topic.startswith("fourpi.")):
            return str(topic)
    return next(filter(None, map(topic_outside_fourpi, raw.values())), None)


LARGEST_STORED_INT = 2**63 - 1
"""A views' column holds a signed 64-bit integer, on SQLite as on PostgreSQL."""


def fits(value: Any, hint: Any) -> bool:
    """Whether a decoded field's value is of the type its event declares: one of
    another type (a date that is text, an id that is a number), once stored,
    stops the views at it, and so every answer, for good."""
    if hint is Any or isinstance(hint, TypeVar):
        return True
    arms = get_args(hint)
    if get_origin(hint) in (Union, UnionType):
        return any(fits(value, arm) for arm in arms)
    if get_origin(hint) is tuple:
        return isinstance(value, tuple | list) and all(fits(v, arms[0]) for v in value)
    if get_origin(hint) is dict:
        return isinstance(value, dict) and all(
            fits(k, arms[0]) and fits(v, arms[1]) for k, v in value.items()
        )
    if hint is type(None):
        return value is None
    if hint is bool:
        return type(value) is bool
    if hint is int:
        return type(value) is int and abs(value) <= LARGEST_STORED_INT
    if hint is str:
        # PostgreSQL's text cannot hold a NUL.
        return type(value) is str and "\x00" not in value
    if hint is Decimal:
        return isinstance(value, Decimal) and value.is_finite()
    if hint is date:
        return type(value) is date
    if hint is datetime:
        return type(value) is datetime and value.tzinfo is not None
    if isinstance(hint, type) and is_dataclass(hint):
        hints = hints_of(hint)
        return type(value) is hint and all(
            fits(getattr(value, f.name, None), hints[f.name]) for f in fields(hint)
        )
    return isinstance(hint, type) and isinstance(value, hint)


def is_envelope(value: Any) -> bool:
    """A personal field as stored: encrypted (fourpi.privacy.shredding.ENVELOPE)."""
    held = value.get(ENVELOPE) if isinstance(value, dict) and len(value) == 1 else None
    return (
        isinstance(held, list)
        and len(held) == 2
        and all(isinstance(part, str) for part in held)
    )


def described(hint: Any) -> str:
    """A field's type in words, for the refusal."""
    arms = get_args(hint)
    if get_origin(hint) in (Union, UnionType):
        return " or ".join(described(arm) for arm in arms)
    if get_origin(hint) is tuple:
        return f"a list of {described(arms[0]).removeprefix('a ')}"
    if get_origin(hint) is dict:
        return "a mapping"
    if hint is type(None):
        return "none"
    return {
        str: "text",
        int: "a whole number",
        bool: "true or false",
        UUID: "an id",
        date: "a date",
        datetime: "a moment with its time zone",
        Decimal: "a number",
    }.get(hint, f"a {getattr(hint, '__name__', hint)}")


class Histories:
    """Each record's kind and last version, as the events of a file (after those of
    the store it continues) leave them: an event must carry on its record's history.
    The chain is no secret, and the store keeps each version of a record once but
    asks nothing more, so a file could otherwise start a record twice, skip a
    version, or add one kind's event to another kind's record (an initiative
    launched as a person's next version): replayed, such a record turns into
    another, and its page and every report of its organisation failed. A
    record's first event also names the class it makes (`originator_topic`),
    which replaying it imports: it must be the record's own."""

    KINDS = 1 << 16
    """Each record is held as one number, its last version times KINDS plus its
    kind's place in `kinds`: some 100 bytes a record, 50 MB for a log of a
    million events (half of them receipts, a record each)."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.last: dict[int, int] = {}
        self.kinds: dict[str, int] = {}
        self.owners: list[str] = []

    def check(self, stored: StoredEvent) -> None:
        record_id = UUID(str(stored.originator_id))
        owner, _, name = stored.topic.rpartition(".")
        kind = owner.partition(":")[2]
        known = self.known(record_id)
        starts = issubclass(resolve_topic(stored.topic), AggregateCreated)
        version = stored.originator_version
        if known is None:
            if not starts or version != 1:
                raise ValueError(
                    f"version: {kind}.{name} cannot be version {version} of record "
                    f"{record_id}, which has no earlier event: a record starts with "
                    "the event that makes it, as version 1"
                )
            made = orjson.loads(stored.state).get("originator_topic")
            if made != owner:
                raise ValueError(
                    f"state: originator_topic must be {owner!r}, the kind of record "
                    f"{kind}.{name} makes"
                )
        else:
            known_owner, last = known
            if starts or known_owner != owner:
                were = known_owner.partition(":")[2]
                raise ValueError(
                    f"topic: {kind}.{name} cannot follow the events of {were} "
                    f"record {record_id}"
                )
            if version != last + 1:
                raise ValueError(
                    f"version: {version} cannot follow version {last} of record "
                    f"{record_id}: each version follows the one before"
                )
        if owner not in self.kinds:
            self.kinds[owner] = len(self.owners)
            self.owners.append(owner)
        self.last[record_id.int] = version * self.KINDS + self.kinds[owner]

    def known(self, record_id: UUID) -> tuple[str, int] | None:
        """The record's kind and last version so far, in the file or in the store
        it continues."""
        held = self.last.get(record_id.int)
        if held is not None:
            version, kind = divmod(held, self.KINDS)
            return self.owners[kind], version
        if self.recorder is None:
            return None
        found = self.recorder.select_events(record_id, desc=True, limit=1)
        if not found:
            return None
        return found[0].topic.rpartition(".")[0], found[0].originator_version


def verify_export(
    path: Path,
    after: Anchor | None = None,
    *,
    progress: Progress | None = None,
    recorder: Any = None,
) -> int:
    """Check a file's chain before anything is imported; the count of its events.
    `recorder`, the store a file continues (`after` its head), holds the records
    the file's events may continue."""
    previous_position = after.position if after else 0
    previous_chain = after.chain if after else None
    histories = Histories(recorder if after else None)
    count = 0
    for item in read_export(path):
        stored, seal = item.stored, item.seal
        try:
            check_readable(stored)
            histories.check(stored)
        except ValueError as error:
            raise ValueError(
                f"{path}, line {count + 1}: not an exported event ({error})"
            ) from None
        digest = digest_of(
            seal.position,
            stored.topic,
            stored.originator_id,
            stored.originator_version,
            stored.state,
        )
        if (
            digest != seal.digest
            or seal.previous_position != previous_position
            or seal.position <= previous_position
            or chain_of(previous_chain, previous_position, digest) != seal.chain
        ):
            raise ValueError(
                f"{path} does not verify at position {seal.position}: it was altered, "
                "or it does not continue this store's log"
            )
        previous_position, previous_chain = seal.position, seal.chain
        count += 1
        if progress is not None and count % BATCH == 0:
            progress(seal.position)
    if progress is not None:
        progress(previous_position)
    return count


def last_position(path: Path) -> int:
    """The position on a file's last line, read from its end: how far the progress
    over it goes. 0 when there is none to read (a pipe, or no export: it is refused
    when checked)."""
    if not path.is_file():
        return 0
    with path.open("rb") as lines:
        end = lines.seek(0, 2)
        lines.seek(max(0, end - 64 * 1024))
        tail = lines.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        return int(orjson.loads(tail)["position"])
    except (orjson.JSONDecodeError, TypeError, KeyError, ValueError):
        return 0


def import_log(
    recorder: Any,
    path: Path,
    *,
    append: bool = False,
    checking: Progress | None = None,
    progress: Progress | None = None,
) -> int:
    """Write an exported log into this store with its own positions and seals, in
    one transaction: refused or stopped (Ctrl-C) halfway, it leaves nothing."""
    head = checked_import(recorder, path, append=append, progress=checking)
    return import_checked(recorder, path, head, progress=progress)


def checked_import(
    recorder: Any, path: Path, *, append: bool, progress: Progress | None = None
) -> Anchor | None:
    """The store's head that the file was checked to continue (None: empty)."""
    head = anchor_of(recorder)
    if head is not None and not append:
        raise ValueError(
            f"the store already holds events (up to position {head.position}); import "
            "into an empty store, or pass --append to continue its log"
        )
    verify_export(path, after=head, progress=progress, recorder=recorder)
    return head


def import_checked(
    recorder: Any,
    path: Path,
    head: Anchor | None,
    *,
    progress: Progress | None = None,
    each: Callable[[StoredEvent], None] | None = None,
) -> int:
    """A file checked to continue the log from head, written if the log still ends
    there once the store's write lock is held; otherwise (another import, or a writer,
    got there while the file was checked) nothing is. `each` is told of every event
    written, before the transaction ends."""
    count = 0

    def batches() -> Iterator[list[ExportedEvent]]:
        nonlocal count
        events = read_export(path)
        while batch := list(islice(events, BATCH)):
            if each is not None:
                for item in batch:
                    each(item.stored)
            yield batch
            count += len(batch)
            if progress is not None:
                progress(batch[-1].seal.position)

    def still_at_head(last: Seal | None) -> None:
        now = None if last is None else Anchor(last.position, last.chain)
        if now != head:
            raise ValueError(
                f"{path}: the store's log moved on while the file was being checked "
                f"(it now ends at position {0 if now is None else now.position}), as "
                "another import or a writer stored events: nothing was imported"
            )

    try:
        recorder.import_events(batches(), still_at_head)
    except IntegrityError:
        raise ValueError(
            f"{path}: each version of a record may be recorded once, and this file "
            "records one twice, or one the store already holds: nothing was imported"
        ) from None
    return count


# The people the log says are erased, for restoring a key store


def erased_participants(recorder: Any, batch: int = BATCH) -> set[UUID]:
    """Every participant the log records as erased."""
    from fourpi.domain.participant import Participant

    return {
        UUID(str(n.originator_id))
        for n in notifications_of(recorder, get_topic(Participant.Erased), batch)
    }


def has_personal_data(recorder: Any) -> bool:
    """Whether the log records any participant (so any personal data) at all."""
    from fourpi.domain.participant import Participant

    topic = get_topic(Participant.Registered)
    return bool(recorder.select_notifications(start=1, limit=1, topics=[topic]))


def notifications_of(recorder: Any, topic: str, batch: int) -> Iterator[Notification]:
    position = 0
    while True:
        page = recorder.select_notifications(
            start=position + 1, limit=batch, topics=[topic]
        )
        if not page:
            return
        yield from page
        position = page[-1].id
