"""Runbook matching: what linking an item to its best runbook adds to a webhook, with 5,000 runbooks and
20,000 matchers.

Regex matchers run on RE2 (linear time, see runbooks.matcher_rules); Python's `re.search`, which they ran on
before, is measured beside it in the same run as the anchor, on the same index and the same items.

PostgreSQL database `triage_bench_runbooks` (created and migrated here; its runbooks are replaced
on every run). In this process, with the portal's production settings:

- intake-like facts (a service, an exception type and message, a culprit, tags, sometimes an issue
  id a runbook names) matched one at a time with `runbook_matches`, as intake does: matches/s,
  µs per match (p50, p99), SQL statements per match;
- the same in memory only (the index already checked), to show what the token check costs;
- the same in memory with the regexes evaluated by plain `re.search` instead of RE2 (an index built
  with `_plain_re_predicate`, an in-bench copy of the evaluation before RE2), and whether both engines
  found the same runbooks for every item;
- the issue's hostile pattern `^(?:a?){40}a{40}` on INPUT_LIMIT characters, on RE2 only (`re` would
  take hours: it is exponential in that input);
- anchors measured in the same run: one indexed SELECT by primary key (the least a database
  round trip costs here), and a loop of dict lookups (the least any Python per match costs);
- the full re-index after a matcher change: the change itself, then the first match (rebuild);
- re-matching 10,000 open items in one batch, the matching part of re-linking them after a change
  (triage's task adds its own reads and writes);
- a full-text search over the 5,000 runbooks (the list page's query).

Goal: matching with RE2 adds under 1 ms per webhook (the mean of `runbook_matches`, token check included; p50
and p99 printed beside it, with plain `re`'s). BENCH_MATCHES sets how many facts are matched (default 20,000).
"""

import os
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/runbook_match.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/triage_bench_runbooks"
RUNBOOKS, MATCHERS = 5_000, 20_000
MATCHES = int(os.environ.get("BENCH_MATCHES", "20000"))
RELINK_ITEMS = 10_000
ROUNDS = 3
ANCHOR_ROUNDS = 5_000
GOAL_US = 1000
SERVICES = [f"svc-{n:02d}" for n in range(50)]
EXCEPTION_TYPES = [
    f"{word}Error"
    for word in (
        "Key",
        "Type",
        "Value",
        "Attribute",
        "Lookup",
        "Timeout",
        "Connection",
        "Permission",
        "Validation",
        "Integrity",
    )
] + [f"App{n}Error" for n in range(190)]
ENVIRONMENTS = ["production", "staging", "development"]
TIERS = ["gold", "silver", "bronze", "free"]


def main():
    harness.stop_on_sigterm()
    harness.require_port("127.0.0.1", 5432, "PostgreSQL")
    harness.create_database_if_missing(DATABASE_URL)
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    seed(random.Random(3))
    facts = intake_facts(random.Random(7), MATCHES)
    results = {
        "machine": machine(),
        "config": {"runbooks": RUNBOOKS, "matchers": MATCHERS, "matches": len(facts)},
    }
    results.update(measure(facts))
    print_report(results)
    print(f"\nResults: {harness.save_results('runbook_match', results).relative_to(harness.ROOT)}")


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
    """5,000 runbooks, each with 4 matchers in 1 or 2 groups, in the shapes teams write them."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from runbooks.models import Runbook, RunbookMatcher, RunbookVersion
    from runbooks.search import search_document_refresh
    from runbooks.services import matcher_index_touch

    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE runbooks_runbookuse, runbooks_runbookfeedback, runbooks_runbookmatcher, "
                "runbooks_runbookversion, runbooks_runbook CASCADE"
            )
        author, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True})
        runbooks = Runbook.objects.bulk_create(_runbook(n, rng) for n in range(RUNBOOKS))
        RunbookVersion.objects.bulk_create(
            RunbookVersion(runbook=rb, number=1, body=_body(rb, rng), summary="seed", author=author)
            for rb in runbooks
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE runbooks_runbook r SET current_version_id = v.id FROM runbooks_runbookversion v "
                "WHERE v.runbook_id = r.id"
            )
        RunbookMatcher.objects.bulk_create(
            (
                RunbookMatcher(runbook=rb, group=g, field=f, op=o, value=v)
                for rb in runbooks
                for g, f, o, v in _matchers(rb.pk, rng)
            ),
            batch_size=5000,
        )
        search_document_refresh()
        matcher_index_touch()
    assert RunbookMatcher.objects.count() == MATCHERS, RunbookMatcher.objects.count()
    print(
        f"  seeded {RUNBOOKS:,} runbooks and {MATCHERS:,} matchers in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def _runbook(n, rng):
    from runbooks.models import Runbook

    service = SERVICES[n % len(SERVICES)]
    title = (
        f"{rng.choice(EXCEPTION_TYPES)} in {service}: "
        f"{rng.choice(['checkout', 'login', 'sync', 'export', 'payment'])}"
    )
    return Runbook(slug=f"rb-{n:05d}", title=title, services=[service], team=f"team-{n % 12}", tags=["seed"])


def _body(runbook, rng):
    words = [
        "retry",
        "timeout",
        "database",
        "cache",
        "queue",
        "customer",
        "order",
        "refund",
        "restart",
        "deploy",
    ]
    steps = "\n".join(f"{i}. {' '.join(rng.choices(words, k=8))}" for i in range(1, 6))
    return f"## Impact\n\n{runbook.title}\n\n## Steps\n\n{steps}\n\n## Prevention\n\nAdd a test.\n"


def _matchers(pk, rng):
    """Four matchers; the shape depends on the runbook (40/20/20/15/5 %), as real runbooks vary."""
    service, exc = SERVICES[pk % len(SERVICES)], rng.choice(EXCEPTION_TYPES)
    kind = pk % 20
    if kind < 8:  # the usual: this error in this service, or this message in this service
        return [
            (0, "service", "equals", service),
            (0, "exception_type", "equals", exc),
            (1, "service", "equals", service),
            (1, "exception_value", "contains", f"order {pk} failed"),
        ]
    if kind < 12:  # one noisy issue, or a kind of error in one environment
        return [
            (0, "sentry_issue_id", "equals", str(900_000 + pk)),
            (1, "service", "equals", service),
            (1, "exception_type", "equals", exc),
            (1, "environment", "equals", rng.choice(ENVIRONMENTS)),
        ]
    if kind < 16:  # a code path for a customer tier
        return [
            (0, "service", "equals", service),
            (0, "culprit", "glob", f"app.module{pk % 300}.*"),
            (0, "level", "equals", "error"),
            (0, "tag:customer_tier", "equals", rng.choice(TIERS)),
        ]
    if kind < 19:  # a message pattern
        return [
            (0, "service", "equals", service),
            (0, "exception_value", "regex", rf"timeout after \d+ ms on {pk % 97}"),
            (0, "exception_type", "glob", "*Error"),
            (0, "environment", "equals", "production"),
        ]
    # No equals at all: evaluated for every item (250 groups).
    return [
        (0, "exception_value", "contains", f"rare failure {pk}"),
        (0, "culprit", "regex", rf"^app\.module{pk % 300}\b"),
        (0, "exception_type", "glob", f"*{exc[-9:]}"),
        (0, "level", "glob", "err*"),
    ]


def intake_facts(rng, count):
    """Items as intake sees them; about a third hit some runbook's issue id, message or code path."""
    from runbooks.matching import MatchFacts

    facts = []
    for n in range(count):
        pk = rng.randrange(1, RUNBOOKS + 1)
        value = rng.choice(
            [
                f"order {pk} failed",
                f"timeout after {rng.randrange(10, 9000)} ms on {pk % 97}",
                f"'sku' missing in cart {n}",
                f"rare failure {pk}",
                "connection reset by peer " * 3,
            ]
        )
        facts.append(
            MatchFacts(
                service=rng.choice(SERVICES),
                exception_type=rng.choice(EXCEPTION_TYPES),
                exception_value=value,
                culprit=f"app.module{rng.randrange(300)}.views in handle_{n % 40}",
                fingerprint=["{{ default }}"],
                sentry_issue_id=str(900_000 + pk if rng.random() < 0.1 else 5_000_000 + n),
                level="error",
                environment=rng.choice(ENVIRONMENTS),
                tags={
                    "customer_tier": rng.choice(TIERS),
                    "release": f"1.{n % 30}.0",
                    "browser": "Chrome 120",
                },
            )
        )
    return facts


# --- Measuring -------------------------------------------------------------------------------------------


def measure(facts):
    from django.db import connection, reset_queries

    from runbooks import matching, search, services
    from runbooks.models import Runbook, RunbookMatcher

    out = {}
    matching.forget_index()
    started = time.perf_counter()
    matching.runbook_matches(facts=facts[0])
    out["cold_build_s"] = time.perf_counter() - started

    # Rounds take turns so that other load on the machine falls on all of them alike; medians are reported.
    index, re_index = matching.current_index(), _plain_re_index(matching)
    rounds = [
        {
            "anchor_pk_select_us": _anchor_pk_select(connection),
            "anchor_dict_lookups_us": _anchor_dict(facts),
            "match": _timed(lambda one: matching.runbook_matches(facts=one), facts),
            "in_memory": _timed(lambda one: index.matches(one, limit=10), facts),
            "in_memory_re": _timed(lambda one: re_index.matches(one, limit=10), facts),
        }
        for _ in range(ROUNDS)
    ]
    out.update(_medians(rounds))
    out["matched_share"] = sum(bool(index.matches(one)) for one in facts) / len(facts)
    out["same_as_re"] = all(index.matches(one) == re_index.matches(one) for one in facts)
    out["unanchored_groups"] = len(index.unanchored)
    out["regex_matchers"] = RunbookMatcher.objects.filter(op="regex").count()
    out["hostile"] = _hostile()

    connection.force_debug_cursor = True
    reset_queries()
    for one in facts[:100]:
        matching.runbook_matches(facts=one)
    out["queries_per_match"] = len(connection.queries) / 100
    connection.force_debug_cursor = False

    out["index_mb"] = _index_memory(matching)
    out["reindex"] = _reindex(matching, services, Runbook)
    out["rematch_10k_s"] = _rematch(matching, facts)
    out["search_ms"] = _search(search)
    return out


def _medians(rounds):
    """Each figure's median over the rounds (the rounds themselves are kept in the results file)."""
    anchors = {
        key: statistics.median(r[key] for r in rounds)
        for key in ("anchor_pk_select_us", "anchor_dict_lookups_us")
    }
    timed = {
        key: {sub: statistics.median(r[key][sub] for r in rounds) for sub in rounds[0][key]}
        for key in ("match", "in_memory", "in_memory_re")
    }
    return {**anchors, **timed, "rounds": rounds}


def _timed(function, facts):
    timings = []
    for one in facts:
        started = time.perf_counter_ns()
        function(one)
        timings.append(time.perf_counter_ns() - started)
    total_s = sum(timings) / 1e9
    timings.sort()
    return {
        "per_second": round(len(facts) / total_s),
        "mean_us": round(statistics.fmean(timings) / 1000, 1),
        "p50_us": round(timings[len(timings) // 2] / 1000, 1),
        "p99_us": round(timings[int(len(timings) * 0.99)] / 1000, 1),
        "max_us": round(timings[-1] / 1000, 1),
    }


def _plain_re_predicate(op, value, product):
    """The evaluation before RE2, the anchor: `re.search` on the fact cut to INPUT_LIMIT (other operators as
    in product)."""
    from runbooks.matcher_rules import INPUT_LIMIT

    if op != "regex":
        return product(op, value)
    search = re.compile(value).search
    return lambda fact: search(fact[:INPUT_LIMIT]) is not None


def _plain_re_index(matching):
    """The same index, its regexes evaluated by `_plain_re_predicate` (matching reads matcher_rules.predicate
    at build time)."""
    from runbooks import matcher_rules

    product = matcher_rules.predicate
    matcher_rules.predicate = lambda op, value: _plain_re_predicate(op, value, product)
    try:
        return matching.build_index("plain re")
    finally:
        matcher_rules.predicate = product


def _hostile():
    """The issue's pattern (exponential on `re`) on RE2, over an input of INPUT_LIMIT characters."""
    from runbooks import matcher_rules

    test = matcher_rules.predicate("regex", r"^(?:a?){40}a{40}")
    started = time.perf_counter_ns()
    assert test("a" * matcher_rules.INPUT_LIMIT)
    return {"chars": matcher_rules.INPUT_LIMIT, "us": round((time.perf_counter_ns() - started) / 1000, 1)}


def _anchor_pk_select(connection):
    ids = list(range(1, ANCHOR_ROUNDS + 1))
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id) FROM runbooks_runbook")
        first = cursor.fetchone()[0]
        started = time.perf_counter_ns()
        for offset in ids:
            cursor.execute("SELECT id FROM runbooks_runbook WHERE id = %s", [first + offset % RUNBOOKS])
            cursor.fetchone()
    return round((time.perf_counter_ns() - started) / len(ids) / 1000, 1)


def _anchor_dict(facts):
    """Ten dict lookups per item: about what finding the candidate groups takes, with nothing evaluated."""
    table = {(f"field{n}", f"value{n}"): n for n in range(20_000)}
    started = time.perf_counter_ns()
    for one in facts:
        for key in (
            ("service", one.service),
            ("exception_type", one.exception_type),
            ("level", one.level),
            ("environment", one.environment),
            ("culprit", one.culprit),
            ("sentry_issue_id", one.sentry_issue_id),
            ("exception_value", one.exception_value),
            ("fingerprint", "x"),
            ("tag:a", "b"),
            ("tag:c", "d"),
        ):
            table.get(key)
    return round((time.perf_counter_ns() - started) / len(facts) / 1000, 2)


def _index_memory(matching):
    """What one process holds for the index (measured on a rebuild under tracemalloc, so not timed)."""
    import tracemalloc

    tracemalloc.start()
    index = matching.build_index("memory")
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del index
    return round(size / 2**20, 1)


def _reindex(matching, services, Runbook):
    from runbooks.matcher_rules import MatcherSpec

    author = Runbook.objects.first().current_version.author
    runbook = Runbook.objects.get(slug="rb-00042")
    started = time.perf_counter()
    services.runbook_matchers_replace(
        runbook=runbook,
        user=author,
        matchers=[
            MatcherSpec(0, "service", "equals", "svc-42"),
            MatcherSpec(0, "exception_type", "equals", "KeyError"),
            MatcherSpec(1, "sentry_issue_id", "equals", "900042"),
            MatcherSpec(1, "level", "equals", "error"),
        ],
    )
    changed = time.perf_counter()
    found = matching.runbook_matches(facts=matching.MatchFacts(sentry_issue_id="900042", level="error"))
    rebuilt = time.perf_counter()
    assert found and found[0].runbook.slug == "rb-00042", found
    return {
        "change_ms": round((changed - started) * 1000, 1),
        "rebuild_ms": round((rebuilt - changed) * 1000, 1),
    }


def _rematch(matching, facts):
    batch = (facts * (RELINK_ITEMS // len(facts) + 1))[:RELINK_ITEMS]
    started = time.perf_counter()
    matching.runbook_matches_many(facts=batch, limit=1)
    return round(time.perf_counter() - started, 3)


def _search(search):
    timings = []
    for q in ("timeout database", "checkout", "refund customer order", "KeyError"):
        started = time.perf_counter()
        list(search.runbook_search(q=q)[:50])
        timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 1)


# --- Report -------------------------------------------------------------------------------------------------


def machine():
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(terse=True),
    }


def print_report(r):
    m, match, memory, plain_re = r["machine"], r["match"], r["in_memory"], r["in_memory_re"]
    print(f"\nRunbook matching · {m['cores']} cores · {m['system']} · Python {m['python']} · PostgreSQL")
    print(
        f"{RUNBOOKS:,} runbooks, {MATCHERS:,} matchers ({r['regex_matchers']:,} of them regexes; "
        f"{r['unanchored_groups']} groups without an equals matcher, evaluated for every item); "
        f"{r['config']['matches']:,} intake-like items, {r['matched_share']:.0%} of them matched\n"
    )
    print(f"  medians of {ROUNDS} rounds, taking turns")
    print(f"  {'':46}{'per s':>9}{'mean µs':>9}{'p50 µs':>8}{'p99 µs':>8}{'max µs':>9}")
    for label, row in (
        ("RE2: runbook_matches (token check + match)", match),
        ("RE2: in memory only (index held)", memory),
        ("anchor: plain re.search, in memory", plain_re),
    ):
        print(
            f"  {label:46}{row['per_second']:>9,}{row['mean_us']:>9}"
            f"{row['p50_us']:>8}{row['p99_us']:>8}{row['max_us']:>9}"
        )
    print(f"  anchor: one SELECT by primary key          {r['anchor_pk_select_us']:>8} µs")
    print(f"  anchor: ten dict lookups                   {r['anchor_dict_lookups_us']:>8} µs")
    print(f"  same runbooks found by RE2 and re for every item: {'yes' if r['same_as_re'] else 'NO'}")
    print(
        f"  ^(?:a?){{40}}a{{40}} on {r['hostile']['chars']:,} characters,"
        f" RE2          {r['hostile']['us']:>8} µs "
        "(re: exponential, not run)"
    )
    print(f"  SQL statements per match: {r['queries_per_match']:.0f}")
    print(f"\n  cold index build (first match in a process)  {r['cold_build_s'] * 1000:>8.0f} ms")
    print(f"  index memory per process                     {r['index_mb']:>8.1f} MB")
    print(f"  matcher change (replace one runbook's)       {r['reindex']['change_ms']:>8.1f} ms")
    print(f"  full re-index on the next match               {r['reindex']['rebuild_ms']:>8.1f} ms")
    print(f"  re-match {RELINK_ITEMS:,} open items in one batch         {r['rematch_10k_s'] * 1000:>8.0f} ms")
    print(f"  full-text search over {RUNBOOKS:,} runbooks (median)  {r['search_ms']:>8.1f} ms")
    met = match["mean_us"] < GOAL_US
    print(
        f"\nGoal: matching with RE2 adds < {GOAL_US} µs per webhook: mean {match['mean_us']} µs => "
        f"{'goal met' if met else 'GOAL NOT MET'} (p50 {match['p50_us']}, p99 {match['p99_us']} µs; the"
        " token "
        f"check is a database round trip, {r['anchor_pk_select_us']} µs here)"
    )
    print(
        f"  in memory, per webhook: RE2 p50 {memory['p50_us']} / p99 {memory['p99_us']} µs, "
        f"plain re p50 {plain_re['p50_us']} / p99 {plain_re['p99_us']} µs"
    )


if __name__ == "__main__":
    try:
        main()
    except harness.BenchError as exc:
        sys.exit(f"bench/runbook_match.py: {exc}")
    except KeyboardInterrupt:
        print("bench/runbook_match.py: interrupted", file=sys.stderr)
        sys.exit(130)
