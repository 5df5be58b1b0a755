"""The sweep: Sentry changes that came with no event (resolve, ignore, reassign) reach the items anyway.

Against a fake of Sentry's org issues endpoint (pytest-httpserver) that answers by `group` ids as
Sentry does: it reads those issues straight from its store, whatever their status or age.
"""

import json
import math
import time
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from werkzeug import Response

from integrations.models import SentrySync, SyncCursor, WebhookDelivery
from integrations.sentry_api import PermanentError, RetryableError
from integrations.sentry_sync import ReconcileBusy
from integrations.services import deliveries_process, delivery_process
from integrations.sweep import SWEEP_CURSOR, sweep_run
from integrations.tasks import sweep_sentry_issues
from tests.helpers import (
    FAKE_SENTRY_TOKEN,
    compact,
    issue_payload,
    point_at_fake_sentry,
    post_webhook,
    sample,
)
from triage.models import Activity, TriageItem

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
TOKEN = FAKE_SENTRY_TOKEN
LIST_PATH = "/api/0/organizations/test-org/issues/"
JANE = {"type": "user", "id": "7", "name": "Jane Roe", "email": "jane@example.com"}


class FakeSentry:
    """Sentry's issues, by id; `refusals` are answered (in order) before any issue is."""

    def __init__(self, server):
        self.server, self.issues, self.refusals, self.seen_at, self.headers = server, {}, [], [], {}
        server.expect_request(LIST_PATH, method="GET").respond_with_handler(self.answer)

    def know(self, issue_id, **fields):
        issue = sample("api-issue-detail")
        issue.update(
            id=issue_id,
            shortId=f"PUMP-STATION-{issue_id}",
            status="unresolved",
            substatus="escalating",
            assignedTo=None,
            **fields,
        )
        self.issues[issue_id] = issue

    def answer(self, request):
        self.seen_at.append(time.monotonic())
        if self.refusals:
            return self.refusals.pop(0)
        found = [
            self.issues[issue_id] for issue_id in request.args.getlist("group") if issue_id in self.issues
        ]
        headers = {name: value() if callable(value) else value for name, value in self.headers.items()}
        return Response(json.dumps(found), content_type="application/json", headers=headers)

    def asked(self) -> list[list[str]]:
        return [request.args.getlist("group") for request, _ in self.server.log]


@pytest.fixture
def sentry(httpserver, settings):
    point_at_fake_sentry(settings, httpserver)
    settings.SENTRY_SWEEP_BATCH_SIZE = 100
    settings.SENTRY_SWEEP_PAUSE_SECONDS = 0
    return FakeSentry(httpserver)


def refusal(retry_after=None):
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return Response(
        '{"detail": "You are attempting to use this endpoint too frequently."}',
        status=429,
        content_type="application/json",
        headers=headers,
    )


def items_from_webhooks(client, sentry, count, first=3001) -> list[str]:
    """Items created by Sentry's issue.created webhooks, each issue known alike to the fake Sentry."""
    ids = [str(first + n) for n in range(count)]
    for issue_id in ids:
        delivery_process(
            delivery_id=post_webhook(client, "issue", issue_payload(issue_id)).json()["delivery"]
        )
        sentry.know(issue_id)
    return ids


def sentry_state(item):
    return item.sentry_status, item.sentry_substatus, item.sentry_assignee


def item(issue_id) -> TriageItem:
    return TriageItem.objects.get(sentry_issue_id=issue_id)


def test_it_brings_the_items_to_sentrys_state_after_the_portal_was_down(client, sentry):
    resolved, ignored, reassigned, deleted, untouched = items_from_webhooks(client, sentry, 5)
    # The portal is stopped: no webhook reaches it while people work in Sentry, and no event comes.
    sentry.issues[resolved].update(status="resolved", substatus=None)
    sentry.issues[ignored].update(status="ignored", substatus="archived_forever")
    sentry.issues[reassigned].update(assignedTo=JANE)
    del sentry.issues[deleted]
    deliveries_before = WebhookDelivery.objects.count()

    result = sweep_run()

    ((request, _),) = sentry.server.log
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.args.getlist("group") == [resolved, ignored, reassigned, deleted, untouched]
    assert (request.args["project"], request.args["query"], request.args["groupStatsPeriod"]) == (
        "-1",
        "",
        "",
    )
    assert item(resolved).status == TriageItem.Status.RESOLVED
    assert item(ignored).status == TriageItem.Status.IGNORED
    assert item(reassigned).activities.get(verb="assigned").data["assignee"] == "jane@example.com"
    for issue_id in (resolved, ignored, reassigned, untouched):
        issue = sentry.issues[issue_id]
        assert sentry_state(item(issue_id)) == (
            issue["status"],
            issue["substatus"] or "",
            (issue["assignedTo"] or {}).get("email", ""),
        )
    assert item(deleted).status == TriageItem.Status.NEW
    assert sentry_state(item(deleted)) == ("unresolved", "escalating", "")
    assert (result.items, result.applied, result.unchanged, result.missing) == (5, 3, 1, [deleted])
    assert "1 not in Sentry (3004)" in result.summary()
    assert WebhookDelivery.objects.count() - deliveries_before == 3
    assert set(WebhookDelivery.objects.filter(source="reconcile").values_list("status", flat=True)) == {
        "processed"
    }


def test_it_writes_nothing_for_items_sentry_did_not_change(client, sentry):
    items_from_webhooks(client, sentry, 4)
    before = (WebhookDelivery.objects.count(), Activity.objects.count(), list(TriageItem.objects.values()))

    result = sweep_run()

    assert (
        WebhookDelivery.objects.count(),
        Activity.objects.count(),
        list(TriageItem.objects.values()),
    ) == before
    assert (result.requests, result.applied, result.unchanged) == (1, 0, 4)


@pytest.mark.parametrize("count,batch", [(7, 3), (6, 3), (1, 100)])
def test_it_asks_for_a_batch_of_ids_a_request(client, sentry, settings, count, batch):
    settings.SENTRY_SWEEP_BATCH_SIZE = batch
    ids = items_from_webhooks(client, sentry, count)

    result = sweep_run()

    assert len(sentry.asked()) == result.requests == math.ceil(count / batch)
    assert sum(sentry.asked(), []) == ids  # each item once, in id order


def test_it_costs_10_requests_and_no_writes_for_1000_unchanged_open_items(client, sentry):
    ids = [str(100000 + n) for n in range(1000)]
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(resource="issue", action="created", body=compact(issue_payload(issue_id)))
        for issue_id in ids
    )
    deliveries_process(delivery_ids=[delivery.pk for delivery in deliveries])
    for issue_id in ids:
        sentry.know(issue_id)
    assert TriageItem.objects.filter(status=TriageItem.Status.NEW).count() == 1000
    before = (WebhookDelivery.objects.count(), Activity.objects.count())

    result = sweep_run()

    assert len(sentry.asked()) == result.requests == 10
    assert (WebhookDelivery.objects.count(), Activity.objects.count()) == before
    assert (result.items, result.unchanged) == (1000, 1000)


def test_it_waits_out_a_short_retry_after_and_asks_again(client, sentry):
    first, second = items_from_webhooks(client, sentry, 2)
    sentry.issues[second].update(status="resolved", substatus=None)
    sentry.refusals.append(refusal(retry_after=1))

    result = sweep_run()

    assert sentry.asked() == [[first, second], [first, second]]
    assert sentry.seen_at[1] - sentry.seen_at[0] >= 1.0
    assert (result.requests, result.applied, result.stopped) == (2, 1, "")
    assert item(second).status == TriageItem.Status.RESOLVED


def test_it_stops_on_a_long_retry_after_and_resumes_there_next_run(client, sentry, settings):
    settings.SENTRY_SWEEP_BATCH_SIZE = 2
    ids = items_from_webhooks(client, sentry, 5)
    for issue_id in ids:
        sentry.issues[issue_id].update(status="resolved", substatus=None)
    ok = Response(json.dumps([sentry.issues[ids[0]], sentry.issues[ids[1]]]), content_type="application/json")
    sentry.refusals += [ok, refusal(retry_after=3600)]

    stopped = sweep_run()

    assert "wait 3600 s" in stopped.stopped
    assert [item(issue_id).status for issue_id in ids] == ["resolved", "resolved", "new", "new", "new"]
    cursor = SyncCursor.objects.get(name=SWEEP_CURSOR)
    assert (cursor.page, cursor.lease_holder, cursor.position) == (str(item(ids[1]).pk), "", None)

    sentry.server.clear_log()
    resumed = sweep_run()

    assert sentry.asked() == [ids[2:4], ids[4:]]  # from the refused batch on, none skipped
    assert all(item(issue_id).status == TriageItem.Status.RESOLVED for issue_id in ids)
    assert (resumed.applied, resumed.stopped) == (3, "")
    assert SyncCursor.objects.get(name=SWEEP_CURSOR).position is not None


def test_it_stops_after_three_refusals_in_a_row(client, sentry):
    items_from_webhooks(client, sentry, 1)
    sentry.refusals += [refusal(retry_after=0)] * 3

    result = sweep_run()

    assert result.requests == 3 and "refused 3 requests in a row" in result.stopped
    assert SyncCursor.objects.get(name=SWEEP_CURSOR).window_end is not None  # still to finish


def test_it_waits_for_sentrys_window_to_reset_when_few_requests_are_left(client, sentry, settings):
    settings.SENTRY_SWEEP_BATCH_SIZE = 1
    items_from_webhooks(client, sentry, 2)
    reset_at = int(time.time()) + 2
    sentry.headers = {"X-Sentry-Rate-Limit-Remaining": "1", "X-Sentry-Rate-Limit-Reset": str(reset_at)}

    result = sweep_run()

    assert len(sentry.seen_at) == 2
    assert time.time() >= reset_at - 0.05  # the second request went once the window reset
    assert sentry.seen_at[1] - sentry.seen_at[0] >= 0.9
    assert result.waited >= 0.9


def test_it_does_not_wait_while_sentrys_window_has_room(client, sentry, settings):
    settings.SENTRY_SWEEP_BATCH_SIZE = 1
    items_from_webhooks(client, sentry, 3)
    sentry.headers = {
        "X-Sentry-Rate-Limit-Remaining": "40",
        "X-Sentry-Rate-Limit-Reset": lambda: str(int(time.time()) + 1),
    }

    result = sweep_run()

    assert result.requests == 3 and result.waited < 0.2


def test_it_resumes_an_interrupted_sweep_after_the_last_batch_done(client, sentry, settings):
    settings.SENTRY_SWEEP_BATCH_SIZE = 2
    ids = items_from_webhooks(client, sentry, 4)
    for issue_id in ids:
        sentry.issues[issue_id].update(assignedTo=JANE)
    ok = Response(json.dumps([sentry.issues[ids[0]], sentry.issues[ids[1]]]), content_type="application/json")
    sentry.refusals += [
        ok,
        Response('{"detail": "Internal Error"}', status=500, content_type="application/json"),
    ]

    with pytest.raises(RetryableError, match="500"):
        sweep_run()

    assert [item(issue_id).sentry_assignee for issue_id in ids] == ["jane@example.com"] * 2 + [""] * 2
    sentry.server.clear_log()
    sweep_run()
    assert sentry.asked() == [ids[2:]]
    assert all(item(issue_id).sentry_assignee == "jane@example.com" for issue_id in ids)


def test_it_runs_one_sweep_at_a_time(client, sentry):
    items_from_webhooks(client, sentry, 1)
    SyncCursor.objects.create(
        name=SWEEP_CURSOR, lease_holder="another-sweep", lease_until=timezone.now() + timedelta(minutes=5)
    )

    with pytest.raises(ReconcileBusy):
        sweep_run()
    assert sweep_sentry_issues() == "busy: another sweep holds the lease"
    assert sentry.asked() == []

    SyncCursor.objects.filter(name=SWEEP_CURSOR).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert sweep_sentry_issues().startswith("1 items in 1 requests to Sentry: 0 applied")


def test_it_sweeps_open_and_recently_closed_items_only(client, sentry, settings):
    settings.SENTRY_SWEEP_CLOSED_DAYS = 14
    still_open, closed_lately, closed_long_ago = items_from_webhooks(client, sentry, 3)
    for issue_id, days_ago in ((closed_lately, 2), (closed_long_ago, 30)):
        TriageItem.objects.filter(sentry_issue_id=issue_id).update(status=TriageItem.Status.RESOLVED)
        Activity.objects.create(
            item=item(issue_id), verb="resolved", created_at=timezone.now() - timedelta(days=days_ago)
        )

    sweep_run()

    assert sentry.asked() == [[still_open, closed_lately]]


def test_it_applies_a_state_again_when_sentry_comes_back_to_it(client, sentry):
    (issue_id,) = items_from_webhooks(client, sentry, 1)
    for status, substatus in (("resolved", None), ("unresolved", "ongoing"), ("resolved", None)):
        sentry.issues[issue_id].update(status=status, substatus=substatus)  # no event in between
        sweep_run()
        assert item(issue_id).sentry_status == status
    assert item(issue_id).status == TriageItem.Status.RESOLVED
    assert list(item(issue_id).activities.order_by("pk").values_list("verb", flat=True)) == [
        "created",
        "resolved",
        "reopened",
        "resolved",
    ]


def test_it_does_not_flip_an_item_back_while_the_portals_push_is_pending(client, sentry):
    (issue_id,) = items_from_webhooks(client, sentry, 1)
    TriageItem.objects.filter(sentry_issue_id=issue_id).update(status=TriageItem.Status.RESOLVED)
    SentrySync.objects.create(item=item(issue_id), change={"status": "resolved"})
    sentry.issues[issue_id].update(substatus="ongoing")  # Sentry has not had our push yet

    sweep_run()

    assert item(issue_id).status == TriageItem.Status.RESOLVED


def test_it_refuses_an_answer_that_lists_issues_it_did_not_ask_for(client, sentry):
    (asked,) = items_from_webhooks(client, sentry, 1)
    sentry.know("999")  # a Sentry that ignored the ids and answered a search instead
    sentry.refusals.append(Response(json.dumps([sentry.issues["999"]]), content_type="application/json"))

    with pytest.raises(PermanentError, match="not asked for .*999"):
        sweep_run()

    assert sentry_state(item(asked)) == ("unresolved", "escalating", "")
    assert not WebhookDelivery.objects.filter(source="reconcile").exists()


def test_it_does_nothing_when_not_configured(sentry, settings):
    settings.SENTRY_AUTH_TOKEN = ""

    assert sweep_run() is None
    assert sweep_sentry_issues() == "not configured"
    assert sentry.asked() == []


# --- manage.py sync_from_sentry --sweep -----------------------------------------------------


def test_it_sweeps_from_the_command(client, sentry, capsys):
    (issue_id,) = items_from_webhooks(client, sentry, 1)
    sentry.issues[issue_id].update(status="ignored", substatus="archived_forever")

    call_command("sync_from_sentry", "--sweep")

    assert capsys.readouterr().out.startswith("Swept 1 items in 1 requests to Sentry: 1 applied, 0 unchanged")
    assert item(issue_id).status == TriageItem.Status.IGNORED


def test_it_explains_why_a_sweep_stopped(client, sentry):
    items_from_webhooks(client, sentry, 1)
    sentry.refusals.append(
        Response('{"detail": "Invalid token"}', status=401, content_type="application/json")
    )

    with pytest.raises(CommandError, match="Sweep stopped: Sentry answered 401 UNAUTHORIZED: Invalid token"):
        call_command("sync_from_sentry", "--sweep")
    with pytest.raises(CommandError, match="takes no --since"):
        call_command("sync_from_sentry", "--sweep", "--since", "2026-11-01")
