"""A command receipt: the record that a command carrying an idempotency key was applied, and what it returned."""

from typing import TYPE_CHECKING, Any, Self
from uuid import UUID, uuid5

from fourpi.domain.record import OrganisationRecord

CommandResult = UUID | int | None


class CommandReceipt(OrganisationRecord):
    kind = "command receipt"
    if TYPE_CHECKING:
        idempotency_key: str
        command: str
        fingerprint: str
        result: CommandResult
        recorded_by: str

    @staticmethod
    def id_for(organisation_id: UUID, idempotency_key: str) -> UUID:
        return uuid5(organisation_id, f"idempotency-key:{idempotency_key}")

    class Issued(OrganisationRecord.Created):
        idempotency_key: str
        command: str
        fingerprint: str
        result: CommandResult

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.idempotency_key = self.idempotency_key
            aggregate.command = self.command
            aggregate.fingerprint = self.fingerprint
            aggregate.result = self.result
            aggregate.recorded_by = self.recorded_by

    @classmethod
    def issue(
        cls,
        *,
        organisation_id: UUID,
        idempotency_key: str,
        command: str,
        fingerprint: str,
        result: CommandResult,
        recorded_by: str,
    ) -> Self:
        return cls._open(
            cls.Issued,
            record_id=cls.id_for(organisation_id, idempotency_key),
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            idempotency_key=idempotency_key,
            command=command,
            fingerprint=fingerprint,
            result=result,
        )
