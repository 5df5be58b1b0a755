"""The item page beyond its facts (test_pages.py): triage state, timeline, permissions, sync failures,
chart."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import item_create, occurrence_create, service_create
from tests.helpers import CHAINED_EXCEPTION
from triage import actions, services
from triage.actions import IgnoreCondition
from triage.models import Activity, OwnershipRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(alice):
    now = timezone.now()
    service = service_create(slug="checkout-api", name="Checkout API")
    exceptions = [
        {"type": e["type"], "value": e["value"], "frames": e["stacktrace"]["frames"]}
        for e in CHAINED_EXCEPTION["values"]
    ]
    return item_create(
        sentry_issue_id="42",
        short_id="CHECKOUT-7",
        title="PricingError: cannot price cart 42",
        service=service,
        first_seen=now - timedelta(days=3),
        last_seen=now,
        team=alice.teams.get(),
        latest_event={"exceptions": exceptions, "exception_type": "PricingError"},
    )


def page(client, item):
    response = client.get(f"/items/{item.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_in_app_frames_first_with_library_frames_on_request(alice_client, item):
    content = page(alice_client, item)

    assert 'class="card stack in-app-only"' in content  # the CSS hides library frames until the toggle
    assert "Show all frames" in content
    outer = content[content.index("<code>PricingError</code>") : content.index("<code>KeyError</code>")]
    assert outer.index("checkout/views.py:42") < outer.index("django/core/handlers/base.py:197")


def test_it_shows_the_triage_state_and_the_rule_that_chose_the_team(alice_client, alice, item):
    item.ownership_rule = OwnershipRule.objects.create(kind="path", pattern="checkout/*", team=item.team)
    item.save()
    actions.item_classify(
        item=item, user=alice, classification="code_fix", note="Price lookup misses the SKU"
    )
    actions.item_take(item=item, user=alice)

    content = page(alice_client, item)

    assert '<span class="status status-in_progress">In progress</span>' in content
    assert '<span class="cls cls-code_fix">Code fix' in content
    assert re.search(r'<span class="chip-key">Owner</span> alice', content)
    assert re.search(r'<span class="chip-key">Team</span> Checkout', content)
    assert "matched rule: culprit or stack path matches (glob) <code>checkout/*</code>" in content
    pinned = content.index('<aside class="pinned"')
    assert content.index("Price lookup misses the SKU", pinned) < content.index("<h2>Exception</h2>")


def test_it_tells_the_timeline_in_words(alice_client, alice, charlie, item):
    Activity.objects.create(item=item, verb="created", actor_label="Sentry", data={"via": "event"})
    actions.item_classify(item=item, user=alice, classification="data_fix", note="Bad rows from the import")
    actions.item_ignore(item=item, user=alice, condition=IgnoreCondition(events=50))
    services.activity_record(
        item=item, verb="woke_up", actor_label="Sentry", condition={"kind": "events", "count": 50}
    )
    services.activity_record(
        item=item, verb="resolved", actor_label="Dana (Sentry)", resolution_type="in_next_release"
    )
    services.activity_record(item=item, verb="regressed", actor_label="Sentry", release="2.1.0")
    services.item_record_sentry_sync(
        item_id=item.pk, state="failed", error="HTTP 403: token lacks event:write"
    )
    actions.item_comment(item=item, user=charlie, body="Asked the data team\nthey will re-run it")

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page(alice_client, item)))

    for line in [
        "Sentry created it from an event",
        "alice classified it as Data fix",
        "alice ignored it until 50 more events",
        "Sentry woke it up: the ignore condition passed (it was ignored until 50 more events)",
        "Dana (Sentry) resolved it in Sentry (in_next_release)",
        "Sentry marked it regressed: a new event came in from release 2.1.0",
        "portal could not update Sentry",
        "HTTP 403: token lacks event:write",
        "charlie commented",
        "Asked the data team they will re-run it",
        "Bad rows from the import",
    ]:
        assert line in text, line


def test_it_shows_an_ignore_until_a_date_as_a_date(alice_client, alice, item):
    until = timezone.make_aware(datetime(2099, 3, 4, 9, 30))
    actions.item_ignore(item=item, user=alice, condition=IgnoreCondition(until=until))

    content = page(alice_client, item)

    until_html = '<time datetime="2099-03-04T09:30:00+00:00">4 Mar 2099, 09:30 UTC</time>'
    assert f"ignored it until {until_html}" in content
    assert "Ignored until <time" in content


def test_it_shows_read_only_actions_with_the_reason_and_lets_anyone_comment(client, charlie, item):
    client.force_login(charlie)
    refusal = client.post(f"/items/{item.pk}/actions/take/", HTTP_HX_REQUEST="true").content.decode()

    content = page(client, item)

    assert refusal == "Only members of the Checkout team (or admins) can change this item."
    assert f"{refusal} You can still comment." in content
    for key in "ctair":
        assert re.search(rf'data-key="{key}"[^>]* disabled title="{re.escape(refusal)}"', content), key
    assert '<textarea id="comment-body" name="body"' in content
    assert '<dialog id="dlg-classify"' not in content


def test_it_offers_the_actions_to_the_team(alice_client, item):
    content = page(alice_client, item)

    assert " disabled" not in content
    assert '<dialog id="dlg-classify"' in content


def test_it_warns_when_sentry_was_not_updated_and_offers_a_retry(alice_client, item):
    services.item_record_sentry_sync(item_id=item.pk, state="failed", error="HTTP 502 from sentry.io")

    content = page(alice_client, item)

    assert "Sentry was not updated." in content
    assert "HTTP 502 from sentry.io" in content
    retry = reverse("integrations:sentry-sync-retry", args=[item.pk])
    assert re.search(
        rf'<form method="post" action="{retry}">.*<button type="submit" class="danger">Retry sync', content
    )


def test_it_offers_the_retry_only_to_who_may_change_the_item(client, charlie, item):
    services.item_record_sentry_sync(item_id=item.pk, state="failed", error="timeout")
    client.force_login(charlie)

    content = page(client, item)

    assert "Sentry was not updated." in content
    assert "Retry sync" not in content


def test_it_says_nothing_of_sync_when_it_went_well(alice_client, item):
    services.item_record_sentry_sync(item_id=item.pk, state="ok")

    assert "Sentry was not updated." not in page(alice_client, item)


def test_it_charts_occurrences_over_14_and_30_days(alice_client, item):
    today = timezone.localdate()
    for n, days_ago in enumerate([0, 0, 1, 20, 20, 20, 40]):
        stamp = timezone.make_aware(datetime.combine(today - timedelta(days=days_ago), time(12)))
        occurrence_create(event_id=f"ev{n}", item=item, timestamp=stamp)

    content = page(alice_client, item)

    charts = dict(
        re.findall(
            r'<svg class="histogram"[^>]*aria-label="Events per day, last (\d+) days[^"]*"'
            r'[^>]*data-counts="([\d,]+)"',
            content,
        )
    )
    assert charts["14"] == ",".join(["0"] * 12 + ["1", "2"])
    assert charts["30"].split(",")[-21] == "3" and sum(map(int, charts["30"].split(","))) == 6
