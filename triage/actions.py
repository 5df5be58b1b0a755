"""What people do to items: classify, take, assign, ignore, resolve, unresolve, comment, runbook feedback.

Each function checks permission, changes the item (its status only through triage.lifecycle),
records an Activity, and tells Sentry (through `item_changed_for_sentry`, after commit) when
Sentry should know.
"""

import functools
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import lifecycle
from .lifecycle import activity_record
from .models import TriageItem
from .permissions import can_change_item, can_comment, change_denied_reason
from .runbook_links import item_runbook_decided, item_runbook_helped
from .signals import item_changed_for_sentry

Classification = TriageItem.Classification
IGNORING_CLASSIFICATIONS = (Classification.NOISE, Classification.DUPLICATE)


def _on_locked_item(action):
    """Run `action` on the item as it is now, its row locked until the change commits.

    The page that sent the action was read seconds ago, and the worker may have recorded
    events, a regression or a wake-up since: saving that older copy would undo them.
    """

    @functools.wraps(action)
    def on_locked_item(*, item, **kwargs):
        with transaction.atomic():
            item.refresh_from_db(from_queryset=TriageItem.objects.select_for_update())
            return action(item=item, **kwargs)

    return on_locked_item


@dataclass(frozen=True)
class IgnoreCondition:
    """Sentry's archive options: forever, until a time, until N more events or N more users."""

    until: datetime | None = None
    events: int | None = None
    users: int | None = None

    def __post_init__(self):
        given = [v for v in (self.until, self.events, self.users) if v is not None]
        if len(given) > 1:
            raise ValidationError(_("Choose one ignore condition: until, until_events or until_users."))
        if any(isinstance(v, int) and v < 1 for v in given):
            raise ValidationError(_("An ignore count must be at least 1."))
        if self.until is not None and self.until <= timezone.now():
            raise ValidationError(_("`until` must be in the future."))

    def stored(self, item) -> dict:
        if self.until is not None:
            return {"kind": "until", "until": self.until.isoformat()}
        if self.events is not None:
            return {"kind": "events", "count": self.events, "baseline": item.event_count}
        if self.users is not None:
            return {"kind": "users", "count": self.users, "baseline": item.user_count}
        return {"kind": "forever"}

    def for_sentry(self) -> dict:
        if self.until is not None:
            minutes = max(1, int((self.until - timezone.now()).total_seconds() // 60))
            return {"status": "ignored", "statusDetails": {"ignoreDuration": minutes}}
        if self.events is not None:
            return {"status": "ignored", "statusDetails": {"ignoreCount": self.events}}
        if self.users is not None:
            return {"status": "ignored", "statusDetails": {"ignoreUserCount": self.users}}
        return {"status": "ignored", "substatus": "archived_forever"}


@_on_locked_item
def item_classify(*, item, user, classification, note="", duplicate_of=None):
    _require_change(user, item)
    if classification not in Classification.values:
        raise ValidationError(_("Unknown classification %(value)r.") % {"value": classification})
    if classification == Classification.DUPLICATE and (duplicate_of is None or duplicate_of.pk == item.pk):
        raise ValidationError(_("A duplicate needs `duplicate_of`: another item."))
    item.classification, item.duplicate_of = classification, duplicate_of
    item.pinned_note = note or item.pinned_note
    lifecycle.mark_triaged(item)
    item_runbook_decided(item=item)  # pins the runbook's current version: "handled with v3"
    activity_record(
        item=item,
        verb="classified",
        actor=user,
        classification=classification,
        note=note,
        duplicate_of=duplicate_of.pk if duplicate_of else None,
    )
    if classification in IGNORING_CLASSIFICATIONS:
        _ignore(item, user, IgnoreCondition(), note)
    item.save()
    return item


@_on_locked_item
def item_take(*, item, user):
    _require_change(user, item)
    item.owner = user
    lifecycle.start_work(item)
    activity_record(item=item, verb="took", actor=user)
    item.save()
    _tell_sentry(item, user, {"assignedTo": _sentry_actor(user)})
    return item


@_on_locked_item
def item_assign(*, item, user, owner):
    _require_change(user, item)
    item.owner = owner
    activity_record(item=item, verb="assigned", actor=user, assignee=owner.get_username() if owner else None)
    item.save()
    _tell_sentry(item, user, {"assignedTo": _sentry_actor(owner) if owner else ""})
    return item


@_on_locked_item
def item_ignore(*, item, user, condition: IgnoreCondition, note=""):
    _require_change(user, item)
    _ignore(item, user, condition, note)
    item.save()
    return item


@_on_locked_item
def item_resolve(*, item, user, note="", in_next_release=False):
    _require_change(user, item)
    lifecycle.resolve(item, actor=user, note=note, in_next_release=in_next_release)
    item.save()
    details = {"statusDetails": {"inNextRelease": True}} if in_next_release else {}
    _tell_sentry(item, user, {"status": "resolved", **details})
    return item


@_on_locked_item
def item_unresolve(*, item, user):
    _require_change(user, item)
    lifecycle.unresolve(item, actor=user)
    item.save()
    _tell_sentry(item, user, {"status": "unresolved"})
    return item


@_on_locked_item
def item_runbook_feedback(*, item, user, helped: bool):
    """Whether the linked runbook helped; it counts in the runbook's usefulness figures."""
    _require_change(user, item)
    item_runbook_helped(item=item, helped=helped)
    activity_record(
        item=item,
        verb="runbook_feedback",
        actor=user,
        helped=helped,
        slug=item.runbook.slug,
        title=item.runbook.title,
    )
    item.save()
    return item


def item_comment(*, item, user, body):
    if not can_comment(user):
        raise PermissionDenied(_("Log in to comment."))
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("A comment needs a body."))
    return activity_record(item=item, verb="commented", actor=user, body=body[:10000])


def _ignore(item, user, condition, note):
    item.pinned_note = note or item.pinned_note
    lifecycle.ignore(item, condition.stored(item), actor=user, note=note)
    _tell_sentry(item, user, condition.for_sentry())


def _require_change(user, item):
    if not can_change_item(user, item):
        raise PermissionDenied(change_denied_reason(item))


def _sentry_actor(user):
    return user.email or user.get_username()


def _tell_sentry(item, user, change):
    transaction.on_commit(
        lambda: item_changed_for_sentry.send_robust(
            sender=TriageItem, item_id=item.pk, change=change, actor_id=user.pk
        )
    )


def item_perform(*, item, user, action, data):
    """Run one named action with already-validated input (API, bulk and pages share this)."""
    if action == "classify":
        return item_classify(
            item=item,
            user=user,
            classification=data["classification"],
            note=data.get("note", ""),
            duplicate_of=data.get("duplicate_of"),
        )
    if action == "assign":
        return item_assign(item=item, user=user, owner=data["owner"])
    if action == "ignore":
        condition = IgnoreCondition(
            until=data.get("until"), events=data.get("until_events"), users=data.get("until_users")
        )
        return item_ignore(item=item, user=user, condition=condition, note=data.get("note", ""))
    if action == "resolve":
        return item_resolve(
            item=item,
            user=user,
            note=data.get("note", ""),
            in_next_release=data.get("in_next_release", False),
        )
    if action == "runbook_feedback":
        return item_runbook_feedback(item=item, user=user, helped=data["helped"])
    simple = {"take": item_take, "unresolve": item_unresolve}
    return simple[action](item=item, user=user)
