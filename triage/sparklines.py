"""Events per day as small bar charts, drawn on the server as inline SVG (no chart library, no JS).

Days are calendar days in TIME_ZONE, the same days the aggregate in
`selectors.items_daily_event_counts` groups by.
"""

from datetime import date, timedelta
from functools import lru_cache

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, gettext, ngettext

SPARK_DAYS = 14


def last_days(count: int, today: date | None = None) -> list[date]:
    """The last `count` calendar days, oldest first, ending today."""
    today = today or timezone.localdate()
    return [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def series(counts: dict, item_id: int, days: list[date]) -> list[tuple[date, int]]:
    """One item's (day, events) pairs from the page-wide {(item_id, day): n} aggregate."""
    return [(day, counts.get((item_id, day), 0)) for day in days]


def sparkline(points: list[tuple[date, int]], *, width=70, height=20) -> SafeString:
    """A row's sparkline: a bar per day, the tallest bar at full height."""
    total = sum(n for _, n in points)
    label = gettext("%(total)d events in the last %(days)d days") % {"total": total, "days": len(points)}
    return _bars(points, width=width, height=height, label=label, css="spark")


def histogram(points: list[tuple[date, int]], *, width=640, height=96) -> SafeString:
    """The item page's chart: same bars, wider, with the busiest day's count as a scale."""
    peak = max((n for _, n in points), default=0)
    label = gettext("Events per day, last %(days)d days: %(total)d in all, at most %(peak)d a day") % {
        "days": len(points),
        "total": sum(n for _day, n in points),
        "peak": peak,
    }
    return _bars(points, width=width, height=height, label=label, css="histogram")


def _bars(points, *, width, height, label, css) -> SafeString:
    peak = max((n for _, n in points), default=0)
    slot = width / max(len(points), 1)
    bars = SafeString("".join(_bar(i, day, n, slot, height, peak) for i, (day, n) in enumerate(points)))
    return format_html(
        '<svg class="{}" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}" '
        'preserveAspectRatio="none" data-counts="{}">{}</svg>',
        css,
        width,
        height,
        width,
        height,
        label,
        ",".join(str(n) for _, n in points),
        bars,
    )


def _bar(index, day, count, slot, height, peak) -> SafeString:
    # A day with events is never thinner than 2px, so one event beside a spike still shows;
    # an empty day is a faint 1px baseline tick.
    bar_height = max(2.0, height * count / peak) if count else 1.0
    gap = min(2.0, slot * 0.25)
    # Only numbers and dates go in, so plain formatting is safe: format_html cost a queue page
    # ~12 ms for its 700 bars (bench/morning.py).
    css = "bar" if count else "bar zero"
    return SafeString(
        f'<rect class="{css}" x="{_px(index * slot + gap / 2)}" y="{_px(height - bar_height)}" '
        f'width="{_px(slot - gap)}" height="{_px(bar_height)}" data-day="{day.isoformat()}" '
        f'data-count="{int(count)}">'
        f"<title>{_bar_title(day, int(count), get_language())}</title></rect>"
    )


@lru_cache(maxsize=4096)
def _bar_title(day, count, language) -> str:
    # A page has ~14 days and a few counts, in one language: cached, a translated title costs nothing.
    events = ngettext("%(count)d event", "%(count)d events", count) % {"count": count}
    return escape(f"{date_format(day, 'SHORT_DATE_FORMAT')}: {events}")


def _px(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
