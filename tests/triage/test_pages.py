"""The portal pages: who may see them, what they show, and that they stay cheap as data grows."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.models import WebhookDelivery
from integrations.services import delivery_process
from runbooks.matching import current_index
from tests.factories import item_create, occurrence_create, service_create
from tests.helpers import CHAINED_EXCEPTION, event_payload, issue_payload, post_webhook
from triage.models import Activity, Service, TriageItem

pytestmark = pytest.mark.django_db
Status = TriageItem.Status

# Pinned: session, user, the visit (read, write), the viewer's teams and groups, the 8 section counts
# (one bounded count each), the rows with service/team/owner/runbook, their sparklines in one aggregate, the
# filter bar's services, environments and people, and the open feedback on the viewer's teams' runbooks.
LIST_QUERIES = 20
# Pinned: session, user, item with its relations (its runbook and pinned version too), the viewer's
# groups (may they change it?), occurrences, timeline with actors, the 30-day chart in one aggregate,
# the matcher index's token (the runbook panel's other matches), people to assign to, the data-fix requests,
# the grouping advisor's split banner.
DETAIL_QUERIES = 11

ISSUE_ID = "1117540176"
SENTRY_ISSUE_URL = f"https://sentry.io/organizations/test-org/issues/{ISSUE_ID}/"


def deliver(client, resource, payload):
    """Post a signed webhook and process it the way the worker does."""
    response = post_webhook(client, resource, payload)
    assert response.status_code == 202, response.content
    assert delivery_process(delivery_id=response.json()["delivery"]) == WebhookDelivery.Status.PROCESSED


def make_item(n, *, status=Status.NEW, last_seen=None, service=None, **fields):
    now = timezone.now()
    return item_create(
        sentry_issue_id=str(5000 + n),
        short_id=f"SVC-{n}",
        title=f"Item number {n}",
        culprit=f"app.module{n}",
        service=service or service_create(slug=f"svc-{n}", name=f"Service {n}"),
        status=status,
        first_seen=now - timedelta(days=3),
        last_seen=last_seen or now - timedelta(minutes=n),
        event_count=n,
    )


def listed_ids(response):
    return [int(pk) for pk in re.findall(r'data-item-id="(\d+)"', response.content.decode())]


# --- Who may see what ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/items/1/", "/items/1/?x=1"])
def test_it_sends_anonymous_visitors_to_the_login_page(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=" + path.replace("?", "%3F").replace("=", "%3D")


def test_it_logs_in_with_a_password_and_returns_to_the_page_asked_for(client, alice):
    item = make_item(1)
    assert client.get("/login/").status_code == 200

    response = client.post(
        "/login/", {"username": "alice", "password": "password", "next": f"/items/{item.pk}/"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/items/{item.pk}/"
    assert client.get(f"/items/{item.pk}/").status_code == 200


def test_it_refuses_a_wrong_password(client, alice):
    response = client.post("/login/", {"username": "alice", "password": "wrong", "next": "/"})

    assert response.status_code == 200
    assert b"didn't match" in response.content
    assert client.get("/").status_code == 302


def test_it_logs_out_on_post(alice_client):
    response = alice_client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert alice_client.get("/").status_code == 302


@pytest.mark.parametrize("path", ["/admin/", "/admin/triage/triageitem/"])
def test_it_keeps_the_admin_for_staff(client, alice, path):
    assert client.get(path).status_code == 302
    client.force_login(alice)
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_shows_the_admin_to_staff(client):
    staff = User.objects.create_user("sam", password="password", is_staff=True, is_superuser=True)
    item = make_item(1)
    Activity.objects.create(item=item, verb="created", actor_label="Sentry")
    client.force_login(staff)

    assert client.get("/admin/").status_code == 200
    changelist = client.get("/admin/triage/triageitem/")
    assert changelist.status_code == 200
    assert b"Item number 1" in changelist.content
    assert client.get(f"/admin/triage/triageitem/{item.pk}/change/").status_code == 200


def test_it_links_the_admin_only_for_staff(alice_client, alice):
    assert b'href="/admin/"' not in alice_client.get("/").content
    alice.is_staff = True
    alice.save()
    assert b'href="/admin/"' in alice_client.get("/").content


# --- The list --------------------------------------------------------------------------


def test_it_lists_open_items_most_recently_seen_first(alice_client):
    now = timezone.now()
    older = make_item(1, last_seen=now - timedelta(hours=5))
    newest = make_item(2, status=Status.TRIAGED, last_seen=now - timedelta(minutes=1))
    middle = make_item(3, status=Status.IN_PROGRESS, last_seen=now - timedelta(hours=1))
    make_item(4, status=Status.RESOLVED, last_seen=now)
    make_item(5, status=Status.IGNORED, last_seen=now)

    response = alice_client.get("/")

    assert response.status_code == 200
    assert listed_ids(response) == [newest.pk, middle.pk, older.pk]
    content = response.content.decode()
    assert '<span class="count" id="results-count">3</span>' in content
    assert "Item number 4" not in content and "Item number 5" not in content


def test_it_lists_items_created_from_real_webhooks(alice_client):
    deliver(alice_client, "issue", issue_payload())
    deliver(alice_client, "event_alert", event_payload("e4874d664c3540c1a32eab185f12c5ab"))

    content = alice_client.get("/").content.decode()

    assert "ReferenceError: blooopy is not defined" in content
    assert "FRONT-END-9" in content
    assert "ReferenceError: heck is not defined" in content
    assert content.count('data-item-id="') == 2


def test_it_pages_the_list_fifty_at_a_time(alice_client):
    service = Service.objects.create(slug="checkout", name="Checkout")
    items = [make_item(n, service=service) for n in range(1, 52)]

    first, second = alice_client.get("/"), alice_client.get("/?page=2")

    assert listed_ids(first) == [item.pk for item in items[:50]]
    assert listed_ids(second) == [items[50].pk]
    assert "Page 2 of 2" in second.content.decode()
    assert alice_client.get("/?page=nonsense").status_code == 200


def test_it_says_so_when_nothing_is_open(alice_client):
    make_item(1, status=Status.RESOLVED)

    response = alice_client.get("/?section=open")

    assert b"No open items" in response.content
    assert listed_ids(response) == []


# --- The detail page -------------------------------------------------------------------


@pytest.fixture
def webhook_item(alice_client):
    """An item built from real signed deliveries: an issue, three events and an assignment."""
    issue = {
        "shortId": "CHECKOUT-7",
        "title": "PricingError: cannot price cart 42",
        "culprit": "checkout.views in place_order",
        "project": {"id": "2", "name": "checkout", "slug": "checkout"},
    }
    deliver(alice_client, "issue", issue_payload(ISSUE_ID, **issue))
    for n, release in enumerate(["1.4.0", "1.4.1", "1.5.0"]):
        deliver(
            alice_client,
            "event_alert",
            event_payload(
                f"{n:032x}",
                ISSUE_ID,
                timestamp=1700000000.0 + n,
                release=release,
                environment="production",
                exception=CHAINED_EXCEPTION,
                tags=[["browser", "Chrome 75.0.3770"], ["customer_tier", "gold"]],
            ),
        )
    assignee = {"type": "user", "id": "1", "name": "Dana", "email": "dana@example.com"}
    deliver(alice_client, "issue", issue_payload(ISSUE_ID, action="assigned", assignedTo=assignee, **issue))
    return TriageItem.objects.get(sentry_issue_id=ISSUE_ID)


def test_it_shows_everything_about_an_item(alice_client, webhook_item):
    response = alice_client.get(f"/items/{webhook_item.pk}/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "PricingError: cannot price cart 42" in content
    assert "checkout.views in place_order" in content
    # Both exceptions of the chain, and frames marked in-app or not.
    assert "<code>PricingError</code>: cannot price cart 42" in content
    assert "<code>KeyError</code>: &#x27;sku&#x27;" in content
    in_app = re.findall(r'<li class="in-app">\s*<code>([^<]+)</code>\s*in <code>([^<]+)</code>', content)
    assert ("checkout/views.py:42", "place_order") in in_app
    assert ("checkout/cart.py:88", "line_price") in in_app
    assert re.search(r'<li class="system">\s*<code>django/core/handlers/base.py:197</code>', content)
    assert "total = price_cart(cart)" in content
    # Tags of the latest event.
    assert "<th>customer_tier</th><td>gold</td>" in content
    # Occurrences, newest first, with their releases.
    assert [occ.release for occ in response.context["occurrences"]] == ["1.5.0", "1.4.1", "1.4.0"]
    assert re.findall(r"<td>(1\.\d\.\d)</td>", content) == ["1.5.0", "1.4.1", "1.4.0"]
    assert f'<code title="{2:032x}">' in content  # the full event id, shown truncated
    # Timeline.
    assert re.search(r"<strong>Sentry</strong> assigned\s+to dana@example.com", content)
    assert re.search(r"<strong>Sentry</strong> created", content)
    assert f'href="{SENTRY_ISSUE_URL}"' in content
    assert "Open in Sentry" in content


def test_it_shows_an_item_known_only_from_an_issue_webhook(alice_client):
    deliver(alice_client, "issue", issue_payload())
    item = TriageItem.objects.get()

    content = alice_client.get(f"/items/{item.pk}/").content.decode()

    assert "<code>ReferenceError</code> blooopy is not defined" in content
    assert "No events received yet" in content
    assert "No tags yet" in content


def test_it_answers_404_for_an_unknown_item(alice_client):
    assert alice_client.get("/items/987654/").status_code == 404


def test_it_escapes_what_sentry_sends(alice_client):
    hostile = "<script>alert(1)</script>"
    exception = {
        "values": [
            {
                "type": "<b>Boom</b>",
                "value": hostile,
                "stacktrace": {
                    "frames": [
                        {
                            "filename": "<img src=x onerror=alert(2)>",
                            "function": "<i>f</i>",
                            "lineno": 1,
                            "in_app": True,
                            "context_line": hostile,
                        },
                    ]
                },
            }
        ]
    }
    deliver(
        alice_client,
        "event_alert",
        event_payload(
            "ev-hostile",
            ISSUE_ID,
            title=hostile,
            culprit=hostile,
            exception=exception,
            tags=[["<x>", hostile]],
        ),
    )
    deliver(alice_client, "issue", issue_payload("222", title=hostile, shortId="<svg onload=alert(3)>"))
    item = TriageItem.objects.get(sentry_issue_id=ISSUE_ID)

    pages = [
        alice_client.get("/").content.decode(),
        alice_client.get(f"/items/{item.pk}/").content.decode(),
        alice_client.get(f"/items/{TriageItem.objects.get(sentry_issue_id='222').pk}/").content.decode(),
    ]

    for content in pages:
        assert "<script>alert" not in content
        assert "<img src=x" not in content and "<svg onload" not in content and "<b>Boom" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


# --- Query counts do not grow with rows ------------------------------------------------


@pytest.mark.parametrize("rows", [1, 30])
def test_it_lists_with_a_fixed_number_of_queries(alice_client, django_assert_num_queries, rows):
    for n in range(rows):  # each item on its own service: a missing select_related would show
        make_item(n)

    with django_assert_num_queries(LIST_QUERIES):
        response = alice_client.get("/")

    assert len(listed_ids(response)) == rows


@pytest.mark.parametrize("rows", [1, 20])
def test_it_shows_an_item_with_a_fixed_number_of_queries(
    alice_client, alice, django_assert_num_queries, rows
):
    item = make_item(1)
    item.service.team = alice.teams.get()
    item.service.save()
    for n in range(rows):
        occurrence_create(event_id=f"ev{n}", item=item, timestamp=timezone.now() - timedelta(minutes=n))
        # Half the entries by a portal user, half by Sentry: a missing select_related would show.
        Activity.objects.create(
            item=item, verb="commented", actor=alice if n % 2 else None, actor_label="Sentry"
        )

    current_index()  # built once per process (and after a matcher change); then one token check per page
    with django_assert_num_queries(DETAIL_QUERIES):
        response = alice_client.get(f"/items/{item.pk}/")

    content = response.content.decode()
    assert content.count("<strong>alice</strong> commented") == rows // 2
    assert content.count("<strong>Sentry</strong> commented") == rows - rows // 2
    assert content.count('<code title="ev') == rows
