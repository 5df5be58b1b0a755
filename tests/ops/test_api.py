"""The data-fix API: file, list, acknowledge, complete, reject, cancel; refusals as JSON 4xx."""

import pytest

from ops.models import DataFixEvent, DataFixRequest
from tests.ops.test_support import admin_user, as_user, checkout, dana, file_request, item  # noqa: F401 (fixtures)
from triage.models import Activity

pytestmark = pytest.mark.django_db


def url(fix, action=""):
    return f"/api/data-fixes/{fix.pk}/" + (f"{action}/" if action else "")


def test_it_files_a_request_from_an_item(as_user, alice, item):
    response = as_user(alice).post(
        f"/api/items/{item.pk}/data-fixes/",
        {
            "description": "Set invoice 42's total to 10.00",
            "urgency": "high",
            "environment": "production",
            "parameters": {"invoice": 42, "total": "10.00"},
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "requested" and body["urgency"] == "high" and body["requested_by"] == "alice"
    fix = DataFixRequest.objects.get(pk=body["id"])
    assert fix.parameters == {"invoice": 42, "total": "10.00"}
    assert (fix.due_at - fix.created_at).total_seconds() == 30 * 60
    assert list(fix.events.values_list("verb", flat=True)) == ["requested"]
    assert Activity.objects.filter(item=item, verb="data_fix_requested", data__data_fix=fix.pk).exists()


def test_it_moves_a_request_through_acknowledge_and_complete(as_user, alice, bob, item):
    fix = file_request(item, alice)

    assert as_user(bob).post(url(fix, "acknowledge")).json()["state"] == "acknowledged"
    done = as_user(bob).post(url(fix, "complete"), {"result": "Total fixed; 1 row updated"})

    assert done.status_code == 200
    assert done.json()["state"] == "done" and done.json()["result"] == "Total fixed; 1 row updated"
    fix.refresh_from_db()
    assert fix.acknowledged_at and fix.closed_at and fix.closed_by == bob and fix.next_escalation_at is None
    log = list(
        DataFixEvent.objects.filter(request=fix).values_list("actor__username", "from_state", "to_state")
    )
    assert log == [
        ("alice", "", "requested"),
        ("bob", "requested", "acknowledged"),
        ("bob", "acknowledged", "done"),
    ]
    entry = Activity.objects.get(item=item, verb="data_fix_done")
    assert entry.data["note"] == "Total fixed; 1 row updated"


def test_it_lets_ops_reject_with_a_reason_and_the_requester_cancel(as_user, alice, bob, item):
    first, second = file_request(item, alice), file_request(item, alice)

    assert as_user(bob).post(url(first, "reject"), {"reason": "Needs a ticket"}).json()["state"] == "rejected"
    assert as_user(alice).post(url(second, "cancel")).json()["state"] == "cancelled"


@pytest.mark.parametrize(
    "action, body", [("acknowledge", {}), ("complete", {"result": "x"}), ("reject", {"reason": "x"})]
)
@pytest.mark.parametrize("who", ["alice", "admin_user"])
def test_it_refuses_ops_transitions_to_other_roles_with_403(request, as_user, alice, item, action, body, who):
    fix = file_request(item, alice)

    response = as_user(request.getfixturevalue(who)).post(url(fix, action), body)

    assert response.status_code == 403
    assert "ops group" in response.json()["detail"]
    assert DataFixRequest.objects.get(pk=fix.pk).state == "requested"


@pytest.mark.parametrize("who", ["bob", "admin_user"])
def test_it_lets_only_the_requester_cancel(request, as_user, alice, item, who):
    fix = file_request(item, alice)

    response = as_user(request.getfixturevalue(who)).post(url(fix, "cancel"))

    assert response.status_code == 403
    assert response.json()["detail"] == "Only the developer who filed this request can cancel it."


@pytest.mark.parametrize("action, who", [("acknowledge", "charlie"), ("cancel", "dana")])
def test_it_answers_404_to_transitions_by_someone_who_may_not_read_the_request(
    request, as_user, alice, item, action, who
):
    fix = file_request(item, alice)

    response = as_user(request.getfixturevalue(who)).post(url(fix, action))

    assert response.status_code == 404
    assert DataFixRequest.objects.get(pk=fix.pk).state == "requested"


def test_it_refuses_filing_to_someone_outside_the_team_with_403(as_user, dana, item):
    response = as_user(dana).post(f"/api/items/{item.pk}/data-fixes/", {"description": "x"})

    assert response.status_code == 403 and "team" in response.json()["detail"]


# state before → transition that state does not allow
INVALID = [
    ("acknowledged", "acknowledge", {}),
    ("done", "acknowledge", {}),
    ("rejected", "acknowledge", {}),
    ("cancelled", "acknowledge", {}),
    ("requested", "complete", {"result": "x"}),
    ("done", "complete", {"result": "x"}),
    ("rejected", "complete", {"result": "x"}),
    ("cancelled", "complete", {"result": "x"}),
    ("done", "reject", {"reason": "x"}),
    ("rejected", "reject", {"reason": "x"}),
    ("cancelled", "reject", {"reason": "x"}),
    ("acknowledged", "cancel", {}),
    ("done", "cancel", {}),
    ("rejected", "cancel", {}),
    ("cancelled", "cancel", {}),
]


@pytest.mark.parametrize("state, action, body", INVALID)
def test_it_answers_409_to_a_transition_the_state_does_not_allow(
    as_user, alice, bob, item, state, action, body
):
    fix = file_request(item, alice)
    DataFixRequest.objects.filter(pk=fix.pk).update(state=state)
    actor = alice if action == "cancel" else bob

    response = as_user(actor).post(url(fix, action), body)

    assert response.status_code == 409, response.content
    assert f"This request is {state}" in response.json()["detail"]
    assert DataFixRequest.objects.get(pk=fix.pk).state == state


def test_it_answers_409_when_the_item_is_not_classified_data_fix(as_user, alice, item):
    item.classification = "code_fix"
    item.save()

    response = as_user(alice).post(f"/api/items/{item.pk}/data-fixes/", {"description": "x"})

    assert response.status_code == 409 and "Classify the item as a data fix" in response.json()["detail"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"urgency": "high"}, "description"),
        ({"description": "x", "urgency": "asap"}, "urgency"),
        ({"description": "x", "parameters": [1, 2]}, "parameters"),
        ({"description": "x", "parameters": {"blob": "y" * 17000}}, "parameters"),
        ({"description": "x" * 10_001}, "description"),
        ({"description": "x", "environment": "e" * 101}, "environment"),
    ],
)
def test_it_refuses_bad_input_with_400_naming_the_field(as_user, alice, item, body, field):
    response = as_user(alice).post(f"/api/items/{item.pk}/data-fixes/", body)

    assert response.status_code == 400
    assert field in response.json() and response.json()["error"].startswith(field)
    assert not DataFixRequest.objects.exists()


def test_it_refuses_malformed_json_with_400(as_user, alice, bob, item):
    fix = file_request(item, alice)

    for response in (
        as_user(alice).post(f"/api/items/{item.pk}/data-fixes/", "{not json"),
        as_user(bob).post(url(fix, "reject"), "[1,"),
    ):
        assert response.status_code == 400 and "JSON parse error" in response.json()["error"]


def test_it_refuses_an_oversized_body_with_413(as_user, alice, bob, item):
    fix = file_request(item, alice)
    huge = '{"description": "' + "x" * 70_000 + '"}'

    assert as_user(alice).post(f"/api/items/{item.pk}/data-fixes/", huge).status_code == 413
    response = as_user(bob).post(url(fix, "complete"), '{"result": "' + "x" * 70_000 + '"}')
    assert response.status_code == 413 and "KiB" in response.json()["error"]


def test_it_refuses_a_missing_result_or_reason_with_400(as_user, alice, bob, item):
    fix = file_request(item, alice)
    as_user(bob).post(url(fix, "acknowledge"))

    assert as_user(bob).post(url(fix, "complete"), {}).status_code == 400
    assert as_user(bob).post(url(fix, "reject"), {"reason": ""}).status_code == 400


def test_it_answers_401_without_a_token_and_404_for_unknown_ids(client, as_user, alice, item):
    fix = file_request(item, alice)

    for path in (f"/api/items/{item.pk}/data-fixes/", url(fix, "acknowledge"), url(fix, "cancel")):
        response = client.post(path, "{}", content_type="application/json")
        assert response.status_code == 401 and response.json()["error"]
    assert client.get("/api/data-fixes/").status_code == 401
    assert as_user(alice).post("/api/items/999999/data-fixes/", {"description": "x"}).status_code == 404
    assert as_user(alice).post("/api/data-fixes/999999/cancel/").status_code == 404
    assert as_user(alice).post("/api/data-fixes/abc/cancel/").status_code == 404


def test_it_lists_by_state_what_each_role_may_see(as_user, alice, bob, dana, item):
    mine, acknowledged = file_request(item, alice), file_request(item, alice)
    as_user(bob).post(url(acknowledged, "acknowledge"))

    def listed(user, *states):
        response = as_user(user).get("/api/data-fixes/", state=list(states))
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert listed(bob, "requested") == [mine.pk]
    assert listed(bob) == [acknowledged.pk, mine.pk]
    assert listed(alice, "requested", "acknowledged") == [acknowledged.pk, mine.pk]
    assert listed(dana) == []  # not her request, not her team's item
    bad = as_user(bob).get("/api/data-fixes/", state="finished")
    assert bad.status_code == 400 and "state" in bad.json()
