"""A developer follows the item banner to /grouping/, copies the fingerprint rule and dismisses the
suggestion."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from grouping.models import Suggestion
from tests.factories import user_create
from tests.grouping_data import split_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def developer(transactional_db):
    return user_create("dora", groups=("dev",))


@pytest.fixture
def split_item(transactional_db):
    return split_issue(Client(), "5551")


def test_it_copies_the_rule_and_dismisses_the_suggestion(page, live_server, developer, split_item):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(split_item.get_absolute_url())
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()

    banner = page.locator(".grouping-banner")
    expect(banner).to_contain_text("This Sentry issue looks like 4 different errors.")
    page.screenshot(path="/tmp/e2e-grouping-banner.png")
    banner.get_by_role("link", name="See the rule →").click()
    suggestion = Suggestion.objects.get()
    card = page.locator(f"#suggestion-{suggestion.pk}")
    expect(card.locator("tbody tr")).to_have_count(4)
    expect(card.locator("pre")).to_contain_text(
        'error.type:"TimeoutError" -> {{ default }}, {{ tags.service }}'
    )
    page.screenshot(path="/tmp/e2e-grouping.png", full_page=True)

    card.get_by_role("button", name="Copy rule").click()
    expect(card.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == suggestion.rule

    card.get_by_text("Dismiss…").click()
    card.get_by_label("Reason for dismissing").fill("one retry handler covers all four")
    card.get_by_role("button", name="Dismiss suggestion").click()
    expect(page.locator(".flash-success")).to_contain_text("Dismissed.")
    expect(page.locator(f"#suggestion-{suggestion.pk}")).to_have_count(0)

    page.get_by_role("link", name="Dismissed").click()
    expect(page.locator(f"#suggestion-{suggestion.pk}")).to_contain_text("one retry handler covers all four")
    assert not page.outside_requests and not page.console_errors
