"""`seed_demo --lang ja` (SEED_LANG=ja make run): a team that works in Japanese, the loop in its language."""

import re

import pytest
from django.core.management import call_command

from accounts.models import Preference
from grouping.models import Suggestion
from integrations import demo, demo_ja
from ops.models import DataFixRequest
from runbooks.models import Runbook
from triage.models import Team, TriageItem

pytestmark = pytest.mark.django_db
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture
def seeded(capsys):
    call_command("seed_demo", "--lang", "ja")
    call_command("seed_demo_data_fixes")
    capsys.readouterr()


def japanese_items():
    return TriageItem.objects.filter(sentry_issue_id__in=[spec.issue_id for spec in demo_ja.ISSUES])


def test_it_seeds_japanese_errors_owned_by_a_team_that_reads_japanese(seeded):
    items = list(japanese_items().select_related("team"))
    assert len(items) == len(demo_ja.ISSUES)
    assert all(JAPANESE.search(item.title) for item in items)
    assert {item.team.slug for item in items} == {demo_ja.TEAM_SLUG}
    assert Team.objects.get(slug=demo_ja.TEAM_SLUG).writes_in == "ja"


def test_it_links_the_japanese_runbooks_at_intake(seeded):
    stock = TriageItem.objects.get(short_id="INVENTORY-API-7")
    assert stock.runbook.title == "在庫引当エラーの対処手順"
    assert TriageItem.objects.get(short_id="PAYMENT-API-2C").runbook.slug == "payment-timeout"


def test_it_files_a_japanese_data_fix(seeded):
    fix = DataFixRequest.objects.get(item__short_id="INVENTORY-API-7")
    assert fix.is_open and "在庫数を 12 に補正" in fix.description


def test_it_gives_the_grouping_advisor_a_split_to_propose(seeded):
    call_command("recompute_grouping", "--full")
    split = Suggestion.objects.get(kind="split", item__short_id="PAYMENT-API-31")
    assert {group["service"] for group in split.groups} >= {"point-service", "coupon-service"}


def test_it_has_dev_read_japanese_in_japan_time(seeded):
    preference = Preference.objects.get(user__username="dev")
    assert (preference.language, preference.time_zone) == ("ja", "Asia/Tokyo")


def test_it_seeds_nothing_twice(seeded, capsys):
    counts = (TriageItem.objects.count(), Runbook.objects.count(), DataFixRequest.objects.count())
    call_command("seed_demo", "--lang", "ja")
    call_command("seed_demo_data_fixes")
    assert (TriageItem.objects.count(), Runbook.objects.count(), DataFixRequest.objects.count()) == counts


def test_it_leaves_the_english_demo_as_it_was(capsys):
    call_command("seed_demo")
    assert TriageItem.objects.count() == len(demo.DEMO_ISSUES)
    assert not japanese_items().exists() and not Runbook.objects.exists()
    assert not Team.objects.filter(slug=demo_ja.TEAM_SLUG).exists()
