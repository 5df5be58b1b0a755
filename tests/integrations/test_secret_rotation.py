"""Rotating the Sentry secrets without losing a delivery: for a while the portal holds the new and the old."""

import pytest

from integrations.models import WebhookDelivery
from tests.helpers import issue_payload, post_legacy, post_webhook, sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def rotating(settings):
    settings.SENTRY_CLIENT_SECRET = "new-secret, old-secret"
    settings.SENTRY_LEGACY_TOKEN = "new-token,old-token"


def test_it_accepts_deliveries_signed_with_the_new_or_the_old_secret(client, rotating):
    assert post_webhook(client, "issue", issue_payload("1"), secret="old-secret").status_code == 202
    assert post_webhook(client, "issue", issue_payload("2"), secret="new-secret").status_code == 202

    assert WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count() == 2


def test_it_still_refuses_a_secret_it_does_not_hold(client, rotating):
    response = post_webhook(client, "issue", issue_payload("1"), secret="retired-secret")

    assert (response.status_code, response.json()) == (401, {"error": "signature does not match the body"})


def test_it_accepts_the_legacy_plugin_at_the_new_and_the_old_token(client, rotating):
    payload = sample("legacy-plugin-webhook")

    assert post_legacy(client, payload, token="old-token").status_code == 202
    assert post_legacy(client, payload, token="new-token").status_code == 202
    assert post_legacy(client, payload, token="new-token,old-token").status_code == 401


def test_the_test_webhook_command_signs_with_the_newest_secret(rotating):
    from integrations.sentry_auth import signing_secret

    assert signing_secret() == "new-secret"
