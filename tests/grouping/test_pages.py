"""/grouping/, dismissing from it, the on-demand recompute and the item page's banner."""

import pytest

from grouping import services
from grouping.models import Suggestion
from tests.grouping_data import bulk_occurrences, item_of, send_events, split_issue

pytestmark = pytest.mark.django_db

PAGE_QUERIES = 8  # session, user, roles, tab counts, last run, page count, page rows, their items


@pytest.fixture
def split_item(client):
    return split_issue(client, "8001")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_it_lists_a_split_with_breakdown_example_and_rule(alice_client, split_item):
    page = alice_client.get("/grouping/")
    assert page.status_code == 200
    html = page.content.decode()
    suggestion = Suggestion.objects.get()
    assert f'id="suggestion-{suggestion.pk}"' in html
    assert html.count("<code>&#x27;&lt;str&gt;&#x27;</code>") == 4
    assert "error.type:&quot;KeyError&quot; -&gt; {{ default }}, {{ tags.service }}, KeyError" in html
    assert f'data-copy="rule-{suggestion.pk}"' in html and "Dismiss suggestion" in html
    assert "/events/" + suggestion.groups[0]["example"]["event_id"] + "/" in html
    assert 'href="/grouping/"' in html and ">Grouping</a>" in html  # the nav link


def test_it_ranks_suggestions_by_events_in_30_days(alice_client, client, split_item):
    send_events(client, issue_id="8002", service="search-api", inner_type="KeyError", value="'a'", count=30)
    bulk_occurrences(
        item_of("8002"), service="search-worker", exception_type="OSError", template="disk full", count=30
    )
    services.suggestions_recompute(full=True)
    html = alice_client.get("/grouping/").content.decode()
    first, second = (Suggestion.objects.get(item=item_of(i)).pk for i in ("8002", "8001"))
    assert html.index(f'id="suggestion-{first}"') < html.index(f'id="suggestion-{second}"')


def test_it_loads_the_page_in_a_fixed_number_of_queries(
    alice_client, client, split_item, django_assert_num_queries
):
    with django_assert_num_queries(PAGE_QUERIES):
        assert alice_client.get("/grouping/").status_code == 200
    for issue_id in ("8003", "8004", "8005"):
        for service in ("a-api", "b-api"):
            send_events(
                client, issue_id=issue_id, service=service, inner_type="KeyError", value="'x'", count=5
            )
    for issue_id in ("8006", "8007"):
        send_events(
            client, issue_id=issue_id, service="c-api", inner_type="OSError", value="disk full", count=5
        )
    services.suggestions_recompute(full=True)
    assert sorted(Suggestion.objects.values_list("kind", flat=True)) == ["merge"] + ["split"] * 4
    with django_assert_num_queries(PAGE_QUERIES):
        assert alice_client.get("/grouping/").status_code == 200


def test_it_dismisses_with_a_reason_and_lists_it_as_dismissed(alice_client, split_item, alice):
    suggestion = Suggestion.objects.get()
    response = alice_client.post(f"/grouping/{suggestion.pk}/dismiss/", {"reason": "one handler fixes both"})
    assert response.status_code == 302
    suggestion.refresh_from_db()
    assert (suggestion.dismissal.reason, suggestion.dismissal.by) == ("one handler fixes both", alice)
    assert f'id="suggestion-{suggestion.pk}"' not in alice_client.get("/grouping/").content.decode()
    dismissed = alice_client.get("/grouping/?show=dismissed").content.decode()
    assert f'id="suggestion-{suggestion.pk}"' in dismissed and "one handler fixes both" in dismissed


def test_it_refuses_a_dismissal_without_reason_or_role(alice_client, client, charlie, split_item):
    suggestion = Suggestion.objects.get()
    response = alice_client.post(f"/grouping/{suggestion.pk}/dismiss/", {"reason": "  "}, follow=True)
    assert "Give a reason" in response.content.decode()
    client.force_login(charlie)
    assert client.post(f"/grouping/{suggestion.pk}/dismiss/", {"reason": "no"}).status_code == 403
    assert client.post("/grouping/999999/dismiss/", {"reason": "no"}).status_code == 404
    assert client.get(f"/grouping/{suggestion.pk}/dismiss/").status_code == 405
    suggestion.refresh_from_db()
    assert suggestion.dismissal is None


def test_the_item_page_shows_a_banner_for_a_split(alice_client, alice, split_item):
    html = alice_client.get(split_item.get_absolute_url()).content.decode()
    suggestion = Suggestion.objects.get()
    assert "This Sentry issue looks like 4 different errors." in html
    assert f"#suggestion-{suggestion.pk}" in html
    services.suggestion_dismiss(suggestion_id=suggestion.pk, user=alice, reason="known")
    assert "looks like" not in alice_client.get(split_item.get_absolute_url()).content.decode()


def test_it_queues_an_item_recompute_for_developers(
    alice_client, client, charlie, split_item, django_capture_on_commit_callbacks, monkeypatch
):
    from grouping import tasks

    queued = []
    monkeypatch.setattr(tasks.recompute_item_grouping, "delay", lambda item_id: queued.append(item_id))
    with django_capture_on_commit_callbacks(execute=True):
        response = alice_client.post(f"/grouping/items/{split_item.pk}/recompute/")
    assert (response.status_code, response["Location"], queued) == (
        302,
        split_item.get_absolute_url(),
        [split_item.pk],
    )
    assert alice_client.post("/grouping/items/999999/recompute/").status_code == 404
    client.force_login(charlie)
    assert client.post(f"/grouping/items/{split_item.pk}/recompute/").status_code == 403


def test_the_recompute_task_runs_on_one_item(split_item):
    from grouping import tasks

    assert tasks.recompute_item_grouping(split_item.pk) == f"item {split_item.pk}: 1 split, 0 merges"
