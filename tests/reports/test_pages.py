"""The weekly report page, its CSV, its JSON API and the meeting decisions recorded from it."""

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.authtoken.models import Token

from reports.models import MeetingDecision
from reports.serializers import WeeklyTrendsSerializer
from reports.services import trends_compute_week
from reports.weeks import week_parse
from tests.factories import item_create, occurrences_create
from triage.models import Service, TriageItem

pytestmark = pytest.mark.django_db
W46 = week_parse("2026-W46")  # Mon 9 Nov to Mon 16 Nov 2026 (UTC)
_ids = itertools.count(1)
# Pinned: session, user, the user's groups (may they record a decision), org rows, service rows, 12-week
# history, movers up/down/toil, new recurring, ops, grouping suggestions, unclassified, decisions, runbook
# rows, error kinds.
PAGE_QUERIES = 16


def make_item(service, n_events, *, at=datetime(2026, 11, 10, tzinfo=UTC), **fields):
    n = next(_ids)
    item = item_create(
        sentry_issue_id=f"p{n}",
        short_id=f"P-{n}",
        title=f"Boom {n}",
        service=service,
        first_seen=at,
        last_seen=at,
        event_count=n_events,
        **fields,
    )
    occurrences_create(
        item=item, timestamps=(at + timedelta(minutes=m) for m in range(n_events)), prefix="pe", ids=_ids
    )
    return item


@pytest.fixture
def week_data(db):
    checkout, search = (Service.objects.create(slug=s, name=s.title()) for s in ("checkout", "search"))
    make_item(checkout, 30, classification="data_fix")
    make_item(search, 2)
    make_item(search, 1, at=datetime(2026, 11, 3, tzinfo=UTC))
    trends_compute_week(week=W46.shifted(-1))
    trends_compute_week(week=W46)
    return checkout, search


@pytest.fixture
def api(client, alice):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=alice).key}"
    return client


def test_it_requires_login_for_the_report(client, week_data):
    for url in ("/reports/weekly/", "/reports/weekly/2026-W46/", "/reports/weekly/2026-W46.csv"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_it_shows_the_latest_computed_week(alice_client, week_data):
    page = alice_client.get("/reports/weekly/").content.decode()
    assert "Weekly report 2026-W46" in page
    assert 'href="/?section=all&amp;service=checkout"' in page
    assert "Spike" in page and "events ≥ 20 and events &gt; baseline + 3·spread" in page
    assert (
        '<svg class="week-spark"' in page and "https://" not in page.split("<main", 1)[1].split("</main>")[0]
    )


def test_it_shows_week_over_week_change(alice_client, week_data):
    page = alice_client.get("/reports/weekly/2026-W46/").content.decode()
    assert "+31 (+3100%) vs 2026-W45" in page  # 32 events against 1


def test_it_says_when_nothing_was_computed(alice_client):
    assert b"No week has been computed yet" in alice_client.get("/reports/weekly/").content


def test_it_answers_404_for_weeks_not_computed_or_invalid(alice_client, week_data):
    for url in ("/reports/weekly/2026-W40/", "/reports/weekly/2026-W99/", "/reports/weekly/2026-W99.csv"):
        assert alice_client.get(url).status_code == 404


def test_it_exports_one_csv_row_per_service(alice_client, week_data):
    response = alice_client.get("/reports/weekly/2026-W46.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert [(r["service"], r["events"], r["events_prev"], r["new_items"], r["spike"]) for r in rows] == [
        ("checkout", "30", "0", "1", "True"),
        ("search", "2", "1", "1", "False"),
    ]


def test_it_returns_the_contract_json(api, week_data):
    body = api.get("/api/trends/weekly/?week=2026-W46").json()
    assert body["week"] == "2026-W46"
    assert {"events", "new_items", "regressed", "resolved", "ignored", "open_backlog"} <= set(body["totals"])
    assert body["totals"]["events"] == 32
    checkout = body["services"][0]
    assert (checkout["service"], checkout["events"], checkout["spike"], checkout["baseline"]) == (
        "checkout",
        30,
        True,
        0,
    )
    assert {"events_prev", "new_items", "regressed", "resolved", "open_backlog"} <= set(checkout)
    assert [row["events"] for row in body["top_items"]] == [30, 2, 0]
    assert body["top_toil"] == []
    assert WeeklyTrendsSerializer(data=body).is_valid(), "the payload matches its documented schema"


def test_it_answers_401_without_a_token(client, week_data):
    assert client.get("/api/trends/weekly/?week=2026-W46").status_code == 401


def test_it_answers_400_and_404_on_the_api(api, week_data):
    assert api.get("/api/trends/weekly/?week=2026-47").status_code == 400
    assert api.get("/api/trends/weekly/?week=2026-W99").status_code == 400
    assert api.get("/api/trends/weekly/?week=2026-W40").status_code == 404


def test_it_documents_the_api(api):
    schema = api.get("/api/schema/?format=json").json()
    assert "week" in [p["name"] for p in schema["paths"]["/api/trends/weekly/"]["get"]["parameters"]]


def test_it_records_a_meeting_decision(alice_client, week_data):
    item = TriageItem.objects.get(service__slug="checkout")
    response = alice_client.post(
        "/reports/weekly/2026-W46/decisions/", {"item": item.pk, "text": "fix next sprint"}
    )
    assert response.status_code == 302
    page = alice_client.get("/reports/weekly/2026-W46/").content.decode()
    assert "fix next sprint" in page
    assert MeetingDecision.objects.get().author.username == "alice"


def test_it_lets_no_reader_record_a_decision(client, charlie, week_data):
    client.force_login(charlie)
    assert b"Record decision" not in client.get("/reports/weekly/2026-W46/").content
    item = TriageItem.objects.first()
    response = client.post("/reports/weekly/2026-W46/decisions/", {"item": item.pk, "text": "ignore"})
    assert response.status_code == 403 and not MeetingDecision.objects.exists()


def test_it_keeps_the_page_query_count_constant(alice_client, week_data, django_assert_num_queries):
    with django_assert_num_queries(PAGE_QUERIES):
        alice_client.get("/reports/weekly/2026-W46/")
    for n in range(5):
        make_item(Service.objects.create(slug=f"svc{n}", name=f"S{n}"), 1)
    trends_compute_week(week=W46)
    with django_assert_num_queries(PAGE_QUERIES):
        assert alice_client.get("/reports/weekly/2026-W46/").status_code == 200
