"""Reads for the weekly report, its CSV and its API: a fixed number of queries, whatever the number of services."""

from django.db.models import QuerySet

from triage.models import TriageItem

from .models import MeetingDecision, WeeklyItemTrend, WeeklyOrgTrend, WeeklyServiceTrend
from .weeks import Week

SPARK_WEEKS = 12
TOP = 10
SERVICE_COLUMNS = ("service", "events", "events_prev", "new_items", "regressed", "resolved", "ignored",
                   "open_backlog", "toil", "median_time_to_triage_s", "median_time_to_resolve_s", "spike",
                   "baseline", "spread")
TOTAL_COLUMNS = ("events", "events_prev", "new_items", "regressed", "resolved", "ignored", "open_backlog", "toil",
                 "median_time_to_triage_s", "median_time_to_resolve_s", "classifications")


def week_latest_computed() -> Week | None:
    start = WeeklyOrgTrend.objects.order_by("-week_start").values_list("week_start", flat=True).first()
    return Week(start) if start else None


def org_trends(*, week: Week) -> dict[str, WeeklyOrgTrend]:
    """This week's and last week's organization rows, by week name."""
    rows = WeeklyOrgTrend.objects.filter(week__in=[week.name, week.shifted(-1).name])
    return {row.week: row for row in rows}


def service_trends(*, week: Week) -> QuerySet:
    return WeeklyServiceTrend.objects.filter(week=week.name).select_related("service").order_by("-events", "service__slug")


def service_event_history(*, week: Week, weeks=SPARK_WEEKS) -> dict[int, dict]:
    """{service_id: {week_start: events}} for the `weeks` weeks ending with `week`."""
    rows = (WeeklyServiceTrend.objects.filter(week_start__gt=week.shifted(-weeks).start, week_start__lte=week.start)
            .values_list("service_id", "week_start", "events"))
    history = {}
    for service_id, start, events in rows:
        history.setdefault(service_id, {})[start] = events
    return history


def item_trends(*, week: Week, order: str, limit=TOP, **filters) -> QuerySet:
    return (WeeklyItemTrend.objects.filter(week=week.name, **filters).select_related("item", "item__service")
            .only("events", "events_prev", "delta", "toil", "item__title", "item__short_id", "item__status",
                  "item__service__slug").order_by(order, "item_id")[:limit])


def top_movers(*, week: Week) -> dict[str, QuerySet]:
    return {"up": item_trends(week=week, order="-delta", delta__gt=0),
            "down": item_trends(week=week, order="delta", delta__lt=0),
            "toil": item_trends(week=week, order="-toil", toil__gt=0)}


def open_items(*, classification: str, limit=TOP) -> QuerySet:
    """Open items with this classification now ("" = unclassified), most events first."""
    return (TriageItem.objects.filter(status__in=TriageItem.OPEN_STATUSES, classification=classification)
            .select_related("service").only("title", "short_id", "event_count", "last_seen", "service__slug")
            .order_by("-event_count", "-id")[:limit])


def week_decisions(*, week: Week) -> QuerySet:
    return (MeetingDecision.objects.filter(week=week.name).select_related("item", "author")
            .only("text", "created_at", "item__title", "item__short_id", "author__username").order_by("created_at", "id"))


def service_row(trend: WeeklyServiceTrend) -> dict:
    row = {name: getattr(trend, name) for name in SERVICE_COLUMNS[1:]}
    return {"service": trend.service.slug, **row, "classifications": trend.classifications}


def trends_payload(*, week: Week) -> dict | None:
    """The API's and the CSV's figures for a computed week; None when it was not computed."""
    org = org_trends(week=week).get(week.name)
    if org is None:
        return None
    movers = top_movers(week=week)
    return {"week": week.name, "week_start": week.start.isoformat(), "computed_at": org.computed_at.isoformat(),
            "totals": {name: getattr(org, name) for name in TOTAL_COLUMNS},
            "services": [service_row(trend) for trend in service_trends(week=week)],
            "top_items": [_item_row(trend) for trend in [*movers["up"], *movers["down"]]],
            "top_toil": [_item_row(trend) for trend in movers["toil"]]}


def _item_row(trend: WeeklyItemTrend) -> dict:
    item = trend.item
    return {"item": item.pk, "short_id": item.short_id, "title": item.title, "service": item.service.slug,
            "events": trend.events, "events_prev": trend.events_prev, "delta": trend.delta, "toil": trend.toil}
