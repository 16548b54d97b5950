"""Date arithmetic the 4PI record needs: review intervals in months."""

import calendar
from datetime import date


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it is shorter; the
    calendar's last day where that is past the calendar's end (a fact stored before
    dates were bounded must never stop an answer)."""
    month_index = day.month - 1 + months
    year = day.year + month_index // 12
    if year > date.max.year:
        return date.max
    month = month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last_day))
