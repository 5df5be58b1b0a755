"""Finding split and merge suggestions from occurrences, and keeping them current."""

from datetime import UTC, datetime, timedelta

import pytest

from grouping import services
from grouping.models import ItemMix, RecomputeRun, Suggestion
from tests.grouping_data import bulk_occurrences, item_of, send_events
from triage.models import Occurrence

pytestmark = pytest.mark.django_db

MIXED = "7001"


@pytest.fixture
def mixed_item(client):
    """One Sentry issue holding 2 services x 2 inner exceptions, with ids in every message."""
    for service, inner, value in [
        ("checkout-api", "KeyError", "'sku-{n}'"),
        ("checkout-api", "TimeoutError", "timed out after {n} ms"),
        ("billing-worker", "KeyError", "'sku-{n}'"),
        ("billing-worker", "TimeoutError", "timed out after {n} ms"),
    ]:
        send_events(client, issue_id=MIXED, service=service, inner_type=inner, value=value, count=6)
    return item_of(MIXED)


def test_it_suggests_one_split_with_four_groups_and_the_rule(mixed_item):
    run = services.suggestions_recompute(full=True)
    suggestion = Suggestion.objects.get()
    assert (run.splits, run.merges, suggestion.kind, suggestion.item_id) == (1, 0, "split", mixed_item.pk)
    groups = {
        (g["service"], g["exception_type"], g["message_template"]): g["events"] for g in suggestion.groups
    }
    assert groups == {
        ("checkout-api", "KeyError", "'<str>'"): 6,
        ("checkout-api", "TimeoutError", "timed out after <n> ms"): 6,
        ("billing-worker", "KeyError", "'<str>'"): 6,
        ("billing-worker", "TimeoutError", "timed out after <n> ms"): 6,
    }
    assert suggestion.rule.splitlines()[1:] == [
        'error.type:"KeyError" -> {{ default }}, {{ tags.service }}, KeyError',
        'error.type:"TimeoutError" -> {{ default }}, {{ tags.service }}, TimeoutError',
    ]
    assert suggestion.rule.startswith("# Split ")
    assert (suggestion.preview_issues, suggestion.events, suggestion.other_events) == (4, 24, 0)
    assert all(g["share"] == 0.25 and g["example"]["event_id"].startswith("ev-") for g in suggestion.groups)


def test_it_suggests_nothing_for_a_uniform_item_whose_messages_differ_only_in_ids(client):
    send_events(
        client,
        issue_id="7002",
        service="checkout-api",
        inner_type="LookupError",
        value="order {n} of customer {id} not found at 0x{n}f3a9b2c",
        count=30,
    )
    services.suggestions_recompute(full=True)
    assert not Suggestion.objects.exists()
    mix = ItemMix.objects.get()
    assert (mix.message_template, mix.events, mix.split) == (
        "order <n> of customer <uuid> not found at <hex>",
        30,
        False,
    )


def test_it_ignores_groups_below_a_tenth_or_five_events(client):
    send_events(client, issue_id="7003", service="checkout-api", inner_type="KeyError", value="'a'", count=40)
    send_events(
        client, issue_id="7003", service="billing-worker", inner_type="KeyError", value="'a'", count=4
    )
    services.suggestions_recompute(full=True)
    assert not Suggestion.objects.exists()


def test_it_counts_only_the_last_30_days(client):
    send_events(client, issue_id="7004", service="checkout-api", inner_type="KeyError", value="'a'", count=6)
    send_events(
        client,
        issue_id="7004",
        service="billing-worker",
        inner_type="KeyError",
        value="'a'",
        count=6,
        hours_ago=24 * 31,
    )
    services.suggestions_recompute(full=True)
    assert not Suggestion.objects.exists()


def test_it_splits_by_message_template_when_only_the_template_differs(client):
    send_events(
        client,
        issue_id="7005",
        service="checkout-api",
        inner_type="ValueError",
        value="invalid card {n}",
        count=8,
    )
    send_events(
        client,
        issue_id="7005",
        service="checkout-api",
        inner_type="ValueError",
        value='currency "XYZ" not supported for order {n}',
        count=8,
    )
    services.suggestions_recompute(full=True)
    lines = Suggestion.objects.get().rule.splitlines()[1:]
    assert lines == [
        'error.type:"ValueError" error.value:"currency \\"*\\" not supported for order *" -> {{ default }}, '
        "currency-not-supported-for-order",
        'error.type:"ValueError" error.value:"invalid card *" -> {{ default }}, invalid-card',
    ]


def test_it_suggests_one_merge_for_two_issues_of_the_same_template(client):
    for issue_id in ("7010", "7011"):
        send_events(
            client,
            issue_id=issue_id,
            service="checkout-api",
            inner_type="ConnectionError",
            value="connect to 10.0.0.{n}:5432 refused",
            count=5,
            culprit="app.db in connect",
        )
    send_events(
        client,
        issue_id="7012",
        service="checkout-api",
        inner_type="ConnectionError",
        value="connect to 10.0.0.{n}:5432 refused",
        count=5,
        culprit="app.cache in connect",
    )
    services.suggestions_recompute(full=True)
    suggestion = Suggestion.objects.get()
    assert suggestion.kind == "merge"
    assert sorted(suggestion.items.values_list("sentry_issue_id", flat=True)) == ["7010", "7011"]
    assert [g["events"] for g in suggestion.groups] == [5, 5] and suggestion.events == 10
    assert suggestion.rule.splitlines()[-1] == (
        'error.type:"ConnectionError" error.value:"connect to * refused" -> {{ tags.service }},'
        " ConnectionError, "
        "connect-to-refused"
    )
    assert suggestion.preview_issues == 1


def test_it_keeps_a_dismissal_until_the_mix_changes_materially(client, mixed_item, alice):
    services.suggestions_recompute(full=True)
    suggestion = Suggestion.objects.get()
    services.suggestion_dismiss(suggestion_id=suggestion.pk, user=alice, reason="the worker retries these")
    send_events(client, issue_id=MIXED, service="checkout-api", inner_type="KeyError", value="'x'", count=2)
    services.suggestions_recompute(full=True)
    suggestion.refresh_from_db()
    assert suggestion.dismissal is not None and suggestion.dismissal.lifted_at is None
    # A fifth group appears: the mix changed, the suggestion is back.
    send_events(client, issue_id=MIXED, service="search-api", inner_type="KeyError", value="'x'", count=8)
    services.suggestions_recompute(full=True)
    suggestion.refresh_from_db()
    assert suggestion.dismissal is None and suggestion.active
    assert suggestion.dismissals.get().lifted_at is not None
    assert len(suggestion.groups) == 5


def test_it_lifts_a_dismissal_when_shares_shift(mixed_item, alice):
    services.suggestions_recompute(full=True)
    suggestion = Suggestion.objects.get()
    services.suggestion_dismiss(suggestion_id=suggestion.pk, user=alice, reason="known")
    bulk_occurrences(
        mixed_item, service="checkout-api", exception_type="KeyError", template="'<str>'", count=30
    )
    services.suggestions_recompute(full=True)
    suggestion.refresh_from_db()
    assert suggestion.dismissal is None


def test_an_incremental_recompute_touches_only_items_with_new_events(client, mixed_item):
    send_events(client, issue_id="7020", service="checkout-api", inner_type="KeyError", value="'a'", count=5)
    first = services.suggestions_recompute()
    assert first.kind == "full" and first.items_examined == 2
    send_events(client, issue_id="7020", service="checkout-api", inner_type="KeyError", value="'b'", count=1)
    later = datetime.now(UTC) + timedelta(seconds=1)
    second = services.suggestions_recompute(now=later)
    assert (
        second.kind == "incremental" and second.items_examined == 2
    )  # re-reads the last ids, see REREAD_IDS
    assert second.since_occurrence_id == max(first.watermark - services.REREAD_IDS, 0)
    quiet = services.suggestions_recompute(now=later + timedelta(seconds=1))
    assert quiet.kind == "incremental"


def test_an_incremental_run_skips_items_older_than_the_watermark(client, mixed_item, monkeypatch):
    monkeypatch.setattr(services, "REREAD_IDS", 0)
    send_events(client, issue_id="7021", service="checkout-api", inner_type="KeyError", value="'a'", count=5)
    services.suggestions_recompute(full=True)
    mixed_before = ItemMix.objects.get(item=mixed_item).computed_at
    send_events(client, issue_id="7021", service="checkout-api", inner_type="KeyError", value="'b'", count=1)
    run = services.suggestions_recompute(now=datetime.now(UTC) + timedelta(seconds=1))
    assert (run.kind, run.items_examined) == ("incremental", 1)
    assert ItemMix.objects.get(item=mixed_item).computed_at == mixed_before
    assert ItemMix.objects.get(item=item_of("7021")).computed_at == run.started_at
    assert Suggestion.objects.get().active  # the mixed item's split is left as it was


def test_a_full_run_is_due_a_week_after_the_last(mixed_item):
    first = services.suggestions_recompute()
    assert services.suggestions_recompute(now=first.started_at + timedelta(days=1)).kind == "incremental"
    assert services.suggestions_recompute(now=first.started_at + timedelta(days=8)).kind == "full"


def test_it_retires_a_split_once_the_item_is_uniform_again(mixed_item):
    services.suggestions_recompute(full=True)
    Occurrence.objects.filter(item=mixed_item).exclude(
        service_key="checkout-api", inner_exception_type="KeyError"
    ).delete()
    run = services.item_suggestions_recompute(
        item_id=mixed_item.pk, now=datetime.now(UTC) + timedelta(seconds=1)
    )
    assert (run.kind, run.splits) == ("item", 0)
    assert not Suggestion.objects.get().active


def test_running_twice_leaves_one_suggestion(mixed_item):
    services.suggestions_recompute(full=True)
    services.suggestions_recompute(full=True)
    assert Suggestion.objects.count() == 1 and Suggestion.objects.get().links.count() == 1
    assert RecomputeRun.objects.filter(finished_at__isnull=False).count() == 2
