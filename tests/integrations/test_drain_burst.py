"""A burst of new issues drains without a pause and over every worker process (real Redis, real workers)."""

import re
import threading

import psycopg
import pytest
from django.db import transaction

from integrations import drain, services
from integrations.models import WebhookDelivery
from integrations.sentry_payloads import parse_body, parse_envelope
from tests.helpers import compact, issue_payload
from tests.processes import celery_worker, database_url_for_tests, pool_children, wait_for
from triage.models import Activity, TriageItem

pytestmark = [
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_broker"),
]
Status = WebhookDelivery.Status
BATCH_LINE = re.compile(r"Drain slot (\d+) \(pid (\d+)\) applied (\d+) of (\d+) deliveries")
SUCCEEDED = re.compile(r"Task integrations\.tasks\.drain_deliveries\[[^]]+\] succeeded")


def store_new_issues(count):
    """`count` issue.created deliveries of new issues, stored as the intake stores them; the commit wakes
    one drain."""
    with transaction.atomic():
        for n in range(count):
            body = compact(issue_payload(f"8{n:09d}"))
            services.delivery_receive(
                source="sentry", headers={}, body=body, envelope=parse_envelope("issue", parse_body(body))
            )


def pending():
    return WebhookDelivery.objects.filter(status=Status.PENDING).count()


def batches(log_path):
    """(slot, pid, applied) for each batch the worker logged."""
    return [tuple(map(int, match.groups()[:3])) for match in BATCH_LINE.finditer(log_path.read_text())]


def drains_succeeded(tmp_path) -> int:
    return len(SUCCEEDED.findall((tmp_path / "worker.log").read_text()))


def largest_gap(timestamps):
    ordered = sorted(set(timestamps))
    return max((b - a).total_seconds() for a, b in zip(ordered, ordered[1:], strict=False))


@pytest.mark.worker
def test_a_burst_longer_than_a_drain_budget_drains_without_a_new_delivery_or_beat(tmp_path):
    store_new_issues(1200)

    with celery_worker(
        tmp_path, concurrency=1, DELIVERY_DRAIN_BUDGET_SECONDS="0.2", DELIVERY_DRAIN_PARALLEL="1"
    ):
        wait_for(lambda: pending() == 0, timeout=120, interval=0.2, message="the burst drained")
        # The last drain commits its batch before it logs success: stopping the worker at once can cut that
        # line off. Drains that stopped on their budget, each handing over to the next: two or more.
        wait_for(lambda: drains_succeeded(tmp_path) >= 2, timeout=30, message="two drains or more succeeded")
    assert sum(applied for _, _, applied in batches(tmp_path / "worker.log")) == 1200
    assert TriageItem.objects.count() == Activity.objects.filter(verb="created").count() == 1200
    processed_at = WebhookDelivery.objects.values_list("processed_at", flat=True)
    assert largest_gap(processed_at) < 3  # batch after batch: no wait for beat, nor for another delivery


@pytest.mark.worker
def test_two_worker_processes_both_apply_batches_of_one_burst(tmp_path):
    store_new_issues(2400)

    with celery_worker(
        tmp_path, concurrency=2, DELIVERY_DRAIN_BUDGET_SECONDS="1", DELIVERY_DRAIN_PARALLEL="2"
    ) as worker:
        children = set(pool_children(worker))
        wait_for(lambda: pending() == 0, timeout=120, interval=0.2, message="the burst drained")
    applied = batches(tmp_path / "worker.log")

    by_pid = {pid: sum(n for _, p, n in applied if p == pid) for _, pid, _ in applied}
    assert set(by_pid) == children  # each pool process applied batches
    assert {slot for slot, _, _ in applied} == {0, 1}
    assert sum(by_pid.values()) == 2400  # disjoint: no delivery applied twice
    assert TriageItem.objects.count() == 2400
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.PROCESSED}


def test_a_drain_takes_no_rows_another_drain_is_applying():
    store_new_issues(5)
    ids = list(WebhookDelivery.objects.order_by("pk").values_list("pk", flat=True))
    held, release = threading.Event(), threading.Event()

    def other_drain():  # holds the first two rows, as a batch being applied does
        with psycopg.connect(database_url_for_tests()) as conn:
            conn.execute(
                "SELECT id FROM integrations_webhookdelivery WHERE id = ANY(%s) FOR UPDATE", [ids[:2]]
            )
            held.set()
            release.wait(10)

    thread = threading.Thread(target=other_drain)
    thread.start()
    try:
        held.wait(10)
        assert drain._pending_ids(set()) == ids[2:]
    finally:
        release.set()
        thread.join()
