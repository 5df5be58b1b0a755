"""Issue 18: regex matchers run on RE2, so no pattern can stall the web workers or the drain.

The issue's pattern `^(?:a?){40}a{40}` backtracks for hours on 40 `a`s in Python's `re`. These tests
assert results, not timings: `stops_instead_of_hanging` only turns a hang into a failure.
"""

import html
import logging
import signal
from contextlib import contextmanager

import pytest

from integrations import drain
from integrations.models import WebhookDelivery
from integrations.services import deliveries_process
from integrations.tasks import drain_deliveries
from runbooks import matching, services
from runbooks.matcher_rules import MatcherSpec
from runbooks.matching import MatchFacts, runbook_matches
from runbooks.models import Runbook
from tests.helpers import event_payload, post_webhook
from tests.runbooks.test_api import api_for
from triage.models import TriageItem

HOSTILE = r"^(?:a?){40}a{40}"
NO_BACKTRACKING = "runbook regexes run on RE2, which has no backtracking"


@contextmanager
def stops_instead_of_hanging(seconds=20):
    """A backtracking engine would run on for hours: fail the test instead (RE2 answers in microseconds).

    The alarm repeats each second: the drain redoes a failed batch one delivery at a time.
    """

    def give_up(signum, frame):
        raise AssertionError(f"still matching after {seconds} s")

    previous = signal.signal(signal.SIGALRM, give_up)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def runbook_body(slug, pattern):
    return {
        "slug": slug,
        "title": f"Runbook {slug}",
        "body": "## Steps\n\n1. Look",
        "matchers": [{"group": 0, "field": "exception_value", "op": "regex", "value": pattern}],
    }


def make(user, slug, *matchers):
    return services.runbook_create(
        user=user,
        slug=slug,
        title=slug,
        body=f"# {slug}",
        matchers=[MatcherSpec(*matcher) for matcher in matchers],
    )


# --- The issue's pattern ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_answers_the_match_api_for_the_issues_pattern(alice, bob):
    assert (
        api_for(alice).post("/api/runbooks/", runbook_body("hostile", HOSTILE), format="json").status_code
        == 201
    )

    with stops_instead_of_hanging():
        matched = api_for(bob).post("/api/runbooks/match/", {"exception_value": "a" * 40}, format="json")
        missed = api_for(bob).post("/api/runbooks/match/", {"exception_value": "a" * 39}, format="json")

    assert matched.status_code == 200
    assert [row["slug"] for row in matched.json()["results"]] == ["hostile"]
    assert (missed.status_code, missed.json()["results"]) == (200, [])


@pytest.fixture
def published(monkeypatch):
    """The drain's follow-up tasks, recorded instead of sent: the test runs the drain itself."""
    sent = []
    monkeypatch.setattr(
        drain_deliveries, "apply_async", lambda *args, **kwargs: sent.append(kwargs["kwargs"])
    )
    return sent


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_drain_links_the_issues_value_and_processes_the_deliveries_after_it(client, alice, published):
    make(alice, "hostile", (0, "exception_value", "regex", HOSTILE))
    hostile = {"values": [{"type": "ValueError", "value": "a" * 40}]}
    post_webhook(client, "event_alert", event_payload("hostile", "1001", exception=hostile))
    later = [
        post_webhook(client, "event_alert", event_payload(f"later-{n}", "1002")).json()["delivery"]
        for n in range(2)
    ]

    with stops_instead_of_hanging():
        assert drain.deliveries_drain(process=deliveries_process) == 3

    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.PROCESSED}
    assert WebhookDelivery.objects.filter(pk__in=later).count() == 2
    linked = dict(TriageItem.objects.values_list("sentry_issue_id", "runbook__slug"))
    assert linked == {"1001": "hostile", "1002": None}


# --- Refused at save time, naming the construct -------------------------------------------------------------


REFUSED = [
    (r"KeyError: '(?=\w)", f"lookaround (?=…) is not supported: {NO_BACKTRACKING}"),
    (r"(?<!order )\d+ failed", f"lookaround (?<!…) is not supported: {NO_BACKTRACKING}"),
    (r"(['\"])sku\1", f"backreference \\1 is not supported: {NO_BACKTRACKING}"),
    (r"(?P<q>')sku(?P=q)", f"backreference (?P=…) is not supported: {NO_BACKTRACKING}"),
    (r"cart \d++", f"possessive quantifier ++ is not supported: {NO_BACKTRACKING}"),
    (r"(?>a+)b", f"atomic group (?>…) is not supported: {NO_BACKTRACKING}"),
    (r"failed\Z", r"\Z is not supported on RE2: write \z for the end of the text"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("pattern,message", REFUSED)
def test_the_api_refuses_what_re2_cannot_run_and_says_why(alice, pattern, message):
    response = api_for(alice).post("/api/runbooks/", runbook_body("refused", pattern), format="json")

    assert response.status_code == 400
    assert f"matchers[0] (group 0: exception_value regex {pattern!r}): {message}" in response.json()["error"]
    assert not Runbook.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("pattern,message", REFUSED[:2])  # backreferences: tests/runbooks/test_pages.py
def test_the_form_refuses_lookaround_naming_the_line(alice_client, pattern, message):
    form = {
        "title": "T",
        "slug": "t",
        "body": "x",
        "matchers": f"service equals checkout-api\nexception_value regex {pattern}",
    }

    response = alice_client.post("/runbooks/new/", form)

    assert response.status_code == 200
    assert f"Line 2 (exception_value regex {pattern!r}): {message}" in html.unescape(
        response.content.decode()
    )
    assert not Runbook.objects.exists()


@pytest.mark.django_db
def test_it_refuses_a_pattern_past_re2s_memory_budget_with_a_message(alice):
    # Valid RE2, 9 characters: a thousand Unicode letters compile to more than the budget allows.
    response = api_for(alice).post("/api/runbooks/", runbook_body("huge", r"\pL{1000}"), format="json")

    assert response.status_code == 400
    assert (
        "matchers[0] (group 0: exception_value regex '\\\\pL{1000}'): regex is too large: RE2 would need"
        " more "
        "than 1024 KiB for it; use smaller repeat counts"
    ) in response.json()["error"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "pattern,value",
    [
        (r"(a+)+b", "a" * 900 + "b"),
        (r"(\w+\s?)*$", "word " * 200),
        (r"^.*a.*b.*c", "a" * 900 + "bc"),
        (r"\pL+Error", "ÜberError"),
        (r"failed\z", "order 7 failed"),
    ],
)
def test_it_saves_and_matches_patterns_the_backtracking_check_refused(alice, pattern, value):
    make(alice, "now-allowed", (0, "exception_value", "regex", pattern))

    with stops_instead_of_hanging():
        found = runbook_matches(facts=MatchFacts(exception_value=value))

    assert [match.runbook.slug for match in found] == ["now-allowed"]


# --- Patterns stored before RE2 -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_stored_pattern_re2_refuses_matches_nothing_and_is_logged_once(alice, caplog):
    make(alice, "fine", (0, "exception_value", "contains", "sku"))
    legacy = make(alice, "legacy", (0, "service", "equals", "checkout-api"))
    legacy.matchers.update(
        op="regex", field="exception_value", value=r"(?<=')sku"
    )  # valid in re, saved before RE2
    services.matcher_index_touch()
    matching._log_unusable.cache_clear()  # logged once per process: start this test's process afresh
    facts = MatchFacts(service="checkout-api", exception_value="'sku' missing")

    with caplog.at_level(logging.WARNING, logger="runbooks.matching"):
        assert [match.runbook.slug for match in runbook_matches(facts=facts)] == ["fine"]
        services.matcher_index_touch()  # a rebuild does not log it again
        assert [match.runbook.slug for match in runbook_matches(facts=facts)] == ["fine"]

    assert [record.getMessage() for record in caplog.records] == [
        'runbook matcher exception_value regex "(?<=\')sku" matches nothing: lookaround (?<=…) is not'
        " supported: "
        f"{NO_BACKTRACKING}"
    ]
