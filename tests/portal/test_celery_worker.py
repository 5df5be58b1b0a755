"""Delivery processing on a real Celery worker with a real Redis broker: nothing accepted is lost."""

import os
import signal
import time

import psycopg
import pytest
import requests

from integrations.models import WebhookDelivery
from integrations.services import delivery_process
from integrations.tasks import requeue_stale_deliveries
from tests.helpers import WEBHOOK_URL, compact, event_payload, post_webhook, sample, wire_headers
from tests.processes import celery_worker, database_url_for_tests, pool_children, wait_for, web_server
from triage.models import Occurrence, TriageItem

pytestmark = [
    pytest.mark.worker,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_broker"),
]
Status = WebhookDelivery.Status


def delivery_status(pk):
    return WebhookDelivery.objects.values_list("status", flat=True).get(pk=pk)


def test_it_processes_a_webhook_on_a_real_worker(client, tmp_path):
    with celery_worker(tmp_path):
        response = post_webhook(client, "event_alert", sample("integration-event_alert-triggered"))
        pk = response.json()["delivery"]
        wait_for(lambda: delivery_status(pk) == Status.PROCESSED, message="delivery processed")

    item = TriageItem.objects.get()
    assert item.sentry_issue_id == "1117540176"
    assert item.occurrences.count() == 1


def test_it_redelivers_the_task_when_the_worker_is_killed_mid_task(client, tmp_path):
    post_webhook(client, "event_alert", event_payload("first"))
    delivery_process(delivery_id=WebhookDelivery.objects.get().pk)
    item = TriageItem.objects.get()

    with (
        celery_worker(tmp_path) as worker,
        psycopg.connect(database_url_for_tests()) as blocker,
        psycopg.connect(database_url_for_tests(), autocommit=True) as watcher,
    ):
        # Hold the item's row lock so the worker's processing blocks inside its transaction.
        blocker.execute("SELECT id FROM triage_triageitem WHERE id = %s FOR UPDATE", [item.pk])
        pk = post_webhook(client, "event_alert", event_payload("second")).json()["delivery"]
        wait_for(lambda: _lock_waiters(watcher) > 0, message="worker blocked mid-task")
        os.kill(pool_children(worker)[0], signal.SIGKILL)
        time.sleep(0.5)
        blocker.rollback()
        wait_for(lambda: delivery_status(pk) == Status.PROCESSED, message="redelivered task processed")

    delivery = WebhookDelivery.objects.get(pk=pk)
    assert delivery.attempts == 2
    assert TriageItem.objects.get().event_count == 2
    assert Occurrence.objects.filter(event_id="second").count() == 1


def test_it_keeps_deliveries_while_the_broker_is_down_and_catches_up(tmp_path):
    body = compact(event_payload("during-outage"))
    with web_server(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0") as base_url:
        started = time.monotonic()
        response = requests.post(
            base_url + WEBHOOK_URL, data=body, timeout=10, headers=wire_headers(body, "event_alert")
        )
        elapsed = time.monotonic() - started

    assert response.status_code == 202
    assert elapsed < 1.0  # Sentry gives the receiver one second
    pk = response.json()["delivery"]
    assert delivery_status(pk) == Status.PENDING

    WebhookDelivery.objects.filter(pk=pk).update(received_at="2000-01-01T00:00:00Z")
    with celery_worker(tmp_path):
        requeue_stale_deliveries.delay()  # what beat runs every minute
        wait_for(lambda: delivery_status(pk) == Status.PROCESSED, message="stale delivery re-enqueued")
    assert Occurrence.objects.filter(event_id="during-outage").exists()


def _lock_waiters(conn):
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    ).fetchone()
    return row[0]
