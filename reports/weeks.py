"""ISO weeks as the report names them ("2026-W47"), and their bounds in TIME_ZONE."""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


class BadWeek(ValueError):
    """Not a "YYYY-Www" ISO week."""


@dataclass(frozen=True)
class Week:
    start: date  # a Monday

    @property
    def name(self) -> str:
        year, number, _ = self.start.isocalendar()
        return f"{year}-W{number:02d}"

    def shifted(self, weeks: int) -> "Week":
        return Week(self.start + timedelta(weeks=weeks))

    def bounds(self) -> tuple[datetime, datetime]:
        """Monday 00:00 to the next Monday 00:00, local time: a DST week is 167 or 169 hours long."""
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.start + timedelta(days=7), time.min, tzinfo=tz),
        )

    def __str__(self):
        return self.name


def week_parse(value: str) -> Week:
    match = WEEK_RE.match(value or "")
    if not match:
        raise BadWeek(f"{value!r} is not an ISO week like 2026-W47")
    try:
        return Week(date.fromisocalendar(int(match[1]), int(match[2]), 1))
    except ValueError as error:
        raise BadWeek(str(error)) from error


def week_containing(day: date) -> Week:
    return Week(day - timedelta(days=day.weekday()))


def week_last_ended(*, today: date | None = None) -> Week:
    """The ISO week before the current one, in TIME_ZONE."""
    return week_containing(today or timezone.localdate()).shifted(-1)
