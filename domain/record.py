"""The base of every aggregate: a record that belongs to one organisation and says who recorded each fact."""

import re
import unicodedata
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from fourpi.domain.errors import CrossOrganisationReference, InvalidInput

T = TypeVar("T")


class OrganisationRecord(Aggregate):
    """An event-sourced record owned by exactly one organisation."""

    if TYPE_CHECKING:
        organisation_id: UUID

    class Event(Aggregate.Event):
        """Every fact names its organisation and the actor who recorded it."""

        # A later schema raises this on the event class and adds upcast_v1_v2(state),
        # so old events are upcast when read instead of history being rewritten.
        class_version = 1

        organisation_id: UUID
        recorded_by: str

    class Created(Event, Aggregate.Created):
        def apply(self, aggregate: Any) -> None:
            aggregate.organisation_id = self.organisation_id

    kind: ClassVar[str] = "record"
    """How errors name this kind of record."""

    @classmethod
    def _open(
        cls,
        event_class: type["OrganisationRecord.Created"],
        *,
        record_id: UUID,
        organisation_id: UUID,
        recorded_by: str,
        **facts: Any,
    ) -> Self:
        return cls._create(
            event_class,
            id=record_id,
            organisation_id=organisation_id,
            recorded_by=check_actor(recorded_by),
            **facts,
        )

    def _record(
        self,
        event_class: type["OrganisationRecord.Event"],
        *,
        recorded_by: str,
        **facts: Any,
    ) -> None:
        self.trigger_event(
            event_class,
            organisation_id=self.organisation_id,
            recorded_by=check_actor(recorded_by),
            **facts,
        )


def check_same_organisation(
    organisation_id: UUID, field: str, others: Iterable[OrganisationRecord]
) -> None:
    """A new record may only reference records of its own organisation."""
    for other in others:
        if other.organisation_id != organisation_id:
            raise CrossOrganisationReference(field, other.kind, other.id)


def check_actor(recorded_by: str) -> str:
    if not isinstance(recorded_by, str) or not recorded_by.strip():
        raise InvalidInput("recorded_by", "must name who recorded this")
    return recorded_by


ALLOWED_CONTROLS = frozenset("\n\r\t")
NONCHARACTERS = frozenset("\ufffe\uffff")
"""The two code points XML cannot hold: a text with one would make every workbook
exported from the record a file no spreadsheet program opens."""
NONCHARACTERS_REFUSED = "must not contain U+FFFE or U+FFFF, which are not characters"


def is_text(value: str) -> bool:
    """Whether a string is text a store can keep: a lone surrogate is not."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


MOST_DIGITS = 100
"""The most digits a number given as text may have: far more than any log position
or count needs, far fewer than the 4,300 past which int() refuses in Python's words."""
DIGITS = re.compile(f"[0-9]{{1,{MOST_DIGITS}}}")


def parse_digits(text: str) -> int | None:
    """The number that text writes in ASCII digits alone (1 to MOST_DIGITS of them);
    None for any other text, for each caller to refuse in its own words. Neither
    str.isdigit nor int() alone: isdigit takes '²', which int() then refuses, and
    int() takes '٣' (as 3), ' 3', '+3' and '3_0'."""
    return int(text) if DIGITS.fullmatch(text) else None


def position_or_time(text: str) -> int | datetime | None:
    """A moment of the log as given: a log position in digits, or an ISO time (with
    or without its zone); None for any other text."""
    position = parse_digits(text)
    if position is not None:
        return position
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def check_text(field: str, value: str, *, max_length: int = 10_000) -> str:
    """Required free text: not blank, not absurdly long, no control characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(field, "must not be blank")
    if len(value) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters")
    if not is_text(value):
        raise InvalidInput(field, "must be text (it holds a lone surrogate)")
    if any((c < " " and c not in ALLOWED_CONTROLS) or c == "\x7f" for c in value):
        # PostgreSQL text cannot hold a NUL, and no one types the others.
        raise InvalidInput(field, "must not contain control characters")
    if not NONCHARACTERS.isdisjoint(value):
        raise InvalidInput(field, NONCHARACTERS_REFUSED)
    return value.strip()


LINE_BREAKS = frozenset("\n\r\t\x0b\x0c\x85\u2028\u2029")
"""What ends a line (or, a tab, jumps along it) in a terminal, a CSV cell or a list."""


def on_one_line(name: str) -> str:
    """A name as it is, or, recorded before names had to be on one line, with its
    line breaks and tabs written as escapes (\\n), so each prints on one line."""
    return "".join(
        character.encode("unicode_escape").decode()
        if character in LINE_BREAKS
        else character
        for character in name
    )


REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""The bidirectional embeddings, overrides and isolates: in a name they show it in
another order than it is stored ('Mind' that reads as 'dniM', a file name's end
turned round), so two names that look alike differ."""
REORDERING_REFUSED = (
    "must not hold a character that reorders the text shown "
    "(U+202A to U+202E, U+2066 to U+2069)"
)


DRAWN_AS_NOTHING = frozenset(
    chr(c)
    for first, last in (
        (0x034F, 0x034F),  # combining grapheme joiner
        (0x115F, 0x1160),  # Hangul fillers
        (0x17B4, 0x17B5),  # Khmer inherent vowels
        (0x180B, 0x180F),  # Mongolian variation selectors
        (0x2800, 0x2800),  # the blank Braille pattern
        (0x3164, 0x3164),  # Hangul filler
        (0xFE00, 0xFE0F),  # variation selectors
        (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
        (0xE0100, 0xE01EF),  # variation selectors supplement
    )
    for c in range(first, last + 1)
)
"""Letters and marks drawn as nothing (most of Unicode's default-ignorable code
points that are not format characters, Cf, and the blank Braille pattern): a name
of these alone reads as blank."""


def check_line(field: str, value: str, *, max_length: int) -> str:
    """A name: required text on one line. A record is found and listed by its name
    (`fourpi organisations list` prints one a line, a workbook's cell names one), so a
    line break in it would read as two names and could not be typed to choose it."""
    text = check_text(field, value, max_length=max_length)
    if not LINE_BREAKS.isdisjoint(text):
        raise InvalidInput(field, "must be on one line, with no line break or tab")
    if not REORDERING.isdisjoint(text):
        raise InvalidInput(field, REORDERING_REFUSED)
    if not "".join(
        c for c in text if unicodedata.category(c) != "Cf" and c not in DRAWN_AS_NOTHING
    ).strip():
        # Zero-width spaces and joiners, or fillers, alone: a name that reads as blank.
        raise InvalidInput(field, "must not be blank")
    return text


def check_optional_line(field: str, value: str | None, *, max_length: int) -> str:
    if value is None or not value.strip():
        return ""
    return check_line(field, value, max_length=max_length)


def check_optional_text(
    field: str, value: str | None, *, max_length: int = 10_000
) -> str:
    if value is None or not value.strip():
        return ""
    return check_text(field, value, max_length=max_length)


def check_member(field: str, value: Any, vocabulary: type[T]) -> T:
    """A value must come from its controlled vocabulary."""
    try:
        return vocabulary(value)  # type: ignore[call-arg]
    except ValueError:
        allowed = ", ".join(str(v) for v in vocabulary)  # type: ignore[attr-defined]
        raise InvalidInput(field, f"must be one of: {allowed}") from None


def check_members(
    field: str, values: Iterable[Any], vocabulary: type[T], *, at_least_one: bool = True
) -> tuple[T, ...]:
    members = tuple(dict.fromkeys(check_member(field, v, vocabulary) for v in values))
    if at_least_one and not members:
        raise InvalidInput(field, "must name at least one")
    return members


EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)
"""Every date and moment the record holds lies in these years: wide enough for any
real involvement, narrow enough that the arithmetic of every answer (a review due
months later, a week's start) stays inside the calendar."""
DATE_RANGE = f"must be from {EARLIEST:%d/%m/%Y} to {LATEST:%d/%m/%Y}"


def check_date(field: str, value: date) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(field, "must be a calendar date")
    if not EARLIEST <= value <= LATEST:
        raise InvalidInput(field, DATE_RANGE)
    return value


def check_moment(field: str, value: datetime) -> datetime:
    """A moment with its time zone, kept in UTC whatever zone it arrived in."""
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidInput(field, "must be a date and time with a time zone")
    try:
        in_utc = value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(field, f"{DATE_RANGE} (UTC)") from None
    if not EARLIEST <= in_utc.date() <= LATEST:
        raise InvalidInput(field, f"{DATE_RANGE} (UTC)")
    return in_utc


def check_unique_ids(
    field: str, ids: Iterable[UUID], *, at_least: int = 0
) -> tuple[UUID, ...]:
    unique = tuple(dict.fromkeys(ids))
    if len(unique) < at_least:
        raise InvalidInput(field, f"must name at least {at_least}")
    return unique
