"""Pushing people's changes to Sentry, against a real HTTP server playing Sentry's web API."""

import socket
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SentrySync
from integrations.sentry_sync import backoff_delay, sync_push, syncs_requeue_stale
from integrations.services import delivery_process
from integrations.tasks import push_to_sentry
from tests.helpers import FAKE_SENTRY_TOKEN, issue_payload, point_at_fake_sentry, post_webhook, sample
from tests.processes import celery_worker, flush_broker, wait_for
from triage.actions import item_resolve
from triage.models import TriageItem
from triage.signals import item_changed_for_sentry

pytestmark = pytest.mark.django_db
State = SentrySync.State
TOKEN = FAKE_SENTRY_TOKEN
ISSUE_ID = "1170820242"
ISSUE_PATH = f"/api/0/organizations/test-org/issues/{ISSUE_ID}/"
BEARER = {"Authorization": f"Bearer {TOKEN}"}

CHANGES = {
    "resolve": {"status": "resolved"},
    "unresolve": {"status": "unresolved"},
    "ignore forever": {"status": "ignored", "substatus": "archived_forever"},
    "ignore for 90 minutes": {"status": "ignored", "statusDetails": {"ignoreDuration": 90}},
    "ignore until 100 more events": {"status": "ignored", "statusDetails": {"ignoreCount": 100}},
    "ignore until 10 more users": {"status": "ignored", "statusDetails": {"ignoreUserCount": 10}},
    "assign": {"assignedTo": "alice@example.com"},
    "unassign": {"assignedTo": ""},
}


@pytest.fixture
def sentry(httpserver, settings):
    """The fake Sentry; the portal is configured to call it."""
    point_at_fake_sentry(settings, httpserver)
    settings.SENTRY_SYNC_BACKOFF_SECONDS = 0.01
    return httpserver


@pytest.fixture
def enqueued(monkeypatch):
    """(sync id, countdown) of each push sent to the worker; nothing reaches a real broker here."""
    sent = []
    monkeypatch.setattr(
        push_to_sentry,
        "apply_async",
        lambda args, countdown=None, **kwargs: sent.append((args[0], countdown)),
    )
    return sent


@pytest.fixture
def item(client):
    response = post_webhook(client, "issue", issue_payload(ISSUE_ID))
    assert delivery_process(delivery_id=response.json()["delivery"]) == "processed"
    return TriageItem.objects.get()


@pytest.fixture
def tell_sentry(django_capture_on_commit_callbacks):
    """Send the signal as triage does after a person's change commits; returns the SentrySync it created."""

    def send(item, change, actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            item_changed_for_sentry.send(
                sender=TriageItem, item_id=item.pk, change=change, actor_id=actor.pk if actor else None
            )
        return SentrySync.objects.order_by("pk").last()

    return send


def sentry_answers(server, *responses):
    """Each PUT to the issue gets the next response: an int status, or (status, headers)."""
    for answer in responses:
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        body = (
            sample("api-issue-update-response") if status == 200 else {"detail": f"fake Sentry says {status}"}
        )
        server.expect_oneshot_request(ISSUE_PATH, method="PUT").respond_with_json(
            body, status=status, headers=headers
        )


def push_until_done(sync, rounds=10):
    """What the worker does: push, and when told to retry, wait until the retry is due and push again."""
    for _ in range(rounds):
        sync.refresh_from_db()
        if sync.state != State.PENDING:
            return sync
        time.sleep(max(0.0, (sync.next_attempt_at - timezone.now()).total_seconds()))
        sync_push(sync_id=sync.pk)
    raise AssertionError(f"still pending after {rounds} rounds: {sync.last_error}")


def refused_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_it_puts_each_change_to_the_issue_with_the_bearer_token(
    sentry, enqueued, item, tell_sentry, alice, change
):
    sentry.expect_oneshot_request(ISSUE_PATH, method="PUT", json=change, headers=BEARER).respond_with_json(
        sample("api-issue-update-response")
    )
    sync = tell_sentry(item, change, actor=alice)

    assert enqueued == [(sync.pk, None)]
    assert TriageItem.objects.get().sentry_sync_state == "pending"
    assert sync_push(sync_id=sync.pk) == State.SENT

    sentry.check_assertions()
    assert len(sentry.log) == 1
    sync.refresh_from_db()
    assert (sync.state, sync.attempts, sync.actor, sync.change) == (State.SENT, 1, alice, change)
    assert sync.sent_at is not None
    assert TriageItem.objects.get().sentry_sync_state == "synced"


def test_it_pushes_a_resolve_made_through_triages_own_action(
    sentry, enqueued, item, alice, django_capture_on_commit_callbacks
):
    sentry.expect_oneshot_request(
        ISSUE_PATH, method="PUT", json={"status": "resolved"}, headers=BEARER
    ).respond_with_json(sample("api-issue-update-response"))
    with django_capture_on_commit_callbacks(execute=True):
        item_resolve(item=item, user=alice, note="fixed in #123")

    ((sync_id, _),) = enqueued
    assert sync_push(sync_id=sync_id) == State.SENT

    sentry.check_assertions()
    item.refresh_from_db()
    assert (item.status, item.sentry_sync_state) == (TriageItem.Status.RESOLVED, "synced")
    assert SentrySync.objects.get().actor == alice


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_it_fails_at_once_on_a_permanent_error_and_says_so_on_the_item(
    sentry, enqueued, item, tell_sentry, status
):
    TriageItem.objects.filter(pk=item.pk).update(status=TriageItem.Status.RESOLVED)  # the person's change
    sentry_answers(sentry, status)
    sync = tell_sentry(item, {"status": "resolved"})

    assert sync_push(sync_id=sync.pk) == State.FAILED

    assert len(sentry.log) == 1
    assert enqueued == [(sync.pk, None)]  # no retry scheduled
    sync.refresh_from_db()
    assert (sync.state, sync.attempts) == (State.FAILED, 1)
    item.refresh_from_db()
    assert item.status == TriageItem.Status.RESOLVED  # the portal keeps its own change
    assert item.sentry_sync_state == "failed"
    assert f"Sentry answered {status}" in item.sentry_sync_error
    assert f"fake Sentry says {status}" in item.sentry_sync_error
    assert item.activities.get(verb="sentry_sync_failed").data["error"] == item.sentry_sync_error


def test_it_waits_as_long_as_retry_after_says_then_sends_once(sentry, enqueued, item, tell_sentry):
    sentry_answers(sentry, (429, {"Retry-After": "1"}), 200)
    sync = tell_sentry(item, {"status": "resolved"})

    assert sync_push(sync_id=sync.pk) == State.PENDING
    sync.refresh_from_db()
    assert (sync.next_attempt_at - timezone.now()).total_seconds() > 0.8
    assert enqueued[-1][0] == sync.pk and enqueued[-1][1] >= 1.0
    assert sync_push(sync_id=sync.pk) is None  # too early: nothing is sent
    assert len(sentry.log) == 1

    push_until_done(sync)

    assert [response.status_code for _, response in sentry.log] == [429, 200]
    assert SentrySync.objects.get().state == State.SENT


def test_it_retries_server_errors_with_backoff_until_sent(sentry, enqueued, item, tell_sentry):
    sentry_answers(sentry, 500, 502, 200)
    sync = tell_sentry(item, {"assignedTo": "alice@example.com"})

    push_until_done(sync)

    assert [response.status_code for _, response in sentry.log] == [500, 502, 200]
    sync.refresh_from_db()
    assert (sync.state, sync.attempts, sync.last_error) == (State.SENT, 3, "")
    assert len(enqueued) == 3  # the first push and two retries
    assert not item.activities.filter(verb="sentry_sync_failed").exists()
    assert TriageItem.objects.get().sentry_sync_state == "synced"


def test_it_retries_when_sentry_cannot_be_reached(sentry, settings, enqueued, item, tell_sentry):
    settings.SENTRY_API_URL = f"http://127.0.0.1:{refused_port()}"
    sentry_answers(sentry, 200)
    sync = tell_sentry(item, {"status": "resolved"})

    assert sync_push(sync_id=sync.pk) == State.PENDING
    sync.refresh_from_db()
    assert "could not reach Sentry" in sync.last_error

    settings.SENTRY_API_URL = sentry.url_for("").rstrip("/")  # Sentry is back
    push_until_done(sync)
    assert SentrySync.objects.get().state == State.SENT
    assert len(sentry.log) == 1


def test_it_gives_up_after_the_last_attempt(sentry, settings, enqueued, item, tell_sentry):
    settings.SENTRY_SYNC_MAX_ATTEMPTS = 3
    sentry_answers(sentry, 503, 503, 503, 200)
    sync = tell_sentry(item, {"status": "resolved"})

    push_until_done(sync)

    assert len(sentry.log) == 3
    sync.refresh_from_db()
    assert (sync.state, sync.attempts) == (State.FAILED, 3)
    item.refresh_from_db()
    assert item.sentry_sync_state == "failed"
    assert "503" in item.sentry_sync_error and "gave up after 3 attempts" in item.sentry_sync_error
    assert item.activities.filter(verb="sentry_sync_failed").count() == 1


def test_it_backs_off_exponentially_with_jitter_and_honours_retry_after(settings):
    settings.SENTRY_SYNC_BACKOFF_SECONDS, settings.SENTRY_SYNC_BACKOFF_MAX_SECONDS = 2, 300
    delays = [backoff_delay(attempt) for attempt in range(1, 6)]

    for attempt, delay in enumerate(delays, start=1):
        assert 2**attempt / 2 <= delay <= 2**attempt
    assert 150 <= backoff_delay(20) <= 300
    assert backoff_delay(1, retry_after=30) == 30


@pytest.mark.parametrize("setting", ["SENTRY_AUTH_TOKEN", "SENTRY_ORG_SLUG"])
def test_it_sends_and_records_nothing_when_not_configured(
    sentry, settings, enqueued, item, tell_sentry, setting
):
    setattr(settings, setting, "")

    assert tell_sentry(item, {"status": "resolved"}) is None

    assert enqueued == []
    assert sentry.log == []
    assert TriageItem.objects.get().sentry_sync_state == ""


def test_it_is_safe_to_push_the_same_change_twice(sentry, enqueued, item, tell_sentry):
    sentry_answers(sentry, 200)
    sync = tell_sentry(item, {"status": "resolved"})

    assert sync_push(sync_id=sync.pk) == State.SENT
    assert sync_push(sync_id=sync.pk) is None

    assert len(sentry.log) == 1
    assert SentrySync.objects.get().attempts == 1


def test_it_refuses_a_second_attempt_while_one_is_in_flight(sentry, enqueued, item, tell_sentry):
    sync = tell_sentry(item, {"status": "resolved"})
    SentrySync.objects.filter(pk=sync.pk).update(claimed_until=timezone.now() + timedelta(seconds=30))

    assert sync_push(sync_id=sync.pk) is None
    assert sentry.log == []


def test_it_does_not_send_a_change_a_newer_one_overtook(sentry, enqueued, item, tell_sentry):
    sentry.expect_oneshot_request(ISSUE_PATH, method="PUT", json={"status": "unresolved"}).respond_with_json(
        {}
    )
    resolve = tell_sentry(item, {"status": "resolved"})
    unresolve = tell_sentry(item, {"status": "unresolved"})
    assign = tell_sentry(item, {"assignedTo": "bob@example.com"})

    assert sync_push(sync_id=unresolve.pk) == State.SENT
    assert sync_push(sync_id=resolve.pk) == State.SUPERSEDED

    sentry.check_assertions()
    assert len(sentry.log) == 1
    assert SentrySync.objects.get(pk=assign.pk).state == State.PENDING  # another field: not overtaken
    assert TriageItem.objects.get().sentry_sync_state == "pending"


def test_it_keeps_the_change_when_the_broker_is_down_and_beat_requeues_it(
    sentry, monkeypatch, item, tell_sentry
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(push_to_sentry, "apply_async", broker_down)
    sync = tell_sentry(item, {"status": "resolved"})  # does not raise into triage
    assert SentrySync.objects.get().state == State.PENDING

    requeued = []
    monkeypatch.setattr(push_to_sentry, "apply_async", lambda args, **kwargs: requeued.append(args[0]))
    assert syncs_requeue_stale() == 0  # not stale yet
    SentrySync.objects.filter(pk=sync.pk).update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    assert syncs_requeue_stale() == 1
    assert requeued == [sync.pk]


# --- Echoes: with a user token, Sentry reports our change as that user's ------------------


def sentry_webhook(client, action, status, actor_type="user"):
    payload = issue_payload(ISSUE_ID, action=action, status=status)
    payload["actor"] = {"type": actor_type, "id": "7", "name": "Token Owner"}
    return delivery_process(delivery_id=post_webhook(client, "issue", payload).json()["delivery"])


def test_it_takes_a_user_webhook_equal_to_a_recent_push_as_our_echo(
    client, sentry, enqueued, item, tell_sentry
):
    sentry_answers(sentry, 200, 200)
    TriageItem.objects.filter(pk=item.pk).update(status=TriageItem.Status.RESOLVED)
    sync_push(sync_id=tell_sentry(item, {"status": "resolved"}).pk)
    TriageItem.objects.filter(pk=item.pk).update(status=TriageItem.Status.NEW)  # unresolved again at once
    sync_push(sync_id=tell_sentry(item, {"status": "unresolved"}).pk)

    assert sentry_webhook(client, "resolved", "resolved") == "processed"  # the first push's echo, late

    item.refresh_from_db()
    assert item.status == TriageItem.Status.NEW
    assert not item.activities.filter(verb="resolved").exists()


def test_it_lets_sentry_win_when_nothing_was_pushed_recently(client, sentry, enqueued, item, tell_sentry):
    sentry_answers(sentry, 200)
    sync = tell_sentry(item, {"status": "unresolved"})
    sync_push(sync_id=sync.pk)
    SentrySync.objects.filter(pk=sync.pk).update(sent_at=timezone.now() - timedelta(minutes=10))

    sentry_webhook(client, "resolved", "resolved")

    item.refresh_from_db()
    assert item.status == TriageItem.Status.RESOLVED
    assert item.activities.get(verb="resolved").actor_label == "Token Owner (Sentry)"


def test_it_keeps_the_portals_state_while_its_push_is_pending(client, sentry, enqueued, item, tell_sentry):
    TriageItem.objects.filter(pk=item.pk).update(status=TriageItem.Status.IGNORED)
    tell_sentry(item, {"status": "ignored", "substatus": "archived_forever"})

    sentry_webhook(client, "unresolved", "unresolved")  # Sentry's state from before our push lands

    assert TriageItem.objects.get().status == TriageItem.Status.IGNORED


def test_it_stops_muting_sentry_for_a_push_stuck_pending_for_an_hour(
    client, sentry, enqueued, item, tell_sentry
):
    TriageItem.objects.filter(pk=item.pk).update(status=TriageItem.Status.IGNORED)
    sync = tell_sentry(item, {"status": "ignored", "substatus": "archived_forever"})
    SentrySync.objects.filter(pk=sync.pk).update(created_at=timezone.now() - timedelta(minutes=61))

    sentry_webhook(client, "unresolved", "unresolved")

    assert TriageItem.objects.get().status == TriageItem.Status.NEW


# --- The item page's retry button --------------------------------------------------------


def retry_url(item):
    return f"/integrations/sentry/sync/{item.pk}/retry/"


@pytest.fixture
def failed_sync(sentry, enqueued, item, tell_sentry):
    sentry_answers(sentry, 401)
    sync = tell_sentry(item, {"status": "resolved"})
    assert sync_push(sync_id=sync.pk) == State.FAILED
    enqueued.clear()
    return sync


def test_it_sends_a_failed_change_again_from_the_retry_button(
    alice_client, sentry, enqueued, item, failed_sync, django_capture_on_commit_callbacks
):
    sentry.expect_oneshot_request(ISSUE_PATH, method="PUT", json={"status": "resolved"}).respond_with_json({})

    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(retry_url(item), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    assert TriageItem.objects.get().sentry_sync_state == "pending"
    ((retry_id, _),) = enqueued
    assert sync_push(sync_id=retry_id) == State.SENT
    assert [response.status_code for _, response in sentry.log] == [401, 200]
    assert TriageItem.objects.get().sentry_sync_state == "synced"
    assert SentrySync.objects.get(pk=failed_sync.pk).state == State.FAILED  # kept as history


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    "next_url,expected",
    [
        (None, "/items/{pk}/"),
        ("/items/{pk}/?tab=activity", "/items/{pk}/?tab=activity"),
        ("https://evil.example.com/", "/items/{pk}/"),
    ],
)
def test_it_redirects_a_plain_form_post_back_to_the_page(
    alice_client, enqueued, item, failed_sync, next_url, expected
):
    data = {"next": next_url.format(pk=item.pk)} if next_url else {}
    response = alice_client.post(retry_url(item), data, HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 302
    assert response["Location"] == expected.format(pk=item.pk)
    assert SentrySync.objects.filter(state=State.PENDING).count() == 1


def test_it_does_not_resend_a_change_a_newer_one_overtook(
    alice_client, sentry, enqueued, item, tell_sentry, failed_sync
):
    sentry_answers(sentry, 200)
    sync_push(sync_id=tell_sentry(item, {"status": "unresolved"}).pk)
    enqueued.clear()

    response = alice_client.post(retry_url(item))

    assert response.status_code == 409
    assert response.json() == {"error": "no failed change to retry"}
    assert enqueued == []


def test_it_refuses_retry_to_someone_who_may_not_change_the_item(
    client, charlie, item, failed_sync, enqueued
):
    client.force_login(charlie)
    response = client.post(retry_url(item))

    assert response.status_code == 403
    assert "error" in response.json()
    assert enqueued == []


def test_it_sends_anonymous_retry_to_the_login_page(client, item, failed_sync):
    response = client.post(retry_url(item))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_answers_405_to_a_get_on_retry(alice_client, item, failed_sync):
    assert alice_client.get(retry_url(item)).status_code == 405


# --- On a real worker ----------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_pushes_through_a_real_worker_and_retries_there(client, httpserver, settings, tmp_path):
    configuration = {
        "SENTRY_API_URL": httpserver.url_for("").rstrip("/"),
        "SENTRY_AUTH_TOKEN": TOKEN,
        "SENTRY_ORG_SLUG": "test-org",
    }
    for name, value in configuration.items():
        setattr(settings, name, value)  # for this process, which receives the signal
    sentry_answers(httpserver, 500, 200)
    delivery_process(delivery_id=post_webhook(client, "issue", issue_payload(ISSUE_ID)).json()["delivery"])
    item = TriageItem.objects.get()
    flush_broker()
    try:
        with celery_worker(tmp_path, **configuration, SENTRY_SYNC_BACKOFF_SECONDS="0.05"):
            item_changed_for_sentry.send(
                sender=TriageItem, item_id=item.pk, change={"status": "resolved"}, actor_id=None
            )
            # The sync row and then the item are updated, one after the other: wait for both.
            wait_for(
                lambda: (
                    SentrySync.objects.get().state == State.SENT
                    and TriageItem.objects.get().sentry_sync_state == "synced"
                ),
                message="push sent by the worker",
            )
    finally:
        flush_broker()

    assert [response.status_code for _, response in httpserver.log] == [500, 200]
    assert [request.get_json() for request, _ in httpserver.log] == [{"status": "resolved"}] * 2
    assert TriageItem.objects.get().sentry_sync_state == "synced"
