"""Domain errors: each names the field it concerns and the rule that was broken."""

from uuid import UUID


class DomainError(Exception):
    """A command was refused; nothing was recorded."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    """A value broke a rule of the 4PI record."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}", field=field)
        self.rule = rule


class RecordNotFound(DomainError):
    code = "NOT_FOUND"

    def __init__(self, kind: str, record_id: UUID, *, field: str | None = None) -> None:
        super().__init__(f"{kind} {record_id} does not exist", field=field)
        self.kind = kind
        self.record_id = record_id


class CrossOrganisationReference(RecordNotFound):
    """A record of one organisation may never reference another organisation's.

    Refused in the very words of a record that does not exist: whether an id is
    another organisation's record, and so that it exists, is no one's to learn by
    naming it (many ids are made from what can be guessed, such as a receipt's
    from its organisation and idempotency key)."""

    def __init__(self, field: str, kind: str, record_id: UUID) -> None:
        super().__init__(kind, record_id, field=field)


class ConcurrencyConflict(DomainError):
    """Someone else changed the record first; reload and try again."""

    code = "CONFLICT"

    def __init__(self, record_ids: list[UUID]) -> None:
        ids = ", ".join(str(i) for i in record_ids)
        super().__init__(
            f"the record ({ids}) was changed by someone else at the same time; "
            "nothing was saved, reload it and try again"
        )
        self.record_ids = record_ids


class IdempotencyKeyReused(DomainError):
    """An idempotency key already carried a different command."""

    code = "CONFLICT"

    def __init__(self, key: str, first_command: str) -> None:
        super().__init__(
            f"idempotency_key: {key!r} was already used for a different command "
            f"({first_command}); use a new key for a new command",
            field="idempotency_key",
        )
        self.key = key
        self.first_command = first_command
