"""The data-fix tables: what the reports and the escalation scan rely on."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ops.models import DataFixEvent, DataFixRequest
from triage.models import Service, TriageItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    now = timezone.now()
    service = Service.objects.create(slug="billing", name="Billing")
    return TriageItem.objects.create(sentry_issue_id="9", title="Ledger out of balance", service=service,
                                     first_seen=now, last_seen=now, classification="data_fix")


def test_it_reaches_requests_from_the_item(item, alice):
    fix = DataFixRequest.objects.create(item=item, description="Re-run the ledger", requested_by=alice,
                                        due_at=timezone.now() + timedelta(minutes=30))

    assert list(item.data_fix_requests.all()) == [fix]
    assert fix.state == "requested" and fix.is_open


def test_it_keeps_the_audit_log_append_only(item, alice):
    fix = DataFixRequest.objects.create(item=item, description="x", requested_by=alice, due_at=timezone.now())
    entry = DataFixEvent.objects.create(request=fix, actor=alice, verb="requested", to_state="requested")

    entry.note = "changed"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
