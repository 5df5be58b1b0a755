"""Items handled with a runbook: the use record triage keeps, the version it pins, and the usefulness
figures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runbooks import services, stats
from runbooks.matcher_rules import MatcherSpec
from runbooks.matching import MatchFacts, runbook_matches
from runbooks.models import Runbook, RunbookUse

pytestmark = pytest.mark.django_db
T0 = timezone.now().replace(microsecond=0) - timedelta(days=10)


@pytest.fixture
def runbook(alice):
    return services.runbook_create(user=alice, slug="cart", title="Cart errors", body="v1")


def link(runbook, item_ref, *, at=T0, **kwargs):
    return services.runbook_use_record(
        version=Runbook.objects.get(pk=runbook.pk).current_version,
        item_ref=item_ref,
        item_title=f"Item {item_ref}",
        item_url=f"/items/{item_ref}/",
        linked_at=at,
        **kwargs,
    )


def test_it_records_one_use_per_item_and_updates_it(runbook):
    link(runbook, 7)
    link(runbook, 7, at=T0 + timedelta(hours=1))

    use = RunbookUse.objects.get()
    assert (use.item_ref, use.item_title, use.linked_at, use.version.number) == (7, "Item 7", T0, 1)
    assert Runbook.objects.get().last_used_at == T0 + timedelta(hours=1)


def test_it_records_a_use_from_a_match(runbook, alice):
    services.runbook_matchers_replace(
        runbook=runbook, user=alice, matchers=[MatcherSpec(0, "service", "equals", "cart")]
    )
    (match,) = runbook_matches(facts=MatchFacts(service="cart"))

    use = services.runbook_use_record(
        version=match.version, item_ref=9, item_title="Item 9", item_url="/items/9/", linked_at=T0
    )

    assert (use.runbook_id, use.version.number) == (runbook.pk, 1)


def test_the_use_follows_the_current_version_until_decided_then_stays(alice, runbook):
    link(runbook, 7)
    services.runbook_update(runbook=runbook, user=alice, body="v2")
    link(runbook, 7)  # re-linked on a later event: still undecided, so it moves to v2
    assert RunbookUse.objects.get().version.number == 2

    decided = services.runbook_use_update(
        runbook_id=runbook.pk, item_ref=7, decided_at=T0 + timedelta(hours=2)
    )
    services.runbook_update(runbook=runbook, user=alice, body="v3")
    link(runbook, 7)
    services.runbook_use_update(runbook_id=runbook.pk, item_ref=7, decided_at=T0 + timedelta(hours=5))

    assert decided.version.number == 2
    assert RunbookUse.objects.get().version.number == 2  # "handled with v2" stays true after v3


def test_the_first_decision_pins_the_version_current_then(alice, runbook):
    link(runbook, 7)
    services.runbook_update(runbook=runbook, user=alice, body="v2")

    use = services.runbook_use_update(runbook_id=runbook.pk, item_ref=7, decided_at=T0 + timedelta(hours=1))

    assert use.version.number == 2


def test_it_updates_resolution_and_helped_and_leaves_the_rest(runbook):
    link(runbook, 7, decided_at=T0 + timedelta(hours=1))

    services.runbook_use_update(runbook_id=runbook.pk, item_ref=7, helped=True)
    services.runbook_use_update(runbook_id=runbook.pk, item_ref=7, resolved_at=T0 + timedelta(days=1))
    services.runbook_use_update(runbook_id=runbook.pk, item_ref=7, resolved_at=None)  # reopened

    use = RunbookUse.objects.get()
    assert (use.decided_at, use.resolved_at, use.helped) == (T0 + timedelta(hours=1), None, True)
    assert services.runbook_use_update(runbook_id=runbook.pk, item_ref=8, helped=True) is None


def test_it_forgets_only_undecided_uses(runbook):
    link(runbook, 7)
    link(runbook, 8, decided_at=T0)

    assert services.runbook_use_forget(runbook_id=runbook.pk, item_ref=7) is True
    assert services.runbook_use_forget(runbook_id=runbook.pk, item_ref=8) is False
    assert list(RunbookUse.objects.values_list("item_ref", flat=True)) == [8]


def hours_after_link(hours):
    return None if hours is None else T0 + timedelta(hours=hours)


def handled(runbook, item_ref, *, decide_h=None, resolve_h=None, helped=None):
    link(
        runbook,
        item_ref,
        decided_at=hours_after_link(decide_h),
        resolved_at=hours_after_link(resolve_h),
        helped=helped,
    )


@pytest.fixture
def history(alice, runbook):
    """v1 handled three items slowly; v2 two items fast, both helped."""
    handled(runbook, 1, decide_h=10, resolve_h=30, helped=False)
    handled(runbook, 2, decide_h=20, resolve_h=40, helped=True)
    handled(runbook, 3, decide_h=30)
    link(runbook, 4)  # linked, not decided yet
    services.runbook_update(runbook=runbook, user=alice, body="v2")
    handled(runbook, 5, decide_h=1, resolve_h=2, helped=True)
    handled(runbook, 6, decide_h=3, resolve_h=4, helped=True)
    return runbook


def in_hours(duration):
    return None if duration is None else duration / timedelta(hours=1)


def figures(row):
    return (
        row.version,
        row.linked,
        row.handled,
        row.resolved,
        in_hours(row.median_to_decision),
        in_hours(row.median_to_resolution),
        row.helped_ratio,
    )


def test_it_measures_usefulness_per_version_and_overall(history):
    overall, per_version = stats.runbook_usefulness(runbook=history)

    assert [figures(row) for row in per_version] == [
        (2, 2, 2, 2, 2.0, 3.0, 1.0),
        (1, 4, 3, 2, 20.0, 35.0, 0.5),
    ]
    assert figures(overall) == (None, 6, 5, 4, 10.0, 17.0, 0.75)


def test_the_python_medians_agree_with_the_database(history):
    """SQLite's fallback, run here against the same rows."""
    uses = RunbookUse.objects.filter(runbook=history)
    overall, per_version = stats._in_python(uses)

    assert [figures(row) for row in per_version] == [
        (2, 2, 2, 2, 2.0, 3.0, 1.0),
        (1, 4, 3, 2, 20.0, 35.0, 0.5),
    ]
    assert figures(overall) == (None, 6, 5, 4, 10.0, 17.0, 0.75)


def test_a_runbook_without_uses_has_no_figures(runbook):
    overall, per_version = stats.runbook_usefulness(runbook=runbook)

    assert per_version == []
    assert figures(overall) == (None, 0, 0, 0, None, None, None)


@pytest.mark.parametrize(
    "changed_days,used_days,stale", [(120, 2, True), (120, 60, False), (10, 2, False), (120, None, False)]
)
def test_it_marks_a_runbook_stale_when_unchanged_while_items_arrive(runbook, changed_days, used_days, stale):
    now = timezone.now()
    runbook = Runbook.objects.select_related("current_version").get()
    runbook.current_version.created_at = now - timedelta(
        days=changed_days
    )  # in memory only: versions are immutable
    runbook.last_used_at = None if used_days is None else now - timedelta(days=used_days)

    assert runbook.is_stale(now) is stale
