"""Crypto-shredding in the persistence layer: every personal field is stored encrypted under its person's own key, and reads as erased once that key is destroyed.

On write, each personal field (fourpi.domain.personal) of an event with a data subject
is replaced by an envelope: the AES-GCM ciphertext of the field's transcoded value
under the subject's key, bound (as associated data) to the event's record, version,
subject and field name, so no envelope can be moved to another event or field. The
event's stored bytes, and so its seal in the hash chain, hold only ciphertext: a seal
stays valid after its person is erased.

On read, an envelope whose key is present decrypts to the value; one whose key is
destroyed reads as the field's erased value, so aggregates, projections, replays and
rebuilds keep working and never see the data again. Events with no personal field, and
anonymous answers, are stored exactly as the plain Mapper stores them; so are snapshots,
which are refused for any record whose events carry personal data
(fourpi.domain.personal.PERSONAL_RECORDS): its state, read, holds that data decrypted.
"""

import base64
import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol, Snapshot
from eventsourcing.persistence import (
    EventStore,
    IntegrityError,
    Mapper,
    MapperDeserialisationError,
    Notification,
    Recording,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from fourpi.config import MasterKeyError
from fourpi.domain.personal import (
    PERSONAL_RECORDS,
    PersonalRecordSnapshotted,
    data_subject_of,
    erased_value,
    personal_fields_of,
)
from fourpi.privacy.keystore import (
    NONCE_BYTES,
    KeyRow,
    PersonalKeyStore,
    PersonalKeyTaken,
)

ENVELOPE = "_personal_"
"""An encrypted field is stored as {"_personal_": [subject id, base64 of nonce + ciphertext]}."""


def associated_data(
    originator_id: UUID, version: int, subject: UUID, field: str
) -> bytes:
    return (
        b"fourpi/personal-field/v1\0"
        + originator_id.bytes
        + version.to_bytes(8, "big")
        + subject.bytes
        + field.encode()
    )


def is_envelope(value: Any) -> bool:
    return type(value) is dict and len(value) == 1 and ENVELOPE in value


Unchanged = tuple[tuple[UUID, int], ...]
"""Records a command read without changing them, each with the version it read."""


@dataclass(frozen=True)
class CheckedStoredEvent(StoredEvent):
    """A stored event of a command that read people's records without changing them
    (naming them as attendees, contributors, a role's holder): the recorder fails the
    transaction that stores it (RecordChanged) if any of them has an event after the
    version read, so nothing is recorded about a person erased in the meantime."""

    unchanged: Unchanged = dataclasses.field(default=(), kw_only=True)


@dataclass(frozen=True)
class NewKeyStoredEvent(CheckedStoredEvent):
    """A stored event encrypted under a person's key made for it: the recorder inserts
    the key's row (wrapped, never the plain key) in the transaction that stores the
    event, and fails that transaction (PersonalKeyTaken) if the person has a row."""

    new_key: KeyRow


class RecordChanged(IntegrityError):
    """A record a command read without changing it has changed since (a person named
    by the command was erased): the transaction is rolled back, and the command is
    decided again on the record as it is now (InvolvementRecords._run)."""


def new_keys_of(stored_events: Iterable[StoredEvent]) -> list[KeyRow]:
    """The key rows to insert with these events."""
    return [e.new_key for e in stored_events if isinstance(e, NewKeyStoredEvent)]


def unchanged_of(stored_events: Iterable[StoredEvent]) -> list[tuple[UUID, int]]:
    """The records to find unchanged, in the transaction storing these events."""
    return [
        read
        for e in stored_events
        if isinstance(e, CheckedStoredEvent)
        for read in e.unchanged
    ]


def checked(events: list[StoredEvent], unchanged: Unchanged) -> list[StoredEvent]:
    """The events, the first carrying the records to find unchanged as they are stored."""
    if not unchanged or not events:
        return events
    first = events[0]
    if isinstance(first, CheckedStoredEvent):
        first = replace(first, unchanged=unchanged)
    else:
        first = CheckedStoredEvent(
            originator_id=first.originator_id,
            originator_version=first.originator_version,
            topic=first.topic,
            state=first.state,
            unchanged=unchanged,
        )
    return [first, *events[1:]]


def check_snapshot_has_no_personal_data(snapshot: Snapshot) -> None:
    """A snapshot stores its record's state as read, decrypted, under no person's
    key: one of a person's own record would keep their data after they are erased."""
    if resolve_topic(snapshot.topic) in PERSONAL_RECORDS:
        raise PersonalRecordSnapshotted(
            f"a snapshot of {snapshot.topic} would hold personal data outside its "
            "person's key: such records are never snapshotted"
        )


class PersonalDataMapper(Mapper[UUID]):
    """The library's Mapper, with personal fields encrypted per person."""

    def __init__(
        self,
        transcoder: Transcoder,
        keys: PersonalKeyStore,
        compressor: Any = None,
        cipher: Any = None,
    ) -> None:
        if compressor is not None or cipher is not None:
            raise ValueError(
                "fourpi encrypts personal fields itself: no library cipher or "
                "compressor may be configured (they would hide the envelopes)"
            )
        super().__init__(transcoder=transcoder)
        self.keys = keys

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """One event on its own: a key it needs is made and stored at once."""
        return self.encoded(domain_event, None)

    def to_stored_events(
        self,
        domain_events: Sequence[DomainEventProtocol[UUID]],
        *,
        presume_registered_new: bool = True,
    ) -> list[StoredEvent]:
        """Events to be stored in one transaction: a person with no key gets one made
        for this batch, whose row travels with the first event under it
        (NewKeyStoredEvent) and is stored in the events' transaction, or not at all.

        With `presume_registered_new`, a person whose own record begins in the batch
        (they are being registered, under a new id) is presumed to have no key, and
        none is read (measured: one query of the four a registration's write makes
        besides its transaction); see PersonalKeyStore.key_for_event."""
        made: dict[UUID, bytes] = {}
        registered = (
            {e.originator_id for e in domain_events if e.originator_version == 1}
            if presume_registered_new
            else set()
        )
        return [self.encoded(event, made, registered) for event in domain_events]

    def encoded(
        self,
        domain_event: DomainEventProtocol[UUID],
        made: dict[UUID, bytes] | None,
        registered: set[UUID] | frozenset[UUID] = frozenset(),
    ) -> StoredEvent:
        fields = personal_fields_of(type(domain_event))
        subject = data_subject_of(domain_event) if fields else None
        if subject is None:
            if isinstance(domain_event, Snapshot):
                check_snapshot_has_no_personal_data(domain_event)
            return super().to_stored_event(domain_event)
        event_state = dict(vars(domain_event))
        originator_id: UUID = event_state.pop("originator_id")
        originator_version: int = event_state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            event_state["class_version"] = class_version
        organisation_id: UUID = event_state["organisation_id"]
        new_key: KeyRow | None = None
        if made is None:
            key = self.keys.key_for_writing(subject, organisation_id)
        else:
            key, new_key = self.keys.key_for_event(
                subject, organisation_id, made, presumed_new=subject in registered
            )
        aead = AESGCM(key)
        for field in sorted(fields):
            if field not in event_state:
                continue
            nonce = os.urandom(NONCE_BYTES)
            ciphertext = aead.encrypt(
                nonce,
                self.transcoder.encode(event_state[field]),
                associated_data(originator_id, originator_version, subject, field),
            )
            event_state[field] = {
                ENVELOPE: [subject.hex, base64.b64encode(nonce + ciphertext).decode()]
            }
        topic = get_topic(type(domain_event))
        state = self.transcoder.encode(event_state)
        if new_key is not None:
            return NewKeyStoredEvent(
                originator_id, originator_version, topic, state, new_key
            )
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        if not personal_fields_of(cls):
            return super().to_domain_event(stored_event)
        originator_id = UUID(str(stored_event.originator_id))
        try:
            event_state: dict[str, Any] = self.transcoder.decode(stored_event.state)
            for field, value in event_state.items():
                if is_envelope(value):
                    event_state[field] = self.opened(
                        value, originator_id, stored_event.originator_version, field
                    )
        except MasterKeyError:
            raise
        except InvalidTag:
            raise MapperDeserialisationError(
                f"a personal field of the event of record {originator_id}, version "
                f"{stored_event.originator_version}, does not decrypt under its "
                "person's key: the stored event or the key store was altered"
            ) from None
        except (ValueError, TypeError, KeyError) as error:
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic "
                f"'{stored_event.topic}', originator_id '{originator_id}' and "
                f"originator_version {stored_event.originator_version}: "
                f"{type(error).__name__}"
            ) from None
        event_state["originator_id"] = originator_id
        event_state["originator_version"] = stored_event.originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", event_state)
        return cast(DomainEventProtocol[UUID], domain_event)

    def opened(
        self, envelope: dict[str, Any], originator_id: UUID, version: int, field: str
    ) -> Any:
        subject_hex, sealed_text = envelope[ENVELOPE]
        subject = UUID(hex=subject_hex)
        key = self.keys.key_for_reading(subject)
        if key is None:
            return erased_value(field)
        sealed = base64.b64decode(sealed_text)
        plaintext = AESGCM(key).decrypt(
            sealed[:NONCE_BYTES],
            sealed[NONCE_BYTES:],
            associated_data(originator_id, version, subject, field),
        )
        return self.transcoder.decode(plaintext)


KEY_RACE_ATTEMPTS = 3
"""How many times a batch is encrypted and stored while other writers keep storing
first keys for its people (once is enough: after losing a race the key is there)."""


class PersonalEventStore(EventStore[UUID]):
    """The library's event store, storing a batch's new personal keys with its events.

    A batch whose new key lost a race (PersonalKeyTaken: another writer stored that
    person's first key, or erased them, since the batch was encrypted) is encrypted
    again, now under the stored key, or refused with SubjectErased."""

    mapper: PersonalDataMapper

    def __init__(self, mapper: PersonalDataMapper, recorder: Any) -> None:
        super().__init__(mapper, recorder)
        self.keys_with_events = bool(getattr(recorder, "stores_new_keys", False))
        """Whether the recorder stores NewKeyStoredEvent's keys (fourpi.storage.sealing's
        do); with any other (the in-memory store's) a new key is stored first, on
        its own, as the mapper does for a lone event."""

    def put(
        self,
        domain_events: Sequence[DomainEventProtocol[UUID]],
        *,
        unchanged: Unchanged = (),
        **kwargs: Any,
    ) -> list[Recording[UUID]]:
        """Store the events; `unchanged`: records the command read without changing
        them, which must still be at the versions read (CheckedStoredEvent)."""
        for attempt in range(1, KEY_RACE_ATTEMPTS + 1):
            stored_events = (
                # After a refused key, the batch's keys are read, none presumed.
                self.mapper.to_stored_events(
                    domain_events, presume_registered_new=attempt == 1
                )
                if self.keys_with_events
                else [self.mapper.to_stored_event(event) for event in domain_events]
            )
            stored_events = checked(list(stored_events), unchanged)
            try:
                notification_ids = self.recorder.insert_events(stored_events, **kwargs)
            except PersonalKeyTaken:
                if attempt == KEY_RACE_ATTEMPTS:
                    raise
                continue
            return self.recordings(domain_events, stored_events, notification_ids)
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def recordings(
        domain_events: Sequence[DomainEventProtocol[UUID]],
        stored_events: Sequence[StoredEvent],
        notification_ids: Sequence[int] | None,
    ) -> list[Recording[UUID]]:
        """What the library's EventStore.put returns."""
        if not notification_ids:
            return []
        assert len(notification_ids) == len(stored_events)
        return [
            Recording(
                d,
                Notification(
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                    id=n_id,
                ),
            )
            for d, s, n_id in zip(
                domain_events, stored_events, notification_ids, strict=True
            )
        ]
