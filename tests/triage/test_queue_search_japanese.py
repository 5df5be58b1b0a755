"""The queue's search box finds Japanese text by any part of it, and full-width and half-width forms alike."""

import pytest
from django.db import connection
from django.http import QueryDict

from tests.factories import item_create
from triage.models import TriageItem
from triage.queue import QueueQuery

TITLES = {
    "stock": "ValueError: 在庫数が不足しています (SKU: ABC-123)",
    "wide": "在庫引当エラー：ＳＫＵ ＸＹＺ－９ の引当に失敗しました（５０３）",
    "halfkana": "ｾｯｼｮﾝが切れました",
    "english": "PricingError: cannot price cart 42",
}


@pytest.fixture
def items(db):
    return {
        name: item_create(sentry_issue_id=str(n), title=title, culprit="inventory.allocation in reserve")
        for n, (name, title) in enumerate(TITLES.items())
    }


def found(q) -> set[str]:
    query = QueueQuery.from_params(QueryDict(f"q={q}"))
    pks = set(TriageItem.objects.filter(query.filters(None)).values_list("pk", flat=True))
    return {
        title_name for title_name, title in TITLES.items() if TriageItem.objects.get(title=title).pk in pks
    }


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("在庫", {"stock", "wide"}),  # two characters, inside a word
        ("不足", {"stock"}),
        ("引当に失敗", {"wide"}),
        ("SKU", {"stock", "wide"}),  # half-width finds full-width: NFKC on the stored side
        ("ＳＫＵ", {"stock", "wide"}),  # and full-width finds half-width: NFKC on the query side
        ("503", {"wide"}),
        ("セッション", {"halfkana"}),  # half-width katakana is NFKC's full-width
        ("sku 在庫", set()),  # one phrase, as today's English search: no item holds it as written
        ("price cart", {"english"}),
        ("%", set()),
        ("_", set()),
    ],
)
def test_it_finds_japanese_and_either_width(items, q, names):
    assert found(q) == names


@pytest.mark.postgres
def test_it_serves_the_search_from_the_nfkc_trigram_index(items):
    query = QueueQuery.from_params(QueryDict("q=在庫引当"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # four rows: without this the planner reads them all
        searched = TriageItem.objects.filter(query.filters(None)).order_by().values("pk")
        sql, params = searched.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "item_title_search_trgm" in plan, plan
