"""Items and their runbooks: linked on intake, re-linked when matchers change, the version pinned when
classified, feedback on whether it helped, and the API's `runbook`, `runbook_version` and feedback action."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from integrations.services import delivery_process
from runbooks import services as runbook_services
from runbooks.matcher_rules import MatcherSpec
from runbooks.matching import current_index
from runbooks.models import Runbook, RunbookUse
from tests.factories import item_create, service_create
from tests.helpers import event_payload, issue_payload, post_webhook
from tests.triage.test_api import LIST_QUERIES
from triage import receivers
from triage.models import Activity, Service, TriageItem
from triage.tasks import relink_open_items

pytestmark = pytest.mark.django_db
ISSUE = "1117540176"  # the sample payloads' issue: service front-end, a ReferenceError
Status = TriageItem.Status


def deliver(client, resource, payload):
    assert (
        delivery_process(delivery_id=post_webhook(client, resource, payload).json()["delivery"])
        == "processed"
    )


def make_runbook(user, slug, *matchers, body="## Steps\n\nReload.", team=""):
    """A runbook whose matchers are (group, field, value) with `equals`."""
    specs = [MatcherSpec(group, field, "equals", value) for group, field, value in matchers]
    return runbook_services.runbook_create(
        user=user, slug=slug, title=f"Runbook {slug}", body=body, team=team, matchers=specs
    )


SERVICE = (0, "service", "front-end")
KIND = [(0, "service", "front-end"), (0, "exception_type", "ReferenceError")]
THIS_ISSUE = (0, "sentry_issue_id", ISSUE)


def linked_slug(item_id=None):
    item = TriageItem.objects.select_related("runbook").get(**({"pk": item_id} if item_id else {}))
    return item.runbook.slug if item.runbook_id else None


def api_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


# --- Intake ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "present,expected",
    [
        (["service", "kind", "issue"], "issue"),
        (["service", "kind"], "kind"),
        (["service"], "service"),
        ([], None),
    ],
)
def test_it_links_a_new_item_to_the_most_specific_runbook(client, alice, present, expected):
    matchers = {"service": [SERVICE], "kind": KIND, "issue": [THIS_ISSUE]}
    for name in present:
        make_runbook(alice, name, *matchers[name])

    deliver(client, "issue", issue_payload(ISSUE))

    item = TriageItem.objects.get()
    assert linked_slug() == expected
    linked = item.activities.filter(verb="runbook_linked")
    if expected is None:
        assert not linked.exists() and not RunbookUse.objects.exists()
        return
    assert linked.get().data == {
        "slug": expected,
        "title": f"Runbook {expected}",
        "version": 1,
        "score": current_index().matches(_facts(item), limit=1)[0].score,
        "from": None,
    }
    use = RunbookUse.objects.get()
    assert (use.runbook.slug, use.item_ref, use.item_url, use.version.number) == (
        expected,
        item.pk,
        f"/items/{item.pk}/",
        1,
    )


def _facts(item):
    from triage.runbook_links import item_match_facts

    return item_match_facts(item)


def test_it_links_an_item_created_from_an_event(client, alice):
    make_runbook(alice, "kind", *KIND)

    deliver(client, "event_alert", event_payload("ev1", ISSUE))

    assert linked_slug() == "kind"


def test_it_links_again_when_the_first_event_brings_tags_the_issue_lacked(client, alice):
    make_runbook(alice, "service", SERVICE)
    make_runbook(alice, "chrome", SERVICE, (0, "tag:browser.name", "Chrome"))
    deliver(client, "issue", issue_payload(ISSUE))
    assert linked_slug() == "service"  # an issue webhook has no tags

    deliver(client, "event_alert", event_payload("ev1", ISSUE))

    item = TriageItem.objects.get()
    assert linked_slug() == "chrome"
    assert item.activities.filter(verb="runbook_linked").latest("id").data["from"] == {
        "slug": "service",
        "title": "Runbook service",
    }
    assert list(RunbookUse.objects.values_list("runbook__slug", flat=True)) == [
        "chrome"
    ]  # undecided use moved


def test_it_matches_on_the_events_fingerprint(client, alice):
    make_runbook(alice, "grouped", (0, "fingerprint", "checkout-timeouts"))

    deliver(
        client, "event_alert", event_payload("ev1", ISSUE, fingerprint=["checkout-timeouts", "{{ default }}"])
    )

    assert linked_slug() == "grouped"


def test_a_known_items_next_event_costs_no_runbook_query(client, alice):
    make_runbook(alice, "kind", *KIND)
    deliver(client, "event_alert", event_payload("ev1", ISSUE))
    response = post_webhook(client, "event_alert", event_payload("ev2", ISSUE))

    with CaptureQueriesContext(connection) as queries:
        delivery_process(delivery_id=response.json()["delivery"])

    assert [q["sql"] for q in queries if "runbooks_" in q["sql"]] == []


def test_a_new_item_that_matches_nothing_costs_one_runbook_query(client, alice):
    make_runbook(alice, "elsewhere", (0, "service", "billing"))
    current_index()
    response = post_webhook(client, "issue", issue_payload(ISSUE))

    with CaptureQueriesContext(connection) as queries:
        delivery_process(delivery_id=response.json()["delivery"])

    runbook_queries = [q["sql"] for q in queries if "runbooks_" in q["sql"]]
    assert len(runbook_queries) == 1 and "runbooks_matcherindexstate" in runbook_queries[0]


def test_a_regressed_item_is_linked_to_the_best_runbook_now(client, alice):
    make_runbook(alice, "service", SERVICE)
    deliver(client, "event_alert", event_payload("ev1", ISSUE))
    deliver(client, "issue", issue_payload(ISSUE, action="resolved", status="resolved"))
    assert RunbookUse.objects.get().resolved_at is not None
    make_runbook(alice, "kind", *KIND)  # while it was resolved: matcher changes re-link open items only

    deliver(client, "event_alert", event_payload("ev2", ISSUE))

    item = TriageItem.objects.get()
    assert (item.status, linked_slug()) == (Status.NEW, "kind")
    assert list(item.activities.order_by("id").values_list("verb", flat=True)) == [
        "created",
        "runbook_linked",
        "resolved",
        "regressed",
        "runbook_linked",
    ]
    assert item.activities.latest("id").data["from"] == {"slug": "service", "title": "Runbook service"}


def test_a_regressed_item_keeps_the_history_of_its_decided_runbook(client, alice):
    make_runbook(alice, "service", SERVICE)
    deliver(client, "event_alert", event_payload("ev1", ISSUE))
    item = TriageItem.objects.get()
    assert (
        api_for(alice).post(f"/api/items/{item.pk}/classify/", {"classification": "code_fix"}).status_code
        == 200
    )
    assert api_for(alice).post(f"/api/items/{item.pk}/resolve/", {}).status_code == 200
    make_runbook(alice, "kind", *KIND)

    deliver(client, "event_alert", event_payload("ev2", ISSUE))

    item.refresh_from_db()
    assert (linked_slug(), item.runbook_version_id) == ("kind", None)  # a new round of triage
    old = RunbookUse.objects.get(runbook__slug="service")
    assert (old.decided_at is not None, old.resolved_at, old.version.number) == (True, None, 1)


def test_a_regressed_item_with_the_same_runbook_keeps_its_pin(client, alice):
    make_runbook(alice, "service", SERVICE)
    deliver(client, "event_alert", event_payload("ev1", ISSUE))
    item = TriageItem.objects.get()
    api_for(alice).post(f"/api/items/{item.pk}/classify/", {"classification": "code_fix"})
    deliver(client, "issue", issue_payload(ISSUE, action="resolved", status="resolved"))

    deliver(client, "event_alert", event_payload("ev2", ISSUE))

    item.refresh_from_db()
    assert (item.status, linked_slug(), item.runbook_version.number) == (Status.NEW, "service", 1)
    assert item.activities.filter(verb="runbook_linked").count() == 1
    assert RunbookUse.objects.get().resolved_at is None


def test_an_item_woken_from_ignore_is_linked_afresh(client, alice):
    deliver(client, "event_alert", event_payload("ev1", ISSUE))
    item = TriageItem.objects.get()
    assert api_for(alice).post(f"/api/items/{item.pk}/ignore/", {"until_events": 1}).status_code == 200
    make_runbook(alice, "kind", *KIND)

    deliver(client, "event_alert", event_payload("ev2", ISSUE))

    assert (TriageItem.objects.get().status, linked_slug()) == (Status.NEW, "kind")


# --- Matcher changes ---------------------------------------------------------------------------------


@pytest.fixture
def three_items(client, alice):
    """An open item linked by service, an open one on another service, and a resolved one."""
    make_runbook(alice, "service", SERVICE)
    deliver(client, "event_alert", event_payload("ev1", ISSUE))
    deliver(client, "issue", issue_payload("2001", project={"slug": "billing", "name": "billing", "id": "2"}))
    deliver(client, "issue", issue_payload("2002", action="resolved", status="resolved"))
    return {item.sentry_issue_id: item for item in TriageItem.objects.all()}


def test_a_matcher_change_relinks_the_open_items_it_affects(alice, three_items):
    kind = make_runbook(alice, "kind", *KIND)

    assert relink_open_items(kind.pk) == 1

    open_one, other, resolved = three_items[ISSUE], three_items["2001"], three_items["2002"]
    assert linked_slug(open_one.pk) == "kind"
    assert linked_slug(other.pk) is None
    assert linked_slug(resolved.pk) == "service"  # linked at intake; closed items stay as they were handled
    entry = Activity.objects.get(item=open_one, verb="runbook_relinked")
    assert (entry.actor_label, entry.data) == (
        "portal",
        {
            "from": {"slug": "service", "title": "Runbook service"},
            "to": {"slug": "kind", "title": "Runbook kind", "version": 1, "score": entry.data["to"]["score"]},
        },
    )
    assert set(RunbookUse.objects.values_list("runbook__slug", "item_ref")) == {
        ("kind", open_one.pk),
        ("service", resolved.pk),
    }


def test_relinking_twice_changes_nothing_more(alice, three_items):
    kind = make_runbook(alice, "kind", *KIND)
    relink_open_items(kind.pk)
    before = (
        list(TriageItem.objects.order_by("pk").values_list("runbook_id", "runbook_version_id")),
        Activity.objects.count(),
        list(RunbookUse.objects.order_by("pk").values_list("pk", "runbook_id")),
    )

    assert relink_open_items(kind.pk) == 0

    assert before == (
        list(TriageItem.objects.order_by("pk").values_list("runbook_id", "runbook_version_id")),
        Activity.objects.count(),
        list(RunbookUse.objects.order_by("pk").values_list("pk", "runbook_id")),
    )


def test_it_relinks_in_batches(alice, three_items):
    from triage.runbook_links import items_relink_open

    make_runbook(alice, "billing", (0, "service", "billing"))
    make_runbook(alice, "kind", *KIND)

    assert items_relink_open(batch_size=1) == 2
    assert (linked_slug(three_items[ISSUE].pk), linked_slug(three_items["2001"].pk)) == ("kind", "billing")


def test_an_item_no_runbook_matches_any_more_is_unlinked(client, alice, three_items):
    runbook = Runbook.objects.get(slug="service")
    runbook_services.runbook_matchers_replace(
        runbook=runbook, user=alice, matchers=[MatcherSpec(0, "service", "equals", "nowhere")]
    )

    relink_open_items(runbook.pk)

    item = three_items[ISSUE]
    assert linked_slug(item.pk) is None
    assert Activity.objects.get(item=item, verb="runbook_relinked").data == {
        "from": {"slug": "service", "title": "Runbook service"},
        "to": None,
    }
    client.force_login(alice)
    assert (
        "unlinked the runbook Runbook service: it no longer matches"
        in client.get(f"/items/{item.pk}/").content.decode()
    )


def test_a_deleted_runbooks_items_are_relinked(alice, three_items):
    make_runbook(alice, "kind", *KIND)
    relink_open_items()
    Runbook.objects.get(slug="kind").delete()

    relink_open_items()

    assert linked_slug(three_items[ISSUE].pk) == "service"


def test_a_classified_item_keeps_its_runbook_when_matchers_change(alice, three_items):
    item = three_items[ISSUE]
    api_for(alice).post(f"/api/items/{item.pk}/classify/", {"classification": "code_fix"})
    kind = make_runbook(alice, "kind", *KIND)

    assert relink_open_items(kind.pk) == 0

    assert linked_slug(item.pk) == "service"  # "handled with" stays true; the page offers "kind" beside it


def test_a_matcher_change_enqueues_the_relink_once_committed(
    alice, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(relink_open_items, "apply_async", lambda args, **kwargs: sent.append(args))

    with django_capture_on_commit_callbacks(execute=True):
        runbook = make_runbook(alice, "kind", *KIND)
        assert sent == []

    assert sent == [[runbook.pk]]


def test_a_down_broker_does_not_fail_the_matcher_change(
    alice, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(relink_open_items, "apply_async", refuse)

    with (
        caplog.at_level(logging.WARNING, logger="triage.receivers"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        runbook = make_runbook(alice, "kind", *KIND)

    assert Runbook.objects.filter(pk=runbook.pk).exists()
    assert "no re-link was scheduled (broker down)" in caplog.text
    assert receivers.relink_enqueue(runbook_id=runbook.pk) is False


# --- Decisions ---------------------------------------------------------------------------------------


@pytest.fixture
def item(client, alice):
    """An open item linked to runbook `kind` v1."""
    make_runbook(alice, "kind", *KIND)
    deliver(client, "event_alert", event_payload("ev1", ISSUE))
    return TriageItem.objects.get()


def test_classifying_pins_the_version_and_a_later_edit_leaves_it(alice, item):
    body = api_for(alice).post(f"/api/items/{item.pk}/classify/", {"classification": "code_fix"}).json()
    assert (body["runbook"], body["runbook_version"]) == ("kind", 1)

    runbook_services.runbook_update(
        runbook=Runbook.objects.get(), user=alice, body="## Steps\n\nBetter steps."
    )
    again = api_for(alice).post(f"/api/items/{item.pk}/classify/", {"classification": "data_fix"}).json()

    assert (again["runbook"], again["runbook_version"]) == ("kind", 1)
    assert Runbook.objects.get().current_version.number == 2
    assert RunbookUse.objects.get().version.number == 1  # "handled with v1" stays true after v2


def test_the_first_classification_pins_the_version_current_then(alice, item):
    runbook_services.runbook_update(runbook=Runbook.objects.get(), user=alice, body="v2")

    body = api_for(alice).post(f"/api/items/{item.pk}/classify/", {"classification": "code_fix"}).json()

    assert body["runbook_version"] == 2


def test_resolving_and_reopening_reach_the_runbooks_record(alice, item):
    api = api_for(alice)
    api.post(f"/api/items/{item.pk}/classify/", {"classification": "code_fix"})
    api.post(f"/api/items/{item.pk}/resolve/", {})
    resolved = RunbookUse.objects.get()
    api.post(f"/api/items/{item.pk}/unresolve/", {})

    assert (resolved.decided_at is not None, resolved.resolved_at is not None) == (True, True)
    assert RunbookUse.objects.get().resolved_at is None


def test_helped_feedback_reaches_the_runbook_page(client, alice, item):
    response = api_for(alice).post(f"/api/items/{item.pk}/runbook-feedback/", {"helped": True}, format="json")

    assert response.status_code == 200
    assert response.json()["runbook_helped"] is True
    assert RunbookUse.objects.get().helped is True
    entry = item.activities.get(verb="runbook_feedback")
    assert (entry.actor, entry.data) == (alice, {"helped": True, "slug": "kind", "title": "Runbook kind"})
    client.force_login(alice)
    content = client.get("/runbooks/kind/").content.decode()
    usefulness = content[content.index('id="usefulness"') : content.index('id="items"')]
    assert '<td class="num">100% <span class="sub">of 1</span></td>' in usefulness


def test_feedback_can_be_changed(alice, item):
    api = api_for(alice)
    api.post(f"/api/items/{item.pk}/runbook-feedback/", {"helped": True}, format="json")

    body = api.post(f"/api/items/{item.pk}/runbook-feedback/", {"helped": False}, format="json").json()

    assert body["runbook_helped"] is False
    assert RunbookUse.objects.get().helped is False


def test_feedback_is_refused_to_who_may_not_change_the_item(bob, charlie, item):
    for user in (bob, charlie):
        response = api_for(user).post(
            f"/api/items/{item.pk}/runbook-feedback/", {"helped": True}, format="json"
        )

        assert response.status_code == 403
        assert response.json()["detail"] == "Only members of the dev group (or admins) can change this item."
    assert RunbookUse.objects.get().helped is None


@pytest.mark.parametrize("data", [{}, {"helped": "perhaps"}, {"helped": None}])
def test_feedback_needs_a_yes_or_no(alice, item, data):
    response = api_for(alice).post(f"/api/items/{item.pk}/runbook-feedback/", data, format="json")

    assert response.status_code == 400
    assert "helped" in response.json()["error"]


def test_feedback_needs_a_runbook(client, alice):
    deliver(client, "event_alert", event_payload("ev1", ISSUE))
    item = TriageItem.objects.get()

    response = api_for(alice).post(f"/api/items/{item.pk}/runbook-feedback/", {"helped": True}, format="json")

    assert response.status_code == 400
    assert response.json()["error"] == "This item has no runbook to give feedback on."


def test_feedback_on_a_link_made_in_the_admin_records_a_use(alice):
    runbook = make_runbook(alice, "manual")
    now = Runbook.objects.get().created_at
    item = item_create(
        sentry_issue_id="9",
        title="Manual",
        service=service_create(slug="x"),
        first_seen=now,
        last_seen=now,
        runbook=runbook,
    )

    api_for(alice).post(f"/api/items/{item.pk}/runbook-feedback/", {"helped": False}, format="json")

    use = RunbookUse.objects.get()
    assert (use.item_ref, use.helped, use.version.number) == (item.pk, False, 1)


# --- API ---------------------------------------------------------------------------------------------


def test_the_api_shows_the_runbook_and_the_pinned_version(alice, item):
    api = api_for(alice)
    assert [(row["runbook"], row["runbook_version"]) for row in api.get("/api/items/").json()["results"]] == [
        ("kind", None)
    ]

    api.post(f"/api/items/{item.pk}/classify/", {"classification": "code_fix"})

    detail = api.get(f"/api/items/{item.pk}/").json()
    assert (detail["runbook"], detail["runbook_version"], detail["runbook_helped"]) == ("kind", 1, None)


@pytest.mark.parametrize("rows", [1, 20])
def test_the_api_lists_runbooks_with_a_fixed_number_of_queries(alice, django_assert_num_queries, rows):
    """Each item on its own runbook with a pinned version: a missing select_related would show."""
    now = service_create(slug="svc").created_at
    for n in range(rows):
        runbook = make_runbook(alice, f"rb-{n}")
        item_create(
            sentry_issue_id=str(n),
            title=f"Item {n}",
            service=Service.objects.get(),
            first_seen=now,
            last_seen=now,
            runbook=runbook,
            runbook_version=runbook.current_version,
        )
    api = api_for(alice)

    with django_assert_num_queries(LIST_QUERIES):
        response = api.get("/api/items/")

    assert sorted((r["runbook"], r["runbook_version"]) for r in response.json()["results"]) == sorted(
        (f"rb-{n}", 1) for n in range(rows)
    )


def test_the_schema_documents_the_feedback_action_and_the_fields(alice):
    schema = api_for(alice).get("/api/schema/?format=json").json()

    operation = schema["paths"]["/api/items/{id}/runbook-feedback/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert schema["components"]["schemas"][body]["properties"]["helped"]["type"] == "boolean"
    assert schema["components"]["schemas"][body]["required"] == ["helped"]
    item = schema["components"]["schemas"]["TriageItem"]["properties"]
    assert item["runbook"]["type"] == "string" and item["runbook"]["nullable"] is True
    assert item["runbook_version"]["type"] == "integer" and item["runbook_version"]["nullable"] is True
