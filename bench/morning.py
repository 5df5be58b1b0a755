"""The morning queue at scale: server time per page with 100,000 items and 2,000,000 occurrences.

PostgreSQL database `triage_bench_morning` (created and migrated here). Its data is loaded with
server-side INSERT ... SELECT generate_series (no ORM, no row-by-row), in two steps: the history
up to 4 hours ago, then VACUUM (standing for the last autovacuum), then the last 4 hours of
intake, whose new occurrence pages and updated items are not all-visible yet, as in production
between two autovacuums (index-only scans pay heap fetches there). A later run reuses the data
when its row counts match and it is less than BENCH_MORNING_MAX_AGE_HOURS old (default 24:
sparklines and "new since your last visit" are relative to now); BENCH_MORNING_RELOAD=1 reloads.
The data: 100 services (a few with most items) of 6 teams, statuses mostly new/triaged/in
progress, classifications, owners, regressed and woken items, stacks of 8 to 40 frames,
occurrences over the last 30 days with a skewed spread (the busiest item has ~2% of all events,
the median item ~10), and a dev user (in the dev group and the busiest service's team) with an
API token.

In this process, with the portal's production settings (bench.settings, DEBUG=0, static files
collected into a temporary TRIAGE_VAR_DIR) and Django's test Client, it times each page
BENCH_MORNING_REQUESTS times (default 50; the pages take turns, round after round, so other
load on the machine falls on all of them alike): the queue's default section, every section
tab, a filtered view, a text search, page 20 of all open items, a busy item's page, the API
list and a filtered API list. Beside them, anchors measured in the same rounds through the
same client: the bare view and the JSON + one-INSERT view of bench/anchors.py, and a
`SELECT 1` round trip on the same connection.

For every page: p50/p95/mean, the part spent in SQL, the number of SQL statements, and whether
that number grows with the rows shown (a page of 1 row against a page of 50). Then every
SELECT of every page is run under EXPLAIN ANALYZE: the slow ones are printed with what their
plans read. Goal: p95 under 150 ms per page (server time, in-process: no network, no WSGI server).

BENCH_MORNING_BUDGET bounds the timed rounds (default 150 s; fewer rounds if the pages are slow).
BENCH_MORNING_WHATIF="CREATE INDEX whatif_x ON ...; ..." measures with extra indexes (or extensions)
before anyone writes the migration: they exist for that run only, and are dropped after it.
"""

import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/morning.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

DATABASE_NAME = "triage_bench_morning"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DATABASE_NAME}"
ITEMS, OCCURRENCES = 100_000, 2_000_000
DATA_VERSION = 4  # bump when the shape of the loaded data changes: the next run reloads
MAX_DATA_AGE = timedelta(hours=float(os.environ.get("BENCH_MORNING_MAX_AGE_HOURS", "24")))
REQUESTS = int(os.environ.get("BENCH_MORNING_REQUESTS", "50"))
BUDGET_SECONDS = float(os.environ.get("BENCH_MORNING_BUDGET", "150"))
MIN_REQUESTS = 20
WARMUP_REQUESTS = 2
# Indexes to try before writing a migration, e.g. "CREATE INDEX whatif_a ON triage_triageitem (last_seen
# DESC)";
# several separated by ";". Created for this run only, dropped after it (and at the start of the next run).
WHATIF = [
    statement.strip()
    for statement in os.environ.get("BENCH_MORNING_WHATIF", "").split(";")
    if statement.strip()
]
GOAL_P95_MS = 150
SLOW_QUERY_MS = 10  # queries at least this long are printed with their plans
INTAKE_HOURS = timedelta(hours=4)  # intake since the last autovacuum of the items (see load_recent_intake)
LAST_VISIT_BEFORE_DATA = timedelta(hours=16)  # "new since your last visit": yesterday afternoon

TEAMS = ["payments", "identity", "platform", "growth", "mobile", "data"]
SERVICE_BASES = [
    "checkout",
    "billing",
    "identity",
    "search",
    "catalog",
    "orders",
    "payments",
    "shipping",
    "notifications",
    "reporting",
    "inventory",
    "pricing",
    "accounts",
    "gateway",
    "mobile-bff",
    "web",
    "admin",
    "exports",
    "imports",
    "scheduler",
]
SERVICE_KINDS = ["api", "worker", "web", "cron", "consumer"]
SERVICES = [f"{base}-{kind}" for kind in SERVICE_KINDS for base in SERVICE_BASES]  # 100, busiest first
OTHER_USERS = 40
DEV_USER = "bench-dev"
BIG_TABLES = ("triage_triageitem", "triage_occurrence", "triage_activity")

EXCEPTION_TYPES = [
    "KeyError",
    "TypeError",
    "ValueError",
    "AttributeError",
    "TimeoutError",
    "ConnectionError",
    "IntegrityError",
    "PermissionDenied",
    "ValidationError",
    "OperationalError",
    "JSONDecodeError",
    "ZeroDivisionError",
]
# %1$s: a noun, %2$s: a number.
MESSAGES = [
    "timeout after %2$s ms calling %1$s-api",
    "connection reset by peer while reading %1$s",
    'duplicate key value violates unique constraint "%1$s_pkey"',
    "'NoneType' object has no attribute '%1$s'",
    "invalid literal for int() with base 10: '%2$s'",
    "permission denied for table %1$s",
    "could not serialize access due to concurrent update of %1$s %2$s",
    "'%2$s' is not a valid %1$s status",
    "Expecting value: line 1 column %2$s (char %2$s)",
    "deadlock detected while updating %1$s",
]
NOUNS = [
    "orders",
    "invoices",
    "customers",
    "payments",
    "sessions",
    "carts",
    "shipments",
    "refunds",
    "accounts",
    "webhooks",
    "coupons",
    "exports",
]
FUNCTIONS = ["process", "handle", "save", "sync", "render", "dispatch", "retry", "validate"]


def main():
    harness.stop_on_sigterm()
    harness.require_port("127.0.0.1", 5432, "PostgreSQL")
    busy_before = harness.machine_busy_percent()
    harness.create_database_if_missing(DATABASE_URL)
    with tempfile.TemporaryDirectory(prefix="bench-morning-") as var_dir:
        setup_django(var_dir)
        try:
            prepare(var_dir)
            data = ensure_data()
            with whatif_indexes(WHATIF) as whatif:
                results = measure(data)
            results["whatif"] = whatif
        finally:
            from django.db import connections

            connections.close_all()
    results.update(
        bench="morning",
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        machine={**harness.machine(DATABASE_URL), "busy_percent_before": busy_before},
        data=data,
    )
    print_report(results)
    print(f"\nResults: {harness.save_results('morning', results).relative_to(harness.ROOT)}")


# --- Setup ------------------------------------------------------------------------------------


def setup_django(var_dir):
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-" + "not-a-secret-" * 4,
            "SECURE_SSL_REDIRECT": "0",
            "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": "memory://",
            "TRIAGE_VAR_DIR": var_dir,
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()


def prepare(var_dir):
    """Migrations, and static files collected as the production image does (DEBUG=0 needs the manifest)."""
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    harness.sql(
        DATABASE_URL,
        "CREATE TABLE IF NOT EXISTS bench_anchor "
        "(id bigserial PRIMARY KEY, body jsonb, received_at timestamptz DEFAULT now())",
    )
    harness.sql(DATABASE_URL, "TRUNCATE bench_anchor")
    print(f"  migrated, static files collected in {time.perf_counter() - started:.1f} s", flush=True)


# --- Data -------------------------------------------------------------------------------------


META_TABLE = (
    "CREATE TABLE IF NOT EXISTS bench_morning_meta (version int, items bigint, occurrences bigint, "
    "data_at timestamptz, load_seconds double precision)"
)


def ensure_data():
    """The loaded data, reused when it is the same version, the same size and recent enough."""
    harness.sql(DATABASE_URL, META_TABLE)
    meta = harness.sql(
        DATABASE_URL, "SELECT version, items, occurrences, data_at, load_seconds FROM bench_morning_meta"
    )
    items = harness.sql(DATABASE_URL, "SELECT count(*) FROM triage_triageitem")[0][0]
    occurrences = harness.sql(DATABASE_URL, "SELECT count(*) FROM triage_occurrence")[0][0]
    reason = reload_reason(meta[0] if meta else None, items, occurrences)
    if reason is None:
        _, _, _, data_at, load_seconds = meta[0]
        print(
            f"  reusing the data loaded at {data_at:%Y-%m-%d %H:%M} UTC ({items:,} items, {occurrences:,} "
            f"occurrences; that load took {load_seconds:.0f} s)",
            flush=True,
        )
        loaded_now = False
    else:
        print(f"  loading {ITEMS:,} items and {OCCURRENCES:,} occurrences ({reason})", flush=True)
        data_at, load_seconds = load()
        print(f"  loaded in {load_seconds:.1f} s", flush=True)
        loaded_now = True
    people = ensure_people()
    return {
        "items": ITEMS,
        "occurrences": OCCURRENCES,
        "data_at": data_at.isoformat(timespec="seconds"),
        "loaded_this_run": loaded_now,
        "load_seconds": round(load_seconds, 1),
        **people,
        **landmarks(data_at),
    }


def reload_reason(meta, items, occurrences):
    if meta is None:
        return "no data yet"
    version, meta_items, meta_occurrences, data_at, _ = meta
    if version != DATA_VERSION:
        return f"data version {version}, this bench loads version {DATA_VERSION}"
    if (items, occurrences) != (ITEMS, OCCURRENCES) or (meta_items, meta_occurrences) != (ITEMS, OCCURRENCES):
        return f"the database holds {items:,} items and {occurrences:,} occurrences"
    if datetime.now(UTC) - data_at > MAX_DATA_AGE:
        return (
            f"the data is from {data_at:%Y-%m-%d %H:%M},"
            f" older than {MAX_DATA_AGE.total_seconds() / 3600:.0f} h"
        )
    if os.environ.get("BENCH_MORNING_RELOAD") == "1":
        return "BENCH_MORNING_RELOAD=1"
    return None


def load():
    """History in one transaction, VACUUM (the last autovacuum), then the last INTAKE_HOURS of intake in
    another.

    The meta row is written with the last step: an interrupted load is redone by the next run.
    """
    import psycopg

    started = time.perf_counter()
    data_at = datetime.now(UTC)
    with harness.connect(DATABASE_URL) as conn:
        try:
            in_transaction(conn, lambda: load_rows(conn, data_at=data_at, started=started))
        except psycopg.Error as exc:
            raise harness.BenchError(
                f"loading failed; if the triage models changed, update the INSERTs of "
                f"bench/morning.py and bump DATA_VERSION:\n{exc}"
            ) from exc
        # Setting the items' totals rewrote every item: compact the table as a long-lived one would be.
        conn.execute("VACUUM FULL triage_triageitem")
        for table in (*BIG_TABLES, "triage_service", "triage_team"):
            conn.execute(f"VACUUM ANALYZE {table}")
        step(started, "VACUUM ANALYZE: the last autovacuum")
        in_transaction(conn, lambda: load_recent_intake(conn, data_at=data_at, started=started), seed=0.17)
        for (
            table
        ) in BIG_TABLES:  # statistics as autoanalyze keeps them; no VACUUM: pages stay as intake left them
            conn.execute(f"ANALYZE {table}")
    seconds = time.perf_counter() - started
    harness.sql(DATABASE_URL, "UPDATE bench_morning_meta SET load_seconds = %s", [seconds])
    return data_at, seconds


def in_transaction(conn, work, *, seed=0.42):
    try:
        with conn.transaction():
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            conn.execute("SET LOCAL synchronous_commit = off")
            # No FK triggers: the rows are made consistent by construction (occurrences join their items),
            # and pending deferred checks would forbid rebuilding the indexes in the same transaction.
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute("SELECT setseed(%s)", [seed])
            work()
    except BaseException:  # Ctrl-C, SIGTERM: stop the statement running on the server too
        conn.cancel_safe()
        raise


def step(started, what):
    print(f"    {time.perf_counter() - started:6.1f} s  {what}", flush=True)


def load_rows(conn, *, data_at, started):
    """Everything up to INTAKE_HOURS ago."""
    conn.execute(
        "TRUNCATE triage_triageitem, triage_occurrence, triage_activity, triage_service, triage_team, "
        "triage_queuevisit, triage_ownershiprule, triage_digestsent, bench_morning_meta RESTART IDENTITY"
        " CASCADE"
    )
    users = bench_users(conn)
    conn.execute(
        "INSERT INTO triage_team (id, slug, name) SELECT n, t, initcap(t) FROM unnest(%s::text[]) "
        "WITH ORDINALITY AS u(t, n)",
        [TEAMS],
    )
    # Service n belongs to team n % 6; every 17th has no team (anyone in dev may change its items).
    conn.execute(
        "INSERT INTO triage_service (id, slug, name, team_id, created_at) "
        "SELECT n, s, initcap(replace(s, '-', ' ')), CASE WHEN n %% 17 = 0 THEN NULL ELSE 1 + n %% 6 END, "
        "%s - interval '400 days' FROM unnest(%s::text[]) WITH ORDINALITY AS u(s, n)",
        [data_at, SERVICES],
    )
    # The dev user is in the team of the busiest service; the others spread over all teams.
    dev_team = 1 + 1 % len(TEAMS)
    conn.execute(
        "INSERT INTO triage_team_members (team_id, user_id) VALUES (%s, %s)", [dev_team, users[DEV_USER]]
    )
    others = [user_id for name, user_id in sorted(users.items()) if name != DEV_USER]
    conn.execute(
        "INSERT INTO triage_team_members (team_id, user_id) SELECT 1 + n %% %s, u FROM unnest(%s::int[]) "
        "WITH ORDINALITY AS x(u, n)",
        [len(TEAMS), others],
    )
    step(started, "teams, services, users")
    cutoff = data_at - INTAKE_HOURS
    with dropped_indexes(conn, ["triage_occurrence", "triage_activity"], lambda what: step(started, what)):
        conn.execute(ITEMS_SQL, item_params(data_at, owners=[users[DEV_USER], *others]))
        step(started, f"{ITEMS:,} items")
        history = conn.execute(
            OCCURRENCES_SQL, {"n": OCCURRENCES, "items": ITEMS, "data_at": data_at, "cutoff": cutoff}
        ).rowcount
        step(started, f"{history:,} occurrences until {INTAKE_HOURS.total_seconds() / 3600:.0f} h ago")
        conn.execute(ITEM_TOTALS_SQL, {"data_at": data_at})
        step(started, "items' counts and last seen, from their occurrences")
        conn.execute(ACTIVITY_SQL, {"data_at": data_at})
        step(started, "activity")
    for table in ("triage_triageitem", "triage_activity", "triage_service", "triage_team"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def load_recent_intake(conn, *, data_at, started):
    """The last INTAKE_HOURS, after the last VACUUM: new occurrence pages, and the items they updated.

    As between two autovacuums in production (an item is updated by every event; autovacuum comes
    after 20% of the items changed), the pages these touched are not all-visible: index-only scans
    fetch from the heap there, as they would at that time of day.
    """
    history = conn.execute("SELECT count(*) FROM triage_occurrence").fetchone()[0]
    recent = conn.execute(
        RECENT_OCCURRENCES_SQL,
        {
            "n": OCCURRENCES - history,
            "first": OCCURRENCES,
            "items": ITEMS,
            "data_at": data_at,
            "cutoff": data_at - INTAKE_HOURS,
        },
    ).rowcount
    touched = conn.execute(RECENT_TOTALS_SQL, {"cutoff": data_at - INTAKE_HOURS}).rowcount
    conn.execute(
        "SELECT setval(pg_get_serial_sequence('triage_occurrence', 'id'), (SELECT max(id) FROM"
        " triage_occurrence))"
    )
    conn.execute(
        "INSERT INTO bench_morning_meta VALUES (%s, %s, %s, %s, 0)",
        [DATA_VERSION, ITEMS, OCCURRENCES, data_at],
    )
    step(
        started,
        f"the last {INTAKE_HOURS.total_seconds() / 3600:.0f} h of intake: {recent:,} occurrences, "
        f"{touched:,} items updated",
    )


class dropped_indexes:
    """Secondary indexes (not backing a constraint) dropped for the load and rebuilt after, in the same
    transaction."""

    def __init__(self, conn, tables, step):
        self.conn, self.tables, self.step = conn, tables, step

    def __enter__(self):
        rows = self.conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [self.tables],
        ).fetchall()
        self.definitions = [definition for _, definition in rows]
        for name, _ in rows:
            self.conn.execute(f'DROP INDEX "{name}"')

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            for definition in self.definitions:
                self.conn.execute(definition)
            self.step(f"{len(self.definitions)} secondary indexes rebuilt")


def bench_users(conn):
    """The dev user (in the dev group) and 40 others who own items; kept across loads. {username: id}"""
    names = [DEV_USER, *(f"bench-user-{n:02d}" for n in range(1, OTHER_USERS + 1))]
    conn.execute(
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined) SELECT '!', false, u, '', '', u || '@example.com', false, true, now() "
        "FROM unnest(%s::text[]) u ON CONFLICT (username) DO NOTHING",
        [names],
    )
    users = dict(
        conn.execute("SELECT username, id FROM auth_user WHERE username = ANY(%s)", [names]).fetchall()
    )
    conn.execute(
        "INSERT INTO auth_user_groups (user_id, group_id) SELECT %s, id FROM auth_group WHERE name = 'dev' "
        "ON CONFLICT DO NOTHING",
        [users[DEV_USER]],
    )
    return users


FRAME_COUNTS = (8, 12, 16, 20, 25, 30, 40)  # stack depths; item n gets FRAME_COUNTS[n % 7]
FRAME_FUNCTIONS = [
    "handler",
    "dispatch",
    "middleware",
    "wrapper",
    "inner",
    "view",
    "post",
    "perform",
    "service",
    "process",
    "load",
    "fetch",
    "query",
    "execute",
    "cursor",
    "save",
    "validate",
    "clean",
    "convert",
    "parse",
    "decode",
    "read",
    "call",
    "request",
    "send",
]


def frame_sets():
    """Stacks as triage.facts.EventFacts.summary stores them, 8 to 40 frames (the deep ones are TOASTed)."""
    sets = []
    for depth in FRAME_COUNTS:
        frames = [
            {
                "filename": f"app/__NOUN__/{name}.py",
                "function": f"{name}_{n}",
                "module": f"app.__NOUN__.{name}",
                "lineno": 40 + 7 * n + depth,
                "colno": None,
                "in_app": n >= depth * 2 // 3,
                "context_line": f"    result = {name}(request, __NOUN__[{n}], retries={depth - n})",
            }
            for n, name in ((n, FRAME_FUNCTIONS[n % len(FRAME_FUNCTIONS)]) for n in range(depth))
        ]
        sets.append(json.dumps(frames))
    return sets


def item_params(data_at, *, owners):
    return {
        "n": ITEMS,
        "data_at": data_at,
        "services": len(SERVICES),
        "exceptions": EXCEPTION_TYPES,
        "messages": MESSAGES,
        "nouns": NOUNS,
        "functions": FUNCTIONS,
        "owners": owners,
        "frame_sets": frame_sets(),
    }


# Items. A few services hold most items (service n with probability ~ 1/sqrt(n)); 0.5% arrived in
# the last 24 h (mostly new), the others over 180 days: 30% new, 25% triaged, 15% in progress,
# 20% resolved, 10% ignored. last_seen and event_count are set from the occurrences afterwards.
ITEMS_SQL = """
WITH frames AS MATERIALIZED (
  SELECT noun, k - 1 AS k, replace(template, '__NOUN__', noun)::jsonb AS frames
  FROM unnest(%(nouns)s::text[]) AS noun, unnest(%(frame_sets)s::text[]) WITH ORDINALITY AS f(template, k)
)
INSERT INTO triage_triageitem (id, sentry_issue_id, short_id, title, culprit, level, platform, project_slug, \
service_id,
  environment, first_seen, last_seen, event_count, counted_until, user_count, status, sentry_status, \
sentry_substatus,
  sentry_assignee, sentry_url, tags, latest_event, latest_event_at, regressed_at, resolved_at, \
resolved_in_release,
  classification, duplicate_of_id, team_id, ownership_rule_id, owner_id, pinned_note, ignore_condition, \
woke_at,
  triaged_at, sentry_sync_state, sentry_sync_error, created_at, updated_at)
SELECT s.id, (4000000000 + s.id)::text, upper(svc.slug) || '-' || upper(to_hex(s.id)), t.exc || ': ' || t.msg,
  'app.' || t.noun || '.handlers in ' || t.func, t.level, 'python', svc.slug, svc.id, t.env, f.first_seen,
  f.first_seen, 1, f.first_seen, 1, st.status,
  CASE st.status WHEN 'resolved' THEN 'resolved' WHEN 'ignored' THEN 'ignored' ELSE 'unresolved' END,
  CASE st.status WHEN 'ignored' THEN 'archived_forever' WHEN 'new' THEN 'new' ELSE 'ongoing' END, '',
  'https://sentry.io/organizations/acme/issues/' || (4000000000 + s.id) || '/',
  jsonb_build_object('environment', t.env, 'level', t.level, 'release', 'web@1.' || (s.id %% 40),
                     'browser', (ARRAY['Chrome', 'Firefox', 'Safari', 'Edge'])[1 + s.id %% 4],
                     'customer_tier', (ARRAY['gold', 'silver', 'bronze', 'free'])[1 + s.id %% 4]),
  jsonb_build_object('event_id', md5(s.id::text), 'timestamp', f.first_seen, 'exception_type', t.exc,
                     'exception_value', t.msg, 'request_url', 'https://shop.example.com/' || t.noun || '/' \
|| s.id,
                     'release', 'web@1.' || (s.id %% 40), 'environment', t.env,
                     'exceptions', jsonb_build_array(jsonb_build_object('type', t.exc, 'value', t.msg, \
'frames',
                        fr.frames))),
  f.first_seen,
  CASE WHEN st.status IN ('new', 'triaged', 'in_progress') AND s.r_flag < 0.04 THEN f.first_seen END,
  CASE WHEN st.status = 'resolved' THEN f.first_seen + (%(data_at)s - f.first_seen) * 0.5 END, '',
  c.classification,
  CASE WHEN c.classification = 'duplicate' THEN 1 + (s.id * 7) %% %(n)s END,
  svc.team_id, NULL,
  CASE WHEN (st.status = 'in_progress' AND s.r_owner < 0.9) OR (st.status = 'triaged' AND s.r_owner < 0.4)
         OR (st.status = 'resolved' AND s.r_owner < 0.7) OR (st.status = 'new' AND s.r_owner < 0.03)
       THEN (%(owners)s::int[])[1 + floor(s.r_who * cardinality(%(owners)s::int[]))::int] END,
  CASE WHEN c.classification IN ('noise', 'no_action') THEN 'Known; see the runbook.' ELSE '' END,
  CASE WHEN st.status = 'ignored' THEN '{"kind": "forever"}'::jsonb ELSE '{}'::jsonb END,
  CASE WHEN st.status = 'new' AND s.r_flag > 0.99 THEN %(data_at)s - interval '2 days' * s.r_cls END,
  CASE WHEN st.status <> 'new' THEN f.first_seen + (%(data_at)s - f.first_seen) * 0.1 END, '', '',
  f.first_seen, f.first_seen
FROM (
  SELECT g AS id, random() AS r_svc, random() AS r_exc, random() AS r_msg, random() AS r_noun, random() AS \
r_num,
         random() AS r_level, random() AS r_env, random() AS r_age, random() AS r_status, random() AS r_cls,
         random() AS r_owner, random() AS r_who, random() AS r_flag, random() AS r_func
  FROM generate_series(1, %(n)s) g
) s
JOIN triage_service svc ON svc.id = 1 + floor(%(services)s * s.r_svc * s.r_svc)::int
CROSS JOIN LATERAL (SELECT
  (%(exceptions)s::text[])[1 + floor(s.r_exc * cardinality(%(exceptions)s::text[]))::int] AS exc,
  format((%(messages)s::text[])[1 + floor(s.r_msg * cardinality(%(messages)s::text[]))::int],
         (%(nouns)s::text[])[1 + floor(s.r_noun * cardinality(%(nouns)s::text[]))::int], floor(s.r_num * \
5000)::int) AS msg,
  (%(nouns)s::text[])[1 + floor(s.r_noun * cardinality(%(nouns)s::text[]))::int] AS noun,
  (%(functions)s::text[])[1 + floor(s.r_func * cardinality(%(functions)s::text[]))::int] AS func,
  CASE WHEN s.r_level < 0.78 THEN 'error' WHEN s.r_level < 0.88 THEN 'warning' WHEN s.r_level < 0.95 THEN \
'fatal'
       ELSE 'info' END AS level,
  CASE WHEN s.r_env < 0.85 THEN 'production' WHEN s.r_env < 0.97 THEN 'staging' ELSE 'development' END AS \
env) t
CROSS JOIN LATERAL (SELECT CASE WHEN s.r_age < 0.005 THEN %(data_at)s - interval '24 hours' * (s.r_age / \
0.005)
  ELSE %(data_at)s - interval '1 day' - interval '179 days' * ((s.r_age - 0.005) / 0.995) END AS first_seen) f
CROSS JOIN LATERAL (SELECT CASE
  WHEN f.first_seen > %(data_at)s - interval '1 day' THEN CASE WHEN s.r_status < 0.9 THEN 'new' ELSE \
'triaged' END
  WHEN s.r_status < 0.30 THEN 'new' WHEN s.r_status < 0.55 THEN 'triaged' WHEN s.r_status < 0.70 THEN \
'in_progress'
  WHEN s.r_status < 0.90 THEN 'resolved' ELSE 'ignored' END AS status) st
JOIN frames fr ON fr.noun = t.noun AND fr.k = s.id %% 7
CROSS JOIN LATERAL (SELECT CASE
  WHEN st.status = 'new' THEN ''
  WHEN st.status = 'ignored' THEN CASE WHEN s.r_cls < 0.6 THEN 'noise' ELSE 'no_action' END
  WHEN s.r_cls < 0.45 THEN 'code_fix' WHEN s.r_cls < 0.62 THEN 'data_fix' WHEN s.r_cls < 0.77 THEN 'no_action'
  WHEN s.r_cls < 0.87 THEN 'noise' WHEN s.r_cls < 0.92 THEN 'duplicate' ELSE '' END AS classification) c
"""

# Occurrences: item rank k (a fixed shuffle of the ids) with probability ~ k^(-2/3): the busiest
# item gets ~2% of all events, the top 1,000 ~21%, the median item ~10. Each event falls between
# the item's first sighting (at most 30 days ago) and now, more of them recently.
OCCURRENCE_INSERT = """
INSERT INTO triage_occurrence (event_id, item_id, "timestamp", received_at, environment, release, level,
  exception_type, exception_value, tags, service_key, inner_exception_type, message_template)
SELECT lpad(to_hex({first_event} + o.g), 32, '0'), i.id, w.ts, w.ts + interval '1 second' * (1 + 4 * o.r_lag),
  i.environment, 'web@1.' || (i.id %% 40), i.level, split_part(i.title, ': ', 1),
  substr(i.title, strpos(i.title, ': ') + 2),
  jsonb_build_object('environment', i.environment, 'browser', (ARRAY['Chrome', 'Firefox', 'Safari', \
'Edge'])[1 + o.g %% 4],
                     'customer_tier', (ARRAY['gold', 'silver', 'bronze', 'free'])[1 + o.g %% 4]),
  i.project_slug, split_part(i.title, ': ', 1), left(substr(i.title, strpos(i.title, ': ') + 2), 500)
FROM (
  SELECT g, 1 + (floor(%(items)s * power(random(), 3))::bigint * 7919) %% %(items)s AS item_id,
         random() AS r_time, random() AS r_lag
  FROM generate_series(1, %(n)s) g
) o
JOIN triage_triageitem i ON i.id = o.item_id
CROSS JOIN LATERAL (SELECT {since} AS since) b
CROSS JOIN LATERAL (SELECT b.since + (%(data_at)s - b.since) * {spread} AS ts) w
{where}
"""
OCCURRENCES_SQL = OCCURRENCE_INSERT.format(
    first_event="0",
    since="greatest(i.first_seen, %(data_at)s - interval '30 days')",
    spread="power(o.r_time, 0.7)",
    where="WHERE w.ts < %(cutoff)s",
)

# The last hours: as many events as the history left out, the same items, spread evenly.
RECENT_OCCURRENCES_SQL = OCCURRENCE_INSERT.format(
    first_event="%(first)s", since="greatest(i.first_seen, %(cutoff)s)", spread="o.r_time", where=""
)

RECENT_TOTALS_SQL = """
UPDATE triage_triageitem i SET last_seen = greatest(i.last_seen, e.last), latest_event_at = \
greatest(i.last_seen, e.last),
  event_count = CASE WHEN i.first_seen >= %(cutoff)s THEN e.n ELSE i.event_count + e.n END,
  user_count = greatest(i.user_count, e.n / 3), updated_at = e.last
FROM (SELECT item_id, count(*) AS n, max("timestamp") AS last FROM triage_occurrence
      WHERE "timestamp" >= %(cutoff)s GROUP BY item_id) e
WHERE i.id = e.item_id
"""

ITEM_TOTALS_SQL = """
UPDATE triage_triageitem i SET last_seen = e.last, latest_event_at = e.last, counted_until = e.last,
  event_count = e.n, user_count = greatest(1, e.n / 3),
  regressed_at = CASE WHEN i.regressed_at IS NOT NULL THEN e.last - interval '1 hour' END,
  updated_at = e.last
FROM (SELECT item_id, count(*) AS n, max("timestamp") AS last FROM triage_occurrence GROUP BY item_id) e
WHERE i.id = e.item_id
"""

# Timelines: every item was created from an event; decisions for the triaged ones; a long
# discussion on the 20 busiest items (the item page shows up to 200 entries).
ACTIVITY_SQL = """
INSERT INTO triage_activity (item_id, actor_id, actor_label, verb, data, created_at)
SELECT id, NULL, 'Sentry', 'created', '{"via": "event"}'::jsonb, first_seen FROM triage_triageitem
UNION ALL
SELECT id, owner_id, CASE WHEN owner_id IS NULL THEN 'Sentry' ELSE '' END, 'classified',
       jsonb_build_object('classification', classification, 'note', pinned_note), triaged_at
FROM triage_triageitem WHERE classification <> ''
UNION ALL
SELECT id, owner_id, '', 'took', '{}'::jsonb, triaged_at + interval '5 minutes'
FROM triage_triageitem WHERE owner_id IS NOT NULL AND triaged_at IS NOT NULL
UNION ALL
SELECT b.id, b.owner_id, CASE WHEN b.owner_id IS NULL THEN 'someone' ELSE '' END, 'commented',
       jsonb_build_object('body', 'Seen again after deploy ' || n || '. Looking at the retries.'),
       %(data_at)s - interval '1 hour' * (60 - n)
FROM (SELECT id, owner_id FROM triage_triageitem ORDER BY event_count DESC LIMIT 20) b, generate_series(1, \
60) n
"""


def ensure_people():
    """The dev user's API token, and a last visit that makes "new since your last visit" mean the data's last
    16 h."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    dev = get_user_model().objects.get(username=DEV_USER)
    token, _ = Token.objects.get_or_create(user=dev)
    return {"dev_user": DEV_USER, "token_key_prefix": token.key[:6]}


def landmarks(data_at):
    """The items, services and words the page list uses, found in the data."""
    rows = harness.sql(
        DATABASE_URL,
        "SELECT id, sentry_issue_id, event_count FROM triage_triageitem "
        "ORDER BY event_count DESC, id LIMIT 1",
    )
    busy_id, _, busy_events = rows[0]
    quiet_id, quiet_issue, quiet_events = harness.sql(
        DATABASE_URL,
        "SELECT id, sentry_issue_id, event_count FROM triage_triageitem WHERE status = 'new' "
        "ORDER BY event_count, id LIMIT 1",
    )[0]
    service, service_items = harness.sql(
        DATABASE_URL,
        "SELECT s.slug, count(*) FROM triage_triageitem i JOIN triage_service s ON s.id = i.service_id "
        "GROUP BY s.slug ORDER BY 2 DESC LIMIT 1",
    )[0]
    counts = dict(harness.sql(DATABASE_URL, "SELECT status, count(*) FROM triage_triageitem GROUP BY status"))
    tables = {
        name: {
            "heap_mb": round(heap / 2**20),
            "toast_mb": round(toast / 2**20),
            "all_visible_percent": round(100 * visible / max(pages, 1)),
        }
        for name, heap, toast, pages, visible in harness.sql(
            DATABASE_URL,
            "SELECT relname, pg_relation_size(oid), coalesce(pg_relation_size(reltoastrelid), 0), "
            "relpages, relallvisible FROM pg_class WHERE relname = ANY(%s)",
            [list(BIG_TABLES[:2])],
        )
    }
    return {
        "data_at_dt": data_at,
        "busy_item": busy_id,
        "busy_item_events": busy_events,
        "quiet_item": quiet_id,
        "quiet_item_events": quiet_events,
        "quiet_issue": quiet_issue,
        "busy_service": service,
        "busy_service_items": service_items,
        "statuses": counts,
        "tables": tables,
    }


# --- What-if indexes -------------------------------------------------------------------------------

WHATIF_TABLE = "CREATE TABLE IF NOT EXISTS bench_morning_whatif (kind text, name text)"


@contextmanager
def whatif_indexes(statements):
    """Create the BENCH_MORNING_WHATIF indexes (and extensions) for this run; drop them whatever ends it."""
    harness.sql(DATABASE_URL, WHATIF_TABLE)
    drop_whatif()  # left by a run that was killed
    for statement in statements:
        if not re.match(r"(?i)CREATE\s+(UNIQUE\s+)?INDEX|CREATE\s+EXTENSION", statement):
            raise harness.BenchError(
                f"BENCH_MORNING_WHATIF takes CREATE INDEX and CREATE EXTENSION only: {statement!r}"
            )
    try:
        for statement in statements:
            before = whatif_objects()
            started = time.perf_counter()
            harness.sql(DATABASE_URL, statement)
            for kind, name in sorted(whatif_objects() - before):
                harness.sql(DATABASE_URL, "INSERT INTO bench_morning_whatif VALUES (%s, %s)", [kind, name])
            print(f"  what-if: {statement} ({time.perf_counter() - started:.1f} s)", flush=True)
        if statements:
            harness.sql(DATABASE_URL, "ANALYZE triage_triageitem")  # statistics for expression indexes
        yield statements
    finally:
        drop_whatif()


def whatif_objects():
    indexes = harness.sql(
        DATABASE_URL, "SELECT 'index', indexname FROM pg_indexes WHERE schemaname = 'public'"
    )
    extensions = harness.sql(DATABASE_URL, "SELECT 'extension', extname FROM pg_extension")
    return set(indexes) | set(extensions)


def drop_whatif():
    rows = harness.sql(
        DATABASE_URL, "SELECT kind, name FROM bench_morning_whatif ORDER BY kind DESC"
    )  # indexes first
    for kind, name in rows:
        harness.sql(DATABASE_URL, f'DROP {"INDEX" if kind == "index" else "EXTENSION"} IF EXISTS "{name}"')
    harness.sql(DATABASE_URL, "TRUNCATE bench_morning_whatif")


# --- Pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    path: str
    client: str = "web"  # web: the dev user's session; api: his API token; sql: a bare SELECT 1
    method: str = "get"
    headers: dict = field(default_factory=dict)
    anchor: bool = False


def pages(data):
    """The anchors, then the pages. Section tabs are read from triage.queue when it has them."""
    service, busy = data["busy_service"], data["busy_item"]
    listed = [
        Page("anchor_bare", 'anchor: bare view ("ok")', "/bench/ok/", anchor=True),
        Page("anchor_insert", "anchor: JSON + 1 INSERT view", "/bench/insert/", method="post", anchor=True),
        Page("anchor_select1", "anchor: SELECT 1 round trip", "", client="sql", anchor=True),
        Page("queue", "/  (default section, full page)", "/"),
        Page("queue_htmx", "/  (default section, htmx partial)", "/", headers={"HX-Request": "true"}),
        # What the rail fetches after every action (hx-trigger "queue-changed"), to refresh its counts.
        Page(
            "queue_rail",
            "/?fragment=rail  (rail refresh after an action)",
            "/?fragment=rail",
            headers={"HX-Request": "true"},
        ),
    ]
    for slug, label in section_tabs():
        listed.append(Page(f"section_{slug}", f"/?section={slug}  ({label})", f"/?section={slug}"))
    listed += [
        Page(
            "filtered",
            f"/?section=open&service={service}&q=timeout",
            f"/?section=open&service={service}&q=timeout",
        ),
        Page("search", "/?section=all&q=KeyError  (text search only)", "/?section=all&q=KeyError"),
        Page("open_page_20", "/?section=open&page=20", "/?section=open&page=20"),
        Page("item_busy", f"/items/{busy}/  ({data['busy_item_events']:,} events)", f"/items/{busy}/"),
        Page("api_list", "/api/items/", "/api/items/", client="api"),
        Page(
            "api_filtered",
            f"/api/items/?service={service}&status=new&status=triaged",
            f"/api/items/?service={service}&status=new&status=triaged",
            client="api",
        ),
    ]
    return listed


def section_tabs():
    """(slug, label) of every section but the default, which `/` already measures."""
    try:
        from triage.queue import DEFAULT_SECTION, SECTIONS
    except ImportError:  # the queue page without sections
        return []
    return [(section.slug, section.label) for section in SECTIONS if section.slug != DEFAULT_SECTION]


# One row against a full page, same code path: if their statement counts differ, the count grows with rows.
def growth_pairs(data):
    return [
        (
            "queue search (1 row vs 50)",
            "web",
            f"/?section=all&q={data['quiet_issue']}",
            "/?section=all&q=Error",
        ),
        (
            "item page (quiet vs busy item)",
            "web",
            f"/items/{data['quiet_item']}/",
            f"/items/{data['busy_item']}/",
        ),
        (
            "API list (1 row vs 50)",
            "api",
            f"/api/items/?sentry_issue_id={data['quiet_issue']}",
            "/api/items/",
        ),
    ]


# --- Measuring --------------------------------------------------------------------------------


class SqlTimer:
    """A connection.execute_wrapper: statements run, and the seconds spent in them."""

    def __init__(self):
        self.count, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


class Runner:
    def __init__(self, data):
        from django.contrib.auth import get_user_model
        from django.test import Client
        from rest_framework.authtoken.models import Token

        dev = get_user_model().objects.get(username=DEV_USER)
        self.dev_id = dev.pk
        self.web = Client()
        self.web.force_login(dev)
        self.api = Client(headers={"authorization": f"Token {Token.objects.get(user=dev).key}"})
        self.data = data
        self.anchor_body = json.dumps({"action": "created", "data": {"error": {"title": "x" * 2000}}})

    def reset_visit(self):
        """A visit in progress whose "new" starts 16 h before the data: the same sections on every run."""
        from triage.models import QueueVisit

        user_id = self.dev_id
        new_since = self.data["data_at_dt"] - LAST_VISIT_BEFORE_DATA
        QueueVisit.objects.update_or_create(
            user_id=user_id,
            defaults={
                "previous_visit_at": new_since,
                "last_visit_at": datetime.now(UTC) - timedelta(minutes=1),
            },
        )

    def request(self, page):
        """(seconds, SQL seconds, statements) of one request to `page`."""
        from django.db import connection

        timer = SqlTimer()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            status = self._call(page)
            seconds = time.perf_counter() - started
        if status not in (200, 201):
            raise harness.BenchError(f"{page.label}: answered {status}, not 200")
        return seconds, timer.seconds, timer.count

    def _call(self, page):
        if page.client == "sql":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
            return 200
        client = self.api if page.client == "api" else self.web
        if page.method == "post":
            return client.post(page.path, self.anchor_body, content_type="application/json").status_code
        return client.get(page.path, headers=page.headers).status_code

    def captured(self, page):
        """The statements of one request, with their SQL."""
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as context:
            self._call(page)
        return context.captured_queries


def measure(data):
    runner = Runner(data)
    runner.reset_visit()
    listed = pages(data)
    print(f"  warm-up: {WARMUP_REQUESTS} requests per page ({len(listed)} pages and anchors)", flush=True)
    started = time.perf_counter()
    for _ in range(WARMUP_REQUESTS):
        for page in listed:
            runner.request(page)
    per_round = (time.perf_counter() - started) / WARMUP_REQUESTS
    rounds = max(MIN_REQUESTS, min(REQUESTS, int(BUDGET_SECONDS / max(per_round, 1e-6))))
    print(
        f"  {rounds} rounds of {len(listed)} requests (≈ {per_round:.1f} s a round)"
        + ("" if rounds == REQUESTS else f"; fewer than {REQUESTS} to stay within {BUDGET_SECONDS:.0f} s"),
        flush=True,
    )
    samples = {page.key: [] for page in listed}
    share_before = machine_share()
    deadline = (
        time.perf_counter() + BUDGET_SECONDS * 1.25
    )  # the machine may get busier than during the warm-up
    for number in range(1, rounds + 1):
        order = listed if number % 2 else list(reversed(listed))
        for page in order:
            samples[page.key].append(runner.request(page))
        if number % 10 == 0:
            print(f"    round {number}/{rounds}", flush=True)
        if time.perf_counter() > deadline:
            print(f"    stopped after round {number}: over the time budget", flush=True)
            break
    rounds = number
    other_percent = other_share(share_before, machine_share())
    measured = {page.key: summarize(page, samples[page.key]) for page in listed}
    print("  counting statements and running EXPLAIN ANALYZE on every SELECT", flush=True)
    for page in listed:
        if not page.anchor:
            measured[page.key]["queries"] = explain_page(runner, page)
    growth = measure_growth(runner, data)
    runner.reset_visit()
    return {
        "config": {
            "requests_per_page": rounds,
            "warmup": WARMUP_REQUESTS,
            "goal_p95_ms": GOAL_P95_MS,
            "budget_seconds": BUDGET_SECONDS,
        },
        "other_cpu_percent": other_percent,
        "pages": measured,
        "growth": growth,
    }


def machine_share():
    """(busy ticks of the machine, all ticks, ticks of this process and of our PostgreSQL backends)."""
    with open("/proc/stat") as stat:
        fields = [int(field) for field in stat.readline().split()[1:8]]
    ours = sum(
        ticks
        for pid, (ticks, _, command) in harness.cpu_snapshot().processes.items()
        if pid == os.getpid() or DATABASE_NAME in command
    )
    return sum(fields) - fields[3] - fields[4], sum(fields), ours


def other_share(before, after):
    """The share of the whole machine that other processes (other sessions' tests, ...) took meanwhile."""
    busy, total, ours = (a - b for a, b in zip(after, before, strict=True))
    return round(100 * max(busy - ours, 0) / max(total, 1), 1)


def summarize(page, samples):
    ms = [seconds * 1000 for seconds, _, _ in samples]
    sql_ms = [sql * 1000 for _, sql, _ in samples]
    statements = Counter(count for _, _, count in samples)
    p95 = percentile(ms, 95)
    result = {
        "label": page.label,
        "path": page.path,
        "anchor": page.anchor,
        "requests": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(p95, 2),
        "mean_ms": round(statistics.fmean(ms), 2),
        "max_ms": round(max(ms), 2),
        "sql_p50_ms": round(percentile(sql_ms, 50), 2),
        "statements": statements.most_common(1)[0][0],
        "statement_counts_seen": sorted(statements),
        "samples_ms": [round(value, 2) for value in ms],
    }
    if not page.anchor:
        result["goal_met"] = p95 < GOAL_P95_MS
    return result


def percentile(values, pct):
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[pct - 1]


# --- Statements: counts, repeats, plans -----------------------------------------------------------


LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


def shape(sql):
    """The statement with its literals blanked: the same shape run again and again is a query per row."""
    return LITERALS.sub("?", sql)


def explain_page(runner, page):
    from django.db import connection

    statements = runner.captured(page)
    shapes = Counter(shape(query["sql"]) for query in statements)
    explained = []
    for query in statements:
        sql = query["sql"]
        entry = {"sql": sql, "ms": float(query["time"]) * 1000}
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
                plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
            entry.update(
                execution_ms=round(plan["Execution Time"], 2),
                reads=plan_reads(plan["Plan"]),
                rows_read=rows_read(plan["Plan"]),
            )
            if plan["Execution Time"] >= SLOW_QUERY_MS:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    entry["plan"] = "\n".join(row[0] for row in cursor.fetchall())
        explained.append(entry)
    return {
        "count": len(statements),
        "repeated_shapes": {s: n for s, n in shapes.items() if n >= 3},
        "rows_read": sum(entry.get("rows_read", 0) for entry in explained),
        "statements": explained,
    }


def plan_reads(node, found=None):
    """What a plan did that grows with the table: scans of the big tables (rows read), sorts, aggregates."""
    found = [] if found is None else found
    kind, loops = node["Node Type"], node.get("Actual Loops", 1)
    rows = node.get("Actual Rows", 0) * loops
    removed = (node.get("Rows Removed by Filter", 0) + node.get("Rows Removed by Index Recheck", 0)) * loops
    relation = node.get("Relation Name", "")
    if relation in BIG_TABLES and (kind == "Seq Scan" or rows + removed >= 5000):
        index = f" using {node['Index Name']}" if "Index Name" in node else ""
        found.append(f"{kind} on {relation}{index}: {rows + removed:,.0f} rows read, {rows:,.0f} kept")
    elif kind == "Sort" and rows >= 1000:
        keys = node.get("Sort Key", [])
        on = ", ".join(keys[:3]) + (f", … ({len(keys)} columns)" if len(keys) > 3 else "")
        found.append(f"Sort ({node.get('Sort Method', '?')}) of {rows:,.0f} rows on {on}")
    elif kind == "Aggregate" and node.get("Strategy") in ("Hashed", "Sorted", "Mixed") and rows >= 1000:
        found.append(f"Aggregate of {rows:,.0f} groups")
    for child in node.get("Plans", []):
        plan_reads(child, found)
    return found


def rows_read(node):
    """Rows the plan read from the big tables (kept or filtered out): what grows with the data."""
    loops = node.get("Actual Loops", 1)
    own = 0
    if node.get("Relation Name") in BIG_TABLES:
        own = (
            node.get("Actual Rows", 0)
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        ) * loops
    return own + sum(rows_read(child) for child in node.get("Plans", []))


def measure_growth(runner, data):
    growth = []
    for label, client, small_path, full_path in growth_pairs(data):
        counts = [
            len(runner.captured(Page(label, label, path, client=client))) for path in (small_path, full_path)
        ]
        growth.append(
            {
                "label": label,
                "small": small_path,
                "full": full_path,
                "statements": counts,
                "grows": counts[0] != counts[1],
            }
        )
    return growth


# --- Results ------------------------------------------------------------------------------------


def print_report(results):
    machine, data, config = results["machine"], results["data"], results["config"]
    print(
        f"\nMorning queue · {machine['cores']} cores ({machine['cpu']}) · Python {machine['python']} · "
        f"Django {machine['django']} · PostgreSQL {machine['postgresql']}"
    )
    loaded = (
        f"loaded this run in {data['load_seconds']:.0f} s"
        if data["loaded_this_run"]
        else f"reused, loaded {data['data_at'][:16]} in {data['load_seconds']:.0f} s"
    )
    statuses = ", ".join(
        f"{status} {count:,}" for status, count in sorted(data["statuses"].items(), key=lambda x: -x[1])
    )
    print(f"{data['items']:,} items ({statuses}), {data['occurrences']:,} occurrences; {loaded}")
    print(
        f"Busiest item {data['busy_item']}: {data['busy_item_events']:,} events; busiest service "
        f"{data['busy_service']}: {data['busy_service_items']:,} items"
    )
    print(
        "Tables: "
        + "; ".join(
            f"{name} {t['heap_mb']} MB (+{t['toast_mb']} MB TOAST), {t['all_visible_percent']}% of pages"
            " all-visible"
            for name, t in data["tables"].items()
        )
        + f" (the last {INTAKE_HOURS.total_seconds() / 3600:.0f} h of intake "
        "came after the last VACUUM)"
    )
    busy = machine["busy_percent_before"]
    note = "  ← the machine was not idle: compare pages with the anchors of this run" if busy > 10 else ""
    print(f"CPU busy before the bench: {busy:.0f}%{note}")
    other = results["other_cpu_percent"]
    print(
        f"In-process, Django test Client, DEBUG=0; {config['requests_per_page']} requests per page, in"
        " rounds; "
        f"other processes took {other:.0f}% of the machine meanwhile"
        + ("  ← noisy: tails (p95) suffer first" if other > 15 else "")
    )
    for statement in results["whatif"]:
        print(f"WHAT-IF, not in the project's migrations: {statement}")
    print()
    print_pages(results["pages"])
    print_goal(results["pages"])
    print_growth(results["pages"], results["growth"])
    print_slow_queries(results["pages"])


def print_pages(measured):
    print(
        f"  {'':58}{'p50 ms':>8}{'p95 ms':>8}{'mean':>8}{'SQL p50':>9}{'stmts':>7}{'rows read':>11}   verdict"
    )
    for page in measured.values():
        if page["anchor"]:
            verdict, read = "", ""
        else:
            verdict = "ok" if page["goal_met"] else f"SLOW (p95 ≥ {GOAL_P95_MS} ms)"
            read = f"{page['queries']['rows_read']:,.0f}"
        statements = "/".join(map(str, page["statement_counts_seen"]))
        print(
            f"  {page['label'][:57]:58}{page['p50_ms']:>8.1f}{page['p95_ms']:>8.1f}{page['mean_ms']:>8.1f}"
            f"{page['sql_p50_ms']:>9.1f}{statements:>7}{read:>11}   {verdict}"
        )
    print(
        "  (SQL p50: time inside the database calls of a request. stmts: SQL statements per request.\n"
        "   rows read: rows of the items, occurrences and activity tables its statements read, under"
        " EXPLAIN\n"
        "   ANALYZE; in the tens of thousands, the page slows down as the tables grow. The test Client"
        " keeps\n"
        "   the connection: behind gunicorn, CONN_HEALTH_CHECKS adds about one SELECT 1 anchor per request.)"
    )


def print_goal(measured):
    real = [page for page in measured.values() if not page["anchor"]]
    slow = [page for page in real if not page["goal_met"]]
    print(
        f"\nGoal: p95 < {GOAL_P95_MS} ms on every page: {len(real) - len(slow)} of {len(real)} pages met"
        + (f"; {len(slow)} over it (SLOW above)" if slow else "")
    )


def print_growth(measured, growth):
    print("\nSQL statements as rows grow (same code path, 1 row vs a full page):")
    for pair in growth:
        small, full = pair["statements"]
        verdict = "GROWS with rows" if pair["grows"] else "constant"
        print(f"  {pair['label']:38}{small:>4} → {full:<4} {verdict}")
    repeats = [
        (page["label"], shape_sql, count)
        for page in measured.values()
        if "queries" in page
        for shape_sql, count in page["queries"]["repeated_shapes"].items()
    ]
    if repeats:
        print("  Statements repeated on one page (a query per row?):")
        for label, shape_sql, count in repeats:
            print(f"    {label.split('  ')[0]}: {count} × {shape_sql[:110]}")
    else:
        print("  No statement shape repeats on any page (no query per row).")


def print_slow_queries(measured):
    print(f"\nStatements over {SLOW_QUERY_MS} ms under EXPLAIN ANALYZE (what their plans read):")
    seen = {}
    for page in measured.values():
        for entry in page.get("queries", {}).get("statements", []):
            if entry.get("execution_ms", 0) >= SLOW_QUERY_MS:
                seen.setdefault(shape(entry["sql"]), []).append((page["label"].split("  ")[0], entry))
    if not seen:
        print("  none")
    for number, (_, found) in enumerate(
        sorted(seen.items(), key=lambda kv: -max(e["execution_ms"] for _, e in kv[1])), 1
    ):
        worst = max(found, key=lambda pair: pair[1]["execution_ms"])[1]
        where = ", ".join(sorted({f"{label} ({entry['execution_ms']:.0f} ms)" for label, entry in found}))
        print(f"  [{number}] {worst['execution_ms']:.0f} ms  {summarize_sql(worst['sql'])}")
        print(f"      on: {where}")
        for read in worst["reads"]:
            print(f"      - {read}")


def summarize_sql(sql, width=230):
    """One readable line: the select list and joins elided, the table, WHERE, GROUP BY, ORDER BY, LIMIT
    kept."""
    compact = re.sub(r"\s+", " ", sql).replace('"', "")
    compact = re.sub(r"\b(triage_triageitem|triage_occurrence)\.", "", compact)
    found = re.match(r"SELECT (DISTINCT )?(.*?) FROM (\w+)(.*)$", compact)
    if found and not found.group(2).startswith("COUNT(*) FROM ("):
        distinct, columns, table, rest = found.groups()
        columns = columns if len(columns) <= 60 else f"{columns[:57]}…"
        joins = rest.count(" JOIN ")
        tail = re.search(r" (WHERE|GROUP BY|ORDER BY|LIMIT) .*$", rest)
        compact = (
            f"SELECT {distinct or ''}{columns} FROM {table}"
            + (f" (+{joins} joins)" if joins else "")
            + (tail.group(0) if tail else "")
        )
    return compact[:width] + ("…" if len(compact) > width else "")


if __name__ == "__main__":
    try:
        main()
    except harness.BenchError as exc:
        sys.exit(f"bench/morning.py: {exc}")
    except KeyboardInterrupt:
        print(
            "bench/morning.py: interrupted (what-if indexes dropped; an unfinished load is rolled back)",
            file=sys.stderr,
        )
        sys.exit(130)
