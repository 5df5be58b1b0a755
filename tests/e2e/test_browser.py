"""A developer's visit in a real browser: log in, find the item Sentry reported, read it, go to Sentry,
log out."""

import re

import pytest
from playwright.sync_api import expect

from integrations.models import WebhookDelivery
from integrations.services import delivery_process
from tests.helpers import CHAINED_EXCEPTION, event_payload, issue_payload, send_webhook

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ISSUE_ID = "4242424242"
SENTRY_ISSUE_URL = f"https://sentry.io/organizations/test-org/issues/{ISSUE_ID}/"


@pytest.fixture
def sentry_reports(live_server):
    """What Sentry sent: a new issue, two events of another one, and an issue already resolved."""
    url = live_server.url
    deliveries = [send_webhook(url, "issue", issue_payload())]
    for n, release in enumerate(["1.4.0", "1.5.0"]):
        deliveries.append(
            send_webhook(
                url,
                "event_alert",
                event_payload(
                    f"{n:032x}",
                    ISSUE_ID,
                    title="PricingError: cannot price cart 42",
                    culprit="checkout.views in place_order",
                    timestamp=1700000000.0 + n,
                    release=release,
                    environment="production",
                    platform="python",
                    exception=CHAINED_EXCEPTION,
                    tags=[["release", release], ["customer_tier", "gold"]],
                    web_url=f"{SENTRY_ISSUE_URL}events/{n:032x}/",
                ),
            )
        )
    deliveries.append(
        send_webhook(
            url,
            "issue",
            issue_payload("555", action="resolved", status="resolved", title="Old resolved problem"),
        )
    )
    # What the worker does with each delivery, here in-process.
    assert {delivery_process(delivery_id=pk) for pk in deliveries} == {WebhookDelivery.Status.PROCESSED}


def test_it_takes_a_developer_from_login_to_the_stack_trace_and_out(page, live_server, alice, sentry_reports):
    page.goto("/")

    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(live_server.url + "/")
    rows = page.locator("table.items tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("PricingError: cannot price cart 42")  # seen 2023, the other in 2019
    expect(rows.nth(1)).to_contain_text("ReferenceError: blooopy is not defined")
    expect(page.locator("main")).not_to_contain_text("Old resolved problem")
    expect(page.locator("header.topbar")).to_contain_text("alice")
    page.screenshot(path="/tmp/e2e-list.png", full_page=True)

    page.get_by_role("link", name="PricingError: cannot price cart 42").click()

    expect(page).to_have_url(re.compile(r"/items/\d+/$"))
    expect(page.locator("h1")).to_contain_text("PricingError: cannot price cart 42")
    exception = page.locator("section", has=page.get_by_role("heading", name="Exception"))
    expect(exception.locator("h3").first).to_have_text("PricingError: cannot price cart 42")
    expect(exception.locator("li.in-app").first).to_contain_text("checkout/views.py:42 in place_order")
    expect(exception.locator("li.system")).to_contain_text("django/core/handlers/base.py:197")
    expect(exception).to_contain_text("KeyError: 'sku'")
    tags = page.locator("table.tags")
    expect(tags).to_contain_text("customer_tier")
    expect(page.locator("table.occurrences tbody tr")).to_have_count(2)
    expect(page.locator("ol.timeline li").first).to_contain_text("Sentry created")
    page.screenshot(path="/tmp/e2e-detail.png", full_page=True)

    sentry_link = page.get_by_role("link", name="Open in Sentry")
    expect(sentry_link).to_have_attribute("href", SENTRY_ISSUE_URL)
    page.context.route(
        "https://sentry.io/**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<title>Sentry</title><h1>Sentry issue</h1>"
        ),
    )
    with page.context.expect_page() as sentry_tab:
        sentry_link.click()
    sentry_tab.value.wait_for_load_state()
    assert sentry_tab.value.url == SENTRY_ISSUE_URL
    sentry_tab.value.close()

    page.get_by_role("button", name="Log out").click()

    expect(page).to_have_url(re.compile(r"/login/$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    assert page.failed_responses == []
    assert page.console_errors == []
    assert page.outside_requests == []


def test_it_shows_a_wrong_password(page, alice):
    page.goto("/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.locator(".login .error")).to_contain_text("didn't match")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/"))


def test_it_renders_the_api_docs_from_local_assets(page, alice, live_server):
    page.goto("/login/?next=/api/docs/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()

    expect(page).to_have_url(live_server.url + "/api/docs/")
    # Swagger UI only draws this after its bundle ran and the schema loaded with the session cookie.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Triage Portal API")
    expect(page.locator(".opblock-summary-path", has_text="/api/items/").first).to_be_visible()
    assert page.outside_requests == []  # no CDN
    assert page.failed_responses == []
