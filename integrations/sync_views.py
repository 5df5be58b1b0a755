"""The item page's "retry sending to Sentry" button."""

from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from triage.models import TriageItem
from triage.permissions import can_change_item

from . import sentry_api, sentry_sync


def sentry_sync_retry(request, item_id):
    """POST: queue the item's failed Sentry changes again. JSON, or back to the item page for a plain form."""
    if request.method != "POST":
        response = JsonResponse({"error": "method not allowed: send a POST"}, status=405)
        response["Allow"] = "POST"
        return response
    item = TriageItem.objects.filter(pk=item_id).first()
    if item is None:
        return JsonResponse({"error": "no such item"}, status=404)
    if not can_change_item(request.user, item):
        return JsonResponse({"error": "you may not change this item"}, status=403)
    if not sentry_api.configured():
        return JsonResponse(
            {"error": "Sentry sync is not configured (SENTRY_AUTH_TOKEN, SENTRY_ORG_SLUG)"}, status=409
        )
    queued = sentry_sync.sync_retry(item_id=item.pk, actor_id=request.user.pk)
    if _is_plain_form(request):  # queued or not (a second click), the page shows where things stand
        return redirect(_back_to(request, item))
    if not queued:
        return JsonResponse({"error": "no failed change to retry"}, status=409)
    return JsonResponse({"status": "queued", "syncs": [sync.pk for sync in queued]})


def _is_plain_form(request):
    return "HX-Request" not in request.headers and "text/html" in request.headers.get("Accept", "")


def _back_to(request, item):
    url = request.POST.get("next", "")
    safe = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if url and safe else item.get_absolute_url()
