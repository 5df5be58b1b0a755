"""Webhook intake: how many signed Sentry deliveries per second the portal stores and enqueues.

gunicorn (2 sync workers) + PostgreSQL + Redis, loaded by wrk over 16 connections with
~3 KB signed webhooks (tests/fixtures/sentry/integration-error-created.json, compact JSON,
each with its own event id). Every figure is printed beside anchors measured in the same
run, on the same kind of server, behind the same middleware (bench/anchors.py):

- a bare Django view answering "ok": the ceiling of this stack on this machine;
- a view that parses the same JSON and does one INSERT: the least that storing a request
  costs. The goal: an intake at 0.9 of its rate or better, with p99 within 1.5 × its p99;
- the same view with CONN_MAX_AGE=0: what reconnecting to PostgreSQL per request costs.

The scenarios take turns, round after round, so that other load on the machine falls on
all of them alike. Then real Celery workers (prefork) drain, each beside the intake rate:

- what the intake stored (events on 50 known issues), with 2 processes. Goal: ≥ 1 × intake;
- a burst of issue.created deliveries for new issues (20,000 by default), with 1 process and
  then another with 2. Goals: 2 processes ≥ 0.5 × intake, and ≥ 1.7 × what 1 process drains.

Last, a few deliveries are stored and processed in-process to count their SQL.

Environment: BENCH_SECONDS measured per scenario (default 10), split over BENCH_ROUNDS
rounds (default 5); BENCH_DRAIN_TIMEOUT bounds each drain (default 120 s); BENCH_NEW_ISSUES
the burst of new issues (default 20,000); BENCH_DATABASE_URL and BENCH_BROKER_URL where it
runs (default the triage_bench database and Redis database 14: both are emptied).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/ingest.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from psycopg.conninfo import conninfo_to_dict

from bench import harness
from integrations.sentry_auth import sign
from tests.helpers import FIXTURES, WEBHOOK_URL, compact

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SEGMENT_SECONDS = max(1, SECONDS // ROUNDS)  # wrk takes whole seconds
WARMUP_SECONDS = 2  # fills connection pools and warms imports before anything is counted
DRAIN_TIMEOUT = float(os.environ.get("BENCH_DRAIN_TIMEOUT", "120"))
NEW_ISSUES = int(os.environ.get("BENCH_NEW_ISSUES", "20000"))
CONNECTIONS = 16
GUNICORN_WORKERS = WORKER_CONCURRENCY = 2
GOAL_RATIO, GOAL_P99_OF_ANCHOR = 0.9, 1.5  # the intake's rate and p99 beside the one-INSERT view's
# The drains, as multiples of the intake rate; and what a second worker process must add.
GOAL_NEW_ISSUES, GOAL_EVENTS, GOAL_SCALING = 0.5, 1.0, 1.7

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/triage_bench")
BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14")
CLIENT_SECRET = "bench-secret"
FIXTURE, RESOURCE = FIXTURES / "integration-error-created.json", "error"
# Real traffic brings many events per issue: the worker mostly updates an existing item.
ISSUES = 50
FIRST_ISSUE_ID = 1170820242
NEW_ISSUE_FIXTURE = FIXTURES / "integration-issue-created.json"
FIRST_NEW_ISSUE_ID = 3 * 10**9  # far from the events' issues and from those the SQL counts create
# Event ids per wrk run: past this rate bodies (and event ids) would repeat,
# and the worker would count the repeats as duplicates.
MAX_RATE = 3000
EVENTS_PER_RUN = MAX_RATE * max(SEGMENT_SECONDS, WARMUP_SECONDS)

BARE_PATH, INSERT_PATH = "/bench/ok/", "/bench/insert/"
CREATE_ANCHOR_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_anchor "
    "(id bigserial PRIMARY KEY, body jsonb, received_at timestamptz DEFAULT now())"
)
SCENARIOS = {
    "bare": 'bare Django view ("ok")',
    "insert": "JSON parse + 1 INSERT",
    "intake": "webhook intake (verify, store, enqueue)",
    "insert_reconnecting": "JSON parse + 1 INSERT, CONN_MAX_AGE=0",
}


def main():
    harness.stop_on_sigterm()
    check_prerequisites()
    busy_before, load_before = harness.machine_busy_percent(), harness.load_average()
    prepare_database()
    harness.flush_redis(BROKER_URL)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as workdir:
            runs = measure_web(Path(workdir))
        intake_rate = runs["intake"]["per_second"]
        drains = {"events": measure_worker(intake_rate), **measure_new_issues(intake_rate)}
        queries = measure_queries()
    finally:
        harness.flush_redis(BROKER_URL)  # counting queries enqueued tasks that no worker will run
    results = assemble(
        runs, drains, queries, {"busy_percent_before": busy_before, "load_before": load_before}
    )
    print_report(results)
    print(f"\nResults: {harness.save_results('ingest', results).relative_to(harness.ROOT)}")


# --- Setup ------------------------------------------------------------------------------------


def portal_env(**overrides):
    """The environment of every portal process: production settings, plus the anchors' URLs."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "not-a-secret-" * 4,
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "SENTRY_CLIENT_SECRET": CLIENT_SECRET,
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


def check_prerequisites():
    if conninfo_to_dict(DATABASE_URL)["dbname"].startswith("test_"):
        raise harness.BenchError(
            f"{DATABASE_URL} looks like a test database, and the bench empties its database"
        )
    harness.require_wrk()
    harness.require_port("127.0.0.1", 5432, "PostgreSQL")
    harness.require_port("127.0.0.1", 6379, "Redis")


def prepare_database():
    """Migrated and empty: rows left by an earlier run would change what the worker does."""
    harness.create_database_if_missing(DATABASE_URL)
    manage("migrate", "--no-input")
    manage("flush", "--no-input")
    harness.sql(DATABASE_URL, CREATE_ANCHOR_TABLE)
    harness.sql(DATABASE_URL, "TRUNCATE bench_anchor")


def manage(*args):
    command = [sys.executable, "manage.py", *args]
    done = subprocess.run(
        command, cwd=harness.ROOT, env=portal_env(), capture_output=True, text=True, timeout=180, check=False
    )
    if done.returncode:
        raise harness.BenchError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


def write_signed_requests(path, *, count, first):
    """`count` webhooks with distinct event ids, signed now, one wrk request per line."""
    payload = json.loads(FIXTURE.read_text())
    timestamp = str(int(time.time()))  # the portal refuses timestamps over 5 minutes off
    with open(path, "w") as out:
        for index in range(first, first + count):
            body = compact(with_event_id(payload, index))
            out.write(f"{RESOURCE} {sign(body, CLIENT_SECRET)} {timestamp} bench-{index} {body.decode()}\n")
    return path


def with_event_id(payload, index, issue_id=None):
    """The payload as event `index`, by default of one of ISSUES issues (changed in place: dump it at
    once)."""
    event_id, issue_id = f"{index:032x}", issue_id or str(FIRST_ISSUE_ID + index % ISSUES)
    payload["data"]["error"].update(
        event_id=event_id,
        issue_id=issue_id,
        issue_url=f"https://sentry.io/api/0/issues/{issue_id}/",
        url=f"https://sentry.io/api/0/projects/test-org/front-end/events/{event_id}/",
        web_url=f"https://sentry.io/organizations/test-org/issues/{issue_id}/events/{event_id}/",
    )
    return payload


# --- Web: anchors and intake, in rounds --------------------------------------------------------


@dataclass(frozen=True)
class Target:
    server: harness.Server
    path: str
    requests_for: Callable[[int], Path]  # run number -> the file of requests for that wrk run


def measure_web(workdir):
    anchor_requests = write_signed_requests(workdir / "anchor.txt", count=2000, first=0)
    reconnecting_env = portal_env(BENCH_CONN_MAX_AGE="0")
    with (
        harness.gunicorn(
            "gunicorn", portal_env(), ready_path=BARE_PATH, workers=GUNICORN_WORKERS
        ) as persistent,
        harness.gunicorn(
            "gunicorn-conn-max-age-0", reconnecting_env, ready_path=BARE_PATH, workers=GUNICORN_WORKERS
        ) as reconnecting,
    ):
        targets = {
            "bare": Target(persistent, BARE_PATH, lambda run: anchor_requests),
            "insert": Target(persistent, INSERT_PATH, lambda run: anchor_requests),
            "intake": Target(persistent, WEBHOOK_URL, lambda run: intake_requests(workdir, run)),
            "insert_reconnecting": Target(reconnecting, INSERT_PATH, lambda run: anchor_requests),
        }
        warm_up(targets)
        segments = run_rounds(targets)
    return {name: combine(runs) for name, runs in segments.items()}


def intake_requests(workdir, run):
    """Fresh signatures and event ids for each run: every stored delivery is new work for the worker."""
    path = workdir / f"intake-{run}.txt"
    return write_signed_requests(path, count=EVENTS_PER_RUN, first=run * EVENTS_PER_RUN)


def warm_up(targets):
    print(f"  warm-up: {WARMUP_SECONDS} s per scenario", flush=True)
    for target in targets.values():
        wrk(target, seconds=WARMUP_SECONDS, run=0)


def run_rounds(targets):
    """ROUNDS turns of SEGMENT_SECONDS per scenario; every other round in reverse order."""
    segments = {name: [] for name in targets}
    for run in range(1, ROUNDS + 1):
        order = list(targets) if run % 2 else list(reversed(targets))
        for name in order:
            segments[name].append(wrk(targets[name], seconds=SEGMENT_SECONDS, run=run))
        rates = ", ".join(f"{name} {segments[name][-1]['per_second']:,.0f}/s" for name in targets)
        print(f"  round {run}/{ROUNDS}: {rates}", flush=True)
    return segments


def wrk(target, *, seconds, run):
    url = target.server.url + target.path
    return harness.wrk(
        url, target.requests_for(run), seconds=seconds, connections=CONNECTIONS, server=target.server
    )


def combine(segments):
    """The rate over all rounds; latency and CPU as the median round's; errors summed."""

    def total(key):
        return sum(segment[key] for segment in segments)

    def median(key):
        return statistics.median(segment[key] for segment in segments)

    return {
        "per_second": round(total("requests") / total("seconds"), 1),
        "requests": total("requests"),
        "seconds": round(total("seconds"), 2),
        "p50_ms": median("p50_ms"),
        "p99_ms": median("p99_ms"),
        "max_ms": max(segment["max_ms"] for segment in segments),
        "server_cpu_ms_per_request": median("server_cpu_ms_per_request"),
        "other_cpu_percent": median("other_cpu_percent"),
        "errors": dict(sum((Counter(segment["errors"]) for segment in segments), Counter())),
        "rounds": segments,
    }


# --- Worker -------------------------------------------------------------------------------


def measure_worker(intake_rate, *, concurrency=WORKER_CONCURRENCY, name="celery-worker"):
    """Deliveries/s of a real worker draining the backlog, timed from its first finished delivery."""
    with harness.connect(DATABASE_URL) as db:  # one session, so that new sessions are the worker's
        backlog, sessions_before, statuses_before = (
            pending_count(db),
            postgres_sessions(db),
            status_counts(db),
        )
        print(
            f"  {name} ({concurrency} processes): draining {backlog:,} deliveries "
            f"(at most {DRAIN_TIMEOUT:.0f} s)",
            flush=True,
        )
        seconds, processed, left, cpu = drain(db, backlog, concurrency=concurrency, name=name)
        new_sessions = postgres_sessions(db) - sessions_before
        statuses = dict(Counter(status_counts(db)) - Counter(statuses_before))
    per_second = processed / seconds
    return {
        "processes": concurrency,
        "backlog": backlog,
        "seconds": round(seconds, 2),
        "per_second": round(per_second, 1),
        "drained": left == 0,
        "left": left,
        "of_intake_rate": round(per_second / intake_rate, 2),
        "statuses": statuses,
        "connections_per_delivery": round(new_sessions / max(backlog - left, 1), 2),
        "worker_cpu_ms_per_delivery": cpu.ms_each,
        "other_cpu_percent": cpu.other_percent,
        "load_average_after": harness.load_average(),
    }


def measure_new_issues(intake_rate):
    """A burst of NEW_ISSUES issue.created deliveries for issues never seen, drained by 1 process, then
    another by 2."""
    setup_django()
    drains = {}
    for run, concurrency in enumerate((1, 2)):
        store_new_issues(first=FIRST_NEW_ISSUE_ID + run * NEW_ISSUES, count=NEW_ISSUES)
        drains[f"new_issues_{concurrency}"] = measure_worker(
            intake_rate, concurrency=concurrency, name=f"celery-worker-new-issues-{concurrency}"
        )
    return drains


def store_new_issues(*, first, count):
    """As the intake stores them, in one transaction: its commit wakes one drain, which waits for the
    worker."""
    from django.db import transaction

    print(f"  storing {count:,} issue.created deliveries of new issues", flush=True)
    with transaction.atomic():
        for issue_id in range(first, first + count):
            store_issue_created(issue_id)


def store_issue_created(issue_id):
    from integrations import services
    from integrations.sentry_payloads import parse_body, parse_envelope

    payload = json.loads(NEW_ISSUE_FIXTURE.read_text())
    payload["data"]["issue"].update(id=str(issue_id), shortId=f"FRONT-END-{issue_id}")
    body = compact(payload)
    return services.delivery_receive(
        source="sentry", headers={}, body=body, envelope=parse_envelope("issue", parse_body(body))
    )


def drain(db, backlog, *, concurrency, name):
    """Run a worker until nothing is pending: (seconds, deliveries processed, deliveries left, CPU use)."""
    with harness.celery_worker(portal_env(), concurrency=concurrency, name=name) as worker:
        harness.wait_until(
            lambda: pending_count(db) < backlog, timeout=30, what="the worker's first delivery"
        )
        started, pending_at_start, cpu_before = time.monotonic(), pending_count(db), harness.cpu_snapshot()
        left = wait_for_drain(db, deadline=started + DRAIN_TIMEOUT)
        processed = pending_at_start - left
        cpu = harness.cpu_use(cpu_before, harness.cpu_snapshot(), process_group=worker.pid, count=processed)
        return time.monotonic() - started, processed, left, cpu


def wait_for_drain(db, *, deadline):
    """Poll until no delivery is pending or the deadline passes; returns how many are still pending."""
    while (pending := pending_count(db)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return pending


def pending_count(db):
    return db.execute(
        "SELECT count(*) FROM integrations_webhookdelivery WHERE status = 'pending'"
    ).fetchone()[0]


def status_counts(db):
    query = "SELECT status, count(*) FROM integrations_webhookdelivery GROUP BY status ORDER BY 2 DESC"
    return dict(db.execute(query).fetchall())


def postgres_sessions(db):
    """Sessions ever opened on the bench database: PostgreSQL counts them in pg_stat_database."""
    query = "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
    return db.execute(query).fetchone()[0]


# --- Queries per delivery ------------------------------------------------------------------


def measure_queries(samples=10):
    """SQL statements (and wall time) to store and to process one delivery, in this process."""
    setup_django()
    known_issue = [queries_for(10**9 + n) for n in range(samples)]
    new_issue = [queries_for(10**9 + samples + n, issue_id=f"9{n:09d}") for n in range(samples)]
    return {
        "store": summarize([store for store, _, _ in known_issue]),
        "process_known_issue": summarize([process for _, process, _ in known_issue], known_issue),
        "process_new_issue": summarize([process for _, process, _ in new_issue], new_issue),
        "process_batch": batch_queries(lambda n: store_event(2 * 10**9 + n)),
        "process_batch_new_issues": batch_queries(lambda n: store_issue_created(4 * 10**9 + n)),
    }


def batch_queries(store):
    """Statements per delivery when the drain applies a batch: events spread over the ISSUES issues, or new
    issues."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations import drain, services

    ids = [store(n) for n in range(drain.BATCH)]
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as processing:
        services.deliveries_process(delivery_ids=ids)
    seconds = time.perf_counter() - started
    kinds = Counter(query["sql"].split(None, 1)[0].upper() for query in processing.captured_queries)
    return {
        "average": len(processing) / len(ids),
        "by_kind": dict(kinds.most_common()),
        "median_ms": round(seconds * 1000 / len(ids), 2),
        "batch": len(ids),
    }


def store_event(index):
    from integrations import services
    from integrations.sentry_payloads import parse_body, parse_envelope

    body = compact(with_event_id(json.loads(FIXTURE.read_text()), index))
    envelope = parse_envelope(RESOURCE, parse_body(body))
    return services.delivery_receive(source="sentry", headers={}, body=body, envelope=envelope)


def setup_django():
    import django
    from django.apps import apps

    if not apps.ready:
        os.environ.update(portal_env())
        django.setup()


def queries_for(index, issue_id=None):
    """The SQL of storing then processing one event as the view and the worker do, and the processing time."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations import services
    from integrations.sentry_payloads import parse_body, parse_envelope

    body = compact(with_event_id(json.loads(FIXTURE.read_text()), index, issue_id))
    envelope = parse_envelope(RESOURCE, parse_body(body))
    with CaptureQueriesContext(connection) as receiving:
        delivery_id = services.delivery_receive(source="sentry", headers={}, body=body, envelope=envelope)
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as processing:
        services.delivery_process(delivery_id=delivery_id)
    return receiving.captured_queries, processing.captured_queries, time.perf_counter() - started


def summarize(samples, timed=()):
    """Average statement count, the statements of one sample by kind (SELECT, UPDATE, ...), median time."""
    kinds = Counter(query["sql"].split(None, 1)[0].upper() for query in samples[0])
    summary = {"average": sum(map(len, samples)) / len(samples), "by_kind": dict(kinds.most_common())}
    if timed:
        summary["median_ms"] = round(statistics.median(seconds for *_, seconds in timed) * 1000, 2)
    return summary


# --- Results ------------------------------------------------------------------------------------


def assemble(runs, drains, queries, load):
    return {
        "bench": "ingest",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {**harness.machine(DATABASE_URL), **load, "load_after": harness.load_average()},
        "config": config(),
        "runs": runs,
        "goal": goal(runs),
        "drains": drains,
        "drain_goal": drain_goal(drains),
        "queries_per_delivery": queries,
    }


def goal(runs):
    """The issue's goal. The ratio is the median of the rounds' ratios: in every round the intake
    and the one-INSERT view run back to back, so each pair saw about the same machine."""
    intake, insert = runs["intake"], runs["insert"]
    per_round = [
        i["per_second"] / a["per_second"] for i, a in zip(intake["rounds"], insert["rounds"], strict=True)
    ]
    ratio = statistics.median(per_round)
    result = {
        "ratio": round(ratio, 2),
        "ratio_per_round": [round(r, 2) for r in per_round],
        "ratio_of_totals": round(intake["per_second"] / insert["per_second"], 2),
        "ratio_ok": ratio >= GOAL_RATIO,
        "p99_ms": intake["p99_ms"],
        "anchor_p99_ms": insert["p99_ms"],
        "p99_ok": intake["p99_ms"] <= GOAL_P99_OF_ANCHOR * insert["p99_ms"],
    }
    return {**result, "met": result["ratio_ok"] and result["p99_ok"]}


def drain_goal(drains):
    """The worker's goals: each drain as a multiple of the intake rate, and what the second process adds."""
    new, events = drains["new_issues_2"]["of_intake_rate"], drains["events"]["of_intake_rate"]
    scaling = drains["new_issues_2"]["per_second"] / max(drains["new_issues_1"]["per_second"], 0.1)
    result = {
        "new_issues": new,
        "new_issues_ok": new >= GOAL_NEW_ISSUES,
        "events": events,
        "events_ok": events >= GOAL_EVENTS,
        "scaling": round(scaling, 2),
        "scaling_ok": scaling >= GOAL_SCALING,
    }
    return {**result, "met": result["new_issues_ok"] and result["events_ok"] and result["scaling_ok"]}


def config():
    body = compact(with_event_id(json.loads(FIXTURE.read_text()), 0))
    return {
        "seconds_per_scenario": SEGMENT_SECONDS * ROUNDS,
        "rounds": ROUNDS,
        "warmup_seconds": WARMUP_SECONDS,
        "connections": CONNECTIONS,
        "wrk_threads": harness.WRK_THREADS,
        "gunicorn_workers": GUNICORN_WORKERS,
        "worker_concurrency": WORKER_CONCURRENCY,
        "body_bytes": len(body),
        "fixture": FIXTURE.name,
        "issues": ISSUES,
        "new_issues": NEW_ISSUES,
    }


def print_report(results):
    print_header(results["machine"], results["config"])
    print_runs(results["runs"])
    print_goal(results["goal"])
    print_drains(results["drains"], results["runs"]["intake"]["per_second"])
    print_drain_goal(results["drain_goal"], results["machine"])
    print_queries(results["queries_per_delivery"])


def print_header(machine, config):
    print(
        f"\nWebhook intake · {machine['cores']} cores ({machine['cpu']}) · {machine['system']} · "
        f"Python {machine['python']} · Django {machine['django']} · PostgreSQL {machine['postgresql']}"
    )
    print(
        f"gunicorn {config['gunicorn_workers']} sync workers · wrk {config['wrk_threads']} threads, "
        f"{config['connections']} connections · {config['seconds_per_scenario']} s per scenario in "
        f"{config['rounds']} rounds · {config['body_bytes']:,}-byte signed bodies ({config['fixture']})"
    )
    busy = machine["busy_percent_before"]
    note = "  ← the machine was not idle: rates are noisy, CPU/request is steadier" if busy > 10 else ""
    print(f"CPU busy before the bench: {busy:.0f}%, load average {_load(machine['load_before'])}{note}\n")


def print_runs(runs):
    print(f"  {'':42}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'CPU ms/req':>12}{'other CPU':>11}   errors")
    for name, label in SCENARIOS.items():
        run = runs[name]
        errors = ", ".join(f"{kind} {count}" for kind, count in run["errors"].items()) or "0"
        print(
            f"  {label:42}{run['per_second']:>7,.0f}{run['p50_ms']:>8.1f}{run['p99_ms']:>8.1f}"
            f"{run['server_cpu_ms_per_request']:>12.2f}{run['other_cpu_percent']:>10.0f}%   {errors}"
        )
    print(
        "  (CPU ms/req: gunicorn's processes per request. other CPU: share of the machine taken by\n"
        "   processes outside the bench meanwhile. Latencies and CPU: median round.)"
    )
    if any(run["errors"] for run in runs.values()):
        logs = harness.LOG_DIR.relative_to(harness.ROOT)
        print(f"  ! some requests failed: those rates are not comparable; see the server logs in {logs}/")


def print_goal(goal):
    rounds = " ".join(f"{ratio:.2f}" for ratio in goal["ratio_per_round"])
    print(f"\nGoal: intake ≥ {GOAL_RATIO} × the one-INSERT view's rate, p99 ≤ {GOAL_P99_OF_ANCHOR} × its p99")
    print(
        f"  intake / one-INSERT view   {goal['ratio']:>6.2f}      {_ok(goal['ratio_ok'])}   "
        f"(median of rounds {rounds}; of the totals: {goal['ratio_of_totals']:.2f})"
    )
    print(
        f"  intake p99                 {goal['p99_ms']:>6.1f} ms   {_ok(goal['p99_ok'])}   "
        f"(the one-INSERT view's: {goal['anchor_p99_ms']:.1f} ms,"
        f" {goal['p99_ms'] / goal['anchor_p99_ms']:.2f} ×)"
    )
    print(f"  => {'goal met' if goal['met'] else 'GOAL NOT MET'}")


DRAIN_LABELS = {
    "events": "events on known issues",
    "new_issues_1": "new issues (issue.created)",
    "new_issues_2": "new issues (issue.created)",
}


def print_drains(drains, intake_rate):
    print(
        f"\nWorker (celery prefork): deliveries drained per second, beside the intake's {intake_rate:,.0f}/s"
    )
    print(
        f"  {'':28}{'processes':>10}{'backlog':>9}{'seconds':>9}{'per s':>8}{'× intake':>10}"
        f"{'CPU ms/delivery':>17}{'other CPU':>11}   load avg after"
    )
    for key, label in DRAIN_LABELS.items():
        run = drains[key]
        seconds = f"{run['seconds']:.1f}" if run["drained"] else f"{run['seconds']:.0f}!"
        print(
            f"  {label:28}{run['processes']:>10}{run['backlog']:>9,}{seconds:>9}{run['per_second']:>8,.0f}"
            f"{run['of_intake_rate']:>10.2f}{run['worker_cpu_ms_per_delivery']:>17.2f}"
            f"{run['other_cpu_percent']:>10.0f}%   {_load(run['load_average_after'])}"
        )
    print("  (timed from the first processed delivery; ! = not drained within the timeout: the rate so far)")
    for key, run in drains.items():
        if set(run["statuses"]) - {"processed"}:
            print(
                f"  ! {key}: " + ", ".join(f"{status} {count:,}" for status, count in run["statuses"].items())
            )
    print(
        "  PostgreSQL connections opened per delivery (events):"
        f" {drains['events']['connections_per_delivery']:.2f}"
        "   (1.00 = a new connection for every task)"
    )


def print_drain_goal(goal, machine):
    print(
        f"\nGoal: new issues ≥ {GOAL_NEW_ISSUES} × intake, events ≥ {GOAL_EVENTS:g} × intake, "
        f"2 processes ≥ {GOAL_SCALING} × 1 process (new issues)"
    )
    print(f"  new issues (2 processes) / intake   {goal['new_issues']:>6.2f}   {_ok(goal['new_issues_ok'])}")
    print(f"  events (2 processes) / intake       {goal['events']:>6.2f}   {_ok(goal['events_ok'])}")
    print(f"  new issues, 2 processes / 1         {goal['scaling']:>6.2f}   {_ok(goal['scaling_ok'])}")
    print(
        f"  => {'goal met' if goal['met'] else 'GOAL NOT MET'}   (load average before"
        f" {_load(machine['load_before'])}, "
        f"after {_load(machine['load_after'])}, on {machine['cores']} cores)"
    )


def _load(averages):
    return " / ".join(f"{load:.2f}" for load in averages)


def print_queries(queries):
    print(
        "\nSQL statements per delivery (transactions and savepoints included), in-process, without Celery;"
        " time per delivery"
    )
    labels = {
        "store": "intake (store)",
        "process_known_issue": "alone (a replay), known issue",
        "process_new_issue": "alone (a replay), new issue",
        "process_batch": f"in a batch of {queries['process_batch']['batch']} (the drain)",
        "process_batch_new_issues": f"new issues, a batch of {queries['process_batch_new_issues']['batch']}",
    }
    for key, label in labels.items():
        kinds = ", ".join(
            f"{kind} {count / queries[key].get('batch', 1):.2g}"
            for kind, count in queries[key]["by_kind"].items()
        )
        took = f"{queries[key]['median_ms']:>6.1f} ms" if "median_ms" in queries[key] else " " * 9
        print(f"  {label:32}{queries[key]['average']:>6.1f} {took}   {kinds}")


def _ok(passed):
    return "ok" if passed else "MISSED"


if __name__ == "__main__":
    try:
        main()
    except harness.BenchError as exc:
        sys.exit(f"bench/ingest.py: {exc}")
    except KeyboardInterrupt:
        print("bench/ingest.py: interrupted (its servers and workers are stopped)", file=sys.stderr)
        sys.exit(130)
