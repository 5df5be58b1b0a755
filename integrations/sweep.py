"""Sweep: re-read by id the Sentry state of every item that can still change, and apply what differs.

Reconcile (sentry_sync.reconcile_run) reads the issues that had events in its window: one resolved,
ignored or reassigned in Sentry with no new event while the portal was not listening is not in it.
The sweep asks Sentry about the portal's open items, and those resolved or ignored in the last
SENTRY_SWEEP_CLOSED_DAYS, a batch of ids a request, in id order. An item whose Sentry state
(status, substatus, assignee) differs goes through the intake path as reconcile's issues do; an
unchanged one writes nothing. An issue Sentry leaves out (deleted, or merged into another) is left
as it is and counted: its absence says nothing about its status.

Its SyncCursor row: `window_end` is when the run began (set while a run is in progress),
`window_start` the oldest close it includes, `page` the last item id done, `position` when the
last full sweep ended. An interrupted run resumes after the last batch done.

Pacing: a pause between requests, longer as Sentry's X-Sentry-Rate-Limit-Remaining runs low (until
its window resets once only the reserve is left); a 429's Retry-After is waited out when short, else
the run stops and the next resumes at the refused batch.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from triage.models import Activity, TriageItem

from . import sentry_api
from .models import SyncCursor, WebhookDelivery
from .sentry_sync import (
    RECONCILE_ACTIONS,
    ReconcileError,
    cursor_leased,
    cursor_save,
    issue_apply,
    issue_as_delivery,
)

log = logging.getLogger(__name__)
SWEEP_CURSOR = "sentry-sweep"
CLOSED_VERBS = ("resolved", "ignored")
REFUSALS_PER_BATCH = 3  # 429s in a row for one batch before the run stops and leaves it to the next
DEFAULT_RETRY_AFTER = 60.0  # a 429 that says neither Retry-After nor when its window resets
MISSING_SHOWN = 20


@dataclass
class SweepResult:
    requests: int = 0
    items: int = 0
    answered: int = 0
    applied: int = 0
    skipped: int = 0  # ids Sentry cannot be asked about (its ids are numbers)
    missing: list = field(default_factory=list)  # asked for, not answered: deleted or merged in Sentry
    unreadable: list = field(default_factory=list)  # answered in a shape the intake refuses: left as they are
    waited: float = 0.0
    stopped: str = ""  # why the run ended before the last item ("" when it finished)

    @property
    def unchanged(self) -> int:
        return self.answered - self.applied - len(self.unreadable)

    def summary(self) -> str:
        shown = ", ".join(self.missing[:MISSING_SHOWN]) + (
            ", ..." if len(self.missing) > MISSING_SHOWN else ""
        )
        text = (
            f"{self.items} items in {self.requests} requests to Sentry: {self.applied} applied, "
            f"{self.unchanged} unchanged, {len(self.missing)} not in Sentry"
            + (f" ({shown})" if shown else "")
            + f", {len(self.unreadable)} unreadable, {self.skipped} skipped; waited {self.waited:.1f} s"
        )
        return text + (f"; stopped: {self.stopped}" if self.stopped else "")


def sweep_run() -> SweepResult | None:
    """One sweep over the items, or the rest of an interrupted one. One run at a time."""
    if not sentry_api.configured():
        return None
    with cursor_leased(name=SWEEP_CURSOR, run="sweep") as (cursor, holder):
        return _sweep(_run_open(cursor, holder), holder)


def _run_open(cursor, holder) -> SyncCursor:
    if cursor.run_in_progress:
        return cursor
    now = timezone.now()
    closed_since = now - timedelta(days=settings.SENTRY_SWEEP_CLOSED_DAYS)
    cursor_save(name=SWEEP_CURSOR, holder=holder, window_start=closed_since, window_end=now, page="")
    return SyncCursor.objects.get(name=SWEEP_CURSOR)


def _sweep(cursor, holder) -> SweepResult:
    result, pacer = SweepResult(), Pacer()
    after = int(cursor.page or 0)
    while batch := sweep_items_list(after_id=after, closed_since=cursor.window_start, limit=_batch_size()):
        if not _sweep_batch(batch, run=cursor.window_end, pacer=pacer, result=result):
            return result
        after = batch[-1][0]
        cursor_save(name=SWEEP_CURSOR, holder=holder, page=str(after))
    cursor_save(
        name=SWEEP_CURSOR, holder=holder, position=timezone.now(), window_start=None, window_end=None, page=""
    )
    return result


def _batch_size() -> int:
    return max(1, min(settings.SENTRY_SWEEP_BATCH_SIZE, sentry_api.MAX_IDS))


def sweep_items_list(*, after_id, closed_since, limit) -> list[tuple[int, str]]:
    """(pk, issue id) of the next items after `after_id`: open, or resolved or ignored since
    `closed_since`."""
    closed_lately = Exists(
        Activity.objects.filter(item=OuterRef("pk"), verb__in=CLOSED_VERBS, created_at__gte=closed_since)
    )
    due = Q(status__in=TriageItem.OPEN_STATUSES) | Q(closed_lately)
    return list(
        TriageItem.objects.filter(due, pk__gt=after_id)
        .order_by("pk")
        .values_list("pk", "sentry_issue_id")[:limit]
    )


def _sweep_batch(batch, *, run, pacer, result) -> bool:
    """Read one batch from Sentry and apply what differs; False when the run must stop before it."""
    asked = [issue_id for _, issue_id in batch if issue_id.isdigit()]
    issues = _fetch(asked, pacer, result) if asked else []
    if issues is None:
        return False
    answered = {str(issue["id"]): issue for issue in issues}
    missing = [issue_id for issue_id in asked if issue_id not in answered]
    if missing:
        log.warning(
            "Sentry does not know issues %s (deleted or merged): their items are left as they are",
            ", ".join(missing),
        )
    _apply_differences(answered, run=run, result=result)
    result.items += len(batch)
    result.answered += len(answered)
    result.skipped += len(batch) - len(asked)
    result.missing += missing
    return True


def _fetch(issue_ids, pacer, result) -> list | None:
    """The batch's issues, waiting as Sentry asks; None when it asks for longer than the run waits."""
    for _ in range(REFUSALS_PER_BATCH):
        if not pacer.wait(result):
            return None
        result.requests += 1
        try:
            answer = sentry_api.issues_by_ids(issue_ids)
        except sentry_api.RetryableError as exc:
            if exc.status != 429:
                raise
            pacer.refused(exc.retry_after)
            continue
        pacer.answered(answer.rate_limit)
        return answer.issues
    result.stopped = f"Sentry refused {REFUSALS_PER_BATCH} requests in a row (429); the next run resumes here"
    return None


def _apply_differences(answered, *, run, result):
    """Apply, through the intake path, the issues whose state differs from their item's."""
    sent_at = f"sweep {run.isoformat()}"  # in the dedupe key: a state an earlier run applied applies again
    headers = {"Sentry-Hook-Timestamp": sent_at}
    done = {
        pk
        for pk, webhook, body in _plan(answered, sent_at=sent_at, result=result)
        if issue_apply(webhook, body, headers) == WebhookDelivery.Status.PROCESSED
    }
    result.applied += len(done)


def _plan(answered, *, sent_at, result) -> list[tuple]:
    """(item pk, Webhook, body) for each change, from the items as they are now (after Sentry answered)."""
    plan = []
    for item in TriageItem.objects.filter(sentry_issue_id__in=answered).order_by("pk"):
        issue = answered[item.sentry_issue_id]
        try:
            plan += [
                (item.pk, *issue_as_delivery(issue, action=action, sent_at=sent_at))
                for action in _changes(issue, item)
            ]
        except ReconcileError as exc:  # one unreadable issue must not hold the whole sweep back
            log.warning("Sweep leaves item %s as it is: %s", item.pk, exc)
            result.unreadable.append(item.sentry_issue_id)
    return plan


def _changes(issue, item) -> list[str]:
    """The webhook actions that would bring the item to Sentry's state: status first, then assignee."""
    webhook, _ = issue_as_delivery(issue, action="refreshed")
    facts, actions = webhook.issue, []
    if (facts.status, facts.substatus) != (item.sentry_status, item.sentry_substatus):
        actions.append(RECONCILE_ACTIONS.get(facts.status, "refreshed"))
    if facts.assignee != item.sentry_assignee:
        actions.append("assigned")
    return actions


class Pacer:
    """When the next request may go: a pause after each answer, spread out as Sentry's window runs low."""

    def __init__(self):
        self.not_before = 0.0

    def answered(self, rate_limit):
        pause = settings.SENTRY_SWEEP_PAUSE_SECONDS
        if rate_limit.remaining is not None and rate_limit.reset_at is not None:
            until_reset = max(rate_limit.reset_at - time.time(), 0.0)
            spare = rate_limit.remaining - settings.SENTRY_SWEEP_RATE_LIMIT_RESERVE
            pause = max(pause, until_reset if spare <= 0 else until_reset / spare)
        self.not_before = time.time() + pause

    def refused(self, retry_after):
        self.not_before = time.time() + (DEFAULT_RETRY_AFTER if retry_after is None else retry_after)

    def wait(self, result) -> bool:
        """Sleep until the next request may go; False, and the run stops, if that is too long to wait here."""
        delay = self.not_before - time.time()
        if delay > settings.SENTRY_SWEEP_MAX_WAIT_SECONDS:
            result.stopped = f"Sentry asks to wait {delay:.0f} s; the next run resumes here"
            return False
        if delay > 0:
            time.sleep(delay)
            result.waited += delay
        return True
