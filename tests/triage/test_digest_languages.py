"""The morning digest speaks each reader's language: their own choice, else the team's, else the portal's."""

import pytest
from django.core import mail
from django.utils import timezone

from accounts.services import preference_set
from tests.factories import item_create, service_get, user_create
from triage.digest import digests_deliver
from triage.models import Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout(alice):
    team = Team.objects.get(slug="checkout")
    now = timezone.now()
    item_create(
        sentry_issue_id="1",
        title="ValueError: 在庫数が不足しています",
        service=service_get(slug="checkout-api", team=team),
        team=team,
        first_seen=now,
        last_seen=now,
    )
    return team


def by_address():
    return {message.to[0]: message for message in mail.outbox for _ in message.to}


def test_it_writes_to_each_member_in_their_own_language(alice, checkout):
    kenji = user_create("kenji", email="kenji@example.com")
    checkout.members.add(kenji)
    preference_set(user=kenji, language="ja", time_zone="Asia/Tokyo")

    assert digests_deliver() == 1

    letters = by_address()
    assert len(mail.outbox) == 2  # one email per language, not per person
    assert letters["kenji@example.com"].subject == "[Triage] Checkout: 確認すべきエラー 1 件"
    assert "おはようございます" in letters["kenji@example.com"].body
    assert letters["alice@example.com"].subject == "[Triage] Checkout: 1 item to look at"
    assert "NEW SINCE YESTERDAY (1)" in letters["alice@example.com"].body


def test_it_writes_in_the_teams_language_to_members_who_chose_none(alice, checkout, httpserver):
    checkout.language = "ja"
    checkout.slack_webhook_url = httpserver.url_for("/hooks/checkout")
    checkout.save()
    httpserver.expect_oneshot_request("/hooks/checkout", method="POST").respond_with_data("ok")

    digests_deliver()

    [message] = mail.outbox
    assert "おはようございます" in message.body and "Good morning" not in message.body
    [(request, _)] = httpserver.log
    assert request.get_json()["text"].startswith("おはようございます")


def test_it_writes_in_the_portals_language_by_default(alice, checkout, settings):
    settings.LANGUAGE_CODE = "ja"

    digests_deliver()

    assert "おはようございます" in mail.outbox[0].body
