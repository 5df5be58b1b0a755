"""What the queue and the item page post: inline actions on one item and bulk actions on many.

They answer htmx with re-rendered rows (or the item body) and a toast; refusals are 403/400 with a
plain-text reason, never a 500."""

import json
import re
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import item_create, service_get
from triage.models import Team, TriageItem

pytestmark = pytest.mark.django_db
Status = TriageItem.Status
HTMX = {"HTTP_HX_REQUEST": "true"}
HOSTILE = "<script>alert(1)</script>"


def make(n, **fields):
    now = timezone.now()
    service = service_get(slug="shop", name="Shop")
    values = {
        "sentry_issue_id": str(7000 + n),
        "short_id": f"SHOP-{n}",
        "title": f"Problem number {n}",
        "service": service,
        "first_seen": now - timedelta(days=2),
        "last_seen": now - timedelta(minutes=n),
        "event_count": 4,
        "user_count": 2,
    }
    return item_create(**{**values, **fields})


def act(client, item, name, data=None, **extra):
    return client.post(f"/items/{item.pk}/actions/{name}/", data or {}, **{**HTMX, **extra})


def toast(response):
    return json.loads(response["HX-Trigger"])["toast"]


@pytest.fixture
def item(alice):
    """An item of alice's team."""
    return make(1, team=alice.teams.get())


# --- One item -------------------------------------------------------------------------------------


def test_it_classifies_inline_and_answers_with_the_row(alice_client, alice, item):
    response = act(
        alice_client, item, "classify", {"classification": "code_fix", "note": "cart total is None"}
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tr id="item-{item.pk}"')
    assert "hx-swap-oob" not in content  # htmx swaps it in place of the row it came from
    assert "Code fix" in content and "cart total is None" in content
    item.refresh_from_db()
    assert (item.classification, item.status, item.pinned_note) == (
        "code_fix",
        Status.TRIAGED,
        "cart total is None",
    )
    assert toast(response) == {"message": "Classified SHOP-1.", "level": "ok"}
    assert json.loads(response["HX-Trigger"])["queue-changed"] is True


@pytest.mark.parametrize(
    "name,data,expect",
    [
        ("take", {}, {"owner": "alice", "status": Status.IN_PROGRESS}),
        ("assign", {"owner": "bob"}, {"owner": "bob", "status": Status.NEW}),
        ("assign", {"owner": ""}, {"owner": None, "status": Status.NEW}),
        ("resolve", {}, {"owner": None, "status": Status.RESOLVED}),
        ("resolve", {"in_next_release": "true"}, {"owner": None, "status": Status.RESOLVED}),
    ],
)
def test_it_runs_each_action_inline(alice_client, bob, item, name, data, expect):
    response = act(alice_client, item, name, data)

    assert response.status_code == 200
    item.refresh_from_db()
    assert {"owner": item.owner.username if item.owner else None, "status": item.status} == expect
    assert f'<span class="status status-{expect["status"]}">' in response.content.decode()


def test_it_shows_a_resolved_row_closed_with_a_way_back(alice_client, item):
    content = act(alice_client, item, "resolve").content.decode()

    assert re.search(rf'<tr id="item-{item.pk}" class="row closed', content)
    assert f"/items/{item.pk}/actions/unresolve/" in content
    assert act(alice_client, item, "unresolve").status_code == 200
    item.refresh_from_db()
    assert item.status == Status.NEW


@pytest.mark.parametrize(
    "data,stored",
    [
        ({"condition": "forever"}, {"kind": "forever"}),
        (
            {"condition": "events", "events_count": "10", "users_count": "99"},
            {"kind": "events", "count": 10, "baseline": 4},
        ),
        (
            {"condition": "users", "events_count": "99", "users_count": "3"},
            {"kind": "users", "count": 3, "baseline": 2},
        ),
        (
            {"condition": "until", "until": "2099-01-02T09:30"},
            {"kind": "until", "until": "2099-01-02T09:30:00+00:00"},
        ),
        (
            {"until_events": "7"},
            {"kind": "events", "count": 7, "baseline": 4},
        ),  # the API's field names work too
    ],
)
def test_it_ignores_with_the_condition_chosen(alice_client, item, data, stored):
    response = act(alice_client, item, "ignore", {**data, "note": "bots"})

    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.status, item.ignore_condition, item.pinned_note) == (Status.IGNORED, stored, "bots")


def test_it_ignores_for_a_while(alice_client, item):
    act(alice_client, item, "ignore", {"condition": "for", "duration": "8h"})

    item.refresh_from_db()
    until = datetime.fromisoformat(item.ignore_condition["until"])
    assert abs(until - (timezone.now() + timedelta(hours=8))) < timedelta(seconds=10)


def test_it_comments_from_the_item_page(charlie, client, item):
    client.force_login(charlie)

    response = act(client, item, "comment", {"body": "Seen on staging too", "render": "item"})

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="item-body"')
    assert re.search(r"<strong>charlie</strong> commented", content)
    assert '<div class="comment">Seen on staging too</div>' in content


def test_it_answers_the_item_page_with_the_item_body(alice_client, item):
    response = act(alice_client, item, "take", {"render": "item"})

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="item-body"')
    assert "<strong>alice</strong> took it" in content


# --- Refusals -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_it_refuses_people_outside_the_team_with_403_and_the_reason(client, request, item, who):
    client.force_login(request.getfixturevalue(who))

    response = act(client, item, "resolve")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode() == "Only members of the Checkout team (or admins) can change this item."
    item.refresh_from_db()
    assert item.status == Status.NEW


def test_it_refuses_another_teams_item_even_to_a_developer(alice_client):
    other = make(2, team=Team.objects.create(slug="payments", name="Payments"))

    response = act(alice_client, other, "take")

    assert response.status_code == 403
    assert "Payments team" in response.content.decode()


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("classify", {"classification": "bogus"}, "Classification: "),
        ("classify", {}, "Classification: This field is required."),
        ("classify", {"classification": "duplicate"}, "A duplicate needs `duplicate_of`"),
        ("ignore", {"condition": "events", "events_count": "0"}, "Until events: "),
        ("ignore", {"condition": "until", "until": "2001-01-01T00:00"}, "`until` must be in the future."),
        ("ignore", {"condition": "sometime"}, "Condition: Choose how long to ignore"),
        ("ignore", {"condition": "for", "duration": "a fortnight"}, "Condition: Choose how long to ignore"),
        ("assign", {"owner": "nobody-by-that-name"}, "Owner: "),
    ],
)
def test_it_refuses_bad_input_with_400_and_a_readable_reason(alice_client, item, name, data, message):
    response = act(alice_client, item, name, data)

    assert response.status_code == 400
    assert response.content.decode().startswith(message)
    item.refresh_from_db()
    assert (item.status, item.classification) == (Status.NEW, "")


def test_it_needs_the_csrf_token(alice, item):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    assert act(client, item, "resolve").status_code == 403
    item.refresh_from_db()
    assert item.status == Status.NEW

    client.get("/")
    response = act(client, item, "resolve", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 200


def test_it_needs_a_login(client, item):
    response = act(client, item, "resolve")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert TriageItem.objects.get().status == Status.NEW


@pytest.mark.parametrize(
    "method,path,status",
    [
        ("get", "/items/{pk}/actions/resolve/", 405),
        ("post", "/items/{pk}/actions/explode/", 404),
        ("post", "/items/987654/actions/resolve/", 404),
        ("get", "/items/bulk/", 405),
    ],
)
def test_it_answers_wrong_requests_plainly(alice_client, item, method, path, status):
    assert getattr(alice_client, method)(path.format(pk=item.pk), **HTMX).status_code == status


def test_it_falls_back_to_a_redirect_without_javascript(alice_client, item):
    response = alice_client.post(f"/items/{item.pk}/actions/take/", {"next": "/?section=mine"})
    refused = alice_client.post(f"/items/{item.pk}/actions/classify/", {"next": "https://evil.example/"})

    assert (response.status_code, response["Location"]) == (302, "/?section=mine")
    assert (refused.status_code, refused["Location"]) == (302, f"/items/{item.pk}/")  # not off-site
    page = alice_client.get(f"/items/{item.pk}/").content.decode()
    assert "Classification: This field is required." in page


# --- Many items -----------------------------------------------------------------------------------


def bulk(client, items, action, **data):
    return client.post("/items/bulk/", {"ids": [item.pk for item in items], "action": action, **data}, **HTMX)


def test_it_runs_a_bulk_action_and_answers_with_every_row_out_of_band(alice_client, alice):
    items = [make(n, team=alice.teams.get()) for n in (1, 2, 3)]

    response = bulk(alice_client, items, "resolve")

    assert response.status_code == 200
    content = response.content.decode()
    assert content.count('hx-swap-oob="true"') == 3
    assert all(f'<tr id="item-{item.pk}"' in content for item in items)
    assert set(TriageItem.objects.values_list("status", flat=True)) == {Status.RESOLVED}
    assert toast(response) == {"message": "Resolved 3 items.", "level": "ok"}


def test_it_reports_the_items_a_bulk_action_could_not_change(alice_client, alice):
    mine = make(1, team=alice.teams.get())
    theirs = make(2, team=Team.objects.create(slug="payments", name="Payments"))

    response = bulk(alice_client, [mine, theirs], "classify", classification="data_fix", note="bad import")

    assert response.status_code == 200
    assert toast(response) == {
        "level": "warn",
        "message": "Classified 1 item. 1 not changed: SHOP-2: Only members "
        "of the Payments team (or admins) can change this item.",
    }
    assert TriageItem.objects.get(pk=mine.pk).classification == "data_fix"
    assert TriageItem.objects.get(pk=theirs.pk).classification == ""
    assert response.content.decode().count('hx-swap-oob="true"') == 2


def test_it_refuses_a_bulk_action_that_changed_nothing(client, bob, item):
    client.force_login(bob)

    response = bulk(client, [item], "take")

    assert response.status_code == 403
    assert "Checkout team" in response.content.decode()


def test_it_ignores_in_bulk_with_the_dialogs_condition(alice_client, alice):
    items = [make(n, team=alice.teams.get()) for n in (1, 2)]

    bulk(alice_client, items, "ignore", condition="users", users_count="5")

    assert [i.ignore_condition for i in TriageItem.objects.order_by("pk")] == [
        {"kind": "users", "count": 5, "baseline": 2}
    ] * 2


@pytest.mark.parametrize(
    "data",
    [
        {"action": "take"},
        {"ids": ["x"], "action": "take"},
        {"ids": ["1"], "action": "explode"},
        {"ids": ["1"], "action": "classify"},
    ],
)
def test_it_refuses_a_malformed_bulk_request_with_400(alice_client, item, data):
    response = alice_client.post("/items/bulk/", data, **HTMX)

    assert response.status_code == 400
    assert response.content.decode()


# --- Hostile text ---------------------------------------------------------------------------------


def test_it_escapes_hostile_text_in_rows_toasts_and_the_timeline(alice_client, item):
    TriageItem.objects.filter(pk=item.pk).update(title=HOSTILE, short_id="<i>X</i>", culprit=HOSTILE)
    note = "<img src=x onerror=alert(2)>"

    row = act(alice_client, item, "classify", {"classification": "no_action", "note": note})
    act(alice_client, item, "comment", {"body": HOSTILE})
    pages = [
        row.content.decode(),
        alice_client.get("/?section=all").content.decode(),
        alice_client.get(f"/items/{item.pk}/").content.decode(),
    ]

    for content in pages:
        assert "<script>alert" not in content and "<img src=x" not in content and "<i>X</i>" not in content
        assert "&lt;img src=x onerror=alert(2)&gt;" in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[2]
    assert toast(row)["message"] == "Classified <i>X</i>."  # plain text: the page sets it as textContent
