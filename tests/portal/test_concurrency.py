"""Two workers at once: the database, not luck, keeps one item per issue and one effect per delivery."""

import threading

import pytest
from django.db import connection

from integrations.models import WebhookDelivery
from integrations.services import delivery_process
from tests.helpers import event_payload, post_webhook
from triage.models import Occurrence, TriageItem

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
Status = WebhookDelivery.Status
ROUNDS = 8


def process_at_once(delivery_ids):
    """Run delivery_process for each id in its own thread (own DB connection), released together."""
    barrier, results = threading.Barrier(len(delivery_ids)), [None] * len(delivery_ids)

    def work(index, delivery_id):
        barrier.wait()
        try:
            results[index] = delivery_process(delivery_id=delivery_id)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=pair) for pair in enumerate(delivery_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def post_and_get_ids(client, *payloads):
    return [post_webhook(client, "event_alert", payload).json()["delivery"] for payload in payloads]


def test_it_creates_one_item_when_two_events_of_a_new_issue_race(client):
    for round_ in range(ROUNDS):
        issue_id = f"race-{round_}"
        ids = post_and_get_ids(
            client, event_payload(f"{issue_id}-a", issue_id), event_payload(f"{issue_id}-b", issue_id)
        )

        assert set(process_at_once(ids)) == {Status.PROCESSED}
        item = TriageItem.objects.get(sentry_issue_id=issue_id)
        assert item.event_count == 2
        assert item.occurrences.count() == 2
        assert item.activities.filter(verb="created").count() == 1


def test_it_applies_two_copies_of_one_event_racing_once(client):
    for round_ in range(ROUNDS):
        payload = event_payload(f"same-{round_}", f"dup-{round_}")
        ids = post_and_get_ids(client, payload, payload)

        assert sorted(process_at_once(ids)) == [Status.DUPLICATE, Status.PROCESSED]
        assert TriageItem.objects.get(sentry_issue_id=f"dup-{round_}").event_count == 1
        assert Occurrence.objects.filter(event_id=f"same-{round_}").count() == 1


def test_it_processes_one_delivery_once_when_two_tasks_run_it_at_once(client):
    for round_ in range(ROUNDS):
        [pk] = post_and_get_ids(client, event_payload(f"twice-{round_}", f"twice-{round_}"))

        # The loser waits on the row lock, then finds the delivery no longer pending.
        assert sorted(process_at_once([pk, pk]), key=str) == [None, Status.PROCESSED]
        assert WebhookDelivery.objects.get(pk=pk).status == Status.PROCESSED
        assert TriageItem.objects.get(sentry_issue_id=f"twice-{round_}").event_count == 1
