"""A data fix in a real browser: alice files it from her item, bob (ops) acknowledges and completes it on the
ops pages, and alice finds the result on the item."""

import re

import pytest
from playwright.sync_api import expect

from ops.models import DataFixRequest
from tests.ops.test_support import make_data_fix_item
from triage.models import Team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, username):
    page.context.clear_cookies()
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".userbox")).to_contain_text(username)


def test_a_data_fix_goes_from_the_developer_to_ops_and_back(page, live_server, alice, bob):
    item = make_data_fix_item(Team.objects.get(slug="checkout"))

    log_in(page, "alice")
    page.goto(f"/items/{item.pk}/")
    panel = page.locator("#data-fixes")
    panel.get_by_label("What to change, and why").fill(
        "Invoice 42 total is 0.00; set it to 10.00 from the ledger"
    )
    panel.get_by_label("Urgency").select_option("high")
    panel.get_by_label("Customer").fill("ACME")
    panel.get_by_role("button", name="File data fix").click()
    expect(page.locator(".flash-success")).to_contain_text("Data fix filed")
    expect(panel.locator(".df-state")).to_have_text("Requested")
    fix = DataFixRequest.objects.get()

    log_in(page, "bob")
    page.locator(".topbar").get_by_role("link", name="Ops", exact=True).click()
    row = page.locator(f'tr[data-request="{fix.pk}"]')
    expect(row).to_contain_text("High")
    expect(row.locator(".df-sla")).to_have_text(re.compile(r"\d+m left"))
    row.get_by_role("link", name=re.compile("Invoice 42")).click()
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".ops-head .df-state")).to_have_text("Acknowledged")
    page.get_by_label("Result").fill("UPDATE invoices SET total = 10.00 WHERE id = 42; 1 row")
    page.get_by_role("button", name="Mark done").click()
    expect(page.locator(".ops-head .df-state")).to_have_text("Done")
    expect(page.locator(".df-log")).to_contain_text("bob completed it")

    log_in(page, "alice")
    page.goto(f"/items/{item.pk}/")
    expect(page.locator("#data-fixes .df-result")).to_contain_text("1 row")
    expect(page.locator(".timeline")).to_contain_text(f"bob ops completed data fix #{fix.pk}")
    expect(page.locator(".timeline .entry-note").first).to_contain_text("UPDATE invoices SET total = 10.00")
    assert page.failed_responses == [] and page.outside_requests == []
