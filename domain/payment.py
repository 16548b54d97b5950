"""A payment to a participant: what it is for, when it was owed and when it was paid."""

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from fourpi.domain.errors import InvalidInput
from fourpi.domain.initiative import Initiative
from fourpi.domain.participant import Participant, check_amount, refuse_if_erased
from fourpi.domain.record import (
    OrganisationRecord,
    check_date,
    check_member,
    check_optional_text,
    check_same_organisation,
)
from fourpi.domain.vocabulary import PaymentKind, PaymentPreference


class Payment(OrganisationRecord):
    kind = "payment"
    if TYPE_CHECKING:
        participant_id: UUID
        initiative_id: UUID | None
        payment_kind: PaymentKind
        amount: Decimal
        owed_on: date
        description: str
        paid_on: date | None

    class Owed(OrganisationRecord.Created):
        participant_id: UUID
        initiative_id: UUID | None
        payment_kind: PaymentKind
        amount: Decimal
        owed_on: date
        description: str

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.participant_id = self.participant_id
            aggregate.initiative_id = self.initiative_id
            aggregate.payment_kind = self.payment_kind
            aggregate.amount = self.amount
            aggregate.owed_on = self.owed_on
            aggregate.description = self.description
            aggregate.paid_on = None

    class Paid(OrganisationRecord.Event):
        paid_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.paid_on = self.paid_on

    @classmethod
    def owe(
        cls,
        *,
        payment_id: UUID,
        participant: Participant,
        initiative: Initiative | None,
        payment_kind: PaymentKind,
        amount: Decimal,
        owed_on: date,
        description: str,
        recorded_by: str,
    ) -> Self:
        refuse_if_erased(participant, "participant_id")
        payment_kind = check_member("payment_kind", payment_kind, PaymentKind)
        check_date("owed_on", owed_on)
        if initiative is not None:
            check_same_organisation(
                participant.organisation_id, "initiative_id", [initiative]
            )
            initiative.check_not_before_start("owed_on", owed_on)
        preference = participant.payment_preference
        if (
            payment_kind.counts_as_earnings
            and preference is not None
            and PaymentPreference(preference).refuses_fees
        ):
            # NSUN: people choose how they are paid, often to protect their benefits.
            # Which of the two they chose is personal data, and whoever records a
            # payment may not be granted it: the refusal is the same for both.
            raise InvalidInput(
                "payment_kind",
                f"participant {participant.id} chose not to be paid fees; a fee "
                "would go against that choice",
            )
        return cls._open(
            cls.Owed,
            record_id=payment_id,
            organisation_id=participant.organisation_id,
            recorded_by=recorded_by,
            participant_id=participant.id,
            initiative_id=None if initiative is None else initiative.id,
            payment_kind=payment_kind,
            amount=check_amount("amount", amount),
            owed_on=owed_on,
            description=check_optional_text("description", description),
        )

    def pay(self, *, paid_on: date, recorded_by: str) -> None:
        if self.paid_on is not None:
            raise InvalidInput(
                "paid_on", f"the payment was already paid on {self.paid_on}"
            )
        check_date("paid_on", paid_on)
        if paid_on < self.owed_on:
            raise InvalidInput(
                "paid_on", f"must not be before the payment was owed ({self.owed_on})"
            )
        self._record(self.Paid, recorded_by=recorded_by, paid_on=paid_on)
