"""triage knows no app above it (integrations → triage → runbooks; ops, grouping, reports → triage):
they register what its pages show of them in triage.extensions, and the pages render what is registered."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.template import engines
from django.template.backends.django import get_installed_libraries
from django.template.base import Lexer, TokenType
from django.test.utils import CaptureQueriesContext

from ops import services as ops_services
from tests.grouping_data import split_issue
from tests.ops.test_support import file_request
from tests.triage.test_queue import listed, make, rail_counts
from triage import extensions, services
from triage.extensions import Section
from triage.models import TriageItem
from triage.queue import SECTIONS

ROOT = Path(settings.BASE_DIR)
ABOVE_TRIAGE = {"ops", "grouping", "integrations", "reports"}
DOTTED_PATH = re.compile(rf"({'|'.join(ABOVE_TRIAGE)})(\.\w+)+")


def page_text(client, item) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(item.get_absolute_url()).content.decode()))


# --- Architecture -----------------------------------------------------------------------------------


def python_offences(source: str) -> list[str]:
    """Imports of the apps above triage, and their modules or models named in strings (import_module,
    get_model, FKs)."""
    offences = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            offences += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in ABOVE_TRIAGE]
        elif (
            isinstance(node, ast.ImportFrom)
            and not node.level
            and (node.module or "").split(".")[0] in ABOVE_TRIAGE
        ):
            offences.append(f"from {node.module} import …")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and DOTTED_PATH.fullmatch(node.value)
        ):
            offences.append(f"{node.value!r}")
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "get_model"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in ABOVE_TRIAGE
        ):
            offences.append(f"get_model({node.args[0].value!r}, …)")
    return offences


def tag_library_modules() -> dict[str, str]:
    """Every tag library a template may load: its name → its module."""
    return {**get_installed_libraries(), **engines["django"].engine.libraries}


def template_offences(source: str) -> list[str]:
    """Loads of those apps' tag libraries, and their URLs or templates named in url, include and extends."""
    modules, offences = tag_library_modules(), []
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK:
            continue
        name, *args = token.split_contents()
        if name == "load":
            names = args[-1:] if "from" in args else args  # {% load tag from library %}
            offences += [
                f"{{% load {lib} %}}" for lib in names if modules.get(lib, "").split(".")[0] in ABOVE_TRIAGE
            ]
        elif name == "url" and args and args[0].strip("'\"").split(":")[0] in ABOVE_TRIAGE:
            offences.append(f"{{% url {args[0]} %}}")
        elif name in ("include", "extends") and args and args[0].strip("'\"").split("/")[0] in ABOVE_TRIAGE:
            offences.append(f"{{% {name} {args[0]} %}}")
    return offences


def test_it_finds_no_app_above_triage_in_triages_modules():
    modules = sorted((ROOT / "triage").rglob("*.py"))
    assert len(modules) > 20

    found = {
        str(path.relative_to(ROOT)): offences
        for path in modules
        if (offences := python_offences(path.read_text(encoding="utf-8")))
    }

    assert found == {}


def test_it_finds_no_app_above_triage_in_triages_templates():
    templates = sorted(path for path in (ROOT / "templates" / "triage").rglob("*") if path.is_file())
    assert len(templates) > 10

    found = {
        str(path.relative_to(ROOT)): offences
        for path in templates
        if (offences := template_offences(path.read_text(encoding="utf-8")))
    }

    assert found == {}


def test_it_recognises_what_the_architecture_tests_forbid(monkeypatch):
    python = (
        "import ops.models\nfrom grouping import selectors\nfrom .models import TriageItem\n"
        "x = apps.get_model('reports', 'Report')\ny = models.ForeignKey('integrations.WebhookDelivery')\n"
        '"""The integrations app sends these."""\nROLE = "ops"\n'
    )
    libraries = {**tag_library_modules(), "data_fixes": "ops.templatetags.data_fixes"}
    monkeypatch.setattr(f"{__name__}.tag_library_modules", lambda: libraries)
    template = (
        "{% load safe_urls %}{% load static %}{% load data_fixes %}{% load data_fix_panel from data_fixes %}"
        "{% url 'ops:request' 1 %}{% url 'triage:item' 1 %}"
        "{% include \"grouping/_split_banner.html\" %}{% include 'triage/_condition.html' %}"
    )

    assert python_offences(python) == [
        "import ops.models",
        "from grouping import …",
        "get_model('reports', …)",
        "'integrations.WebhookDelivery'",
    ]
    assert template_offences(template) == [
        "{% load data_fixes %}",
        "{% load data_fixes %}",
        "{% url 'ops:request' %}",
        '{% include "grouping/_split_banner.html" %}',
    ]


# --- What the apps register -------------------------------------------------------------------------


def test_it_has_the_apps_above_triage_register_their_panels_lines_and_section():
    assert [panel.name for panel in extensions.item_panels("banner")] == [
        "integrations.sentry_sync",
        "grouping.split",
    ]
    assert [panel.name for panel in extensions.item_panels("side")] == ["ops.data_fixes"]
    assert [line.name for line in extensions._activity_lines.values()] == ["ops.data_fixes"]
    assert [section.slug for section in SECTIONS] == [
        "new",
        "regressed",
        "mine",
        "team",
        "ops",
        "woke",
        "open",
        "all",
    ]


@pytest.fixture
def split_data_fix_item(client, alice):
    """An item every registered panel shows on: a failed Sentry sync, a split suggestion, a data-fix
    request."""
    item = split_issue(client, "8101")
    TriageItem.objects.filter(pk=item.pk).update(
        classification="data_fix", status="triaged", team=alice.teams.get()
    )
    item.refresh_from_db()
    services.item_record_sentry_sync(
        item_id=item.pk, state="failed", error="HTTP 403: token lacks event:write"
    )
    return item


@pytest.mark.django_db
def test_it_shows_the_registered_panels_on_the_item_page_in_their_places(client, alice, split_data_fix_item):
    fix = file_request(split_data_fix_item, alice)
    client.force_login(alice)

    html = client.get(split_data_fix_item.get_absolute_url()).content.decode()

    places = [
        html.index(marker)
        for marker in (
            '<nav class="crumbs"',
            "Sentry was not updated.",
            "Retry sync",
            "This Sentry issue looks like 4 different errors.",
            '<header class="item-head">',
            '<section class="card triage-panel">',
            'id="data-fixes"',
            f'data-request="{fix.pk}"',
            "File a data fix for ops",
            '<section class="card details">',
        )
    ]
    assert places == sorted(places)
    assert f'filed data fix <a href="/ops/requests/{fix.pk}/">#{fix.pk}</a>' in re.sub(r"\s+", " ", html)


@pytest.mark.django_db
def test_it_gives_the_panels_the_pages_csrf_token(client, alice, split_data_fix_item):
    client.force_login(alice)

    html = client.get(split_data_fix_item.get_absolute_url()).content.decode()

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    banner = html[html.index("Sentry was not updated.") : html.index('<header class="item-head">')]
    assert banner.count(f'value="{token}"') == 2  # the retry form and the grouping recompute form


@pytest.mark.django_db
def test_it_leaves_the_panels_their_conditions(client, charlie, split_data_fix_item):
    client.force_login(charlie)  # may read, not change: no retry button, no recompute, no form to file

    html = client.get(split_data_fix_item.get_absolute_url()).content.decode()

    assert "Sentry was not updated." in html and "Retry sync" not in html
    assert "looks like 4 different errors" in html and "Recompute" not in html
    assert 'id="data-fixes"' in html and "File a data fix for ops" not in html


# --- The queue section ops registers ----------------------------------------------------------------


@pytest.fixture
def waiting(alice, bob):
    """Items of alice's team, classified data_fix: each with a request in another state, and one with none."""
    items = {
        name: make(n, classification="data_fix", status="triaged", team=alice.teams.get())
        for n, name in enumerate(("requested", "acknowledged", "done", "closed_item", "no_request"), start=1)
    }
    for name in ("requested", "acknowledged", "done", "closed_item"):
        fix = file_request(items[name], alice)
        if name in ("acknowledged", "done"):
            ops_services.datafix_acknowledge(request_id=fix.pk, user=bob)
        if name == "done":
            ops_services.datafix_complete(request_id=fix.pk, user=bob, result="Rows fixed")
    TriageItem.objects.filter(pk=items["closed_item"].pk).update(status="resolved")
    return items


@pytest.mark.django_db
def test_it_lists_the_open_items_waiting_on_ops_under_section_ops(alice_client, waiting):
    response = alice_client.get("/?section=ops")

    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(waiting[name].pk for name in ("requested", "acknowledged"))
    assert rail_counts(response)["ops"] == 2
    assert "<h1>Waiting on ops" in response.content.decode()


@pytest.mark.django_db
def test_it_takes_as_many_queries_for_the_ops_section_as_for_triages_own(alice_client, waiting):
    alice_client.get("/?section=team")  # the visit is recorded: both loads below are the same visit

    with CaptureQueriesContext(connection) as own:
        alice_client.get("/?section=team")
    with CaptureQueriesContext(connection) as registered:
        alice_client.get("/?section=ops")

    assert len(registered) == len(own)


@pytest.mark.django_db
def test_it_words_the_data_fix_timeline_entries_with_the_line_ops_registered(alice_client, waiting):
    acknowledged, done = (waiting[name].data_fix_requests.get().pk for name in ("acknowledged", "done"))

    done_page, acknowledged_page = (
        page_text(alice_client, waiting[name]) for name in ("done", "acknowledged")
    )

    assert f"alice filed data fix #{done}" in done_page and f"bob ops completed data fix #{done}" in done_page
    assert f"bob ops acknowledged data fix #{acknowledged}" in acknowledged_page


@pytest.mark.django_db
def test_it_places_a_registered_section_after_its_anchor_and_accepts_its_slug(
    alice_client, alice, monkeypatch
):
    pinned, _plain = make(1, pinned_note="look"), make(2)
    section = Section("pinned", "Pinned", "Items with a pinned note.", lambda v: ~Q(pinned_note=""))
    monkeypatch.setitem(extensions._sections, "pinned", (section, "mine"))

    response = alice_client.get("/?section=pinned")

    assert listed(response) == [pinned.pk]
    slugs = list(rail_counts(response))
    assert slugs.index("pinned") == slugs.index("mine") + 1
