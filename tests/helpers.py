"""Shared test helpers: real Sentry payloads, signed exactly as Sentry signs them."""

import copy
import json
import time
from pathlib import Path

from django.conf import settings

from integrations.sentry_auth import sign

FIXTURES = Path(__file__).parent / "fixtures" / "sentry"
WEBHOOK_URL = "/integrations/sentry/webhook/"
# Each published Integration Platform sample with the Sentry-Hook-Resource it comes with.
INTEGRATION_SAMPLES = [
    ("issue", "integration-issue-created"),
    ("event_alert", "integration-event_alert-triggered"),
    ("error", "integration-error-created"),
    ("installation", "integration-installation-created"),
    ("comment", "integration-comment-created"),
    ("metric_alert", "integration-metric_alert-resolved"),
    ("seer", "integration-seer-root_cause_completed"),
    ("seer", "integration-seer-pr_created"),
]


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


def send_webhook(base_url, resource, payload):
    """POST a webhook to a running portal, signed on the wire exactly as Sentry signs it."""
    import requests

    body = compact(payload)
    response = requests.post(
        base_url + WEBHOOK_URL, data=body, timeout=10, headers=wire_headers(body, resource)
    )
    assert response.status_code == 202, response.text
    return response.json()["delivery"]


def wire_headers(body: bytes, resource: str, **kwargs) -> dict:
    """signed_headers() as an HTTP client sends them, for requests to a real server."""
    django_style = signed_headers(body, resource, **kwargs)
    headers = {key[5:].replace("_", "-").title(): value for key, value in django_style.items()}
    return {**headers, "Content-Type": "application/json"}


# A Python stack as Sentry sends it: outermost exception last, innermost frame last.
CHAINED_EXCEPTION = {
    "values": [
        {
            "type": "KeyError",
            "value": "'sku'",
            "stacktrace": {
                "frames": [
                    {
                        "filename": "checkout/cart.py",
                        "function": "line_price",
                        "lineno": 88,
                        "in_app": True,
                        "module": "checkout.cart",
                        "context_line": "    return PRICES[line['sku']]",
                    },
                ]
            },
        },
        {
            "type": "PricingError",
            "value": "cannot price cart 42",
            "stacktrace": {
                "frames": [
                    {
                        "filename": "django/core/handlers/base.py",
                        "function": "_get_response",
                        "lineno": 197,
                        "in_app": False,
                        "module": "django.core.handlers.base",
                        "context_line": (
                            "response = wrapped_callback(request, *callback_args, **callback_kwargs)"
                        ),
                    },
                    {
                        "filename": "checkout/views.py",
                        "function": "place_order",
                        "lineno": 42,
                        "in_app": True,
                        "module": "checkout.views",
                        "context_line": "    total = price_cart(cart)",
                    },
                ]
            },
        },
    ]
}


FAKE_SENTRY_TOKEN = "sntrys_test-token-for-the-fake-sentry"


def point_at_fake_sentry(settings, httpserver):
    """Configure the portal's Sentry API client to call the local fake at `httpserver`."""
    settings.SENTRY_API_URL = httpserver.url_for("").rstrip("/")
    settings.SENTRY_AUTH_TOKEN = FAKE_SENTRY_TOKEN
    settings.SENTRY_ORG_SLUG = "test-org"
