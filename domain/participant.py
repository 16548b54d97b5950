"""A participant: a pseudonymous person, with optional self-declared monitoring data and a payment preference."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from fourpi.domain.account import check_email
from fourpi.domain.errors import InvalidInput
from fourpi.domain.record import (
    OrganisationRecord,
    check_date,
    check_line,
    check_member,
    check_same_organisation,
)
from fourpi.domain.vocabulary import (
    AgeBand,
    Disability,
    EarningsPeriod,
    EducationLevel,
    EthnicGroup,
    Gender,
    MonitoringCategory,
    NoticePreference,
    ParticipantKind,
    PaymentPreference,
    SexualOrientation,
)


@dataclass(frozen=True)
class MonitoringData:
    """Self-declared; None means not recorded, which differs from prefer not to say."""

    age_band: AgeBand | None = None
    gender: Gender | None = None
    ethnic_group: EthnicGroup | None = None
    disability: Disability | None = None
    sexual_orientation: SexualOrientation | None = None
    education_level: EducationLevel | None = None

    def value_of(self, category: MonitoringCategory) -> str | None:
        value: str | None = getattr(self, category.value)
        return value

    @classmethod
    def checked(cls, **values: Any) -> "MonitoringData":
        vocabularies = {
            "age_band": AgeBand,
            "gender": Gender,
            "ethnic_group": EthnicGroup,
            "disability": Disability,
            "sexual_orientation": SexualOrientation,
            "education_level": EducationLevel,
        }
        unknown = set(values) - set(vocabularies)
        if unknown:
            raise InvalidInput(
                f"monitoring.{sorted(unknown)[0]}", "is not a monitoring category"
            )
        checked: dict[str, Any] = {
            name: None
            if value is None
            else check_member(f"monitoring.{name}", value, vocabularies[name])
            for name, value in values.items()
        }
        return cls(**checked)


def check_amount(field: str, amount: Decimal) -> Decimal:
    """Money: positive pounds and pence."""
    if isinstance(amount, bool):
        raise InvalidInput(field, "must be an amount of money")
    try:
        value = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        raise InvalidInput(field, "must be an amount of money") from None
    if not value.is_finite():
        raise InvalidInput(field, "must be an amount of money")
    if value <= 0:
        raise InvalidInput(field, "must be more than zero")
    # Checked before rounding: a huge amount cannot be rounded to pence at all.
    if value > Decimal("1000000"):
        raise InvalidInput(field, "must be at most 1,000,000")
    if value != value.quantize(Decimal("0.01")):
        raise InvalidInput(field, "must be in whole pence (at most 2 decimal places)")
    return value.quantize(Decimal("0.01"))


ERASED_PSEUDONYM = ""
"""What an erased participant's pseudonym reads as once their key is destroyed."""


def refuse_if_erased(participant: "Participant", field: str) -> None:
    """Nothing new is recorded about an erased person."""
    if participant.erased:
        raise InvalidInput(
            field,
            f"participant {participant.id} is erased: nothing new about them "
            "may be recorded",
        )


def check_people_named(
    organisation_id: UUID, field: str, people: Sequence["Participant"]
) -> None:
    """The people a new fact names (a role, attendance, a contribution, support...):
    of the fact's own organisation, and none of them erased, so that one erased
    person refuses the whole fact."""
    check_same_organisation(organisation_id, field, people)
    for person in people:
        refuse_if_erased(person, field)


class Participant(OrganisationRecord):
    kind = "participant"
    if TYPE_CHECKING:
        pseudonym: str
        participant_kind: ParticipantKind
        monitoring: MonitoringData
        payment_preference: PaymentPreference | None
        earnings_limit: Decimal | None
        earnings_period: EarningsPeriod | None
        erased: bool
        notice_preference: NoticePreference | None
        email: str
        erasure_requested_on: date | None
        personal_link_live: bool

    class Registered(OrganisationRecord.Created):
        pseudonym: str
        participant_kind: ParticipantKind

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.pseudonym = self.pseudonym
            aggregate.participant_kind = self.participant_kind
            aggregate.monitoring = MonitoringData()
            aggregate.payment_preference = None
            aggregate.earnings_limit = None
            aggregate.earnings_period = None
            aggregate.erased = False
            aggregate.notice_preference = None
            aggregate.email = ""
            aggregate.erasure_requested_on = None
            aggregate.personal_link_live = False

    class MonitoringDataDeclared(OrganisationRecord.Event):
        monitoring: MonitoringData

        def apply(self, aggregate: Any) -> None:
            aggregate.monitoring = self.monitoring

    class PaymentPreferenceSet(OrganisationRecord.Event):
        payment_preference: PaymentPreference
        earnings_limit: Decimal | None
        earnings_period: EarningsPeriod | None

        def apply(self, aggregate: Any) -> None:
            aggregate.payment_preference = self.payment_preference
            aggregate.earnings_limit = self.earnings_limit
            aggregate.earnings_period = self.earnings_period

    class Erased(OrganisationRecord.Event):
        """The person's personal data was erased: their key is destroyed, so every
        personal field of their facts reads as erased from now on. It carries no
        personal data itself."""

        def apply(self, aggregate: Any) -> None:
            aggregate.erased = True
            aggregate.pseudonym = ERASED_PSEUDONYM
            aggregate.monitoring = MonitoringData()
            aggregate.payment_preference = None
            aggregate.earnings_limit = None
            aggregate.earnings_period = None
            aggregate.notice_preference = None
            aggregate.email = ""
            aggregate.personal_link_live = False

    class PersonalLinkMade(OrganisationRecord.Event):
        """A personal link was made for the person to open their own page, valid
        until expires_on; any earlier link of theirs stops working. The secret is
        kept apart from the log (fourpi.personal_links), never in it."""

        expires_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.personal_link_live = True

    class PersonalLinkRevoked(OrganisationRecord.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.personal_link_live = False

    class NoticePreferenceSet(OrganisationRecord.Event):
        """How the person would like to be told about outcomes, and for email, the
        address they gave (personal data: erased with the rest)."""

        notice_preference: NoticePreference | None
        email: str

        def apply(self, aggregate: Any) -> None:
            aggregate.notice_preference = self.notice_preference
            aggregate.email = self.email

    class ErasureRequested(OrganisationRecord.Event):
        """The person asked for their personal data to be erased: a request for an
        admin to act on, not an erasure."""

        requested_on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.erasure_requested_on = self.requested_on

    @classmethod
    def register(
        cls,
        *,
        participant_id: UUID,
        organisation_id: UUID,
        pseudonym: str,
        participant_kind: ParticipantKind,
        recorded_by: str,
    ) -> Self:
        return cls._open(
            cls.Registered,
            record_id=participant_id,
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            pseudonym=check_line("pseudonym", pseudonym, max_length=100),
            participant_kind=check_member(
                "participant_kind", participant_kind, ParticipantKind
            ),
        )

    @property
    def has_lived_experience_voice(self) -> bool:
        return self.participant_kind.has_lived_experience_voice

    def declare_monitoring_data(
        self, *, monitoring: MonitoringData, recorded_by: str
    ) -> None:
        refuse_if_erased(self, "monitoring")
        if not isinstance(monitoring, MonitoringData):
            raise InvalidInput("monitoring", "must be self-declared monitoring data")
        self._record(
            self.MonitoringDataDeclared, recorded_by=recorded_by, monitoring=monitoring
        )

    def set_payment_preference(
        self,
        *,
        payment_preference: PaymentPreference,
        earnings_limit: Decimal | None,
        earnings_period: EarningsPeriod | None,
        recorded_by: str,
    ) -> None:
        refuse_if_erased(self, "payment_preference")
        preference = check_member(
            "payment_preference", payment_preference, PaymentPreference
        )
        if (earnings_limit is None) != (earnings_period is None):
            raise InvalidInput(
                "earnings_period" if earnings_period is None else "earnings_limit",
                "an earnings limit and its period (week or month) go together",
            )
        limit = None
        period = None
        if earnings_limit is not None:
            limit = check_amount("earnings_limit", earnings_limit)
            period = check_member("earnings_period", earnings_period, EarningsPeriod)
        self._record(
            self.PaymentPreferenceSet,
            recorded_by=recorded_by,
            payment_preference=preference,
            earnings_limit=limit,
            earnings_period=period,
        )

    def erase(self, *, recorded_by: str) -> bool:
        """Record that the person is erased; False when they already were."""
        if self.erased:
            return False
        self._record(self.Erased, recorded_by=recorded_by)
        return True

    def make_personal_link(self, *, expires_on: date, recorded_by: str) -> None:
        """Only a service user or carer has a personal page, and never once erased."""
        refuse_if_erased(self, "participant_id")
        if not self.has_lived_experience_voice:
            raise InvalidInput(
                "participant_id",
                f"participant {self.id} is a {self.participant_kind}: a personal "
                "link is for a service user or carer",
            )
        self._record(
            self.PersonalLinkMade,
            recorded_by=recorded_by,
            expires_on=check_date("expires_on", expires_on),
        )

    def revoke_personal_link(self, *, recorded_by: str) -> None:
        if not self.personal_link_live:
            raise InvalidInput(
                "participant_id",
                f"participant {self.id} has no personal link to revoke",
            )
        self._record(self.PersonalLinkRevoked, recorded_by=recorded_by)

    def set_notice_preference(
        self, *, notice_preference: NoticePreference, email: str, recorded_by: str
    ) -> None:
        """By email needs the address to write to; another way needs none."""
        refuse_if_erased(self, "notice_preference")
        preference = check_member(
            "notice_preference", notice_preference, NoticePreference
        )
        if preference is NoticePreference.EMAIL:
            email = check_email("email", email)
        elif email:
            raise InvalidInput("email", "is only needed to be told by email")
        self._record(
            self.NoticePreferenceSet,
            recorded_by=recorded_by,
            notice_preference=preference,
            email=email,
        )

    def request_erasure(self, *, requested_on: date, recorded_by: str) -> None:
        refuse_if_erased(self, "participant_id")
        if self.erasure_requested_on is not None:
            raise InvalidInput(
                "participant_id",
                f"participant {self.id} already asked to be erased on "
                f"{self.erasure_requested_on}",
            )
        self._record(
            self.ErasureRequested,
            recorded_by=recorded_by,
            requested_on=check_date("requested_on", requested_on),
        )
