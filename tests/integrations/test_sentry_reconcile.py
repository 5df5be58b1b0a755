"""Reconciling with Sentry's issues list: what webhooks missed while the portal was down gets applied once."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from werkzeug import Response

from integrations.models import SentrySync, SyncCursor, WebhookDelivery
from integrations.sentry_api import PermanentError, RetryableError
from integrations.sentry_sync import (
    RECONCILE_CURSOR,
    ReconcileBusy,
    ReconcileError,
    reconcile_run,
)
from integrations.services import delivery_process
from integrations.tasks import reconcile_from_sentry
from tests.helpers import FAKE_SENTRY_TOKEN, issue_payload, point_at_fake_sentry, post_webhook, sample
from triage.models import Activity, TriageItem

pytestmark = pytest.mark.django_db
TOKEN = FAKE_SENTRY_TOKEN
LIST_PATH = "/api/0/organizations/test-org/issues/"
KNOWN_ISSUE = "1170820242"  # arrives by webhook first; Sentry later resolves it while the portal is down
PAGE_2 = "1541538000000:100:0"


@pytest.fixture
def sentry(httpserver, settings):
    point_at_fake_sentry(settings, httpserver)
    return httpserver


def api_issue(name, issue_id, **fields):
    """One of Sentry's published API examples, as another issue."""
    issue = sample(name)
    issue = issue[0] if isinstance(issue, list) else issue
    issue.update(id=issue_id, shortId=f"PUMP-STATION-{issue_id}", **fields)
    return issue


def two_pages():
    return {
        "": [api_issue("api-issues-list", "2001"), api_issue("api-issue-detail", "2002")],
        PAGE_2: [
            api_issue(
                "api-issue-update-response",
                KNOWN_ISSUE,
                status="resolved",
                substatus=None,
                lastSeen="2026-11-20T10:00:00Z",
            )
        ],
    }


def serve_pages(server, pages):
    """Sentry's issues list, paginated by cursor with Sentry's Link header; pages: {cursor: issues or
    Response}."""
    cursors = list(pages)

    def handler(request):
        cursor = request.args.get("cursor", "")
        answer = pages[cursor]
        if isinstance(answer, Response):
            return answer
        following = cursors[cursors.index(cursor) + 1] if cursors.index(cursor) + 1 < len(cursors) else ""
        response = Response(json.dumps(answer), content_type="application/json")
        response.headers["Link"] = link_header(server, cursor, following)
        return response

    server.expect_request(LIST_PATH, method="GET").respond_with_handler(handler)


def link_header(server, cursor, following):
    """As Sentry sends it: both links always, `results` says whether there is a page behind each."""
    url = server.url_for(LIST_PATH)
    back, ahead = cursor or "0:0:1", following or "0:200:0"
    more = "true" if following else "false"
    return (
        f'<{url}?&cursor={back}>; rel="previous"; results="false"; cursor="{back}", '
        f'<{url}?&cursor={ahead}>; rel="next"; results="{more}"; cursor="{ahead}"'
    )


def requests_to(server):
    return [request for request, _ in server.log]


@pytest.fixture
def known_item(client):
    delivery_process(delivery_id=post_webhook(client, "issue", issue_payload(KNOWN_ISSUE)).json()["delivery"])
    return TriageItem.objects.get()


def test_it_pages_through_sentrys_issues_and_applies_what_webhooks_missed(sentry, known_item):
    serve_pages(sentry, two_pages())

    result = reconcile_run()

    first, second = requests_to(sentry)
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert (first.args["query"], first.args["sort"], first.args["project"]) == ("", "date", "-1")
    assert "cursor" not in first.args
    assert second.args["cursor"] == PAGE_2
    assert (result.pages, result.issues, result.applied) == (2, 3, 3)

    ignored, unresolved = (
        TriageItem.objects.get(sentry_issue_id="2001"),
        TriageItem.objects.get(sentry_issue_id="2002"),
    )
    assert (ignored.status, ignored.sentry_substatus) == (
        TriageItem.Status.IGNORED,
        "archived_until_condition_met",
    )
    assert (ignored.title, ignored.service.slug, ignored.event_count) == (
        "This is an example Python exception",
        "pump-station",
        150,
    )
    assert unresolved.status == TriageItem.Status.NEW
    assert list(unresolved.activities.values_list("verb", "data__via")) == [("created", "issue.created")]
    known_item.refresh_from_db()
    assert known_item.status == TriageItem.Status.RESOLVED
    assert known_item.activities.get(verb="resolved").actor_label == "Sentry"
    assert set(WebhookDelivery.objects.filter(source="reconcile").values_list("status", flat=True)) == {
        "processed"
    }


def test_it_changes_nothing_when_run_twice(sentry, known_item):
    serve_pages(sentry, two_pages())
    reconcile_run()
    before = (TriageItem.objects.count(), Activity.objects.count(), WebhookDelivery.objects.count())

    again = reconcile_run()

    assert len(requests_to(sentry)) == 4  # the second run read both pages again
    assert (TriageItem.objects.count(), Activity.objects.count(), WebhookDelivery.objects.count()) == before
    assert again.applied == 0 and again.unchanged == 3


def test_it_moves_the_cursor_once_the_last_page_is_applied(sentry):
    serve_pages(sentry, two_pages())
    started = timezone.now()

    result = reconcile_run()

    cursor = SyncCursor.objects.get(name=RECONCILE_CURSOR)
    assert cursor.position == result.end and cursor.position >= started
    assert (cursor.window_start, cursor.window_end, cursor.page, cursor.lease_holder) == (None, None, "", "")
    first = requests_to(sentry)[0]
    assert first.args["end"] == result.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    reconcile_run()

    next_start = datetime.fromisoformat(requests_to(sentry)[2].args["start"]).replace(tzinfo=UTC)
    assert (
        cursor.position - timedelta(minutes=5, seconds=1)
        <= next_start
        <= cursor.position - timedelta(minutes=4)
    )


def test_it_resumes_after_the_last_applied_page_when_a_run_breaks(sentry, known_item):
    pages = two_pages()
    pages[PAGE_2] = Response('{"detail": "Internal Error"}', status=500, content_type="application/json")
    serve_pages(sentry, pages)

    with pytest.raises(RetryableError, match="500"):
        reconcile_run()

    cursor = SyncCursor.objects.get(name=RECONCILE_CURSOR)
    assert cursor.position is None  # not advanced
    assert (cursor.page, cursor.lease_holder) == (PAGE_2, "")  # page 1 is applied; the lease is free again
    assert TriageItem.objects.filter(sentry_issue_id__in=["2001", "2002"]).count() == 2
    assert TriageItem.objects.get(sentry_issue_id=KNOWN_ISSUE).status == TriageItem.Status.NEW

    sentry.clear()
    serve_pages(sentry, two_pages())
    reconcile_run()

    assert [request.args.get("cursor", "") for request in requests_to(sentry)] == [PAGE_2]
    assert TriageItem.objects.get(sentry_issue_id=KNOWN_ISSUE).status == TriageItem.Status.RESOLVED
    assert SyncCursor.objects.get(name=RECONCILE_CURSOR).position is not None


def test_it_stops_on_an_answer_that_is_not_json_without_applying_anything(sentry):
    serve_pages(sentry, {"": Response("<html>502 Bad Gateway</html>", status=200, content_type="text/html")})

    with pytest.raises(PermanentError, match="not JSON"):
        reconcile_run()

    assert not TriageItem.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert SyncCursor.objects.get(name=RECONCILE_CURSOR).position is None


def test_it_applies_no_issue_of_a_page_that_has_an_unreadable_one(sentry):
    broken = api_issue("api-issue-detail", "2003", firstSeen="last tuesday")
    serve_pages(sentry, {"": [api_issue("api-issue-detail", "2002"), broken]})

    with pytest.raises(ReconcileError, match="'2003' is not readable.*firstSeen"):
        reconcile_run()

    assert not TriageItem.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_it_runs_one_reconcile_at_a_time(sentry):
    serve_pages(sentry, two_pages())
    SyncCursor.objects.create(
        name=RECONCILE_CURSOR, lease_holder="another-run", lease_until=timezone.now() + timedelta(minutes=5)
    )

    with pytest.raises(ReconcileBusy):
        reconcile_run()
    assert reconcile_from_sentry() == "busy: another run holds the lease"

    assert requests_to(sentry) == []
    SyncCursor.objects.update(lease_until=timezone.now() - timedelta(seconds=1))  # that run died
    assert reconcile_run().issues == 3


def test_it_does_not_flip_an_item_back_while_the_portals_push_is_pending(sentry, known_item):
    TriageItem.objects.filter(pk=known_item.pk).update(status=TriageItem.Status.IGNORED)
    SentrySync.objects.create(item=known_item, change={"status": "ignored", "substatus": "archived_forever"})
    serve_pages(
        sentry, {"": [api_issue("api-issue-detail", KNOWN_ISSUE, status="unresolved", substatus="ongoing")]}
    )

    reconcile_run()

    assert TriageItem.objects.get().status == TriageItem.Status.IGNORED


def test_it_does_nothing_when_not_configured(sentry, settings):
    settings.SENTRY_AUTH_TOKEN = ""

    assert reconcile_run() is None
    assert reconcile_from_sentry() == "not configured"
    assert requests_to(sentry) == []


# --- manage.py sync_from_sentry -------------------------------------------------------------


def test_it_reconciles_from_a_given_date(sentry, capsys):
    serve_pages(sentry, two_pages())

    call_command("sync_from_sentry", "--since", "2026-11-01")

    assert requests_to(sentry)[0].args["start"] == "2026-11-01T00:00:00"
    out = capsys.readouterr().out
    assert out.startswith("Reconciled 3 issues seen from 2026-11-01T00:00:00+00:00")
    assert "over 2 pages: 3 applied, 0 unchanged" in out


@pytest.mark.parametrize(
    "since,message", [("last week", "not an ISO 8601 date"), ("2999-01-01", "in the future")]
)
def test_it_refuses_a_since_it_cannot_use(sentry, since, message):
    with pytest.raises(CommandError, match=message):
        call_command("sync_from_sentry", "--since", since)
    assert requests_to(sentry) == []


def test_it_explains_a_refusal_from_sentry(sentry):
    serve_pages(
        sentry, {"": Response('{"detail": "Invalid token"}', status=401, content_type="application/json")}
    )

    with pytest.raises(CommandError, match="Sentry answered 401 UNAUTHORIZED: Invalid token"):
        call_command("sync_from_sentry")


def test_it_says_what_to_set_when_not_configured(settings):
    settings.SENTRY_ORG_SLUG = ""

    with pytest.raises(CommandError, match="SENTRY_AUTH_TOKEN and SENTRY_ORG_SLUG"):
        call_command("sync_from_sentry")
