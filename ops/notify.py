"""Notifications: planned as keyed rows inside the change's transaction, sent one by one by a task.

The unique key is the exactly-once guard: planning the same notification twice inserts nothing,
and only one attempt at a time may claim a row (compare-and-set on its lease). A failing channel
is retried with exponential backoff and jitter, then marked failed; other channels are other rows.
Any other exception marks the attempt failed at once; ops resend a failed row from the request page.
Errors are stored redacted (common.redaction): a webhook's URL is its secret.
"""

import logging
import random
import time
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation

from common.leases import attempt_claim
from common.notifiers import EmailNotifier, NotifierError, SignedWebhookNotifier, SlackNotifier
from common.redaction import redact

from .languages import notification_language
from .messages import message_for
from .models import DataFixEvent, Notification, NotificationAttempt
from .recipients import Recipients

log = logging.getLogger(__name__)
Channel, NState = Notification.Channel, Notification.State
CLAIM_SECONDS = 60  # longer than one try can take (the HTTP timeout, a slow mail server)
STALE_SECONDS = 60  # a notification due this long ago and not running is re-enqueued by beat
OPS_WIDE_EVENTS = ("created", "escalated")
SEND_TASK = "ops.tasks.send_notification"  # ops.tasks registers send_notification under this name


def notifications_plan(*, requests, event, levels=None) -> list[int]:
    """Insert the notifications `event` causes for these requests (known keys are skipped); send after
    commit."""
    recipients = Recipients(requests)
    rows = [
        row
        for index, request in enumerate(requests)
        for row in _rows(request, event, (levels or {}).get(index, 0), recipients)
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = (
        list(
            Notification.objects.filter(
                key__in=[row.key for row in rows], state=NState.PENDING, attempts=0
            ).values_list("pk", flat=True)
        )
        if rows
        else []
    )
    notifications_enqueue(ids=ids)
    return ids


def _rows(request, event, level, recipients) -> list[Notification]:
    channels = []
    if settings.OPS_SLACK_WEBHOOK_URL and event in OPS_WIDE_EVENTS:
        channels.append((Channel.SLACK, []))
    if settings.OPS_WEBHOOK_URL:
        channels.append((Channel.WEBHOOK, []))
    if emails := recipients.emails(request, event, level):
        channels.append((Channel.EMAIL, emails))
    return [
        Notification(
            request=request,
            key=notification_key(request.pk, event, level, channel),
            channel=channel,
            event=event,
            level=level,
            recipients=emails,
        )
        for channel, emails in channels
    ]


def notification_key(request_id, event, level, channel) -> str:
    return f"datafix:{request_id}:{event}{f':{level}' if level else ''}:{channel}"


def notifications_enqueue(*, ids, countdown=None):
    transaction.on_commit(lambda: [_send_to_worker(pk, countdown) for pk in ids])


def _send_to_worker(notification_id, countdown=None):
    """The one way a notification reaches the worker: a message to the task by its name, so that the
    sending code needs nothing from ops.tasks (which imports this module to run the send)."""
    try:
        current_app.send_task(SEND_TASK, (notification_id,), countdown=countdown, retry=False)
    except Exception as exc:  # the broker is down: the row is safe and beat re-enqueues it
        log.warning(
            "Notification %s stored but not enqueued (%s); it will be re-enqueued.", notification_id, exc
        )


# --- Sending ---------------------------------------------------------------------------------


def notification_send(*, notification_id) -> str | None:
    """Send one notification. Safe to run twice, or twice at once; returns the state it left, or None."""
    notification = _claim(notification_id)
    if notification is None:
        return None  # sent, failed, not due yet, or another attempt holds it
    started, started_at = time.monotonic(), timezone.now()
    try:
        with translation.override(notification_language(notification)):
            message = message_for(notification)
        transport_for(notification).send(message)
    except Exception as exc:  # any failure is this attempt's: the row never stays claimed behind an exception
        error = error_text(exc)
        _record_attempt(notification, started, started_at, error=error)
        return _retry_or_fail(notification, exc, error)
    _record_attempt(notification, started, started_at)
    return _finish(notification, NState.SENT, sent_at=timezone.now(), last_error="")


def error_text(exc) -> str:
    """What is stored and shown of a failure, redacted; an error that is not a channel's says its type."""
    if isinstance(exc, NotifierError):
        return redact(str(exc))
    log.error("Notification attempt failed on an unexpected %s", type(exc).__name__, exc_info=exc)
    return redact(f"{type(exc).__name__}: {exc}")


def _claim(notification_id) -> Notification | None:
    if not attempt_claim(
        Notification, pk=notification_id, pending_state=NState.PENDING, seconds=CLAIM_SECONDS
    ):
        return None
    related = (
        "request",
        "request__item",
        "request__item__service",
        "request__item__team",
        "request__requested_by",
    )
    return Notification.objects.select_related(*related).get(pk=notification_id)


def transport_for(notification):
    timeout = settings.OPS_NOTIFY_TIMEOUT_SECONDS
    if notification.channel == Channel.SLACK and settings.OPS_SLACK_WEBHOOK_URL:
        return SlackNotifier(settings.OPS_SLACK_WEBHOOK_URL, timeout=timeout)
    if notification.channel == Channel.WEBHOOK and settings.OPS_WEBHOOK_URL:
        return SignedWebhookNotifier(
            settings.OPS_WEBHOOK_URL, secret=settings.OPS_WEBHOOK_SECRET, timeout=timeout
        )
    if notification.channel == Channel.EMAIL:
        return EmailNotifier(notification.recipients)
    raise NotifierError(f"the {notification.channel} channel is no longer configured", retryable=False)


def _record_attempt(notification, started, started_at, error=""):
    NotificationAttempt.objects.create(
        notification=notification,
        started_at=started_at,
        ok=not error,
        duration_ms=int((time.monotonic() - started) * 1000),
        error=error[:2000],
    )


def _finish(notification, state, **fields) -> str | None:
    done = Notification.objects.filter(pk=notification.pk, state=NState.PENDING).update(
        state=state, claimed_until=None, **fields
    )
    return state if done else None


def _retry_or_fail(notification, exc, error) -> str | None:
    """A channel's passing trouble is tried again later; anything else (a 4xx, our bug) fails now, for a
    resend."""
    if not getattr(exc, "retryable", False) or notification.attempts >= settings.OPS_NOTIFY_MAX_ATTEMPTS:
        tries = notification.attempts
        return _fail(notification, f"{error} (after {tries} {'try' if tries == 1 else 'tries'})")
    delay = backoff_delay(notification.attempts)
    Notification.objects.filter(pk=notification.pk, state=NState.PENDING).update(
        next_attempt_at=timezone.now() + timedelta(seconds=delay), claimed_until=None, last_error=error[:2000]
    )
    _send_to_worker(notification.pk, countdown=delay)
    return NState.PENDING


def _fail(notification, error) -> str | None:
    with transaction.atomic():
        state = _finish(notification, NState.FAILED, last_error=error[:2000])
        if state:
            DataFixEvent.objects.create(
                request_id=notification.request_id,
                verb="notification_failed",
                note=error,
                data={"notification": notification.pk, "channel": notification.channel},
            )
    return state


def backoff_delay(attempt) -> float:
    """Seconds before the next try: exponential, jittered over its upper half so retries spread out."""
    base, cap = settings.OPS_NOTIFY_BACKOFF_SECONDS, settings.OPS_NOTIFY_BACKOFF_MAX_SECONDS
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def notifications_requeue_stale(*, limit=500) -> int:
    """Re-enqueue notifications due a while ago and not running (the broker was down, a task was lost)."""
    now = timezone.now()
    ids = list(
        Notification.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            state=NState.PENDING,
            next_attempt_at__lt=now - timedelta(seconds=STALE_SECONDS),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for notification_id in ids:
        _send_to_worker(notification_id)
    return len(ids)
