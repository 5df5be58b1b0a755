"""Who reads a data-fix request: the item's team (and the requester), ops and admins; to anyone else it
does not exist (404, never 403), on every page, API and panel that shows one."""

import pytest

from ops.models import Notification
from tests.ops.test_support import admin_user, as_user, checkout, dana, file_request, item  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db
CUSTOMER = "ACME Holdings"


@pytest.fixture
def fix(item, alice):
    return file_request(item, alice, customer=CUSTOMER, parameters={"invoice": "42"})


@pytest.mark.parametrize("who", ["charlie", "dana"])
def test_it_answers_404_to_the_api_detail_for_someone_outside_the_team(request, as_user, fix, who):
    response = as_user(request.getfixturevalue(who)).get(f"/api/data-fixes/{fix.pk}/")

    assert response.status_code == 404 and CUSTOMER not in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "bob", "admin_user", "teammate"])
def test_it_shows_the_api_detail_to_the_team_ops_and_admins(request, as_user, fix, dana, checkout, who):
    checkout.members.add(dana)  # a teammate who did not file it
    user = dana if who == "teammate" else request.getfixturevalue(who)

    response = as_user(user).get(f"/api/data-fixes/{fix.pk}/")

    assert response.status_code == 200 and response.json()["customer"] == CUSTOMER


@pytest.mark.parametrize("who", ["charlie", "dana"])
def test_it_answers_404_to_the_request_page_for_someone_outside_the_team(request, client, fix, who):
    client.force_login(request.getfixturevalue(who))

    response = client.get(f"/ops/requests/{fix.pk}/")

    assert response.status_code == 404 and CUSTOMER not in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "bob", "admin_user"])
def test_it_shows_the_request_page_to_the_team_ops_and_admins(request, client, fix, who):
    client.force_login(request.getfixturevalue(who))

    assert CUSTOMER in client.get(f"/ops/requests/{fix.pk}/").content.decode()


def test_it_lists_an_items_requests_only_to_who_may_read_them(as_user, alice, bob, charlie, dana, fix, item):
    def listed(user):
        response = as_user(user).get(f"/api/items/{item.pk}/data-fixes/")
        assert response.status_code == 200
        return response.json()

    assert [row["id"] for row in listed(alice)] == [fix.pk] == [row["id"] for row in listed(bob)]
    assert listed(charlie) == [] and listed(dana) == []


def test_the_item_page_panel_shows_the_requests_only_to_who_may_read_them(client, alice, charlie, fix, item):
    client.force_login(charlie)
    panel = client.get(f"/items/{item.pk}/").content.decode()
    assert (
        f'data-request="{fix.pk}"' not in panel and "Set invoice 42" not in panel.split('id="data-fixes"')[1]
    )

    client.force_login(alice)
    assert f'data-request="{fix.pk}"' in client.get(f"/items/{item.pk}/").content.decode()


def test_it_answers_404_to_actions_on_a_request_someone_may_not_read(as_user, client, charlie, fix):
    notification = Notification.objects.create(
        request=fix, key="k1", channel="slack", event="created", state="failed", last_error="HTTP 500"
    )
    client.force_login(charlie)

    assert client.post(f"/ops/requests/{fix.pk}/acknowledge/").status_code == 404
    assert client.post(f"/ops/requests/{fix.pk}/cancel/").status_code == 404
    assert client.post(f"/ops/notifications/{notification.pk}/resend/").status_code == 404
    assert as_user(charlie).post(f"/api/data-fixes/{fix.pk}/acknowledge/").status_code == 404
    assert as_user(charlie).post(f"/api/data-fixes/{fix.pk}/cancel/").status_code == 404
    notification.refresh_from_db()
    assert notification.state == "failed" and not fix.events.exclude(verb="requested").exists()


def test_it_answers_the_same_404_for_a_hidden_request_as_for_a_missing_one(as_user, charlie, fix):
    hidden, missing = (as_user(charlie).get(f"/api/data-fixes/{pk}/") for pk in (fix.pk, fix.pk + 1000))

    assert hidden.status_code == missing.status_code == 404 and hidden.json() == missing.json()
