"""Writes to data-fix requests: file one, move it through its states, resend a failed notification.

Every change locks the request's row, checks who may and what the state allows (PermissionDenied
→ 403, TransitionNotAllowed → 409), appends to the audit log and to the item's timeline, and
records the notifications it causes in the same transaction (they are sent after commit).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from triage.models import TriageItem
from triage.services import activity_record

from . import permissions
from .models import DataFixEvent, DataFixRequest, Notification
from .notify import notifications_enqueue, notifications_plan
from .resolution import item_resolve_if_policy
from .sla import sla_deadline

State, Urgency = DataFixRequest.State, DataFixRequest.Urgency
# name → (state it leads to, states it may start from, past tense for messages)
TRANSITIONS = {
    "acknowledge": (
        State.ACKNOWLEDGED,
        (State.REQUESTED,),
        _("This request is %(state)s: it can no longer be acknowledged."),
    ),
    "complete": (
        State.DONE,
        (State.ACKNOWLEDGED,),
        _("This request is %(state)s: it can no longer be completed."),
    ),
    "reject": (
        State.REJECTED,
        (State.REQUESTED, State.ACKNOWLEDGED),
        _("This request is %(state)s: it can no longer be rejected."),
    ),
    "cancel": (
        State.CANCELLED,
        (State.REQUESTED,),
        _("This request is %(state)s: it can no longer be cancelled."),
    ),
}
NOTE_REQUIRED = {"complete": _("Say the result."), "reject": _("Say the reason.")}
MAX_TEXT = 10_000


class TransitionNotAllowed(Exception):
    """The request's (or item's) state does not allow this: the API answers 409."""


def audit_record(*, request, verb, actor=None, from_state="", to_state="", note="", **data) -> DataFixEvent:
    return DataFixEvent.objects.create(
        request=request,
        verb=verb,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data,
    )


@transaction.atomic
def datafix_create(
    *,
    item,
    user,
    description,
    urgency=Urgency.NORMAL,
    environment="",
    customer="",
    tenant="",
    parameters=None,
    runbook_section="",
) -> DataFixRequest:
    if not permissions.can_file(user, item):
        raise PermissionDenied(permissions.FILE_DENIED)
    item = TriageItem.objects.select_for_update(of=("self",)).select_related("runbook").get(pk=item.pk)
    if item.classification != TriageItem.Classification.DATA_FIX:
        raise TransitionNotAllowed(
            gettext("Classify the item as a data fix before filing a data-fix request.")
        )
    _check_fields(description=description, urgency=urgency, parameters=parameters)
    now = timezone.now()
    request = DataFixRequest.objects.create(
        item=item,
        requested_by=user,
        description=description.strip()[:MAX_TEXT],
        urgency=urgency,
        environment=environment or item.environment,
        customer=customer,
        tenant=tenant,
        parameters=parameters or {},
        runbook=item.runbook,
        runbook_version_id=_runbook_version_id(item),
        runbook_section=runbook_section,
        created_at=now,
        due_at=(due := sla_deadline(urgency=urgency, start=now)),
        next_escalation_at=due,
    )
    _log(request, user, "requested", "", note=request.description, urgency=urgency)
    notifications_plan(requests=[request], event="created")
    return request


def _check_fields(*, description, urgency, parameters):
    if not (description or "").strip():
        raise ValidationError(gettext("Say what to change and why."))
    if urgency not in Urgency.values:
        raise ValidationError(
            gettext("Urgency must be one of %(values)s.") % {"values": ", ".join(Urgency.values)}
        )
    if parameters is not None and not isinstance(parameters, dict):
        raise ValidationError(gettext("Parameters must be an object of names and values."))


def _runbook_version_id(item):
    """The version the item was handled with, else the runbook's current one: what the developer read."""
    if item.runbook_version_id:
        return item.runbook_version_id
    return item.runbook.current_version_id if item.runbook_id else None


def datafix_acknowledge(*, request_id, user) -> DataFixRequest:
    return datafix_transition(request_id=request_id, user=user, name="acknowledge")


def datafix_complete(*, request_id, user, result) -> DataFixRequest:
    return datafix_transition(request_id=request_id, user=user, name="complete", note=result)


def datafix_reject(*, request_id, user, reason) -> DataFixRequest:
    return datafix_transition(request_id=request_id, user=user, name="reject", note=reason)


def datafix_cancel(*, request_id, user, note="") -> DataFixRequest:
    return datafix_transition(request_id=request_id, user=user, name="cancel", note=note)


@transaction.atomic
def datafix_transition(*, request_id, user, name, note="") -> DataFixRequest:
    request = DataFixRequest.objects.select_for_update().get(pk=request_id)
    to_state, allowed, too_late = TRANSITIONS[name]
    if not permissions.may(user, name, request):
        raise PermissionDenied(permissions.denied_reason(name))
    if request.state not in allowed:
        raise TransitionNotAllowed(too_late % {"state": request.get_state_display().lower()})
    note = (note or "").strip()[:MAX_TEXT]
    if name in NOTE_REQUIRED and not note:
        raise ValidationError(NOTE_REQUIRED[name])
    from_state = request.state
    _apply(request, user, to_state, note)
    _log(request, user, to_state, from_state, note=note)
    if to_state != State.CANCELLED:
        notifications_plan(requests=[request], event=to_state)
    if to_state == State.DONE:
        item_resolve_if_policy(request=request, user=user)
    return request


def _apply(request, user, to_state, note):
    now = timezone.now()
    request.state, request.next_escalation_at = to_state, None
    if to_state == State.ACKNOWLEDGED:
        request.acknowledged_at, request.acknowledged_by = now, user
    else:
        request.closed_at, request.closed_by, request.result = now, user, note
    request.save()


def _log(request, user, to_state, from_state, *, note="", **data):
    """One entry in the request's audit log and one on the item's timeline."""
    audit_record(
        request=request,
        verb=to_state,
        actor=user,
        from_state=from_state,
        to_state=to_state,
        note=note,
        **data,
    )
    activity_record(
        item=request.item, verb=f"data_fix_{to_state}", actor=user, data_fix=request.pk, note=note, **data
    )


@transaction.atomic
def notification_resend(*, notification_id, user) -> Notification:
    """Send a failed notification again, as the same notification (same key, fresh tries)."""
    if not permissions.sees_every_request(user):
        raise PermissionDenied(gettext("Only ops or admins can resend a notification."))
    notification = Notification.objects.select_for_update().get(pk=notification_id)
    if notification.state != Notification.State.FAILED:
        raise TransitionNotAllowed(
            gettext("This notification is %(state)s: only a failed one is resent.")
            % {"state": notification.get_state_display().lower()}
        )
    notification.state, notification.attempts, notification.next_attempt_at = "pending", 0, timezone.now()
    notification.save(update_fields=["state", "attempts", "next_attempt_at"])
    audit_record(
        request=notification.request,
        verb="resent",
        actor=user,
        note=f"{notification.get_channel_display()} notification ({notification.event}) sent again",
    )
    notifications_enqueue(ids=[notification.pk])
    return notification
