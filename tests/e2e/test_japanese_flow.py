"""Kenji's morning in Japanese: a browser in Japan (ja-JP, Asia/Tokyo) gets the portal in Japanese, triages an
item from the keyboard, sees times in JST, and can switch to English from the header."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import item_create, service_get, team_create, user_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "ValueError: 在庫数が不足しています (SKU: ABC-123, 要求: 5, 在庫: 2)"


@pytest.fixture
def kenji(db):
    user = user_create("kenji", groups=("dev",))
    team = team_create(slug="inventory", name="在庫チーム", members=[user])
    now = timezone.now()
    item_create(
        sentry_issue_id="9090",
        short_id="INVENTORY-7",
        title=TITLE,
        culprit="inventory.allocation in reserve",
        service=service_get(slug="inventory-api"),
        team=team,
        first_seen=now - timedelta(hours=3),
        last_seen=now - timedelta(minutes=10),
        created_at=now - timedelta(hours=3),
    )
    return user


@pytest.fixture
def japanese_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url,
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        viewport={"width": 1280, "height": 900},
    )
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    yield page
    context.close()


def log_in_in_japanese(page):
    page.goto("/login/?next=/")
    page.get_by_label("ユーザー名").fill("kenji")
    page.get_by_label("パスワード").fill("password")
    page.get_by_role("button", name="ログイン").click()


def test_it_triages_in_japanese_from_the_keyboard_and_shows_japan_time(japanese_page, kenji):
    page = japanese_page
    log_in_in_japanese(page)
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.wait_for_load_state("load")
    page.reload()  # the first page told the server the browser's zone (portal.js's cookie)
    expect(page.locator(".prefs-link")).to_have_text("日本語 · JST")

    expect(page.locator("#rail")).to_contain_text("前回の訪問以降の新規")
    expect(page.locator("#results select[name=sort] option[value=last_seen]")).to_have_text("最終発生")
    row = page.locator("#results tr.row", has_text="在庫数が不足しています")
    page.keyboard.press("j")
    expect(row).to_have_class(re.compile(r"\bcurrent\b"))
    page.keyboard.press("c")
    dialog = page.locator("#dlg-classify")
    expect(dialog).to_be_visible()
    page.keyboard.press("2")
    expect(dialog.get_by_role("radio", name="データ補正")).to_be_checked()
    dialog.locator("textarea[name=note]").fill("引当済み在庫の数がずれている")
    page.keyboard.press("Control+Enter")
    expect(dialog).to_be_hidden()
    expect(row.locator("td.state")).to_contain_text("データ補正")
    page.keyboard.press("t")
    expect(row.locator("td.who")).to_contain_text("kenji")
    expect(page.locator("#toasts")).to_contain_text("INVENTORY-7 を担当しました。")

    page.keyboard.press("o")
    expect(page.locator("ol.timeline")).to_contain_text("kenji")
    expect(page.locator("time[title*='JST']").first).to_be_attached()
    assert page.console_errors == []


def test_it_switches_to_english_from_the_header(japanese_page, kenji):
    page = japanese_page
    log_in_in_japanese(page)
    page.locator(".prefs-link").click()
    page.get_by_label("言語").select_option("en")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header nav")).to_contain_text("Runbooks")
    page.goto("/runbooks/")  # kept for the next pages, although the browser asks for Japanese
    expect(page.locator("html")).to_have_attribute("lang", "en")
