"""Weekly trends: compute one ISO week over 1,000,000 occurrences in 100 services, and serve its report.

PostgreSQL database `triage_bench_trends` (created if missing, loaded once with INSERT … SELECT
generate_series, reused while its shape matches). The occurrences spread evenly over 12 weeks ending
with the measured week; 100 items per service, with some human activity. Every 50th occurrence is a burst
on 100 items in the measured week, so item spikes are checked. A third of the items have one of 50
runbooks linked (with their uses, 1,200 "unclear"/"outdated" flags and "did it help?" answers), and
5,000 data-fix requests spread over the weeks, most of them closed by ops. Printed beside an anchor
measured in the same run: one `SELECT count(*)` over all occurrences (what merely reading the table costs).
Goals (issue 6): under 5 s for the week, under 200 ms for the report page (server time, in-process).
The figures are saved to bench/results/trends-<time>.json with the machine and how busy it was before.

Run: `.venv/bin/python bench/trends.py` (about a minute to load the data the first time).
Environment: BENCH_TRENDS_OCCURRENCES (default 1000000), BENCH_TRENDS_RUNS (default 3).
"""

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/trends.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/triage_bench_trends"
OCCURRENCES = int(os.environ.get("BENCH_TRENDS_OCCURRENCES", "1000000"))
RUNS = int(os.environ.get("BENCH_TRENDS_RUNS", "3"))
SERVICES, ITEMS_PER_SERVICE, WEEKS = 100, 100, 12
RUNBOOKS, DATA_FIXES, FEEDBACK = 50, 5000, 1200
WEEK_START = date(2026, 11, 16)  # 2026-W47, the measured week
GOAL_WEEK_S, GOAL_PAGE_MS = 5.0, 200


def main():
    harness.stop_on_sigterm()
    harness.require_port("127.0.0.1", 5432, "PostgreSQL")
    busy_before = harness.machine_busy_percent()
    harness.create_database_if_missing(DATABASE_URL)
    with tempfile.TemporaryDirectory(prefix="bench-trends-") as var_dir:
        setup_django(var_dir)
        ensure_data()
        figures = measure()
    report(figures)
    results = {
        "bench": "trends",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**harness.machine(DATABASE_URL), "busy_percent_before": busy_before},
        "data": {
            "occurrences": OCCURRENCES,
            "services": SERVICES,
            "items": SERVICES * ITEMS_PER_SERVICE,
            "runbooks": RUNBOOKS,
            "data_fix_requests": DATA_FIXES,
            "runs": RUNS,
        },
        **figures,
    }
    print(f"\nMachine busy before the bench: {busy_before}% (a shared machine: figures vary from run to run)")
    print(f"Results: {harness.save_results('trends', results).relative_to(harness.ROOT)}")


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
            "TIME_ZONE": "Europe/Berlin",
        }
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)


def ensure_data():
    count = harness.sql(DATABASE_URL, "SELECT count(*) FROM triage_occurrence")[0][0]
    people = harness.sql(DATABASE_URL, "SELECT count(*) FROM triage_activity WHERE actor_id IS NOT NULL")[0][
        0
    ]
    fixes = harness.sql(DATABASE_URL, "SELECT count(*) FROM ops_datafixrequest")[0][0]
    flags = harness.sql(DATABASE_URL, "SELECT count(*) FROM runbooks_runbookfeedback")[0][0]
    if count == OCCURRENCES and people and (fixes, flags) == (DATA_FIXES, FEEDBACK):
        print(f"Reusing {count:,} occurrences in {DATABASE_URL.rsplit('/', 1)[1]}")
        return
    started = time.perf_counter()
    with harness.connect(DATABASE_URL) as conn:
        for statement in load_statements():
            conn.execute(
                statement,
                None
                if "%(" not in statement
                else {
                    "n": OCCURRENCES,
                    "start": WEEK_START - timedelta(weeks=WEEKS - 1),
                    "weeks": WEEKS,
                    "services": SERVICES,
                    "per": ITEMS_PER_SERVICE,
                    "runbooks": RUNBOOKS,
                    "fixes": DATA_FIXES,
                    "feedback": FEEDBACK,
                },
            )
    print(f"Loaded {OCCURRENCES:,} occurrences in {time.perf_counter() - started:.1f} s")


def load_statements():
    items = SERVICES * ITEMS_PER_SERVICE
    return [
        (
            "TRUNCATE triage_service, triage_triageitem, triage_occurrence, triage_activity,"
            " reports_weeklyservicetrend,"
            " reports_weeklyorgtrend, reports_weeklyitemtrend, reports_meetingdecision,"
            " reports_weeklyrunbooktrend,"
            " reports_weeklyerrorkind, runbooks_runbook, runbooks_runbookversion, runbooks_runbookuse,"
            " runbooks_runbookfeedback, ops_datafixrequest RESTART IDENTITY CASCADE"
        ),
        (
            "INSERT INTO auth_user (username, password, is_superuser, first_name, last_name, email,"
            " is_staff, is_active,"
            " date_joined) VALUES ('bench-dev', '!', false, '', '', '', false, true, now()) ON CONFLICT DO"
            " NOTHING"
        ),
        (
            "INSERT INTO triage_service (slug, name, created_at) SELECT 'svc-' || s, 'Service ' || s, now()"
            " FROM generate_series(1, %(services)s) s"
        ),
        # Items: statuses mixed, a third classified as a code fix and a third as a data fix.
        (
            "INSERT INTO triage_triageitem (sentry_issue_id, short_id, title, culprit, level, platform,"
            " project_slug,"
            " service_id, environment, first_seen, last_seen, event_count, user_count, status, sentry_status,"
            " sentry_substatus, sentry_assignee, sentry_url, tags, latest_event, resolved_in_release,"
            " classification,"
            " pinned_note, ignore_condition, sentry_sync_state, sentry_sync_error, created_at, updated_at)"
            " SELECT 'b' || i, 'B-' || i, 'Error ' || i, '', 'error', 'python', '', 1 + (i - 1) / %(per)s,"
            " 'production',"
            " %(start)s::timestamptz + mod(i, %(weeks)s * 7) * interval '1 day', now(), 0, 0,"
            " (ARRAY['new','triaged','resolved','ignored'])[1 + mod(i, 4)], '', '', '', '', '{}', '{}', '',"
            " (ARRAY['', 'code_fix', 'data_fix'])[1 + mod(i, 3)], '', '{}', '', '', now(), now()"
            f" FROM generate_series(1, {items}) i"
        ),
        # Occurrences evenly over the weeks, but every 50th one a burst in the measured week on 100 items
        # (spikes).
        (
            "INSERT INTO triage_occurrence (event_id, item_id, timestamp, received_at, environment, release,"
            " level,"
            " exception_type, exception_value, tags, service_key, inner_exception_type, message_template)"
            " SELECT 'o' || g, CASE WHEN mod(g, 50) = 0 THEN 1 + mod(g / 50, 100) * 100 ELSE 1 +"
            " mod(g::bigint * 7919,"
            f" {items}) END, %(start)s::timestamptz + CASE WHEN mod(g, 50) = 0 THEN (%(weeks)s - 1) *"
            " interval '1 week'"
            " + mod(g, 7 * 24 * 60) * interval '1 minute' ELSE mod(g, %(weeks)s * 7 * 24 * 60) * interval '1"
            " minute' END,"
            " now(), 'production', '',"
            " 'error', (ARRAY['KeyError', 'TimeoutError', 'ValueError'])[1 + mod(g::bigint * 7919, 3)], '',"
            " '{}',"
            " '', '', '' FROM generate_series(1, %(n)s) g"
        ),
        *runbook_statements(items),
        # Data-fix requests: filed over the weeks; four in five closed by ops within 0-72 hours, a few
        # cancelled.
        (
            "INSERT INTO ops_datafixrequest (item_id, description, environment, customer, tenant,"
            " runbook_section,"
            " urgency, parameters, state, result, created_at, closed_at, due_at, escalation_level)"
            f" SELECT 1 + mod(g * 13, {items}), 'fix', 'production', '', '', '', 'normal', '{{}}',"
            " (ARRAY['done', 'rejected', 'done', 'done', 'requested', 'acknowledged', 'cancelled'])[1 +"
            " mod(g, 7)], '',"
            " %(start)s::timestamptz + mod(g, %(weeks)s * 7 * 24) * interval '1 hour', NULL, now(), 0"
            " FROM generate_series(1, %(fixes)s) g"
        ),
        (
            "UPDATE ops_datafixrequest SET closed_at = created_at + mod(id, 72) * interval '1 hour'"
            " WHERE state IN ('done', 'rejected', 'cancelled')"
        ),
        # Activity: a third of it by a person (handling toil), the rest by Sentry.
        (
            "INSERT INTO triage_activity (item_id, actor_id, actor_label, verb, data, created_at)"
            f" SELECT 1 + mod(g * 31, {items}),"
            " CASE WHEN mod(g, 3) = 0 THEN (SELECT id FROM auth_user WHERE username = 'bench-dev') END,"
            " 'Sentry',"
            " (ARRAY['created','resolved','ignored','regressed','commented'])[1 + mod(g, 5)], '{}',"
            " %(start)s::timestamptz + mod(g, %(weeks)s * 7 * 24) * interval '1 hour' FROM"
            " generate_series(1, 50000) g"
        ),
        "ANALYZE",
    ]


def runbook_statements(items):
    """50 runbooks with one version each; every third item linked, with its use, and flags and answers."""
    return [
        (
            "INSERT INTO runbooks_runbook (slug, title, services, team, tags, created_at, updated_at)"
            " SELECT 'rb-' || r, 'Runbook ' || r, '[]', '', '[]', now(), now() FROM generate_series(1,"
            " %(runbooks)s) r"
        ),
        (
            "INSERT INTO runbooks_runbookversion (runbook_id, number, body, summary, created_at)"
            " SELECT id, 1, 'Steps', 'Created', now() FROM runbooks_runbook"
        ),
        (
            "UPDATE runbooks_runbook r SET current_version_id = v.id FROM runbooks_runbookversion v"
            " WHERE v.runbook_id = r.id"
        ),
        "UPDATE triage_triageitem SET runbook_id = 1 + mod(id, %(runbooks)s) WHERE mod(id, 3) = 0",
        (
            "INSERT INTO runbooks_runbookuse (runbook_id, version_id, item_ref, item_title, item_url,"
            " linked_at,"
            " decided_at, helped) SELECT i.runbook_id, r.current_version_id, i.id, i.title, '', l.at,"
            " CASE WHEN mod(i.id, 2) = 0 THEN l.at + interval '5 hours' END, NULL"
            " FROM triage_triageitem i JOIN runbooks_runbook r ON r.id = i.runbook_id,"
            " LATERAL (SELECT %(start)s::timestamptz + mod(i.id * 37, %(weeks)s * 7 * 24) * interval '1"
            " hour' AS at) l"
        ),
        (
            "INSERT INTO runbooks_runbookfeedback (runbook_id, kind, comment, created_at)"
            " SELECT 1 + mod(g, %(runbooks)s), (ARRAY['unclear', 'outdated'])[1 + mod(g, 2)], '',"
            " %(start)s::timestamptz + mod(g * 7, %(weeks)s * 7 * 24) * interval '1 hour'"
            " FROM generate_series(1, %(feedback)s) g"
        ),
        (
            "INSERT INTO triage_activity (item_id, actor_id, actor_label, verb, data, created_at)"
            " SELECT i.id, (SELECT id FROM auth_user WHERE username = 'bench-dev'), '', 'runbook_feedback',"
            " jsonb_build_object('helped', mod(i.id, 4) = 0, 'slug', 'rb-' || i.runbook_id),"
            " %(start)s::timestamptz + mod(i.id * 53, %(weeks)s * 7 * 24) * interval '1 hour'"
            " FROM triage_triageitem i WHERE i.runbook_id IS NOT NULL"
        ),
    ]


def measure():
    from django.contrib.auth.models import User
    from django.test import Client

    from reports.services import trends_compute_week
    from reports.weeks import Week

    for offset in range(WEEKS - 1, 0, -1):  # the sparklines' history
        trends_compute_week(week=Week(WEEK_START - timedelta(weeks=offset)))
    anchor = [
        timed(lambda: harness.sql(DATABASE_URL, "SELECT count(*) FROM triage_occurrence"))
        for _ in range(RUNS)
    ]
    week = [timed(lambda: trends_compute_week(week=Week(WEEK_START))) for _ in range(RUNS)]
    client = Client()
    client.force_login(User.objects.get_or_create(username="bench-reader")[0])
    url = f"/reports/weekly/{Week(WEEK_START).name}/"
    assert client.get(url).status_code == 200
    page = [timed(lambda: client.get(url)) for _ in range(max(RUNS, 20))]
    return {
        "anchor_s": statistics.median(anchor),
        "week_s": statistics.median(week),
        "page_ms": statistics.median(page) * 1000,
        "page_p95_ms": sorted(page)[int(len(page) * 0.95) - 1] * 1000,
    }


def timed(work):
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def report(figures):
    per_million = figures["week_s"] / (OCCURRENCES / 1e6)
    print(
        f"\nWeekly trends over {OCCURRENCES:,} occurrences, {SERVICES} services,"
        f" {SERVICES * ITEMS_PER_SERVICE:,} items"
        f" (medians of {RUNS} runs)"
    )
    print(f"  anchor: SELECT count(*) over the occurrences  {figures['anchor_s']:.3f} s")
    print(
        f"  compute one week                            {figures['week_s']:.3f} s"
        f"  ({per_million:.3f} s per million occurrences; {figures['week_s'] / figures['anchor_s']:.1f}× the"
        " anchor;"
        f" goal < {GOAL_WEEK_S:.0f} s)"
    )
    print(
        f"  report page, server time                    {figures['page_ms']:.1f} ms median,"
        f" {figures['page_p95_ms']:.1f} ms p95 (goal < {GOAL_PAGE_MS} ms)"
    )


if __name__ == "__main__":
    main()
