"""How long ops have to acknowledge a request, and when each escalation level fires.

High and normal urgency count wall-clock minutes; low counts business minutes (Monday to
Friday in TIME_ZONE), so "2 business days" filed on a Friday evening ends on Tuesday evening.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .models import DataFixRequest

Urgency = DataFixRequest.Urgency
WEEKEND = (5, 6)


def sla_minutes(urgency) -> int:
    return {
        Urgency.HIGH: settings.DATA_FIX_SLA_MINUTES_HIGH,
        Urgency.NORMAL: settings.DATA_FIX_SLA_MINUTES_NORMAL,
        Urgency.LOW: settings.DATA_FIX_SLA_MINUTES_LOW,
    }[urgency]


def sla_deadline(*, urgency, start: datetime, multiple: int = 1) -> datetime:
    """The end of `multiple` SLA periods after `start`: level N of the chain fires at multiple=N."""
    minutes = sla_minutes(urgency) * multiple
    if urgency == Urgency.LOW:
        return add_business_minutes(start, minutes)
    return start + timedelta(minutes=minutes)


def add_business_minutes(start: datetime, minutes: int) -> datetime:
    """Walk day by day through weekdays only, in local time (DST-safe: each day ends at local midnight)."""
    moment, left = timezone.localtime(start), timedelta(minutes=minutes)
    while True:
        next_midnight = _local_midnight_after(moment)
        if moment.weekday() not in WEEKEND:
            if moment + left <= next_midnight:
                return moment + left
            left -= next_midnight - moment
        moment = next_midnight


def _local_midnight_after(moment: datetime) -> datetime:
    day = moment.date() + timedelta(days=1)
    return timezone.make_aware(datetime(day.year, day.month, day.day))
