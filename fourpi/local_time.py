"""The organisation's clock: now, and the date and time of a moment where it works.

Moments are kept in UTC; a date is the day the moment falls on in the time zone
the organisation works in ($FOURPI_TIME_ZONE, Europe/London by default), so what
is done at 00:30 in a British summer counts on that day and not the one before.
"""

from collections.abc import Callable
from datetime import UTC, date, datetime

from fourpi.config import time_zone


def now() -> datetime:
    """The moment it is, in UTC: the one clock the record reads (tests set it here)."""
    return datetime.now(UTC)


def local_date(moment: datetime | None = None) -> date:
    """The date a moment falls on where the organisation works; today for none."""
    return local(now() if moment is None else moment).date()


def local_dates() -> Callable[[datetime], date]:
    """local_date for many moments, the zone read once: reading it from the
    environment costs several times what the date itself does."""
    zone = time_zone()
    return lambda moment: moment.astimezone(zone).date()


def local(moment: datetime) -> datetime:
    """A moment as the organisation's clocks show it."""
    return moment.astimezone(time_zone())


class NotOnTheClock(ValueError):
    """A time typed without its zone that the organisation's clocks skip: the hour
    they go forward (01:30 on the last Sunday of March, in London)."""


def in_time_zone(typed: datetime) -> datetime:
    """A time typed without its zone read as the organisation's (one with its zone
    is kept); in UTC. Of the hour a clock goes back shows twice, the first; one it
    skips going forward is refused (NotOnTheClock), not moved an hour on."""
    if typed.tzinfo is None:
        zone = time_zone()
        placed = typed.replace(tzinfo=zone)
        if placed.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != typed:
            raise NotOnTheClock(
                f"{typed:%H:%M} on {typed:%-d %B %Y} never showed on the clocks in "
                f"{zone.key}, which went forward then: give a time before or after"
            )
        typed = placed
    return typed.astimezone(UTC)


def shown(moment: datetime, pattern: str = "%-d %B %Y, %H:%M") -> str:
    """A moment for people to read, in the organisation's time, saying the zone:
    '3 July 2026, 14:05 BST'."""
    return f"{local(moment):{pattern} %Z}"
