"""Matching runbooks to errors: groups, operators, specificity, safe regexes, and the cached index."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from runbooks import matcher_rules, matching, services
from runbooks.matcher_rules import MatcherSpec
from runbooks.matching import MatchFacts, runbook_matches, runbook_matches_many
from runbooks.models import Runbook

pytestmark = pytest.mark.django_db

CART_ERROR = MatchFacts(
    service="checkout-api",
    exception_type="KeyError",
    exception_value="'sku' missing in cart 42",
    culprit="checkout.cart in line_price",
    fingerprint=["{{ default }}", "cart"],
    sentry_issue_id="4242",
    level="error",
    environment="production",
    tags={"customer_tier": "gold", "release": "1.5.0"},
)


def make(user, slug, *matchers, title=None):
    specs = [MatcherSpec(*m) if isinstance(m, tuple) else m for m in matchers]
    return services.runbook_create(
        user=user, slug=slug, title=title or slug, body=f"# {slug}", matchers=specs
    )


def slugs(facts=CART_ERROR, **kwargs):
    return [match.runbook.slug for match in runbook_matches(facts=facts, **kwargs)]


# --- Groups and operators -------------------------------------------------------------------------


def test_it_matches_when_every_matcher_of_one_group_matches(alice):
    make(alice, "both", (0, "service", "equals", "checkout-api"), (0, "exception_type", "equals", "KeyError"))
    make(
        alice, "half", (0, "service", "equals", "checkout-api"), (0, "exception_type", "equals", "TypeError")
    )
    make(
        alice, "second-group", (0, "service", "equals", "billing"), (1, "environment", "equals", "production")
    )

    assert sorted(slugs()) == ["both", "second-group"]


@pytest.mark.parametrize(
    "field,op,value,matches",
    [
        ("exception_value", "contains", "SKU' MISSING", True),  # contains ignores case
        ("exception_value", "contains", "basket", False),
        ("culprit", "glob", "checkout.*", True),
        ("culprit", "glob", "Checkout.*", False),  # glob is exact about case
        ("exception_value", "regex", r"cart \d+$", True),
        ("exception_value", "regex", r"^cart", False),
        ("exception_type", "equals", "keyerror", False),
        ("level", "equals", "ERROR", True),  # levels are lowered on save, as Sentry sends them
        ("tag:customer_tier", "equals", "gold", True),
        ("tag:customer_tier", "glob", "sil*", False),
        ("tag:region", "equals", "eu", False),  # an absent tag matches nothing
        ("fingerprint", "equals", "cart", True),  # any part
        ("fingerprint", "equals", "{{ default }} cart", True),  # or the whole
        ("sentry_issue_id", "equals", "4242", True),
        ("environment", "contains", "staging", False),
    ],
)
def test_it_applies_each_operator(alice, field, op, value, matches):
    make(alice, "one", (0, field, op, value))

    assert slugs() == (["one"] if matches else [])


def test_it_never_matches_an_empty_fact(alice):
    make(alice, "env", (0, "environment", "glob", "*"))

    assert slugs(MatchFacts(service="checkout-api")) == []
    assert slugs(MatchFacts(environment="staging")) == ["env"]


def test_it_matches_a_group_without_any_equals_matcher(alice):
    make(alice, "loose", (0, "exception_value", "contains", "missing"), (0, "culprit", "regex", r"line_\w+"))

    assert slugs() == ["loose"]


# --- Specificity ----------------------------------------------------------------------------------------


def test_it_ranks_issue_id_over_service_and_type_over_service_alone(alice):
    make(alice, "service-only", (0, "service", "equals", "checkout-api"))
    make(
        alice,
        "service-and-type",
        (0, "service", "equals", "checkout-api"),
        (0, "exception_type", "equals", "KeyError"),
    )
    make(alice, "this-issue", (0, "sentry_issue_id", "equals", "4242"))

    found = runbook_matches(facts=CART_ERROR)

    assert [m.runbook.slug for m in found] == ["this-issue", "service-and-type", "service-only"]
    assert [m.score for m in found] == [300_000, 330, 30]


def test_it_ranks_exact_over_glob_over_regex_on_the_same_field(alice):
    make(alice, "by-regex", (0, "exception_type", "regex", "^Key"))
    make(alice, "by-glob", (0, "exception_type", "glob", "Key*"))
    make(alice, "exact", (0, "exception_type", "equals", "KeyError"))

    assert slugs() == ["exact", "by-glob", "by-regex"]


def test_it_keeps_the_best_group_of_a_runbook_once(alice):
    make(
        alice, "two-ways", (0, "service", "equals", "checkout-api"), (1, "sentry_issue_id", "equals", "4242")
    )

    (match,) = runbook_matches(facts=CART_ERROR)

    assert (match.group, match.score) == (1, 300_000)


def test_no_group_of_ordinary_matchers_outranks_an_issue_id():
    strongest = max(
        matcher_rules.score(field, "equals")
        for field in (*matcher_rules.FIELDS, "tag:x")
        if field != "sentry_issue_id"
    )

    assert strongest * matcher_rules.MAX_PER_GROUP < matcher_rules.score("sentry_issue_id", "regex")


def test_it_tells_the_version_and_breaks_ties_by_slug(alice):
    make(alice, "b-runbook", (0, "service", "equals", "checkout-api"))
    make(alice, "a-runbook", (0, "service", "equals", "checkout-api"))

    found = runbook_matches(facts=CART_ERROR)

    assert [m.runbook.slug for m in found] == ["a-runbook", "b-runbook"]
    runbook = Runbook.objects.get(slug="a-runbook")
    assert (found[0].runbook.id, found[0].version.id, found[0].version.number) == (
        runbook.pk,
        runbook.current_version_id,
        1,
    )


def test_it_limits_the_matches(alice):
    for n in range(5):
        make(alice, f"rb-{n}", (0, "service", "equals", "checkout-api"))

    assert len(slugs(limit=3)) == 3
    assert len(slugs(limit=None)) == 5


# --- Regexes on RE2 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [
        r"(a+)+$",
        r"(a*)*b",
        r"(a|aa)+$",
        r"(\w+\s?)*$",
        r".*.*x",
        r"\w+\s*\w+x",
        r"(?:x{1,90}){2,}",
        r"^.*a.*b.*c",
    ],
)
def test_it_accepts_the_nested_repeats_the_backtracking_check_refused(pattern):
    matcher_rules.check(MatcherSpec(0, "exception_value", "regex", pattern))


def test_patterns_that_backtrack_on_re_stay_fast_on_hostile_input(alice):
    make(alice, "hostile", (0, "exception_value", "regex", r"(a|aa)+b"), (0, "culprit", "regex", r".*.*x"))
    hostile = MatchFacts(exception_value="a" * 100_000, culprit="a" * 100_000)
    runbook_matches(facts=hostile)  # build the index first

    started = time.perf_counter()
    assert runbook_matches(facts=hostile) == []
    assert time.perf_counter() - started < 0.1


def test_it_names_the_bad_matcher(alice):
    with pytest.raises(Exception) as caught:
        make(alice, "bad", (0, "service", "equals", "x"), (0, "exception_value", "regex", r"(a)\1"))

    assert caught.value.message_dict["matchers"] == [
        (
            "matcher 2 (group 0: exception_value regex '(a)\\\\1'): backreference \\1 is not supported: "
            "runbook regexes run on RE2, which has no backtracking"
        )
    ]
    assert not Runbook.objects.exists()


@pytest.mark.parametrize(
    "spec,problem",
    [
        (MatcherSpec(0, "stack", "equals", "x"), "unknown field"),
        (MatcherSpec(0, "tag:", "equals", "x"), "tag field"),
        (MatcherSpec(0, "service", "like", "x"), "unknown operator"),
        (MatcherSpec(0, "service", "equals", ""), "empty"),
        (MatcherSpec(100, "service", "equals", "x"), "group"),
        (MatcherSpec(0, "culprit", "regex", "(unclosed"), "invalid regex: missing \\)"),
        (MatcherSpec(0, "culprit", "regex", "^app(?=\\.)"), "lookaround"),
        (MatcherSpec(0, "culprit", "regex", r"\pL{1000}"), "too large"),
        (MatcherSpec(0, "culprit", "regex", r"(?:x{1,900}){2,}"), "at most 1000, nested counts multiplied"),
        (MatcherSpec(0, "culprit", "regex", "a" * 201), "longer than 200"),
    ],
)
def test_it_explains_what_is_wrong_with_a_matcher(spec, problem):
    with pytest.raises(matcher_rules.MatcherError, match=problem):
        matcher_rules.check(spec)


def test_it_limits_matchers_per_group():
    specs = [MatcherSpec(0, "tag:k", "equals", str(n)) for n in range(matcher_rules.MAX_PER_GROUP + 1)]

    assert matcher_rules.check_all(specs) == [f"group 0 has more than {matcher_rules.MAX_PER_GROUP} matchers"]


# --- The index --------------------------------------------------------------------------------------------


def test_it_checks_the_index_with_one_query_and_rebuilds_after_a_change(alice):
    runbook = make(alice, "one", (0, "service", "equals", "checkout-api"))
    assert slugs() == ["one"]

    with CaptureQueriesContext(connection) as queries:
        assert slugs() == ["one"]
    assert len(queries) == 1  # the token: nothing else while it is unchanged

    services.runbook_matchers_replace(
        runbook=runbook, user=alice, matchers=[MatcherSpec(0, "service", "equals", "billing")]
    )
    assert slugs() == []
    assert slugs(MatchFacts(service="billing")) == ["one"]


def test_it_sees_new_titles_versions_and_deletions(alice):
    runbook = make(alice, "one", (0, "service", "equals", "checkout-api"))
    assert runbook_matches(facts=CART_ERROR)[0].version.number == 1

    services.runbook_update(runbook=runbook, user=alice, title="Renamed", body="new text")

    (match,) = runbook_matches(facts=CART_ERROR)
    assert (match.runbook.title, match.version.number) == ("Renamed", 2)
    Runbook.objects.get(pk=runbook.pk).delete()
    assert slugs() == []


def test_it_rebuilds_when_the_token_row_is_gone(alice):
    make(alice, "one", (0, "service", "equals", "checkout-api"))
    assert slugs() == ["one"]
    matching.MatcherIndexState.objects.all().delete()  # a flushed database

    assert slugs() == ["one"]
    make(alice, "two", (0, "service", "equals", "checkout-api"))
    assert slugs() == ["one", "two"]


def test_it_matches_a_batch_with_one_check(alice):
    make(alice, "one", (0, "service", "equals", "checkout-api"))
    batch = [CART_ERROR, MatchFacts(service="billing"), CART_ERROR]
    runbook_matches_many(facts=batch)

    with CaptureQueriesContext(connection) as queries:
        found = runbook_matches_many(facts=batch)

    assert [[m.runbook.slug for m in one] for one in found] == [["one"], [], ["one"]]
    assert len(queries) == 1


def test_it_skips_a_pattern_saved_around_validation(alice):
    runbook = make(alice, "one", (0, "service", "equals", "checkout-api"))
    runbook.matchers.create(group=1, field="culprit", op="regex", value="(unclosed")
    services.matcher_index_touch()

    assert slugs() == ["one"]


def test_it_files_each_group_under_its_rarest_equals_matcher(alice):
    for n in range(3):
        make(alice, f"svc-{n}", (0, "service", "equals", "checkout-api"), (0, "level", "equals", "error"))
    make(alice, "narrow", (0, "service", "equals", "checkout-api"), (0, "sentry_issue_id", "equals", "4242"))
    make(alice, "loose", (0, "exception_value", "contains", "sku"))

    index = matching.current_index()

    assert [g.runbook_id for g in index.by_anchor[("sentry_issue_id", "4242")]] == [
        Runbook.objects.get(slug="narrow").pk
    ]
    # service=checkout-api is shared by four groups, level=error by three: the three are filed under the
    # level.
    assert len(index.by_anchor[("level", "error")]) == 3
    assert ("service", "checkout-api") not in index.by_anchor
    assert [g.runbook_id for g in index.unanchored] == [Runbook.objects.get(slug="loose").pk]
    assert slugs() == [
        "narrow",
        "loose",
        "svc-0",
        "svc-1",
        "svc-2",
    ]  # a message (60) outweighs service + level (36)
