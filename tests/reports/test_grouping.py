"""The weekly report's grouping suggestions: open ones, ranked by their items' events in that week."""

import itertools
from datetime import UTC, datetime

import pytest

from grouping.models import Dismissal, Suggestion, SuggestionItem
from reports.selectors import grouping_suggestions
from reports.services import trends_compute_week
from tests.reports.test_pages import W46, make_item
from triage.models import Service

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)
IN_W45 = datetime(2026, 11, 3, tzinfo=UTC)


def suggest(kind, *items, active=True):
    suggestion = Suggestion.objects.create(
        kind=kind,
        key=f"k{next(_keys)}",
        item=items[0],
        rule="r",
        groups=[{"events": 1}, {"events": 1}],
        active=active,
    )
    SuggestionItem.objects.bulk_create(SuggestionItem(suggestion=suggestion, item=item) for item in items)
    return suggestion


@pytest.fixture
def service(db):
    return Service.objects.create(slug="checkout", name="Checkout")


def test_it_ranks_open_suggestions_by_their_items_events_in_the_week(service):
    busy, quiet, twin_a, twin_b = (make_item(service, n) for n in (30, 4, 10, 12))
    last_week_only = make_item(service, 50, at=IN_W45)
    split, small, merge = suggest("split", busy), suggest("split", quiet), suggest("merge", twin_a, twin_b)
    suggest("split", last_week_only)
    suggest("split", make_item(service, 99), active=False)
    dismissed = suggest("split", make_item(service, 80))
    dismissed.dismissal = Dismissal.objects.create(suggestion=dismissed, reason="expected")
    dismissed.save()
    trends_compute_week(week=W46)

    ranked = grouping_suggestions(week=W46)

    assert [(s.pk, s.week_events) for s in ranked] == [(split.pk, 30), (merge.pk, 22), (small.pk, 4)]
    assert grouping_suggestions(week=W46, limit=1)[0].pk == split.pk


def test_it_shows_them_on_the_report_with_a_link_to_the_rules(alice_client, service):
    item = make_item(service, 7)
    suggest("split", item)
    trends_compute_week(week=W46)

    content = alice_client.get("/reports/weekly/2026-W46/").content.decode()

    assert f'href="/items/{item.pk}/"' in content
    assert "7 events in 2 groups" in content
    assert 'href="/grouping/"' in content
