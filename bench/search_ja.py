"""Japanese runbook search: 5,000 runbooks with Japanese titles and bodies, searched as the list page and
`GET /api/runbooks/?q=` search them (issue 14).

PostgreSQL database `triage_bench_search` (created and migrated here; its runbooks are replaced on every
run). In this process, with the portal's production settings, each query through `runbook_search(q=…)`,
its first page (50 rows) read as the list page reads it:

- Japanese queries of 2, 3 and 6 characters, some frequent and some rare; a mixed Japanese and English
  query; a full-width one (ＳＫＵ, found as SKU through NFKC); English queries;
- anchors measured in the same run, over the same rows: English-only full-text search the way the portal
  searched before Japanese search (the stored GIN-indexed document `@@ websearch_to_tsquery('english', …)`,
  ranked), and one indexed SELECT by primary key;
- the plan of a Japanese query, to show the GIN index serves it.

Goal: p95 < 50 ms per query at 5,000 runbooks. BENCH_SEARCH_ROUNDS sets the rounds per query (default 40).
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/search_ja.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/triage_bench_search"
RUNBOOKS = 5_000
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "40"))
GOAL_P95_MS = 50
SUBJECTS = ["在庫", "決済", "注文", "配送", "会員", "ポイント", "クーポン", "請求", "返品", "検索"]
TROUBLES = ["引当エラー", "タイムアウト", "二重計上", "接続断", "不整合", "遅延", "重複登録", "桁あふれ"]
PLACES = ["データベース", "キャッシュ", "外部API", "バッチ", "キュー", "倉庫システム"]
ACTIONS = ["再試行する", "手動で補正する", "ロックを解除する", "ジョブを再実行する", "担当チームに連絡する"]
IDENTIFIERS = ["SKU", "HTTP 503", "OrderService", "PaymentGateway", "deadlock", "ORA-00060", "Redis"]
QUERIES = {
    "ja 2 chars, frequent": "在庫",
    "ja 2 chars, rare": "桁あ",
    "ja 3 chars": "タイム",
    "ja 6 chars": "引当エラーの",
    "mixed": "SKU 在庫",
    "full-width": "ＳＫＵ",
    "en, one word": "deadlock",
    "en, identifier": "PaymentGateway",
    "en, two words": "redis deadlock",
}
ANCHOR_QUERIES = ("deadlock", "PaymentGateway", "redis deadlock")


def main():
    harness.stop_on_sigterm()
    harness.require_port("127.0.0.1", 5432, "PostgreSQL")
    harness.create_database_if_missing(DATABASE_URL)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    seed(random.Random(14))
    results = {"config": {"runbooks": RUNBOOKS, "rounds": ROUNDS}, "queries": measure_queries()}
    results["anchors"] = measure_anchors()
    results["plan"] = japanese_plan()
    print_report(results)
    print(f"\nResults: {harness.save_results('search_ja', results).relative_to(harness.ROOT)}")


def setup_django():
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-" + "not-a-secret-" * 4,
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": "memory://",
            "SECURE_SSL_REDIRECT": "0",
        }
    )
    import django

    django.setup()


# --- Data ---------------------------------------------------------------------------------------------


def seed(rng):
    """5,000 runbooks titled and written as a Japanese team writes them, documents computed as services do."""
    from django.db import connection, transaction

    from runbooks.models import Runbook, RunbookVersion
    from runbooks.search import search_document_refresh

    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE runbooks_runbookuse, runbooks_runbookfeedback, runbooks_runbookmatcher, "
                "runbooks_runbookversion, runbooks_runbook CASCADE"
            )
        runbooks = Runbook.objects.bulk_create(_runbook(n, rng) for n in range(RUNBOOKS))
        RunbookVersion.objects.bulk_create(
            RunbookVersion(runbook=runbook, number=1, body=_body(rng), summary="seed") for runbook in runbooks
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE runbooks_runbook r SET current_version_id = v.id FROM runbooks_runbookversion v "
                "WHERE v.runbook_id = r.id"
            )
        search_document_refresh()
    print(f"  seeded {RUNBOOKS:,} runbooks in {time.perf_counter() - started:.1f} s", flush=True)


def _runbook(n, rng):
    from runbooks.models import Runbook

    # 1 in 250 titles carries the rare trouble, so "rare" really is.
    trouble = TROUBLES[-1] if n % 250 == 0 else rng.choice(TROUBLES[:-1])
    title = f"{rng.choice(SUBJECTS)}{trouble}の対処手順（{rng.choice(PLACES)}）"
    return Runbook(slug=f"rb-{n:05d}", title=title, services=[f"svc-{n % 30:02d}"], team=f"team-{n % 8}")


def _body(rng):
    steps = [
        f"{k}. {rng.choice(PLACES)}の状態を確認し、{rng.choice(IDENTIFIERS)} を含むログを探してから"
        f"{rng.choice(ACTIONS)}。"
        for k in range(1, 6)
    ]
    cause = f"{rng.choice(SUBJECTS)}の{rng.choice(TROUBLES[:-1])}が起きたときの手順です。"
    return "\n".join([f"## 概要\n{cause}", "## 手順", *steps])


# --- Measures ---------------------------------------------------------------------------------------------


def measure_queries() -> dict:
    from runbooks.search import runbook_search

    return {label: _timed(lambda q=q: list(runbook_search(q=q)[:50]), q) for label, q in QUERIES.items()}


def _timed(run, q) -> dict:
    run()  # warm: plans cached, pages in memory
    timings, found = [], 0
    for _ in range(ROUNDS):
        started = time.perf_counter()
        found = len(run())
        timings.append((time.perf_counter() - started) * 1000)
    return {"q": q, "rows": found, **_percentiles(timings)}


def _percentiles(timings) -> dict:
    ordered = sorted(timings)
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
    }


def measure_anchors() -> dict:
    from django.db import connection

    anchors = {
        f"english-only FTS: {q}": _timed(lambda q=q: _english_search(connection, q), q)
        for q in ANCHOR_QUERIES
    }
    anchors["pk SELECT"] = _timed(lambda: _pk_select(connection), "id = …")
    return anchors


def _english_search(connection, q):
    # The query the portal ran before Japanese search: the English tsquery alone against the stored,
    # GIN-indexed document, ranked; the same rows and index, without the bigram phrase.
    sql = (
        "SELECT id, title FROM runbooks_runbook WHERE search_document @@ websearch_to_tsquery('english', %s)"
        " ORDER BY ts_rank(search_document, websearch_to_tsquery('english', %s)) DESC, title LIMIT 50"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [q, q])
        return cursor.fetchall()


def _pk_select(connection):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM runbooks_runbook WHERE id = (SELECT min(id) FROM runbooks_runbook)")
        return cursor.fetchall()


def japanese_plan() -> list[str]:
    from django.db import connection

    from runbooks.search import runbook_search

    sql, params = runbook_search(q="引当エラーの")[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return [row[0] for row in cursor.fetchall()]


# --- Report -----------------------------------------------------------------------------------------------


def print_report(r):
    print(f"\nJapanese runbook search over {RUNBOOKS:,} runbooks, {ROUNDS} rounds per query (first 50 rows)")
    print(f"  {'query':<42} {'q':<16} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for label, row in [*r["queries"].items(), *(("anchor: " + k, v) for k, v in r["anchors"].items())]:
        print(
            f"  {label:<42} {row['q']:<16} {row['rows']:>5} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f}"
            f" {row['mean_ms']:>8.2f}"
        )
    index_lines = [line.strip() for line in r["plan"] if "Index" in line]
    print(f"  plan of 引当エラーの: {index_lines[0] if index_lines else 'no index used: ' + r['plan'][0]}")
    worst = max(row["p95_ms"] for row in r["queries"].values())
    verdict = "met" if worst < GOAL_P95_MS else "MISSED"
    print(f"  goal: p95 < {GOAL_P95_MS} ms per query; worst p95 {worst:.2f} ms: {verdict}")


if __name__ == "__main__":
    main()
