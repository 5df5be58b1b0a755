"""Webhook endpoints: verify, store, enqueue, answer. Nothing else happens before the 202."""

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.http.request import HttpHeaders
from django.views.decorators.csrf import csrf_exempt

from . import services
from .payload_values import PayloadError, storable
from .sentry_auth import Unauthorized, verify_integration_request, verify_legacy_token
from .sentry_payloads import LEGACY, parse_body, parse_envelope

log = logging.getLogger(__name__)
# What reading or debugging a delivery needs; anything else (cookies, tokens, a flood of noise) is not kept.
KEPT_HEADERS = (
    "Sentry-Hook-Resource",
    "Sentry-Hook-Timestamp",
    "Sentry-Hook-Signature",
    "Request-Id",
    "Content-Type",
    "Content-Length",
    "User-Agent",
    "X-Forwarded-For",
)
MAX_HEADER_CHARS = 200
# Read straight from the WSGI environ: request.headers parses every header, which showed in the intake's
# profile.
META_NAMES = {name: HttpHeaders.to_wsgi_name(name) for name in KEPT_HEADERS}


@csrf_exempt
@login_not_required
def sentry_webhook(request):
    """Sentry Integration Platform webhooks (internal or public integration)."""
    resource = _header(request, "Sentry-Hook-Resource") or ""

    def verify(body):
        verify_integration_request(
            body=body,
            signature=_header(request, "Sentry-Hook-Signature") or "",
            timestamp=_header(request, "Sentry-Hook-Timestamp"),
        )

    return _receive(request, source="sentry", resource=resource, verify=verify)


@csrf_exempt
@login_not_required
def sentry_legacy_webhook(request, token):
    """Sentry's legacy WebHooks plugin: it cannot sign, so the URL carries a secret token."""
    return _receive(request, source="legacy", resource=LEGACY, verify=lambda body: verify_legacy_token(token))


def _receive(request, *, source, resource, verify):
    if request.method != "POST":
        response = _error(405, "method not allowed: send a POST")
        response["Allow"] = "POST"
        return response
    headers = _kept_headers(request)
    body = _read_body(request)
    if body is None:
        services.delivery_reject(
            source=source,
            headers=headers,
            body=b"",
            resource=resource,
            error=f"body over the {settings.WEBHOOK_MAX_BODY_BYTES} byte limit",
        )
        return _error(413, f"body over the {settings.WEBHOOK_MAX_BODY_BYTES} byte limit")
    try:
        verify(body)
    except Unauthorized as exc:
        services.delivery_reject(source=source, headers=headers, body=body, resource=resource, error=str(exc))
        return _error(401, str(exc))
    try:
        envelope = parse_envelope(
            resource, parse_body(body), sent_at=headers.get("Sentry-Hook-Timestamp", "")
        )
    except PayloadError as exc:
        services.delivery_reject(source=source, headers=headers, body=body, resource=resource, error=str(exc))
        return _error(400, str(exc))
    except Exception as exc:  # our bug, not Sentry's: keep the delivery, processing will report it
        log.exception("Could not read a signed delivery; storing it for processing")
        envelope, error = None, f"read failed at receipt: {exc!r}"
    else:
        error = ""
    delivery_id = services.delivery_receive(
        source=source, headers=headers, body=body, envelope=envelope, resource=resource, error=error
    )
    return JsonResponse({"status": "accepted", "delivery": delivery_id}, status=202)


def _header(request, name):
    return request.META.get(META_NAMES[name])


def _kept_headers(request) -> dict:
    meta = request.META
    return {name: storable(meta[key], MAX_HEADER_CHARS) for name, key in META_NAMES.items() if key in meta}


def _read_body(request):
    """The raw body, or None when it is over the limit (read no further than that)."""
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


def _error(status, message):
    return JsonResponse({"error": message}, status=status)
