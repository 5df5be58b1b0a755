"""The weekly report's runbook, recurring, spike and chart sections, and the same tables in the CSV and the
API."""

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.authtoken.models import Token

from reports.serializers import WeeklyTrendsSerializer
from reports.services import trends_compute_week
from reports.weeks import week_parse
from runbooks import services as runbook_services
from runbooks.models import RunbookFeedback
from tests.factories import item_create, occurrences_create
from tests.reports.test_pages import PAGE_QUERIES
from triage.models import Activity, Service

pytestmark = pytest.mark.django_db
W46 = week_parse("2026-W46")  # Mon 9 Nov to Mon 16 Nov 2026 (UTC)
MONDAY = datetime(2026, 11, 9, 9, tzinfo=UTC)
_ids = itertools.count(1)


def make_item(service, events_by_day, *, first_seen=MONDAY, runbook=None, exception_type="KeyError"):
    """`events_by_day`: {day offset from Monday 9 Nov: events}."""
    n = next(_ids)
    item = item_create(
        sentry_issue_id=f"x{n}",
        short_id=f"X-{n}",
        title=f"{exception_type}: boom {n}",
        service=service,
        first_seen=first_seen,
        last_seen=first_seen,
        runbook=runbook,
    )
    occurrences_create(
        item=item,
        timestamps=(
            MONDAY + timedelta(days=day, seconds=s)
            for day, count in events_by_day.items()
            for s in range(count)
        ),
        prefix="xe",
        ids=_ids,
        exception_type=exception_type,
    )
    return item


@pytest.fixture
def report(alice):
    checkout, search = (Service.objects.create(slug=s, name=s.title()) for s in ("checkout", "search"))
    cart = runbook_services.runbook_create(user=alice, slug="cart", title="Cart errors", body="v1")
    linked = make_item(checkout, {0: 5, 1: 1}, first_seen=MONDAY - timedelta(weeks=3), runbook=cart)
    recurring = make_item(checkout, {0: 1, 2: 1, 4: 2}, exception_type="TimeoutError")
    spiking = make_item(search, {1: 40}, first_seen=MONDAY - timedelta(weeks=3))
    RunbookFeedback.objects.create(runbook=cart, kind="unclear", created_at=MONDAY)
    Activity.objects.create(
        item=linked, verb="runbook_feedback", data={"helped": False, "slug": "cart"}, created_at=MONDAY
    )
    runbook_services.runbook_use_record(
        version=cart.current_version,
        item_ref=linked.pk,
        item_title=linked.title,
        item_url="/",
        linked_at=MONDAY,
    )
    trends_compute_week(week=W46)
    return {"linked": linked, "recurring": recurring, "spiking": spiking}


@pytest.fixture
def api(client, alice):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=alice).key}"
    return client


def page(client):
    return client.get("/reports/weekly/2026-W46/").content.decode()


def test_it_shows_runbook_coverage_with_its_counts(alice_client, report):
    assert "Runbook coverage: <strong>1</strong> of 3 items with events this week (33%)" in page(alice_client)
    assert "<strong>6</strong> of 50 events (12%) had a runbook linked" in page(alice_client)


def test_it_lists_runbooks_used_and_flagged_with_links_to_them(alice_client, report):
    html = page(alice_client)
    used, flagged = html.split("Most used", 1)[1].split("Most flagged as unclear", 1)
    assert '<a href="/runbooks/cart/">Cart errors</a>' in used and "1 item</span>" in used
    assert '<a href="/runbooks/cart/">Cart errors</a>' in flagged and "1 unclear, 1 did not help" in flagged


def test_it_lists_error_kinds_without_a_runbook_linking_to_their_items(alice_client, report):
    kinds = page(alice_client).split("Error kinds without a runbook", 1)[1].split("</table>", 1)[0]
    rows = kinds.split("<tr>")[2:]
    assert "search" in rows[0] and "KeyError" in rows[0] and ">40</a>" in rows[0]
    assert "checkout" in rows[1] and "TimeoutError" in rows[1] and ">4</a>" in rows[1]
    assert 'href="/?section=all&amp;service=search&amp;q=KeyError"' in rows[0]
    assert "Cart" not in kinds


def test_it_shows_new_recurring_errors_with_the_rule(alice_client, report):
    html = page(alice_client).split("<h2>New recurring errors</h2>", 1)[1].split("</section>", 1)[0]
    assert "first seen this week, with events on at least 3 different days" in html.lower()
    assert f'href="/items/{report["recurring"].pk}/"' in html and "4 events on 3 days" in html
    assert f"/items/{report['linked'].pk}/" not in html  # first seen weeks ago


def test_it_flags_a_spiking_item_among_the_movers_with_the_rule(alice_client, report):
    movers = page(alice_client).split("<h2>Top movers up</h2>", 1)[1].split("</section>", 1)[0]
    spiking = movers.split(f"/items/{report['spiking'].pk}/", 1)[1].split("</li>", 1)[0]
    assert 'class="spike-flag" title="events ≥ 20 and events &gt; baseline + 3·spread' in spiking
    assert "40 &gt; 3 (baseline 0 + 3·spread 1)" in spiking
    linked = movers.split(f"/items/{report['linked'].pk}/", 1)[1].split("</li>", 1)[0]
    assert "spike-flag" not in linked


def test_it_draws_the_services_chart_without_outside_resources(alice_client, report):
    html = page(alice_client)
    chart = html.split('<svg class="services-chart"', 1)[1].split("</svg>", 1)[0]
    assert chart.count('<polyline class="line s') == 2  # two services: no "other" line
    assert ">search <tspan" in chart and ">checkout <tspan" in chart
    assert ">W35<" in chart and ">W46<" in chart
    assert "https://" not in html.split("<main", 1)[1].split("</main>")[0]


def test_it_offers_a_decision_on_a_new_recurring_error(alice_client, report):
    form = page(alice_client).split('class="decision-form', 1)[1]
    assert f'<option value="{report["recurring"].pk}">' in form


def csv_rows(client, table):
    response = client.get(f"/reports/weekly/2026-W46.csv?table={table}")
    assert response.status_code == 200, response.content
    return response, list(csv.DictReader(io.StringIO(response.content.decode())))


def test_it_exports_each_table_as_csv(alice_client, report):
    response, runbooks = csv_rows(alice_client, "runbooks")
    assert 'filename="weekly-trends-2026-W46-runbooks.csv"' in response["Content-Disposition"]
    assert [(r["slug"], r["used"], r["unclear"], r["not_helped"]) for r in runbooks] == [
        ("cart", "1", "1", "1")
    ]
    _, kinds = csv_rows(alice_client, "kinds_without_runbook")
    assert [(r["service"], r["exception_type"], r["events"], r["items"]) for r in kinds] == [
        ("search", "KeyError", "40", "1"),
        ("checkout", "TimeoutError", "4", "1"),
    ]
    _, fresh = csv_rows(alice_client, "new_recurring")
    assert [(r["short_id"], r["events"], r["days"], r["recurring"]) for r in fresh] == [
        (report["recurring"].short_id, "4", "3", "True")
    ]
    _, movers = csv_rows(alice_client, "top_items")
    assert {r["short_id"]: (r["spike"], r["baseline"]) for r in movers}[report["spiking"].short_id] == (
        "True",
        "0.0",
    )


def test_it_adds_coverage_columns_to_the_services_csv(alice_client, report):
    _, services = csv_rows(alice_client, "services")
    figures = [
        (r["service"], r["events"], r["active_items"], r["runbook_items"], r["runbook_events"])
        for r in services
    ]
    assert figures == [("search", "40", "1", "0", "0"), ("checkout", "10", "2", "1", "6")]


def test_it_answers_400_for_an_unknown_csv_table(alice_client, report):
    response = alice_client.get("/reports/weekly/2026-W46.csv?table=secrets")
    assert response.status_code == 400 and "Unknown table" in response.json()["detail"]


def test_it_returns_the_new_tables_as_json(api, report):
    body = api.get("/api/trends/weekly/?week=2026-W46").json()
    assert body["runbook_coverage"] == {
        "active_items": 3,
        "runbook_items": 1,
        "runbook_events": 6,
        "events": 50,
        "item_share": pytest.approx(1 / 3),
        "event_share": 0.12,
    }
    assert [(r["slug"], r["used"], r["linked"], r["unclear"], r["not_helped"]) for r in body["runbooks"]] == [
        ("cart", 1, 1, 1, 1)
    ]
    assert [(k["service"], k["exception_type"], k["events"]) for k in body["kinds_without_runbook"]] == [
        ("search", "KeyError", 40),
        ("checkout", "TimeoutError", 4),
    ]
    fresh = [(i["item"], i["days"], i["recurring"]) for i in body["new_recurring"]]
    assert fresh == [(report["recurring"].pk, 3, True)]
    spiking = next(i for i in body["top_items"] if i["item"] == report["spiking"].pk)
    assert (spiking["spike"], spiking["baseline"], spiking["spread"]) == (True, 0.0, 1.0)
    assert {"spike", "recurring"} == set(body["rules"])
    assert (body["totals"]["runbook_items"], body["services"][1]["runbook_events"]) == (1, 6)
    assert WeeklyTrendsSerializer(data=body).is_valid(), "the payload matches its documented schema"


def test_it_documents_the_new_tables(api):
    schema = api.get("/api/schema/?format=json").json()["components"]["schemas"]
    assert {"new_recurring", "runbooks", "runbook_coverage", "kinds_without_runbook", "rules"} <= set(
        schema["WeeklyTrends"]["properties"]
    )


def test_it_requires_login_for_the_csv_tables(client, report):
    response = client.get("/reports/weekly/2026-W46.csv?table=runbooks")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client.get("/api/trends/weekly/?week=2026-W46").status_code == 401


def test_it_keeps_the_query_count_with_more_runbooks_kinds_and_recurring_items(
    alice_client, report, alice, django_assert_num_queries
):
    with django_assert_num_queries(PAGE_QUERIES):
        alice_client.get("/reports/weekly/2026-W46/")
    for n in range(4):
        service = Service.objects.create(slug=f"svc{n}", name=f"S{n}")
        runbook = runbook_services.runbook_create(user=alice, slug=f"rb{n}", title=f"Runbook {n}", body="v1")
        RunbookFeedback.objects.create(runbook=runbook, kind="unclear", created_at=MONDAY)
        make_item(service, {0: 1, 1: 1, 2: 1}, exception_type=f"Error{n}")
        make_item(service, {3: 30}, first_seen=MONDAY - timedelta(weeks=2), runbook=runbook)
    trends_compute_week(week=W46)
    with django_assert_num_queries(PAGE_QUERIES):
        html = page(alice_client)
    assert html.count("events on 3 days") == 5  # the constructed one and the four new ones
