"""Echoes of the portal's own pushes are told by what it pushed (SentrySync rows), never by the actor.

For a change made through any Sentry app, Sentry names the app *receiving* the webhook as the actor
(AppPlatformEvent.get_actor), so another integration's resolve, or an automation's, looks like ours.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SentrySync
from tests.helpers import issue_payload, post_webhook
from triage.models import TriageItem

pytestmark = pytest.mark.django_db
ISSUE_ID = "1170820242"
APP_ACTOR = {"type": "application", "id": "b3c1a0e2-receiving-app", "name": "Triage Portal"}


@pytest.fixture
def item(client, process_all):
    post_webhook(client, "issue", issue_payload(ISSUE_ID))
    process_all()
    return TriageItem.objects.get()


def pushed(item, change, *, ago=timedelta(seconds=5), state=SentrySync.State.SENT):
    """A change the portal pushed `ago`; what Sentry sends back within the echo window is its echo."""
    at = timezone.now() - ago
    return SentrySync.objects.create(
        item=item,
        change=change,
        state=state,
        created_at=at,
        sent_at=at if state == SentrySync.State.SENT else None,
    )


def from_an_app(client, process_all, action, **fields):
    payload = issue_payload(ISSUE_ID, action=action, **fields)
    payload["actor"] = APP_ACTOR
    post_webhook(client, "issue", payload)
    assert process_all() == ["processed"]
    return TriageItem.objects.get()


def test_it_resolves_on_another_apps_resolve_when_it_pushed_nothing(client, process_all, item):
    item = from_an_app(client, process_all, "resolved", status="resolved")

    assert (item.status, item.sentry_status) == (TriageItem.Status.RESOLVED, "resolved")
    assert item.activities.get(verb="resolved").actor_label == "Sentry"


def test_it_skips_its_own_resolve_coming_back(client, process_all, item):
    pushed(item, {"status": "resolved"})

    item = from_an_app(client, process_all, "resolved", status="resolved")

    assert item.status == TriageItem.Status.NEW  # the portal's own state stands (a person reopened it since)
    assert item.sentry_status == "resolved"  # and Sentry's is what Sentry says
    assert not item.activities.filter(verb="resolved").exists()


def test_it_applies_another_apps_resolve_after_the_echo_window(client, process_all, item, settings):
    pushed(item, {"status": "resolved"}, ago=timedelta(minutes=10))
    assert settings.SENTRY_ECHO_WINDOW_SECONDS < 600

    item = from_an_app(client, process_all, "resolved", status="resolved")

    assert item.status == TriageItem.Status.RESOLVED
    assert item.activities.filter(verb="resolved").count() == 1


def test_it_applies_an_apps_change_other_than_the_one_it_pushed(client, process_all, item):
    pushed(item, {"status": "ignored", "substatus": "archived_forever"})

    item = from_an_app(
        client, process_all, "ignored", status="ignored", substatus="archived_until_escalating"
    )

    assert (item.status, item.ignore_condition) == (TriageItem.Status.IGNORED, {"kind": "escalating"})


@pytest.mark.parametrize(
    "sent,assigned_to",
    [
        ("alice@example.com", {"type": "user", "id": "42", "name": "Alice", "email": "Alice@example.com"}),
        ("alice", {"type": "user", "id": "42", "name": "alice", "email": "alice@example.com"}),
        ("user:42", {"type": "user", "id": "42", "name": "Alice", "email": "alice@example.com"}),
        ("team:7", {"type": "team", "id": "7", "name": "payments"}),
        ("", None),
    ],
    ids=["email", "username", "user id", "team id", "nobody"],
)
def test_it_skips_its_own_assignment_coming_back(client, process_all, item, sent, assigned_to):
    pushed(item, {"assignedTo": sent})

    item = from_an_app(client, process_all, "assigned", status="unresolved", assignedTo=assigned_to)

    assert not item.activities.filter(verb="assigned").exists()
    assert item.sentry_assignee_info == (
        {**assigned_to, "email": assigned_to.get("email", "")} if assigned_to else {}
    )


@pytest.mark.parametrize(
    "sent,assigned_to",
    [
        ("payments", {"type": "team", "id": "7", "name": "payments"}),  # a username we sent is never a team
        ("user:7", {"type": "team", "id": "7", "name": "payments"}),
        ("team:42", {"type": "user", "id": "42", "name": "Alice", "email": "alice@example.com"}),
        ("alice@example.com", {"type": "user", "id": "43", "name": "Bob", "email": "bob@example.com"}),
    ],
    ids=["username vs team", "user id vs team", "team id vs user", "another user"],
)
def test_it_records_an_assignment_unlike_the_one_it_pushed(client, process_all, item, sent, assigned_to):
    pushed(item, {"assignedTo": sent})

    item = from_an_app(client, process_all, "assigned", status="unresolved", assignedTo=assigned_to)

    assert item.activities.get(verb="assigned").data["assignee"] == item.sentry_assignee != ""
