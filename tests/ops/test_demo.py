"""manage.py seed_demo_data_fixes: the demo's data-fix requests, on the items seed_demo made."""

import pytest
from django.core.management import CommandError, call_command

from ops.models import DataFixRequest
from triage.models import TriageItem

pytestmark = pytest.mark.django_db
State = DataFixRequest.State


def test_it_files_one_request_waiting_on_ops_and_one_done():
    call_command("seed_demo")

    call_command("seed_demo_data_fixes")

    requests = {request.item.short_id: request for request in DataFixRequest.objects.select_related("item")}
    assert requests["BILLING-WORKER-12"].state == State.REQUESTED
    assert requests["CHECKOUT-API-41"].state == State.DONE
    assert requests["CHECKOUT-API-41"].result.startswith("Deleted the orphaned reservation")
    assert set(
        TriageItem.objects.filter(data_fix_requests__isnull=False).values_list("classification", flat=True)
    ) == {"data_fix"}


def test_it_leaves_items_that_already_have_a_request():
    call_command("seed_demo")
    call_command("seed_demo_data_fixes")

    call_command("seed_demo_data_fixes")

    assert DataFixRequest.objects.count() == 2


def test_it_needs_the_demo_users():
    with pytest.raises(CommandError, match="seed_demo"):
        call_command("seed_demo_data_fixes")
