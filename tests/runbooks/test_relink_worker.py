"""Re-linking after a matcher change, end to end: the runbooks API, the signal after commit, the Celery task
on a real worker with a real Redis broker, and the item's timeline."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integrations.services import delivery_process
from tests.helpers import event_payload, post_webhook
from tests.processes import celery_worker, wait_for
from triage.models import TriageItem

pytestmark = [
    pytest.mark.worker,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clean_broker"),
]


def test_a_runbook_created_through_the_api_relinks_an_open_item_on_the_worker(client, alice, tmp_path):
    response = post_webhook(client, "event_alert", event_payload("ev1", "1117540176"))
    delivery_process(delivery_id=response.json()["delivery"])
    item = TriageItem.objects.get()
    assert item.runbook_id is None  # no runbook yet
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=alice).key}")

    with celery_worker(tmp_path):
        created = api.post(
            "/api/runbooks/",
            {
                "slug": "heck",
                "title": "heck is not defined",
                "body": "## Steps\n\nShip the fix.",
                "matchers": [
                    {"group": 0, "field": "service", "op": "equals", "value": "front-end"},
                    {"group": 0, "field": "exception_type", "op": "equals", "value": "ReferenceError"},
                ],
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        wait_for(
            lambda: TriageItem.objects.get().runbook_id is not None, message="item re-linked by the worker"
        )
        # The task logs once all its batches are committed: stop the worker only after that.
        wait_for(lambda: "Re-linked" in (tmp_path / "worker.log").read_text(), message="the task finished")

    item = TriageItem.objects.select_related("runbook").get()
    assert item.runbook.slug == "heck"
    entry = item.activities.get(verb="runbook_relinked")
    assert (entry.actor_label, entry.data["from"], entry.data["to"]["slug"]) == ("portal", None, "heck")
    log = (tmp_path / "worker.log").read_text()
    assert "Re-linked 1 open item(s) after runbook" in log  # the worker did it, not the request
