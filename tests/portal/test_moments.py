"""One format per kind of date, in the viewer's zone and language (common.moments)."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.template import engines
from django.utils import timezone, translation

WHEN = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # already 5 December in Tokyo


def render(source, **context):
    return engines["django"].from_string(source).render(context)


@pytest.fixture
def tokyo():
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        yield


def test_it_writes_a_moment_in_the_viewers_zone_and_labels_it(tokyo):
    with translation.override("en"):
        assert render("{{ when|moment }}", when=WHEN) == (
            '<time datetime="2026-12-04T23:30:00+00:00">5 Dec 2026, 08:30 JST</time>'
        )


def test_it_writes_a_moment_the_japanese_way(tokyo):
    with translation.override("ja"):
        assert "2026年12月5日 08:30 JST" in render("{{ when|moment }}", when=WHEN)


def test_it_writes_how_long_ago_with_the_moment_in_the_tooltip(tokyo):
    three_hours_ago = timezone.now() - timedelta(hours=3, minutes=5)
    with translation.override("ja"):
        html = render("{{ when|ago }}", when=three_hours_ago)
    assert ">3時間前</time>" in html and "JST" in html.split('title="')[1]


def test_it_writes_a_day_without_a_time():
    with translation.override("en"):
        assert render("{{ d|day }}", d=date(2026, 11, 30)) == '<time datetime="2026-11-30">30 Nov 2026</time>'
    with translation.override("ja"):
        assert "2026年11月30日" in render("{{ d|day }}", d=date(2026, 11, 30))


def test_it_takes_the_day_of_a_moment_in_the_viewers_zone(tokyo):
    assert 'datetime="2026-12-05"' in render("{{ when|day }}", when=WHEN)


@pytest.mark.parametrize("value", [None, "", "2026-12-04", 17])
def test_it_writes_nothing_for_what_is_not_a_time(value):
    assert render("{{ v|moment }}{{ v|ago }}{{ v|moment_text }}", v=value) == ""


def test_it_labels_the_zone_long_or_short(tokyo):
    assert render("{% zone_label %}") == "Asia/Tokyo (JST)"
    assert render("{% zone_label short=True %}") == "JST"
    with timezone.override(UTC):
        assert render("{% zone_label %}") == "UTC"
