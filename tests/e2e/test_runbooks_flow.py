"""A developer writes a runbook in a real browser: start it from an item's link, edit it, read the diff,
restore v1."""

import re

import pytest
from playwright.sync_api import expect

from runbooks.models import Runbook, RunbookMatcher
from tests.factories import user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What triage's "Start a runbook from this item" link carries.
START_URL = (
    "/runbooks/new/?title=KeyError%3A+%27sku%27+in+line_price&service=checkout-api&exception_type=KeyError"
    "&exception_value=%27sku%27&issue=4242424242"
)


@pytest.fixture
def developer(transactional_db):
    # A flush after an earlier transactional test removes the roles the migration created: user_create
    # makes the group again.
    return user_create("dora", groups=("dev",))


def log_in(page, next_url):
    page.goto(next_url)
    page.get_by_label("Username").fill("dora")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()


def test_it_creates_edits_diffs_and_restores_a_runbook(page, live_server, developer):
    log_in(page, START_URL)

    # Started from the item: prefilled, with the template's sections and the item's matchers.
    expect(page.get_by_label("Title")).to_have_value("KeyError: 'sku' in line_price")
    expect(page.get_by_label("Slug")).to_have_value("keyerror-sku-in-line_price")
    expect(page.get_by_label("Body")).to_have_value(
        re.compile(r"## Impact[\s\S]*## Data fix \(ops\)[\s\S]*## Prevention")
    )
    expect(page.get_by_label("Matchers")).to_have_value(
        "service equals checkout-api\nexception_type equals KeyError\n\nsentry_issue_id equals 4242424242"
    )
    page.get_by_label("Body").fill("## Steps\n\n1. Find the cart\n2. Remove the line without a SKU\n")
    page.get_by_role("button", name="Create runbook").click()

    expect(page).to_have_url(live_server.url + "/runbooks/keyerror-sku-in-line_price/")
    expect(page.locator(".rb-version")).to_have_text("v1")
    expect(page.locator("#body li").nth(1)).to_have_text("Remove the line without a SKU")
    page.screenshot(path="/tmp/e2e-runbook-v1.png", full_page=True)

    # Edit with a preview first, then save with a summary.
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Body").fill("## Steps\n\n1. Find the cart\n2. Ask ops to **repair** the line\n")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview strong")).to_have_text("repair")
    page.get_by_label("Change summary").fill("Ops repairs the line instead")
    page.get_by_role("button", name="Save new version").click()
    expect(page.locator(".rb-version")).to_have_text("v2")
    expect(page.locator("#body strong")).to_have_text("repair")

    # The history compares v1 with v2 by default: the changed line is highlighted.
    page.get_by_role("link", name="History").click()
    expect(page.locator("tr[data-version]")).to_have_count(2)
    page.get_by_role("button", name="Compare selected versions").click()
    expect(page).to_have_url(re.compile(r"/diff/\?(from=1&to=2|to=2&from=1)$"))
    removed, added = page.locator("tr.removed"), page.locator("tr.added")
    expect(removed).to_have_count(1)
    expect(removed).to_contain_text("2. Remove the line without a SKU")
    expect(added).to_contain_text("2. Ask ops to **repair** the line")
    expect(added).to_have_css("background-color", "rgb(230, 255, 236)")
    page.screenshot(path="/tmp/e2e-runbook-diff.png", full_page=True)

    # Restore v1: a third version, equal to the first.
    page.get_by_role("link", name="history").click()
    page.get_by_role("button", name="Restore v1").click()
    expect(page.locator(".flash")).to_have_text("Version 1 restored as version 3.")
    expect(page.locator(".rb-version")).to_have_text("v3")
    expect(page.locator("#body li").nth(1)).to_have_text("Remove the line without a SKU")

    runbook = Runbook.objects.select_related("current_version").get()
    assert (runbook.current_version.number, runbook.current_version.restored_from) == (3, 1)
    assert RunbookMatcher.objects.filter(runbook=runbook).count() == 3
    assert page.outside_requests == []
    assert page.failed_responses == []
    assert page.console_errors == []
