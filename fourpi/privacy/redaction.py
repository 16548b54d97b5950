"""Least privilege on the read side: a caller whose token is not granted personal data reads every fact and record, with each personal field (as fourpi.domain.personal lists them) replaced by null and named as redacted."""

from collections.abc import Mapping
from typing import Any

from fourpi.domain.personal import PERSONAL_FIELDS, personal_fields_of

REDACTED_DESCRIPTION = (
    "The personal fields withheld here because the token is not granted personal "
    "data: each is present with a null value. Empty when nothing was withheld."
)


def personal_state_of(record_class: type[Any]) -> frozenset[str]:
    """The attributes of a record that hold personal data: the personal fields of the
    facts that belong to its kind of record (a record keeps each under its own name)."""
    fields: set[str] = set()
    for event_class, personal in PERSONAL_FIELDS.items():
        if getattr(record_class, event_class.__name__, None) is event_class:
            fields |= personal
    return frozenset(fields)


def redacted(
    values: Mapping[str, Any], personal: frozenset[str], granted: bool
) -> tuple[dict[str, Any], list[str]]:
    """The values with every personal one nulled unless the caller is granted personal
    data, and the names of those nulled, in order."""
    shown = dict(values)
    if granted:
        return shown, []
    withheld = sorted(name for name in personal if name in shown)
    for name in withheld:
        shown[name] = None
    return shown, withheld


def redacted_event(
    event: Any, values: Mapping[str, Any], granted: bool
) -> tuple[dict[str, Any], list[str]]:
    """A fact's values as the caller may read them."""
    return redacted(values, personal_fields_of(type(event)), granted)


def redacted_state(
    record: Any, values: Mapping[str, Any], granted: bool
) -> tuple[dict[str, Any], list[str]]:
    """A record's state as the caller may read it."""
    return redacted(values, personal_state_of(type(record)), granted)
