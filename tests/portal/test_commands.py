"""The management commands: seed_demo, send_test_webhook and replay_deliveries."""

import json
import socket
import time
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from integrations import demo
from integrations.models import WebhookDelivery
from integrations.sentry_auth import sign
from integrations.sentry_payloads import LEGACY
from integrations.services import delivery_process
from integrations.tasks import drain_deliveries
from tests.helpers import WEBHOOK_URL, compact, issue_payload, post_webhook, sample
from triage.models import Occurrence, Team, TriageItem

Status = WebhookDelivery.Status
DEMO_SERVICES = {"front-end", "checkout-api", "billing-worker", "search"}
DEMO_ITEMS = len(demo.DEMO_ISSUES)
# Valid JSON, but an issue webhook without its issue: processing it fails.
BROKEN_BODY = b'{"action":"created","data":{}}'


@pytest.fixture
def enqueued(monkeypatch):
    """Drain tasks scheduled; nothing reaches a real broker, where no worker would ever take them."""
    sent = []
    monkeypatch.setattr(
        drain_deliveries, "apply_async", lambda *args, **kwargs: sent.append(kwargs["kwargs"])
    )
    return sent


def seed(capsys, *args):
    call_command("seed_demo", *args)
    return capsys.readouterr().out


def demo_event_ids(spec, now):
    """The ids of an issue's events, each counted once (the alert repeats the first event)."""
    payloads = [
        delivery.payload
        for delivery in demo.demo_deliveries(spec, now=now)
        if delivery.resource in ("error", LEGACY)
    ]
    return [
        (payload["data"]["error"] if "data" in payload else payload["event"])["event_id"]
        for payload in payloads
    ]


def unused_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- seed_demo --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_seeds_a_dozen_items_across_four_services(capsys):
    out = seed(capsys)

    assert TriageItem.objects.count() == DEMO_ITEMS == 13
    assert set(TriageItem.objects.values_list("service__slug", flat=True)) == DEMO_SERVICES
    assert "13 demo items in 4 services" in out
    assert "http://127.0.0.1:8000/" in out


@pytest.mark.django_db
def test_it_seeds_a_regressed_an_ignored_and_a_legacy_item(capsys):
    seed(capsys)

    regressed = TriageItem.objects.get(regressed_at__isnull=False)
    assert regressed.status == TriageItem.Status.NEW
    verbs = list(regressed.activities.order_by("id").values_list("verb", flat=True))
    assert verbs == ["created", "resolved", "regressed"]
    assert regressed.service.slug == "checkout-api"
    assert TriageItem.objects.get(status=TriageItem.Status.IGNORED).occurrences.count() == 5
    legacy = WebhookDelivery.objects.filter(source="legacy", sentry_issue_id="4610000403")
    assert list(legacy.values_list("status", flat=True)) == [Status.PROCESSED, Status.PROCESSED]
    assert TriageItem.objects.get(sentry_issue_id="4610000403").service.slug == "search"


@pytest.mark.django_db
def test_it_counts_each_demo_event_once_and_counts_vary(capsys):
    seed(capsys)

    counts = {
        item.short_id: (item.event_count, item.occurrences.count()) for item in TriageItem.objects.all()
    }
    assert all(event_count == occurrences for event_count, occurrences in counts.values()), counts
    assert len({event_count for event_count, _ in counts.values()}) >= 5
    # Each issue's first event also comes as an alert: Sentry sends both, the portal keeps one.
    not_legacy = [spec for spec in demo.DEMO_ISSUES if not spec.legacy]
    assert WebhookDelivery.objects.filter(resource="event_alert", status=Status.DUPLICATE).count() == len(
        not_legacy
    )


@pytest.mark.django_db
def test_it_spreads_events_over_the_last_fourteen_days_up_to_now(capsys):
    before = timezone.now()
    seed(capsys)

    timestamps = list(Occurrence.objects.values_list("timestamp", flat=True))
    assert min(timestamps) >= before - timedelta(days=14)
    assert max(timestamps) <= timezone.now()
    assert max(timestamps) >= before - timedelta(hours=1)
    assert len({item.environment for item in TriageItem.objects.all()}) == 2


@pytest.mark.django_db
def test_it_sends_every_demo_delivery_signed_through_the_real_endpoints(capsys, settings):
    seed(capsys)

    deliveries = WebhookDelivery.objects.filter(source="sentry")
    resources = set(deliveries.values_list("resource", flat=True))
    assert resources == {"issue", "error", "event_alert", "installation", "comment"}
    for delivery in deliveries:
        assert delivery.headers["Sentry-Hook-Signature"] == sign(
            bytes(delivery.body), settings.SENTRY_CLIENT_SECRET
        )
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {
        Status.PROCESSED,
        Status.DUPLICATE,
    }


@pytest.mark.django_db
def test_it_duplicates_nothing_when_run_twice(capsys):
    seed(capsys)
    before = [model.objects.count() for model in (TriageItem, Occurrence, WebhookDelivery, User)]
    statuses = dict(TriageItem.objects.values_list("short_id", "status"))

    out = seed(capsys)

    assert [model.objects.count() for model in (TriageItem, Occurrence, WebhookDelivery, User)] == before
    assert dict(TriageItem.objects.values_list("short_id", "status")) == statuses
    assert "0 of them new" in out


@pytest.mark.django_db
def test_it_seeds_without_configured_secrets_and_says_so(capsys, settings):
    settings.SENTRY_CLIENT_SECRET = ""
    settings.SENTRY_LEGACY_TOKEN = ""
    out = seed(capsys)

    assert TriageItem.objects.count() == DEMO_ITEMS
    assert "temporary value" in out
    assert (settings.SENTRY_CLIENT_SECRET, settings.SENTRY_LEGACY_TOKEN) == ("", "")


@pytest.mark.django_db
def test_it_seeds_a_portal_set_up_as_in_production(capsys, settings):
    settings.ALLOWED_HOSTS = ["triage.example.com"]  # no `testserver`, as outside tests
    settings.SECURE_SSL_REDIRECT = True
    seed(capsys, "--no-users")

    assert TriageItem.objects.count() == DEMO_ITEMS


def test_it_gives_each_demo_event_the_same_id_on_every_run():
    today, tomorrow = timezone.now(), timezone.now() + timedelta(days=1)
    runs = [[demo_event_ids(spec, now) for spec in demo.DEMO_ISSUES] for now in (today, tomorrow)]

    assert runs[0] == runs[1]
    all_ids = [event_id for ids in runs[0] for event_id in ids]
    assert len(set(all_ids)) == sum(spec.events for spec in demo.DEMO_ISSUES)


@pytest.mark.django_db
def test_it_creates_demo_users_who_can_log_in(capsys, client):
    seed(capsys)

    for name in ("dev", "ops", "admin"):
        assert client.login(username=name, password=name)
    dev, ops, admin = (User.objects.get(username=name) for name in ("dev", "ops", "admin"))
    groups = [list(user.groups.values_list("name", flat=True)) for user in (dev, ops, admin)]
    assert groups == [["dev"], ["ops"], ["admin"]]
    assert (admin.is_staff, admin.is_superuser, ops.is_staff) == (True, True, False)
    checkout = Team.objects.get(name="Checkout")
    assert list(checkout.members.all()) == [dev]
    assert set(checkout.services.values_list("slug", flat=True)) == {"checkout-api", "front-end"}


@pytest.mark.django_db
def test_it_leaves_existing_users_and_teams_alone(capsys, alice):
    User.objects.create_user(username="dev", password="not-dev")
    seed(capsys)

    assert User.objects.get(username="dev").check_password("not-dev")
    assert list(Team.objects.get(slug="checkout").members.all()) == [alice]


@pytest.mark.django_db
def test_it_creates_no_users_with_no_users(capsys):
    seed(capsys, "--no-users")

    assert not User.objects.exists()
    assert TriageItem.objects.count() == DEMO_ITEMS


# --- send_test_webhook ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_sends_a_test_webhook_the_live_portal_accepts(live_server, enqueued, capsys):
    call_command("send_test_webhook", url=live_server.url + WEBHOOK_URL)

    assert "202" in capsys.readouterr().out
    delivery = WebhookDelivery.objects.get()
    assert (delivery.resource, delivery.action, delivery.status) == ("issue", "created", Status.PENDING)
    assert enqueued == [{"slot": 0}]
    assert delivery_process(delivery_id=delivery.pk) == Status.PROCESSED
    assert TriageItem.objects.get().title.startswith("Triage Portal test webhook")


@pytest.mark.django_db(transaction=True)
def test_it_blames_the_secret_when_the_live_portal_refuses_the_signature(live_server, enqueued):
    with pytest.raises(CommandError, match="SENTRY_CLIENT_SECRET"):
        call_command("send_test_webhook", url=live_server.url + WEBHOOK_URL, secret="not-the-portal-secret")

    assert WebhookDelivery.objects.get().status == Status.REJECTED


@pytest.mark.django_db(transaction=True)
def test_it_says_when_the_live_portal_has_no_secret_at_all(live_server, enqueued, settings):
    settings.SENTRY_CLIENT_SECRET = ""

    with pytest.raises(CommandError, match="the portal has no SENTRY_CLIENT_SECRET"):
        call_command("send_test_webhook", url=live_server.url + WEBHOOK_URL, secret="any")


def test_it_reports_a_portal_it_cannot_reach():
    with pytest.raises(CommandError, match="Could not connect"):
        call_command(
            "send_test_webhook", url=f"http://127.0.0.1:{unused_port()}/integrations/sentry/webhook/"
        )


def test_it_sends_the_headers_and_signature_sentry_sends(httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_json({"status": "accepted"}, status=202)
    call_command("send_test_webhook", url=httpserver.url_for("/hook"), secret="s3cret")

    request, _ = httpserver.log[0]
    body = request.get_data()
    assert request.headers["Sentry-Hook-Resource"] == "issue"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Request-ID"]
    assert abs(int(request.headers["Sentry-Hook-Timestamp"]) - time.time()) < 5
    assert request.headers["Sentry-Hook-Signature"] == sign(body, "s3cret")
    assert body == compact(json.loads(body))
    assert json.loads(body)["data"]["issue"]["title"].startswith("Triage Portal test webhook")


def test_it_makes_a_new_issue_each_time(httpserver):
    httpserver.expect_request("/hook").respond_with_json({}, status=202)
    for _ in range(2):
        call_command("send_test_webhook", url=httpserver.url_for("/hook"), secret="s3cret")

    issue_ids = {json.loads(request.get_data())["data"]["issue"]["id"] for request, _ in httpserver.log}
    assert len(issue_ids) == 2


def test_it_explains_a_413_from_a_proxy(httpserver):
    httpserver.expect_request("/hook").respond_with_data("Request Entity Too Large", status=413)

    with pytest.raises(CommandError, match="too large"):
        call_command("send_test_webhook", url=httpserver.url_for("/hook"), secret="s3cret")


def test_it_needs_a_secret_to_sign_with(settings):
    settings.SENTRY_CLIENT_SECRET = ""

    with pytest.raises(CommandError, match="Nothing to sign with"):
        call_command("send_test_webhook", url="http://127.0.0.1:9/")


# --- replay_deliveries ------------------------------------------------------------------


def failed_delivery(**fields):
    delivery = WebhookDelivery.objects.create(resource="issue", action="created", body=BROKEN_BODY, **fields)
    assert delivery_process(delivery_id=delivery.pk) == Status.FAILED
    return delivery


def fix_body(delivery, payload):
    WebhookDelivery.objects.filter(pk=delivery.pk).update(body=compact(payload))


def rejected_delivery(client):
    post_webhook(client, "issue", sample("integration-issue-created"), secret="not-our-secret")
    return WebhookDelivery.objects.get(status=Status.REJECTED)


@pytest.mark.django_db
def test_it_replays_a_failed_delivery_once_its_cause_is_fixed(capsys):
    delivery = failed_delivery()
    fix_body(delivery, sample("integration-issue-created"))

    call_command("replay_deliveries", "--sync")

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PROCESSED, 2)
    assert TriageItem.objects.get().sentry_issue_id == "1170820242"
    assert f"#{delivery.pk} issue.created" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_fails_when_a_replayed_delivery_fails_again(capsys):
    delivery = failed_delivery()

    with pytest.raises(CommandError, match="1 of 1 deliveries failed"):
        call_command("replay_deliveries", "--id", str(delivery.pk), "--sync")

    assert "`issue` must be an object" in capsys.readouterr().out
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 2)


@pytest.mark.django_db
def test_it_never_replays_a_rejected_delivery_asked_for_by_id(client):
    rejected = rejected_delivery(client)

    with pytest.raises(CommandError, match=f"#{rejected.pk} was rejected at receipt"):
        call_command("replay_deliveries", "--id", str(rejected.pk), "--sync")

    rejected.refresh_from_db()
    assert (rejected.status, rejected.attempts) == (Status.REJECTED, 0)
    assert not TriageItem.objects.exists()


@pytest.mark.django_db
def test_it_replays_the_others_when_some_ids_cannot_be(client):
    rejected, failed = rejected_delivery(client), failed_delivery()
    fix_body(failed, sample("integration-issue-created"))

    with pytest.raises(CommandError, match="does not exist"):
        call_command(
            "replay_deliveries", "--id", str(rejected.pk), "--id", str(failed.pk), "--id", "999999", "--sync"
        )

    assert WebhookDelivery.objects.get(pk=failed.pk).status == Status.PROCESSED


@pytest.mark.django_db
def test_it_leaves_rejected_deliveries_out_of_a_default_replay(client, capsys):
    rejected, failed = rejected_delivery(client), failed_delivery()
    fix_body(failed, sample("integration-issue-created"))

    call_command("replay_deliveries", "--sync")

    out = capsys.readouterr().out
    assert f"#{failed.pk} " in out
    assert f"#{rejected.pk} " not in out
    assert "Replayed 1 deliveries: 1 processed." in out


@pytest.mark.django_db
def test_it_enqueues_for_the_worker_without_sync(enqueued, capsys, django_capture_on_commit_callbacks):
    delivery = failed_delivery()

    with django_capture_on_commit_callbacks(execute=True):
        call_command("replay_deliveries")

    assert enqueued == [{"slot": 0}]
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == Status.PENDING
    assert "Enqueued 1 deliveries" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_replays_pending_deliveries_received_since_a_date():
    old, recent = (
        WebhookDelivery.objects.create(
            resource="issue",
            action="created",
            body=compact(issue_payload(issue_id)),
            received_at=timezone.now() - timedelta(days=days),
        )
        for issue_id, days in (("1", 3), ("2", 0))
    )
    since = (timezone.localtime() - timedelta(days=1)).replace(tzinfo=None).isoformat()

    call_command("replay_deliveries", "--status", "pending", "--since", since, "--sync")

    assert list(TriageItem.objects.values_list("sentry_issue_id", flat=True)) == ["2"]
    assert WebhookDelivery.objects.get(pk=old.pk).status == Status.PENDING


@pytest.mark.django_db
def test_it_replays_the_oldest_first_up_to_the_limit(capsys):
    now = timezone.now()
    deliveries = [failed_delivery(received_at=now - timedelta(minutes=minutes)) for minutes in (1, 3, 2)]
    for number, delivery in enumerate(deliveries):
        fix_body(delivery, issue_payload(str(number)))

    call_command("replay_deliveries", "--limit", "2", "--sync")

    assert set(TriageItem.objects.values_list("sentry_issue_id", flat=True)) == {"1", "2"}
    assert "Stopped at --limit 2" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_refuses_a_since_that_is_not_a_date():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("replay_deliveries", "--since", "last tuesday")


@pytest.mark.django_db
def test_it_seeds_an_issue_that_hides_four_errors_for_the_grouping_advisor(capsys):
    from grouping.models import Suggestion
    from grouping.services import suggestions_recompute

    seed(capsys)
    suggestions_recompute(full=True)

    split = Suggestion.objects.get(kind="split")
    assert split.item.short_id == "CHECKOUT-API-44"
    assert sorted((group["service"], group["exception_type"]) for group in split.groups) == [
        ("cart-service", "KeyError"),
        ("cart-service", "TimeoutError"),
        ("pricing-service", "KeyError"),
        ("pricing-service", "TimeoutError"),
    ]
