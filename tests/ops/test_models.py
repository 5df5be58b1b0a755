"""The data-fix tables: what the reports and the escalation scan rely on."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ops.models import DataFixEvent, DataFixRequest
from tests.factories import item_create, service_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    now = timezone.now()
    return item_create(
        sentry_issue_id="9",
        title="Ledger out of balance",
        service=service_create(slug="billing", name="Billing"),
        first_seen=now,
        last_seen=now,
        classification="data_fix",
    )


def test_it_reaches_requests_from_the_item(item, alice):
    fix = DataFixRequest.objects.create(
        item=item,
        description="Re-run the ledger",
        requested_by=alice,
        due_at=timezone.now() + timedelta(minutes=30),
    )

    assert list(item.data_fix_requests.all()) == [fix]
    assert fix.state == "requested" and fix.is_open


def test_it_keeps_the_audit_log_append_only(item, alice):
    fix = DataFixRequest.objects.create(item=item, description="x", requested_by=alice, due_at=timezone.now())
    entry = DataFixEvent.objects.create(request=fix, actor=alice, verb="requested", to_state="requested")

    entry.note = "changed"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


@pytest.mark.django_db(transaction=True)
def test_the_migration_redacts_the_errors_stored_before_redaction():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = [("ops", "0001_data_fix_requests")], [("ops", "0002_redact_stored_errors")]
    MigrationExecutor(connection).migrate(before)
    old = _state_of_the_database(before)
    secret = "could not reach https://hooks.slack.com/services/T000/B000/XXXX: url: /services/T000/B000/XXXX"
    notification_id = _old_failed_notification(old, secret)
    try:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = MigrationExecutor(connection).loader.project_state(after[0]).apps
        notification = new.get_model("ops", "Notification").objects.get(pk=notification_id)
        attempt = new.get_model("ops", "NotificationAttempt").objects.get(notification_id=notification_id)
        event = new.get_model("ops", "DataFixEvent").objects.get(verb="notification_failed")
        for text in (notification.last_error, attempt.error, event.note):
            assert text == "could not reach https://hooks.slack.com/[redacted]: url: /[redacted]"
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def _state_of_the_database(ops_nodes):
    """ops migrated back to `ops_nodes`, every other app still at its latest: the models of the tables as
    they are."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    loader = MigrationExecutor(connection).loader
    others = [node for node in loader.graph.leaf_nodes() if node[0] != "ops"]
    return loader.project_state(ops_nodes + others).apps


def _old_failed_notification(old, error) -> int:
    now = timezone.now()
    service = old.get_model("triage", "Service").objects.create(slug="billing", name="Billing")
    item = old.get_model("triage", "TriageItem").objects.create(
        sentry_issue_id="9", title="t", service_id=service.pk, first_seen=now, last_seen=now
    )
    request = old.get_model("ops", "DataFixRequest").objects.create(
        item_id=item.pk, description="x", due_at=now
    )
    notification = old.get_model("ops", "Notification").objects.create(
        request_id=request.pk, key="k", channel="slack", event="created", state="failed", last_error=error
    )
    old.get_model("ops", "NotificationAttempt").objects.create(notification_id=notification.pk, error=error)
    old.get_model("ops", "DataFixEvent").objects.create(
        request_id=request.pk, verb="notification_failed", note=error
    )
    return notification.pk
