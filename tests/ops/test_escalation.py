"""The SLA and the escalation chain: when each level fires, to whom, once, in a fixed number of queries."""

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from ops import services
from ops.escalation import escalation_scan
from ops.models import DataFixEvent, DataFixRequest, Notification, TeamPolicy
from ops.sla import add_business_minutes, sla_deadline
from tests.ops.test_support import admin_user, checkout, file_request, item, make_data_fix_item  # noqa: F401 (fixtures)
from tests.processes import flush_broker

MINUTE = timedelta(minutes=1)
# Pinned: savepoint, the due rows (locked), their new levels, their audit entries, the ops group's addresses,
# the notifications, their ids to send, release.
SCAN_QUERIES = 8


@pytest.fixture
def channels(settings):
    settings.OPS_SLACK_WEBHOOK_URL = "http://127.0.0.1:9/slack"  # planned, not sent: no worker here
    settings.OPS_WEBHOOK_URL = "http://127.0.0.1:9/hook"
    settings.OPS_ESCALATION_EMAIL = "oncall@example.com"


def planned(fix, event="escalated"):
    return sorted(
        (n.level, n.channel, tuple(n.recipients))
        for n in Notification.objects.filter(request=fix, event=event)
    )


@pytest.mark.django_db
def test_it_escalates_along_the_chain_each_level_once(channels, alice, bob, admin_user, item, checkout):
    TeamPolicy.objects.create(team=checkout, escalation_email="checkout-lead@example.com")
    fix = file_request(item, alice)  # high: 30 minutes
    created = fix.created_at

    assert escalation_scan(now=created + 29 * MINUTE) == 0
    assert escalation_scan(now=created + 31 * MINUTE) == 1
    assert escalation_scan(now=created + 32 * MINUTE) == 0  # level 1 fired; level 2 waits another SLA period
    assert escalation_scan(now=created + 61 * MINUTE) == 1
    assert escalation_scan(now=created + 91 * MINUTE) == 1
    assert escalation_scan(now=created + 600 * MINUTE) == 0  # the chain has three levels

    assert planned(fix) == [
        (1, "email", ("bob@example.com",)),
        (1, "slack", ()),
        (1, "webhook", ()),
        (2, "email", ("checkout-lead@example.com",)),
        (2, "slack", ()),
        (2, "webhook", ()),
        (3, "email", ("ada@example.com",)),
        (3, "slack", ()),
        (3, "webhook", ()),
    ]
    fix.refresh_from_db()
    assert fix.escalation_level == 3 and fix.next_escalation_at is None
    assert list(fix.events.filter(verb="escalated").values_list("data__to", flat=True)) == [
        "ops",
        "contact",
        "admins",
    ]


@pytest.mark.django_db
def test_it_falls_back_to_the_configured_escalation_contact(channels, alice, item):
    fix = file_request(item, alice)
    escalation_scan(now=fix.created_at + 31 * MINUTE)
    escalation_scan(now=fix.created_at + 61 * MINUTE)

    assert (2, "email", ("oncall@example.com",)) in planned(fix)


@pytest.mark.django_db
def test_it_stops_escalating_once_acknowledged_or_cancelled(channels, alice, bob, checkout):
    acknowledged = file_request(make_data_fix_item(checkout, 1), alice)
    cancelled = file_request(make_data_fix_item(checkout, 2), alice)
    services.datafix_acknowledge(request_id=acknowledged.pk, user=bob)
    services.datafix_cancel(request_id=cancelled.pk, user=alice)

    assert escalation_scan(now=timezone.now() + timedelta(days=30)) == 0
    assert not Notification.objects.filter(event="escalated").exists()


@pytest.mark.django_db
def test_the_sla_follows_the_urgency_and_the_settings(settings, alice, checkout):
    settings.DATA_FIX_SLA_MINUTES_NORMAL = 90
    normal = file_request(make_data_fix_item(checkout, 1), alice, urgency="normal")
    high = file_request(make_data_fix_item(checkout, 2), alice, urgency="high")

    assert normal.due_at - normal.created_at == timedelta(minutes=90)
    assert high.due_at - high.created_at == timedelta(minutes=30)


def test_low_urgency_counts_two_business_days(settings):
    settings.TIME_ZONE = "Europe/Paris"
    tz = timezone.get_fixed_timezone(60)
    with timezone.override("Europe/Paris"):
        friday_evening = datetime(2026, 11, 20, 17, 0, tzinfo=tz)  # a Friday, 17:00 in Paris
        due = sla_deadline(urgency="low", start=friday_evening)
        assert timezone.localtime(due).strftime("%a %H:%M") == "Tue 17:00"
        saturday = datetime(2026, 11, 21, 11, 0, tzinfo=tz)
        assert timezone.localtime(add_business_minutes(saturday, 60)).strftime("%a %H:%M") == "Mon 01:00"


@pytest.mark.django_db
def test_the_scan_takes_the_same_queries_for_more_due_requests(
    channels, alice, bob, admin_user, checkout, django_assert_num_queries
):
    def due_requests(count, first):
        fixes = [file_request(make_data_fix_item(checkout, first + n), alice) for n in range(count)]
        DataFixRequest.objects.filter(pk__in=[f.pk for f in fixes]).update(
            next_escalation_at=timezone.now() - MINUTE
        )

    due_requests(2, 0)
    with django_assert_num_queries(SCAN_QUERIES):
        assert escalation_scan() == 2
    due_requests(25, 100)
    with django_assert_num_queries(SCAN_QUERIES):
        assert escalation_scan() == 25
    assert Notification.objects.filter(event="escalated").count() == 27 * 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_escalate_each_request_once(channels, alice, bob, checkout):
    fixes = [file_request(make_data_fix_item(checkout, n), alice) for n in range(30)]
    DataFixRequest.objects.update(next_escalation_at=timezone.now() - MINUTE)
    barrier, results = threading.Barrier(2), []

    def scan():
        barrier.wait()
        try:
            results.append(escalation_scan())
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        assert sum(results) == 30
        assert set(DataFixRequest.objects.values_list("escalation_level", flat=True)) == {1}
        assert DataFixEvent.objects.filter(verb="escalated").count() == 30
        assert Notification.objects.filter(event="escalated").count() == 30 * 3
        assert {f.pk for f in fixes} == set(
            Notification.objects.filter(event="escalated").values_list("request", flat=True)
        )
    finally:
        flush_broker()
