"""Which facts are a person's personal data, and whose: the one list that encryption, erasure and redaction all follow."""

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from fourpi.domain.participant import ERASED_PSEUDONYM, MonitoringData, Participant
from fourpi.domain.process_experience import ProcessExperienceAnswer

PERSONAL_FIELDS: dict[type[Any], frozenset[str]] = {
    Participant.Registered: frozenset({"pseudonym"}),
    Participant.MonitoringDataDeclared: frozenset({"monitoring"}),
    Participant.PaymentPreferenceSet: frozenset(
        {"payment_preference", "earnings_limit", "earnings_period"}
    ),
    ProcessExperienceAnswer.Recorded: frozenset({"free_text"}),
    Participant.NoticePreferenceSet: frozenset({"notice_preference", "email"}),
}
"""Event classes that carry personal data, and the fields that hold it."""

PERSONAL_RECORDS: frozenset[type[Any]] = frozenset(
    {Participant, ProcessExperienceAnswer}
)
"""The records whose events above carry personal data: read, their state holds it
decrypted, so none is ever kept as a snapshot, where it would outlive its person's
key (fourpi.privacy.shredding refuses to store one)."""


class PersonalRecordSnapshotted(ValueError):
    """A snapshot of a record that holds personal data was about to be stored."""


ERASED_VALUES: dict[str, Any] = {
    "pseudonym": ERASED_PSEUDONYM,
    "monitoring": MonitoringData(),
    "payment_preference": None,
    "earnings_limit": None,
    "earnings_period": None,
    "free_text": "",
    "notice_preference": None,
    "email": "",
}
"""What each personal field reads as once its person's key is destroyed: values the
aggregates and the views take as they are, so replays and rebuilds keep working."""


def personal_fields_of(event_class: type[Any]) -> frozenset[str]:
    return PERSONAL_FIELDS.get(event_class, frozenset())


def erased_value(field: str) -> Any:
    return ERASED_VALUES[field]


def data_subject_of(event: Any) -> UUID | None:
    """The participant whose personal data the event carries, if any.

    A participant's own events are theirs; a process-experience answer is its
    respondent's (an anonymous answer belongs to no one and carries no personal field).
    """
    event_class = type(event)
    if event_class not in PERSONAL_FIELDS:
        return None
    if event_class is ProcessExperienceAnswer.Recorded:
        participant_id: UUID | None = event.participant_id
        return participant_id
    originator_id: UUID = event.originator_id
    return originator_id


@dataclass(frozen=True)
class Erasure:
    """What erasing a participant did."""

    participant_id: UUID
    organisation_id: UUID
    recorded: bool
    """False when the participant was already erased (the key was destroyed again)."""
    key_destroyed: bool
    """False when no live key was left to destroy (it was destroyed before)."""
    storage: tuple[str, ...]
    """What was done to the database's files so no old copy of the key survives."""


class PersonalKeys(Protocol):
    """The key store the application service erases with (see fourpi.privacy.keystore)."""

    def destroy(self, participant_id: UUID, organisation_id: UUID) -> bool:
        """Destroy the person's key for good; True when a live key was destroyed."""

    def scrub(self) -> tuple[str, ...]:
        """Make the database's files forget what was deleted, as far as it can."""

    def remembered(self) -> AbstractContextManager[None]:
        """Within this block each key is read from the database once."""

    @property
    def receipt_key(self) -> bytes:
        """The key command receipts' fingerprints are computed under."""
