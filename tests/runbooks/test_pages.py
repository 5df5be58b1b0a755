"""Runbook pages: who sees and changes what, what they show, and that their queries do not grow with
history."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from runbooks import selectors, services
from runbooks.matcher_rules import MatcherSpec
from runbooks.models import (
    Runbook,
    RunbookFeedback,
    RunbookMatcher,
    RunbookUse,
    RunbookVersion,
)

pytestmark = pytest.mark.django_db

# Pinned: session, user, runbook with its version and author, the user's groups (may they edit?),
# usefulness per version and overall, recent uses with versions, matchers, open feedback with authors.
DETAIL_QUERIES = 9
# Pinned: session, user, runbook, versions with authors, the user's groups.
HISTORY_QUERIES = 5
# Pinned: session, user, count, one page of runbooks with versions and use counts, the user's groups.
LIST_QUERIES = 5
# Pinned: session, user, runbook, both versions.
DIFF_QUERIES = 4

START_URL = (
    "/runbooks/new/?title=KeyError%3A+%27sku%27&service=checkout-api&exception_type=KeyError"
    "&exception_value=%27sku%27&issue=4242424242"
)


def create(user, slug="cart", body="## Steps\n\n1. Look at the cart", **kwargs):
    return services.runbook_create(
        user=user, slug=slug, title=kwargs.pop("title", slug.title()), body=body, **kwargs
    )


def link_items(runbook, count, *, start=0):
    version = Runbook.objects.get(pk=runbook.pk).current_version
    for ref in range(start, start + count):
        services.runbook_use_record(
            version=version,
            item_ref=ref,
            item_title=f"Item {ref}",
            item_url=f"/items/{ref}/",
            linked_at=timezone.now() - timedelta(hours=2),
            decided_at=timezone.now() - timedelta(hours=1),
            helped=ref % 2 == 0,
        )


def text(response):
    return response.content.decode()


@pytest.mark.parametrize(
    "path", ["/runbooks/", "/runbooks/new/", "/runbooks/cart/", "/runbooks/cart/history/"]
)
def test_it_sends_anonymous_visitors_to_log_in(client, alice, path):
    create(alice)

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


# --- List and search ----------------------------------------------------------------------------------------


def test_it_lists_runbooks_most_used_first(client, alice):
    link_items(create(alice, "rarely"), 1)
    link_items(create(alice, "often"), 3)
    create(alice, "never")
    client.force_login(alice)

    response = client.get("/runbooks/")

    assert re.findall(r'data-runbook="([\w-]+)"', text(response)) == ["often", "rarely", "never"]
    assert 'href="/static/css/runbooks.css"' in text(response)


def test_it_filters_by_service_and_team(client, alice):
    create(alice, "a", services=["checkout-api", "cart"], team="checkout")
    create(alice, "b", services=["checkout"], team="payments")
    client.force_login(alice)

    def listed(query):
        return re.findall(r'data-runbook="([\w-]+)"', text(client.get(f"/runbooks/?{query}")))

    assert listed("service=checkout-api") == ["a"]
    assert listed("service=checkout") == ["b"]  # a whole slug, not a prefix
    assert listed("team=payments") == ["b"]
    assert listed("service=cart&team=payments") == []


def test_search_ranks_a_title_hit_over_a_body_hit(client, alice):
    create(alice, "body-hit", title="Cart totals", body="When the payment gateway times out, retry.")
    create(alice, "title-hit", title="Payment gateway timeout", body="Check the PSP status page.")
    create(alice, "miss", title="Disk full", body="Delete old logs.")
    client.force_login(alice)

    response = client.get("/runbooks/?q=payment+gateway")

    assert re.findall(r'data-runbook="([\w-]+)"', text(response)) == ["title-hit", "body-hit"]


def test_the_word_search_fallback_finds_and_ranks_too(alice):
    """SQLite's path, exercised here directly."""
    from runbooks.search import _words, listed

    create(alice, "body-hit", title="Cart totals", body="When the payment gateway times out, retry.")
    create(alice, "title-hit", title="Payment gateway timeout", body="Check the PSP.")
    create(alice, "miss", title="Disk full", body="Delete old logs about payment.")

    found = _words(listed(), "payment gateway")

    assert [runbook.slug for runbook in found] == ["title-hit", "body-hit"]


@pytest.mark.parametrize("q", ["a & | ! ( ) :* 'x", '"unclosed', "-", "or or", "\\", "%_"])
def test_search_takes_any_text(client, alice, q):
    create(alice)
    client.force_login(alice)

    assert client.get("/runbooks/", {"q": q}).status_code == 200


def test_the_list_takes_the_same_queries_for_many_runbooks(client, alice, django_assert_num_queries):
    for n in range(12):
        link_items(create(alice, f"rb-{n}"), n % 3)
    client.force_login(alice)

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get("/runbooks/?q=rb")
    assert response.status_code == 200


# --- Detail -------------------------------------------------------------------------------------------------


def test_it_shows_the_body_items_usefulness_and_matchers(client, alice):
    runbook = create(alice, matchers=[MatcherSpec(0, "service", "equals", "checkout-api")])
    link_items(runbook, 2)
    client.force_login(alice)

    page = text(client.get("/runbooks/cart/"))

    assert "<h2>Steps</h2>" in page and "<li>Look at the cart</li>" in page
    assert '<a href="/items/1/">Item 1</a>' in page
    assert '<dd class="rb-used">2 items</dd>' in page
    assert re.search(
        r'<tr data-version="1"><td>v1</td><td class="num">2</td><td class="num">2</td>\s*'
        r'<td class="num">1 h</td><td class="num">—</td>\s*<td class="num">50%',
        page,
    )
    assert "<code>service</code></td><td>equals</td><td><code>checkout-api</code>" in page
    assert 'href="/runbooks/cart/edit/"' in page


def test_it_renders_a_hostile_body_inert(client, alice):
    create(
        alice, body="<script>alert('x')</script>\n\n[go](javascript:alert(1))\n\n<img src=x onerror=alert(1)>"
    )
    client.force_login(alice)

    page = text(client.get("/runbooks/cart/"))

    assert "<script>alert" not in page
    assert 'href="javascript:' not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page or "&lt;script&gt;" in page


@pytest.mark.parametrize("persona", ["bob", "charlie"])
def test_readers_see_no_edit_link(client, alice, request, persona):
    create(alice)
    client.force_login(request.getfixturevalue(persona))

    page = text(client.get("/runbooks/cart/"))

    assert 'href="/runbooks/cart/edit/"' not in page
    assert "Flag this runbook" in page


def test_it_marks_a_runbook_stale(client, alice):
    runbook = create(alice)
    RunbookVersion.objects.filter(runbook=runbook).update(created_at=timezone.now() - timedelta(days=120))
    link_items(runbook, 1)
    client.force_login(alice)

    assert "rb-stale" in text(client.get("/runbooks/cart/"))


def test_the_detail_page_takes_the_same_queries_for_more_versions_and_uses(
    client, alice, django_assert_num_queries
):
    runbook = create(alice, matchers=[MatcherSpec(0, "service", "equals", "checkout-api")])
    client.force_login(alice)
    for rounds in range(2):
        for n in range(3):
            services.runbook_update(runbook=runbook, user=alice, body=f"round {rounds} edit {n}")
        link_items(runbook, 5 * (rounds + 1), start=100 * rounds)
        services.runbook_feedback_add(runbook=runbook, user=alice, kind="unclear", comment=f"round {rounds}")

        with django_assert_num_queries(DETAIL_QUERIES):
            response = client.get("/runbooks/cart/")
        assert response.status_code == 200


def test_the_history_and_diff_take_the_same_queries_for_more_versions(
    client, alice, django_assert_num_queries
):
    runbook = create(alice)
    client.force_login(alice)
    for rounds in range(2):
        for n in range(5):
            services.runbook_update(runbook=runbook, user=alice, body=f"round {rounds} edit {n}\nsame line")

        with django_assert_num_queries(HISTORY_QUERIES):
            assert client.get("/runbooks/cart/history/").status_code == 200
        with django_assert_num_queries(DIFF_QUERIES):
            assert client.get("/runbooks/cart/diff/?from=1&to=3").status_code == 200


def test_it_answers_404_for_an_unknown_runbook_or_version(client, alice):
    create(alice)
    client.force_login(alice)

    assert client.get("/runbooks/nope/").status_code == 404
    assert client.get("/runbooks/cart/versions/9/").status_code == 404


# --- New, from an item --------------------------------------------------------------------------------------


def test_it_prefills_a_new_runbook_from_an_item(client, alice):
    client.force_login(alice)

    page = text(client.get(START_URL))

    assert 'value="KeyError: &#x27;sku&#x27;"' in page
    assert 'name="slug" value="keyerror-sku"' in page
    assert 'value="checkout-api"' in page
    for section in ("## Impact", "## Is action needed?", "## Steps", "## Data fix (ops)", "## Prevention"):
        assert section in page
    assert "&gt; `KeyError: &#x27;sku&#x27;`" in page
    assert (
        "service equals checkout-api\nexception_type equals KeyError\n\nsentry_issue_id equals 4242424242"
        in page
    )


def test_it_creates_the_prefilled_runbook_with_its_matchers(client, alice):
    client.force_login(alice)
    form = {
        "title": "KeyError: 'sku'",
        "slug": "keyerror-sku",
        "services": "checkout-api",
        "team": "checkout",
        "tags": "cart, pricing",
        "body": "## Impact\n\nOrders fail.",
        "summary": "From the item",
        "matchers": (
            "service equals checkout-api\nexception_type equals KeyError\n\nsentry_issue_id equals 42"
        ),
    }

    response = client.post("/runbooks/new/", form)

    assert response.status_code == 302 and response["Location"] == "/runbooks/keyerror-sku/"
    runbook = Runbook.objects.get()
    assert (runbook.services, runbook.tags, runbook.current_version.summary) == (
        ["checkout-api"],
        ["cart", "pricing"],
        "From the item",
    )
    assert list(RunbookMatcher.objects.values_list("group", "field", "value")) == [
        (0, "service", "checkout-api"),
        (0, "exception_type", "KeyError"),
        (1, "sentry_issue_id", "42"),
    ]


def test_a_bad_matcher_is_a_form_error_naming_its_line(client, alice):
    client.force_login(alice)
    form = {
        "title": "T",
        "slug": "t",
        "body": "x",
        "matchers": "service equals a\nexception_value regex (a)\\1",
    }

    response = client.post("/runbooks/new/", form)

    assert response.status_code == 200
    assert (
        "Line 2 (exception_value regex &#x27;(a)\\\\1&#x27;): backreference \\1 is not supported: "
        "runbook regexes run on RE2, which has no backtracking"
    ) in text(response)
    assert not Runbook.objects.exists()


def test_a_taken_slug_is_a_form_error(client, alice):
    create(alice, "t")
    client.force_login(alice)

    response = client.post("/runbooks/new/", {"title": "T", "slug": "t", "body": "x"})

    assert "exists already" in text(response)


def test_preview_renders_without_saving(client, alice):
    client.force_login(alice)

    response = client.post(
        "/runbooks/new/", {"title": "T", "slug": "t", "body": "**bold** <script>x</script>", "preview": "1"}
    )

    assert (
        '<div class="card markdown" id="preview"><p><strong>bold</strong> &lt;script&gt;x&lt;/script&gt;</p>'
        in text(response)
    )
    assert not Runbook.objects.exists()


@pytest.mark.parametrize("persona", ["bob", "charlie"])
def test_readers_cannot_create_or_edit(client, alice, request, persona):
    create(alice)
    client.force_login(request.getfixturevalue(persona))

    assert client.get(START_URL).status_code == 403
    assert client.post("/runbooks/new/", {"title": "T", "slug": "t", "body": "x"}).status_code == 403
    assert client.get("/runbooks/cart/edit/").status_code == 403
    assert client.post("/runbooks/cart/edit/", {"title": "T", "body": "x"}).status_code == 403
    assert client.post("/runbooks/cart/restore/", {"version": "1"}).status_code == 403
    assert RunbookVersion.objects.count() == 1


# --- Edit, history, diff, restore ---------------------------------------------------------------------------


def test_it_edits_into_a_new_version_with_a_summary(client, alice):
    create(alice, matchers=[MatcherSpec(0, "service", "equals", "checkout-api")])
    client.force_login(alice)
    page = text(client.get("/runbooks/cart/edit/"))
    assert "## Steps\n\n1. Look at the cart</textarea>" in page
    assert "service equals checkout-api</textarea>" in page

    response = client.post(
        "/runbooks/cart/edit/",
        {
            "title": "Cart",
            "body": "## Steps\n\n1. Look twice",
            "summary": "Look twice",
            "matchers": "level equals fatal",
        },
    )

    assert response["Location"] == "/runbooks/cart/"
    version = Runbook.objects.get().current_version
    assert (version.number, version.summary, version.author) == (2, "Look twice", alice)
    assert list(RunbookMatcher.objects.values_list("field", "value")) == [("level", "fatal")]


def test_the_diff_highlights_changed_lines(client, alice):
    runbook = create(alice, body="one\ntwo\nthree")
    services.runbook_update(runbook=runbook, user=alice, body="one\n2\nthree\nfour")
    client.force_login(alice)

    page = text(client.get("/runbooks/cart/diff/?from=1&to=2"))

    assert '<tr class="hunk"><td colspan="3">@@ -1,3 +1,4 @@</td></tr>' in page
    assert re.search(
        r'<tr class="removed"><td class="ln">2</td><td class="ln"></td><td class="code">'
        r'<span class="mark">−</span>two</td></tr>',
        page,
    )
    assert re.search(
        r'<tr class="added"><td class="ln"></td><td class="ln">2</td><td class="code">'
        r'<span class="mark">\+</span>2</td></tr>',
        page,
    )
    assert re.search(r'<tr class="added">.*<span class="mark">\+</span>four</td>', page)
    assert re.search(r'<tr class="context"><td class="ln">1</td><td class="ln">1</td>', page)


@pytest.mark.parametrize("query,status", [("?from=1&to=9", 404), ("?from=x&to=1", 400), ("", 400)])
def test_a_bad_diff_request_is_refused(client, alice, query, status):
    create(alice)
    client.force_login(alice)

    assert client.get(f"/runbooks/cart/diff/{query}").status_code == status


def test_restore_from_history_inserts_a_copy(client, alice):
    runbook = create(alice, body="good")
    services.runbook_update(runbook=runbook, user=alice, body="bad")
    client.force_login(alice)
    assert 'form="restore-1"' in text(client.get("/runbooks/cart/history/"))

    assert client.get("/runbooks/cart/restore/").status_code == 405
    response = client.post("/runbooks/cart/restore/", {"version": "1"})

    assert response["Location"] == "/runbooks/cart/"
    version = Runbook.objects.get().current_version
    assert (version.number, version.body, version.restored_from) == (3, "good", 1)
    assert client.post("/runbooks/cart/restore/", {"version": "7"}).status_code == 404


def test_an_old_version_can_be_read(client, alice):
    runbook = create(alice, body="**first**")
    services.runbook_update(runbook=runbook, user=alice, body="second")
    client.force_login(alice)

    page = text(client.get("/runbooks/cart/versions/1/"))

    assert "<strong>first</strong>" in page
    assert 'href="/runbooks/cart/diff/?from=1&amp;to=2"' in page


# --- Feedback -----------------------------------------------------------------------------------------------


def test_anyone_flags_and_an_editor_resolves(client, alice, bob, charlie):
    create(alice)
    client.force_login(charlie)
    client.post("/runbooks/cart/feedback/", {"kind": "outdated", "comment": "Step 1 points at the old admin"})
    flag = RunbookFeedback.objects.get()
    client.force_login(alice)
    assert "Step 1 points at the old admin" in text(client.get("/runbooks/cart/"))

    client.force_login(bob)
    assert client.post(f"/runbooks/cart/feedback/{flag.pk}/resolve/").status_code == 403
    client.force_login(alice)
    client.post(f"/runbooks/cart/feedback/{flag.pk}/resolve/")

    assert RunbookFeedback.objects.get().resolved_by == alice
    assert "Step 1 points at the old admin" not in text(client.get("/runbooks/cart/"))


def test_owners_find_open_feedback_on_their_teams_runbooks(alice, charlie):
    mine = create(alice, "mine", team="checkout")
    theirs = create(alice, "theirs", team="payments")
    services.runbook_feedback_add(runbook=mine, user=charlie, kind="unclear", comment="which cart?")
    services.runbook_feedback_add(runbook=theirs, user=charlie, kind="outdated")
    done = services.runbook_feedback_add(runbook=mine, user=charlie, kind="outdated", comment="fixed already")
    services.runbook_feedback_resolve(feedback=done, user=alice)

    found = selectors.feedback_open_for_teams(team_slugs=["checkout"])

    assert [(flag.runbook.slug, flag.comment) for flag in found] == [("mine", "which cart?")]


def test_feedback_needs_a_kind(client, alice):
    create(alice)
    client.force_login(alice)

    client.post("/runbooks/cart/feedback/", {"kind": "rude", "comment": "x"})

    assert not RunbookFeedback.objects.exists()


# --- Architecture -------------------------------------------------------------------------------------------


def test_runbooks_imports_neither_triage_nor_integrations():
    """integrations → triage → runbooks: runbooks learns of items only through what triage hands it."""
    root = Path(__file__).resolve().parents[2] / "runbooks"
    imported = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {(path.name, alias.name.split(".")[0]) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add((path.name, node.module.split(".")[0]))

    assert {(name, module) for name, module in imported if module in ("triage", "integrations")} == set()
    assert any(module == "django" for _, module in imported)  # the scan does see imports
    assert RunbookUse._meta.get_field("item_ref").get_internal_type() == "BigIntegerField"
