"""Runbook search in Japanese: any part of a word of two or more characters, mixed with English, full-width
and half-width forms alike, the title ranked over the body (runbooks.search)."""

import re
from urllib.parse import urlencode

import pytest

from runbooks import services
from runbooks.search import _words, cjk_bigrams, listed, runbook_search, search_document_refresh

pytestmark = pytest.mark.django_db
postgres = pytest.mark.postgres


def create(user, slug, title, body="手順はここに書く。"):
    return services.runbook_create(user=user, slug=slug, title=title, body=body)


def found(q):
    return [runbook.slug for runbook in runbook_search(q=q)]


@pytest.fixture
def manuals(alice):
    create(alice, "stock", "在庫引当エラーの対処手順", body="SKU ごとに引当数を確認し、不足分を補正する。")
    create(
        alice,
        "payment",
        "決済タイムアウト",
        body="在庫の戻し処理が終わってから再実行する。 HTTP 503 が続く場合は PSP に連絡。",
    )
    create(alice, "disk", "Disk full on the batch host", body="Delete old logs, then restart the import job.")


def test_it_cuts_japanese_runs_into_bigrams_and_keeps_english_apart():
    assert cjk_bigrams("在庫引当 SKU の") == "在庫 庫引 引当 の"
    assert cjk_bigrams("ｶﾀｶﾅ") == "カタ タカ カナ"  # half-width kana are read as full-width (NFKC)


@postgres
@pytest.mark.parametrize(
    "q,expected",
    [
        ("在庫", ["stock", "payment"]),  # the title hit first, the body hit after
        ("庫引", ["stock"]),  # the middle of a word
        ("対処手順", ["stock"]),
        ("引当エラー", ["stock"]),  # kanji and katakana in one run
        ("タイムアウト", ["payment"]),
        ("在庫 SKU", ["stock"]),  # mixed: both must be found
        ("ＳＫＵ", ["stock"]),  # full-width letters find ASCII
        ("５０３", ["payment"]),  # and full-width digits
        ("logs", ["disk"]),  # English as before: stemmed, ranked
        ("restarting", ["disk"]),
        ("在庫 -SKU", ["payment"]),  # websearch's minus still excludes
        ("在庫引当エラーの手順", []),  # a phrase that is not in the text
    ],
)
def test_it_finds_japanese_by_any_part_of_a_word(manuals, q, expected):
    assert found(q) == expected


@postgres
def test_the_list_page_and_the_api_search_in_japanese(manuals, client, alice):
    client.force_login(alice)

    page = client.get("/runbooks/", {"q": "引当"}).content.decode()
    api = client.get("/api/runbooks/", {"q": "引当"}).json()

    assert re.findall(r'data-runbook="([\w-]+)"', page) == ["stock"]
    assert [runbook["slug"] for runbook in api["results"]] == ["stock"]


@postgres
def test_a_refresh_of_every_document_finds_the_same(manuals):
    search_document_refresh()

    assert found("在庫") == ["stock", "payment"]


@postgres
@pytest.mark.parametrize("q", ["在" * 10_000, "。、！？「」", "%_", "在:* & | !", "<->", "\ud800在庫"])
def test_it_answers_any_text(manuals, client, alice, q):
    client.force_login(alice)
    query = urlencode({"q": q}, errors="surrogatepass")  # a lone surrogate as its (invalid) UTF-8 bytes

    assert client.get(f"/runbooks/?{query}").status_code == 200
    assert client.get(f"/api/runbooks/?{query}").status_code == 200
    assert isinstance(found(q), list)


def test_the_substring_fallback_finds_japanese_too(manuals):
    """SQLite's path, exercised here directly: substrings, the title hit first."""
    assert [runbook.slug for runbook in _words(listed(), "在庫")] == ["stock", "payment"]
