"""Item figures of the weekly report: new recurring errors (days counted in TIME_ZONE) and item spike
flags."""

import itertools
from datetime import timedelta

import pytest

from reports.models import WeeklyItemTrend
from reports.recurring import is_recurring
from reports.services import trends_compute_week
from tests.factories import item_create, occurrences_create
from tests.reports import test_trends as trends
from tests.reports.test_trends import W43, utc

berlin = trends.berlin  # shared fixture
checkout = trends.checkout  # shared fixture

pytestmark = pytest.mark.django_db
_ids = itertools.count(1)


def make_item(service, *, first_seen):
    n = next(_ids)
    return item_create(
        sentry_issue_id=f"i{n}",
        title=f"Error {n}",
        service=service,
        first_seen=first_seen,
        last_seen=first_seen,
    )


def events(item, *timestamps):
    occurrences_create(item=item, timestamps=timestamps, prefix="ie", ids=_ids)


def trend(item):
    return WeeklyItemTrend.objects.get(week="2026-W43", item=item)


def test_it_counts_distinct_local_days_with_events(berlin, checkout):
    item = make_item(checkout, first_seen=utc(2026, 10, 18, 22, 30))
    events(
        item,
        utc(2026, 10, 18, 22, 30),  # Mon 00:30 CEST
        utc(2026, 10, 19, 21, 30),  # Mon 23:30 CEST: still Monday
        utc(2026, 10, 19, 22, 30),  # Tue 00:30 CEST
        utc(2026, 10, 25, 22, 30),  # Sun 23:30 CET: after the change, still Sunday
        utc(2026, 10, 25, 23, 30),
    )  # Mon 00:30 CET: next week
    trends_compute_week(week=W43)
    row = trend(item)
    assert (row.events, row.days, row.first_seen_in_week, row.recurring) == (4, 3, True, True)


def test_it_marks_new_items_recurring_by_days_or_events_only(berlin, checkout):
    two_days = make_item(checkout, first_seen=utc(2026, 10, 20))
    events(two_days, utc(2026, 10, 20), utc(2026, 10, 21))
    loud = make_item(checkout, first_seen=utc(2026, 10, 20))
    events(loud, *[utc(2026, 10, 20) + timedelta(seconds=s) for s in range(50)])
    almost_loud = make_item(checkout, first_seen=utc(2026, 10, 20))
    events(almost_loud, *[utc(2026, 10, 20) + timedelta(seconds=s) for s in range(49)])
    old = make_item(checkout, first_seen=utc(2026, 10, 18, 21, 30))  # Sun 23:30 CEST: the week before
    events(old, utc(2026, 10, 20), utc(2026, 10, 21), utc(2026, 10, 22))
    trends_compute_week(week=W43)
    assert [trend(i).recurring for i in (two_days, loud, almost_loud, old)] == [False, True, False, False]
    assert (trend(old).days, trend(old).first_seen_in_week) == (3, False)


def test_the_recurring_rule():
    assert is_recurring(first_seen_in_week=True, days=3, events=3)
    assert is_recurring(first_seen_in_week=True, days=1, events=50)
    assert not is_recurring(first_seen_in_week=True, days=2, events=49)
    assert not is_recurring(first_seen_in_week=False, days=7, events=500)


def weekly(item, counts):
    """`counts[i]` events in the i-th week before W43 (Tuesdays at noon)."""
    for back, n in enumerate(counts, start=1):
        events(item, *[utc(2026, 10, 20, 12) - timedelta(weeks=back, minutes=m) for m in range(n)])


def test_it_flags_an_item_spike_with_the_services_rule(berlin, checkout):
    spiking, flat, small = (make_item(checkout, first_seen=utc(2026, 8, 1)) for _ in range(3))
    weekly(spiking, [20, 22, 18, 21, 19, 20, 23, 20])
    events(spiking, *[utc(2026, 10, 20, 12, m) for m in range(60)])
    weekly(flat, [30] * 8)
    events(flat, *[utc(2026, 10, 20, 12, m) for m in range(33)])  # 30 + 3·1 = 33: not above the threshold
    weekly(small, [0] * 8)
    events(small, *[utc(2026, 10, 20, 12, m) for m in range(19)])  # below the minimum volume
    trends_compute_week(week=W43)
    assert (trend(spiking).spike, trend(spiking).baseline, trend(spiking).spread) == (True, 20.0, 1.483)
    assert round(trend(spiking).spike_threshold, 3) == 24.449
    assert (trend(flat).spike, trend(flat).baseline, trend(flat).spread) == (False, 30.0, 1.0)
    assert (trend(small).spike, trend(small).baseline, trend(small).spike_threshold) == (False, None, None)


def test_it_reads_item_history_by_local_week(berlin, checkout):
    item = make_item(checkout, first_seen=utc(2026, 8, 1))
    for back in range(4):  # 30 events at Monday 00:30 CEST of W35..W38 (Sunday evening in UTC)
        events(item, *[utc(2026, 8, 23, 22, 30, s) + timedelta(weeks=back) for s in range(30)])
    events(item, *[utc(2026, 10, 20, 12, s) for s in range(50)])
    trends_compute_week(week=W43)
    # History [30, 30, 30, 30, 0, 0, 0, 0]: median 15, MAD 15 → threshold 15 + 3·22.239. Truncated in UTC,
    # W35's events would fall out of the history: median 0, threshold 3, and a false spike.
    assert (trend(item).baseline, trend(item).spread, trend(item).spike) == (15.0, 22.239, False)
