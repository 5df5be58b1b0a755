"""People's decisions on items, through the API: classify, take, assign, ignore, resolve, comment."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integrations.services import delivery_process
from tests.helpers import event_payload, issue_payload, post_webhook
from triage.actions import item_take
from triage.models import OwnershipRule, Team, TriageItem
from triage.services import items_wake_expired_ignores
from triage.signals import item_changed_for_sentry

pytestmark = pytest.mark.django_db
Status = TriageItem.Status


def deliver(client, resource, payload):
    assert (
        delivery_process(delivery_id=post_webhook(client, resource, payload).json()["delivery"])
        == "processed"
    )


@pytest.fixture
def item(client):
    deliver(client, "issue", issue_payload("1117540176", count="3", userCount=2))
    return TriageItem.objects.get()


@pytest.fixture
def sentry_changes():
    """What triage told Sentry, in order (the integrations listener is tested on its own)."""
    changes = []

    def listen(sender, item_id, change, actor_id, **kwargs):
        changes.append(change)

    item_changed_for_sentry.connect(listen, weak=False)
    yield changes
    item_changed_for_sentry.disconnect(listen)


def api_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def post(user, item, name, data=None):
    return api_for(user).post(f"/api/items/{item.pk}/{name}/", data or {}, format="json")


def test_it_classifies_and_pins_the_reason(alice, item, django_capture_on_commit_callbacks):
    response = post(
        alice, item, "classify", {"classification": "code_fix", "note": "null check missing in cart"}
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["classification"], body["status"], body["pinned_note"]) == (
        "code_fix",
        "triaged",
        "null check missing in cart",
    )
    item.refresh_from_db()
    assert item.triaged_at is not None
    assert (
        item.activities.filter(verb="classified", actor=alice).get().data["note"]
        == "null check missing in cart"
    )


def test_it_ignores_noise_forever_and_tells_sentry(
    alice, item, sentry_changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(alice, item, "classify", {"classification": "noise", "note": "bots"})

    assert response.json()["status"] == "ignored"
    assert response.json()["ignore_condition"] == {"kind": "forever"}
    assert sentry_changes == [{"status": "ignored", "substatus": "archived_forever"}]


def test_it_needs_another_item_for_a_duplicate(alice, item):
    response = post(alice, item, "classify", {"classification": "duplicate", "duplicate_of": item.pk})

    assert response.status_code == 400
    assert "duplicate_of" in response.json()["error"]


@pytest.mark.parametrize(
    "data", [{"classification": "bogus"}, {}, {"classification": "code_fix", "note": "x" * 5001}]
)
def test_it_refuses_a_bad_classification_with_400(alice, item, data):
    response = post(alice, item, "classify", data)

    assert response.status_code == 400
    assert response.json()["error"]
    assert TriageItem.objects.get().classification == ""


def test_it_takes_an_item_and_tells_sentry_the_assignee(
    alice, item, sentry_changes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        body = post(alice, item, "take").json()

    assert (body["owner"], body["status"]) == ("alice", "in_progress")
    assert sentry_changes == [{"assignedTo": "alice@example.com"}]


def test_it_assigns_and_unassigns(alice, bob, item):
    assert post(alice, item, "assign", {"owner": "bob"}).json()["owner"] == "bob"
    assert post(alice, item, "assign", {"owner": None}).json()["owner"] is None
    assert post(alice, item, "assign", {"owner": "nobody"}).status_code == 400


@pytest.mark.parametrize(
    "data,stored,sentry",
    [
        ({}, {"kind": "forever"}, {"status": "ignored", "substatus": "archived_forever"}),
        (
            {"until_events": 10},
            {"kind": "events", "count": 10, "baseline": 3},
            {"status": "ignored", "statusDetails": {"ignoreCount": 10}},
        ),
        (
            {"until_users": 5},
            {"kind": "users", "count": 5, "baseline": 2},
            {"status": "ignored", "statusDetails": {"ignoreUserCount": 5}},
        ),
    ],
)
def test_it_ignores_with_sentrys_conditions(
    alice, item, sentry_changes, django_capture_on_commit_callbacks, data, stored, sentry
):
    with django_capture_on_commit_callbacks(execute=True):
        body = post(alice, item, "ignore", data).json()

    assert (body["status"], body["ignore_condition"]) == ("ignored", stored)
    assert sentry_changes == [sentry]


def test_it_ignores_until_a_time_in_sentrys_minutes(
    alice, item, sentry_changes, django_capture_on_commit_callbacks
):
    until = timezone.now() + timedelta(hours=2, seconds=30)
    with django_capture_on_commit_callbacks(execute=True):
        body = post(alice, item, "ignore", {"until": until.isoformat()}).json()

    assert body["ignore_condition"]["kind"] == "until"
    assert sentry_changes == [{"status": "ignored", "statusDetails": {"ignoreDuration": 120}}]


@pytest.mark.parametrize(
    "data",
    [
        {"until_events": 0},
        {"until_events": "ten"},
        {"until": "yesterday"},
        {"until": "2001-01-01T00:00:00Z"},
        {"until_events": 3, "until_users": 3},
    ],
)
def test_it_refuses_a_bad_ignore_condition_with_400(alice, item, data):
    assert post(alice, item, "ignore", data).status_code == 400
    assert TriageItem.objects.get().status == Status.NEW


def test_it_wakes_an_item_ignored_until_n_more_events(client, alice, item):
    post(alice, item, "ignore", {"until_events": 2})
    deliver(client, "event_alert", event_payload("e1", "1117540176", timestamp=timezone.now().timestamp()))
    assert TriageItem.objects.get().status == Status.IGNORED

    deliver(client, "event_alert", event_payload("e2", "1117540176", timestamp=timezone.now().timestamp()))

    woken = TriageItem.objects.get()
    assert (woken.status, woken.ignore_condition) == (Status.NEW, {})
    assert woken.woke_at is not None
    assert woken.activities.filter(verb="woke_up").count() == 1


def test_it_wakes_an_item_ignored_until_a_time_once_it_passes(alice, item):
    post(alice, item, "ignore", {"until": (timezone.now() + timedelta(minutes=5)).isoformat()})

    assert items_wake_expired_ignores() == 0
    assert items_wake_expired_ignores(now=timezone.now() + timedelta(minutes=6)) == 1
    assert TriageItem.objects.get().status == Status.NEW


def test_it_resolves_and_unresolves(alice, item, sentry_changes, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(alice, item, "resolve", {"note": "fixed in #123"}).json()["status"] == "resolved"
        assert post(alice, item, "unresolve").json()["status"] == "new"

    assert sentry_changes == [{"status": "resolved"}, {"status": "unresolved"}]


def test_it_regresses_a_next_release_resolution_only_on_a_newer_release(client, alice):
    now = timezone.now().timestamp()
    deliver(client, "event_alert", event_payload("r1", "77", timestamp=now - 60, release="1.0"))
    item = TriageItem.objects.get()
    post(alice, item, "resolve", {"in_next_release": True})

    deliver(client, "event_alert", event_payload("r2", "77", timestamp=now - 30, release="1.0"))
    assert TriageItem.objects.get().status == Status.RESOLVED
    deliver(client, "event_alert", event_payload("r3", "77", timestamp=now, release="1.1"))
    assert TriageItem.objects.get().status == Status.NEW
    assert TriageItem.objects.get().regressed_at is not None


def test_it_adds_comments_for_anyone_logged_in(charlie, item):
    response = post(charlie, item, "comments", {"body": "seen this on staging too"})

    assert response.status_code == 200
    assert item.activities.get(verb="commented").data["body"] == "seen this on staging too"
    assert post(charlie, item, "comments", {"body": ""}).status_code == 400


# --- Permissions ------------------------------------------------------------------------


def test_it_lets_only_dev_change_an_item_without_a_team(charlie, bob, item):
    for user in (charlie, bob):
        response = post(user, item, "resolve")
        assert response.status_code == 403
        assert "dev group" in response.json()["detail"]
    assert TriageItem.objects.get().status == Status.NEW


def test_it_lets_only_the_owning_team_change_its_items(alice, item):
    payments = Team.objects.create(slug="payments", name="Payments")
    TriageItem.objects.filter(pk=item.pk).update(team=payments)
    item.refresh_from_db()

    assert post(alice, item, "take").status_code == 403
    payments.members.add(alice)
    assert post(alice, item, "take").status_code == 200


def test_it_lets_admins_change_any_item(item):
    admin = User.objects.create_user("root")
    admin.groups.add(Group.objects.get(name="admin"))
    TriageItem.objects.filter(pk=item.pk).update(team=Team.objects.create(slug="x", name="X"))

    assert post(admin, item, "resolve").status_code == 200


def test_it_needs_a_token_for_actions(item):
    assert APIClient().post(f"/api/items/{item.pk}/resolve/").status_code == 401


def test_it_answers_404_for_an_action_on_an_unknown_item(alice):
    assert api_for(alice).post("/api/items/999999/resolve/").status_code == 404


# --- Bulk ---------------------------------------------------------------------------------


def test_it_runs_a_bulk_action_item_by_item(client, alice):
    for issue in ("1", "2", "3"):
        deliver(client, "issue", issue_payload(issue))
    locked = TriageItem.objects.get(sentry_issue_id="3")
    TriageItem.objects.filter(pk=locked.pk).update(team=Team.objects.create(slug="other", name="Other"))
    ids = list(TriageItem.objects.order_by("pk").values_list("pk", flat=True))

    response = api_for(alice).post(
        "/api/items/bulk/", {"ids": ids, "action": "classify", "classification": "code_fix"}, format="json"
    )

    results = {row["id"]: row for row in response.json()["results"]}
    assert [results[pk]["ok"] for pk in ids] == [True, True, False]
    assert "Other" in results[locked.pk]["error"]
    assert TriageItem.objects.filter(classification="code_fix").count() == 2


@pytest.mark.parametrize(
    "data",
    [
        {"ids": [], "action": "take"},
        {"ids": [1], "action": "explode"},
        {"ids": "1,2", "action": "take"},
        {"ids": [1], "action": "classify"},
    ],
)
def test_it_refuses_a_malformed_bulk_request_with_400(alice, data):
    assert api_for(alice).post("/api/items/bulk/", data, format="json").status_code == 400


# --- Ownership rules on intake --------------------------------------------------------------


def test_it_sets_the_owning_team_from_the_first_matching_rule(client):
    checkout, web = (
        Team.objects.create(slug="checkout", name="Checkout"),
        Team.objects.create(slug="web", name="Web"),
    )
    OwnershipRule.objects.create(kind="tag", pattern="browser.name:Chr*", team=web, position=2)
    path_rule = OwnershipRule.objects.create(kind="path", pattern="*/runner-4.1.*", team=checkout, position=1)

    deliver(client, "event_alert", event_payload("o1", "500"))

    item = TriageItem.objects.get()
    assert (item.team, item.ownership_rule) == (checkout, path_rule)


def test_it_falls_back_to_the_services_team(client):
    team = Team.objects.create(slug="fe", name="Front end")
    deliver(client, "issue", issue_payload("501"))
    service = TriageItem.objects.get().service
    service.team = team
    service.save()

    deliver(client, "issue", issue_payload("502"))

    assert TriageItem.objects.get(sentry_issue_id="502").team == team
    assert TriageItem.objects.get(sentry_issue_id="501").team is None


def test_it_keeps_what_the_worker_recorded_after_the_page_was_read(client, alice, item):
    as_the_page_read_it = TriageItem.objects.get(pk=item.pk)
    deliver(client, "event_alert", event_payload("meanwhile-1", "1117540176"))
    deliver(client, "event_alert", event_payload("meanwhile-2", "1117540176"))

    item_take(item=as_the_page_read_it, user=alice)

    now = TriageItem.objects.get(pk=item.pk)
    assert (now.owner, now.event_count) == (alice, item.event_count + 2)
    assert now.latest_event["event_id"] == "meanwhile-2"
