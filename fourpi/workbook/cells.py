"""Reading one cell as its field's type (dates as dd/mm/yyyy or ISO, vocabulary values by label or code), and writing a value back as a cell."""

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from fourpi.domain.use_cases import Field, FieldKind, label_of
from fourpi.local_time import NotOnTheClock, in_time_zone, local
from fourpi.workbook.files import text_of
from fourpi.workbook.sheets import normalised

LIST_SEPARATORS = re.compile(r"[;,\n]")
DAY_FIRST = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2}))?$")


class CellError(Exception):
    """A cell's value breaks the rule its column follows."""

    def __init__(self, rule: str) -> None:
        super().__init__(rule)
        self.rule = rule


def read_cell(field: Field, value: Any) -> Any:
    """The cell's value as the use case takes it; value is never blank here."""
    kind = field.kind
    if kind in (FieldKind.TEXT, FieldKind.LONG_TEXT):
        return read_text(value)
    if kind is FieldKind.TEXT_LINES:
        return tuple(
            line.strip() for line in read_text(value).splitlines() if line.strip()
        )
    if kind is FieldKind.DATE:
        return read_date(value)
    if kind is FieldKind.MOMENT:
        return read_moment(value)
    if kind is FieldKind.YES_NO:
        return read_yes_no(value)
    if kind in (FieldKind.WHOLE_NUMBER, FieldKind.SCORE):
        return read_whole_number(value)
    if kind in (FieldKind.AMOUNT, FieldKind.DECIMAL):
        return read_decimal(value)
    if kind is FieldKind.CHOICE:
        assert field.vocabulary is not None
        return read_choice(field.vocabulary, value)
    if kind is FieldKind.CHOICES:
        assert field.vocabulary is not None
        vocabulary = field.vocabulary
        return tuple(read_choice(vocabulary, part) for part in items_of(value))
    if kind is FieldKind.REFERENCE:
        return read_key(value)
    if kind is FieldKind.REFERENCES:
        return tuple(read_key(part) for part in items_of(value))
    raise CellError(f"a {kind.value} cannot be read from one cell")


def read_text(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime | date):
        raise CellError("must be text, not a date")
    return text_of(value)


def items_of(value: Any) -> list[str]:
    return [
        part.strip() for part in LIST_SEPARATORS.split(text_of(value)) if part.strip()
    ]


def read_key(value: Any) -> str:
    key = text_of(value)
    if len(key) > MAX_KEY_LENGTH:
        raise CellError(f"a key must be at most {MAX_KEY_LENGTH} characters")
    return key


MAX_KEY_LENGTH = 100


def read_date(value: Any) -> date:
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise CellError("must be a date without a time")
        return value.date()
    if isinstance(value, date):
        return value
    text = text_of(value)
    match = DAY_FIRST.match(text)
    try:
        if match and match.group(4) is None:
            day, month, year = (int(match.group(i)) for i in (1, 2, 3))
            return date(year, month, day)
        if not match:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise CellError("must be a date, as dd/mm/yyyy or yyyy-mm-dd")


def read_moment(value: Any) -> datetime:
    """A date and time; without a zone, in the organisation's time zone."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0))
    else:
        text = text_of(value)
        match = DAY_FIRST.match(text)
        try:
            if match:
                day, month, year = (int(match.group(i)) for i in (1, 2, 3))
                hour = int(match.group(4) or 0)
                minute = int(match.group(5) or 0)
                moment = datetime(year, month, day, hour, minute)
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise CellError(
                "must be a date and time, as dd/mm/yyyy hh:mm or ISO "
                "(yyyy-mm-ddThh:mm, with a zone such as +00:00 if not local time)"
            ) from None
    try:
        return in_time_zone(moment)
    except OverflowError:
        raise CellError(
            "must be a date and time between the years 1 and 9999"
        ) from None
    except NotOnTheClock as skipped:
        raise CellError(str(skipped)) from None


YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


def read_yes_no(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = normalised(text_of(value))
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError("must be Yes or No")


def read_whole_number(value: Any) -> int:
    if isinstance(value, bool):
        raise CellError("must be a whole number")
    number = read_decimal(value)
    if number != number.to_integral_value():
        raise CellError("must be a whole number")
    if abs(number) > LARGEST_WHOLE_NUMBER:
        raise CellError(f"must be at most {LARGEST_WHOLE_NUMBER:,}")
    return int(number)


LARGEST_WHOLE_NUMBER = 1_000_000_000
"""Far beyond any count or score the record holds, and within what every face
(GraphQL's Int, a JSON fingerprint) can carry."""


def read_decimal(value: Any) -> Decimal:
    if isinstance(value, bool | datetime | date):
        raise CellError("must be a number")
    text = text_of(value).replace(",", "").removeprefix("£")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError("must be a number") from None
    if not number.is_finite():
        raise CellError("must be a number")
    return number


def read_choice(vocabulary: type[StrEnum], value: Any) -> StrEnum:
    wanted = normalised(text_of(value))
    for member in vocabulary:
        if wanted in (normalised(member.value), normalised(label_of(member))):
            return member
    allowed = ", ".join(label_of(m) for m in vocabulary)
    raise CellError(f"must be one of: {allowed}")


# Writing


def cell_of(field: Field, value: Any) -> Any:
    """A value as the workbook shows it: labels for vocabulary values, keys joined
    by '; ', one item a line for text lists, dates as dates."""
    if value is None:
        return None
    if isinstance(value, StrEnum):
        return label_of(value)
    if field.kind is FieldKind.TEXT_LINES:
        return "\n".join(value) or None
    if isinstance(value, tuple | list):
        return "; ".join(str(cell_of(field, v)) for v in value) or None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        # A cell holds no zone and no fold (the hour a clock goes back shows twice),
        # and rounds to the millisecond (01:59:59.9999 on to 02:00, an hour later
        # on that night): such a time is written as text, with its offset.
        typed = local(value).replace(tzinfo=None, fold=0)
        if value.microsecond or in_time_zone(typed) != value.astimezone(UTC):
            return local(value).isoformat()
        return typed
    return value
