"""Data-fix notifications through a real Redis broker and a real Celery worker, to a real local HTTP
server."""

import hashlib
import hmac
import json
import os
import signal
import time

import psycopg
import pytest
import requests
from rest_framework.authtoken.models import Token

from ops.models import DataFixRequest, Notification
from ops.tasks import requeue_stale_notifications
from tests.ops.test_support import Api, checkout, item  # noqa: F401 (fixtures)
from tests.processes import celery_worker, database_url_for_tests, pool_children, wait_for, web_server

pytestmark = [
    pytest.mark.worker,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_broker"),
]
SECRET = "worker-test-secret"


@pytest.fixture
def channels(settings, httpserver):
    """Both web channels at the local server, in this process (which plans) and in the worker (which
    sends)."""
    env = {
        "OPS_SLACK_WEBHOOK_URL": httpserver.url_for("/slack"),
        "OPS_WEBHOOK_URL": httpserver.url_for("/hook"),
        "OPS_WEBHOOK_SECRET": SECRET,
        "OPS_NOTIFY_BACKOFF_SECONDS": "0.2",
        "OPS_NOTIFY_MAX_ATTEMPTS": "3",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": "1",
    }  # no mail server: the email channel fails on its own
    settings.OPS_SLACK_WEBHOOK_URL, settings.OPS_WEBHOOK_URL = (
        env["OPS_SLACK_WEBHOOK_URL"],
        env["OPS_WEBHOOK_URL"],
    )
    settings.OPS_WEBHOOK_SECRET = SECRET
    return env


def file_over_api(client, user, item):
    response = Api(client, user).post(
        f"/api/items/{item.pk}/data-fixes/",
        {"description": "Set invoice 42's total to 10.00", "urgency": "high"},
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def received(httpserver, path):
    return [request for request, _ in httpserver.log if request.path == path]


def state(notification_id):
    return Notification.objects.values_list("state", flat=True).get(pk=notification_id)


def test_it_notifies_ops_through_a_real_worker_with_the_signed_body(
    client, tmp_path, httpserver, channels, alice, bob, item
):
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")

    with celery_worker(tmp_path, **channels):
        fix_id = file_over_api(client, alice, item)
        wait_for(
            lambda: Notification.objects.filter(request_id=fix_id, state="pending").count() == 0,
            timeout=60,
            message="every channel sent or failed",
        )

    [hook], [slack] = received(httpserver, "/hook"), received(httpserver, "/slack")
    body = hook.get_data()
    assert (
        hook.headers["X-Triage-Signature"]
        == "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    )
    payload = json.loads(body)
    assert payload["event"] == "data_fix.created" and payload["request"]["id"] == fix_id
    assert payload["item"]["title"] == item.title
    assert (
        f"/ops/requests/{fix_id}/" in slack.get_json()["text"] and item.short_id in slack.get_json()["text"]
    )
    channels_state = dict(Notification.objects.filter(request_id=fix_id).values_list("channel", "state"))
    assert channels_state == {
        "slack": "sent",
        "webhook": "sent",
        "email": "failed",
    }  # the failure held nobody up
    email = Notification.objects.get(request_id=fix_id, channel="email")
    assert email.attempts == 3 and "could not send mail" in email.last_error


def test_a_500_then_200_is_retried_and_delivered_once(client, tmp_path, httpserver, channels, alice, item):
    httpserver.expect_oneshot_request("/hook").respond_with_data("busy", status=500)
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/slack").respond_with_data("ok")

    with celery_worker(tmp_path, **channels):
        fix_id = file_over_api(client, alice, item)
        hook = Notification.objects.get(request_id=fix_id, channel="webhook")
        wait_for(lambda: state(hook.pk) == "sent", timeout=60, message="webhook delivered")
        time.sleep(1)  # room for a wrong extra send to show up

    tries = received(httpserver, "/hook")
    assert len(tries) == 2
    assert {t.headers["X-Triage-Notification"] for t in tries} == {f"datafix:{fix_id}:created:webhook"}
    assert [a.ok for a in hook.attempt_log.order_by("started_at")] == [False, True]


def test_a_worker_killed_mid_notification_neither_loses_nor_repeats_it(
    client, tmp_path, httpserver, channels, alice, item
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    only_webhook = {**channels, "OPS_SLACK_WEBHOOK_URL": ""}
    fix_id = file_over_api(client, alice, item)  # its task waits in the broker until a worker starts
    hook = Notification.objects.get(request_id=fix_id, channel="webhook")

    with (
        psycopg.connect(database_url_for_tests()) as blocker,
        psycopg.connect(database_url_for_tests(), autocommit=True) as watcher,
    ):
        # Hold the notification's row so the worker's claim blocks inside the task.
        blocker.execute("SELECT id FROM ops_notification WHERE id = %s FOR UPDATE", [hook.pk])
        with celery_worker(tmp_path, **only_webhook) as worker:
            wait_for(lambda: _lock_waiters(watcher) > 0, message="worker blocked claiming the notification")
            os.kill(pool_children(worker)[0], signal.SIGKILL)
            time.sleep(0.5)
            blocker.rollback()
            # The dead worker's claim still went through (its server-side statement finished), so the
            # redelivered task finds the notification leased and leaves it: nothing is sent twice...
            wait_for(lambda: "received" in _redelivery(tmp_path), message="task redelivered")
            time.sleep(1)
            assert received(httpserver, "/hook") == [] and state(hook.pk) == "pending"
            # ...and nothing is lost: once the lease runs out, beat's sweep sends it.
            Notification.objects.filter(pk=hook.pk).update(
                claimed_until="2000-01-01T00:00:00Z", next_attempt_at="2000-01-01T00:00:00Z"
            )
            requeue_stale_notifications.delay()
            wait_for(lambda: state(hook.pk) == "sent", timeout=60, message="sent after the lease ran out")
            time.sleep(1)  # room for a wrong second send to show up

    assert len(received(httpserver, "/hook")) == 1


def test_it_keeps_a_request_filed_while_the_broker_is_down_and_notifies_once_it_is_back(
    tmp_path, httpserver, channels, alice, item
):
    httpserver.expect_request("/hook").respond_with_data("ok")
    httpserver.expect_request("/slack").respond_with_data("ok")
    token = Token.objects.create(user=alice).key

    with web_server(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0", **channels) as base_url:
        started = time.monotonic()
        response = requests.post(
            f"{base_url}/api/items/{item.pk}/data-fixes/",
            timeout=10,
            json={"description": "Fix invoice 42", "urgency": "high"},
            headers={"Authorization": f"Token {token}"},
        )
        elapsed = time.monotonic() - started

    assert response.status_code == 201, response.text
    assert elapsed < 3
    fix_id = response.json()["id"]
    assert DataFixRequest.objects.get(pk=fix_id).state == "requested"
    assert set(Notification.objects.filter(request_id=fix_id).values_list("state", flat=True)) == {"pending"}
    assert httpserver.log == []

    Notification.objects.filter(request_id=fix_id).update(next_attempt_at="2000-01-01T00:00:00Z")
    with celery_worker(tmp_path, **channels):
        requeue_stale_notifications.delay()  # what beat runs every minute
        wait_for(
            lambda: len(received(httpserver, "/hook")) == 1 and len(received(httpserver, "/slack")) == 1,
            timeout=60,
            message="notified once the broker is back",
        )
        time.sleep(1)
    assert len(received(httpserver, "/hook")) == 1


def _redelivery(tmp_path):
    """The worker log after the kill: a second `received` line is the redelivered task."""
    log = (tmp_path / "worker.log").read_text()
    return log.split("WorkerLostError", 1)[1] if "WorkerLostError" in log else ""


def _lock_waiters(conn):
    row = conn.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    ).fetchone()
    return row[0]
