"""Alice's morning in a real browser: what Sentry reported overnight is waiting in "New since your last
visit"; she classifies, takes and resolves it from the keyboard without the page reloading, then reads
its story on the item page."""

import re
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import WebhookDelivery
from integrations.services import delivery_process
from tests.factories import item_create, occurrence_create, service_get
from tests.helpers import CHAINED_EXCEPTION, event_payload, issue_payload, sample, send_webhook
from tests.processes import celery_worker, flush_broker, wait_for
from triage.models import TriageItem

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ISSUE_ID = "4242424242"
TITLE = "PricingError: cannot price cart 42"
# Other things Sentry reported this week, so the queue looks like a real morning.
BACKGROUND = [
    (
        "search",
        "ConnectionTimeout: Elasticsearch did not answer within 10 s",
        "search.backends.elastic in query",
        "error",
        40,
    ),
    (
        "front-end",
        "TypeError: Cannot read properties of undefined (reading 'total')",
        "renderCartSummary(app/cart)",
        "error",
        12,
    ),
    (
        "billing-worker",
        "ConnectionResetError: [Errno 104] Connection reset by peer",
        "billing.tasks in sync_ledger",
        "warning",
        7,
    ),
    (
        "checkout-api",
        'IntegrityError: duplicate key value violates unique constraint "orders_ref_key"',
        "checkout.models in save",
        "error",
        3,
    ),
]


@pytest.fixture
def overnight(live_server, alice):
    """What Sentry sent: a new issue with two events (the one to triage), another new issue, and a week of
    others.

    All of it is the checkout team's, alice's team: her permission comes from the team, not from the
    dev group, which an earlier transactional test may have flushed with the rest of the database."""
    url, now = live_server.url, time.time()
    deliveries = [send_webhook(url, "issue", issue_payload())]
    for n, release in enumerate(["1.4.0", "1.5.0"]):
        deliveries.append(
            send_webhook(
                url,
                "event_alert",
                event_payload(
                    f"{n:032x}",
                    ISSUE_ID,
                    title=TITLE,
                    culprit="checkout.views in place_order",
                    timestamp=now - 60 + n,
                    release=release,
                    environment="production",
                    platform="python",
                    exception=CHAINED_EXCEPTION,
                    tags=[["release", release], ["customer_tier", "gold"]],
                ),
            )
        )
    assert {delivery_process(delivery_id=pk) for pk in deliveries} == {WebhookDelivery.Status.PROCESSED}
    for n, background in enumerate(BACKGROUND):
        _background_item(n, *background)
    TriageItem.objects.update(team=alice.teams.get())
    return TriageItem.objects.get(sentry_issue_id=ISSUE_ID)


def _background_item(n, service, title, culprit, level, events):
    now = timezone.now()
    item = item_create(
        sentry_issue_id=f"77{n}",
        short_id=f"{service.upper()}-{n + 3}",
        title=title,
        culprit=culprit,
        level=level,
        service=service_get(slug=service),
        environment="production",
        first_seen=now - timedelta(days=6 + n),
        last_seen=now - timedelta(hours=2 + 5 * n),
        event_count=events,
        user_count=1 + n,
        created_at=now - timedelta(days=6 + n),
    )
    for k in range(events):
        stamp = now - timedelta(hours=2 + 13 * k * (n + 1))
        occurrence_create(event_id=f"bg{n}-{k}", item=item, timestamp=stamp)


def log_in(page, username):
    page.goto("/login/?next=/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#results")).to_be_visible()
    page.wait_for_load_state("load")  # the keyboard shortcuts come with a deferred script


def rail_count(page, section):
    return page.locator(f'#rail [data-section="{section}"] .n')


@pytest.fixture
def fake_sentry(httpserver, settings, tmp_path):
    """Sentry's web API played by a local HTTP server, with a real worker pushing to it."""
    configuration = {
        "SENTRY_API_URL": httpserver.url_for("").rstrip("/"),
        "SENTRY_AUTH_TOKEN": "e2e-token",
        "SENTRY_ORG_SLUG": "test-org",
    }
    for name, value in configuration.items():
        setattr(settings, name, value)  # the live server, in this process, records what to push
    httpserver.expect_request(
        re.compile("^/api/0/organizations/test-org/issues/"), method="PUT"
    ).respond_with_json(sample("api-issue-update-response"))
    flush_broker()
    with celery_worker(tmp_path, **configuration):  # and the worker pushes it
        yield httpserver
    flush_broker()


def pushed(server):
    return [(request.path, request.get_json()) for request, _ in server.log]


@pytest.mark.worker
@pytest.mark.redis
@pytest.mark.postgres
def test_it_triages_the_new_item_from_the_keyboard_without_reloading(
    page, live_server, alice, overnight, fake_sentry
):
    log_in(page, "alice")

    expect(page.locator("#results h1")).to_contain_text("New since your last visit")
    expect(rail_count(page, "new")).to_have_text("2")
    row = page.locator("#results tr.row", has_text=TITLE)
    expect(page.locator("#results tr.row").first).to_contain_text(TITLE)  # seen a minute ago: at the top
    page.evaluate("window.sameDocument = 'yes'")  # a full page load would lose it

    page.keyboard.press("j")
    expect(row).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("c")
    dialog = page.locator("#dlg-classify")
    expect(dialog).to_be_visible()
    page.keyboard.press("1")
    expect(dialog.get_by_role("radio", name="Code fix")).to_be_checked()
    dialog.locator("textarea[name=note]").fill("Price lookup misses the SKU of bundled items")
    page.keyboard.press("Control+Enter")

    expect(dialog).to_be_hidden()
    expect(row.locator("td.state")).to_contain_text("Code fix")
    expect(row.locator(".note")).to_contain_text("Price lookup misses the SKU")
    page.keyboard.press("t")
    expect(row.locator("td.who")).to_contain_text("alice")
    expect(row.locator("td.state")).to_contain_text("In progress")
    expect(rail_count(page, "mine")).to_have_text("1")
    page.keyboard.press("r")
    expect(row.locator("td.state")).to_contain_text("Resolved")
    expect(row).to_have_class(re.compile(r"\bclosed\b"))
    expect(rail_count(page, "mine")).to_have_text("0")
    expect(rail_count(page, "new")).to_have_text("1")
    expect(page.locator("#results-count")).to_have_text("1")  # the row stays, dimmed, until the next load
    expect(page.locator("#toasts")).to_contain_text(
        f"Resolved {overnight.short_id or overnight.sentry_issue_id}."
    )
    issue_path = f"/api/0/organizations/test-org/issues/{overnight.sentry_issue_id}/"
    wait_for(
        lambda: (issue_path, {"status": "resolved"}) in pushed(fake_sentry), message="Sentry got the resolve"
    )
    assert (issue_path, {"assignedTo": "alice@example.com"}) in pushed(fake_sentry)  # the take
    assert all(request.headers["Authorization"] == "Bearer e2e-token" for request, _ in fake_sentry.log)

    page.locator('#rail [data-section="all"]').click()
    expect(page.locator("#results h1")).to_contain_text("All items")
    expect(page).to_have_url(re.compile(r"/\?section=all$"))
    assert page.evaluate("window.sameDocument") == "yes"
    page.mouse.move(0, 0)
    page.wait_for_timeout(4500)  # let the toasts fade before the picture
    page.screenshot(path="/tmp/queue.png", full_page=True)

    page.keyboard.press("j")
    expect(page.locator("#results tr.row").first).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("o")

    expect(page).to_have_url(re.compile(rf"/items/{overnight.pk}/$"))
    expect(page.locator(".pinned")).to_contain_text("Price lookup misses the SKU of bundled items")
    entries = page.locator("ol.timeline li")
    expect(entries.nth(0)).to_contain_text("alice resolved it")
    expect(entries.nth(1)).to_contain_text("alice took it")
    expect(entries.nth(2)).to_contain_text("alice classified it as Code fix")
    expect(entries.last).to_contain_text("Sentry created it")
    expect(page.get_by_role("button", name=re.compile("^Reopen"))).to_be_enabled()
    page.screenshot(path="/tmp/item.png", full_page=True)
    assert page.failed_responses == []
    assert page.console_errors == []
    assert page.outside_requests == []


def test_it_acts_on_a_selection_and_keeps_shortcuts_out_of_the_way_of_typing(page, alice, overnight):
    log_in(page, "alice")
    page.goto("/?section=open")
    rows = page.locator("#results tr.row")
    expect(rows).to_have_count(6)

    page.keyboard.press("/")
    page.keyboard.type("trj")  # typing in the search box is not a shortcut
    expect(page.locator("#filters input[name=q]")).to_have_value("trj")
    expect(page.locator("#results .empty")).to_contain_text("Nothing matches these filters")
    page.keyboard.press("Escape")
    page.locator("#filters input[name=q]").fill("")
    page.keyboard.press("Escape")
    expect(rows).to_have_count(6)

    for _ in range(2):
        page.keyboard.press("j")
        page.keyboard.press("x")
    expect(page.locator("#bulk-form")).to_contain_text("2 selected")
    page.keyboard.press("i")
    dialog = page.locator("#dlg-ignore")
    expect(dialog.locator(".dlg-target")).to_have_text("2 items")
    dialog.get_by_label("Number of events").fill("100")
    dialog.get_by_role("button", name="Ignore").click()

    expect(dialog).to_be_hidden()
    expect(rows.locator("td.state", has_text="Ignored")).to_have_count(2)
    expect(page.locator("#bulk-form")).to_be_hidden()
    expect(rail_count(page, "open")).to_have_text("4")
    assert [
        c["kind"]
        for c in TriageItem.objects.filter(status="ignored").values_list("ignore_condition", flat=True)
    ] == ["events", "events"]

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    assert page.console_errors == []
