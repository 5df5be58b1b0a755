"""The morning queue: its sections and counts, "new since your last visit", filters, sorting,
sparklines, and what it costs in queries. The actions it posts are in test_queue_actions.py."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.http import QueryDict
from django.utils import timezone

from ops.models import DataFixRequest
from tests.factories import item_create, occurrence_create, service_get
from triage import selectors
from triage.models import QueueVisit, Team, TriageItem
from triage.permissions import can_change_item
from triage.queue import SECTIONS, QueueQuery, viewer_for

pytestmark = pytest.mark.django_db
Status = TriageItem.Status
HTMX = {"HTTP_HX_REQUEST": "true"}
HOUR = timedelta(hours=1)

# Pinned for a full load: session, user, the visit (read + write), the viewer's teams and groups,
# the 8 section counts (one bounded count each), the rows, their sparklines (one aggregate), the
# filter bar's services, environments and people, and the open feedback on the viewer's teams' runbooks.
QUEUE_QUERIES = 20
# Pinned for an htmx reload of the results: no visit write, no filter bar.
PARTIAL_QUERIES = 15
# The same for a text search, whose 8 section counts are one pass over its matches.
SEARCH_PARTIAL_QUERIES = PARTIAL_QUERIES - 7


def make(n, *, created_ago=timedelta(days=3), service=None, **fields):
    now = timezone.now()
    values = {
        "sentry_issue_id": str(9000 + n),
        "short_id": f"SHOP-{n}",
        "title": f"Problem number {n}",
        "culprit": f"shop.module{n} in run",
        "service": service or _service("shop"),
        "first_seen": now - timedelta(days=5),
        "last_seen": now - timedelta(minutes=n),
        "event_count": n,
        "user_count": n,
        "created_at": now - created_ago,
    }
    return item_create(**{**values, **fields})


def _service(slug):
    return service_get(slug=slug)


def listed(response):
    return [int(pk) for pk in re.findall(r'data-item-id="(\d+)"', response.content.decode())]


def rail_counts(response):
    pairs = re.findall(
        r'data-section="(\w+)"[^>]*>\s*<span class="label">[^<]*</span><span class="n">(\d+)</span>',
        response.content.decode(),
    )
    return {slug: int(count) for slug, count in pairs}


# --- Sections -------------------------------------------------------------------------------------


@pytest.fixture
def world(alice, bob):
    """One item for each reason to be (or not be) in a section, as alice sees them on her first visit."""
    checkout, payments = alice.teams.get(), Team.objects.create(slug="payments", name="Payments")
    ago = timezone.now() - HOUR
    world = {
        "fresh": make(1, created_ago=2 * HOUR),
        "fresh_resolved": make(2, created_ago=HOUR, status=Status.RESOLVED),
        "regressed": make(3, regressed_at=ago),
        "regressed_resolved": make(4, regressed_at=ago, status=Status.RESOLVED),
        "mine": make(5, owner=alice, status=Status.IN_PROGRESS),
        "mine_resolved": make(6, owner=alice, status=Status.RESOLVED),
        "team_unowned": make(7, team=checkout, status=Status.TRIAGED),
        "team_owned": make(8, team=checkout, owner=bob, status=Status.IN_PROGRESS),
        "other_team": make(9, team=payments),
        "data_fix": make(10, classification="data_fix", status=Status.TRIAGED),
        "woke": make(11, woke_at=ago),
        "woke_then_ignored": make(12, woke_at=ago, status=Status.IGNORED),
        "ignored": make(13, status=Status.IGNORED),
        "data_fix_closed": make(14, classification="data_fix", status=Status.TRIAGED),
    }
    # Waiting on ops: an open data-fix request (two count once); a done one no longer waits.
    for name, state in (("data_fix", "requested"), ("data_fix", "acknowledged"), ("data_fix_closed", "done")):
        DataFixRequest.objects.create(item=world[name], description="fix rows", state=state, due_at=ago)
    return world


OPEN_ONES = [
    "fresh",
    "regressed",
    "mine",
    "team_unowned",
    "team_owned",
    "other_team",
    "data_fix",
    "woke",
    "data_fix_closed",
]
SECTION_CONTENTS = {
    "new": ["fresh"],
    "regressed": ["regressed"],
    "mine": ["mine"],
    "team": ["team_unowned"],
    "ops": ["data_fix"],
    "woke": ["woke"],
    "open": OPEN_ONES,
    "all": OPEN_ONES
    + ["fresh_resolved", "regressed_resolved", "mine_resolved", "woke_then_ignored", "ignored"],
}


@pytest.mark.parametrize("section,names", SECTION_CONTENTS.items())
def test_it_lists_what_each_section_holds(alice_client, world, section, names):
    response = alice_client.get(f"/?section={section}")

    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(world[name].pk for name in names)
    assert f'<span class="count" id="results-count">{len(names)}</span>' in response.content.decode()


def test_it_counts_every_section_in_the_rail(alice_client, world):
    response = alice_client.get("/?section=open")

    assert rail_counts(response) == {section: len(names) for section, names in SECTION_CONTENTS.items()}


def test_it_opens_on_new_since_your_last_visit(alice_client, world):
    response = alice_client.get("/")

    assert listed(response) == [world["fresh"].pk]
    assert re.search(r'data-section="new"[^>]*aria-current="page"', response.content.decode())


def test_it_falls_back_to_new_for_an_unknown_section(alice_client, world):
    assert listed(alice_client.get("/?section=everything-please")) == [world["fresh"].pk]


def test_it_shows_another_users_own_sections(client, bob, world):
    client.force_login(bob)

    response = client.get("/?section=mine")

    assert listed(response) == [world["team_owned"].pk]
    assert rail_counts(response)["team"] == 0  # bob is in no team


# --- New since your last visit ----------------------------------------------------------------------


def test_it_counts_the_last_day_as_new_on_a_first_visit(alice_client):
    today = make(1, created_ago=23 * HOUR)
    make(2, created_ago=25 * HOUR)

    assert listed(alice_client.get("/")) == [today.pk]


def test_it_shows_what_arrived_since_the_previous_visit(alice_client, alice):
    before = make(1, created_ago=4 * HOUR)
    assert listed(alice_client.get("/")) == [before.pk]  # first visit: the last day
    three_hours_ago = timezone.now() - 3 * HOUR
    QueueVisit.objects.filter(user=alice).update(last_visit_at=three_hours_ago)  # that visit was a while ago
    after = make(2, created_ago=HOUR)

    response = alice_client.get("/")

    assert listed(response) == [after.pk]
    visit = QueueVisit.objects.get(user=alice)
    assert visit.previous_visit_at == three_hours_ago
    assert timezone.now() - visit.last_visit_at < timedelta(seconds=5)


@pytest.mark.parametrize(
    "reload",
    [
        {"path": "/", "headers": HTMX},
        {"path": "/?section=new&page=1", "headers": {}},
        {"path": "/?fragment=rail", "headers": HTMX},
    ],
)
def test_it_keeps_the_visit_on_htmx_reloads_and_pagination(alice_client, alice, reload):
    alice_client.get("/")
    QueueVisit.objects.filter(user=alice).update(last_visit_at=timezone.now() - 3 * HOUR)
    after = make(1, created_ago=HOUR)
    alice_client.get("/")
    visit = QueueVisit.objects.values_list("previous_visit_at", "last_visit_at").get(user=alice)

    response = alice_client.get(reload["path"], **reload["headers"])

    assert response.status_code == 200
    assert QueueVisit.objects.values_list("previous_visit_at", "last_visit_at").get(user=alice) == visit
    if "fragment" not in reload["path"]:
        assert listed(response) == [after.pk]


def test_it_treats_loads_close_together_as_one_visit(alice_client, alice):
    early = make(1, created_ago=2 * HOUR)
    alice_client.get("/")
    QueueVisit.objects.filter(user=alice).update(last_visit_at=timezone.now() - timedelta(minutes=20))

    # Back from an item page 20 minutes later: still the same visit, so "new" is not emptied.
    assert listed(alice_client.get("/")) == [early.pk]
    assert QueueVisit.objects.get(user=alice).previous_visit_at is None

    QueueVisit.objects.filter(user=alice).update(last_visit_at=timezone.now() - timedelta(minutes=31))
    assert listed(alice_client.get("/")) == []
    assert QueueVisit.objects.get(user=alice).previous_visit_at is not None


# --- Filters, search and sort -------------------------------------------------------------------------


@pytest.fixture
def shop(alice, bob):
    api, web = _service("api"), _service("web")
    return {
        "a": make(
            1,
            service=api,
            environment="production",
            level="error",
            title="KeyError: 'sku'",
            culprit="cart.views in add",
            short_id="API-1",
            classification="code_fix",
            owner=alice,
            event_count=50,
            user_count=1,
            first_seen=timezone.now() - timedelta(days=9),
        ),
        "b": make(
            2,
            service=web,
            environment="staging",
            level="warning",
            title="TypeError: total is undefined",
            culprit="app/cart.js in render",
            short_id="WEB-7",
            owner=bob,
            event_count=5,
            user_count=40,
            first_seen=timezone.now() - timedelta(days=1),
        ),
        "c": make(
            3,
            service=api,
            environment="production",
            level="fatal",
            title="OutOfMemory",
            culprit="workers.pdf in render",
            short_id="API-2",
            status=Status.TRIAGED,
            event_count=500,
            user_count=3,
            first_seen=timezone.now() - timedelta(days=4),
        ),
    }


@pytest.mark.parametrize(
    "params,names",
    [
        ("service=api", "ac"),
        ("environment=staging", "b"),
        ("level=fatal", "c"),
        ("classification=code_fix", "a"),
        ("classification=none", "bc"),
        ("status=triaged", "c"),
        ("owner=me", "a"),
        ("owner=none", "c"),
        ("owner=bob", "b"),
        ("q=sku", "a"),
        ("q=CART.JS", "b"),
        ("q=web-7", "b"),
        ("q=render", "bc"),
        ("q=nothing-like-it", ""),
        ("service=api&level=error", "a"),
        ("level=bogus&status=gone&sort=sideways", "abc"),
    ],
)
def test_it_filters_and_searches(alice_client, shop, params, names):
    response = alice_client.get(f"/?section=open&{params}")

    assert sorted(listed(response)) == sorted(shop[name].pk for name in names)
    assert rail_counts(response)["open"] == len(names)


@pytest.mark.parametrize("params", ["q=render", "q=sku&service=api", "q=nothing-like-it", "q=a"])
def test_it_counts_a_search_in_one_pass_with_the_same_figures(alice, shop, params):
    query = QueueQuery.from_params(QueryDict(params))
    viewer = viewer_for(alice, new_since=timezone.now() - timedelta(days=2))
    sections = {section.slug: section.condition(viewer) for section in SECTIONS}
    filters = query.filters(alice)

    one_pass = selectors.queue_section_counts(filters=filters, sections=sections, searching=True)

    assert one_pass == selectors.queue_section_counts(filters=filters, sections=sections)
    assert one_pass["all"] == TriageItem.objects.filter(filters).count()


@pytest.mark.parametrize(
    "sort,order", [("last_seen", "abc"), ("first_seen", "bca"), ("events", "cab"), ("users", "bca")]
)
def test_it_sorts(alice_client, shop, sort, order):
    response = alice_client.get(f"/?section=open&sort={sort}")

    assert listed(response) == [shop[name].pk for name in order]


def test_it_keeps_filters_and_sort_in_page_and_section_links(alice_client):
    for n in range(51):
        make(n, service=_service("api"))

    response = alice_client.get("/?section=open&service=api&sort=events")

    content = response.content.decode()
    assert len(listed(response)) == 50
    assert '?section=open&amp;service=api&amp;sort=events&amp;page=2"' in content
    assert '?section=regressed&amp;service=api&amp;sort=events"' in content
    assert len(listed(alice_client.get("/?section=open&service=api&sort=events&page=2"))) == 1


def test_it_answers_htmx_with_the_results_and_an_out_of_band_rail(alice_client, shop):
    response = alice_client.get("/?section=open&service=web", **HTMX)

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="results"')
    assert '<nav id="rail"' in content and 'hx-swap-oob="true"' in content
    assert "<html" not in content
    assert listed(response) == [shop["b"].pk]


def test_it_serves_the_rail_alone_for_a_refresh(alice_client, shop):
    response = alice_client.get("/?section=open&service=api&fragment=rail", **HTMX)

    content = response.content.decode()
    assert content.lstrip().startswith('<nav id="rail"')
    assert rail_counts(response)["open"] == 2
    assert (
        '<span class="count" id="results-count" hx-swap-oob="true">2</span>' in content
    )  # the heading's count
    assert listed(response) == []


# --- Sparklines --------------------------------------------------------------------------------------


def _at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def test_it_draws_each_days_events_in_the_sparkline(alice_client):
    item = make(1, created_ago=HOUR)
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    stamps = [
        _at(yesterday, 9),
        _at(yesterday, 12),
        _at(yesterday, 23, 59),
        _at(today, 0, 1),
        _at(today - timedelta(days=14), 12),
    ]  # the last one is outside the 14 days
    for n, stamp in enumerate(stamps):
        occurrence_create(event_id=f"ev{n}", item=item, timestamp=stamp)

    content = alice_client.get("/").content.decode()

    counts = re.search(r'<svg class="spark"[^>]*data-counts="([\d,]+)"', content).group(1)
    assert counts == ",".join(["0"] * 12 + ["3", "1"])
    assert f'data-day="{yesterday.isoformat()}" data-count="3"><title>' in content
    assert re.search(
        rf'data-day="{yesterday.isoformat()}" data-count="3"><title>[^<]*: 3 events</title>', content
    )
    assert 'aria-label="4 events in the last 14 days"' in content


def test_it_counts_days_in_the_display_time_zone(alice_client, settings):
    settings.TIME_ZONE = "America/New_York"
    item = make(1, created_ago=HOUR)
    day = timezone.localdate() - timedelta(days=3)
    # 03:00 UTC the next day is still `day` in New York (22:00 or 23:00).
    occurrence_create(
        event_id="late", item=item, timestamp=datetime.combine(day + timedelta(days=1), time(3), tzinfo=UTC)
    )

    content = alice_client.get("/").content.decode()

    assert f'data-day="{day.isoformat()}" data-count="1"' in content
    assert f'data-day="{(day + timedelta(days=1)).isoformat()}" data-count="0"' in content


# --- Queries ------------------------------------------------------------------------------------------


def _busy_rows(count, alice):
    """Rows that touch every relation a row shows: own service, team and owner, and events."""
    for n in range(count):
        team = Team.objects.create(slug=f"team-{n}", name=f"Team {n}")
        owner = User.objects.create_user(f"owner{n}")
        item = make(
            n,
            created_ago=HOUR,
            service=_service(f"svc-{n}"),
            team=team,
            owner=owner,
            pinned_note=f"note {n}",
            regressed_at=timezone.now(),
        )
        occurrence_create(event_id=f"busy{n}", item=item, timestamp=timezone.now() - timedelta(days=n % 14))


@pytest.mark.parametrize("rows", [1, 30])
def test_it_loads_the_queue_in_a_fixed_number_of_queries(
    alice_client, alice, django_assert_num_queries, rows
):
    _busy_rows(rows, alice)

    with django_assert_num_queries(QUEUE_QUERIES):
        response = alice_client.get("/?section=open")

    assert len(listed(response)) == rows
    assert response.content.decode().count('<svg class="spark"') == rows


@pytest.mark.parametrize("rows", [1, 30])
def test_it_reloads_results_in_a_fixed_number_of_queries(
    alice_client, alice, django_assert_num_queries, rows
):
    _busy_rows(rows, alice)
    alice_client.get("/")

    with django_assert_num_queries(SEARCH_PARTIAL_QUERIES):
        response = alice_client.get("/?section=regressed&q=Problem", **HTMX)

    assert len(listed(response)) == rows


# --- Who may change a row ---------------------------------------------------------------------------


def test_it_decides_row_permissions_as_can_change_item_does(alice, bob, charlie):
    admin = User.objects.create_user("root")
    admin.groups.add(Group.objects.get(name="admin"))
    payments = Team.objects.create(slug="payments", name="Payments")
    items = [make(1), make(2, team=alice.teams.get()), make(3, team=payments)]

    for user in (alice, bob, charlie, admin, User.objects.create_superuser("su")):
        viewer = viewer_for(user, new_since=timezone.now())
        assert [viewer.can_change(item) for item in items] == [
            can_change_item(user, item) for item in items
        ], user


def test_it_shows_rows_read_only_to_those_who_cannot_change_them(client, charlie):
    make(1, created_ago=HOUR)
    client.force_login(charlie)

    content = client.get("/").content.decode()

    assert (
        content.count('disabled title="Only members of the dev group (or admins) can change this item."') == 5
    )


def test_it_stops_counting_a_section_at_the_cap(alice_client, monkeypatch):
    from triage import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    monkeypatch.setattr("triage.templatetags.triage_counts.COUNT_CAP", 2)
    for n in range(4):
        make(n, created_ago=HOUR)

    response = alice_client.get("/?section=open")

    assert 'id="results-count">2+</span>' in response.content.decode()


def test_it_declares_the_partial_indexes_on_the_open_statuses():
    from triage.models import OPEN_STATUS_VALUES

    assert (
        OPEN_STATUS_VALUES == TriageItem.OPEN_STATUSES
    )  # the regressed and team sections' indexes hold them
