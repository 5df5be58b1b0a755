"""Sentry's archive conditions become the item's ignore condition: shown on the page, and the portal
wakes the item itself when they pass, with no word from Sentry.

statusDetails as Sentry's issue serializer sends them (src/sentry/api/serializers/models/group.py): with
no window, ignoreCount and ignoreUserCount are what is still to go; with one (minutes), the whole count
within it.
"""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.helpers import event_payload, issue_payload, post_webhook
from triage import tasks
from triage.models import TriageItem

pytestmark = pytest.mark.django_db
ISSUE_ID = "1117540176"
IN_A_WEEK = timezone.now().replace(microsecond=0) + timedelta(days=7)

VARIANTS = {
    "count in a window": (
        {"ignoreCount": 100, "ignoreWindow": 60},
        "archived_until_condition_met",
        {"kind": "events", "count": 100, "window": 60},
        "until 100 events within 60 minutes",
    ),
    "count": (
        {"ignoreCount": 100},
        "archived_until_condition_met",
        {"kind": "events", "count": 100, "baseline": 40},
        "until 100 more events",
    ),
    "users in a window": (
        {"ignoreUserCount": 10, "ignoreUserWindow": 60},
        "archived_until_condition_met",
        {"kind": "users", "count": 10, "window": 60},
        "until 10 users within 60 minutes",
    ),
    "users": (
        {"ignoreUserCount": 10},
        "archived_until_condition_met",
        {"kind": "users", "count": 10, "baseline": 3},
        "until 10 more users",
    ),
    "until a time": (
        {"ignoreUntil": IN_A_WEEK.isoformat().replace("+00:00", "Z")},
        "archived_until_condition_met",
        {"kind": "until", "until": IN_A_WEEK.isoformat()},
        IN_A_WEEK.strftime("until %-d %b %Y, %H:%M UTC"),
    ),
    "until escalating": (
        {"ignoreUntilEscalating": True},
        "archived_until_escalating",
        {"kind": "escalating"},
        "until it escalates",
    ),
    "forever": ({}, "archived_forever", {"kind": "forever"}, "forever"),
}


def archived_in_sentry(
    client, process_all, details, substatus="archived_until_condition_met", action="archived"
):
    post_webhook(client, "issue", issue_payload(ISSUE_ID))
    post_webhook(
        client,
        "issue",
        issue_payload(
            ISSUE_ID,
            action=action,
            status="ignored",
            substatus=substatus,
            statusDetails=details,
            count="40",
            userCount=3,
        ),
        timestamp=time.time() + 1,
    )
    assert set(process_all()) == {"processed"}
    return TriageItem.objects.get()


def events(client, process_all, *users, ago=timedelta(0)):
    for n, user in enumerate(users):
        tags = [["level", "error"], ["user", user]] if user else [["level", "error"]]
        at = (timezone.now() - ago).timestamp()
        post_webhook(
            client,
            "event_alert",
            event_payload(f"ev-{time.monotonic_ns()}-{n}", ISSUE_ID, timestamp=at, tags=tags),
        )
    process_all()
    return TriageItem.objects.get()


@pytest.mark.parametrize("details,substatus,condition,text", VARIANTS.values(), ids=VARIANTS.keys())
def test_it_keeps_sentrys_archive_condition_and_shows_it(
    alice_client, process_all, details, substatus, condition, text
):
    item = archived_in_sentry(alice_client, process_all, details, substatus)

    assert (item.status, item.ignore_condition) == (TriageItem.Status.IGNORED, condition)
    content = alice_client.get(f"/items/{item.pk}/").content.decode()
    chip = re.search(r'<span class="chip">Ignored (.*?)</span>', content, re.S)[1]
    assert re.sub(r"<[^>]+>", "", chip).strip() == text
    timeline = content[content.index('class="timeline"') :]
    assert "ignored it in Sentry " + text in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", timeline))


def test_it_takes_ignore_duration_from_the_time_of_the_snapshot(client, process_all):
    item = archived_in_sentry(client, process_all, {"ignoreDuration": 90})

    until = timezone.datetime.fromisoformat(item.ignore_condition["until"])
    assert abs(until - (timezone.now() + timedelta(minutes=90))) < timedelta(seconds=5)


def test_it_wakes_an_item_sentry_archived_until_more_events_when_they_come(client, process_all):
    archived_in_sentry(client, process_all, {"ignoreCount": 2})
    assert events(client, process_all, None).status == TriageItem.Status.IGNORED

    item = events(client, process_all, None)

    assert (item.status, item.ignore_condition) == (TriageItem.Status.NEW, {})
    assert item.woke_at is not None
    assert item.activities.get(verb="woke_up").data["condition"] == {
        "kind": "events",
        "count": 2,
        "baseline": 40,
    }


def test_it_wakes_on_the_count_within_the_window_only(client, process_all):
    archived_in_sentry(client, process_all, {"ignoreCount": 3, "ignoreWindow": 60})
    assert (
        events(client, process_all, None, None, ago=timedelta(minutes=90)).status == TriageItem.Status.IGNORED
    )
    assert events(client, process_all, None, None).status == TriageItem.Status.IGNORED  # 2 within the hour

    assert events(client, process_all, None).status == TriageItem.Status.NEW


def test_it_wakes_on_distinct_users_within_the_window(client, process_all):
    archived_in_sentry(client, process_all, {"ignoreUserCount": 2, "ignoreUserWindow": 60})
    assert events(client, process_all, "id:1", "id:1", None).status == TriageItem.Status.IGNORED

    assert events(client, process_all, "id:2").status == TriageItem.Status.NEW


def test_it_wakes_an_item_archived_for_a_while_once_the_time_passes(client, process_all):
    item = archived_in_sentry(
        client, process_all, {"ignoreUntil": (timezone.now() + timedelta(hours=1)).isoformat()}
    )
    assert tasks.wake_expired_ignores() == 0

    from triage.services import items_wake_expired_ignores

    assert items_wake_expired_ignores(now=timezone.now() + timedelta(hours=2)) == 1

    item.refresh_from_db()
    assert (item.status, item.ignore_condition) == (TriageItem.Status.NEW, {})


@pytest.mark.parametrize(
    "details,substatus",
    [({"ignoreUntilEscalating": True}, "archived_until_escalating"), ({}, "archived_forever")],
    ids=["until escalating", "forever"],
)
def test_events_do_not_wake_what_only_sentry_can(client, process_all, details, substatus):
    archived_in_sentry(client, process_all, details, substatus)

    assert events(client, process_all, "id:1", "id:2", "id:3").status == TriageItem.Status.IGNORED


def test_sentry_saying_it_escalates_wakes_it(client, process_all):
    archived_in_sentry(client, process_all, {"ignoreUntilEscalating": True}, "archived_until_escalating")
    post_webhook(
        client,
        "issue",
        issue_payload(ISSUE_ID, action="unresolved", status="unresolved", substatus="escalating"),
        timestamp=time.time() + 2,
    )
    process_all()

    assert TriageItem.objects.get().status == TriageItem.Status.NEW
