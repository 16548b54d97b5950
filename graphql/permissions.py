"""Who may do what: each field names the roles allowed, and the caller's organisation bounds every read and write."""

from typing import Any
from uuid import UUID

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from fourpi.domain.access import Role
from fourpi.graphql.context import Caller, FourPIInfo
from fourpi.graphql.errors import FORBIDDEN, UNAUTHENTICATED, client_error
from fourpi.privacy import visibility
from fourpi.privacy.visibility import may_read_personal_data
from graphql import GraphQLError

PERSONAL_DATA_REFUSED = (
    "this names people and shows their personal data: it needs a token granted "
    "personal data (`fourpi tokens create --personal-data`, or issueToken with "
    "personalData: true)"
)


class Allow(BasePermission):
    """Lets through callers whose role is one of those named (and, where personal data
    is asked for, whose token is granted it)."""

    def __init__(self, *roles: Role, personal_data: bool = False) -> None:
        self.roles = frozenset(roles)
        self.personal_data = personal_data
        self.message = "your token's role may not do this"

    def has_permission(self, source: Any, info: FourPIInfo, **kwargs: Any) -> bool:
        caller = caller_of(info)
        if caller.role not in self.roles:
            raise client_error(
                f"{_article(caller.role)} {caller.role} token may not do this; it "
                "needs one of: " + ", ".join(sorted(self.roles)),
                FORBIDDEN,
            )
        if self.personal_data and not caller.personal_data:
            raise client_error(PERSONAL_DATA_REFUSED, FORBIDDEN)
        return True


def allow(*roles: Role, personal_data: bool = False) -> list[FieldExtension]:
    """The field extension that lets only these roles use a field (and only tokens
    granted personal data, if asked)."""
    return [
        PermissionExtension(
            permissions=[Allow(*roles, personal_data=personal_data)],
            use_directives=False,
        )
    ]


MANAGERS = allow(*visibility.WRITERS_OF_RECORDS)
READERS_OF_ANSWERS = allow(*visibility.READERS_OF_ANSWERS)
READERS_OF_RECORDS = allow(*visibility.READERS_OF_RECORDS)
"""Histories and records: their personal fields are redacted for a token without the
personal-data grant (see fourpi.privacy.redaction)."""
READERS_OF_PEOPLE = allow(*visibility.READERS_OF_RECORDS, personal_data=True)
"""Answers that are about named people: only tokens granted personal data."""
AUDITORS = allow(*visibility.AUDITORS)
ADMINS = allow(*visibility.ADMINS)


TOKEN_REQUIRED = "a bearer token is required: send 'Authorization: Bearer <token>'"
TOKEN_NOT_VALID = (
    "the bearer token is not valid: it is unknown, mistyped or revoked (ask your "
    "organisation's admin for a new one)"
)


def caller_of(info: FourPIInfo) -> Caller:
    """The caller behind the bearer token, or UNAUTHENTICATED saying what is wrong."""
    caller = info.context.caller
    if caller is None:
        raise client_error(
            TOKEN_NOT_VALID if info.context.bearer_given else TOKEN_REQUIRED,
            UNAUTHENTICATED,
        )
    return caller


def organisation_of(info: FourPIInfo) -> UUID:
    """The organisation every read and write of this caller is bound to."""
    caller = caller_of(info)
    if caller.organisation_id is None:
        raise client_error(
            "a global admin token belongs to no organisation; use a token of the "
            "organisation",
            FORBIDDEN,
        )
    return caller.organisation_id


__all__ = ["GraphQLError", "may_read_personal_data"]


def _article(word: str) -> str:
    """'an evaluator', 'an admin', 'a manager'."""
    return "an" if word[:1].lower() in "aeiou" else "a"
