"""Grouping advisor: the nightly recompute over 1,000,000 occurrences in 10,000 items, and /grouping/.

PostgreSQL database `triage_bench_grouping` (created if missing, loaded with INSERT … SELECT
generate_series, reused while its shape matches and its events are still inside the 30-day window).
The items: a tenth mix 2 services x 2 inner exceptions (splits), a twentieth mix 2 message templates
(splits), a twentieth pair up with another item on the same service, exception, template and culprit
(merges); every item has a 5% tail of a rare exception (below the 10% a group needs). Printed beside
anchors measured in the same run: `SELECT count(*)` over the occurrences, and the grouping statement alone.
Goal (issue 7): under 30 s for the full recompute, done in the database (one GROUP BY statement).

Environment: BENCH_GROUPING_OCCURRENCES (default 1000000), BENCH_GROUPING_ITEMS (default 10000),
BENCH_GROUPING_RUNS (default 3).
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/grouping.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/triage_bench_grouping"
OCCURRENCES = int(os.environ.get("BENCH_GROUPING_OCCURRENCES", "1000000"))
ITEMS = int(os.environ.get("BENCH_GROUPING_ITEMS", "10000"))
RUNS = int(os.environ.get("BENCH_GROUPING_RUNS", "3"))
NEW_EVENTS, NEW_EVENT_ITEMS = 10_000, 1_000  # what a night brings, for the incremental run
GOAL_S = 30.0
TYPES = (
    "ARRAY['KeyError','TimeoutError','ValueError','OSError','IntegrityError','ConnectionError',"
    "'TypeError','HTTPError']"
)


def main():
    harness.stop_on_sigterm()
    harness.require_port("127.0.0.1", 5432, "PostgreSQL")
    busy_before = harness.machine_busy_percent()
    harness.create_database_if_missing(DATABASE_URL)
    with tempfile.TemporaryDirectory(prefix="bench-grouping-") as var_dir:
        setup_django(var_dir)
        try:
            ensure_data()
            results = measure()
        finally:
            from django.db import connections

            connections.close_all()
    results.update(
        bench="grouping",
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        occurrences=OCCURRENCES,
        items=ITEMS,
        machine={**harness.machine(DATABASE_URL), "busy_percent_before": busy_before},
    )
    report(results)
    print(f"\nResults: {harness.save_results('grouping', results).relative_to(harness.ROOT)}")


def setup_django(var_dir):
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-" + "not-a-secret-" * 4,
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": "memory://",
            "TRIAGE_VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)


def ensure_data():
    count, newest = harness.sql(DATABASE_URL, "SELECT count(*), max(timestamp) FROM triage_occurrence")[0]
    items = harness.sql(DATABASE_URL, "SELECT count(*) FROM triage_triageitem")[0][0]
    if (count, items) == (OCCURRENCES, ITEMS) and newest and newest > datetime.now(UTC) - timedelta(days=1):
        print(f"Reusing {count:,} occurrences in {items:,} items")
        return
    started = time.perf_counter()
    with harness.connect(DATABASE_URL) as conn:
        for statement in load_statements():
            conn.execute(statement, {"n": OCCURRENCES, "items": ITEMS})
    print(f"Loaded {OCCURRENCES:,} occurrences in {ITEMS:,} items in {time.perf_counter() - started:.1f} s")


def load_statements():
    # `k`: the item whose service, exception, template and culprit an item takes; a twentieth of the
    # items (i mod 20 = 8) take their neighbour's, which makes a pair to merge.
    key = "CASE WHEN mod(i, 20) = 8 THEN i - 1 ELSE i END"
    return [
        (
            "TRUNCATE triage_service, triage_triageitem, triage_occurrence, grouping_suggestion,"
            " grouping_suggestionitem, grouping_dismissal, grouping_itemmix, grouping_recomputerun"
            " RESTART IDENTITY CASCADE"
        ),
        "INSERT INTO triage_service (slug, name, created_at) VALUES ('bench', 'Bench', now())",
        (
            "INSERT INTO triage_triageitem (sentry_issue_id, short_id, title, culprit, level, platform,"
            " project_slug,"
            " service_id, environment, first_seen, last_seen, event_count, user_count, status, sentry_status,"
            " sentry_substatus, sentry_assignee, sentry_url, tags, latest_event, resolved_in_release,"
            " classification,"
            " pinned_note, ignore_condition, sentry_sync_state, sentry_sync_error, created_at, updated_at)"
            " SELECT 'g' || i, 'G-' || i, 'Error ' || i, 'app.module' || "
            + key
            + " || ' in handle', 'error', 'python',"
            " 'bench', 1, 'production', now() - interval '30 days', now(), 0, 0, 'new', '', '', '',"
            " 'https://sentry.example/issues/' || i || '/', '{}', '{}', '', '', '', '{}', '', '', now(),"
            " now()"
            " FROM generate_series(1, %(items)s) i"
        ),
        # v: which of 20 variants an event is. Mixed items (i mod 10 = 0): service by v's low bit, inner
        # type by the next; template items (i mod 20 = 5): template by v's low bit; v = 19: the rare tail.
        (
            "INSERT INTO triage_occurrence (event_id, item_id, timestamp, received_at, environment, release,"
            " level,"
            " exception_type, exception_value, tags, service_key, inner_exception_type, message_template)"
            " SELECT 'o' || g, i, now() - (mod(g, 29 * 24 * 60) + 1) * interval '1 minute', now(),"
            " 'production', '',"
            " 'error', 'RequestFailed', 'request failed', '{}',"
            " 'svc-' || mod(" + key + " + CASE WHEN mod(i, 10) = 0 AND mod(v, 2) = 1 THEN 1 ELSE 0 END, 100),"
            " CASE WHEN v = 19 THEN 'RareError' ELSE ("
            + TYPES
            + ")[1 + mod("
            + key
            + " + CASE WHEN mod(i, 10) = 0 AND mod(v / 2, 2) = 1 THEN 3 ELSE 0 END, 8)] END,"
            " CASE WHEN mod(i, 20) = 5 AND mod(v, 2) = 1 THEN 'order <n> not found for customer <id>'"
            " ELSE 'template ' || mod(" + key + ", 500) || ' failed after <n> ms' END"
            " FROM (SELECT g, 1 + mod(g::bigint * 7919, %(items)s) AS i, mod(g / %(items)s, 20) AS v"
            "       FROM generate_series(1, %(n)s) g) events"
        ),
        "ANALYZE",
    ]


def measure():
    from grouping import aggregate, services
    from grouping.models import Suggestion

    since = datetime.now(UTC) - services.WINDOW
    anchor = [
        timed(lambda: harness.sql(DATABASE_URL, "SELECT count(*) FROM triage_occurrence"))
        for _ in range(RUNS)
    ]
    statement = [timed(lambda: aggregate.item_groups(since=since)) for _ in range(RUNS)]
    full = [timed(lambda: services.suggestions_recompute(full=True)) for _ in range(RUNS)]
    run = services.suggestions_recompute(full=True)
    add_new_events()
    incremental_run = services.suggestions_recompute(full=False)
    return {
        "anchor_s": statistics.median(anchor),
        "statement_s": statistics.median(statement),
        "full_s": statistics.median(full),
        "full_runs_s": full,
        "incremental_s": seconds(incremental_run),
        "incremental_items": incremental_run.items_examined,
        "splits": run.splits,
        "merges": run.merges,
        "suggestions": Suggestion.objects.count(),
        **page_times(),
    }


def add_new_events():
    first = harness.sql(DATABASE_URL, "SELECT max(id) FROM triage_occurrence")[0][0]
    harness.sql(
        DATABASE_URL,
        "INSERT INTO triage_occurrence (event_id, item_id, timestamp, received_at, environment, release,"
        " level, exception_type, exception_value, tags, service_key, inner_exception_type, message_template)"
        " SELECT 'n' || (%s + g), 1 + mod(g * 13, %s) * (%s / %s), now(), now(), 'production', '', 'error',"
        " 'KeyError', 'x', '{}', 'svc-new', 'KeyError', 'new <n>' FROM generate_series(1, %s) g",
        [first, NEW_EVENT_ITEMS, ITEMS, NEW_EVENT_ITEMS, NEW_EVENTS],
    )


def page_times():
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.get_or_create(username="bench-reader")[0])
    assert client.get("/grouping/").status_code == 200
    page = sorted(timed(lambda: client.get("/grouping/")) for _ in range(20))
    return {"page_ms": statistics.median(page) * 1000, "page_p95_ms": page[18] * 1000}


def seconds(run):
    return (run.finished_at - run.started_at).total_seconds()


def timed(work):
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def report(figures):
    print(f"\nGrouping advisor over {OCCURRENCES:,} occurrences in {ITEMS:,} items (medians of {RUNS} runs)")
    print(f"  anchor: SELECT count(*) over the occurrences   {figures['anchor_s']:.3f} s")
    print(f"  the grouping statement alone                   {figures['statement_s']:.3f} s")
    print(
        f"  full recompute                                 {figures['full_s']:.3f} s"
        f"  ({figures['full_s'] / figures['anchor_s']:.1f}x the anchor; goal < {GOAL_S:.0f} s)"
        f"  -> {figures['splits']:,} splits, {figures['merges']:,} merges"
    )
    print(
        f"  incremental, {NEW_EVENTS:,} new events in {figures['incremental_items']:,} items"
        f"   {figures['incremental_s']:.3f} s"
    )
    print(
        f"  /grouping/ server time                         {figures['page_ms']:.1f} ms median,"
        f" {figures['page_p95_ms']:.1f} ms p95"
    )


if __name__ == "__main__":
    main()
