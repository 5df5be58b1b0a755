"""Shared test helpers: real Sentry payloads, signed exactly as Sentry signs them."""

import copy
import json
import time
from pathlib import Path

from django.conf import settings

from integrations.sentry_auth import sign

FIXTURES = Path(__file__).parent / "fixtures" / "sentry"
WEBHOOK_URL = "/integrations/sentry/webhook/"


def sample(name) -> dict:
    """A deep copy of a published Sentry payload from tests/fixtures/sentry/."""
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))


def compact(payload) -> bytes:
    # What Sentry sends on the wire; the signature covers these exact bytes.
    return json.dumps(payload, separators=(",", ":")).encode()


def signed_headers(body: bytes, resource: str, *, secret=None, timestamp=None) -> dict:
    return {
        "HTTP_SENTRY_HOOK_RESOURCE": resource,
        "HTTP_SENTRY_HOOK_TIMESTAMP": str(int(time.time() if timestamp is None else timestamp)),
        "HTTP_SENTRY_HOOK_SIGNATURE": sign(body, secret or settings.SENTRY_CLIENT_SECRET),
        "HTTP_REQUEST_ID": "req-" + str(time.monotonic_ns()),
    }


def post_webhook(client, resource, payload, **kwargs):
    body = payload if isinstance(payload, bytes) else compact(payload)
    headers = signed_headers(body, resource, **kwargs)
    return client.post(WEBHOOK_URL, data=body, content_type="application/json", **headers)


def post_legacy(client, payload, token=None):
    body = payload if isinstance(payload, bytes) else compact(payload)
    url = f"/integrations/sentry/legacy/{token or settings.SENTRY_LEGACY_TOKEN}/"
    return client.post(url, data=body, content_type="application/json")


def issue_payload(issue_id="1170820242", action="created", **issue_fields):
    payload = sample("integration-issue-created")
    payload["action"] = action
    payload["data"]["issue"].update(id=issue_id, **issue_fields)
    return payload


def event_payload(event_id, issue_id="1117540176", resource="event_alert", **event_fields):
    name = "integration-event_alert-triggered" if resource == "event_alert" else "integration-error-created"
    payload = sample(name)
    key = "event" if resource == "event_alert" else "error"
    event = payload["data"][key]
    event.update(event_id=event_id, issue_id=issue_id, **event_fields)
    event["url"] = f"https://sentry.io/api/0/projects/test-org/front-end/events/{event_id}/"
    return payload
