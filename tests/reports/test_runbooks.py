"""Runbook figures of the weekly report: most used, most flagged, coverage, and the error kinds without
one."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from reports.models import (
    WeeklyErrorKind,
    WeeklyOrgTrend,
    WeeklyRunbookTrend,
    WeeklyServiceTrend,
)
from reports.services import trends_compute_week
from reports.weeks import week_containing
from runbooks import services as runbook_services
from runbooks.models import Runbook, RunbookFeedback
from tests.factories import item_create, occurrences_create
from tests.reports import test_trends as trends
from tests.reports.test_trends import W43, utc
from triage.actions import item_runbook_feedback
from triage.models import Activity, Service, Team

berlin = trends.berlin  # shared fixture

pytestmark = pytest.mark.django_db
_ids = itertools.count(1)


def make_item(service, *, runbook=None, **fields):
    n, first_seen = next(_ids), utc(2026, 10, 1)
    return item_create(
        sentry_issue_id=f"r{n}",
        short_id=f"R-{n}",
        title=f"Error {n}",
        service=service,
        first_seen=first_seen,
        last_seen=first_seen,
        runbook=runbook,
        **fields,
    )


def events(item, *timestamps, exception_type="KeyError"):
    occurrences_create(item=item, timestamps=timestamps, prefix="re", ids=_ids, exception_type=exception_type)


def use(runbook, item, *, linked_at, decided_at=None):
    version = Runbook.objects.get(pk=runbook.pk).current_version
    runbook_services.runbook_use_record(
        version=version,
        item_ref=item.pk,
        item_title=item.title,
        item_url="/",
        linked_at=linked_at,
        decided_at=decided_at,
    )


def flag(runbook, kind, at):
    RunbookFeedback.objects.create(runbook=runbook, kind=kind, created_at=at)


def answer(item, runbook, helped, at):
    Activity.objects.create(
        item=item, verb="runbook_feedback", data={"helped": helped, "slug": runbook.slug}, created_at=at
    )


@pytest.fixture
def services(db):
    return Service.objects.create(slug="checkout", name="Checkout"), Service.objects.create(
        slug="search", name="S"
    )


@pytest.fixture
def runbooks(alice):
    return (
        runbook_services.runbook_create(user=alice, slug="cart", title="Cart errors", body="v1"),
        runbook_services.runbook_create(user=alice, slug="index", title="Search index", body="v1"),
    )


def test_it_counts_runbook_uses_in_the_local_week(berlin, services, runbooks):
    cart, index = runbooks
    items = [make_item(services[0]) for _ in range(5)]
    use(cart, items[0], linked_at=utc(2026, 10, 18, 22, 30))  # Mon 00:30 CEST: in W43
    use(
        cart, items[1], linked_at=utc(2026, 10, 10), decided_at=utc(2026, 10, 25, 22, 30)
    )  # Sun 23:30 CET: in
    use(cart, items[2], linked_at=utc(2026, 10, 20), decided_at=utc(2026, 10, 21))  # linked and decided: once
    use(cart, items[3], linked_at=utc(2026, 10, 18, 21, 30))  # Sun 23:30 CEST: the week before
    use(index, items[4], linked_at=utc(2026, 10, 25, 23, 30))  # Mon 00:30 CET: the week after
    trends_compute_week(week=W43)
    row = WeeklyRunbookTrend.objects.get(week="2026-W43")
    assert (row.slug, row.title, row.runbook_id) == ("cart", "Cart errors", cart.pk)
    assert (row.linked, row.handled, row.used) == (2, 2, 3)


def test_it_counts_flags_and_each_items_last_answer(berlin, services, runbooks):
    cart, index = runbooks
    first, second, third = (make_item(services[0]) for _ in range(3))
    flag(cart, "unclear", utc(2026, 10, 20))
    flag(cart, "unclear", utc(2026, 10, 21))
    flag(cart, "outdated", utc(2026, 10, 21))
    flag(cart, "unclear", utc(2026, 10, 26))  # next week
    answer(first, cart, True, utc(2026, 10, 20))
    answer(first, cart, False, utc(2026, 10, 22))  # changed their mind: "did not help" counts, once
    answer(second, cart, False, utc(2026, 10, 22))
    answer(third, index, True, utc(2026, 10, 22))
    answer(third, index, False, utc(2026, 10, 12))  # the week before
    trends_compute_week(week=W43)
    rows = {
        r.slug: (r.unclear, r.outdated, r.helped, r.not_helped, r.used, r.flagged)
        for r in WeeklyRunbookTrend.objects.filter(week="2026-W43")
    }
    assert rows == {"cart": (2, 1, 0, 2, 0, 4), "index": (0, 0, 1, 0, 0, 0)}


def test_it_reads_the_answer_the_item_page_records(services, runbooks, alice):
    cart, _ = runbooks
    item = make_item(services[0], runbook=cart, team=Team.objects.get(slug="checkout"))
    item_runbook_feedback(item=item, user=alice, helped=False)
    trends_compute_week(week=week_containing(timezone.localdate()))
    row = WeeklyRunbookTrend.objects.get()
    assert (row.slug, row.not_helped, row.helped) == ("cart", 1, 0)


def test_it_measures_runbook_coverage_of_items_and_events(berlin, services, runbooks):
    cart, _ = runbooks
    checkout, search = services
    events(make_item(checkout, runbook=cart), *[utc(2026, 10, 20, h) for h in range(6)])
    events(make_item(checkout), utc(2026, 10, 20), utc(2026, 10, 21))
    events(make_item(search), utc(2026, 10, 22), utc(2026, 10, 12))  # one event in the week
    events(make_item(search, runbook=cart), utc(2026, 10, 12))  # no event in the week: not counted
    trends_compute_week(week=W43)
    org = WeeklyOrgTrend.objects.get(week="2026-W43")
    assert (org.active_items, org.runbook_items, org.events, org.runbook_events) == (3, 1, 9, 6)
    assert (round(org.runbook_item_share, 3), round(org.runbook_event_share, 3)) == (0.333, 0.667)
    rows = {
        r.service.slug: (r.active_items, r.runbook_items, r.runbook_events)
        for r in WeeklyServiceTrend.objects.filter(week="2026-W43")
    }
    assert rows == {"checkout": (2, 1, 6), "search": (1, 0, 0)}


def test_it_lists_error_kinds_without_a_runbook_most_events_first(berlin, services, runbooks):
    cart, _ = runbooks
    checkout, search = services
    events(make_item(checkout), utc(2026, 10, 20), utc(2026, 10, 21), exception_type="KeyError")
    events(make_item(checkout), utc(2026, 10, 22), exception_type="KeyError")
    events(make_item(checkout), *[utc(2026, 10, 20, h) for h in range(4)], exception_type="TimeoutError")
    events(make_item(search), utc(2026, 10, 20), exception_type="KeyError")
    events(
        make_item(checkout, runbook=cart),
        *[utc(2026, 10, 20, h) for h in range(9)],
        exception_type="KeyError",
    )
    events(make_item(checkout), utc(2026, 10, 18, 21, 30), exception_type="ValueError")  # the week before
    trends_compute_week(week=W43)
    kinds = [
        (k.service.slug, k.exception_type, k.events, k.items)
        for k in WeeklyErrorKind.objects.filter(week="2026-W43").order_by("-events", "service__slug")
    ]
    assert kinds == [
        ("checkout", "TimeoutError", 4, 1),
        ("checkout", "KeyError", 3, 2),
        ("search", "KeyError", 1, 1),
    ]


def test_it_keeps_a_weeks_runbook_figures_after_the_runbook_is_deleted(berlin, services, runbooks):
    cart, _ = runbooks
    flag(cart, "unclear", utc(2026, 10, 20))
    trends_compute_week(week=W43)
    cart.delete()
    row = WeeklyRunbookTrend.objects.get()
    assert (row.slug, row.title, row.unclear, row.runbook_id) == ("cart", "Cart errors", 1, None)


def test_it_replaces_runbook_rows_on_recompute(berlin, services, runbooks):
    cart, _ = runbooks
    checkout, _ = services
    events(make_item(checkout), utc(2026, 10, 20))
    flag(cart, "unclear", utc(2026, 10, 20))
    trends_compute_week(week=W43)
    flag(cart, "unclear", utc(2026, 10, 21))
    trends_compute_week(week=W43)
    trends_compute_week(week=W43)
    assert list(WeeklyRunbookTrend.objects.values_list("unclear", flat=True)) == [2]
    assert list(WeeklyErrorKind.objects.values_list("events", flat=True)) == [1]
    assert WeeklyRunbookTrend.objects.filter(week=W43.shifted(-1).name).count() == 0
    assert timedelta(0) <= timezone.now() - WeeklyOrgTrend.objects.get().computed_at < timedelta(minutes=1)
