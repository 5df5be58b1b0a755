"""Real shapes through the real intake: events as SDKs send them and Relay stores them
(tests/sentry_events.py), signed and posted as Sentry delivers them, processed, and read back from the
item and its page.

Each platform puts its stack where its SDK does (the exception, a thread, the top level); each issue category
(error, performance, uptime, cron, feedback) names its item the way Sentry names the issue.
"""

import pytest

from integrations.services import delivery_process
from runbooks import services as runbook_services
from runbooks.matcher_rules import MatcherSpec
from tests import sentry_events as shapes
from tests.helpers import post_legacy, post_webhook
from triage.models import OwnershipRule, Team, TriageItem

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
ISSUE = "4040"


def deliver(client, resource, payload) -> TriageItem:
    response = (
        post_legacy(client, payload) if resource == "legacy" else post_webhook(client, resource, payload)
    )
    assert response.status_code == 202, response.content
    assert delivery_process(delivery_id=response.json()["delivery"]) == "processed"
    return TriageItem.objects.select_related("runbook", "team").get(sentry_issue_id=ISSUE)


def delivered_event(resource, event, issue_id=ISSUE, occurrence=None):
    if resource == "error":
        return shapes.error_created(event, issue_id)
    if resource == "legacy":
        return shapes.legacy_plugin(event, issue_id)
    return shapes.event_alert_triggered(event, issue_id, occurrence)


def page(client, item) -> str:
    response = client.get(f"/items/{item.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def frames(item, index=-1) -> list[dict]:
    return item.latest_event["exceptions"][index]["frames"]


# --- Stacks where each SDK puts them ---------------------------------------------------------------------


def test_a_python_chain_captured_by_the_sdk_keeps_both_stacks(alice_client):
    item = deliver(alice_client, "error", shapes.error_created(shapes.python_chained(), ISSUE))

    assert (item.title, item.culprit) == (
        "PricingError: cannot price cart 42",
        "tests.sentry_events in _order_total",
    )
    assert (item.issue_category, item.sentry_status, item.platform) == ("error", "unresolved", "python")
    assert (item.exception_type, item.exception_value) == ("PricingError", "cannot price cart 42")
    assert [exc["type"] for exc in item.latest_event["exceptions"]] == ["KeyError", "PricingError"]
    assert frames(item, 0)[-1]["function"] == "_line_price"
    content = page(alice_client, item)
    assert "<code>PricingError</code>: cannot price cart 42" in content
    assert "in <code>_line_price</code>" in content
    assert 'class="chip kind"' not in content  # an error says so by its level alone


def test_javascript_frames_keep_the_script_url_and_column(alice_client):
    item = deliver(alice_client, "event_alert", shapes.event_alert_triggered(shapes.javascript(), ISSUE))

    assert item.culprit == "submitOrder(/assets/checkout.9c1e.js)"
    assert (item.issue_category, item.sentry_status) == ("error", "unresolved")
    innermost = frames(item)[-1]
    assert (innermost["filename"], innermost["function"], innermost["lineno"], innermost["colno"]) == (
        "/assets/checkout.9c1e.js",
        "submitOrder",
        1,
        40311,
    )
    assert item.latest_event["request_url"] == "https://shop.example.com/checkout"
    assert "/assets/checkout.9c1e.js:1</code>" in page(alice_client, item)


def test_a_java_chain_is_owned_by_the_module_of_its_frames(alice_client, alice):
    rule = OwnershipRule.objects.create(kind="path", pattern="com.acme.shop.cart.*", team=Team.objects.get())

    item = deliver(alice_client, "event_alert", shapes.event_alert_triggered(shapes.java(), ISSUE))

    assert item.title == "IllegalStateException: cart 42 has an unreadable line"
    assert (item.culprit, item.issue_category) == ("com.acme.shop.cart.CartService in total", "error")
    assert [exc["type"] for exc in item.latest_event["exceptions"]] == [
        "NumberFormatException",
        "IllegalStateException",
    ]
    assert (item.ownership_rule, item.sentry_status) == (rule, "unresolved")


# shape: (its event, how it is delivered, title, culprit, the main exception's type, the innermost frame as
# the page shows it and its function, and an ownership path glob that a frame of that stack matches but the
# culprit does not)
THREAD_STACKS = {
    "cocoa crash (crashed thread)": (
        shapes.cocoa,
        "error",
        "EXC_BAD_ACCESS: Attempted to dereference garbage pointer 0x10.",
        "CheckoutViewController.placeOrder(_:)",
        "EXC_BAD_ACCESS",
        "CheckoutViewController.swift:57",
        "CheckoutViewController.placeOrder(_:)",
        "Checkout*.swift",
    ),
    "minidump (crashed thread, named by thread_id)": (
        shapes.native,
        "legacy",
        "EXCEPTION_ACCESS_VIOLATION_READ: Fatal Error: EXCEPTION_ACCESS_VIOLATION_READ",
        "checkout::apply_discount",
        "EXCEPTION_ACCESS_VIOLATION_READ",
        "src\\checkout\\discount.cpp:118",
        "checkout::apply_discount",
        "src\\checkout\\*.cpp",
    ),
    "ruby message (current thread)": (
        shapes.ruby,
        "event_alert",
        "Payment provider timed out",
        "app/services/payments/charge.rb in call",
        "",
        "app/services/payments/charge.rb:31",
        "call",
        "app/services/payments/*.rb",
    ),
    "python message with attach_stacktrace (current thread)": (
        shapes.python_message,
        "event_alert",
        "checkout took 9 s for cart 42",
        "tests.sentry_events in _report_slow_checkout",
        "",
        "tests/sentry_events.py:",
        "_report_slow_checkout",
        "tests/sentry_*.py",
    ),
    "php message (top-level stacktrace)": (
        shapes.php_message,
        "error",
        "Stock below zero for SKU-42",
        "src/Inventory/StockLedger.php in App\\Inventory\\StockLedger::withdraw",
        "",
        "src/Inventory/StockLedger.php:88",
        "App\\Inventory\\StockLedger::withdraw",
        "src/Inventory/*.php",
    ),
}


@pytest.mark.parametrize("shape", THREAD_STACKS)
def test_a_stack_outside_the_exception_is_the_items_and_rules_match_it(alice_client, alice, shape):
    make_event, resource, title, culprit, exception_type, shown, function, path_glob = THREAD_STACKS[shape]
    team = Team.objects.get()
    rule = OwnershipRule.objects.create(kind="path", pattern=path_glob, team=team)
    runbook = runbook_services.runbook_create(
        user=alice,
        slug="by-culprit",
        title="By culprit",
        body="Look.",
        team="",
        matchers=[MatcherSpec(0, "culprit", "equals", culprit)],
    )

    item = deliver(alice_client, resource, delivered_event(resource, make_event()))

    assert (item.title, item.culprit, item.exception_type) == (title, culprit, exception_type)
    assert (item.issue_category, item.sentry_status) == ("error", "unresolved")
    assert frames(item)[-1]["function"] == function
    assert (item.ownership_rule, item.team) == (rule, team)
    assert item.runbook == runbook
    content = page(alice_client, item)
    assert shown in content
    assert f"in <code>{function}</code>" in content


def test_an_exceptions_thread_id_names_its_thread_over_the_crashed_flag(client):
    event = shapes.cocoa()
    event["exception"]["values"][0]["thread_id"] = 1  # the event-fetch thread, not the one flagged crashed

    item = deliver(client, "error", shapes.error_created(event, ISSUE))

    assert [frame["function"] for frame in frames(item)] == ["mach_msg2_trap"]


def test_the_raw_stacktrace_counts_only_when_there_is_no_symbolicated_one(client):
    symbolicated = deliver(client, "error", shapes.error_created(shapes.native(), ISSUE))
    assert [frame["function"] for frame in frames(symbolicated)] == ["WinMain", "checkout::apply_discount"]

    TriageItem.objects.all().delete()
    event = shapes.native()
    crashed = next(thread for thread in event["threads"]["values"] if thread["crashed"])
    del crashed["stacktrace"]
    event["event_id"] = "5f" * 16  # another event: the first was processed
    unsymbolicated = deliver(client, "error", shapes.error_created(event, ISSUE))
    assert [frame["function"] for frame in frames(unsymbolicated)] == ["", ""]
    assert unsymbolicated.culprit == "?"  # Sentry's culprit for a native frame without a function


# --- Issue categories ------------------------------------------------------------------------------------


@pytest.mark.parametrize("category", shapes.CATEGORIES)
def test_an_issue_platform_event_is_titled_by_its_occurrence(alice_client, category):
    make_event, found, *_ = shapes.CATEGORIES[category]
    event = make_event()
    occurrence = shapes.occurrence(event, **found)

    item = deliver(alice_client, "event_alert", shapes.event_alert_triggered(event, ISSUE, occurrence))

    assert (item.title, item.issue_category, item.level) == (found["title"], category, found["level"])
    assert item.culprit == (found["culprit"] or shapes.stored(event)["culprit"])
    assert item.sentry_status == "unresolved"
    assert f'<span class="chip kind" title="Sentry issue category">{category}</span>' in page(
        alice_client, item
    )


@pytest.mark.parametrize("category", shapes.CATEGORIES)
def test_an_issue_of_each_category_makes_an_item_of_that_kind(alice_client, category):
    _, found, *_ = shapes.CATEGORIES[category]

    item = deliver(alice_client, "issue", shapes.issue_body(ISSUE, category))

    assert (item.title, item.culprit, item.issue_category) == (found["title"], found["culprit"], category)
    content = page(alice_client, item)
    assert f'<span class="chip kind" title="Sentry issue category">{category}</span>' in content
    assert "(no exception yet)" not in content and f"No exception (Sentry issue kind: {category})" in content


def test_an_items_kind_follows_its_issue_but_not_an_issue_without_a_category(client):
    assert (
        deliver(client, "error", shapes.error_created(shapes.python_chained(), ISSUE)).issue_category
        == "error"
    )
    body = shapes.issue_body(ISSUE, "performance")
    assert deliver(client, "issue", body).issue_category == "performance"

    del body["data"]["issue"]["issueCategory"]  # an older Sentry: it says nothing of the category
    body["action"] = "resolved"
    assert deliver(client, "issue", body).issue_category == "performance"


@pytest.mark.parametrize("action", ["ignored", "archived"])
@pytest.mark.parametrize("variant", shapes.ARCHIVE_VARIANTS)
def test_an_archived_issue_keeps_its_kind(client, action, variant):
    substatus, details = shapes.ARCHIVE_VARIANTS[variant]
    deliver(client, "issue", shapes.issue_body(ISSUE, "performance"))

    item = deliver(
        client,
        "issue",
        shapes.issue_body(
            ISSUE, "performance", action=action, status="ignored", substatus=substatus, status_details=details
        ),
    )

    assert (item.status, item.issue_category, item.title) == (
        TriageItem.Status.IGNORED,
        "performance",
        "N+1 Query",
    )


# --- What else a delivery carries ------------------------------------------------------------------------


def test_tags_are_read_in_each_shape_sentry_sends(client):
    shapes_of_tags = {
        "pairs": [["browser", "Chrome 131"], ["handled", "no"]],
        "objects": [{"key": "browser", "value": "Chrome 131"}, {"key": "handled", "value": "no"}],
        "one object": {"browser": "Chrome 131", "handled": "no"},
    }
    read = {}
    for n, (name, tags) in enumerate(shapes_of_tags.items()):
        payload = shapes.event_alert_triggered(shapes.javascript(), ISSUE)
        payload["data"]["event"].update(tags=tags, event_id=f"{n}" * 32)
        read[name] = deliver(client, "event_alert", payload).tags
        TriageItem.objects.all().delete()

    assert read == dict.fromkeys(shapes_of_tags, {"browser": "Chrome 131", "handled": "no"})


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.domain)",
        "data:text/html,<b>hi</b>",
        "//evil.example/x",
        "/items/1/",
        "ftp://files.example/x",
    ],
)
def test_only_http_links_are_stored(client, url):
    alert = shapes.event_alert_triggered(shapes.javascript(), ISSUE)
    alert["data"]["event"].update(web_url=url, request={"url": url})
    legacy = shapes.legacy_plugin(shapes.cocoa(), ISSUE)
    legacy.update(url=url)
    legacy["event"].pop("web_url", None)
    issue = shapes.issue_body(ISSUE, "uptime")
    issue["data"]["issue"]["web_url"] = url

    stored = {}
    for name, (resource, payload) in {
        "event": ("event_alert", alert),
        "legacy": ("legacy", legacy),
        "issue": ("issue", issue),
    }.items():
        item = deliver(client, resource, payload)
        stored[name] = (item.sentry_url, item.latest_event.get("request_url", ""))
        TriageItem.objects.all().delete()

    assert stored == dict.fromkeys(stored, ("", ""))
