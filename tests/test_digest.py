"""The morning digest: one email per team per day with its new, unowned, regressed and stale items."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from triage.actions import item_take
from triage.digest import digests_send, team_digest_items
from triage.models import Activity, Service, Team, TriageItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkout(alice):
    return Team.objects.get(slug="checkout")


def make_item(team, n, **fields):
    service, _ = Service.objects.get_or_create(slug="checkout-api", defaults={"name": "checkout-api", "team": team})
    now = timezone.now()
    defaults = dict(sentry_issue_id=str(n), title=f"Error {n}", service=service, team=team,
                    first_seen=now, last_seen=now)
    return TriageItem.objects.create(**{**defaults, **fields})


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

    assert digests_send() == 1
    assert digests_send() == 0  # a second beat run the same day sends nothing

    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "[Triage] Checkout: 1 item to look at"  # new and unowned: one item
    assert "KeyError: 'sku'" in message.body
    assert f"/items/{item.pk}/" in message.body


def test_it_skips_teams_with_nothing_to_read(alice, checkout):
    item = make_item(checkout, 1, created_at=timezone.now() - timedelta(days=2))
    item_take(item=item, user=alice)

    assert digests_send() == 0
    assert mail.outbox == []


def test_it_sends_again_the_next_day(alice, checkout):
    make_item(checkout, 1)
    digests_send()

    assert digests_send(now=timezone.now() + timedelta(days=1)) == 1
    assert len(mail.outbox) == 2
