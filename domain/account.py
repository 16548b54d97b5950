"""A person's account for the web app: their email address, display name, organisation, role and personal-data grant, and what happened to it (invited, joined, role changed, disabled), each with who did it; its secrets (password, sessions) are kept apart from the log."""

import re
import unicodedata
from typing import TYPE_CHECKING, Any, Self
from uuid import NAMESPACE_URL, UUID, uuid5

from fourpi.domain.access import Role, check_grant
from fourpi.domain.errors import InvalidInput
from fourpi.domain.record import (
    OrganisationRecord,
    check_line,
    check_member,
    is_text,
)

ACCOUNT_NAMESPACE = uuid5(NAMESPACE_URL, "https://fourpi.invalid/account")
MAX_EMAIL_LENGTH = 254
ATOM = r"[\w!#$%&'*+/=?^`{|}~-]+"
"""Letters and digits (of any script) and the other characters a mailbox's name may
hold unquoted: no comma, angle bracket, semicolon, colon, bracket or quote, each of
which a mail program reads as the end of one address or the start of another."""
EMAIL_SHAPE = re.compile(rf"^{ATOM}(\.{ATOM})*@[\w-]+(\.[\w-]+)+$")
"""Dot-separated words, @, and a domain of two or more labels, none empty: a
trailing dot (manager@demo.example.) names the same mailbox as none, and would be
another account; 'a,b@x.example' would send a note to 'a' and to 'b@x.example', not to
the address shown."""


def check_email(field: str, value: str) -> str:
    """An email address as people type it, kept in lower case so one person has one
    account however they capitalise it."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must not be blank")
    if not is_text(value):
        raise InvalidInput(field, "must be text (it holds a lone surrogate)")
    email = as_kept(value)
    if len(email) > MAX_EMAIL_LENGTH:
        raise InvalidInput(field, f"must be at most {MAX_EMAIL_LENGTH} characters")
    # No control or format character (U+202E, a zero-width space): each would show
    # the address as another one on the accounts page.
    unseen = any(unicodedata.category(c)[0] == "C" for c in email)
    if unseen or not EMAIL_SHAPE.match(email):
        raise InvalidInput(field, "must be an email address, like name@example.org")
    return email


def as_kept(email: str) -> str:
    """An address as an account keeps it: trimmed, in lower case."""
    return email.strip().lower()


def account_id_for(email: str) -> UUID:
    """An account's record id follows from its email address: one account per address."""
    return uuid5(ACCOUNT_NAMESPACE, check_email("email", email))


def account_id_signing_in(email: str) -> UUID | None:
    """The id of the account, if any, whose address this is, as typed to sign in:
    found by the address as kept, not checked against EMAIL_SHAPE, so an account
    taken before the shape was stricter ('a,b@x.example', which receives no mail)
    still signs in. None for what no account's address can be."""
    if not isinstance(email, str) or not is_text(email) or not email.strip():
        return None
    return uuid5(ACCOUNT_NAMESPACE, as_kept(email))


class Account(OrganisationRecord):
    """A person who signs in to the web app, in one organisation with one role."""

    kind = "account"
    if TYPE_CHECKING:
        email: str
        display_name: str
        role: Role
        personal_data: bool
        joined: bool
        disabled: bool

    class Invited(OrganisationRecord.Created):
        email: str
        role: Role
        personal_data: bool

        def apply(self, aggregate: Any) -> None:
            super().apply(aggregate)
            aggregate.email = self.email
            aggregate.display_name = ""
            aggregate.role = self.role
            aggregate.personal_data = self.personal_data
            aggregate.joined = False
            aggregate.disabled = False

    class InvitedAgain(OrganisationRecord.Event):
        """A new invitation link; a disabled account is enabled again by it."""

        def apply(self, aggregate: Any) -> None:
            aggregate.disabled = False

    class Joined(OrganisationRecord.Event):
        """The person opened their invitation, gave a display name and chose a password."""

        display_name: str

        def apply(self, aggregate: Any) -> None:
            aggregate.display_name = self.display_name
            aggregate.joined = True

    class RoleChanged(OrganisationRecord.Event):
        role: Role
        personal_data: bool

        def apply(self, aggregate: Any) -> None:
            aggregate.role = self.role
            aggregate.personal_data = self.personal_data

    class Disabled(OrganisationRecord.Event):
        def apply(self, aggregate: Any) -> None:
            aggregate.disabled = True

    @classmethod
    def invite(
        cls,
        *,
        email: str,
        organisation_id: UUID,
        role: Role,
        personal_data: bool,
        recorded_by: str,
    ) -> Self:
        role = check_member("role", role, Role)
        email = check_email("email", email)
        return cls._open(
            cls.Invited,
            record_id=account_id_for(email),
            organisation_id=organisation_id,
            recorded_by=recorded_by,
            email=email,
            role=role,
            personal_data=check_grant(role, personal_data),
        )

    def invite_again(self, *, recorded_by: str) -> None:
        self._record(self.InvitedAgain, recorded_by=recorded_by)

    def join(self, *, display_name: str, recorded_by: str) -> None:
        self.check_enabled()
        self._record(
            self.Joined,
            recorded_by=recorded_by,
            display_name=check_line("display_name", display_name, max_length=100),
        )

    def change_role(self, *, role: Role, personal_data: bool, recorded_by: str) -> None:
        role = check_member("role", role, Role)
        granted = check_grant(role, personal_data)
        if role == self.role and granted == self.personal_data:
            raise InvalidInput("role", f"is already {role}")
        self._record(
            self.RoleChanged,
            recorded_by=recorded_by,
            role=role,
            personal_data=granted,
        )

    def disable(self, *, recorded_by: str) -> None:
        if self.disabled:
            raise InvalidInput("account_id", "the account is already disabled")
        self._record(self.Disabled, recorded_by=recorded_by)

    def check_enabled(self) -> None:
        if self.disabled:
            raise InvalidInput("account_id", "the account is disabled")
