"""Runbooks on the triage pages: the item page's runbook panel and timeline, the queue's runbook column,
open runbook feedback in the morning queue, and what those cost in queries."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.services import delivery_process
from runbooks import services as runbook_services
from runbooks.matcher_rules import MatcherSpec
from runbooks.matching import current_index
from runbooks.models import Runbook, RunbookFeedback, RunbookUse
from tests.factories import item_create, occurrence_create, service_create, team_create
from tests.helpers import event_payload, post_webhook
from tests.triage.test_pages import DETAIL_QUERIES
from tests.triage.test_queue import PARTIAL_QUERIES, QUEUE_QUERIES
from triage import actions
from triage.models import Team, TriageItem
from triage.tasks import relink_open_items

pytestmark = pytest.mark.django_db
ISSUE = "1117540176"  # the sample event: front-end, "ReferenceError: heck is not defined"
HTMX = {"HTTP_HX_REQUEST": "true"}


def deliver(client, payload):
    assert (
        delivery_process(delivery_id=post_webhook(client, "event_alert", payload).json()["delivery"])
        == "processed"
    )


def make_runbook(user, slug, *matchers, title=None, body="## Steps\n\n1. Reload the page.", team=""):
    specs = [MatcherSpec(0, field, "equals", value) for field, value in matchers]
    return runbook_services.runbook_create(
        user=user, slug=slug, title=title or f"Runbook {slug}", body=body, team=team, matchers=specs
    )


def page(client, item_id):
    response = client.get(f"/items/{item_id}/")
    assert response.status_code == 200
    return response.content.decode()


def panel(content):
    start = content.index('<section class="card runbook-panel"')
    return content[start : content.index("</section>", start)]


def words(fragment):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", fragment)).strip()


@pytest.fixture
def item(client, alice):
    """An item (no team: anyone in dev may change it) linked to `kind`, with `service` matching too."""
    make_runbook(alice, "service", ("service", "front-end"))
    make_runbook(
        alice,
        "kind",
        ("service", "front-end"),
        ("exception_type", "ReferenceError"),
        body="> Seen in the browser.\n\n## Steps\n\n1. Reload **the** page.\n\n" + "More text. " * 200,
    )
    deliver(client, event_payload("ev1", ISSUE))
    return TriageItem.objects.get()


# --- The item page's runbook panel -------------------------------------------------------------------


def test_it_shows_the_linked_runbook_an_excerpt_and_the_other_matches(alice_client, item):
    shown = panel(page(alice_client, item.pk))

    assert (
        '<p class="rb-linked"><a href="/runbooks/kind/">Runbook kind</a> <span class="muted">v1</span></p>'
        in shown
    )
    excerpt = shown[shown.index('<div class="markdown rb-excerpt">') : shown.index('<p class="rb-more">')]
    assert "<blockquote>" in excerpt and "<strong>the</strong>" in excerpt
    assert len(words(excerpt)) < 500  # the first blocks, not the whole body
    assert '<a href="/runbooks/kind/">Read the whole runbook →</a>' in shown
    assert words(shown[shown.index("Other matches") :]) == "Other matches Runbook service v1"
    assert "Start a runbook" not in shown


def test_it_shows_the_version_the_item_was_handled_with(alice_client, alice, item):
    actions.item_classify(item=item, user=alice, classification="code_fix")
    runbook_services.runbook_update(
        runbook=Runbook.objects.get(slug="kind"), user=alice, body="## Steps\n\nNew."
    )

    shown = panel(page(alice_client, item.pk))

    assert "v2</span></p>" in shown
    assert "Handled with v1; v2 is current." in words(shown)


def test_the_helped_buttons_record_the_answer_from_the_page(alice_client, item):
    url = f"/items/{item.pk}/actions/runbook_feedback/"

    response = alice_client.post(url, {"helped": "true", "render": "item"}, **HTMX)

    assert response.status_code == 200
    assert re.search(r'value="true" aria-pressed="true"', response.content.decode())
    assert re.search(r'value="false" aria-pressed="false"', response.content.decode())
    assert RunbookUse.objects.get(runbook__slug="kind").helped is True
    assert "alice said the runbook Runbook kind helped" in words(page(alice_client, item.pk))
    no_js = alice_client.post(url, {"helped": "false", "next": f"/items/{item.pk}/"})
    assert (no_js.status_code, no_js["Location"]) == (302, f"/items/{item.pk}/")
    assert TriageItem.objects.get().runbook_helped is False


def test_the_page_refuses_feedback_without_an_answer(alice_client, item):
    response = alice_client.post(f"/items/{item.pk}/actions/runbook_feedback/", {"render": "item"}, **HTMX)

    assert (response.status_code, response.content.decode()) == (400, "Helped: This field is required.")
    assert TriageItem.objects.get().runbook_helped is None


def test_the_helped_buttons_are_disabled_for_who_may_not_change_the_item(client, charlie, item):
    client.force_login(charlie)

    shown = panel(page(client, item.pk))

    reason = "Only members of the dev group (or admins) can change this item."
    assert shown.count(f'disabled title="{reason}"') == 2
    assert (
        client.post(f"/items/{item.pk}/actions/runbook_feedback/", {"helped": "true"}, **HTMX).status_code
        == 403
    )


@pytest.fixture
def unmatched(client, alice):
    deliver(client, event_payload("ev1", ISSUE, tags=[["browser.name", "Chrome"]]))
    item = TriageItem.objects.get()
    item.team = Team.objects.get(slug="checkout")
    item.save()
    return item


def test_it_offers_a_developer_to_start_a_runbook_from_the_item(alice_client, unmatched):
    shown = panel(page(alice_client, unmatched.pk))

    assert "No runbook is linked to this item." in shown
    href = html.unescape(
        re.search(r'<a class="button rb-start" href="([^"]+)">Start a runbook from this item</a>', shown)[1]
    )
    assert urlsplit(href).path == "/runbooks/new/"
    assert parse_qs(urlsplit(href).query) == {
        "title": [unmatched.title],
        "service": ["front-end"],
        "exception_type": ["ReferenceError"],
        "exception_value": ["heck is not defined"],
        "issue": [ISSUE],
        "team": ["checkout"],
    }
    form = alice_client.get(href).content.decode()  # runbooks.prefill reads the same parameters
    assert f'value="{html.escape(unmatched.title, quote=True)}"' in form.replace("&#x27;", "&#39;")
    assert "sentry_issue_id equals " + ISSUE in form


@pytest.mark.parametrize("persona", ["bob", "charlie"])
def test_it_does_not_offer_to_start_a_runbook_to_others(client, request, unmatched, persona):
    client.force_login(request.getfixturevalue(persona))

    shown = panel(page(client, unmatched.pk))

    assert "No runbook is linked to this item." in shown
    assert "Start a runbook" not in shown and "/runbooks/new/" not in shown


def test_it_shows_matches_not_linked_yet_without_the_start_link(alice_client, alice, unmatched):
    make_runbook(alice, "later", ("service", "front-end"))  # the re-link has not run yet

    shown = panel(page(alice_client, unmatched.pk))

    assert words(shown[shown.index('<h3 class="rb-alt-head"') :]) == "Matches Runbook later v1"
    assert "Start a runbook" in shown  # nothing is linked yet


def test_it_renders_a_hostile_runbook_inert(client, alice_client, alice):
    hostile = "<script>alert('title')</script>"
    body = (
        "<img src=x onerror=alert(1)>\n\n[click](javascript:alert(2))\n\n<script>alert(3)</script>\n\n"
        '<a href="#" onclick="alert(4)">x</a>'
    )
    make_runbook(alice, "evil", ("service", "front-end"), title=hostile, body=body)
    make_runbook(alice, "evil-too", ("exception_type", "ReferenceError"), title=hostile + "2", body=body)
    deliver(client, event_payload("ev1", ISSUE))
    item = TriageItem.objects.get()

    content = page(alice_client, item.pk)

    assert "<script>alert" not in content and "<img" not in content and 'href="javascript:' not in content
    assert not re.search(r"<[^>]+\s(onerror|onclick)=", content)
    assert "&lt;img src=x onerror=alert(1)&gt;" in panel(content)  # the excerpt shows it as text
    assert (
        content.count("&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;") >= 3
    )  # panel, alternative, timeline
    assert "<script>alert" not in alice_client.get("/?section=open").content.decode()


# --- The timeline ------------------------------------------------------------------------------------


def test_the_timeline_tells_what_happened_to_the_runbook_link(alice_client, alice, item):
    runbook_services.runbook_matchers_replace(
        runbook=Runbook.objects.get(slug="kind"),
        user=alice,
        matchers=[MatcherSpec(0, "service", "equals", "x")],
    )
    relink_open_items()
    runbook_services.runbook_matchers_replace(
        runbook=Runbook.objects.get(slug="service"),
        user=alice,
        matchers=[MatcherSpec(0, "service", "equals", "x")],
    )
    relink_open_items()

    text = words(page(alice_client, item.pk))

    for line in [
        "Sentry linked the runbook Runbook kind (v1)",
        "portal re-linked the runbook from Runbook kind to Runbook service (v1):"
        " the runbook matchers changed",
        "portal unlinked the runbook Runbook service: it no longer matches",
    ]:
        assert line in text, line


# --- The queue -------------------------------------------------------------------------------------------


def test_queue_rows_show_the_linked_runbook(alice_client, item):
    item_create(
        sentry_issue_id="777",
        title="Unmatched",
        service=item.service,
        first_seen=item.first_seen,
        last_seen=item.last_seen,
    )

    content = alice_client.get("/?section=open").content.decode()

    assert '<th class="rb">Runbook</th>' in content
    assert '<td class="rb"><a href="/runbooks/kind/" title="Runbook kind">kind</a></td>' in content
    assert '<td class="rb"><span class="nobody" title="No runbook matches">—</span></td>' in content


def _linked_rows(count, alice):
    """Open rows each on its own runbook, pinned version and service: a missing select_related would show."""
    now = timezone.now()
    for n in range(count):
        runbook = make_runbook(alice, f"rb-{n}")
        item = item_create(
            sentry_issue_id=str(5000 + n),
            title=f"Problem {n}",
            service=service_create(slug=f"svc-{n}"),
            first_seen=now,
            last_seen=now,
            team=team_create(slug=f"t-{n}", name=f"T {n}"),
            owner=User.objects.create_user(f"owner{n}"),
            runbook=runbook,
            runbook_version=runbook.current_version,
            regressed_at=now,
        )
        occurrence_create(event_id=f"e{n}", item=item, timestamp=now)
        RunbookFeedback.objects.create(
            runbook=runbook, kind="unclear", comment=f"step {n} unclear", author=owner(n)
        )
    Runbook.objects.update(team="checkout")  # alice's team: the feedback panel lists them


def owner(n):
    return User.objects.get(username=f"owner{n}")


@pytest.mark.parametrize("rows", [1, 30])
def test_the_queue_with_runbooks_and_feedback_takes_the_pinned_queries(
    alice_client, alice, django_assert_num_queries, rows
):
    _linked_rows(rows, alice)

    with django_assert_num_queries(QUEUE_QUERIES):
        response = alice_client.get("/?section=open")

    content = response.content.decode()
    assert content.count('<td class="rb"><a href="/runbooks/rb-') == rows
    assert content.count('class="tag rb-unclear"') == min(rows, 5)


@pytest.mark.parametrize("rows", [1, 30])
def test_the_queue_reloads_rows_with_runbooks_in_the_pinned_queries(
    alice_client, alice, django_assert_num_queries, rows
):
    _linked_rows(rows, alice)
    alice_client.get("/")

    with django_assert_num_queries(PARTIAL_QUERIES):
        response = alice_client.get("/?section=regressed", **HTMX)

    assert response.content.decode().count('<td class="rb"><a href="/runbooks/rb-') == rows


def test_the_morning_queue_shows_open_feedback_on_the_viewers_teams_runbooks(client, alice, bob, charlie):
    mine = make_runbook(alice, "mine", team="checkout")
    theirs = make_runbook(alice, "theirs", team="payments")
    runbook_services.runbook_feedback_add(
        runbook=mine, user=charlie, kind="outdated", comment="Step 2 <b>moved</b>"
    )
    runbook_services.runbook_feedback_add(runbook=theirs, user=charlie, kind="unclear", comment="Whose?")
    done = runbook_services.runbook_feedback_add(
        runbook=mine, user=charlie, kind="unclear", comment="Fixed one"
    )
    runbook_services.runbook_feedback_resolve(feedback=done, user=alice)
    client.force_login(alice)

    content = client.get("/").content.decode()

    box = content[content.index('<details class="card rb-feedback"') : content.index("</details>")]
    assert words(box).startswith(
        "Open feedback on your teams' runbooks 1 Outdated Runbook mine Step 2 &lt;b&gt;moved"
    )
    assert '<a href="/runbooks/mine/#feedback">Runbook mine</a>' in box
    assert "Whose?" not in box and "Fixed one" not in box
    for other in (bob, charlie):  # no team, no panel
        client.force_login(other)
        assert "rb-feedback" not in client.get("/").content.decode()


# --- The item page's queries -------------------------------------------------------------------------------


@pytest.mark.parametrize("alternatives", [1, 5])
def test_the_item_page_with_a_runbook_takes_the_pinned_queries(
    alice_client, alice, django_assert_num_queries, item, alternatives
):
    for n in range(alternatives - 1):
        make_runbook(alice, f"alt-{n}", ("service", "front-end"))
    actions.item_classify(item=item, user=alice, classification="code_fix")
    actions.item_runbook_feedback(item=item, user=alice, helped=True)
    current_index()  # built once per process and after each matcher change; then one token check per page

    with django_assert_num_queries(DETAIL_QUERIES):
        content = page(alice_client, item.pk)

    assert "Handled with v1." in words(panel(content))
    assert words(panel(content)).count(" v1") == 1 + 1 + alternatives  # linked, pinned, each alternative
