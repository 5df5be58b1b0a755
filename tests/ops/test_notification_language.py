"""Ops notifications are written in the item's team's language; what goes back to the requester, in theirs."""

import pytest
from django.core import mail

from accounts.services import preference_set
from ops import notify, services
from ops.models import Notification
from tests.ops.test_support import checkout, file_request, item, make_data_fix_item  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.fixture
def slack(settings, httpserver):
    settings.OPS_SLACK_WEBHOOK_URL = httpserver.url_for("/slack")
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    return httpserver


def send(fix, **filters):
    for pk in Notification.objects.filter(request=fix, **filters).values_list("pk", flat=True):
        notify.notification_send(notification_id=pk)


def test_it_writes_to_ops_in_the_teams_language(slack, alice, bob, item):
    item.team.language = "ja"
    item.team.save()

    send(file_request(item, alice))

    [(request, _)] = slack.log
    assert "データ補正" in request.get_json()["text"]
    assert "Data fix requested" not in request.get_json()["text"]
    [email] = mail.outbox
    assert "データ補正" in email.subject


def test_it_writes_in_english_where_the_team_chose_nothing(slack, alice, bob, item):
    send(file_request(item, alice))

    [(request, _)] = slack.log
    assert "Data fix requested" in request.get_json()["text"]


def test_it_answers_the_requester_in_their_own_language(alice, bob, item):
    item.team.language = "en"
    item.team.save()
    preference_set(user=alice, language="ja", time_zone="")
    fix = file_request(item, alice)
    services.datafix_acknowledge(request_id=fix.pk, user=bob)
    mail.outbox.clear()

    send(fix, event="acknowledged", channel="email")

    [email] = mail.outbox
    assert email.to == ["alice@example.com"] and "データ補正" in email.subject
