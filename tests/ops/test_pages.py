"""The ops queue, the request page and the item page's data-fix panel."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from ops import services
from ops.models import DataFixRequest, Notification, TeamPolicy
from tests.ops.test_support import checkout, file_request, item, make_data_fix_item  # noqa: F401 (fixtures)
from triage.models import TriageItem

pytestmark = pytest.mark.django_db
# Pinned: session, user, the viewer's groups, the count, the rows with item/service/team/people, the teams
# filter.
QUEUE_QUERIES = 6


def text(response):
    assert response.status_code == 200
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_it_files_from_the_item_page_and_shows_the_request_there(client, alice, item):
    client.force_login(alice)
    assert "File a data fix for ops" in text(client.get(f"/items/{item.pk}/"))

    response = client.post(
        f"/ops/items/{item.pk}/data-fixes/",
        {
            "description": "Recompute invoice 42",
            "urgency": "high",
            "customer": "ACME",
            "parameters": "invoice=42\nx",
        },
    )

    assert response.status_code == 302 and response["Location"].endswith(f"/items/{item.pk}/#data-fixes")
    fix = DataFixRequest.objects.get()
    assert (fix.urgency, fix.customer, fix.parameters) == ("high", "ACME", {"invoice": "42"})
    page = text(client.get(f"/items/{item.pk}/"))
    assert f"#{fix.pk} Requested High" in page
    assert f"alice filed data fix #{fix.pk} (high)" in page


def test_it_offers_the_form_only_on_an_item_classified_data_fix(client, alice, item):
    client.force_login(alice)
    item.classification = "code_fix"
    item.save()

    assert "File a data fix" not in text(client.get(f"/items/{item.pk}/"))
    response = client.post(f"/ops/items/{item.pk}/data-fixes/", {"description": "x"}, follow=True)
    assert "Classify the item as a data fix" in text(response)
    assert not DataFixRequest.objects.exists()


def test_it_shows_the_result_on_the_item_and_resolves_it_when_the_team_wants(
    client, alice, bob, item, checkout
):
    TeamPolicy.objects.create(team=checkout, auto_resolve_on_done=True)
    fix = file_request(item, alice)
    client.force_login(bob)
    client.post(f"/ops/requests/{fix.pk}/acknowledge/")
    client.post(f"/ops/requests/{fix.pk}/complete/", {"result": "Invoice 42 recomputed: 10.00"})

    client.force_login(alice)
    page = text(client.get(f"/items/{item.pk}/"))
    assert "Result: Invoice 42 recomputed: 10.00" in page
    assert f"bob ops completed data fix #{fix.pk}" in page
    assert "bob resolved it" in page
    assert TriageItem.objects.get(pk=item.pk).status == "resolved"


def test_it_leaves_the_item_open_without_the_team_policy(alice, bob, item):
    fix = file_request(item, alice)
    services.datafix_acknowledge(request_id=fix.pk, user=bob)
    services.datafix_complete(request_id=fix.pk, user=bob, result="done")

    assert TriageItem.objects.get(pk=item.pk).status == "triaged"


def test_the_queue_puts_urgent_then_old_first_with_the_sla_countdown(client, alice, bob, checkout):
    items = [make_data_fix_item(checkout, n) for n in range(3)]
    low, old_normal, high = (
        file_request(items[0], alice, urgency="low"),
        file_request(items[1], alice, urgency="normal"),
        file_request(items[2], alice),
    )
    DataFixRequest.objects.filter(pk=old_normal.pk).update(
        created_at=timezone.now() - timedelta(hours=5), due_at=timezone.now() - timedelta(hours=1, minutes=5)
    )
    client.force_login(bob)

    response = client.get("/ops/")

    order = [int(pk) for pk in re.findall(r'data-request="(\d+)"', response.content.decode())]
    assert order == [high.pk, old_normal.pk, low.pk]
    page = text(response)
    assert "overdue 1h 5m" in page and "29m left" in page
    assert [
        int(pk)
        for pk in re.findall(r'data-request="(\d+)"', client.get("/ops/?urgency=low").content.decode())
    ] == [low.pk]


def test_the_queue_filters_by_state_and_team(client, alice, bob, item):
    fix = file_request(item, alice)
    client.force_login(bob)
    client.post(f"/ops/requests/{fix.pk}/reject/", {"reason": "no"})

    assert f'data-request="{fix.pk}"' not in client.get("/ops/").content.decode()
    assert f'data-request="{fix.pk}"' in client.get("/ops/?state=closed&team=checkout").content.decode()
    assert f'data-request="{fix.pk}"' not in client.get("/ops/?state=all&team=nope").content.decode()
    assert client.get("/ops/?state=bogus&urgency=bogus&page=x").status_code == 200


def test_the_queue_takes_the_same_queries_for_more_requests(
    client, alice, bob, checkout, django_assert_num_queries
):
    for n in range(12):
        file_request(make_data_fix_item(checkout, n), alice, urgency=("high", "normal", "low")[n % 3])
    client.force_login(bob)
    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get("/ops/")
    assert response.content.decode().count("data-request=") == 12


def test_the_request_page_shows_the_log_and_a_resend_button_for_a_failed_channel(client, alice, bob, item):
    fix = file_request(item, alice)
    failed = Notification.objects.create(
        request=fix,
        key="k1",
        channel="slack",
        event="created",
        state="failed",
        attempts=5,
        last_error="hooks.slack.com answered HTTP 500",
    )
    client.force_login(bob)

    page = text(client.get(f"/ops/requests/{fix.pk}/"))
    assert "alice filed it" in page and "Slack · created failed after 5 tries" in page
    assert "HTTP 500" in page and "Resend" in page and "Acknowledge" in page

    client.post(f"/ops/notifications/{failed.pk}/resend/")
    failed.refresh_from_db()
    assert failed.state == "pending" and failed.attempts == 0
    assert fix.events.filter(verb="resent", actor=bob).exists()


def test_the_request_page_refuses_with_a_message(client, alice, charlie, item):
    fix = file_request(item, alice)
    client.force_login(alice)

    response = client.post(f"/ops/requests/{fix.pk}/acknowledge/", follow=True)

    assert "Only members of the ops group" in text(response)
    assert DataFixRequest.objects.get(pk=fix.pk).state == "requested"
    client.force_login(charlie)
    assert client.post(f"/ops/requests/{fix.pk}/acknowledge/").status_code == 404
    assert client.post("/ops/requests/999999/acknowledge/").status_code == 404
    assert client.post(f"/ops/requests/{fix.pk}/explode/").status_code == 404
    assert client.get("/ops/requests/999999/").status_code == 404


def test_the_pages_need_a_login(client, item):
    assert client.get("/ops/").status_code == 302
    assert client.post(f"/ops/items/{item.pk}/data-fixes/", {"description": "x"}).status_code == 302
    assert not DataFixRequest.objects.exists()
