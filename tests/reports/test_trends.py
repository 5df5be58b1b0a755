"""Weekly trends: exact figures on constructed data, week bounds in TIME_ZONE across DST, spikes, reruns."""

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection

from reports.models import WeeklyItemTrend, WeeklyOrgTrend, WeeklyServiceTrend
from reports.services import trends_compute_week
from reports.spikes import spike_check
from reports.tasks import compute_last_week_trends
from reports.weeks import BadWeek, week_last_ended, week_parse
from tests.factories import item_create, occurrences_create
from triage.models import Activity, Service

pytestmark = pytest.mark.django_db
_ids = itertools.count(1)
W43 = week_parse("2026-W43")  # Mon 19 Oct to Mon 26 Oct 2026; Berlin leaves summer time on Sunday 25 Oct


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def make_item(service, *, first_seen=None, **fields):
    n, first_seen = next(_ids), first_seen or utc(2026, 10, 1)
    return item_create(
        sentry_issue_id=f"s{n}",
        title=f"Error {n}",
        service=service,
        first_seen=first_seen,
        last_seen=first_seen,
        **fields,
    )


def events(item, *timestamps):
    occurrences_create(item=item, timestamps=timestamps, prefix="e", ids=_ids)


def act(item, verb, at, actor=None):
    return Activity.objects.create(
        item=item, verb=verb, actor=actor, actor_label="" if actor else "Sentry", created_at=at
    )


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def checkout(db):
    return Service.objects.create(slug="checkout", name="Checkout")


def test_it_counts_events_by_local_week_across_the_dst_change(berlin, checkout):
    item = make_item(checkout)
    events(
        item,
        utc(2026, 10, 18, 21, 30),  # Sun 23:30 CEST: the week before
        utc(2026, 10, 18, 22, 30),  # Mon 00:30 CEST: first hour of W43
        utc(2026, 10, 25, 22, 30),  # Sun 23:30 CET (after the change): last hour of W43
        utc(2026, 10, 25, 23, 30),
    )  # Mon 00:30 CET: W44
    trends_compute_week(week=W43)
    row = WeeklyServiceTrend.objects.get(week="2026-W43", service=checkout)
    assert (row.events, row.events_prev) == (2, 1)
    assert WeeklyOrgTrend.objects.get(week="2026-W43").events == 2
    start, end = (bound.astimezone(UTC) for bound in W43.bounds())
    assert (start, end) == (utc(2026, 10, 18, 22), utc(2026, 10, 25, 23))  # 169 hours


def test_it_computes_item_lifecycle_figures(berlin, checkout, alice, bob):
    fresh = make_item(
        checkout, first_seen=utc(2026, 10, 20), classification="data_fix", triaged_at=utc(2026, 10, 20, 2)
    )
    old = make_item(
        checkout,
        first_seen=utc(2026, 9, 1),
        status="resolved",
        resolved_at=utc(2026, 10, 21),
        triaged_at=utc(2026, 9, 1, 6),
    )
    quiet = make_item(checkout, first_seen=utc(2026, 9, 1), status="ignored")
    act(fresh, "created", utc(2026, 10, 20))
    act(fresh, "classified", utc(2026, 10, 20, 2), actor=alice)
    act(fresh, "commented", utc(2026, 10, 20, 3), actor=bob)
    act(old, "created", utc(2026, 9, 1))
    act(old, "regressed", utc(2026, 10, 20))
    act(old, "resolved", utc(2026, 10, 21), actor=alice)
    act(quiet, "created", utc(2026, 9, 1))
    act(quiet, "ignored", utc(2026, 10, 27), actor=bob)  # after the week: still open at its end
    events(fresh, utc(2026, 10, 20, 1), utc(2026, 10, 20, 2))
    events(old, utc(2026, 10, 20, 1))
    trends_compute_week(week=W43)
    row = WeeklyServiceTrend.objects.get(week="2026-W43", service=checkout)
    figures = (row.new_items, row.regressed, row.resolved, row.ignored, row.open_backlog, row.toil)
    assert figures == (1, 1, 1, 0, 2, 3)
    assert row.median_time_to_triage_s == 7200
    assert row.median_time_to_resolve_s == (utc(2026, 10, 21) - utc(2026, 9, 1)).total_seconds()
    assert row.classifications == {"data_fix": 1, "unclassified": 1}


def test_it_stores_item_deltas_and_toil(berlin, checkout, alice):
    rising, falling = make_item(checkout), make_item(checkout)
    events(rising, *[utc(2026, 10, 20, h) for h in range(5)], utc(2026, 10, 13))
    events(falling, *[utc(2026, 10, 13, h) for h in range(4)])
    act(falling, "commented", utc(2026, 10, 21), actor=alice)
    trends_compute_week(week=W43)
    rows = {r.item_id: (r.events, r.events_prev, r.delta, r.toil) for r in WeeklyItemTrend.objects.all()}
    assert rows == {rising.pk: (5, 1, 4, 0), falling.pk: (0, 4, -4, 1)}


def test_it_sums_services_into_the_organization(berlin, checkout):
    search = Service.objects.create(slug="search", name="Search")
    events(make_item(checkout), utc(2026, 10, 20), utc(2026, 10, 21))
    events(make_item(search), utc(2026, 10, 22))
    org = trends_compute_week(week=W43)
    assert (org.events, WeeklyServiceTrend.objects.filter(week="2026-W43").count()) == (3, 2)


def test_it_replaces_the_week_on_recompute(berlin, checkout):
    item = make_item(checkout)
    events(item, utc(2026, 10, 20))
    trends_compute_week(week=W43)
    events(item, utc(2026, 10, 21))
    trends_compute_week(week=W43)
    trends_compute_week(week=W43)
    assert list(WeeklyServiceTrend.objects.values_list("events", flat=True)) == [2]
    assert (WeeklyOrgTrend.objects.get().events, WeeklyItemTrend.objects.get().events) == (2, 2)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_does_not_double_count_concurrent_runs(berlin, checkout):
    events(make_item(checkout), *[utc(2026, 10, 20, h) for h in range(7)])
    errors = []

    def run():
        try:
            trends_compute_week(week=W43)
        except DatabaseError as error:  # a lost race would show as an IntegrityError
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    [thread.start() for thread in threads]
    [thread.join(timeout=30) for thread in threads]
    assert errors == []
    assert list(WeeklyServiceTrend.objects.values_list("events", flat=True)) == [7]
    assert WeeklyOrgTrend.objects.count() == 1


def test_it_flags_no_spike_on_a_flat_history():
    assert not spike_check(events=100, history=[100] * 8).spike


def test_it_flags_a_spike_well_above_the_baseline():
    verdict = spike_check(events=60, history=[20, 22, 18, 21, 19, 20, 23, 20])
    assert (verdict.spike, verdict.baseline, verdict.spread) == (True, 20.0, 1.483)


def test_it_does_not_flag_low_volume():
    assert not spike_check(events=19, history=[0] * 8).spike
    assert spike_check(events=20, history=[0] * 8).spike


def test_it_flags_a_service_spike_from_stored_history(berlin, checkout):
    item = make_item(checkout)
    for week in range(1, 9):
        events(item, *[utc(2026, 10, 20) - timedelta(weeks=week, minutes=m) for m in range(3)])
    events(item, *[utc(2026, 10, 20, 1, m) for m in range(25)])
    trends_compute_week(week=W43)
    row = WeeklyServiceTrend.objects.get()
    assert (row.spike, row.baseline, row.events) == (True, 3.0, 25)


def test_it_rejects_malformed_weeks():
    for value in ("2026-47", "2025-W53", "26-W01", "2026-W00", ""):
        with pytest.raises(BadWeek):
            week_parse(value)
    assert str(week_parse("2020-W53")) == "2020-W53"


def test_it_computes_a_week_from_the_command(berlin, checkout, capsys):
    events(make_item(checkout), utc(2026, 10, 20))
    call_command("compute_weekly_trends", "--week", "2026-W43")
    assert "2026-W43: 1 events" in capsys.readouterr().out
    call_command("compute_weekly_trends", "--backfill", "3")
    assert WeeklyOrgTrend.objects.count() == 4


def test_it_computes_the_week_that_just_ended_from_beat(checkout):
    compute_last_week_trends()
    assert WeeklyOrgTrend.objects.get().week == week_last_ended().name


def test_it_schedules_the_weekly_compute_on_monday_morning(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["weekly-trends"]
    schedule = entry["schedule"]
    assert entry["task"] == "reports.tasks.compute_last_week_trends"
    assert (schedule.hour, schedule.minute, schedule.day_of_week) == ({6}, {0}, {1})
