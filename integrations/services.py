"""Writes for webhook deliveries: store on receipt, process by id, sweep what got stuck.

Processing claims a delivery (its dedupe key refuses a second copy), parses it once and hands what
it says to triage.intake, which owns the items: their locks, the batch, the saves.
"""

import hashlib
import json
import logging
import time
import traceback
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Subquery
from django.utils import timezone

from triage import intake
from triage.facts import SentryChange

from .drain import drainer_wake
from .models import SentrySync, WebhookDelivery
from .payload_values import storable
from .sentry_payloads import Envelope, Webhook, parse_body, parse_webhook

log = logging.getLogger(__name__)
Status = WebhookDelivery.Status


def delivery_receive(*, source, headers, body, envelope: Envelope | None, resource="", error="") -> int:
    """Store an accepted request in one INSERT and wake the drain once the row is committed.

    A plain INSERT rather than Model.objects.create: on the hot path the ORM's
    per-instance work cost a tenth of the intake's throughput (bench/ingest.py).
    """
    row = {
        "source": source,
        "resource": envelope.resource
        if envelope
        else storable(resource, 50),  # parse_envelope bounds its fields
        "action": envelope.action if envelope else "",
        "request_id": storable(headers.get("Request-Id", ""), 100),
        "headers": json.dumps(headers),
        "body": body,
        # Sentry signs the body only: the processed-once index on this refuses a replay with fresh headers.
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "sentry_issue_id": envelope.issue_id if envelope else "",
        "dedupe_key": envelope.dedupe_key if envelope else "",
        "received_at": timezone.now(),
        "status": Status.PENDING,
        "attempts": 0,
        "last_error": storable(error, 10000),
    }
    delivery_id = _insert_returning_id(WebhookDelivery._meta.db_table, row)
    transaction.on_commit(drainer_wake)
    return delivery_id


def _insert_returning_id(table, row):
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor, table, tuple(row)), list(row.values()))
        return cursor.fetchone()[0]


@cache  # built once per process: quoting the names on every request showed in the intake's profile
def _insert_sql(vendor, table, names):
    columns = ", ".join(connection.ops.quote_name(name) for name in names)
    return f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(names))}) RETURNING id"


def delivery_reject(*, source, headers, body, resource, error) -> int | None:
    """Keep what a person needs to debug a refused request; None when the caps keep no more.

    Anyone can send a refused request, so one costs little: an excerpt of the body, the reason
    and the few headers the view kept, at most so many a minute, the oldest pruned past a total.
    """
    if _rejected_in_the_last_minute() >= settings.WEBHOOK_REJECTED_PER_MINUTE:
        _note_over_the_cap()
        return None
    delivery = WebhookDelivery.objects.create(
        source=source,
        resource=storable(resource, 50),
        headers=headers,
        status=Status.REJECTED,
        body=body[: settings.WEBHOOK_REJECTED_BODY_BYTES],
        last_error=storable(error, 1000),
    )
    _prune_rejected()
    return delivery.pk


def _rejected_in_the_last_minute() -> int:
    """Counted on the partial index of rejected rows, reading no more entries than the cap."""
    cap = settings.WEBHOOK_REJECTED_PER_MINUTE
    since = timezone.now() - timedelta(minutes=1)
    return (
        WebhookDelivery.objects.filter(status=Status.REJECTED, received_at__gte=since)
        .order_by()[:cap]
        .count()
    )


def _prune_rejected():
    """Past the total cap the oldest refused requests go: a scan of the kept rows' index entries, no more."""
    keep = max(settings.WEBHOOK_REJECTED_MAX_ROWS, 1)
    rejected = WebhookDelivery.objects.filter(status=Status.REJECTED)
    oldest_kept = rejected.order_by("-received_at").values("received_at")[keep - 1 : keep]
    rejected.filter(received_at__lt=Subquery(oldest_kept)).order_by().delete()


_over_the_cap_logged_at = float("-inf")


def _note_over_the_cap():
    """Once a minute per process at most: a flood must not fill the logs instead of the table."""
    global _over_the_cap_logged_at
    if time.monotonic() - _over_the_cap_logged_at >= 60:
        _over_the_cap_logged_at = time.monotonic()
        log.warning(
            "Over %s refused webhook requests this minute: the rest are answered but not kept.",
            settings.WEBHOOK_REJECTED_PER_MINUTE,
        )


def delivery_process(*, delivery_id, counted=False) -> str | None:
    """Apply one stored delivery. Safe to run twice, or twice at once; returns the final status.

    None: nothing to do, because it is done or another worker is processing it right now.
    """
    if not counted and not _count_attempt(delivery_id):
        return None
    try:
        with transaction.atomic():
            delivery = (
                WebhookDelivery.objects.select_for_update()
                .filter(pk=delivery_id, status__in=WebhookDelivery.REPLAYABLE)
                .first()
            )
            if delivery is None:
                return None
            webhook = _webhook_of(delivery)
            _claim(delivery, webhook)
            if change := _change_of(webhook):
                intake.item_apply_sentry(change=change)
            return Status.PROCESSED
    except DuplicateContent:
        WebhookDelivery.objects.filter(pk=delivery_id).update(
            status=Status.DUPLICATE, processed_at=timezone.now()
        )
        return Status.DUPLICATE
    except (OperationalError, InterfaceError):
        raise  # the database is unavailable: the task retries later
    except Exception as exc:
        log.exception("Delivery %s failed", delivery_id)
        _mark_failed(delivery_id, exc)
        return Status.FAILED


def deliveries_process(*, delivery_ids) -> dict:
    """Apply a batch of stored deliveries in one transaction; returns {id: final status}.

    Ids missing from the answer are held by another worker right now. When anything in the
    batch fails (a duplicate, a bad payload, a deadlock), it is rolled back and done one
    delivery at a time, which finds the culprit and marks it.
    """
    claimed = _count_attempts(delivery_ids)
    try:
        with transaction.atomic():
            return _apply_batch(claimed)
    except (OperationalError, InterfaceError) as exc:
        if not _is_conflict(exc):
            raise  # the database is unavailable: the task retries later
    except Exception:  # noqa: BLE001 -- redone one by one below, where each failure is recorded
        pass
    statuses = {
        delivery_id: delivery_process(delivery_id=delivery_id, counted=True) for delivery_id in claimed
    }
    return {delivery_id: status for delivery_id, status in statuses.items() if status is not None}


def _apply_batch(claimed):
    deliveries = list(
        WebhookDelivery.objects.select_for_update(skip_locked=True)
        .filter(pk__in=claimed, status__in=WebhookDelivery.REPLAYABLE)
        .order_by("pk")
    )
    webhooks = [_webhook_of(delivery) for delivery in deliveries]
    intake.items_apply_sentry(changes=[change for webhook in webhooks if (change := _change_of(webhook))])
    _mark_processed(deliveries, webhooks)
    return dict.fromkeys((delivery.pk for delivery in deliveries), Status.PROCESSED)


def _mark_processed(deliveries, webhooks):
    """One UPDATE for the batch; the unique index on processed dedupe keys refuses a second copy."""
    WebhookDelivery.objects.filter(pk__in=[delivery.pk for delivery in deliveries]).update(
        status=Status.PROCESSED, processed_at=timezone.now(), last_error=""
    )
    for delivery, webhook in zip(deliveries, webhooks, strict=True):
        if delivery.dedupe_key != webhook.dedupe_key:  # parsed differently since it was received
            _claim(delivery, webhook)


def _is_conflict(exc) -> bool:
    """A deadlock or serialization failure between two batches: retrying one by one resolves it."""
    return getattr(exc.__cause__, "sqlstate", "") in ("40P01", "40001")


def _count_attempts(delivery_ids) -> list:
    """Count the attempt in its own commit (it must survive a crash), skipping rows another worker holds."""
    with transaction.atomic():
        free = WebhookDelivery.objects.filter(pk__in=delivery_ids, status__in=WebhookDelivery.REPLAYABLE)
        ids = list(free.select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True))
        WebhookDelivery.objects.filter(pk__in=ids).update(attempts=F("attempts") + 1)
    return ids


def _count_attempt(delivery_id) -> bool:
    """Count the attempt in its own commit (it must survive a crash), unless another worker holds the row."""
    free = WebhookDelivery.objects.filter(pk=delivery_id, status__in=WebhookDelivery.REPLAYABLE)
    with transaction.atomic():
        return (
            WebhookDelivery.objects.filter(pk__in=free.select_for_update(skip_locked=True)).update(
                attempts=F("attempts") + 1
            )
            == 1
        )


def _webhook_of(delivery):
    sent_at = delivery.headers.get("Sentry-Hook-Timestamp", "")
    return parse_webhook(delivery.resource, parse_body(bytes(delivery.body)), sent_at=sent_at)


class DuplicateContent(Exception):
    """Another delivery with the same content was processed: roll back, mark this one duplicate."""


def _claim(delivery, webhook):
    """Mark processed first; the unique index on processed dedupe keys refuses a second copy.

    No savepoint: on a conflict the whole transaction is rolled back anyway.
    """
    try:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.PROCESSED,
            dedupe_key=webhook.dedupe_key,
            processed_at=timezone.now(),
            last_error="",
        )
    except IntegrityError:
        raise DuplicateContent from None


def _change_of(webhook: Webhook) -> SentryChange | None:
    """What the webhook tells triage. None for other resources (installation, comment, metric_alert, seer,
    ...): they are kept as delivered."""
    if not (webhook.issue or webhook.event):
        return None
    return SentryChange(
        issue=webhook.issue,
        event=webhook.event,
        action=webhook.action,
        at=webhook.snapshot_at,
        actor_label=webhook.actor_label,
        echo=_is_echo(webhook),
    )


def _is_echo(webhook: Webhook) -> bool:
    """Our own push coming back, or a state about to be overwritten by ours: told by what we pushed,
    never by the actor (Sentry names the receiving app as the actor of any app's change)."""
    return bool(webhook.issue) and SentrySync.objects.echoes(issue=webhook.issue, action=webhook.action)


def _mark_failed(delivery_id, exc):
    error = "".join(traceback.format_exception_only(exc)).strip() + "\n\n" + traceback.format_exc(limit=8)
    WebhookDelivery.objects.filter(pk=delivery_id).update(status=Status.FAILED, last_error=error[:10000])


def deliveries_requeue_stale(*, older_than=None) -> int:
    """Schedule a drain when deliveries wait too long (the broker was down, or a drain died)."""
    older_than = older_than or timedelta(seconds=settings.WEBHOOK_STALE_PENDING_SECONDS)
    stale = WebhookDelivery.objects.filter(status=Status.PENDING, received_at__lt=timezone.now() - older_than)
    count = stale.count()
    if count:
        drainer_wake(force=True)
    return count


def deliveries_replay(*, ids, synchronous=False) -> dict:
    """Put failed deliveries back to pending and process them again."""
    WebhookDelivery.objects.filter(pk__in=ids, status=Status.FAILED).update(status=Status.PENDING)
    if not synchronous:
        transaction.on_commit(lambda: drainer_wake(force=True))
        return dict.fromkeys(ids, "enqueued")
    return {delivery_id: delivery_process(delivery_id=delivery_id) for delivery_id in ids}
