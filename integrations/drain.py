"""The stored deliveries are the queue; a drain task empties it.

Publishing one Celery message per webhook cost the intake half its throughput
(bench/ingest.py), so the view only makes sure a drain is scheduled: with Redis,
one `SET NX` on a flag, and a Celery message only when the flag was free.

Why nothing is stranded: the drain deletes the flag when it finds nothing pending,
waits FINAL_LOOK_DELAY, then looks once more. A delivery committed before that last
look is seen by it; one committed after it finds the flag free and schedules a new
drain. The flag's TTL covers a drain that died without deleting it, and beat's
stale-delivery sweep covers a broker that was down.

A web process that found the flag held less than WAKE_SKIP ago does not ask Redis
again: the flag was deleted, if at all, after it was seen held, and the drain's last
look comes FINAL_LOOK_DELAY after that, later than any commit made within WAKE_SKIP
of seeing it. Under load this saves the round trip on almost every request.

A burst is drained without a pause and by every worker process. Each drain takes the oldest
pending deliveries that no other drain holds (SKIP LOCKED: a batch's rows stay locked while it
is applied), so drains in parallel take disjoint batches; one with a full batch wakes the next
slot, up to DELIVERY_DRAIN_PARALLEL. A drain keeps its flag alive while it works, so the
intake schedules no second one. After DELIVERY_DRAIN_BUDGET_SECONDS, with work left, it hands
over to a fresh task for its slot (so other tasks get a turn) and keeps the flag; if that task
cannot be published it keeps draining rather than leave the backlog to beat.
"""

import logging
import os
import time
from functools import cache

import redis
from celery import current_app
from django.conf import settings
from django.db import transaction

from .models import WebhookDelivery

log = logging.getLogger(__name__)
DRAIN_TASK = "integrations.tasks.drain_deliveries"
FLAG = "triage:deliveries:drain:{slot}"
FLAG_TTL_MS = 30_000
# Deliveries applied per transaction. Items are locked and saved once per batch, which is
# what makes a burst cheap; a person's action on one of them waits for the batch (~0.2 s).
BATCH = 200
RETRY_LOCKED_AFTER_SECONDS = 1
WAKE_SKIP_SECONDS = 0.05
FINAL_LOOK_DELAY_SECONDS = 0.1  # must stay above WAKE_SKIP_SECONDS
_flag_seen_held_at = -1.0  # this process's monotonic clock; only slot 0's flag


def drainer_wake(*, slot=0, force=False):
    """Make sure a drain task for `slot` is scheduled. Never raises: the rows are safe."""
    if not force and slot == 0 and time.monotonic() - _flag_seen_held_at < WAKE_SKIP_SECONDS:
        return
    try:
        if force or _claim_flag(slot):
            _publish(slot)
    except Exception as exc:
        log.warning("Deliveries stored but no drain scheduled (%s); beat will sweep them.", exc)


def deliveries_drain(*, slot=0, process):
    """Process pending deliveries oldest first until none are left; returns how many were tried.

    `process(delivery_ids=...)` answers {id: status} for the ids it could take.
    """
    done, skipped, deadline = 0, set(), time.monotonic() + settings.DELIVERY_DRAIN_BUDGET_SECONDS
    while True:
        ids = _pending_ids(skipped)
        if not ids and (_release_flag(slot) or not (ids := _pending_ids(skipped))):
            _retry_later_if_held(slot)
            return done
        if done and time.monotonic() >= deadline:  # at least one batch a task, whatever the budget
            if _handed_over(slot):
                return done
            deadline = time.monotonic() + settings.DELIVERY_DRAIN_BUDGET_SECONDS  # keep going, try again then
        taken = _process_logged(
            slot, ids, process
        )  # at once: another drain may pick these until they are locked
        _batch_done(slot, full=len(ids) == BATCH)
        skipped.update(
            delivery_id for delivery_id in ids if taken.get(delivery_id) is None
        )  # another drain holds them
        done += len(ids)


def _batch_done(slot, *, full):
    _hold_flag(slot)
    if full and slot + 1 < settings.DELIVERY_DRAIN_PARALLEL:
        drainer_wake(slot=slot + 1)  # a backlog: let another worker process help


def _process_logged(slot, ids, process):
    """Which process applied which batch, and how fast: what tells a burst's drain from the logs."""
    started = time.monotonic()
    taken = process(delivery_ids=ids)
    log.info(
        "Drain slot %s (pid %s) applied %s of %s deliveries (%s-%s) in %.3f s",
        slot,
        os.getpid(),
        len(taken),
        len(ids),
        ids[0],
        ids[-1],
        time.monotonic() - started,
    )
    return taken


def _handed_over(slot) -> bool:
    """Time is up with work left: a fresh task for this slot takes over, the flag still held."""
    try:
        _publish(slot)
    except Exception as exc:
        log.warning("Drain slot %s could not hand over (%s); it keeps draining.", slot, exc)
        return False
    return True


def _retry_later_if_held(slot):
    """Rows another drain holds, or a worker that died mid-task (locked until its session ends): come back for
    them."""
    if WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exists():
        _publish(slot, countdown=RETRY_LOCKED_AFTER_SECONDS)


def _pending_ids(skipped):
    """The oldest pending deliveries that no other drain is applying now (SKIP LOCKED): disjoint batches."""
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exclude(pk__in=skipped)
    with transaction.atomic():
        return list(
            pending.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:BATCH]
        )


def _claim_flag(slot) -> bool:
    global _flag_seen_held_at
    client = _redis()
    if client is None:
        return True
    asked_at = time.monotonic()  # held from no later than the answer: the earlier time is the safe one
    claimed = bool(client.set(FLAG.format(slot=slot), "1", nx=True, px=FLAG_TTL_MS))
    if slot == 0:
        _flag_seen_held_at = asked_at
    return claimed


def _hold_flag(slot):
    """Refreshed every batch: a drain outliving FLAG_TTL_MS must not let the intake schedule another."""
    try:
        if (client := _redis()) is not None:
            client.set(FLAG.format(slot=slot), "1", px=FLAG_TTL_MS)
    except redis.RedisError as exc:  # at worst the intake schedules a second drain, which takes other rows
        log.warning("Drain slot %s could not refresh its flag (%s).", slot, exc)


def _release_flag(slot) -> bool:
    """Free the slot; True when the caller may stop (only slot 0 must look once more, after a pause)."""
    client = _redis()
    if client is not None:
        client.delete(FLAG.format(slot=slot))
    if slot > 0:
        return True
    time.sleep(FINAL_LOOK_DELAY_SECONDS if client is not None else 0)
    return False


def _publish(slot, countdown=None):
    task_publish(DRAIN_TASK, kwargs={"slot": slot}, countdown=countdown, retry=False)


def task_publish(name, **options):
    """Send one of integrations.tasks to the worker by its name, as its own apply_async would.

    By name because tasks.py imports the modules that enqueue: importing it back would close a cycle.
    The registered task is used when this process has imported it (a worker, a test standing in for the
    broker); a web process has not, and Celery then sends the same message by name.
    """
    task = current_app.tasks.get(name)
    return task.apply_async(**options) if task else current_app.send_task(name, **options)


@cache
def _redis():
    """A client for the broker's Redis, or None with another broker (each wake then publishes)."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)
