"""Texts made in Python reach a Japanese reader in Japanese; API values stay English and stable."""

import pytest
from rest_framework.authtoken.models import Token

from tests.factories import item_create, service_get

pytestmark = pytest.mark.django_db
JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}


@pytest.fixture
def item(alice):
    return item_create(
        sentry_issue_id="77",
        short_id="CHECKOUT-9",
        title="KeyError: 'sku'",
        service=service_get(slug="checkout-api"),
        team=alice.teams.get(),
    )


def test_it_refuses_an_action_with_a_japanese_reason(client, charlie, item):
    client.force_login(charlie)
    refusal = client.post(f"/items/{item.pk}/actions/take/", HTTP_HX_REQUEST="true", **JA)
    assert refusal.status_code == 403
    assert (
        refusal.content.decode()
        == "Checkout チームのメンバー（または管理者）だけがこのエラーを変更できます。"
    )


def test_it_toasts_a_done_action_in_japanese(alice_client, item):
    response = alice_client.post(f"/items/{item.pk}/actions/take/", HTTP_HX_REQUEST="true", **JA)
    assert "CHECKOUT-9 を担当しました。" in response["HX-Trigger"].encode().decode("unicode_escape")


def test_it_keeps_api_values_english_and_explains_errors_in_japanese(client, alice, item):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=alice).key}"
    classified = client.post(f"/api/items/{item.pk}/classify/", {"classification": "data_fix"}, **JA)
    assert classified.status_code == 200 and classified.json()["classification"] == "data_fix"
    refused = client.post(f"/api/items/{item.pk}/ignore/", {"until_events": 5, "until_users": 2}, **JA)
    assert refused.status_code == 400
    assert "のどれか一つ" in str(refused.json())


def test_it_labels_the_admin_in_japanese(admin_client):
    page = admin_client.get("/admin/", **JA).content.decode()
    assert "仕分け" in page and "対応手順" in page and "データ補正依頼" in page
    form = admin_client.get("/admin/triage/team/add/", **JA).content.decode()
    assert "メンバー" in form and "Slack Webhook の URL" in form


def test_it_shows_choice_labels_in_japanese_on_the_item_page(alice_client, item):
    alice_client.post(f"/items/{item.pk}/actions/classify/", {"classification": "code_fix"})
    assert "コード修正" in alice_client.get(f"/items/{item.pk}/", **JA).content.decode()
