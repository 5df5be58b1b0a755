"""The morning digest: once per team per day, by email and Slack, with its new, unowned, regressed and stale
items."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import item_create, service_get
from triage.actions import item_take
from triage.digest import digests_deliver, team_digest_items
from triage.models import Activity, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout(alice):
    return Team.objects.get(slug="checkout")


def make_item(team, n, **fields):
    service = service_get(slug="checkout-api", name="checkout-api", team=team)
    now = timezone.now()
    defaults = {
        "sentry_issue_id": str(n),
        "title": f"Error {n}",
        "service": service,
        "team": team,
        "first_seen": now,
        "last_seen": now,
    }
    return item_create(**{**defaults, **fields})


def test_it_sorts_a_teams_items_into_sections(alice, checkout):
    now = timezone.now()
    fresh = make_item(checkout, 1)
    owned = make_item(checkout, 2, created_at=now - timedelta(days=3), status="triaged", owner=alice)
    regressed = make_item(checkout, 3, created_at=now - timedelta(days=2), regressed_at=now)
    stale = make_item(checkout, 4, created_at=now - timedelta(days=30), status="in_progress", owner=alice)
    Activity.objects.create(item=stale, verb="took", actor=alice, created_at=now - timedelta(days=8))
    Activity.objects.create(item=owned, verb="took", actor=alice, created_at=now - timedelta(days=1))
    make_item(checkout, 5, status="resolved")
    make_item(Team.objects.create(slug="other", name="Other"), 6)

    sections = team_digest_items(team=checkout, now=now)

    assert sections["new"] == [fresh]
    assert set(sections["unowned"]) == {fresh, regressed}
    assert sections["regressed"] == [regressed]
    assert sections["stale"] == [stale]


def test_it_emails_each_team_once_a_day(alice, checkout):
    item = make_item(checkout, 1, title="KeyError: 'sku'")

    assert digests_deliver() == 1
    assert digests_deliver() == 0  # a second beat run the same day sends nothing

    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "[Triage] Checkout: 1 item to look at"  # new and unowned: one item
    assert "KeyError: 'sku'" in message.body
    assert f"/items/{item.pk}/" in message.body


def test_it_skips_teams_with_nothing_to_read(alice, checkout):
    item = make_item(checkout, 1, created_at=timezone.now() - timedelta(days=2))
    item_take(item=item, user=alice)

    assert digests_deliver() == 0
    assert mail.outbox == []


def test_it_sends_again_the_next_day(alice, checkout):
    make_item(checkout, 1)
    digests_deliver()

    assert digests_deliver(now=timezone.now() + timedelta(days=1)) == 1
    assert len(mail.outbox) == 2


def test_it_posts_the_digest_to_the_teams_slack_channel_too(alice, checkout, httpserver):
    checkout.slack_webhook_url = httpserver.url_for("/hooks/checkout")
    checkout.save()
    item = make_item(checkout, 1, title="KeyError: 'sku'")
    httpserver.expect_oneshot_request("/hooks/checkout", method="POST").respond_with_data("ok")

    assert digests_deliver() == 1

    [(request, _)] = httpserver.log
    body = request.get_json()
    assert body["text"].startswith("Good morning, Checkout: 1 item to look at.")
    assert f"/items/{item.pk}/" in body["text"]
    assert request.headers["X-Triage-Notification"] == f"digest:checkout:{timezone.localdate().isoformat()}"
    assert len(mail.outbox) == 1


def test_it_still_emails_when_slack_fails(alice, checkout, httpserver):
    checkout.slack_webhook_url = httpserver.url_for("/hooks/down")
    checkout.save()
    make_item(checkout, 1)
    httpserver.expect_request("/hooks/down").respond_with_data("no", status=500)

    assert digests_deliver() == 1
    assert len(mail.outbox) == 1
    assert digests_deliver() == 0  # the day is claimed: no second try, no second email


def test_it_sends_to_a_team_with_only_a_slack_channel(db, httpserver):
    url = httpserver.url_for("/hooks/quiet")
    nobody_with_email = Team.objects.create(slug="quiet", name="Quiet", slack_webhook_url=url)
    make_item(nobody_with_email, 1)
    httpserver.expect_oneshot_request("/hooks/quiet").respond_with_data("ok")

    assert digests_deliver() == 1
    assert mail.outbox == []
    assert len(httpserver.log) == 1


def test_it_still_posts_to_slack_when_the_email_channel_raises(alice, checkout, httpserver):
    alice.email = (
        "alice@example.com\nBcc: everyone@example.com"  # a header break the mailer refuses (ValueError)
    )
    alice.save()
    checkout.slack_webhook_url = httpserver.url_for("/hooks/team")
    checkout.save()
    make_item(checkout, 1)
    httpserver.expect_oneshot_request("/hooks/team").respond_with_data("ok")

    assert digests_deliver() == 1
    assert mail.outbox == [] and len(httpserver.log) == 1
