"""Small helpers the tests share: a default actor, registering people, and the log position."""

from uuid import UUID

from fourpi.domain.application import InvolvementRecords
from fourpi.domain.vocabulary import ParticipantKind

ACTOR = "manager@example.org"


def register(
    records: InvolvementRecords,
    organisation_id: UUID,
    kind: ParticipantKind = ParticipantKind.SERVICE_USER,
    pseudonym: str = "Advisor",
) -> UUID:
    return records.register_participant(
        organisation_id=organisation_id,
        pseudonym=pseudonym,
        participant_kind=kind,
        actor=ACTOR,
    )


def log_position(records: InvolvementRecords) -> int:
    """How many events the store holds: unchanged by any refused command."""
    return records.recorder.max_notification_id() or 0
