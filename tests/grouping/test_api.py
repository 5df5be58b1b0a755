"""GET /api/grouping/suggestions/ and POST /api/grouping/suggestions/<id>/dismiss/."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from grouping import services
from grouping.models import Suggestion
from tests.grouping_data import item_of, send_events

pytestmark = pytest.mark.django_db
URL = "/api/grouping/suggestions/"


@pytest.fixture
def suggestions(client):
    """A split of issue 9001 and a merge of issues 9002 and 9003."""
    for service in ("checkout-api", "billing-worker"):
        send_events(client, issue_id="9001", service=service, inner_type="KeyError", value="'sku'", count=5)
    for issue_id in ("9002", "9003"):
        send_events(
            client, issue_id=issue_id, service="search-api", inner_type="OSError", value="disk full", count=5
        )
    services.suggestions_recompute(full=True)
    return {s.kind: s for s in Suggestion.objects.all()}


def api_for(user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def test_it_lists_kinds_items_groups_and_rules(alice, suggestions):
    body = api_for(alice).get(URL).json()
    assert body["count"] == 2
    by_kind = {row["kind"]: row for row in body["results"]}
    split, merge = by_kind["split"], by_kind["merge"]
    assert split["item_ids"] == [item_of("9001").pk]
    assert sorted((g["service"], g["exception_type"], g["events"]) for g in split["groups"]) == [
        ("billing-worker", "KeyError", 5),
        ("checkout-api", "KeyError", 5),
    ]
    assert (
        split["proposed_rule"].splitlines()[1] == 'error.type:"KeyError" -> {{ default }}, {{ tags.service }}'
    )
    assert split["preview_issues"] == 2 and split["dismissal"] is None
    assert merge["item_ids"] == sorted([item_of("9002").pk, item_of("9003").pk])
    assert [g["message_template"] for g in merge["groups"]] == ["disk full", "disk full"]
    assert split["groups"][0]["example"]["event_id"].startswith("ev-")


def test_it_filters_by_kind_item_and_dismissal(alice, suggestions):
    api = api_for(alice)
    assert [r["kind"] for r in api.get(URL, {"kind": "merge"}).json()["results"]] == ["merge"]
    assert [r["kind"] for r in api.get(URL, {"item": item_of("9001").pk}).json()["results"]] == ["split"]
    services.suggestion_dismiss(suggestion_id=suggestions["split"].pk, user=alice, reason="fine as is")
    assert [r["kind"] for r in api.get(URL).json()["results"]] == ["merge"]
    dismissed = api.get(URL, {"dismissed": "true"}).json()["results"]
    assert [(r["kind"], r["dismissal"]["reason"], r["dismissal"]["by"]) for r in dismissed] == [
        ("split", "fine as is", "alice")
    ]


@pytest.mark.parametrize("query", [{"kind": "splat"}, {"item": "abc"}, {"item": "0"}, {"dismissed": "maybe"}])
def test_it_refuses_bad_filters_with_json(alice, suggestions, query):
    response = api_for(alice).get(URL, query)
    assert response.status_code == 400 and response.json()["error"]


def test_it_needs_a_token(suggestions):
    response = APIClient().get(URL)
    assert response.status_code == 401 and response.json()["error"]
    assert APIClient().post(f"{URL}{suggestions['split'].pk}/dismiss/", {"reason": "x"}).status_code == 401


def test_it_dismisses_and_answers_the_suggestion(alice, suggestions):
    response = api_for(alice).post(
        f"{URL}{suggestions['split'].pk}/dismiss/", {"reason": "one handler"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["dismissal"]["reason"] == "one handler"
    assert Suggestion.objects.get(pk=suggestions["split"].pk).dismissal.by == alice


def test_it_refuses_a_second_dismissal_with_409(alice, suggestions):
    api, url = api_for(alice), f"{URL}{suggestions['merge'].pk}/dismiss/"
    assert api.post(url, {"reason": "same"}, format="json").status_code == 200
    response = api.post(url, {"reason": "again"}, format="json")
    assert response.status_code == 409 and "already dismissed" in response.json()["error"]


@pytest.mark.parametrize(
    "body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": 42}, {"reason": "x" * 1001}, ["reason"]]
)
def test_it_refuses_a_dismissal_without_a_proper_reason(alice, suggestions, body):
    response = api_for(alice).post(f"{URL}{suggestions['split'].pk}/dismiss/", body, format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]
    assert Suggestion.objects.get(pk=suggestions["split"].pk).dismissal is None


def test_it_refuses_malformed_json(alice, suggestions):
    response = api_for(alice).post(
        f"{URL}{suggestions['split'].pk}/dismiss/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400 and response.json()["error"]


def test_it_lets_only_developers_dismiss(bob, charlie, suggestions):
    for user in (bob, charlie):
        response = api_for(user).post(
            f"{URL}{suggestions['split'].pk}/dismiss/", {"reason": "no"}, format="json"
        )
        assert response.status_code == 403 and response.json()["error"]


@pytest.mark.parametrize("suggestion_id", ["999999", "abc"])
def test_it_answers_404_for_an_unknown_suggestion(alice, suggestions, suggestion_id):
    response = api_for(alice).post(f"{URL}{suggestion_id}/dismiss/", {"reason": "x"}, format="json")
    assert response.status_code == 404 and response.json()["error"]


def test_it_refuses_other_methods(alice, suggestions):
    api = api_for(alice)
    assert api.get(f"{URL}{suggestions['split'].pk}/dismiss/").status_code == 405
    assert api.post(URL, {}, format="json").status_code == 405


def test_it_lists_with_a_fixed_number_of_queries(alice, client, suggestions, django_assert_num_queries):
    api = api_for(alice)
    with django_assert_num_queries(4):  # token and user, count, page, its items
        api.get(URL)
    for issue_id in ("9004", "9005"):
        for service in ("a-api", "b-api"):
            send_events(
                client, issue_id=issue_id, service=service, inner_type="KeyError", value="'x'", count=5
            )
    services.suggestions_recompute(full=True)
    with django_assert_num_queries(4):
        assert api.get(URL).json()["count"] == 4
