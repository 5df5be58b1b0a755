"""Writes: computing and storing a week's trends, and the meeting's decisions."""

import zlib

from django.db import connection, transaction
from django.utils import timezone

from ops.selectors import datafix_figures_by_service
from triage.models import Service

from . import figures, runbook_figures
from .models import (
    MeetingDecision,
    WeeklyErrorKind,
    WeeklyItemTrend,
    WeeklyOrgTrend,
    WeeklyRunbookTrend,
    WeeklyServiceTrend,
)
from .recurring import is_recurring
from .spikes import MIN_EVENTS, spike_check
from .weeks import Week

LOCK_KEY = zlib.crc32(b"reports.trends_compute_week")
ADDITIVE = (
    "events",
    "events_prev",
    "new_items",
    "regressed",
    "resolved",
    "ignored",
    "open_backlog",
    "toil",
    "active_items",
    "runbook_items",
    "runbook_events",
    "data_fix_requests",
    "data_fix_closed",
)
WEEK_TABLES = (WeeklyServiceTrend, WeeklyOrgTrend, WeeklyItemTrend, WeeklyRunbookTrend, WeeklyErrorKind)


def trends_compute_week(*, week: Week) -> WeeklyOrgTrend:
    """Compute `week` from the triage tables and replace its stored rows, all in one transaction.

    Runs one at a time (a PostgreSQL advisory lock; SQLite serializes writers anyway), so two
    runs for the same week leave one set of rows, never a doubled one."""
    with transaction.atomic():
        _lock()
        per_service, org_medians = figures.week_medians(week=week)
        start, end = week.bounds()
        fixes, org_turnaround = datafix_figures_by_service(start=start, end=end)
        services = _service_trends(week, per_service, fixes)
        org = _org_trend(week, services, org_medians, org_turnaround)
        _replace(week, services, org, _item_trends(week), _runbook_trends(week), _error_kinds(week))
    return org


def _lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _replace(week, services, org, items, runbooks, kinds):
    for model in WEEK_TABLES:
        model.objects.filter(week=week.name).delete()
    WeeklyServiceTrend.objects.bulk_create(services)
    org.save()
    WeeklyItemTrend.objects.bulk_create(items, batch_size=2000)
    WeeklyRunbookTrend.objects.bulk_create(runbooks)
    WeeklyErrorKind.objects.bulk_create(kinds, batch_size=2000)


def _service_trends(week: Week, medians: dict, fixes: dict) -> list[WeeklyServiceTrend]:
    events, runbook_events = figures.service_week_events(week=week)
    counts, backlog = figures.service_item_counts(week=week), figures.service_open_backlog(week=week)
    active = figures.service_active_items(week=week)
    history, now = figures.history_weeks(week), timezone.now()
    rows = []
    for service_id in Service.objects.order_by("slug").values_list("pk", flat=True):
        n = events.get((service_id, week.start), 0)
        verdict = spike_check(events=n, history=[events.get((service_id, day), 0) for day in history])
        rows.append(
            WeeklyServiceTrend(
                week=week.name,
                week_start=week.start,
                service_id=service_id,
                events=n,
                events_prev=events.get((service_id, week.shifted(-1).start), 0),
                open_backlog=backlog.get(service_id, 0),
                runbook_events=runbook_events.get(service_id, 0),
                spike=verdict.spike,
                baseline=verdict.baseline,
                spread=verdict.spread,
                computed_at=now,
                **active[service_id],
                **_medians(medians.get(service_id)),
                **counts.get(service_id, {}),
                **fixes.get(service_id, {}),
            )
        )
    return rows


def _medians(values: dict | None) -> dict:
    values = values or {}
    return {"median_time_to_triage_s": values.get("ttt"), "median_time_to_resolve_s": values.get("ttr")}


def _org_trend(
    week: Week, services: list[WeeklyServiceTrend], org_medians: dict, turnaround
) -> WeeklyOrgTrend:
    totals = {name: sum(getattr(row, name) for row in services) for name in ADDITIVE}
    classes = {}
    for row in services:
        for name, n in row.classifications.items():
            classes[name] = classes.get(name, 0) + n
    return WeeklyOrgTrend(
        week=week.name,
        week_start=week.start,
        classifications=classes,
        median_ops_turnaround_s=turnaround,
        computed_at=timezone.now(),
        **_medians(org_medians),
        **totals,
    )


def _item_trends(week: Week) -> list[WeeklyItemTrend]:
    rows, new = figures.item_week_figures(week=week), figures.items_first_seen(week=week)
    verdicts = _item_spikes(week, rows)
    return [
        WeeklyItemTrend(
            week=week.name,
            week_start=week.start,
            item_id=item_id,
            events=row["events"],
            events_prev=row["events_prev"],
            delta=row["events"] - row["events_prev"],
            toil=row["toil"],
            days=row["days"],
            first_seen_in_week=item_id in new,
            recurring=is_recurring(first_seen_in_week=item_id in new, days=row["days"], events=row["events"]),
            **verdicts.get(item_id, {}),
        )
        for item_id, row in rows.items()
    ]


def _item_spikes(week: Week, rows: dict) -> dict[int, dict]:
    """The services' spike rule per item; only items at the minimum volume can flag, so only theirs is
    read."""
    candidates = sorted(item_id for item_id, row in rows.items() if row["events"] >= MIN_EVENTS)
    history, starts = figures.item_week_history(week=week, item_ids=candidates), figures.history_weeks(week)
    verdicts = {}
    for item_id in candidates:
        verdict = spike_check(
            events=rows[item_id]["events"], history=[history.get((item_id, s), 0) for s in starts]
        )
        verdicts[item_id] = {"spike": verdict.spike, "baseline": verdict.baseline, "spread": verdict.spread}
    return verdicts


def _runbook_trends(week: Week) -> list[WeeklyRunbookTrend]:
    return [
        WeeklyRunbookTrend(week=week.name, week_start=week.start, slug=slug, **row)
        for slug, row in sorted(runbook_figures.runbook_week_figures(week=week).items())
    ]


def _error_kinds(week: Week) -> list[WeeklyErrorKind]:
    return [
        WeeklyErrorKind(
            week=week.name,
            week_start=week.start,
            service_id=row["item__service_id"],
            exception_type=row["exception_type"],
            events=row["events"],
            items=row["items"],
        )
        for row in runbook_figures.error_kinds_without_runbook(week=week)
    ]


def decision_record(*, week: Week, item, text: str, author) -> MeetingDecision:
    return MeetingDecision.objects.create(week=week.name, item=item, text=text.strip()[:500], author=author)
