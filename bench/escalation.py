"""Data fixes: creation-to-notification latency through a real worker, and the escalation scan at 100,000
requests.

1. Latency. A real Celery worker (prefork, Redis broker) sends the signed webhook of each new request to a
   local HTTP server in this process. From just before `datafix_create` to the server's receipt: p50/p95
   over BENCH_ESCALATION_REQUESTS requests filed one by one. Anchor: the same POST sent straight from this
   process to the same server (what the transport alone costs).
2. The beat scan. 100,000 open (requested, not yet due) requests in PostgreSQL, then: a scan with nothing
   due (what beat pays every minute), and a scan with a full batch of 500 due. Time and query count of
   each, the plan of the due-rows query (it must use the partial index), beside an anchor: a primary-key
   SELECT of one request.

Database `triage_bench_escalation` (created if missing, loaded with INSERT … SELECT generate_series and reused
while its size matches), Redis db 12. Results go to bench/results/escalation-<time>.json.
Run: `.venv/bin/python bench/escalation.py`. Environment: BENCH_ESCALATION_REQUESTS (default 200),
BENCH_ESCALATION_OPEN (default 100000), BENCH_ESCALATION_RUNS (default 5).
"""

import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/escalation.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from bench import harness

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/triage_bench_escalation"
BROKER_URL = "redis://127.0.0.1:6379/12"
REQUESTS = int(os.environ.get("BENCH_ESCALATION_REQUESTS", "200"))
OPEN = int(os.environ.get("BENCH_ESCALATION_OPEN", "100000"))
RUNS = int(os.environ.get("BENCH_ESCALATION_RUNS", "5"))
DUE = 500  # one full batch of the scan
SECRET = "bench-escalation-secret"


class Receiver(BaseHTTPRequestHandler):
    """Records when each request's notification arrived, by the request id in the body."""

    arrivals: dict = {}

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        arrived = time.time()
        request_id = json.loads(body).get("request", {}).get("id") if body else None
        self.arrivals[request_id] = arrived
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def main():
    harness.stop_on_sigterm()
    harness.require_port("127.0.0.1", 5432, "PostgreSQL")
    harness.require_port("127.0.0.1", 6379, "Redis")
    busy_before = harness.machine_busy_percent()
    harness.create_database_if_missing(DATABASE_URL)
    server = ThreadingHTTPServer(("127.0.0.1", harness.free_port()), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{server.server_port}/hook"
    with tempfile.TemporaryDirectory(prefix="bench-escalation-") as var_dir:
        env = portal_env(var_dir, hook_url)
        setup_django(env)
        figures = {"latency": measure_latency(env, hook_url), "scan": measure_scan()}
    server.shutdown()
    report(figures)
    results = {
        "bench": "escalation",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**harness.machine(DATABASE_URL), "busy_percent_before": busy_before},
        "data": {"requests_filed": REQUESTS, "open_requests": OPEN, "due_per_scan": DUE, "runs": RUNS},
        **figures,
    }
    print(f"\nMachine busy before the bench: {busy_before}% (a shared machine: figures vary from run to run)")
    print(f"Results: {harness.save_results('escalation', results).relative_to(harness.ROOT)}")


def portal_env(var_dir, hook_url):
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "not-a-secret-" * 4,
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "TRIAGE_VAR_DIR": var_dir,
        "LOG_LEVEL": "WARNING",
        "OPS_WEBHOOK_URL": hook_url,
        "OPS_WEBHOOK_SECRET": SECRET,
        "OPS_SLACK_WEBHOOK_URL": "",
        "PYTHONUNBUFFERED": "1",
    }


def setup_django(env):
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


# --- Latency ---------------------------------------------------------------------------------


def measure_latency(env, hook_url):
    from ops.models import DataFixRequest

    item, user = bench_item_and_user()
    DataFixRequest.objects.filter(item=item).delete()
    harness.flush_redis(BROKER_URL)
    anchor = [_direct_post(hook_url) for _ in range(REQUESTS)]
    with harness.celery_worker(env, concurrency=2):
        _file_and_wait(item, user)  # warm-up: the pool's first task pays for imports and connections
        Receiver.arrivals.clear()
        created = dict(_file_and_wait(item, user) for _ in range(REQUESTS))
    delays = [(Receiver.arrivals[pk] - at) * 1000 for pk, at in created.items()]
    return {"create_to_received_ms": _percentiles(delays), "anchor_direct_post_ms": _percentiles(anchor)}


def bench_item_and_user():
    from django.contrib.auth.models import User
    from django.utils import timezone

    from triage.models import Service, Team, TriageItem

    team, _ = Team.objects.get_or_create(slug="bench-team", defaults={"name": "Bench team"})
    user, _ = User.objects.get_or_create(username="bench-dev")
    team.members.add(user)
    service, _ = Service.objects.get_or_create(slug="bench-svc", defaults={"name": "Bench service"})
    now = timezone.now()
    item, _ = TriageItem.objects.get_or_create(
        sentry_issue_id="bench-escalation",
        defaults={
            "title": "LedgerError: invoice unbalanced",
            "service": service,
            "team": team,
            "first_seen": now,
            "last_seen": now,
            "classification": "data_fix",
            "status": "triaged",
        },
    )
    return item, user


def _file_and_wait(item, user):
    from ops import services

    started = time.time()
    fix = services.datafix_create(item=item, user=user, description="bench", urgency="high")
    harness.wait_until(
        lambda: fix.pk in Receiver.arrivals, timeout=30, what=f"the notification of request {fix.pk}"
    )
    return fix.pk, started


def _direct_post(url):
    started = time.perf_counter()
    requests.post(url, json={"request": {"id": None}}, timeout=5)
    return (time.perf_counter() - started) * 1000


# --- The scan --------------------------------------------------------------------------------


def measure_scan():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ops.escalation import escalation_scan

    ensure_open_requests()
    empty, empty_queries = _timed_scans(escalation_scan, CaptureQueriesContext, connection, due=0)
    full, full_queries = _timed_scans(escalation_scan, CaptureQueriesContext, connection, due=DUE)
    harness.flush_redis(BROKER_URL)  # the scans enqueued notifications no worker will send
    return {
        "open_requests": OPEN,
        "nothing_due_ms": _percentiles(empty),
        "nothing_due_queries": empty_queries,
        f"{DUE}_due_ms": _percentiles(full),
        f"{DUE}_due_queries": full_queries,
        "due_rows_plan": _due_plan(),
        "anchor_pk_select_ms": _percentiles(_pk_selects()),
    }


def ensure_open_requests():
    count = harness.sql(
        DATABASE_URL, "SELECT count(*) FROM ops_datafixrequest WHERE description = 'bench-open'"
    )[0][0]
    if count == OPEN:
        print(f"Reusing {OPEN:,} open requests")
        return
    started = time.perf_counter()
    with harness.connect(DATABASE_URL) as conn:
        conn.execute("DELETE FROM ops_datafixrequest WHERE description = 'bench-open'")
        conn.execute(
            "INSERT INTO ops_datafixrequest (item_id, description, environment, customer, tenant,"
            " runbook_section,"
            " urgency, parameters, state, result, created_at, due_at, escalation_level, next_escalation_at,"
            " requested_by_id)"
            " SELECT (SELECT id FROM triage_triageitem WHERE sentry_issue_id = 'bench-escalation'),"
            " 'bench-open',"
            " 'production', '', '', '', (ARRAY['high','normal','low'])[1 + mod(g, 3)], '{}', 'requested', '',"
            " now(), now() + interval '1 day' + g * interval '1 second', 0,"
            " now() + interval '1 day' + g * interval '1 second', NULL FROM generate_series(1, %(n)s) g",
            {"n": OPEN},
        )
        conn.execute("ANALYZE ops_datafixrequest")
    print(f"Loaded {OPEN:,} open requests in {time.perf_counter() - started:.1f} s")


def _timed_scans(scan, capture, connection, *, due):
    times, queries = [], 0
    for _ in range(RUNS):
        _make_due(due)
        with capture(connection) as captured:
            started = time.perf_counter()
            escalated = scan()
            times.append((time.perf_counter() - started) * 1000)
        if escalated != due:
            raise harness.BenchError(f"the scan escalated {escalated} requests, expected {due}")
        queries = len(captured.captured_queries)
    return times, queries


def _make_due(count):
    """Put `count` open requests back to due, unescalated, with nothing planned for them yet."""
    with harness.connect(DATABASE_URL) as conn:
        conn.execute("DELETE FROM ops_notification WHERE event = 'escalated'")
        conn.execute("DELETE FROM ops_datafixevent WHERE verb = 'escalated'")
        conn.execute(
            "UPDATE ops_datafixrequest SET escalation_level = 0, next_escalation_at = due_at"
            " WHERE description = 'bench-open' AND escalation_level > 0"
        )
        conn.execute(
            "UPDATE ops_datafixrequest SET next_escalation_at = now() - interval '1 minute' WHERE id IN"
            " (SELECT id FROM ops_datafixrequest WHERE description = 'bench-open' ORDER BY id LIMIT %s)",
            [count],
        )


def _due_plan():
    rows = harness.sql(
        DATABASE_URL,
        "EXPLAIN SELECT id FROM ops_datafixrequest WHERE state = 'requested'"
        " AND next_escalation_at <= now() ORDER BY next_escalation_at LIMIT 500",
    )
    return [row[0] for row in rows]


def _pk_selects():
    from ops.models import DataFixRequest

    pk = DataFixRequest.objects.values_list("pk", flat=True).first()
    times = []
    for _ in range(200):
        started = time.perf_counter()
        DataFixRequest.objects.filter(pk=pk).first()
        times.append((time.perf_counter() - started) * 1000)
    return times


# --- Report ----------------------------------------------------------------------------------


def _percentiles(values):
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
        "n": len(ordered),
    }


def report(figures):
    latency, scan = figures["latency"], figures["scan"]
    print("\nCreation → notification received (real worker, Redis broker, local HTTP server):")
    print(
        f"  data fix filed → webhook received  p50 {latency['create_to_received_ms']['p50']:8.1f} ms"
        f"   p95 {latency['create_to_received_ms']['p95']:8.1f} ms"
    )
    print(
        f"  anchor: the same POST sent directly p50 {latency['anchor_direct_post_ms']['p50']:8.1f} ms"
        f"   p95 {latency['anchor_direct_post_ms']['p95']:8.1f} ms"
    )
    print(f"\nEscalation scan with {scan['open_requests']:,} open requests:")
    print(
        f"  nothing due   p50 {scan['nothing_due_ms']['p50']:8.1f} ms   p95"
        f" {scan['nothing_due_ms']['p95']:8.1f} ms"
        f"   {scan['nothing_due_queries']} queries"
    )
    print(
        f"  {DUE} due       p50 {scan[f'{DUE}_due_ms']['p50']:8.1f} ms   p95"
        f" {scan[f'{DUE}_due_ms']['p95']:8.1f} ms"
        f"   {scan[f'{DUE}_due_queries']} queries"
    )
    print(f"  anchor: primary-key SELECT p50 {scan['anchor_pk_select_ms']['p50']:.2f} ms")
    print("  due rows plan: " + " | ".join(line.strip() for line in scan["due_rows_plan"]))


if __name__ == "__main__":
    main()
