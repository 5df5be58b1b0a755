"""The /grouping/ page, dismissing from it, and the on-demand recompute of one item: thin, see services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from triage.models import TriageItem
from triage.permissions import is_developer

from . import selectors, services, tasks
from .models import Suggestion

PAGE_SIZE = 25


@require_GET
def suggestion_list(request):
    kind = request.GET.get("kind") if request.GET.get("kind") in Suggestion.Kind.values else None
    dismissed = request.GET.get("show") == "dismissed"
    page = Paginator(selectors.suggestion_list(kind=kind, dismissed=dismissed), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "grouping/list.html",
        {
            "page": page,
            "cards": [card(suggestion) for suggestion in page],
            "kind": kind,
            "dismissed": dismissed,
            "counts": selectors.suggestion_counts(),
            "last_run": selectors.last_run(),
            "may_dismiss": is_developer(request.user),
        },
    )


@require_POST
def suggestion_dismiss(request, suggestion_id):
    get_object_or_404(Suggestion, pk=suggestion_id)
    try:
        services.suggestion_dismiss(
            suggestion_id=suggestion_id, user=request.user, reason=request.POST.get("reason")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Dismissed. It comes back if the mix of events changes materially."))
    return redirect(reverse("grouping:list"))


@require_POST
def item_recompute(request, item_id):
    if not is_developer(request.user):
        raise PermissionDenied(_("Only developers (dev or admin) can recompute grouping suggestions."))
    item = get_object_or_404(TriageItem.objects.only("pk"), pk=item_id)
    transaction.on_commit(lambda: tasks.recompute_item_grouping.delay(item.pk))
    messages.success(request, _("Recomputing this item's grouping suggestions; reload in a moment."))
    return redirect(item.get_absolute_url())


def card(suggestion: Suggestion) -> dict:
    """What a suggestion shows: its items, and each group with a link to its example event in Sentry."""
    items = {item.pk: item for item in suggestion.items.all()}
    groups = [
        {
            **group,
            "item": items.get(group.get("item_id", suggestion.item_id)),
            "event_url": _event_url(items.get(group.get("item_id", suggestion.item_id)), group),
        }
        for group in suggestion.groups
    ]
    return {
        "suggestion": suggestion,
        "items": list(items.values()),
        "item": items.get(suggestion.item_id),
        "groups": groups,
    }


def _event_url(item, group) -> str:
    event_id = (group.get("example") or {}).get("event_id")
    if not (item and item.sentry_url and event_id):
        return ""
    return f"{item.sentry_url.rstrip('/')}/events/{event_id}/"
