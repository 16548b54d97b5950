"""Access tokens: who may use the API, for which organisation and in which role; only a hash of each secret is kept."""

import hashlib
import secrets
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self
from uuid import NAMESPACE_URL, UUID, uuid5

from fourpi.domain.errors import InvalidInput
from fourpi.domain.record import OrganisationRecord, check_member, check_optional_line

TOKEN_NAMESPACE = uuid5(NAMESPACE_URL, "https://fourpi.invalid/access-token")
SECRET_PREFIX = "fourpi_"


class Role(StrEnum):
    """What a token may do."""

    MANAGER = "manager"
    """Logs what happens, and reads its organisation's records and answers."""
    EVALUATOR = "evaluator"
    """Reads answers and aggregates; never a person's details."""
    AUDITOR = "auditor"
    """Reads histories, the event log and the answers as of any moment; writes nothing."""
    ADMIN = "admin"
    """Registers organisations and issues and revokes tokens."""


MAY_HOLD_PERSONAL_DATA = frozenset({Role.MANAGER, Role.AUDITOR, Role.ADMIN})
"""The roles a token may be granted personal data for; never an evaluator's."""


def check_grant(role: Role, personal_data: bool) -> bool:
    """The personal-data grant: whether a token reads people's personal fields
    (pseudonyms, monitoring data, payment preferences and earnings limits, free text)."""
    if not isinstance(personal_data, bool):
        raise InvalidInput("personal_data", "must be true or false")
    if personal_data and role not in MAY_HOLD_PERSONAL_DATA:
        raise InvalidInput(
            "personal_data",
            f"{role} tokens may not be granted personal data: only manager, auditor "
            "and admin tokens may, for evaluators read aggregates and never a person's "
            "details",
        )
    return personal_data


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_of(secret: str) -> str:
    # Secrets are 256 random bits, so a fast hash cannot be reversed by guessing.
    return hashlib.sha256(secret.encode()).hexdigest()


def token_id_for(secret: str) -> UUID:
    """A token's record id follows from its secret, so a request finds it in one read."""
    return uuid5(TOKEN_NAMESPACE, hash_of(secret))


class AccessToken(OrganisationRecord):
    """A bearer token of one organisation; a global admin token belongs to none (its
    organisation_id is the nil UUID)."""

    kind = "access token"
    if TYPE_CHECKING:
        secret_hash: str
        role: Role
        label: str
        personal_data: bool
        revoked: bool

    class Issued(OrganisationRecord.Created):
        # Version 2 added the personal-data grant; tokens issued before it lack it.
        class_version = 2

        secret_hash: str
        role: Role
        label: str
        personal_data: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["personal_data"] = False

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.secret_hash = self.secret_hash
            aggregate.role = self.role
            aggregate.label = self.label
            aggregate.personal_data = self.personal_data
            aggregate.revoked = False

    class Revoked(OrganisationRecord.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.revoked = True

    @classmethod
    def issue(
        cls,
        *,
        secret: str,
        organisation_id: UUID,
        role: Role,
        label: str,
        recorded_by: str,
        personal_data: bool = False,
    ) -> Self:
        role = check_member("role", role, Role)
        return cls._open(
            cls.Issued,
            record_id=token_id_for(secret),
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            secret_hash=hash_of(secret),
            role=role,
            label=check_optional_line("label", label, max_length=200),
            personal_data=check_grant(role, personal_data),
        )

    def revoke(self, *, recorded_by: str) -> None:
        if self.revoked:
            raise InvalidInput("token_id", "the token is already revoked")
        self._record(self.Revoked, recorded_by=recorded_by)

    def matches(self, secret: str) -> bool:
        return not self.revoked and secrets.compare_digest(
            self.secret_hash, hash_of(secret)
        )
