"""Hostile input the portal stores or receives: links only to http(s), CSV cells no spreadsheet runs, no NUL
stored.

Issue 18, findings 8 (javascript: links), 9 (CSV formula injection) and 10 (NUL in queries, forms and JSON).
"""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from grouping.models import Suggestion, SuggestionItem
from reports.services import trends_compute_week
from reports.weeks import week_parse
from runbooks import services as runbook_services
from tests.factories import item_create, service_get
from tests.helpers import issue_payload
from tests.triage.test_pages import deliver
from tests.triage.test_queue_actions import act
from triage.models import Activity, Occurrence, TriageItem
from triage.templatetags.safe_urls import safe_url

pytestmark = pytest.mark.django_db

HOSTILE_URLS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    "  javascript:alert(1)",
    "java\tscript:alert(1)",
    "\x01javascript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "/\t\\evil.example/phish",
    "https:alert(1)",
    "file:///etc/passwd",
]
SAFE_URLS = [
    "https://sentry.io/organizations/acme/issues/1/",
    "http://sentry.internal/issues/2/",
    "/items/3/",
]
SENTRY_URL = "https://sentry.io/organizations/test-org/issues/1170820242/"


def make_item(**fields):
    now = timezone.now()
    defaults = {
        "sentry_issue_id": "9001",
        "short_id": "SVC-1",
        "title": "Payment timeout in checkout",
        "first_seen": now - timedelta(days=1),
        "last_seen": now,
    }
    return item_create(service=service_get(slug="checkout", name="Checkout"), **{**defaults, **fields})


@pytest.fixture
def api(client):
    def with_token(user):
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
        return client

    return with_token


# --- Finding 8: links from stored input go only to http(s) -------------------------------------------------


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_it_makes_no_link_of_a_url_that_is_not_http(url):
    assert safe_url(url) == ""


@pytest.mark.parametrize("url", SAFE_URLS)
def test_it_keeps_http_links_and_the_portal_s_own_paths(url):
    assert safe_url(url) == url


def test_it_makes_no_link_of_a_javascript_permalink_from_a_webhook(alice_client, client):
    deliver(client, "issue", issue_payload(permalink="javascript:alert(document.domain)//"))
    item = TriageItem.objects.get(sentry_issue_id="1170820242")

    html = alice_client.get(item.get_absolute_url()).content.decode()

    assert "javascript:" not in html
    assert "Open in Sentry" not in html


def test_it_still_links_an_https_permalink_to_sentry(alice_client, client):
    deliver(client, "issue", issue_payload(permalink=SENTRY_URL))

    html = alice_client.get(TriageItem.objects.get().get_absolute_url()).content.decode()

    assert f'href="{SENTRY_URL}" rel="noopener" target="_blank">Open in Sentry' in html


@pytest.mark.parametrize("url", HOSTILE_URLS[:4])
def test_it_answers_no_sentry_url_in_the_api_for_a_hostile_one(api, alice, url):
    item = make_item(sentry_url=url)

    assert api(alice).get(f"/api/items/{item.pk}/").json()["sentry_url"] == ""
    assert api(alice).get("/api/items/").json()["results"][0]["sentry_url"] == ""


def test_it_shows_a_grouping_example_as_text_when_the_sentry_url_is_hostile(alice_client):
    item = make_item(sentry_url="javascript:alert(1)//")
    example = {"event_id": "abc123def456", "value": "KeyError 'sku'", "timestamp": "2026-01-01T00:00:00Z"}
    suggestion = Suggestion.objects.create(
        kind="split",
        key=f"split:{item.pk}",
        item=item,
        rule="rule",
        signature="s",
        events=10,
        groups=[
            {
                "service": "checkout",
                "exception_type": "KeyError",
                "message_template": "x",
                "events": 10,
                "share": 1.0,
                "example": example,
            }
        ],
    )
    SuggestionItem.objects.create(suggestion=suggestion, item=item)

    html = alice_client.get("/grouping/").content.decode()

    assert "javascript:" not in html
    assert '<span title="KeyError &#x27;sku&#x27;">abc123def456</span>' in html


def test_it_makes_no_link_of_a_hostile_item_url_in_a_runbook_s_uses(alice_client, alice):
    runbook = runbook_services.runbook_create(user=alice, slug="cart", title="Cart errors", body="v1")
    runbook_services.runbook_use_record(
        version=runbook.current_version,
        item_ref=1,
        item_title="Cart broke",
        item_url="javascript:alert(1)",
        linked_at=timezone.now(),
    )

    html = alice_client.get("/runbooks/cart/").content.decode()

    assert "javascript:" not in html
    assert "Cart broke" in html


# --- Finding 9: CSV cells that a spreadsheet would run are neutralised -------------------------------------

W46 = week_parse("2026-W46")
MONDAY = datetime(2026, 11, 9, 9, tzinfo=UTC)
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


def csv_rows(client, table):
    response = client.get(f"/reports/weekly/2026-W46.csv?table={table}")
    assert response.status_code == 200, response.content
    return list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))


@pytest.fixture
def hostile_week(alice):
    for n, title in enumerate([*FORMULAS, "Plain title"]):
        item = make_item(
            sentry_issue_id=f"f{n}", short_id=f"F-{n}", title=title, first_seen=MONDAY, last_seen=MONDAY
        )
        Occurrence.objects.bulk_create(
            Occurrence(
                event_id=f"f{n}-{s}",
                item=item,
                exception_type="=1+1",
                timestamp=MONDAY + timedelta(seconds=s),
            )
            for s in range(n + 1)
        )
    runbook = runbook_services.runbook_create(user=alice, slug="dde", title="=cmd|' /C calc'!A0", body="v1")
    runbook_services.runbook_use_record(
        version=runbook.current_version,
        item_ref=item.pk,
        item_title=item.title,
        item_url="/",
        linked_at=MONDAY,
    )
    trends_compute_week(week=W46)


def test_it_neutralises_formulas_in_csv_titles(alice_client, hostile_week):
    titles = {row["title"] for row in csv_rows(alice_client, "top_items")}

    assert titles == {"'" + title for title in FORMULAS} | {"Plain title"}


def test_it_neutralises_formulas_in_every_csv_table(alice_client, hostile_week):
    kinds = csv_rows(alice_client, "kinds_without_runbook")
    runbooks = csv_rows(alice_client, "runbooks")

    assert [row["exception_type"] for row in kinds] == ["'=1+1"]
    assert [row["title"] for row in runbooks if row["slug"] == "dde"] == ["'=cmd\\|' /C calc'!A0"]


def test_it_leaves_numbers_in_csv_cells_as_numbers(alice_client, hostile_week):
    services = csv_rows(alice_client, "services")

    assert services[0]["service"] == "checkout" and services[0]["events"] == "28"


# --- Finding 10: NUL (and unpaired surrogates) never reach PostgreSQL ---------------------------------------

NUL_PAGES = [
    "/?q=%00",
    "/?q=time%00out",
    "/?service=%00",
    "/?owner=%00",
    "/?environment=%00",
    "/?level=%00",
    "/runbooks/?q=%00",
    "/runbooks/?service=%00&team=%00",
    "/ops/?team=%00",
    "/grouping/?kind=%00",
]
NUL_API = [
    "/api/items/?service=%00",
    "/api/items/?owner=%00",
    "/api/items/?environment=%00",
    "/api/items/?sentry_issue_id=%00",
    "/api/runbooks/?q=%00",
    "/api/data-fixes/?team=%00",
]


@pytest.mark.postgres
@pytest.mark.parametrize("path", NUL_PAGES)
def test_it_answers_pages_with_nul_in_a_filter(client, bob, path):
    make_item()
    client.force_login(bob)

    assert client.get(path).status_code == 200


@pytest.mark.postgres
def test_it_still_searches_once_the_nul_is_dropped(alice_client):
    item = make_item()

    html = alice_client.get("/?q=time%00out").content.decode()

    assert f'data-item-id="{item.pk}"' in html


@pytest.mark.postgres
@pytest.mark.parametrize("path", NUL_API)
def test_it_answers_the_api_with_nul_in_a_filter(api, bob, path):
    make_item()

    assert api(bob).get(path).status_code == 200


@pytest.mark.postgres
def test_it_stores_a_page_comment_without_its_nul(client, charlie):
    item = make_item()
    client.force_login(charlie)

    response = act(client, item, "comment", {"body": "Seen\x00 on staging", "render": "item"})

    assert response.status_code == 200
    assert Activity.objects.get(item=item, verb="commented").data["body"] == "Seen on staging"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "encoded",
    [
        {"data": "body=Seen%00+twice", "content_type": "application/x-www-form-urlencoded"},
        {"data": {"body": "Seen\x00 twice"}},  # multipart/form-data
    ],
)
def test_it_stores_a_form_encoded_api_comment_without_its_nul(api, charlie, encoded):
    item = make_item()

    response = api(charlie).post(f"/api/items/{item.pk}/comments/", **encoded)

    assert response.status_code == 200, response.content
    assert Activity.objects.get(item=item, verb="commented").data["body"] == "Seen twice"


@pytest.mark.postgres
@pytest.mark.parametrize("body", ['{"body": "Seen\\u0000 twice"}', '{"body": "Seen \\ud800 twice"}'])
def test_it_refuses_an_api_comment_with_nul_or_a_lone_surrogate(api, charlie, body):
    item = make_item()

    response = api(charlie).post(f"/api/items/{item.pk}/comments/", body, content_type="application/json")

    assert response.status_code == 400
    assert "NUL" in response.json()["error"]
    assert not Activity.objects.filter(item=item, verb="commented").exists()


@pytest.mark.postgres
def test_it_refuses_data_fix_parameters_with_nul(api, alice):
    item = make_item(classification=TriageItem.Classification.DATA_FIX)
    body = '{"description": "Fix the cart", "parameters": {"cart": "a\\u0000b"}}'

    response = api(alice).post(f"/api/items/{item.pk}/data-fixes/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("The JSON body has a NUL")


@pytest.mark.postgres
def test_it_still_accepts_a_clean_api_comment(api, charlie):
    item = make_item()

    response = api(charlie).post(
        f"/api/items/{item.pk}/comments/", {"body": "Seen twice"}, content_type="application/json"
    )

    assert response.status_code == 200
    assert Activity.objects.get(item=item, verb="commented").data["body"] == "Seen twice"
