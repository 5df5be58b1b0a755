"""The read-only REST API: token auth, what an item looks like, filters, errors as JSON, the schema and
docs."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.authtoken.models import Token

from integrations.models import WebhookDelivery
from integrations.services import delivery_process
from tests.factories import item_create, service_create
from tests.helpers import event_payload, issue_payload, post_webhook
from triage.models import Service, TriageItem

pytestmark = pytest.mark.django_db
Status = TriageItem.Status

# Pinned: token with its user, item count, item rows with their services.
LIST_QUERIES = 3

LIST_FIELDS = {
    "id",
    "sentry_issue_id",
    "short_id",
    "title",
    "culprit",
    "level",
    "status",
    "service",
    "environment",
    "event_count",
    "first_seen",
    "last_seen",
    "sentry_url",
}


@pytest.fixture
def token(alice):
    return Token.objects.create(user=alice)


@pytest.fixture
def api(client, token):
    """A client that sends alice's token and no session cookie."""
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {token.key}"
    return client


def deliver(client, resource, payload):
    response = post_webhook(client, resource, payload)
    assert response.status_code == 202, response.content
    assert delivery_process(delivery_id=response.json()["delivery"]) == WebhookDelivery.Status.PROCESSED


def make_item(n, *, status=Status.NEW, level="error", service=None, last_seen=None):
    now = timezone.now()
    return item_create(
        sentry_issue_id=str(7000 + n),
        short_id=f"SVC-{n}",
        title=f"Item {n}",
        level=level,
        status=status,
        service=service or service_create(slug=f"svc-{n}", name=f"Service {n}"),
        first_seen=now - timedelta(days=1),
        last_seen=last_seen or now - timedelta(minutes=n),
    )


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Authentication ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/items/", "/api/items/1/", "/api/schema/"])
@pytest.mark.parametrize(
    "authorization", [None, "Token 0123456789abcdef0123456789abcdef01234567", "Bearer x"]
)
def test_it_answers_401_without_a_valid_token(client, alice, path, authorization):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get(path, **headers)

    assert response.status_code == 401  # not a redirect to the login page
    assert response["WWW-Authenticate"] == "Token"
    if path != "/api/schema/":
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]


def test_it_answers_401_for_the_token_of_a_deactivated_user(client, token, alice):
    alice.is_active = False
    alice.save()

    response = client.get("/api/items/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 401
    assert "inactive" in response.json()["error"].lower()


def test_it_accepts_a_token_made_with_the_management_command(client, alice, capsys):
    call_command("drf_create_token", "alice")
    key = re.search(r"Generated token (\w+) for user alice", capsys.readouterr().out)[1]

    response = client.get("/api/items/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 200
    assert Token.objects.get(user=alice).key == key


def test_it_also_serves_a_logged_in_browser_session(alice_client):
    assert alice_client.get("/api/items/").status_code == 200


# --- Items ------------------------------------------------------------------------------


def test_it_lists_items_from_real_webhooks(api):
    deliver(api, "issue", issue_payload())
    deliver(api, "event_alert", event_payload("e4874d664c3540c1a32eab185f12c5ab", environment="production"))

    response = api.get("/api/items/")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    event_item, issue_item = body["results"]  # the event is newer (2019-08-19 21:06 vs 20:58)
    assert set(issue_item) >= LIST_FIELDS
    assert issue_item == issue_item | {
        "sentry_issue_id": "1170820242",
        "short_id": "FRONT-END-9",
        "title": "ReferenceError: blooopy is not defined",
        "culprit": "?(runner)",
        "level": "error",
        "status": "new",
        "service": "front-end",
        "environment": "",
        "event_count": 1,
        "first_seen": "2019-08-19T20:58:37.391000Z",
        "last_seen": "2019-08-19T20:58:37.391000Z",
        "exception_type": "ReferenceError",
        "exception_value": "blooopy is not defined",
    }
    assert event_item == event_item | {
        "sentry_issue_id": "1117540176",
        "environment": "production",
        "service": "front-end",
        "sentry_url": "https://sentry.io/organizations/test-org/issues/1117540176/",
        "last_seen": "2019-08-19T21:06:17.677000Z",
    }
    assert "latest_event" not in event_item  # the list stays light


def test_it_shows_one_item_with_its_latest_event(api):
    deliver(api, "event_alert", event_payload("e4874d664c3540c1a32eab185f12c5ab"))
    item = TriageItem.objects.get()

    response = api.get(f"/api/items/{item.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= LIST_FIELDS
    assert body["id"] == item.pk
    assert body["tags"]["browser"] == "Chrome 75.0.3770"
    assert body["latest_event"]["event_id"] == "e4874d664c3540c1a32eab185f12c5ab"
    assert [frame["lineno"] for frame in body["latest_event"]["exceptions"][0]["frames"]] == [1, 1, 3]


def test_it_lists_all_statuses_most_recently_seen_first(api):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    old = make_item(1, last_seen=now - timedelta(hours=2))
    resolved = make_item(2, status=Status.RESOLVED, last_seen=now)
    new = make_item(3, last_seen=now - timedelta(hours=1))

    assert ids(api.get("/api/items/")) == [resolved.pk, new.pk, old.pk]


def test_it_filters_by_status(api):
    new, triaged, resolved = (
        make_item(1),
        make_item(2, status=Status.TRIAGED),
        make_item(3, status=Status.RESOLVED),
    )

    assert ids(api.get("/api/items/?status=resolved")) == [resolved.pk]
    assert ids(api.get("/api/items/?status=new&status=triaged")) == [new.pk, triaged.pk]


def test_it_filters_by_service_slug(api):
    checkout = Service.objects.create(slug="checkout", name="Checkout")
    first, second = make_item(1, service=checkout), make_item(2, service=checkout)
    make_item(3)

    assert ids(api.get("/api/items/?service=checkout")) == [first.pk, second.pk]
    assert ids(api.get("/api/items/?service=nowhere")) == []


def test_it_filters_by_level(api):
    make_item(1, level="error")
    warning = make_item(2, level="warning")

    assert ids(api.get("/api/items/?level=warning")) == [warning.pk]


def test_it_filters_by_sentry_issue_id(api):
    make_item(1)
    wanted = make_item(2)

    assert ids(api.get("/api/items/?sentry_issue_id=7002")) == [wanted.pk]


@pytest.mark.parametrize("query", ["status=bogus", "status=new&status=bogus", "status=<script>"])
def test_it_answers_400_json_for_an_invalid_filter(api, query):
    make_item(1)

    response = api.get(f"/api/items/?{query}")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"].startswith("status: Select a valid choice")


def test_it_answers_404_json_for_an_unknown_item(api):
    for path in ["/api/items/424242/", "/api/items/not-a-number/", "/api/items/?page=99"]:
        response = api.get(path)

        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_it_is_read_only(api, method):
    item = make_item(1)

    for path in ["/api/items/", f"/api/items/{item.pk}/"]:
        response = getattr(api, method)(path, data={"status": "resolved"}, content_type="application/json")

        assert response.status_code == 405, path
        assert response.json()["error"]
    item.refresh_from_db()
    assert (TriageItem.objects.count(), item.status) == (1, Status.NEW)


@pytest.mark.parametrize("rows", [1, 30])
def test_it_lists_with_a_fixed_number_of_queries(api, django_assert_num_queries, rows):
    for n in range(rows):  # each on its own service: a missing select_related would show
        make_item(n)

    with django_assert_num_queries(LIST_QUERIES):
        response = api.get("/api/items/")

    assert response.json()["count"] == rows
    assert len({row["service"] for row in response.json()["results"]}) == rows


# --- Schema and docs -----------------------------------------------------------------


def test_it_serves_an_openapi_schema_to_token_holders(api):
    response = api.get("/api/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Triage Portal API"
    actions = {
        "classify",
        "take",
        "assign",
        "ignore",
        "resolve",
        "unresolve",
        "comments",
        "runbook-feedback",
        "data-fixes",
    }
    assert {path for path in schema["paths"] if path.startswith("/api/items/")} == {
        "/api/items/",
        "/api/items/{id}/",
        "/api/items/bulk/",
    } | {f"/api/items/{{id}}/{name}/" for name in actions}
    assert set(schema["paths"]["/api/items/{id}/classify/"]) == {"post"}
    assert set(schema["paths"]["/api/items/"]) == {"get"}
    assert schema["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    parameters = {p["name"]: p for p in schema["paths"]["/api/items/"]["get"]["parameters"]}
    assert {"status", "service", "level", "sentry_issue_id"} <= set(parameters)
    assert set(parameters["status"]["schema"]["items"]["enum"]) == {s.value for s in Status}


def test_it_serves_the_api_docs_page_without_a_cdn(alice_client):
    response = alice_client.get("/api/docs/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in content
    assert "cdn" not in content.lower()
    assert (
        "/api/schema/" in alice_client.get("/api/docs/?script=").content.decode()
    )  # the page's own script file
    assert (
        alice_client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code
        == 200
    )


def test_it_sends_anonymous_visitors_of_the_docs_to_log_in(client):
    response = client.get("/api/docs/")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/api/docs/"
