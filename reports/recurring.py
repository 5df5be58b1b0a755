"""New recurring errors: items first seen in the week that already came back on several days, or many times.

A one-off burst on a single day is a spike, not a recurring error; an item seen on three different
days of its first week will most likely keep coming, so the meeting should decide about it now.
"""

MIN_DAYS = 3
MIN_EVENTS = 50
RULE = (
    f"first seen this week, with events on at least {MIN_DAYS} different days (TIME_ZONE) or at least "
    f"{MIN_EVENTS} events in the week"
)


def is_recurring(*, first_seen_in_week: bool, days: int, events: int) -> bool:
    return first_seen_in_week and (days >= MIN_DAYS or events >= MIN_EVENTS)
