"""Writes to triage items. Callers hand in facts; these functions decide what changes (status: lifecycle)."""

import json
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from . import bulk, lifecycle
from .facts import EventFacts, IssueFacts
from .grouping_keys import grouping_columns
from .lifecycle import SENTRY
from .lifecycle import activity_record as activity_record  # others still import these from here
from .lifecycle import ignore_condition_passed as ignore_condition_passed
from .lifecycle import item_wake as item_wake
from .locked_items import LockedItems
from .models import Occurrence, Service, TriageItem
from .ownership import item_assign_owning_team
from .runbook_links import item_link_runbook
from .sentry_state import snapshot_is_newer

SNAPSHOT_SLACK = timedelta(milliseconds=1)
Status = TriageItem.Status


def service_for_project(*, project_slug: str) -> Service:
    slug = slugify(project_slug)[:100] or "unknown"
    return bulk.looked_up(
        ("service", slug),
        lambda: Service.objects.get_or_create(  # once a batch of deliveries
            slug=slug, defaults={"name": project_slug or "unknown"}
        )[0],
    )


@transaction.atomic(savepoint=False)  # inside delivery processing, a failure rolls it all back anyway
def item_apply_issue(
    *,
    issue: IssueFacts,
    action: str,
    at: datetime | None = None,
    actor_label: str = SENTRY,
    echo: bool = False,
    items: LockedItems | None = None,
):
    """Apply an `issue` webhook whose snapshot Sentry took `at` (triage.sentry_state says which win).

    Figures refresh from any snapshot; Sentry's state and the item's own only from one newer than
    the item's. Echoes of the portal's own changes change no triage state.
    With `items`, the caller saves the item once its whole batch is applied.
    """
    at = at or issue.as_of or issue.last_seen
    batch = LockedItems() if items is None else items
    item, created = batch.get(issue.issue_id, lambda: _new_item_from_issue(issue))
    was_open, newer = item.is_open, created or snapshot_is_newer(item, at)
    if created:
        activity_record(item=item, verb="created", actor_label=actor_label, via=f"issue.{action}")
    else:
        _refresh_from_issue(item, issue)
    if newer:
        # A new item's timeline says "assigned" only when that is what the webhook is about.
        _take_sentry_state(
            item, issue, at, actor_label=actor_label, quiet=echo or (created and action != "assigned")
        )
    if newer and not echo:
        _apply_sentry_action(item, action=action, issue=issue, at=at, actor_label=actor_label)
    if created or (item.is_open and not was_open):
        item_link_runbook(item=item, actor_label=actor_label, reopened=not created)
    if items is None:
        batch.save()
    return item


@transaction.atomic(savepoint=False)
def item_record_event(
    *,
    event: EventFacts,
    at: datetime | None = None,
    actor_label: str = SENTRY,
    items: LockedItems | None = None,
):
    """Record one Sentry event, sent by Sentry `at`. Returns (item, occurrence_created); a known event changes
    nothing.

    With `items`, the caller saves the item once its whole batch is applied.
    """
    batch = LockedItems() if items is None else items
    item, created = batch.get(event.issue_id, lambda: _new_item_from_event(event))
    if not _occurrence_insert(item, event):
        return item, False
    was_open = item.is_open
    if _is_after_snapshot(item, event):
        item.event_count += 1
    item.last_seen = max(item.last_seen, event.timestamp)
    first_event = item.latest_event_at is None
    if first_event or event.timestamp >= item.latest_event_at:
        _take_latest_event(item, event)
    if first_event and item.team_id is None:
        item_assign_owning_team(item)  # rules may match on the stack and tags the first event brings
    if created:
        activity_record(
            item=item, verb="created", actor_label=actor_label, via="event", event_id=event.event_id
        )
    else:  # a resolved item may regress, an ignored one wake
        lifecycle.reopen_on_event(
            item,
            sent_at=at or event.timestamp,
            release=event.release,
            event_id=event.event_id,
            actor_label=actor_label,
        )
    reopened = not created and item.is_open and not was_open
    if created or first_event or reopened:  # a created-from-issue item learns its stack and tags now
        item_link_runbook(item=item, actor_label=actor_label, reopened=reopened)
    if items is None:
        batch.save()
    return item, True


def _new_item_from_issue(issue: IssueFacts) -> TriageItem:
    item = TriageItem(
        sentry_issue_id=issue.issue_id,
        issue_category=issue.issue_category,  # an issue's category never changes: read once
        service=service_for_project(project_slug=issue.project_slug),
        first_seen=issue.first_seen,
        last_seen=issue.last_seen,
        latest_event={"exception_type": issue.exception_type, "exception_value": issue.exception_value},
    )
    _refresh_from_issue(item, issue)  # Sentry's state follows, as from any newer snapshot
    item_assign_owning_team(item)
    return item


def _refresh_from_issue(item, issue: IssueFacts):
    item.short_id = issue.short_id or item.short_id
    item.title = issue.title or item.title
    item.culprit = issue.culprit or item.culprit
    item.level = issue.level or item.level
    item.platform = issue.platform or item.platform
    item.project_slug = issue.project_slug or item.project_slug
    item.sentry_url = issue.web_url or item.sentry_url
    if issue.issue_category != "error":  # "error" is also what a Sentry without issueCategory implies
        item.issue_category = issue.issue_category  # an item first made from an event, or before 0014
    # Deliveries can arrive out of order: figures only ever grow.
    item.first_seen = min(item.first_seen, issue.first_seen)
    item.last_seen = max(item.last_seen, issue.last_seen)
    if issue.count >= item.event_count:
        item.event_count, item.counted_until = issue.count, issue.last_seen
    item.user_count = max(item.user_count, issue.user_count)
    item.updated_at = timezone.now()


def _is_after_snapshot(item, event: EventFacts) -> bool:
    # Sentry's issue timestamps and event timestamps differ in rounding by up to a millisecond.
    return item.counted_until is None or event.timestamp > item.counted_until + SNAPSHOT_SLACK


def _new_item_from_event(event: EventFacts) -> TriageItem:
    # The owning team is set once the event is taken as the latest (it needs tags and frames).
    return TriageItem(
        sentry_issue_id=event.issue_id,
        title=event.title,
        culprit=event.culprit,
        issue_category=event.issue_category,
        level=event.level,
        platform=event.platform,
        project_slug=event.project_slug,
        service=service_for_project(project_slug=event.project_slug),
        first_seen=event.timestamp,
        last_seen=event.timestamp,
        sentry_url=event.web_url,
        sentry_status="unresolved",  # Sentry just saw an event of it: its issue is open
    )


def _occurrence_insert(item, event: EventFacts) -> bool:
    """Insert unless the event is known, in one statement (no savepoint): True when inserted."""
    row = {
        "event_id": event.event_id,
        "item_id": item.pk,
        "timestamp": event.timestamp,
        "received_at": timezone.now(),
        "environment": event.environment[:100],
        "release": event.release[:200],
        "level": event.level[:16],
        "exception_type": event.main_exception.type[:200],
        "exception_value": event.main_exception.value,
        "tags": json.dumps(event.tags),
        **grouping_columns(event),
    }
    columns = ", ".join(connection.ops.quote_name(name) for name in row)
    sql = (
        f"INSERT INTO {Occurrence._meta.db_table} ({columns}) VALUES ({', '.join(['%s'] * len(row))}) "
        "ON CONFLICT (event_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(row.values()))
        return cursor.rowcount == 1


def _take_latest_event(item, event: EventFacts):
    item.latest_event = event.summary()
    item.latest_event_at = event.timestamp
    item.tags = event.tags
    item.environment = event.environment or item.environment
    item.sentry_url = item.sentry_url or event.web_url
    item.updated_at = timezone.now()


def _take_sentry_state(item, issue: IssueFacts, at, *, actor_label, quiet):
    """Sentry's state as of a newer snapshot, whatever its action (a new issue can come assigned)."""
    if issue.assignee != item.sentry_assignee and not quiet:
        activity_record(item=item, verb="assigned", actor_label=actor_label, assignee=issue.assignee)
    item.sentry_assignee, item.sentry_assignee_info = issue.assignee, issue.assignee_info
    item.sentry_status, item.sentry_substatus, item.sentry_state_at = issue.status, issue.substatus, at


def _apply_sentry_action(item, *, action, issue: IssueFacts, at, actor_label):
    """What Sentry's action means for the item's status: triage.lifecycle says which moves apply."""
    if action == "resolved":
        lifecycle.resolve_from_sentry(item, issue, actor_label=actor_label)
    elif action in ("ignored", "archived"):
        lifecycle.ignore_from_sentry(item, issue, at, actor_label=actor_label)
    elif action == "unresolved":
        lifecycle.reopen_from_sentry(item, regressed=issue.substatus == "regressed", actor_label=actor_label)


def item_record_sentry_sync(*, item_id, state, error=""):
    """Remember how the last push to Sentry went; a failure also goes on the timeline."""
    TriageItem.objects.filter(pk=item_id).update(sentry_sync_state=state, sentry_sync_error=error[:2000])
    if state == "failed":
        item = TriageItem.objects.get(pk=item_id)
        activity_record(item=item, verb="sentry_sync_failed", actor_label="portal", error=error[:500])


def items_wake_expired_ignores(*, now=None) -> int:
    """Wake items ignored "until <time>" once the time has passed (events wake the others)."""
    ids = TriageItem.objects.filter(status=Status.IGNORED, ignore_condition__kind="until").values_list(
        "pk", flat=True
    )
    return sum(_wake_if_due(item_id, now) for item_id in list(ids))


@transaction.atomic
def _wake_if_due(item_id, now) -> bool:
    item = TriageItem.objects.select_for_update().get(pk=item_id)
    if not lifecycle.wake_if_due(item, now, actor_label="portal", reason="ignore period ended"):
        return False
    item_link_runbook(item=item, actor_label="portal", reopened=True)
    item.save()
    return True
