"""Data-fix figures of the weekly report: requests filed, closed by ops and their median turnaround per
service and week (local week bounds), and the items waiting on ops."""

import csv
import io
import itertools
from datetime import timedelta

import pytest
from rest_framework.authtoken.models import Token

from ops.models import DataFixRequest
from reports.models import WeeklyOrgTrend, WeeklyServiceTrend
from reports.report import duration_text
from reports.services import trends_compute_week
from tests.factories import item_create
from tests.reports import test_trends as trends
from tests.reports.test_pages import PAGE_QUERIES
from tests.reports.test_trends import W43, utc
from triage.models import Service

pytestmark = pytest.mark.django_db
berlin = trends.berlin  # shared fixture
_ids = itertools.count(1)
State = DataFixRequest.State


def make_item(service, **fields):
    n = next(_ids)
    return item_create(
        sentry_issue_id=f"d{n}",
        short_id=f"D-{n}",
        title=f"Bad row {n}",
        service=service,
        first_seen=utc(2026, 10, 1),
        last_seen=utc(2026, 10, 1),
        classification="data_fix",
        **fields,
    )


def request(item, created_at, *, state=State.REQUESTED, closed_after=None, urgency="normal"):
    closed_at = created_at + closed_after if closed_after is not None else None
    return DataFixRequest.objects.create(
        item=item,
        description="fix it",
        state=state,
        created_at=created_at,
        closed_at=closed_at,
        due_at=created_at + timedelta(hours=4),
        urgency=urgency,
    )


@pytest.fixture
def services(db):
    return Service.objects.create(slug="billing", name="Billing"), Service.objects.create(
        slug="orders", name="O"
    )


def test_it_counts_requests_filed_and_closed_in_the_local_week(berlin, services):
    billing, orders = services
    item, other = make_item(billing), make_item(orders)
    request(item, utc(2026, 10, 18, 22, 30))  # Mon 00:30 CEST: filed in W43
    request(item, utc(2026, 10, 25, 22, 30))  # Sun 23:30 CET, after the clocks changed: filed in W43
    request(
        item, utc(2026, 10, 18, 21, 30), state=State.DONE, closed_after=timedelta(hours=2)
    )  # filed W42, closed W43
    request(item, utc(2026, 10, 25, 23, 30))  # Mon 00:30 CET: W44
    request(
        other, utc(2026, 10, 20), state=State.CANCELLED, closed_after=timedelta(hours=1)
    )  # filed; not ops' close
    trends_compute_week(week=W43)
    rows = {
        r.service.slug: (r.data_fix_requests, r.data_fix_closed) for r in WeeklyServiceTrend.objects.all()
    }
    assert rows == {"billing": (2, 1), "orders": (1, 0)}
    org = WeeklyOrgTrend.objects.get()
    assert (org.data_fix_requests, org.data_fix_closed, org.median_ops_turnaround_s) == (3, 1, 7200)


def test_it_takes_the_median_ops_turnaround_of_requests_done_or_rejected(berlin, services):
    billing, orders = services
    item, other = make_item(billing), make_item(orders)
    request(item, utc(2026, 10, 20), state=State.DONE, closed_after=timedelta(hours=2))
    request(item, utc(2026, 10, 20), state=State.REJECTED, closed_after=timedelta(hours=10))
    request(item, utc(2026, 10, 19), state=State.DONE, closed_after=timedelta(hours=4))
    request(item, utc(2026, 10, 20), state=State.CANCELLED, closed_after=timedelta(minutes=5))  # left out
    request(item, utc(2026, 10, 20), state=State.ACKNOWLEDGED)  # still open
    request(other, utc(2026, 10, 13), state=State.DONE, closed_after=timedelta(days=8))  # closed Wed of W43
    request(other, utc(2026, 10, 13), state=State.DONE, closed_after=timedelta(days=2))  # closed in W42
    trends_compute_week(week=W43)
    rows = {
        r.service.slug: (r.data_fix_closed, r.median_ops_turnaround_s)
        for r in WeeklyServiceTrend.objects.all()
    }
    assert rows == {"billing": (3, 4 * 3600), "orders": (1, 8 * 86400)}
    assert (
        WeeklyOrgTrend.objects.get().median_ops_turnaround_s == 7 * 3600
    )  # median of 2 h, 4 h, 10 h, 8 days


def test_it_recomputes_data_fix_figures_in_place(berlin, services):
    billing, _ = services
    item = make_item(billing)
    fix = request(item, utc(2026, 10, 20))
    trends_compute_week(week=W43)
    fix.state, fix.closed_at = State.DONE, utc(2026, 10, 21)
    fix.save()
    trends_compute_week(week=W43)
    trends_compute_week(week=W43)
    row = WeeklyServiceTrend.objects.get(service=billing)
    assert (row.data_fix_requests, row.data_fix_closed, row.median_ops_turnaround_s) == (1, 1, 86400)
    assert WeeklyOrgTrend.objects.count() == 1


def test_it_says_durations_the_way_people_do():
    assert [duration_text(s) for s in (None, 120, 3600 * 5.5, 86400 * 3.2)] == [
        "–",
        "2 min",
        "5.5 h",
        "3.2 days",
    ]


@pytest.fixture
def week_with_fixes(services):
    billing, orders = services
    waiting = make_item(billing)
    request(waiting, utc(2026, 10, 20), state=State.ACKNOWLEDGED, urgency="high")
    older = make_item(orders)
    request(older, utc(2026, 10, 14))
    done = make_item(billing)
    request(done, utc(2026, 10, 20), state=State.DONE, closed_after=timedelta(hours=3))
    resolved = make_item(billing, status="resolved")
    request(resolved, utc(2026, 10, 20))
    unrequested = make_item(orders)  # classified as a data fix, but nobody asked ops yet
    trends_compute_week(week=W43)
    return {
        "waiting": waiting,
        "older": older,
        "done": done,
        "resolved": resolved,
        "unrequested": unrequested,
    }


def test_it_lists_items_waiting_on_ops_longest_first(alice_client, week_with_fixes):
    html = alice_client.get("/reports/weekly/2026-W43/").content.decode()
    section = html.split("<h2>Waiting on ops", 1)[1].split("</section>", 1)[0]
    links = [
        f'/items/{week_with_fixes[name].pk}/"'
        for name in ("older", "waiting", "done", "resolved", "unrequested")
    ]
    assert [link in section for link in links] == [True, True, False, False, False]
    assert section.index(links[0]) < section.index(links[1])
    assert "acknowledged, <strong>high urgency</strong>" in section
    assert 'href="/?section=ops"' in section


def test_it_shows_the_weeks_data_fix_figures(alice_client, week_with_fixes):
    html = alice_client.get("/reports/weekly/2026-W43/").content.decode()
    assert "<strong>3</strong> requests filed, <strong>1</strong> done or rejected by ops this week" in html
    assert "median ops turnaround <strong>3.0 h</strong>" in html
    table = html.split('class="report-table data-fix-table"', 1)[1].split("</table>", 1)[0]
    billing = table.split("<tr>")[2]
    assert 'href="/?section=all&amp;classification=data_fix&amp;service=billing">billing</a>' in billing
    assert '>3</a></td><td class="num">1</td><td class="num">3.0 h</td>' in billing
    assert "Data-fix requests</span><strong>3</strong>" in html


def test_it_exports_data_fix_columns_in_csv_and_json(alice_client, alice, week_with_fixes):
    rows = list(
        csv.DictReader(io.StringIO(alice_client.get("/reports/weekly/2026-W43.csv").content.decode()))
    )
    figures = {
        r["service"]: (r["data_fix_requests"], r["data_fix_closed"], r["median_ops_turnaround_s"])
        for r in rows
    }
    assert figures == {"billing": ("3", "1", "10800.0"), "orders": ("0", "0", "")}
    token = Token.objects.create(user=alice).key
    body = alice_client.get("/api/trends/weekly/?week=2026-W43", HTTP_AUTHORIZATION=f"Token {token}").json()
    assert (body["totals"]["data_fix_requests"], body["totals"]["median_ops_turnaround_s"]) == (3, 10800.0)


def test_it_keeps_the_query_count_with_more_requests(
    alice_client, services, week_with_fixes, django_assert_num_queries
):
    with django_assert_num_queries(PAGE_QUERIES):
        alice_client.get("/reports/weekly/2026-W43/")
    for n in range(5):
        request(
            make_item(Service.objects.create(slug=f"svc{n}", name=f"S{n}")),
            utc(2026, 10, 21),
            state=State.DONE,
            closed_after=timedelta(hours=n),
        )
        request(make_item(services[0]), utc(2026, 10, 21))
    trends_compute_week(week=W43)
    with django_assert_num_queries(PAGE_QUERIES):
        assert alice_client.get("/reports/weekly/2026-W43/").status_code == 200
