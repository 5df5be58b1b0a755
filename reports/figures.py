"""The week's figures, each one aggregate query over the triage tables (reads only; services.py stores them).

Events are counted by the occurrence's own timestamp, truncated to ISO weeks in TIME_ZONE by the database.
"""

from collections import defaultdict

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
)
from django.db.models.functions import Trunc
from django.utils import timezone

from common.medians import grouped_medians
from triage.models import Activity, Occurrence, TriageItem

from .spikes import HISTORY_WEEKS
from .weeks import Week

STATE_VERBS = ("created", "resolved", "ignored", "regressed", "reopened", "unresolved", "woke_up")
OPEN_VERBS = ("created", "regressed", "reopened", "unresolved", "woke_up")
UNCLASSIFIED = "unclassified"


def service_week_events(*, week: Week) -> tuple[dict[tuple[int, object], int], dict[int, int]]:
    """({(service_id, week_start): events} for the week and the HISTORY_WEEKS before it, {service_id: events
    of items with a runbook} for the week itself), in one query."""
    start, end = week.shifted(-HISTORY_WEEKS).bounds()[0], week.bounds()[1]
    in_week = Q(timestamp__gte=week.bounds()[0], item__runbook__isnull=False)
    rows = (
        Occurrence.objects.filter(timestamp__gte=start, timestamp__lt=end)
        .annotate(wk=_week_trunc())
        .order_by()
        .values_list("item__service_id", "wk")
        .annotate(n=Count("pk"), linked=Count("pk", filter=in_week))
    )
    events, linked = {}, defaultdict(int)
    for service_id, wk, n, with_runbook in rows:
        events[(service_id, timezone.localdate(wk))] = n
        linked[service_id] += with_runbook
    return events, dict(linked)


def _week_trunc():
    return Trunc("timestamp", "week", tzinfo=timezone.get_current_timezone())


def service_item_counts(*, week: Week) -> dict[int, dict]:
    """New items (first seen in the week), and items regressed, resolved, ignored in it, and toil, per
    service."""
    start, end = week.bounds()
    figures = defaultdict(dict)
    new = (
        TriageItem.objects.filter(first_seen__gte=start, first_seen__lt=end)
        .order_by()
        .values_list("service_id")
        .annotate(n=Count("pk"))
    )
    for service_id, n in new:
        figures[service_id]["new_items"] = n
    for row in _activity_counts(start, end):
        figures[row.pop("item__service_id")].update(row)
    return figures


def _activity_counts(start, end):
    verbs = {
        name: Count("item_id", distinct=True, filter=Q(verb=name))
        for name in ("regressed", "resolved", "ignored")
    }
    return (
        Activity.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("item__service_id")
        .annotate(**verbs, toil=Count("pk", filter=Q(actor__isnull=False)))
    )


def service_open_backlog(*, week: Week) -> dict[int, int]:
    """Items open at the week's end: their last state change before then opened them (or, with none, open
    now)."""
    end = week.bounds()[1]
    last_verb = (
        Activity.objects.filter(item_id=OuterRef("pk"), verb__in=STATE_VERBS, created_at__lt=end)
        .order_by("-created_at", "-id")
        .values("verb")[:1]
    )
    still_open = Q(last_verb__in=OPEN_VERBS) | Q(last_verb__isnull=True, status__in=TriageItem.OPEN_STATUSES)
    rows = (
        TriageItem.objects.filter(first_seen__lt=end)
        .annotate(last_verb=Subquery(last_verb))
        .order_by()
        .values_list("service_id")
        .annotate(n=Count("pk", filter=still_open))
    )
    return dict(rows)


def service_active_items(*, week: Week) -> dict[int, dict]:
    """Items with events in the week, per service: {"classifications": {(current) classification: n},
    "active_items": n, "runbook_items": those with a runbook linked now}."""
    start, end = week.bounds()
    active = Occurrence.objects.filter(timestamp__gte=start, timestamp__lt=end).values("item_id")
    rows = (
        TriageItem.objects.filter(pk__in=active)
        .order_by()
        .values_list("service_id", "classification")
        .annotate(n=Count("pk"), linked=Count("pk", filter=Q(runbook__isnull=False)))
    )
    figures = defaultdict(lambda: {"classifications": {}, "active_items": 0, "runbook_items": 0})
    for service_id, classification, n, linked in rows:
        row = figures[service_id]
        row["classifications"][classification or UNCLASSIFIED] = n
        row["active_items"] += n
        row["runbook_items"] += linked
    return figures


def _durations(start, end):
    return {
        "ttt": (
            Q(triaged_at__gte=start, triaged_at__lt=end),
            ExpressionWrapper(F("triaged_at") - F("first_seen"), output_field=DurationField()),
        ),
        "ttr": (
            Q(resolved_at__gte=start, resolved_at__lt=end),
            ExpressionWrapper(F("resolved_at") - F("first_seen"), output_field=DurationField()),
        ),
    }


def week_medians(*, week: Week) -> tuple[dict[int, dict], dict]:
    """Median time to triage and to resolve (seconds, from first seen) of items triaged/resolved in the week:
    ({service_id: {"ttt", "ttr"}}, {"ttt", "ttr"} for the organization)."""
    durations = _durations(*week.bounds())
    items = TriageItem.objects.filter(durations["ttt"][0] | durations["ttr"][0]).order_by()
    return grouped_medians(items, group="service_id", durations=durations)


def item_week_figures(*, week: Week) -> dict[int, dict]:
    """{item_id: {"events", "events_prev", "days", "toil"}} for items with events this or last week, or toil
    this week; "days": distinct days (TIME_ZONE) with events this week."""
    start, end = week.bounds()
    prev_start = week.shifted(-1).bounds()[0]
    this_week = Q(timestamp__gte=start)
    day = Trunc("timestamp", "day", tzinfo=timezone.get_current_timezone())
    rows = (
        Occurrence.objects.filter(timestamp__gte=prev_start, timestamp__lt=end)
        .order_by()
        .values_list("item_id")
        .annotate(
            events=Count("pk", filter=this_week),
            events_prev=Count("pk", filter=Q(timestamp__lt=start)),
            days=Count(day, distinct=True, filter=this_week),
        )
    )
    figures = defaultdict(lambda: {"events": 0, "events_prev": 0, "days": 0, "toil": 0})
    for item_id, events, events_prev, days in rows:
        figures[item_id].update(events=events, events_prev=events_prev, days=days)
    toil = (
        Activity.objects.filter(created_at__gte=start, created_at__lt=end, actor__isnull=False)
        .order_by()
        .values_list("item_id")
        .annotate(n=Count("pk"))
    )
    for item_id, n in toil:
        figures[item_id]["toil"] = n
    return figures


def items_first_seen(*, week: Week) -> set[int]:
    start, end = week.bounds()
    return set(
        TriageItem.objects.filter(first_seen__gte=start, first_seen__lt=end).values_list("pk", flat=True)
    )


def item_week_history(*, week: Week, item_ids) -> dict[tuple[int, object], int]:
    """{(item_id, week_start): events} in the HISTORY_WEEKS before `week`, for these items only (the spike
    candidates: the rule's minimum volume leaves few)."""
    if not item_ids:
        return {}
    start, end = week.shifted(-HISTORY_WEEKS).bounds()[0], week.bounds()[0]
    rows = (
        Occurrence.objects.filter(item_id__in=item_ids, timestamp__gte=start, timestamp__lt=end)
        .annotate(wk=_week_trunc())
        .order_by()
        .values_list("item_id", "wk")
        .annotate(n=Count("pk"))
    )
    return {(item_id, timezone.localdate(wk)): n for item_id, wk, n in rows}


def history_weeks(week: Week) -> list:
    return [week.shifted(-offset).start for offset in range(HISTORY_WEEKS, 0, -1)]
