"""Reads for pages and the API: each returns a queryset whose query count does not grow with rows."""

from django.db.models import QuerySet

from .models import Activity, Occurrence, TriageItem


def item_list(*, statuses=TriageItem.OPEN_STATUSES) -> QuerySet:
    return TriageItem.objects.filter(status__in=statuses).select_related("service").order_by("-last_seen", "-id")


def item_timeline(*, item, limit=200) -> QuerySet:
    return Activity.objects.filter(item=item).select_related("actor").order_by("-created_at", "-id")[:limit]


def item_recent_occurrences(*, item, limit=50) -> QuerySet:
    return Occurrence.objects.filter(item=item).order_by("-timestamp")[:limit]


def item_queryset() -> QuerySet:
    """Items with what a list row shows, in one query."""
    return TriageItem.objects.select_related("service", "team", "owner").order_by("-last_seen", "-id")
