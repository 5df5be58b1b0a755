"""A triage item's life: every change of its status, and the statuses each change may start from.

People (triage.actions), Sentry (triage.services: its webhooks, events and the ignore periods that end)
and a done data fix (ops.resolution) all move an item through these functions, so which move is
allowed from where is one table, TRANSITIONS, instead of an `if` in each caller. A move the table
refuses changes nothing and returns False; no caller raises for it (none did before the table).

Each move writes the fields that go with its status (resolved_at, ignore_condition, woke_at, ...),
records its timeline entry and tells runbooks of a resolve or an unresolve. The caller saves the item
and tells Sentry: it knows who acted, and whether Sentry already knows.
"""

from datetime import datetime, timedelta

from django.utils import timezone

from . import bulk
from .facts import IssueFacts
from .models import Activity, Occurrence, TriageItem
from .runbook_links import item_runbook_reopened, item_runbook_resolved
from .sentry_state import ignore_condition_from_sentry

SENTRY = "Sentry"
Status = TriageItem.Status
EVERY = frozenset(Status)
OPEN = frozenset(TriageItem.OPEN_STATUSES)

# From which status each move may start: what the callers allowed when the moves came here (issue #13).
TRANSITIONS = {
    # People decide whatever the status; a decision made again replaces the last one.
    "triage": {Status.NEW},  # classifying a triaged, taken or closed item leaves its status alone
    "take": {Status.NEW, Status.TRIAGED},  # taking any other item only makes the person its owner
    "ignore": EVERY,
    "resolve": EVERY,
    "unresolve": EVERY,
    # Sentry. Resolved again, an item keeps its first resolve (its time, its runbook's resolve).
    "resolve_from_sentry": EVERY - {Status.RESOLVED},
    "ignore_from_sentry": EVERY,
    "reopen_from_sentry": EVERY - OPEN,
    "regress": {Status.RESOLVED},  # on an event: see regresses()
    "wake": {Status.IGNORED},  # on an event, or on time: see ignore_condition_passed()
    # A done data fix closes only an open item: an ignored one stays ignored.
    "resolve_by_data_fix": OPEN,
}


def allowed(transition, item) -> bool:
    return item.status in TRANSITIONS[transition]


def _move(item, transition, to) -> bool:
    """The one place an item's status is written, and only as TRANSITIONS allows."""
    if not allowed(transition, item):
        return False
    item.status = to
    return True


def activity_record(*, item, verb, actor=None, actor_label="", **data) -> Activity:
    """An entry on the item's timeline: inserted at once, or with its batch's others when the batch saves.

    Here because every move records one (triage.services, which most callers import it from, had it first).
    """
    return bulk.activity_add(Activity(item=item, verb=verb, actor=actor, actor_label=actor_label, data=data))


# --- People ------------------------------------------------------------------------------------------


def mark_triaged(item) -> bool:
    """Classified: a new item is triaged now. The first decision's time stays, whatever the status."""
    item.triaged_at = item.triaged_at or timezone.now()
    return _move(item, "triage", Status.TRIAGED)


def start_work(item) -> bool:
    """Taken: an item waiting for someone is in progress."""
    return _move(item, "take", Status.IN_PROGRESS)


def ignore(item, condition: dict, *, actor, note="") -> bool:
    """Ignored by a person until `condition` (triage.actions.IgnoreCondition.stored) passes."""
    if not _ignore(item, "ignore", condition):
        return False
    activity_record(item=item, verb="ignored", actor=actor, condition=condition, note=note)
    return True


def resolve(item, *, actor, note="", in_next_release=False) -> bool:
    if not _resolve(item, "resolve", release=_running_release(item) if in_next_release else ""):
        return False
    activity_record(item=item, verb="resolved", actor=actor, note=note, in_next_release=in_next_release)
    return True


def unresolve(item, *, actor) -> bool:
    """Back in the queue: triaged when it was classified, new otherwise."""
    if not _move(item, "unresolve", Status.TRIAGED if item.classification else Status.NEW):
        return False
    item.resolved_at, item.ignore_condition = None, {}
    item_runbook_reopened(item=item)
    activity_record(item=item, verb="unresolved", actor=actor)
    return True


# --- Sentry ------------------------------------------------------------------------------------------


def resolve_from_sentry(item, issue: IssueFacts, *, actor_label) -> bool:
    details = issue.status_details
    in_next_release = details.get("inNextRelease") or details.get("inRelease")
    if not _resolve(item, "resolve_from_sentry", release=_running_release(item) if in_next_release else ""):
        return False
    activity_record(
        item=item,
        verb="resolved",
        actor_label=actor_label,
        resolution_type=details.get("resolution_type", ""),
        status_details=details,
    )
    return True


def ignore_from_sentry(item, issue: IssueFacts, at, *, actor_label) -> bool:
    """Archived in Sentry: the item keeps Sentry's condition, so the portal wakes it if Sentry does not.

    Archived again the same way, it gets no second timeline entry.
    """
    condition = ignore_condition_from_sentry(issue, at)
    news = item.status != Status.IGNORED or condition["kind"] != item.ignore_condition.get("kind")
    if not _ignore(item, "ignore_from_sentry", condition):
        return False
    if news:
        activity_record(
            item=item,
            verb="ignored",
            actor_label=actor_label,
            condition=condition,
            substatus=issue.substatus,
            status_details=issue.status_details,
        )
    return True


def reopen_from_sentry(item, *, regressed, actor_label) -> bool:
    """Unresolved in Sentry: a closed item is new again. One still open, met first as regressed (its
    resolve came later, or never), only remembers when it regressed.
    """
    if _reopen(item, "reopen_from_sentry", regressed=regressed, actor_label=actor_label):
        return True
    if regressed and item.regressed_at is None:
        item.regressed_at = timezone.now()
    return False


def reopen_on_event(item, *, sent_at, release, event_id, actor_label) -> bool:
    """A new event regresses a resolved item, or wakes an ignored one (one status: at most one of them)."""
    if regress_if_due(item, sent_at, release, actor_label=actor_label, event_id=event_id):
        return True
    return wake_if_due(item, actor_label=actor_label, event_id=event_id)


def regress_if_due(item, sent_at, release, *, actor_label, event_id) -> bool:
    """Sentry regresses it too, as of the event (its unresolved webhook confirms): older snapshots
    no longer apply.
    """
    if not (allowed("regress", item) and regresses(item, sent_at, release)):
        return False
    _reopen(item, "regress", regressed=True, actor_label=actor_label, event_id=event_id, release=release)
    item.sentry_status, item.sentry_substatus = "unresolved", "regressed"
    item.sentry_state_at = max(item.sentry_state_at or sent_at, sent_at)
    return True


def regresses(item, sent_at, release) -> bool:
    """An event Sentry sent at `sent_at` from `release` reopens the resolved item, unless Sentry sent it
    before the snapshot that resolved it (Sentry had it then: a late delivery), or it was resolved "in
    the next release" and this is the release still running.
    """
    if item.sentry_state_at is not None and sent_at < item.sentry_state_at:
        return False
    return not item.resolved_in_release or (release or item.resolved_in_release) != item.resolved_in_release


def wake_if_due(item, now=None, *, actor_label, **data) -> bool:
    # The status first: a condition with a window costs a query.
    if not (allowed("wake", item) and ignore_condition_passed(item, now)):
        return False
    return item_wake(item, actor_label=actor_label, **data)


def item_wake(item, *, actor_label=SENTRY, **data) -> bool:
    """An ignored item whose condition passed comes back to the queue as new."""
    condition = item.ignore_condition
    if not _move(item, "wake", Status.NEW):
        return False
    item.woke_at, item.ignore_condition = timezone.now(), {}
    activity_record(item=item, verb="woke_up", actor_label=actor_label, condition=condition, **data)
    return True


def ignore_condition_passed(item, now=None) -> bool:
    condition, now = item.ignore_condition or {}, now or timezone.now()
    kind = condition.get("kind")
    if kind == "until":
        return datetime.fromisoformat(condition["until"]) <= now
    if kind in ("events", "users") and condition.get("window"):
        return _seen_within(item, kind, now - timedelta(minutes=condition["window"])) >= condition["count"]
    if kind == "events":
        return item.event_count - condition["baseline"] >= condition["count"]
    if kind == "users":
        return item.user_count - condition["baseline"] >= condition["count"]
    return False  # forever, or until escalating: Sentry says when it escalates


def _seen_within(item, kind, since) -> int:
    """Events the portal received from `since` on, or the users they came from (their `user` tag).

    One query, and only for an item ignored with a window (Sentry's "100 events in 60 minutes").
    """
    recent = Occurrence.objects.filter(item_id=item.pk, timestamp__gte=since)
    if kind == "events":
        return recent.count()
    return recent.filter(tags__has_key="user").values("tags__user").distinct().count()


# --- A done data fix (ops.resolution) ----------------------------------------------------------------


def resolve_by_data_fix(item, *, actor, data_fix, note) -> bool:
    if not _resolve(item, "resolve_by_data_fix"):
        return False
    activity_record(item=item, verb="resolved", actor=actor, data_fix=data_fix, note=note)
    return True


# --- What the moves share ----------------------------------------------------------------------------


def _resolve(item, transition, *, release="") -> bool:
    """Resolved now. With a `release`, only an event of another release regresses it (see regresses)."""
    if not _move(item, transition, Status.RESOLVED):
        return False
    item.resolved_at, item.resolved_in_release = timezone.now(), release
    item_runbook_resolved(item=item, at=item.resolved_at)
    return True


def _running_release(item) -> str:
    """Resolved "in the next release": the one the latest event came from is the last to have the bug."""
    return item.latest_event.get("release", "")


def _ignore(item, transition, condition) -> bool:
    if not _move(item, transition, Status.IGNORED):
        return False
    item.ignore_condition, item.woke_at = condition, None
    return True


def _reopen(item, transition, *, regressed, actor_label, **data) -> bool:
    """New again; the runbook link is made afresh by the caller (triage.runbook_links.item_link_runbook)."""
    if not _move(item, transition, Status.NEW):
        return False
    item.resolved_at, item.ignore_condition = None, {}
    if regressed:
        item.regressed_at = timezone.now()
    activity_record(item=item, verb="regressed" if regressed else "reopened", actor_label=actor_label, **data)
    return True
