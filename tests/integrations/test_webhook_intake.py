"""The Sentry webhook endpoints: what they accept, what they refuse, and that nothing accepted is lost."""

import json
import time
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from integrations.models import SentrySync, WebhookDelivery
from integrations.services import delivery_process
from tests.helpers import (
    INTEGRATION_SAMPLES,
    WEBHOOK_URL,
    compact,
    event_payload,
    issue_payload,
    post_legacy,
    post_webhook,
    sample,
    signed_headers,
)
from triage.models import Occurrence, TriageItem

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


@pytest.mark.parametrize("resource,name", INTEGRATION_SAMPLES)
def test_it_accepts_every_published_sample(client, resource, name, process_all):
    response = post_webhook(client, resource, sample(name))

    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery"])
    assert delivery.resource == resource
    assert delivery.action == sample(name)["action"]
    assert bytes(delivery.body) == compact(sample(name))
    assert process_all() == [Status.PROCESSED]


def test_it_creates_an_item_from_issue_created(client, process_all):
    post_webhook(client, "issue", sample("integration-issue-created"))
    process_all()

    item = TriageItem.objects.get()
    assert item.sentry_issue_id == "1170820242"
    assert item.short_id == "FRONT-END-9"
    assert item.title == "ReferenceError: blooopy is not defined"
    assert item.culprit == "?(runner)"
    assert (item.level, item.platform, item.project_slug) == ("error", "javascript", "front-end")
    assert item.service.slug == "front-end"
    assert (item.event_count, item.user_count) == (1, 1)
    assert item.first_seen == datetime(2019, 8, 19, 20, 58, 37, 391000, tzinfo=UTC)
    assert item.status == TriageItem.Status.NEW
    assert item.exception_type == "ReferenceError"
    assert list(item.activities.values_list("verb", flat=True)) == ["created"]


def test_it_creates_an_item_from_an_event_for_an_unknown_issue(client, process_all):
    post_webhook(client, "event_alert", sample("integration-event_alert-triggered"))
    process_all()

    item = TriageItem.objects.get()
    assert item.sentry_issue_id == "1117540176"
    assert item.service.slug == "front-end"  # from the event's API url, not the numeric project
    assert item.sentry_url == "https://sentry.io/organizations/test-org/issues/1117540176/"
    assert item.latest_event["exception_type"] == "ReferenceError"
    assert len(item.latest_event["exceptions"][0]["frames"]) == 3
    assert item.latest_event["request_url"] == "https://null.jsbin.com/runner"
    assert item.tags["browser"] == "Chrome 75.0.3770"
    occurrence = Occurrence.objects.get()
    assert occurrence.event_id == "e4874d664c3540c1a32eab185f12c5ab"
    assert occurrence.timestamp == datetime.fromtimestamp(1566248777.677, tz=UTC)


def test_it_accepts_the_legacy_plugin_payload(client, process_all):
    response = post_legacy(client, sample("legacy-plugin-webhook"))
    process_all()

    assert response.status_code == 202
    item = TriageItem.objects.get()
    assert item.sentry_issue_id == "1385042923"
    assert item.service.slug == "meow"
    assert item.title == "ReferenceError: hello is not defined"
    assert item.sentry_url == "https://sentry.io/organizations/meredith/issues/1385042923/"
    assert Occurrence.objects.get().event_id == "af17d39f6a5d4c19ae5a735043a3bd97"


def test_it_records_installation_without_creating_items(client, process_all):
    post_webhook(client, "installation", sample("integration-installation-created"))

    assert process_all() == [Status.PROCESSED]
    assert not TriageItem.objects.exists()


def test_it_keeps_one_item_and_one_occurrence_for_the_same_delivery_twice(client, process_all):
    payload = sample("integration-error-created")
    post_webhook(client, "error", payload)
    post_webhook(client, "error", payload)

    assert process_all() == [Status.PROCESSED, Status.DUPLICATE]
    assert TriageItem.objects.get().event_count == 1
    assert Occurrence.objects.count() == 1


def test_it_counts_the_same_event_through_two_resources_once(client, process_all):
    post_webhook(client, "error", event_payload("ev1", resource="error"))
    post_webhook(client, "event_alert", event_payload("ev1", resource="event_alert"))

    assert process_all() == [Status.PROCESSED, Status.DUPLICATE]
    assert TriageItem.objects.get().event_count == 1


def test_it_is_safe_to_process_a_delivery_twice(client):
    post_webhook(client, "event_alert", event_payload("ev1"))
    delivery = WebhookDelivery.objects.get()

    assert delivery_process(delivery_id=delivery.pk) == Status.PROCESSED
    assert delivery_process(delivery_id=delivery.pk) is None
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert TriageItem.objects.get().event_count == 1


def test_it_counts_distinct_events_and_keeps_the_newest_as_latest(client, process_all):
    post_webhook(client, "event_alert", event_payload("new", timestamp=1700000100.0, release="2.0"))
    post_webhook(client, "event_alert", event_payload("old", timestamp=1700000000.0, release="1.0"))
    process_all()

    item = TriageItem.objects.get()
    assert item.event_count == 2
    assert item.latest_event["event_id"] == "new"
    assert item.latest_event["release"] == "2.0"
    assert item.last_seen == datetime.fromtimestamp(1700000100.0, tz=UTC)


def test_it_reopens_a_resolved_item_as_regressed_on_a_new_event(client, process_all):
    post_webhook(client, "event_alert", event_payload("ev1"))
    post_webhook(client, "issue", issue_payload("1117540176", action="resolved", status="resolved"))
    process_all()
    assert TriageItem.objects.get().status == TriageItem.Status.RESOLVED

    post_webhook(client, "event_alert", event_payload("ev2"))
    process_all()

    item = TriageItem.objects.get()
    assert item.status == TriageItem.Status.NEW
    assert item.regressed_at is not None
    assert item.resolved_at is None
    assert list(item.activities.order_by("id").values_list("verb", flat=True)) == [
        "created",
        "resolved",
        "regressed",
    ]


@pytest.mark.parametrize(
    "action,status,substatus,expected,verb",
    [
        ("resolved", "resolved", "", "resolved", "resolved"),
        ("ignored", "ignored", "archived_forever", "ignored", "ignored"),
        ("archived", "ignored", "archived_until_escalating", "ignored", "ignored"),
    ],
)
def test_it_follows_status_changes_made_in_sentry(
    client, action, status, substatus, expected, verb, process_all
):
    post_webhook(client, "issue", issue_payload())
    post_webhook(client, "issue", issue_payload(action=action, status=status, substatus=substatus))
    process_all()

    item = TriageItem.objects.get()
    assert item.status == expected
    assert item.sentry_status == status
    assert item.activities.filter(verb=verb, actor_label="Sentry").count() == 1


def test_it_reopens_on_unresolved_and_marks_regressions(client, process_all):
    post_webhook(client, "issue", issue_payload(action="resolved", status="resolved"))
    post_webhook(
        client, "issue", issue_payload(action="unresolved", status="unresolved", substatus="regressed")
    )
    process_all()

    item = TriageItem.objects.get()
    assert item.status == TriageItem.Status.NEW
    assert item.regressed_at is not None


def test_it_records_the_sentry_resolution_type(client, process_all):
    payload = issue_payload(action="resolved", status="resolved", statusDetails={"inNextRelease": True})
    payload["data"]["resolution_type"] = "in_next_release"
    post_webhook(client, "issue", payload)
    process_all()

    activity = TriageItem.objects.get().activities.get(verb="resolved")
    assert activity.data["resolution_type"] == "in_next_release"
    assert activity.data["status_details"]["inNextRelease"] is True


def test_it_records_assignment_in_sentry(client, process_all):
    assignee = {"type": "user", "id": "1", "name": "Dana", "email": "dana@example.com"}
    post_webhook(client, "issue", issue_payload(action="assigned", assignedTo=assignee))
    process_all()

    item = TriageItem.objects.get()
    assert item.sentry_assignee == "dana@example.com"
    assert item.activities.filter(verb="assigned").get().data["assignee"] == "dana@example.com"


def test_it_does_not_flip_state_on_the_echo_of_our_own_change(client, process_all):
    post_webhook(client, "issue", issue_payload())
    process_all()
    # What we pushed tells an echo, not the actor (tests/integrations/test_sentry_echo.py).
    SentrySync.objects.create(
        item=TriageItem.objects.get(),
        change={"status": "resolved"},
        state=SentrySync.State.SENT,
        sent_at=timezone.now(),
    )
    echo = issue_payload(action="resolved", status="resolved", count="7")
    echo["actor"] = {"type": "application", "id": "b3c1a0e2-portal-app", "name": "Triage Portal"}
    post_webhook(client, "issue", echo)
    process_all()

    item = TriageItem.objects.get()
    assert item.status == TriageItem.Status.NEW
    assert item.event_count == 7  # figures still refresh
    assert list(item.activities.values_list("verb", flat=True)) == ["created"]


def test_it_never_lowers_figures_on_an_out_of_order_delivery(client, process_all):
    post_webhook(client, "issue", issue_payload(count="10", lastSeen="2019-08-20T00:00:00Z"))
    post_webhook(
        client, "issue", issue_payload(action="assigned", count="3", lastSeen="2019-08-19T21:00:00Z")
    )
    process_all()

    item = TriageItem.objects.get()
    assert item.event_count == 10
    assert item.last_seen == datetime(2019, 8, 20, tzinfo=UTC)


# --- Refused requests: a clear JSON error, the right status, never a 500 -----------------


def test_it_refuses_a_missing_signature(client):
    body = compact(sample("integration-issue-created"))
    response = client.post(
        WEBHOOK_URL,
        body,
        content_type="application/json",
        HTTP_SENTRY_HOOK_RESOURCE="issue",
        HTTP_SENTRY_HOOK_TIMESTAMP=str(int(time.time())),
    )

    assert response.status_code == 401
    assert "Sentry-Hook-Signature" in response.json()["error"]
    assert WebhookDelivery.objects.get().status == Status.REJECTED
    assert not TriageItem.objects.exists()


def test_it_refuses_a_signature_made_with_another_secret(client):
    response = post_webhook(client, "issue", sample("integration-issue-created"), secret="not-our-secret")

    assert response.status_code == 401
    assert response.json() == {"error": "signature does not match the body"}


def test_it_refuses_a_body_changed_after_signing(client):
    body = compact(sample("integration-issue-created"))
    headers = signed_headers(body, "issue")
    response = client.post(
        WEBHOOK_URL, body.replace(b"blooopy", b"bloopy!"), content_type="application/json", **headers
    )

    assert response.status_code == 401


def test_it_refuses_a_capture_replayed_after_five_minutes(client):
    response = post_webhook(client, "issue", sample("integration-issue-created"), timestamp=time.time() - 301)

    assert response.status_code == 401
    assert "5 minutes" in response.json()["error"]
    assert WebhookDelivery.objects.get().status == Status.REJECTED


def test_it_absorbs_a_replay_inside_the_window_as_a_duplicate(client, process_all):
    body = compact(sample("integration-issue-created"))
    headers = signed_headers(body, "issue")
    for _ in range(2):
        assert client.post(WEBHOOK_URL, body, content_type="application/json", **headers).status_code == 202

    assert process_all() == [Status.PROCESSED, Status.DUPLICATE]
    assert TriageItem.objects.get().activities.count() == 1


def test_it_answers_401_when_the_portal_has_no_secret(client, settings):
    settings.SENTRY_CLIENT_SECRET = ""
    response = post_webhook(client, "issue", sample("integration-issue-created"), secret="anything")

    assert response.status_code == 401
    assert "SENTRY_CLIENT_SECRET" in response.json()["error"]


def test_it_refuses_malformed_json_with_400(client):
    response = post_webhook(client, "issue", b'{"action": "created", "data": {')

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "not valid JSON" in response.json()["error"]
    assert WebhookDelivery.objects.get().status == Status.REJECTED


@pytest.mark.parametrize(
    "resource,payload,message",
    [
        ("issue", [1, 2, 3], "JSON object"),
        ("issue", {"action": "created"}, "`action` and object `data`"),
        ("issue", {"action": "created", "data": {"issue": "nope"}}, "`issue` must be an object"),
        ("issue", {"action": "created", "data": {"issue": {"title": "no id"}}}, "data.issue.id"),
        (
            "issue",
            {"action": "created", "data": {"issue": {"id": "1", "firstSeen": "yesterday"}}},
            "timestamp",
        ),
        ("event_alert", {"action": "triggered", "data": {"event": {"title": "x"}}}, "event_id"),
        ("error", {"action": "created", "data": {}}, "`error` must be an object"),
        ("", {"action": "created", "data": {}}, "Sentry-Hook-Resource"),
    ],
)
def test_it_refuses_payloads_of_the_wrong_shape_with_400(client, resource, payload, message):
    response = post_webhook(client, resource, payload)

    assert response.status_code == 400
    assert message in response.json()["error"]


def test_it_refuses_a_body_over_one_mebibyte_with_413(client):
    payload = sample("integration-issue-created")
    payload["data"]["padding"] = "x" * (1024 * 1024)
    response = post_webhook(client, "issue", payload)

    assert response.status_code == 413
    assert "limit" in response.json()["error"]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, bytes(delivery.body)) == (Status.REJECTED, b"")


def test_it_stores_the_configured_limit_as_the_reason_of_a_413(client, settings):
    settings.WEBHOOK_MAX_BODY_BYTES = 100

    assert post_webhook(client, "issue", sample("integration-issue-created")).status_code == 413
    assert WebhookDelivery.objects.get().last_error == "body over the 100 byte limit"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_it_refuses_other_methods_with_405(client, method):
    response = getattr(client, method)(WEBHOOK_URL)

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert response.json()["error"].startswith("method not allowed")


def test_it_refuses_a_wrong_legacy_token(client):
    response = post_legacy(client, sample("legacy-plugin-webhook"), token="guess")

    assert response.status_code == 401
    assert WebhookDelivery.objects.get().status == Status.REJECTED


def test_it_refuses_a_malformed_legacy_payload(client):
    response = post_legacy(client, {"id": "1", "event": "not an object"})

    assert response.status_code == 400


def test_it_does_not_need_a_login_or_csrf_token(client):
    client.handler.enforce_csrf_checks = True
    assert post_webhook(client, "issue", sample("integration-issue-created")).status_code == 202


@pytest.mark.parametrize("issue_first", [True, False])
def test_it_counts_the_event_that_created_the_issue_once_in_either_order(client, issue_first, process_all):
    issue, event = sample("integration-issue-created"), sample("integration-error-created")
    for resource, payload in (
        [("issue", issue), ("error", event)] if issue_first else [("error", event), ("issue", issue)]
    ):
        post_webhook(client, resource, payload)
    process_all()

    assert TriageItem.objects.get().event_count == 1


def test_it_adds_events_newer_than_sentrys_count(client, process_all):
    post_webhook(client, "issue", issue_payload("1117540176", count="40", lastSeen="2023-11-14T22:13:20Z"))
    post_webhook(client, "event_alert", event_payload("older", timestamp=1699999000.0))
    post_webhook(client, "event_alert", event_payload("newer", timestamp=1700000500.0))
    process_all()

    assert TriageItem.objects.get().event_count == 41


# --- Refused requests keep only what a person needs, within caps (issue 18, finding 2) -----


def unsigned_flood_request(client, request_id="flood"):
    """An unsigned POST with 90 random 6 KB headers and a 64 KiB body, as in the finding."""
    noise = {f"HTTP_X_NOISE_{n}": "n" * 6000 for n in range(90)}
    return client.post(
        WEBHOOK_URL,
        b"{" + b"x" * 65535,
        content_type="application/json",
        HTTP_SENTRY_HOOK_RESOURCE="issue",
        HTTP_REQUEST_ID=request_id,
        **noise,
    )


def test_it_keeps_an_excerpt_the_reason_and_a_few_headers_of_an_unsigned_request(client, settings):
    response = unsigned_flood_request(client)

    assert response.status_code == 401
    rejected = WebhookDelivery.objects.get()
    assert rejected.status == Status.REJECTED
    assert rejected.last_error == "missing Sentry-Hook-Signature header"
    assert len(bytes(rejected.body)) == settings.WEBHOOK_REJECTED_BODY_BYTES
    assert set(rejected.headers) <= {
        "Sentry-Hook-Resource",
        "Sentry-Hook-Timestamp",
        "Sentry-Hook-Signature",
        "Request-Id",
        "Content-Type",
        "Content-Length",
        "User-Agent",
        "X-Forwarded-For",
    }
    assert rejected.headers["Request-Id"] == "flood"
    assert len(json.dumps(rejected.headers)) < 2000


def test_it_stops_keeping_refused_requests_past_the_cap_per_minute(client, settings):
    settings.WEBHOOK_REJECTED_PER_MINUTE = 5
    answers = [unsigned_flood_request(client, request_id=f"flood-{n}").status_code for n in range(8)]

    assert answers == [401] * 8
    assert WebhookDelivery.objects.filter(status=Status.REJECTED).count() == 5


def test_it_keeps_only_the_newest_refused_requests_past_the_total_cap(client, settings):
    settings.WEBHOOK_REJECTED_MAX_ROWS = 3
    accepted = post_webhook(client, "issue", sample("integration-issue-created")).json()["delivery"]
    for n in range(5):
        unsigned_flood_request(client, request_id=f"flood-{n}")

    kept = WebhookDelivery.objects.filter(status=Status.REJECTED).order_by("pk")
    assert [row.headers["Request-Id"] for row in kept] == ["flood-2", "flood-3", "flood-4"]
    assert WebhookDelivery.objects.filter(pk=accepted, status=Status.PENDING).exists()


# --- Signature and timestamp headers that are not what Sentry sends (finding 5) ------------


@pytest.mark.parametrize("signature", ["é" * 64, "\u2028", "a" * 63 + "\u00ff", "\x00" * 64])
def test_it_refuses_a_signature_that_is_not_hex_with_401(client, signature):
    body = compact(sample("integration-issue-created"))
    headers = {**signed_headers(body, "issue"), "HTTP_SENTRY_HOOK_SIGNATURE": signature}
    response = client.post(WEBHOOK_URL, body, content_type="application/json", **headers)

    assert response.status_code == 401
    assert "Sentry-Hook-Signature" in response.json()["error"] or "signature" in response.json()["error"]


def arabic_indic(text):
    return text.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@pytest.mark.parametrize(
    "timestamp",
    [
        "nan",
        "NaN",
        "inf",
        "-inf",
        "1e400",
        "-1e400",
        "9" * 400,
        "",
        " ",
        "1_7e9",
        arabic_indic(str(int(time.time()))),
        str(int(time.time())).replace("1", "\uff11"),
        "\x00",
        "\ud800",
    ],
)
def test_it_refuses_a_timestamp_that_is_not_seconds_near_now_with_401(client, timestamp):
    body = compact(sample("integration-issue-created"))
    headers = {**signed_headers(body, "issue"), "HTTP_SENTRY_HOOK_TIMESTAMP": timestamp}
    response = client.post(WEBHOOK_URL, body, content_type="application/json", **headers)

    assert response.status_code == 401
    assert "Sentry-Hook-Timestamp" in response.json()["error"]
    assert not WebhookDelivery.objects.filter(status=Status.PENDING).exists()


@pytest.mark.parametrize("token", ["tökén", "%ED%A0%80", "%00", "🔑" * 40])
def test_it_refuses_a_non_ascii_legacy_token_with_401(client, token):
    response = client.post(
        f"/integrations/sentry/legacy/{token}/",
        compact(sample("legacy-plugin-webhook")),
        content_type="application/json",
    )

    assert response.status_code == 401
    assert response.json() == {"error": "wrong token in the webhook URL"}


# --- Every column of the INSERT is bounded before it (finding 6) ----------------------------


def long_issue_id(payload):
    payload["data"]["issue"]["id"] = "1" * 33


def long_action(payload):
    payload["action"] = "a" * 51


def nul_in_issue_id(payload):
    payload["data"]["issue"]["id"] = "117\x000242"


def nul_in_action(payload):
    payload["action"] = "created\x00"


def surrogate_in_action(payload):
    payload["action"] = "created\ud800"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "mutate", [long_issue_id, long_action, nul_in_issue_id, nul_in_action, surrogate_in_action]
)
def test_it_refuses_a_signed_body_with_an_identifier_the_columns_cannot_hold_with_400(client, mutate):
    payload = sample("integration-issue-created")
    mutate(payload)
    response = post_webhook(client, "issue", payload)

    assert response.status_code == 400
    assert response.json()["error"]
    assert WebhookDelivery.objects.get().status == Status.REJECTED


@pytest.mark.postgres
@pytest.mark.parametrize("resource", ["r" * 51, "iss\x00ue", "issué", "\ud800"])
def test_it_refuses_a_signed_body_with_a_malformed_resource_header_with_400(client, resource):
    response = post_webhook(client, resource, sample("integration-issue-created"))

    assert response.status_code == 400
    assert "Sentry-Hook-Resource" in response.json()["error"]
    stored = WebhookDelivery.objects.get().resource
    assert len(stored) <= 50 and "\x00" not in stored


@pytest.mark.postgres
@pytest.mark.parametrize("request_id", ["r" * 5000, "req\x00id", "req\ud800id", "réq"])
def test_it_stores_a_signed_delivery_whose_headers_hold_nul_or_lone_surrogates(client, request_id):
    body = compact(sample("integration-issue-created"))
    headers = {
        **signed_headers(body, "issue"),
        "HTTP_REQUEST_ID": request_id,
        "HTTP_USER_AGENT": "Sentry\x00\udfff",
    }
    response = client.post(WEBHOOK_URL, body, content_type="application/json", **headers)

    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery"])
    assert bytes(delivery.body) == body
    assert len(delivery.request_id) <= 100 and "\x00" not in delivery.request_id
    assert "\x00" not in delivery.headers["User-Agent"]
    assert delivery_process(delivery_id=delivery.pk) == Status.PROCESSED


# --- A signed body replayed with fresh headers is a duplicate (finding 7) --------------------


def post_again(client, body, resource, *, request_id=None, timestamp=None):
    headers = signed_headers(body, resource, timestamp=timestamp)
    if request_id:
        headers["HTTP_REQUEST_ID"] = request_id
    return client.post(WEBHOOK_URL, body, content_type="application/json", **headers)


@pytest.mark.parametrize("resource,name", INTEGRATION_SAMPLES)
def test_it_marks_a_body_replayed_with_a_fresh_timestamp_and_request_id_duplicate(
    client, resource, name, process_all
):
    body = compact(sample(name))
    assert post_again(client, body, resource).status_code == 202
    assert post_again(client, body, resource, timestamp=time.time() + 30).status_code == 202

    assert process_all() == [Status.PROCESSED, Status.DUPLICATE]


def test_it_does_not_resolve_again_on_a_replayed_resolve(client, process_all):
    resolve = compact(issue_payload(action="resolved", status="resolved"))
    post_again(client, resolve, "issue")
    post_webhook(client, "issue", issue_payload(action="unresolved", status="unresolved"))
    process_all()
    post_again(client, resolve, "issue", timestamp=time.time() + 60)

    assert process_all() == [Status.DUPLICATE]
    assert TriageItem.objects.get().status == TriageItem.Status.NEW


def test_it_marks_a_second_delivery_with_the_same_request_id_duplicate(client, process_all):
    post_again(client, compact(event_payload("first")), "event_alert", request_id="sentry-req-1")
    post_again(client, compact(event_payload("second")), "event_alert", request_id="sentry-req-1")

    assert process_all() == [Status.PROCESSED, Status.DUPLICATE]
    assert Occurrence.objects.get().event_id == "first"
