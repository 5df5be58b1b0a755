"""The view reads only a delivery's envelope (integrations.sentry_payloads.parse_envelope); the worker reads
it whole.

Both must agree on what the row is keyed by, and the envelope must refuse every body the whole read refuses:
a body refused only by the worker would be a 202 that ends failed.
"""

import json

import pytest

from integrations.payload_values import PayloadError
from integrations.sentry_payloads import parse_body, parse_envelope, parse_webhook
from tests import sentry_events as shapes
from tests.helpers import FIXTURES

EVENTS = {
    "python chained": shapes.python_chained,
    "python message": shapes.python_message,
    "javascript": shapes.javascript,
    "java": shapes.java,
    "cocoa": shapes.cocoa,
    "ruby": shapes.ruby,
    "native": shapes.native,
    "php message": shapes.php_message,
}
RESOURCES = {
    "error": shapes.error_created,
    "event_alert": shapes.event_alert_triggered,
    "legacy": shapes.legacy_plugin,
}
SAMPLES = {
    "error": "integration-error-created.json",
    "event_alert": "integration-event_alert-triggered.json",
    "issue": "integration-issue-created.json",
    "legacy": "legacy-plugin-webhook.json",
    "installation": "integration-installation-created.json",
    "comment": "integration-comment-created.json",
}


def keys(webhook):
    return webhook.resource, webhook.action, webhook.issue_id, webhook.dedupe_key


def both_reads(resource, payload, sent_at="1767225600"):
    """(what the view stores, what the worker applies), each as (resource, action, issue id, dedupe key)."""
    return keys(parse_envelope(resource, payload, sent_at=sent_at)), keys(
        parse_webhook(resource, payload, sent_at=sent_at)
    )


@pytest.mark.parametrize("resource", RESOURCES)
@pytest.mark.parametrize("platform", EVENTS)
def test_it_keys_an_sdk_event_as_the_worker_does(resource, platform):
    envelope, whole = both_reads(resource, RESOURCES[resource](EVENTS[platform](), "4040"))
    assert envelope == whole
    assert envelope[2] == "4040" and len(envelope[3]) == 64


@pytest.mark.parametrize("resource", SAMPLES)
def test_it_keys_sentrys_published_samples_as_the_worker_does(resource):
    payload = parse_body((FIXTURES / SAMPLES[resource]).read_bytes())
    envelope, whole = both_reads(resource, payload)
    assert envelope == whole


@pytest.mark.parametrize("category", shapes.CATEGORIES)
def test_it_keys_an_issue_of_each_category_as_the_worker_does(category):
    envelope, whole = both_reads("issue", shapes.issue_body("77", category))
    assert envelope == whole and envelope[2] == "77"


def broken(change):
    payload = json.loads((FIXTURES / SAMPLES["error"]).read_text())
    change(payload["data"]["error"])
    return payload


@pytest.mark.parametrize(
    "change",
    [
        lambda event: event.pop("event_id"),
        lambda event: event.pop("issue_id"),
        lambda event: event.update(timestamp="yesterday"),
        lambda event: event.update(event_id="x" * 65),
        lambda event: event.update(issue_id="no spaces allowed"),
    ],
    ids=["no event id", "no issue id", "bad timestamp", "long event id", "bad issue id"],
)
def test_it_refuses_at_receipt_what_the_worker_would_refuse(change):
    payload = broken(change)
    with pytest.raises(PayloadError) as at_receipt:
        parse_envelope("error", payload)
    with pytest.raises(PayloadError) as in_worker:
        parse_webhook("error", payload)
    assert str(at_receipt.value) == str(in_worker.value)
