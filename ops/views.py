"""Pages: the ops queue, a request with its audit log and notifications, and the forms that change them.

Forms post normally and come back to the page with a message; a refusal is a message too.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from triage.models import Team, TriageItem

from . import permissions, selectors, services
from .models import DataFixRequest, Notification

PAGE_SIZE = 50
PAGE_ACTIONS = {
    "acknowledge": _("Acknowledged data fix #%(id)s."),
    "complete": _("Completed data fix #%(id)s."),
    "reject": _("Rejected data fix #%(id)s."),
    "cancel": _("Cancelled data fix #%(id)s."),
}
NOTE_FIELDS = {"complete": "result", "reject": "reason", "cancel": "note"}
STATE_CHOICES = (
    ("open", _("Open")),
    ("requested", _("Not acknowledged")),
    ("acknowledged", _("Acknowledged")),
    ("closed", _("Closed")),
    ("all", _("All")),
)


@require_GET
def queue_page(request):
    filters = {name: request.GET.get(name, "").strip()[:100] for name in ("state", "urgency", "team")}
    filters["state"] = filters["state"] if filters["state"] in dict(STATE_CHOICES) else "open"
    requests = selectors.requests_for_queue(user=request.user, **filters)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = [(fix, selectors.sla_countdown(fix, now)) for fix in page.object_list]
    return render(
        request,
        "ops/queue.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "states": STATE_CHOICES,
            "urgencies": DataFixRequest.Urgency.choices,
            "teams": Team.objects.order_by("name").only("slug", "name"),
            "is_ops": permissions.is_ops(request.user),
        },
    )


@require_GET
def request_page(request, request_id):
    fix = _request(request.user, request_id)
    return render(
        request,
        "ops/request_detail.html",
        {
            "fix": fix,
            "countdown": selectors.sla_countdown(fix),
            "audit_log": selectors.request_audit_log(request=fix),
            "notifications": selectors.request_notifications(request=fix),
            "is_ops": permissions.is_ops(request.user),
            "can_cancel": permissions.can_cancel(request.user, fix),
            "can_resend": permissions.sees_every_request(request.user),
        },
    )


def _request(user, request_id) -> DataFixRequest:
    try:
        return selectors.request_for_page(user=user, request_id=request_id)
    except DataFixRequest.DoesNotExist:
        raise Http404(_("No such data-fix request.")) from None


@require_POST
def request_action(request, request_id, name):
    if name not in PAGE_ACTIONS:
        raise Http404(_("No such action."))
    if not selectors.request_is_visible(user=request.user, request_id=request_id):
        raise Http404(_("No such data-fix request."))  # a refusal would tell that it exists
    note = request.POST.get(NOTE_FIELDS.get(name, ""), "")
    kwargs = {"note": note} if name in NOTE_FIELDS else {}
    _attempt(
        request,
        PAGE_ACTIONS[name] % {"id": request_id},
        services.datafix_transition,
        request_id=request_id,
        user=request.user,
        name=name,
        **kwargs,
    )
    return redirect("ops:request", request_id=request_id)


@require_POST
def notification_resend(request, notification_id):
    notification = selectors.notification_for_user(user=request.user, notification_id=notification_id)
    if notification is None:
        raise Http404(_("No such notification."))
    _attempt(
        request,
        _("The notification is on its way again."),
        services.notification_resend,
        notification_id=notification_id,
        user=request.user,
    )
    return redirect("ops:request", request_id=notification.request_id)


@require_POST
def item_file_request(request, item_id):
    item = TriageItem.objects.filter(pk=item_id).first()
    if item is None:
        raise Http404(_("No such item."))
    fields = {
        name: request.POST.get(name, "").strip()[: _max_length(name)]
        for name in ("description", "urgency", "environment", "customer", "tenant", "runbook_section")
    }
    fix = _attempt(
        request,
        _("Data fix filed: ops are being notified."),
        services.datafix_create,
        item=item,
        user=request.user,
        parameters=_parameters(request.POST.get("parameters", "")),
        **fields,
    )
    return redirect(
        fix.get_absolute_url()
        if fix and request.POST.get("then") == "request"
        else item.get_absolute_url() + "#data-fixes"
    )


def _max_length(name) -> int:
    return DataFixRequest._meta.get_field(name).max_length or services.MAX_TEXT


def _parameters(text) -> dict:
    """`name=value` per line, as people type them into the form."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {name.strip()[:100]: value.strip()[:1000] for name, value in pairs if name.strip()}


def _attempt(request, success, change, **kwargs):
    """Run a change; a refusal (role, state or input) is shown as a message instead of an error page."""
    try:
        result = change(**kwargs)
    except (PermissionDenied, services.TransitionNotAllowed) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except (DataFixRequest.DoesNotExist, Notification.DoesNotExist):
        raise Http404(_("No such data-fix request.")) from None
    else:
        messages.success(request, success)
        return result
    return None
