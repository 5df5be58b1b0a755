"""Every main page works under the Content-Security-Policy in headless Chromium: no violation, no console
error, and the scripted parts (htmx actions, the copy-rule button, Swagger UI) still do their job
(issue 18)."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from grouping.models import Suggestion
from runbooks import services as runbooks
from tests.grouping_data import split_issue
from tests.ops.test_support import make_data_fix_item

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal(alice):
    """Alice's team has an item that hides four errors, a data fix for ops, and a runbook in two versions."""
    team = alice.teams.get()
    item = split_issue(Client(), "5551")
    item.team = team
    item.save()
    make_data_fix_item(team)
    runbook = runbooks.runbook_create(
        user=alice, slug="cart-repair", title="Cart repair", body="## Steps\n\n1. Find it\n"
    )
    runbooks.runbook_update(runbook=runbook, user=alice, body="## Steps\n\n1. Find it\n2. **Repair** it\n")
    return item


def log_in(page, username):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".userbox")).to_contain_text(username)


def visit(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("networkidle")


def test_it_serves_every_main_page_without_a_policy_violation(page, csp_violations, portal):
    log_in(page, "alice")

    for url in (
        "/",
        portal.get_absolute_url(),
        "/runbooks/",
        "/runbooks/cart-repair/",
        "/runbooks/cart-repair/edit/",
        "/runbooks/cart-repair/history/",
        "/runbooks/cart-repair/diff/?from=1&to=2",
        "/ops/",
        "/reports/weekly/",
        "/grouping/",
        "/api/docs/",
    ):
        visit(page, url)

    assert csp_violations == []
    assert page.console_errors == []
    assert not page.outside_requests


def test_it_keeps_htmx_actions_working(page, csp_violations, portal):
    log_in(page, "alice")
    visit(page, portal.get_absolute_url())

    page.locator("#item-body").get_by_role("button", name="Take it").click()

    expect(page.locator("#item-body")).to_contain_text("alice")
    portal.refresh_from_db()
    assert portal.owner.username == "alice"
    visit(page, "/")
    page.locator("#filters input[name=q]").fill("LedgerError")
    expect(page.locator("#results tr.row")).to_have_count(1)
    assert csp_violations == [] and page.console_errors == []


def test_it_keeps_the_copy_rule_button_and_the_share_bars_working(page, live_server, csp_violations, portal):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, "alice")
    visit(page, "/grouping/")
    suggestion = Suggestion.objects.get()
    card = page.locator(f"#suggestion-{suggestion.pk}")

    card.get_by_role("button", name="Copy rule").click()

    expect(card.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == suggestion.rule
    share = card.locator(".gp-share").first
    assert share.evaluate("bar => getComputedStyle(bar).getPropertyValue('--share')") == share.get_attribute(
        "data-share"
    )
    assert csp_violations == [] and page.console_errors == []


def test_it_runs_swagger_ui_under_its_own_policy(page, csp_violations, portal):
    log_in(page, "alice")
    visit(page, "/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Triage Portal API")
    expect(page.locator(".opblock-tag").first).to_be_visible()
    assert csp_violations == [] and page.console_errors == []


def test_it_shows_the_login_and_lockout_pages_without_a_policy_violation(
    page, csp_violations, alice, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto("/login/")
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Too many failed attempts")).to_be_visible()
    assert csp_violations == []
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 429 (Too Many Requests)"
    ]


def test_it_serves_the_admin_without_a_policy_violation(page, csp_violations, alice):
    alice.is_staff = True
    alice.is_superuser = True
    alice.save()
    log_in(page, "alice")

    for url in (
        "/admin/",
        "/admin/auth/user/",
        f"/admin/auth/user/{alice.pk}/change/",
        "/admin/axes/accessattempt/",
    ):
        visit(page, url)

    assert csp_violations == [] and page.console_errors == []
