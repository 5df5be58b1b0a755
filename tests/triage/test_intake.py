"""triage.intake: the one way Sentry's changes reach triage items, in a batch or one at a time."""

import ast
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import drain
from integrations.sentry_payloads import parse_webhook
from tests.helpers import event_payload, issue_payload
from triage.facts import SentryChange
from triage.intake import item_apply_sentry, items_apply_sentry
from triage.models import Occurrence, TriageItem

pytestmark = pytest.mark.django_db
ISSUE = "1117540176"
INTEGRATIONS = Path(__file__).parent.parent / "integrations"


def change(resource, payload, *, echo=False):
    webhook = parse_webhook(resource, payload, sent_at=str(time.time()))
    return SentryChange(
        issue=webhook.issue,
        event=webhook.event,
        action=webhook.action,
        at=webhook.snapshot_at,
        actor_label=webhook.actor_label,
        echo=echo,
    )


def events(prefix, count):
    return [change("event_alert", event_payload(f"{prefix}-{n}", ISSUE)) for n in range(count)]


def item_updates(queries):
    return [query for query in queries if query["sql"].startswith(f'UPDATE "{TriageItem._meta.db_table}"')]


def test_a_batch_makes_one_item_of_a_new_issue_and_its_events():
    items_apply_sentry(changes=[change("issue", issue_payload(ISSUE)), *events("new", 3)])

    item = TriageItem.objects.get()
    assert Occurrence.objects.filter(item=item).count() == 3
    assert item.activities.filter(verb="created").count() == 1


def test_a_batch_saves_a_known_item_once_however_many_events_it_brings():
    item_apply_sentry(change=change("issue", issue_payload(ISSUE)))
    known = TriageItem.objects.get()

    with CaptureQueriesContext(connection) as queries:
        items_apply_sentry(changes=events("burst", 4))

    assert len(item_updates(queries)) == 1
    assert TriageItem.objects.get().event_count == known.event_count + 4


def test_one_change_alone_saves_its_item_at_once():
    item_apply_sentry(change=change("issue", issue_payload(ISSUE)))
    known = TriageItem.objects.get()

    with CaptureQueriesContext(connection) as queries:
        item_apply_sentry(change=events("alone", 1)[0])

    assert len(item_updates(queries)) == 1
    assert TriageItem.objects.get().event_count == known.event_count + 1


def test_an_echo_changes_no_triage_state():
    item_apply_sentry(change=change("issue", issue_payload(ISSUE)))
    resolved = issue_payload(ISSUE, action="resolved", status="resolved")

    items_apply_sentry(changes=[change("issue", resolved, echo=True)])

    item = TriageItem.objects.get()
    assert (item.status, item.sentry_status) == (TriageItem.Status.NEW, "resolved")


@pytest.mark.parametrize("about", [{}, {"issue": "both", "event": "both"}])
def test_a_change_is_about_an_issue_or_an_event(about):
    with pytest.raises(ValueError):
        SentryChange(action="created", at=None, actor_label="Sentry", **about)


def test_a_process_that_never_imported_the_tasks_sends_them_by_name(monkeypatch):
    sent = []

    class WebProcessApp:  # a web process: integrations.tasks is not imported there
        tasks = {}

        def send_task(self, name, **options):
            sent.append((name, options["kwargs"]))

    monkeypatch.setattr(drain, "current_app", WebProcessApp())
    drain.drainer_wake(force=True)

    assert sent == [(drain.DRAIN_TASK, {"slot": 0})]


def test_integrations_leaves_triage_items_to_triage_and_tasks_to_tasks_py():
    for path in INTEGRATIONS.glob("*.py"):
        imported = {
            node.module
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        assert not imported & {"triage.locked_items", "triage.bulk", "tasks"}, path.name
