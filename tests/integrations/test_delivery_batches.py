"""The drain applies deliveries in batches: one transaction, each item locked and saved once."""

import threading
import time

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext

from integrations import services
from integrations.models import WebhookDelivery
from integrations.services import deliveries_process
from tests.helpers import WEBHOOK_URL, compact, event_payload, issue_payload, post_webhook, signed_headers
from triage.models import Occurrence, TriageItem

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
ISSUE = "1117540176"


def pending_ids():
    return list(
        WebhookDelivery.objects.filter(status=Status.PENDING).order_by("pk").values_list("pk", flat=True)
    )


def post_events(client, prefix, count, issue_id=ISSUE):
    return [
        post_webhook(client, "event_alert", event_payload(f"{prefix}-{n}", issue_id)).json()["delivery"]
        for n in range(count)
    ]


def test_it_applies_a_burst_of_events_to_one_item(client):
    post_events(client, "burst", 5)
    post_events(client, "other", 2, issue_id="2000")

    assert set(deliveries_process(delivery_ids=pending_ids()).values()) == {Status.PROCESSED}
    item = TriageItem.objects.get(sentry_issue_id=ISSUE)
    assert item.event_count == 5
    assert item.activities.filter(verb="created").count() == 1
    assert TriageItem.objects.get(sentry_issue_id="2000").event_count == 2
    assert Occurrence.objects.count() == 7


def test_it_costs_one_statement_more_per_event_of_a_known_issue(client):
    def statements_for(prefix, count):
        ids = post_events(client, prefix, count)
        with CaptureQueriesContext(connection) as queries:
            deliveries_process(delivery_ids=ids)
        return len(queries)

    statements_for("warm", 1)  # the item exists from here on

    assert statements_for("ten", 10) - statements_for("five", 5) == 5  # one occurrence INSERT each


def test_it_marks_only_the_broken_delivery_failed(client):
    good = post_events(client, "good", 2)
    broken = WebhookDelivery.objects.create(resource="event_alert", action="triggered", body=b"{not json").pk

    statuses = deliveries_process(delivery_ids=[*good, broken])

    assert statuses == {good[0]: Status.PROCESSED, good[1]: Status.PROCESSED, broken: Status.FAILED}
    assert TriageItem.objects.get().event_count == 2
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {
        1
    }  # the retry is not a new attempt


def test_it_marks_a_second_copy_in_the_same_batch_duplicate(client):
    payload = event_payload("twice")
    ids = [post_webhook(client, "event_alert", payload).json()["delivery"] for _ in range(2)]

    assert deliveries_process(delivery_ids=ids) == {ids[0]: Status.PROCESSED, ids[1]: Status.DUPLICATE}
    assert Occurrence.objects.filter(event_id="twice").count() == 1


def test_it_regresses_a_resolved_item_once_for_a_burst(client):
    post_events(client, "first", 1)
    post_webhook(client, "issue", issue_payload(ISSUE, action="resolved", status="resolved"))
    deliveries_process(delivery_ids=pending_ids())
    assert TriageItem.objects.get().status == TriageItem.Status.RESOLVED

    post_events(client, "again", 3)
    deliveries_process(delivery_ids=pending_ids())

    item = TriageItem.objects.get()
    assert (item.status, item.event_count) == (TriageItem.Status.NEW, 4)
    assert item.activities.filter(verb="regressed").count() == 1


def test_it_wakes_an_item_ignored_until_more_events_in_the_middle_of_a_batch(client):
    post_events(client, "first", 1)
    deliveries_process(delivery_ids=pending_ids())
    TriageItem.objects.update(
        status=TriageItem.Status.IGNORED, ignore_condition={"kind": "events", "count": 2, "baseline": 1}
    )

    post_events(client, "more", 3)
    deliveries_process(delivery_ids=pending_ids())

    item = TriageItem.objects.get()
    assert (item.status, item.event_count, item.ignore_condition) == (TriageItem.Status.NEW, 4, {})
    assert item.activities.filter(verb="woke_up").count() == 1


def test_it_leaves_out_a_delivery_already_processed(client):
    ids = post_events(client, "done", 2)
    WebhookDelivery.objects.filter(pk=ids[0]).update(status=Status.PROCESSED)

    assert deliveries_process(delivery_ids=ids) == {ids[1]: Status.PROCESSED}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_applies_each_delivery_once_when_two_batches_race(client):
    ids = post_events(client, "race", 20) + post_events(client, "new", 20, issue_id="3000")
    barrier, answers = threading.Barrier(2), []

    def drain():
        barrier.wait()
        try:
            answers.append(deliveries_process(delivery_ids=ids))
        finally:
            connection.close()

    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(pk for answer in answers for pk in answer) == sorted(ids)  # each taken by one batch
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.PROCESSED}
    assert [item.event_count for item in TriageItem.objects.order_by("sentry_issue_id")] == [20, 20]


def post_replays(client, body, count):
    """The same signed body, each time with a fresh timestamp and Request-ID, as a replay would send it."""
    return [
        client.post(
            WEBHOOK_URL,
            body,
            content_type="application/json",
            **signed_headers(body, "issue", timestamp=time.time() + n),
        ).json()["delivery"]
        for n in range(count)
    ]


def test_it_marks_a_replayed_body_in_the_same_batch_duplicate(client):
    ids = post_replays(client, compact(issue_payload(ISSUE, action="resolved", status="resolved")), 3)

    assert deliveries_process(delivery_ids=ids) == {
        ids[0]: Status.PROCESSED,
        ids[1]: Status.DUPLICATE,
        ids[2]: Status.DUPLICATE,
    }
    assert TriageItem.objects.get().activities.filter(verb="resolved").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_applies_a_replayed_body_once_when_two_batches_race(client):
    first, second = post_replays(client, compact(issue_payload(ISSUE, action="created")), 2)
    barrier, answers = threading.Barrier(2), {}

    def drain(delivery_id):
        barrier.wait()
        try:
            answers.update(deliveries_process(delivery_ids=[delivery_id]))
        finally:
            connection.close()

    threads = [threading.Thread(target=drain, args=(pk,)) for pk in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answers.values()) == [Status.DUPLICATE, Status.PROCESSED]
    assert TriageItem.objects.get().activities.filter(verb="created").count() == 1


class FakeDeadlock(Exception):
    sqlstate = "40P01"


def deadlock():
    try:
        raise FakeDeadlock
    except FakeDeadlock as cause:
        raise OperationalError("deadlock detected") from cause


def test_it_redoes_a_batch_one_by_one_after_a_deadlock(client, monkeypatch):
    ids = post_events(client, "deadlock", 3)
    monkeypatch.setattr(services, "_apply_batch", lambda claimed: deadlock())

    assert deliveries_process(delivery_ids=ids) == dict.fromkeys(ids, Status.PROCESSED)
    assert TriageItem.objects.get().event_count == 3


def test_it_lets_the_task_retry_when_the_database_is_away(client, monkeypatch):
    ids = post_events(client, "away", 2)

    def database_away(claimed):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "_apply_batch", database_away)

    with pytest.raises(OperationalError):
        deliveries_process(delivery_ids=ids)
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.PENDING}
