"""Reads for pages and the API: each returns a queryset whose query count does not grow with rows."""

from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from runbooks.selectors import feedback_open_for_teams

from .models import Activity, Occurrence, Service, TriageItem


def item_list(*, statuses=TriageItem.OPEN_STATUSES) -> QuerySet:
    return (
        TriageItem.objects.filter(status__in=statuses).select_related("service").order_by("-last_seen", "-id")
    )


def item_timeline(*, item, limit=200) -> QuerySet:
    return Activity.objects.filter(item=item).select_related("actor").order_by("-created_at", "-id")[:limit]


def item_recent_occurrences(*, item, limit=50) -> QuerySet:
    return Occurrence.objects.filter(item=item).order_by("-timestamp")[:limit]


def item_queryset() -> QuerySet:
    """Items with what a list row shows, in one query."""
    return (
        TriageItem.objects.select_related("service", "team", "owner", "runbook", "runbook_version")
        .defer("runbook__search_document", "runbook_version__body")
        .order_by("-last_seen", "-id")
    )


# --- The morning queue ------------------------------------------------------------------------------


# Counting stops here: an exact count of a large section reads every row on every request,
# while a bounded one walks an index (bench/morning.py). Pages show "1,000+"; filters narrow it.
COUNT_CAP = 1_000


def queue_section_counts(*, filters: Q, sections: dict[str, Q], searching=False) -> dict[str, int]:
    """Every section's count under the same filters, up to COUNT_CAP + 1: a query per section.

    A text search is counted in one pass over its matches instead: each section repeating
    the search cost more than counting every match (bench/morning.py).
    """
    base = TriageItem.objects.filter(filters).order_by()
    if searching:
        counts = base.aggregate(
            **{slug: Count("pk", filter=condition) for slug, condition in sections.items()}
        )
        return {slug: min(count, COUNT_CAP + 1) for slug, count in counts.items()}
    return {
        slug: base.filter(condition).values("pk")[: COUNT_CAP + 1].count()
        for slug, condition in sections.items()
    }


def queue_items(*, filters: Q, section: Q, ordering) -> QuerySet:
    # Rows never show the stored event or tags: leave those (large) columns in the database.
    return (
        item_queryset()
        .filter(filters)
        .filter(section)
        .defer("latest_event", "tags", "title_search", "culprit_search")
        .order_by(*ordering)
    )


def queue_items_by_id(*, ids) -> QuerySet:
    """Rows to re-render after an action, in the order asked for."""
    return item_queryset().filter(pk__in=ids)


def queue_filter_choices() -> dict:
    """What the filter bar offers: the services, and the environments items were seen in."""
    return {
        "services": list(Service.objects.order_by("slug").values_list("slug", flat=True)),
        "environments": _distinct_environments(),
    }


# PostgreSQL skips through the environment index, one step per distinct value, instead of
# reading every item for a handful of names (a "loose index scan").
ENVIRONMENTS_LOOSE_SCAN = (
    """
WITH RECURSIVE envs(env) AS (
    (SELECT environment FROM triage_triageitem WHERE environment > '' ORDER BY environment LIMIT 1)
    UNION ALL
    SELECT (SELECT environment FROM triage_triageitem WHERE environment > envs.env """
    """ORDER BY environment LIMIT 1)
    FROM envs WHERE envs.env IS NOT NULL
)
SELECT env FROM envs WHERE env IS NOT NULL
"""
)


def _distinct_environments() -> list[str]:
    if connection.vendor != "postgresql":
        names = (
            TriageItem.objects.exclude(environment="")
            .order_by("environment")
            .values_list("environment", flat=True)
        )
        return list(names.distinct())
    with connection.cursor() as cursor:
        cursor.execute(ENVIRONMENTS_LOOSE_SCAN)
        return [row[0] for row in cursor.fetchall()]


def assignable_users() -> QuerySet:
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .order_by("username")
        .only("username", "first_name", "last_name")
    )


def items_daily_event_counts(*, item_ids, days: list[date]) -> dict[tuple[int, date], int]:
    """{(item_id, day): events} over Occurrence for many items, by calendar day in TIME_ZONE, in one query."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(days[0], time.min, tzinfo=tz)
    rows = (
        Occurrence.objects.filter(item_id__in=item_ids, timestamp__gte=start)
        .annotate(day=TruncDate("timestamp", tzinfo=tz))
        .order_by()
        .values_list("item_id", "day")
        .annotate(events=Count("*"))
    )  # "*": an index-only scan
    return {(item_id, day): events for item_id, day, events in rows}


# --- The item page ----------------------------------------------------------------------------------


def item_for_page(*, item_id) -> TriageItem:
    related = (
        "service",
        "service__team",
        "team",
        "owner",
        "ownership_rule",
        "ownership_rule__team",
        "duplicate_of",
        "runbook",
        "runbook__current_version",
        "runbook_version",
    )
    return (
        TriageItem.objects.select_related(*related)
        .defer("runbook__search_document", "runbook_version__body")
        .get(pk=item_id)
    )


def runbook_feedback_for_teams(*, team_slugs, limit=5) -> list:
    """Open feedback on the runbooks of these teams, for their morning queue (nothing to read without
    teams)."""
    return list(feedback_open_for_teams(team_slugs=team_slugs, limit=limit)) if team_slugs else []
