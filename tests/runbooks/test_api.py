"""The runbooks API, as issue 3's contract states it: create, patch (new version, matchers), versions, diff,
restore, match; errors as JSON and never a 500."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from runbooks.models import Runbook, RunbookMatcher, RunbookVersion
from runbooks.signals import runbook_matchers_changed

pytestmark = pytest.mark.django_db

CONTRACT_BODY = {
    "slug": "cart-keyerror",
    "title": "KeyError in the cart",
    "body": "## Steps\n\n1. Check the SKU\n",
    "summary": "First cut",
    "services": ["checkout-api"],
    "matchers": [{"group": 0, "field": "exception_type", "op": "equals", "value": "KeyError"}],
}


def api_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def api(alice):
    return api_for(alice)


@pytest.fixture
def runbook(api):
    assert api.post("/api/runbooks/", CONTRACT_BODY, format="json").status_code == 201
    return Runbook.objects.get()


@pytest.fixture
def matcher_signals():
    sent = []

    def listen(sender, runbook_id, **kwargs):
        sent.append(runbook_id)

    runbook_matchers_changed.connect(listen, weak=False)
    yield sent
    runbook_matchers_changed.disconnect(listen)


def test_it_creates_a_runbook_from_the_contract_body(api):
    response = api.post("/api/runbooks/", CONTRACT_BODY, format="json")

    assert response.status_code == 201
    body = response.json()
    assert {key: body[key] for key in ("slug", "title", "version", "summary", "services", "author")} == {
        "slug": "cart-keyerror",
        "title": "KeyError in the cart",
        "version": 1,
        "summary": "First cut",
        "services": ["checkout-api"],
        "author": "alice",
    }
    assert body["matchers"] == CONTRACT_BODY["matchers"]
    assert body["body"] == CONTRACT_BODY["body"]


def test_a_patch_with_a_body_answers_the_new_version(api, runbook):
    response = api.patch(
        "/api/runbooks/cart-keyerror/",
        {"body": "## Steps\n\n1. Check the SKU twice\n", "summary": "Twice"},
        format="json",
    )

    assert response.status_code == 200
    assert (response.json()["version"], response.json()["summary"]) == (2, "Twice")
    assert RunbookVersion.objects.filter(runbook=runbook).count() == 2


def test_a_patch_with_matchers_replaces_them_and_re_links(
    api, runbook, matcher_signals, django_capture_on_commit_callbacks
):
    matchers = [
        {"group": 0, "field": "service", "op": "equals", "value": "checkout-api"},
        {"group": 0, "field": "tag:customer_tier", "op": "glob", "value": "gold*"},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch("/api/runbooks/cart-keyerror/", {"matchers": matchers}, format="json")

    assert response.status_code == 200
    assert response.json()["version"] == 1  # no body: no new version
    assert response.json()["matchers"] == matchers
    assert matcher_signals == [runbook.pk]


def test_it_lists_versions_newest_first(api, runbook):
    api.patch("/api/runbooks/cart-keyerror/", {"body": "second", "summary": "Shorter"}, format="json")

    response = api.get("/api/runbooks/cart-keyerror/versions/")

    assert response.status_code == 200
    rows = response.json()
    assert [(row["number"], row["author"], row["summary"]) for row in rows] == [
        (2, "alice", "Shorter"),
        (1, "alice", "First cut"),
    ]
    assert all(row["created_at"] for row in rows)


def test_it_diffs_two_versions(api, runbook):
    api.patch("/api/runbooks/cart-keyerror/", {"body": "## Steps\n\n1. Check the SKU twice\n"}, format="json")

    response = api.get("/api/runbooks/cart-keyerror/diff/?from=1&to=2")

    assert response.status_code == 200
    assert response.json()["unified"] == (
        "--- v1\n+++ v2\n@@ -1,3 +1,3 @@\n ## Steps\n \n-1. Check the SKU\n+1. Check the SKU twice"
    )


def test_it_restores_a_version_as_a_new_one(api, runbook):
    api.patch("/api/runbooks/cart-keyerror/", {"body": "vandalised"}, format="json")

    response = api.post("/api/runbooks/cart-keyerror/restore/", {"version": 1}, format="json")

    assert response.status_code == 201
    assert (response.json()["version"], response.json()["body"]) == (3, CONTRACT_BODY["body"])
    assert api.get("/api/runbooks/cart-keyerror/diff/?from=1&to=3").json()["unified"] == ""


def test_it_matches_an_event_like_object_best_first(api, runbook):
    api.post(
        "/api/runbooks/",
        {
            **CONTRACT_BODY,
            "slug": "this-issue",
            "title": "This very issue",
            "matchers": [{"group": 0, "field": "sentry_issue_id", "op": "equals", "value": "4242"}],
        },
        format="json",
    )
    api.post(
        "/api/runbooks/",
        {
            **CONTRACT_BODY,
            "slug": "other",
            "title": "Other",
            "matchers": [{"group": 0, "field": "service", "op": "equals", "value": "billing"}],
        },
        format="json",
    )
    event = {
        "project": "checkout-api",
        "issue_id": "4242",
        "level": "error",
        "exception": {
            "values": [{"type": "ValueError", "value": "inner"}, {"type": "KeyError", "value": "'sku'"}]
        },
        "tags": [["customer_tier", "gold"], ["empty", None]],
    }

    response = api.post("/api/runbooks/match/", event, format="json")

    assert response.status_code == 200
    assert [(row["slug"], row["version"], row["url"]) for row in response.json()["results"]] == [
        ("this-issue", 1, "/runbooks/this-issue/"),
        ("cart-keyerror", 1, "/runbooks/cart-keyerror/"),
    ]


def test_it_lists_and_searches(api, runbook):
    api.post(
        "/api/runbooks/",
        {
            **CONTRACT_BODY,
            "slug": "payments",
            "title": "Payment declined",
            "body": "Ask the PSP",
            "services": ["billing"],
        },
        format="json",
    )

    assert [row["slug"] for row in api.get("/api/runbooks/?service=billing").json()["results"]] == [
        "payments"
    ]
    assert [row["slug"] for row in api.get("/api/runbooks/?q=declined").json()["results"]] == ["payments"]
    assert api.get("/api/runbooks/").json()["count"] == 2


# --- Errors ----------------------------------------------------------------------------------------------


def test_a_bad_regex_answers_400_naming_the_matcher(api):
    bad = {
        **CONTRACT_BODY,
        "matchers": [
            CONTRACT_BODY["matchers"][0],
            {"group": 1, "field": "exception_value", "op": "regex", "value": "sku(?!s)"},
        ],
    }

    response = api.post("/api/runbooks/", bad, format="json")

    assert response.status_code == 400
    assert (
        "matchers[1] (group 1: exception_value regex 'sku(?!s)'): lookaround (?!…) is not supported: "
        "runbook regexes run on RE2, which has no backtracking"
    ) in response.json()["error"]
    assert not Runbook.objects.exists()


@pytest.mark.parametrize("persona", ["bob", "charlie"])
def test_ops_and_no_role_users_read_but_get_403_on_writes(request, runbook, persona):
    client = api_for(request.getfixturevalue(persona))

    assert client.get("/api/runbooks/cart-keyerror/").status_code == 200
    assert client.post("/api/runbooks/match/", {"service": "checkout-api"}, format="json").status_code == 200
    for response in (
        client.post("/api/runbooks/", {**CONTRACT_BODY, "slug": "x"}, format="json"),
        client.patch("/api/runbooks/cart-keyerror/", {"body": "x"}, format="json"),
        client.post("/api/runbooks/cart-keyerror/restore/", {"version": 1}, format="json"),
    ):
        assert response.status_code == 403
        assert "dev or admin" in response.json()["detail"]
    assert RunbookVersion.objects.count() == 1


def test_it_needs_a_token(client, runbook):
    response = client.get("/api/runbooks/")

    assert response.status_code == 401
    assert response.json()["error"]


@pytest.mark.parametrize(
    "method,path,data,expected",
    [
        ("get", "/api/runbooks/nope/", None, 404),
        ("patch", "/api/runbooks/nope/", {"body": "x"}, 404),
        ("get", "/api/runbooks/cart-keyerror/diff/?from=1&to=9", None, 404),
        ("get", "/api/runbooks/cart-keyerror/diff/?from=one&to=2", None, 400),
        ("get", "/api/runbooks/cart-keyerror/diff/", None, 400),
        ("post", "/api/runbooks/cart-keyerror/restore/", {"version": 9}, 404),
        ("post", "/api/runbooks/cart-keyerror/restore/", {"version": "one"}, 400),
        ("post", "/api/runbooks/cart-keyerror/restore/", {}, 400),
        ("post", "/api/runbooks/", {**CONTRACT_BODY, "slug": "cart-keyerror"}, 400),  # taken
        ("post", "/api/runbooks/", {**CONTRACT_BODY, "slug": "match"}, 400),  # reserved
        ("post", "/api/runbooks/", {"slug": "x"}, 400),
        ("post", "/api/runbooks/", ["not", "an", "object"], 400),
        ("post", "/api/runbooks/", {**CONTRACT_BODY, "slug": "y", "matchers": "KeyError"}, 400),
        (
            "post",
            "/api/runbooks/",
            {**CONTRACT_BODY, "slug": "y", "matchers": [{"field": "stack", "value": "x"}]},
            400,
        ),
        (
            "post",
            "/api/runbooks/",
            {**CONTRACT_BODY, "slug": "y", "matchers": [{"field": "level", "op": "like", "value": "x"}]},
            400,
        ),
        (
            "patch",
            "/api/runbooks/cart-keyerror/",
            {"matchers": [{"group": -1, "field": "level", "value": "x"}]},
            400,
        ),
        ("patch", "/api/runbooks/cart-keyerror/", {"services": "checkout"}, 400),
        ("put", "/api/runbooks/cart-keyerror/", {"body": "x"}, 405),
        ("delete", "/api/runbooks/cart-keyerror/", None, 405),
        ("post", "/api/runbooks/match/", {"tags": "gold"}, 400),
        ("post", "/api/runbooks/match/", {"tags": ["ab"]}, 400),
        ("post", "/api/runbooks/match/", {"exception": {"values": "KeyError"}}, 400),
        ("post", "/api/runbooks/match/", [1, 2], 400),
        ("get", "/api/runbooks/match/", None, 405),
    ],
)
def test_it_answers_bad_requests_with_json_errors(api, runbook, method, path, data, expected):
    response = getattr(api, method)(path, data, format="json")

    assert response.status_code == expected, response.content
    assert response.json()["error"]
    assert RunbookVersion.objects.count() == 1
    assert RunbookMatcher.objects.count() == 1


@pytest.mark.parametrize(
    "path", ["/api/runbooks/", "/api/runbooks/match/", "/api/runbooks/cart-keyerror/restore/"]
)
def test_malformed_json_answers_400(api, runbook, path):
    response = api.generic("POST", path, b'{"slug": "x", ', content_type="application/json")

    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_it_documents_the_endpoints_in_the_schema(api):
    schema = api.get("/api/schema/?format=json").json()

    runbook_paths = {path for path in schema["paths"] if path.startswith("/api/runbooks/")}
    assert runbook_paths == {
        "/api/runbooks/",
        "/api/runbooks/{slug}/",
        "/api/runbooks/{slug}/versions/",
        "/api/runbooks/{slug}/diff/",
        "/api/runbooks/{slug}/restore/",
        "/api/runbooks/match/",
    }
    assert set(schema["paths"]["/api/runbooks/{slug}/"]) == {"get", "patch"}
    assert set(schema["paths"]["/api/runbooks/match/"]) == {"post"}
    assert "RunbookCreateInput" in schema["components"]["schemas"]
    assert {p["name"] for p in schema["paths"]["/api/runbooks/{slug}/diff/"]["get"]["parameters"]} >= {
        "from",
        "to",
    }
