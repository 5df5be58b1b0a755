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
"""

import logging
import time
from functools import cache

import redis
from django.conf import settings

from .models import WebhookDelivery

log = logging.getLogger(__name__)
FLAG = "triage:deliveries:drain:{slot}"
FLAG_TTL_MS = 30_000
# Deliveries applied per transaction. Items are locked and saved once per batch, which is
# what makes a burst cheap; a person's action on one of them waits for the batch (~0.2 s).
BATCH = 200
TIME_BUDGET_SECONDS = 50
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
    done, skipped, deadline = 0, set(), time.monotonic() + TIME_BUDGET_SECONDS
    while time.monotonic() < deadline:
        ids = _pending_ids(skipped)
        if not ids and (_release_flag(slot) or not (ids := _pending_ids(skipped))):
            _retry_later_if_still_locked(skipped, slot)
            return done
        if len(ids) == BATCH and slot + 1 < settings.DELIVERY_DRAIN_PARALLEL:
            drainer_wake(slot=slot + 1)  # a backlog: let another worker process help
        taken = process(delivery_ids=ids)
        skipped.update(delivery_id for delivery_id in ids if taken.get(delivery_id) is None)  # another drain holds them
        done += len(ids)
    drainer_wake(slot=slot, force=True)  # time is up: continue in a fresh task
    return done


def _retry_later_if_still_locked(skipped, slot):
    """A row locked by a worker that died mid-task stays locked until its database session ends."""
    if WebhookDelivery.objects.filter(pk__in=skipped, status=WebhookDelivery.Status.PENDING).exists():
        _publish(slot, countdown=RETRY_LOCKED_AFTER_SECONDS)


def _pending_ids(skipped):
    pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).exclude(pk__in=skipped)
    return list(pending.order_by("pk").values_list("pk", flat=True)[:BATCH])


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
    from .tasks import drain_deliveries

    drain_deliveries.apply_async(kwargs={"slot": slot}, countdown=countdown, retry=False)


@cache
def _redis():
    """A client for the broker's Redis, or None with another broker (each wake then publishes)."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1)
