"""Portal ⇄ Sentry: push people's changes to Sentry, and reconcile what Sentry changed while we were not
listening.

Push: triage's `item_changed_for_sentry` becomes a pending SentrySync row, and a task pushes it
by id (claim, PUT, record). Reconcile: page through Sentry's issues list and feed each issue
through the webhook intake path (a stored WebhookDelivery processed by delivery_process, which
hands it to triage.intake), whose dedupe keys make a second run change nothing. The sweep
(sweep.py) re-reads open items by id for changes that came with no event, through the same
lease and intake helpers.
"""

import json
import logging
import random
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from common.leases import attempt_claim
from triage import services as triage_services
from triage.models import TriageItem

from . import sentry_api
from .drain import task_publish
from .models import SentrySync, SyncCursor, WebhookDelivery
from .payload_values import PayloadError
from .sentry_payloads import parse_webhook
from .services import delivery_process

log = logging.getLogger(__name__)
PUSH_TASK = "integrations.tasks.push_to_sentry"
State = SentrySync.State
CLAIM_SECONDS = 60  # longer than one attempt can take (timeouts: 5 s to connect, 10 s to read)


# --- Push ----------------------------------------------------------------------------


def sync_on_item_changed(sender, *, item_id, change, actor_id=None, **kwargs):
    """Receiver of triage.signals.item_changed_for_sentry. The portal's change is committed: never raise into
    it."""
    if not sentry_api.configured():
        return
    try:
        sync_create(item_id=item_id, change=change, actor_id=actor_id)
    except Exception:
        log.exception("Could not queue the push of item %s's change %r to Sentry", item_id, change)


@transaction.atomic
def sync_create(*, item_id, change, actor_id=None) -> SentrySync:
    sync = SentrySync.objects.create(item_id=item_id, change=change, actor_id=actor_id)
    triage_services.item_record_sentry_sync(item_id=item_id, state="pending")
    transaction.on_commit(lambda: _send_to_worker(sync.pk))
    return sync


def _send_to_worker(sync_id, countdown=None):
    try:
        task_publish(PUSH_TASK, args=(sync_id,), countdown=countdown, retry=False)
    except Exception as exc:  # the broker is down: the row is safe, beat re-enqueues it
        log.warning("Sentry push %s stored but not enqueued (%s); it will be re-enqueued.", sync_id, exc)


def sync_push(*, sync_id) -> str | None:
    """Push one change to Sentry. Safe to run twice, or twice at once; returns the state it left, or None."""
    if not sentry_api.configured():
        return None
    sync = _claim(sync_id)
    if sync is None:
        return None  # sent, failed, not due yet, or another attempt is in flight
    if _is_superseded(sync):
        return _finish(sync, State.SUPERSEDED)
    try:
        sentry_api.update_issue(sync.item.sentry_issue_id, sync.change)
    except sentry_api.RetryableError as exc:
        return _retry_later(sync, exc)
    except sentry_api.SentryApiError as exc:
        return _fail(sync, str(exc))
    return _mark_sent(sync)


def _claim(sync_id) -> SentrySync | None:
    claimed = attempt_claim(SentrySync, pk=sync_id, pending_state=State.PENDING, seconds=CLAIM_SECONDS)
    return SentrySync.objects.select_related("item").get(pk=sync_id) if claimed else None


def _is_superseded(sync) -> bool:
    """A newer change to the same field wins: sending this one now would undo it in Sentry."""
    newer = SentrySync.objects.filter(item_id=sync.item_id, pk__gt=sync.pk)
    return any(sync.overlaps(other) for other in newer)


def _finish(sync, state, **fields) -> str | None:
    done = SentrySync.objects.filter(pk=sync.pk, state=State.PENDING).update(
        state=state, claimed_until=None, **fields
    )
    return state if done else None


def _mark_sent(sync) -> str | None:
    state = _finish(sync, State.SENT, sent_at=timezone.now(), last_error="")
    if state and not SentrySync.objects.filter(item_id=sync.item_id, state=State.PENDING).exists():
        triage_services.item_record_sentry_sync(item_id=sync.item_id, state="synced")
    return state


def _fail(sync, error) -> str | None:
    state = _finish(sync, State.FAILED, last_error=error[:10000])
    if state:
        triage_services.item_record_sentry_sync(item_id=sync.item_id, state="failed", error=error)
    return state


def _retry_later(sync, exc) -> str | None:
    if sync.attempts >= settings.SENTRY_SYNC_MAX_ATTEMPTS:
        return _fail(sync, f"{exc} (gave up after {sync.attempts} attempts)")
    delay = backoff_delay(sync.attempts, retry_after=exc.retry_after)
    SentrySync.objects.filter(pk=sync.pk, state=State.PENDING).update(
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        claimed_until=None,
        last_error=str(exc)[:10000],
    )
    _send_to_worker(sync.pk, countdown=delay)
    return State.PENDING


def backoff_delay(attempt, *, retry_after=None) -> float:
    """Seconds before the next try: exponential, jittered over its upper half, never before Retry-After."""
    base, cap = settings.SENTRY_SYNC_BACKOFF_SECONDS, settings.SENTRY_SYNC_BACKOFF_MAX_SECONDS
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return max(ceiling / 2 + random.uniform(0, ceiling / 2), retry_after or 0)


def syncs_requeue_stale(*, limit=500) -> int:
    """Re-enqueue pushes that were due a while ago and are not running (broker down, task lost)."""
    if not sentry_api.configured():
        return 0
    now = timezone.now()
    ids = list(
        SentrySync.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            state=State.PENDING,
            next_attempt_at__lt=now - timedelta(seconds=settings.SENTRY_SYNC_STALE_SECONDS),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for sync_id in ids:
        _send_to_worker(sync_id)
    return len(ids)


def sync_retry(*, item_id, actor_id=None) -> list[SentrySync]:
    """Queue again, as new pushes, the item's failed changes that no newer change to the same field
    overtook."""
    latest = {}
    for sync in SentrySync.objects.filter(item_id=item_id).order_by("-pk"):
        for field in sync.fields:
            latest.setdefault(field, sync)
    failed = sorted(
        {sync.pk: sync for sync in latest.values() if sync.state == State.FAILED}.values(),
        key=lambda sync: sync.pk,
    )
    return [sync_create(item_id=item_id, change=sync.change, actor_id=actor_id) for sync in failed]


# --- Reconcile -------------------------------------------------------------------------

RECONCILE_CURSOR = "sentry-issues"
LEASE_SECONDS = 600  # renewed after every page
RECONCILE_ACTIONS = {"resolved": "resolved", "ignored": "ignored", "unresolved": "unresolved"}


class ReconcileError(Exception):
    """The run stopped; the cursor stays where the last fully applied page left it."""


class ReconcileBusy(ReconcileError):
    """Another run holds the lease."""


@dataclass
class ReconcileResult:
    start: datetime
    end: datetime
    pages: int = 0
    issues: int = 0
    applied: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        window = f"{self.start.isoformat(timespec='seconds')} to {self.end.isoformat(timespec='seconds')}"
        return (
            f"{self.issues} issues seen from {window}, over {self.pages} pages: "
            f"{self.applied} applied, {self.unchanged} unchanged"
        )


def reconcile_run(*, since: datetime | None = None) -> ReconcileResult | None:
    """Apply the issues Sentry saw since the cursor (or `since`), page by page. One run at a time."""
    if not sentry_api.configured():
        return None
    with cursor_leased(name=RECONCILE_CURSOR, run="reconcile run") as (cursor, holder):
        return _run_pages(_window_open(cursor, holder, since), holder)


@contextmanager
def cursor_leased(*, name, run):
    """(cursor, holder) while this run holds the cursor row `name`; ReconcileBusy while another does."""
    holder = uuid.uuid4().hex
    cursor = _lease_take(name, holder)
    if cursor is None:
        raise ReconcileBusy(f"another {run} is in progress (it holds the lease)")
    try:
        yield cursor, holder
    finally:
        SyncCursor.objects.filter(name=name, lease_holder=holder).update(lease_holder="", lease_until=None)


def _lease_take(name, holder) -> SyncCursor | None:
    """Compare-and-set: the row is ours unless a live run holds it."""
    SyncCursor.objects.get_or_create(name=name)
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)  # nobody holds it, or its holder died
    taken = SyncCursor.objects.filter(free, name=name).update(
        lease_holder=holder, lease_until=now + timedelta(seconds=LEASE_SECONDS), updated_at=now
    )
    return SyncCursor.objects.get(name=name) if taken else None


def cursor_save(*, name, holder, **fields):
    """Save progress and renew the lease; a run that lost its lease stops before it writes anything else."""
    now = timezone.now()
    saved = SyncCursor.objects.filter(name=name, lease_holder=holder).update(
        lease_until=now + timedelta(seconds=LEASE_SECONDS), updated_at=now, **fields
    )
    if not saved:
        raise ReconcileError(f"lost the {name} lease to another run; stopping")


def _window_open(cursor, holder, since) -> SyncCursor:
    """Resume an interrupted run where its last applied page left it, or open a new window up to now."""
    if since is None and cursor.run_in_progress:
        return cursor
    now = timezone.now()
    if since is None:
        last = cursor.position or now - timedelta(seconds=settings.SENTRY_RECONCILE_FIRST_LOOKBACK_SECONDS)
        since = last - timedelta(seconds=settings.SENTRY_RECONCILE_OVERLAP_SECONDS)  # late events, clock skew
    _save_cursor(holder, window_start=since, window_end=now, page="")
    return SyncCursor.objects.get(name=RECONCILE_CURSOR)


def _run_pages(cursor, holder) -> ReconcileResult:
    result = ReconcileResult(start=cursor.window_start, end=cursor.window_end)
    page = cursor.page
    while True:
        listing = sentry_api.list_issues(start=result.start, end=result.end, cursor=page)
        _apply_issues(listing.issues, result)
        result.pages += 1
        page = listing.next_cursor
        if not page:
            break
        _save_cursor(holder, page=page)
    position = max(moment for moment in (cursor.position, cursor.window_end) if moment)
    _save_cursor(holder, position=position, window_start=None, window_end=None, page="")
    return result


def _save_cursor(holder, **fields):
    cursor_save(name=RECONCILE_CURSOR, holder=holder, **fields)


def _apply_issues(issues, result):
    """Apply one page through the intake path. Every issue is read first: a bad one stops the page
    untouched."""
    for webhook, body in _as_deliveries(issues):
        applied = issue_apply(webhook, body) == WebhookDelivery.Status.PROCESSED
        result.issues += 1
        result.applied += applied
        result.unchanged += not applied


def issue_apply(webhook, body, headers=None) -> str:
    """Store the issue as a delivery and process it now, as a webhook would be; its final status."""
    if _already_applied(webhook):
        return WebhookDelivery.Status.DUPLICATE
    delivery = WebhookDelivery.objects.create(
        source="reconcile",
        resource="issue",
        action=webhook.action,
        body=body,
        headers=headers or {},
        sentry_issue_id=webhook.issue_id,
        dedupe_key=webhook.dedupe_key,
    )
    status = delivery_process(delivery_id=delivery.pk)
    if status == WebhookDelivery.Status.FAILED:
        raise ReconcileError(
            f"delivery #{delivery.pk} (issue {webhook.issue_id}) failed; its last_error says why"
        )
    return status


def _already_applied(webhook) -> bool:
    keys = {webhook.dedupe_key}
    if webhook.action == "unresolved":  # an issue we first met as "created" comes back as "unresolved"
        keys.add(replace(webhook, action="created").dedupe_key)
    return WebhookDelivery.objects.filter(
        dedupe_key__in=keys, status=WebhookDelivery.Status.PROCESSED
    ).exists()


def _as_deliveries(issues):
    known = set(
        TriageItem.objects.filter(sentry_issue_id__in=[str(issue.get("id")) for issue in issues]).values_list(
            "sentry_issue_id", flat=True
        )
    )
    return [issue_as_delivery(issue, action=_action_for(issue, known)) for issue in issues]


def issue_as_delivery(issue, *, action, sent_at="") -> tuple:
    """Sentry's API issue as the issue webhook `action` would bring it: (Webhook, body)."""
    payload = {"action": action, "data": {"issue": issue}}
    try:
        webhook = parse_webhook("issue", payload, sent_at=sent_at)
    except PayloadError as exc:
        raise ReconcileError(f"Sentry's issue {issue.get('id')!r} is not readable: {exc}") from None
    return webhook, json.dumps(payload, separators=(",", ":")).encode()


def _action_for(issue, known) -> str:
    """The webhook action this state would have come with; "refreshed" only updates figures."""
    action = RECONCILE_ACTIONS.get(issue.get("status"))
    if str(issue.get("id")) not in known and action in (None, "unresolved"):
        return "created"
    return action or "refreshed"
