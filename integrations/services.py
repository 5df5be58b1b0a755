"""Writes for webhook deliveries: store on receipt, process by id, re-enqueue what got stuck."""

import logging
import traceback
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from triage import services as triage_services

from .models import SentrySync, WebhookDelivery
from .sentry_payloads import Webhook, parse_body, parse_webhook

log = logging.getLogger(__name__)
Status = WebhookDelivery.Status


def delivery_receive(*, source, headers, body, webhook: Webhook | None, resource="", error="") -> WebhookDelivery:
    """Store an accepted request in one INSERT and enqueue it once the row is committed."""
    delivery = WebhookDelivery.objects.create(
        source=source,
        resource=webhook.resource if webhook else resource,
        action=webhook.action if webhook else "",
        request_id=headers.get("Request-Id", "")[:100],
        headers=headers,
        body=body,
        sentry_issue_id=webhook.issue_id if webhook else "",
        dedupe_key=webhook.dedupe_key if webhook else "",
        last_error=error,
    )
    delivery_enqueue(delivery_id=delivery.pk)
    return delivery


def delivery_reject(*, source, headers, body, resource, error) -> WebhookDelivery:
    """Keep a record of a request we refused, with a bounded body, for whoever debugs the setup."""
    return WebhookDelivery.objects.create(
        source=source, resource=resource[:50], headers=headers, body=body[:65536],
        status=Status.REJECTED, last_error=error,
    )


def delivery_enqueue(*, delivery_id):
    transaction.on_commit(lambda: _send_to_worker(delivery_id))


def _send_to_worker(delivery_id):
    from .tasks import process_delivery

    try:
        process_delivery.apply_async((delivery_id,), retry=False)
    except Exception as exc:  # the broker is down: the row is safe, beat re-enqueues it
        log.warning("Delivery %s stored but not enqueued (%s); it will be re-enqueued.", delivery_id, exc)


def delivery_process(*, delivery_id) -> str | None:
    """Apply one stored delivery. Safe to run twice, or twice at once; returns the final status."""
    WebhookDelivery.objects.filter(pk=delivery_id, status__in=WebhookDelivery.REPLAYABLE).update(
        attempts=F("attempts") + 1
    )
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
            if not _claim(delivery, webhook):
                return Status.DUPLICATE
            _apply(webhook)
            return Status.PROCESSED
    except (OperationalError, InterfaceError):
        raise  # the database is unavailable: the task retries later
    except Exception as exc:
        log.exception("Delivery %s failed", delivery_id)
        _mark_failed(delivery_id, exc)
        return Status.FAILED


def _webhook_of(delivery):
    sent_at = delivery.headers.get("Sentry-Hook-Timestamp", "")
    return parse_webhook(delivery.resource, parse_body(bytes(delivery.body)), sent_at=sent_at)


def _claim(delivery, webhook) -> bool:
    """Mark processed; the unique index on processed dedupe keys refuses a second copy."""
    try:
        with transaction.atomic():
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=Status.PROCESSED, dedupe_key=webhook.dedupe_key,
                processed_at=timezone.now(), last_error="",
            )
        return True
    except IntegrityError:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.DUPLICATE, processed_at=timezone.now())
        return False


def _apply(webhook: Webhook):
    if webhook.issue:
        # Our own push coming back as a user's change (user token), or one about to be overwritten by ours.
        echo = webhook.is_echo or SentrySync.objects.echoes(issue=webhook.issue, action=webhook.action)
        triage_services.item_apply_issue(
            issue=webhook.issue, action=webhook.action, actor_label=webhook.actor_label, echo=echo
        )
    elif webhook.event:
        triage_services.item_record_event(event=webhook.event, actor_label=webhook.actor_label)
    # Other resources (installation, comment, metric_alert, seer, ...) are kept as delivered.


def _mark_failed(delivery_id, exc):
    error = "".join(traceback.format_exception_only(exc)).strip() + "\n\n" + traceback.format_exc(limit=8)
    WebhookDelivery.objects.filter(pk=delivery_id).update(status=Status.FAILED, last_error=error[:10000])


def deliveries_requeue_stale(*, older_than=None, limit=500) -> int:
    """Re-enqueue pending deliveries that no worker picked up (e.g. the broker was down)."""
    older_than = older_than or timedelta(seconds=settings.WEBHOOK_STALE_PENDING_SECONDS)
    ids = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, received_at__lt=timezone.now() - older_than)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in ids:
        _send_to_worker(delivery_id)
    return len(ids)


def deliveries_replay(*, ids, synchronous=False) -> dict:
    """Put failed deliveries back to pending and process them again."""
    WebhookDelivery.objects.filter(pk__in=ids, status=Status.FAILED).update(status=Status.PENDING)
    results = {}
    for delivery_id in ids:
        if synchronous:
            results[delivery_id] = delivery_process(delivery_id=delivery_id)
        else:
            _send_to_worker(delivery_id)
            results[delivery_id] = "enqueued"
    return results
