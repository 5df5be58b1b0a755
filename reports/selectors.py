"""Reads for the weekly report, its CSV and its API: a fixed number of queries, whatever the number of
services."""

from django.db.models import OuterRef, QuerySet

from grouping.selectors import suggestions_ranked_by_item_events
from ops.selectors import items_waiting_on_ops
from triage.models import TriageItem

from . import recurring, spikes
from .models import (
    MeetingDecision,
    WeeklyErrorKind,
    WeeklyItemTrend,
    WeeklyOrgTrend,
    WeeklyRunbookTrend,
    WeeklyServiceTrend,
)
from .weeks import Week

SPARK_WEEKS = 12
TOP = 10
COVERAGE_COLUMNS = ("active_items", "runbook_items", "runbook_events")
DATA_FIX_COLUMNS = ("data_fix_requests", "data_fix_closed", "median_ops_turnaround_s")
# The figures a service's row and the week's totals both have, in the CSV's order.
COUNT_COLUMNS = (
    "events",
    "events_prev",
    "new_items",
    "regressed",
    "resolved",
    "ignored",
    "open_backlog",
    "toil",
    "median_time_to_triage_s",
    "median_time_to_resolve_s",
)
SERVICE_COLUMNS = (
    "service",
    *COUNT_COLUMNS,
    "spike",
    "baseline",
    "spread",
    *COVERAGE_COLUMNS,
    *DATA_FIX_COLUMNS,
)
TOTAL_COLUMNS = (*COUNT_COLUMNS, "classifications", *COVERAGE_COLUMNS, *DATA_FIX_COLUMNS)
ITEM_COLUMNS = (
    "item",
    "short_id",
    "title",
    "service",
    "events",
    "events_prev",
    "delta",
    "toil",
    "days",
    "first_seen_in_week",
    "recurring",
    "spike",
    "baseline",
    "spread",
)
RUNBOOK_COLUMNS = (
    "slug",
    "title",
    "used",
    "linked",
    "handled",
    "unclear",
    "outdated",
    "helped",
    "not_helped",
)
KIND_COLUMNS = ("service", "exception_type", "events", "items")
CSV_TABLES = {
    "services": SERVICE_COLUMNS,
    "top_items": ITEM_COLUMNS,
    "top_toil": ITEM_COLUMNS,
    "new_recurring": ITEM_COLUMNS,
    "runbooks": RUNBOOK_COLUMNS,
    "kinds_without_runbook": KIND_COLUMNS,
}
ITEM_TREND_FIELDS = (
    "events",
    "events_prev",
    "delta",
    "toil",
    "days",
    "first_seen_in_week",
    "recurring",
    "spike",
    "baseline",
    "spread",
)


def week_latest_computed() -> Week | None:
    start = WeeklyOrgTrend.objects.order_by("-week_start").values_list("week_start", flat=True).first()
    return Week(start) if start else None


def org_trends(*, week: Week) -> dict[str, WeeklyOrgTrend]:
    """This week's and last week's organization rows, by week name."""
    rows = WeeklyOrgTrend.objects.filter(week__in=[week.name, week.shifted(-1).name])
    return {row.week: row for row in rows}


def service_trends(*, week: Week) -> QuerySet:
    return (
        WeeklyServiceTrend.objects.filter(week=week.name)
        .select_related("service")
        .order_by("-events", "service__slug")
    )


def service_event_history(*, week: Week, weeks=SPARK_WEEKS) -> dict[int, dict]:
    """{service_id: {week_start: events}} for the `weeks` weeks ending with `week`."""
    rows = WeeklyServiceTrend.objects.filter(
        week_start__gt=week.shifted(-weeks).start, week_start__lte=week.start
    ).values_list("service_id", "week_start", "events")
    history = {}
    for service_id, start, events in rows:
        history.setdefault(service_id, {})[start] = events
    return history


def item_trends(*, week: Week, order: str, limit=TOP, **filters) -> QuerySet:
    return (
        WeeklyItemTrend.objects.filter(week=week.name, **filters)
        .select_related("item", "item__service")
        .only(*ITEM_TREND_FIELDS, "item__title", "item__short_id", "item__status", "item__service__slug")
        .order_by(order, "item_id")[:limit]
    )


def top_movers(*, week: Week) -> dict[str, QuerySet]:
    return {
        "up": item_trends(week=week, order="-delta", delta__gt=0),
        "down": item_trends(week=week, order="delta", delta__lt=0),
        "toil": item_trends(week=week, order="-toil", toil__gt=0),
    }


def new_recurring(*, week: Week, limit=TOP) -> QuerySet:
    return item_trends(week=week, order="-events", limit=limit, recurring=True)


def runbook_trends(*, week: Week) -> list[WeeklyRunbookTrend]:
    """The week's runbook rows: only runbooks used or flagged that week, so a short list."""
    return list(WeeklyRunbookTrend.objects.filter(week=week.name).order_by("slug"))


def runbooks_most_used(rows: list[WeeklyRunbookTrend], limit=TOP) -> list[WeeklyRunbookTrend]:
    return sorted((row for row in rows if row.used), key=lambda row: (-row.used, -row.handled, row.slug))[
        :limit
    ]


def runbooks_most_flagged(rows: list[WeeklyRunbookTrend], limit=TOP) -> list[WeeklyRunbookTrend]:
    return sorted(
        (row for row in rows if row.flagged), key=lambda row: (-row.flagged, -row.unclear, row.slug)
    )[:limit]


def error_kinds(*, week: Week, limit: int | None = TOP) -> QuerySet:
    """Error kinds (service, exception type) of items with no runbook, most events first."""
    kinds = (
        WeeklyErrorKind.objects.filter(week=week.name)
        .select_related("service")
        .only("exception_type", "events", "items", "service__slug")
        .order_by("-events", "service__slug", "exception_type")
    )
    return kinds[:limit] if limit else kinds


def waiting_on_ops(*, limit=TOP) -> QuerySet:
    """Open items with a data-fix request ops have not closed, the longest waiting first (ops' read)."""
    return items_waiting_on_ops(limit=limit)


def open_items(*, classification: str, limit=TOP) -> QuerySet:
    """Open items with this classification now ("" = unclassified), most events first."""
    return (
        TriageItem.objects.filter(status__in=TriageItem.OPEN_STATUSES, classification=classification)
        .select_related("service")
        .only("title", "short_id", "event_count", "last_seen", "service__slug")
        .order_by("-event_count", "-id")[:limit]
    )


def grouping_suggestions(*, week: Week, limit=TOP) -> list:
    """Open grouping suggestions (split or merge, not dismissed), ranked by their items' events in the week.

    Each item's events are one lookup in the stored item trends (unique by week and item):
    summing raw occurrences for every suggestion took seconds over 1,000,000 of them.
    """
    item_events = WeeklyItemTrend.objects.filter(week=week.name, item_id=OuterRef("item_id")).values("events")
    ranked = suggestions_ranked_by_item_events(item_events=item_events, limit=limit)
    return [suggestion for suggestion in ranked if suggestion.week_events]  # the quiet ones rank last


def week_decisions(*, week: Week) -> QuerySet:
    return (
        MeetingDecision.objects.filter(week=week.name)
        .select_related("item", "author")
        .only("text", "created_at", "item__title", "item__short_id", "author__username")
        .order_by("created_at", "id")
    )


def service_row(trend: WeeklyServiceTrend) -> dict:
    row = {name: getattr(trend, name) for name in SERVICE_COLUMNS[1:]}
    return {"service": trend.service.slug, **row, "classifications": trend.classifications}


def trends_payload(*, week: Week) -> dict | None:
    """The API's and the CSV's figures for a computed week; None when it was not computed."""
    org = org_trends(week=week).get(week.name)
    if org is None:
        return None
    movers = top_movers(week=week)
    return {
        "week": week.name,
        "week_start": week.start.isoformat(),
        "computed_at": org.computed_at.isoformat(),
        "totals": {name: getattr(org, name) for name in TOTAL_COLUMNS},
        "services": [service_row(trend) for trend in service_trends(week=week)],
        "top_items": [_item_row(trend) for trend in [*movers["up"], *movers["down"]]],
        "top_toil": [_item_row(trend) for trend in movers["toil"]],
        "new_recurring": [_item_row(trend) for trend in new_recurring(week=week, limit=None)],
        "runbooks": [_row(trend, RUNBOOK_COLUMNS) for trend in runbook_trends(week=week)],
        "runbook_coverage": _coverage(org),
        "kinds_without_runbook": [_kind_row(kind) for kind in error_kinds(week=week, limit=None)],
        "rules": {"spike": spikes.RULE, "recurring": recurring.RULE},
    }


def _row(trend, columns) -> dict:
    return {name: getattr(trend, name) for name in columns}


def _item_row(trend: WeeklyItemTrend) -> dict:
    item = trend.item
    return {
        "item": item.pk,
        "short_id": item.short_id,
        "title": item.title,
        "service": item.service.slug,
        **_row(trend, ITEM_TREND_FIELDS),
    }


def _kind_row(kind: WeeklyErrorKind) -> dict:
    return {
        "service": kind.service.slug,
        "exception_type": kind.exception_type,
        "events": kind.events,
        "items": kind.items,
    }


def _coverage(org: WeeklyOrgTrend) -> dict:
    return {
        **_row(org, COVERAGE_COLUMNS),
        "events": org.events,
        "item_share": org.runbook_item_share,
        "event_share": org.runbook_event_share,
    }
