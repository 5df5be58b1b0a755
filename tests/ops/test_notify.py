"""Notifications in process, against a real local HTTP server: bodies, signature, keys, retries, failures."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from werkzeug import Response

from common.notifiers import EmailNotifier, Message, NotifierError, SignedWebhookNotifier, SlackNotifier
from ops import notify, services
from ops.models import Notification
from tests.ops.test_support import checkout, file_request, item, make_data_fix_item  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
SECRET = "s3cret"


@pytest.fixture
def channels(settings, httpserver):
    settings.OPS_SLACK_WEBHOOK_URL = httpserver.url_for("/slack")
    settings.OPS_WEBHOOK_URL = httpserver.url_for("/hook")
    settings.OPS_WEBHOOK_SECRET = SECRET
    settings.OPS_NOTIFY_BACKOFF_SECONDS = 0
    settings.PORTAL_BASE_URL = "https://triage.example.com"
    return httpserver


def send_all(fix, **filters):
    ids = Notification.objects.filter(request=fix, **filters).values_list("pk", flat=True)
    return {
        Notification.objects.get(pk=pk).channel: notify.notification_send(notification_id=pk) for pk in ids
    }


def requests_to(httpserver, path):
    return [request for request, _ in httpserver.log if request.path == path]


def test_it_notifies_ops_on_every_channel_with_the_right_body_and_signature(channels, alice, bob, item):
    channels.expect_request("/slack", method="POST").respond_with_data("ok")
    channels.expect_request("/hook", method="POST").respond_with_data("ok")
    fix = file_request(item, alice)

    assert send_all(fix) == {"slack": "sent", "webhook": "sent", "email": "sent"}

    [slack] = requests_to(channels, "/slack")
    body = slack.get_json()
    assert (
        "Data fix requested" in body["text"]
        and "BILLING-1: LedgerError: invoice 1 unbalanced" in body["text"]
    )
    assert f"https://triage.example.com/ops/requests/{fix.pk}/" in body["text"]
    assert (
        f"<https://triage.example.com/ops/requests/{fix.pk}/|BILLING-1" in body["blocks"][0]["text"]["text"]
    )
    [hook] = requests_to(channels, "/hook")
    expected = "sha256=" + hmac.new(SECRET.encode(), hook.get_data(), hashlib.sha256).hexdigest()
    assert hook.headers["X-Triage-Signature"] == expected
    payload = json.loads(hook.get_data())
    assert payload["event"] == "data_fix.created"
    assert payload["request"]["id"] == fix.pk and payload["request"]["urgency"] == "high"
    assert payload["item"]["short_id"] == "BILLING-1"
    assert hook.headers["X-Triage-Notification"] == f"datafix:{fix.pk}:created:webhook"
    [email] = mail.outbox
    assert email.to == ["bob@example.com"] and "Data fix requested" in email.subject


def test_it_sends_each_notification_once_however_often_it_is_asked(channels, alice, bob, item):
    channels.expect_request("/slack").respond_with_data("ok")
    channels.expect_request("/hook").respond_with_data("ok")
    fix = file_request(item, alice)
    send_all(fix)

    notify.notifications_plan(requests=[fix], event="created")  # a duplicate plan inserts nothing
    assert send_all(fix) == {"slack": None, "webhook": None, "email": None}  # duplicate task deliveries
    assert len(channels.log) == 2 and len(mail.outbox) == 1
    assert Notification.objects.filter(request=fix).count() == 3


def test_it_retries_a_5xx_then_delivers_once(channels, alice, item):
    channels.expect_ordered_request("/hook").respond_with_data("down", status=500)
    channels.expect_ordered_request("/hook").respond_with_data("ok")
    fix = file_request(item, alice)
    hook = Notification.objects.get(request=fix, channel="webhook")

    assert notify.notification_send(notification_id=hook.pk) == "pending"
    hook.refresh_from_db()
    assert hook.attempts == 1 and "HTTP 500" in hook.last_error
    assert notify.notification_send(notification_id=hook.pk) == "sent"
    assert len(requests_to(channels, "/hook")) == 2
    assert [a.ok for a in hook.attempt_log.order_by("started_at")] == [False, True]


def test_it_marks_a_channel_failed_after_the_last_try_and_others_still_go(
    channels, settings, alice, bob, item
):
    settings.OPS_NOTIFY_MAX_ATTEMPTS = 2
    channels.expect_request("/slack").respond_with_data("nope", status=503)
    channels.expect_request("/hook").respond_with_data("ok")
    fix = file_request(item, alice)
    slack = Notification.objects.get(request=fix, channel="slack")

    assert send_all(fix) == {"slack": "pending", "webhook": "sent", "email": "sent"}
    assert notify.notification_send(notification_id=slack.pk) == "failed"

    slack.refresh_from_db()
    assert slack.state == "failed" and "HTTP 503" in slack.last_error and "after 2 tries" in slack.last_error
    assert fix.events.filter(verb="notification_failed", data__channel="slack").exists()


def test_it_fails_at_once_on_a_4xx(channels, alice, item):
    channels.expect_request("/slack").respond_with_data("invalid_token", status=403)
    file_request(item, alice)

    assert notify.notification_send(notification_id=Notification.objects.get(channel="slack").pk) == "failed"
    assert "HTTP 403: invalid_token" in Notification.objects.get(channel="slack").last_error


def test_it_backs_off_exponentially_with_jitter(settings):
    settings.OPS_NOTIFY_BACKOFF_SECONDS, settings.OPS_NOTIFY_BACKOFF_MAX_SECONDS = 2, 60
    delays = {attempt: [notify.backoff_delay(attempt) for _ in range(50)] for attempt in (1, 3, 10)}

    assert all(1 <= d <= 2 for d in delays[1]) and all(4 <= d <= 8 for d in delays[3])
    assert all(30 <= d <= 60 for d in delays[10]) and len(set(delays[3])) > 1


def test_it_tells_the_requester_on_acknowledge_done_and_reject(channels, alice, bob, item):
    fix, other = file_request(item, alice), file_request(item, alice)
    services.datafix_acknowledge(request_id=fix.pk, user=bob)
    services.datafix_complete(request_id=fix.pk, user=bob, result="Rows fixed")
    services.datafix_reject(request_id=other.pk, user=bob, reason="Not ours")
    mail.outbox.clear()

    for event in ("acknowledged", "done", "rejected"):
        for notification in Notification.objects.filter(event=event, channel="email"):
            notify.notification_send(notification_id=notification.pk)

    assert [(m.to, m.subject.split(" #")[0]) for m in mail.outbox] == [
        (["alice@example.com"], "[Triage] Data fix acknowledged"),
        (["alice@example.com"], "[Triage] Data fix done"),
        (["alice@example.com"], "[Triage] Data fix rejected"),
    ]
    assert "Result: Rows fixed" in mail.outbox[1].body and "Reason: Not ours" in mail.outbox[2].body
    assert not Notification.objects.filter(event__in=["acknowledged", "done"], channel="slack").exists()


def test_a_resent_notification_goes_out_again_under_its_key(channels, settings, alice, bob, item):
    settings.OPS_NOTIFY_MAX_ATTEMPTS = 1
    channels.expect_ordered_request("/hook").respond_with_data("down", status=500)
    channels.expect_ordered_request("/hook").respond_with_data("ok")
    fix = file_request(item, alice)
    hook = Notification.objects.get(request=fix, channel="webhook")
    assert notify.notification_send(notification_id=hook.pk) == "failed"

    services.notification_resend(notification_id=hook.pk, user=bob)
    assert notify.notification_send(notification_id=hook.pk) == "sent"
    with pytest.raises(services.TransitionNotAllowed):
        services.notification_resend(notification_id=hook.pk, user=bob)


def test_it_requeues_only_stale_unclaimed_notifications(channels, alice, bob, item, monkeypatch):
    fix = file_request(item, alice)
    sent = []
    monkeypatch.setattr(notify, "_send_to_worker", lambda pk, countdown=None: sent.append(pk))
    old = timezone.now() - timedelta(minutes=5)
    stale, claimed, _ = Notification.objects.filter(request=fix).order_by("pk")
    Notification.objects.filter(pk__in=[stale.pk, claimed.pk]).update(next_attempt_at=old)
    Notification.objects.filter(pk=claimed.pk).update(claimed_until=timezone.now() + timedelta(minutes=1))

    assert notify.notifications_requeue_stale() == 1 and sent == [stale.pk]


# --- Secrets out of errors; any exception is a failed attempt ----------------------------------------

SLACK_PATH = "/services/T000/B000/XXXX"  # Slack's webhook path is its secret


def assert_no_slack_secret(*texts):
    for text in texts:
        assert "T000" not in text and "XXXX" not in text, text


def test_it_keeps_the_slack_webhooks_path_out_of_the_stored_and_shown_error(
    settings, httpserver, client, alice, bob, item
):
    settings.OPS_SLACK_WEBHOOK_URL = httpserver.url_for(SLACK_PATH)
    httpserver.expect_request(SLACK_PATH).respond_with_data("no_service", status=404)
    fix = file_request(item, alice)
    slack = Notification.objects.get(request=fix, channel="slack")

    assert notify.notification_send(notification_id=slack.pk) == "failed"

    slack.refresh_from_db()
    assert "/[redacted] answered HTTP 404: no_service" in slack.last_error
    event = fix.events.get(verb="notification_failed")
    assert_no_slack_secret(slack.last_error, slack.attempt_log.get().error, event.note)
    client.force_login(bob)
    page = client.get(f"/ops/requests/{fix.pk}/").content.decode()
    assert "/[redacted] answered HTTP 404" in page
    assert_no_slack_secret(page)


def test_it_keeps_the_path_out_of_the_error_when_the_webhooks_host_is_down(settings, alice, item):
    settings.OPS_SLACK_WEBHOOK_URL, settings.OPS_NOTIFY_MAX_ATTEMPTS = f"http://127.0.0.1:1{SLACK_PATH}", 1
    slack = Notification.objects.get(request=file_request(item, alice), channel="slack")

    assert notify.notification_send(notification_id=slack.pk) == "failed"

    slack.refresh_from_db()
    assert "could not reach http://127.0.0.1:1/[redacted]" in slack.last_error
    assert "url: /[redacted]" in slack.last_error  # requests' own repeat of the path
    assert_no_slack_secret(slack.last_error, slack.attempt_log.get().error)


def test_it_folds_a_line_break_in_the_item_title_into_the_email_subject(alice, bob, checkout):
    fix = file_request(make_data_fix_item(checkout, title="LedgerError:\r\ninvoice 7\x07unbalanced"), alice)
    email = Notification.objects.get(request=fix, channel="email")

    assert notify.notification_send(notification_id=email.pk) == "sent"

    [sent] = mail.outbox
    assert "BILLING-1: LedgerError: invoice 7 unbalanced" in sent.subject and sent.to == ["bob@example.com"]


def test_it_marks_any_exception_in_a_channel_a_failed_attempt_that_can_be_resent(alice, bob, item):
    email = Notification.objects.get(request=file_request(item, alice), channel="email")
    Notification.objects.filter(pk=email.pk).update(recipients=["bob@example.com\nBcc: eve@example.com"])

    assert notify.notification_send(notification_id=email.pk) == "failed"

    email.refresh_from_db()
    assert (email.state, email.claimed_until, email.attempts) == ("failed", None, 1)
    assert email.last_error.startswith("ValueError: Header values may not contain linefeed")
    [attempt] = email.attempt_log.all()
    assert not attempt.ok and attempt.error.startswith("ValueError")
    assert email.request.events.filter(verb="notification_failed", data__channel="email").exists()

    services.notification_resend(notification_id=email.pk, user=bob)
    Notification.objects.filter(pk=email.pk).update(recipients=["bob@example.com"])
    assert notify.notification_send(notification_id=email.pk) == "sent"
    assert mail.outbox[0].to == ["bob@example.com"]


# --- The transports on their own --------------------------------------------------------------------


def test_the_transports_raise_a_clear_error(httpserver):
    httpserver.expect_request("/gone").respond_with_response(Response("gone", status=410))
    message = Message(key="k", subject="s", text="t <b> & c", payload={"a": 1})

    with pytest.raises(NotifierError, match=r"answered HTTP 410: gone") as gone:
        SlackNotifier(httpserver.url_for("/gone")).send(message)
    assert gone.value.retryable is False
    with pytest.raises(NotifierError, match="could not reach") as refused:
        SignedWebhookNotifier("http://127.0.0.1:1/hook", secret="x", timeout=1).send(message)
    assert refused.value.retryable is True
    with pytest.raises(NotifierError, match="no recipients"):
        EmailNotifier([]).send(message)


def test_the_transports_errors_carry_no_webhook_path(httpserver):
    httpserver.expect_request(SLACK_PATH).respond_with_data("invalid_token", status=403)

    with pytest.raises(NotifierError) as refused:
        SlackNotifier(httpserver.url_for(SLACK_PATH + "?token=abc")).send(
            Message(key="k", subject="s", text="t")
        )

    assert str(refused.value) == f"{httpserver.url_for('/')}[redacted] answered HTTP 403: invalid_token"


def test_slack_text_is_escaped(httpserver):
    httpserver.expect_request("/slack").respond_with_data("ok")

    SlackNotifier(httpserver.url_for("/slack")).send(Message(key="k", subject="s", text="a <b> & c"))

    assert httpserver.log[0][0].get_json() == {"text": "a &lt;b&gt; &amp; c"}
