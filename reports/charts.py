"""Server-side SVG for the weekly report: no chart library, no CDN, prints as it shows."""

from datetime import date

from django.utils.html import format_html
from django.utils.safestring import SafeString


def week_sparkline(points: list[tuple[date, int]], *, spike=False, width=120, height=24) -> SafeString:
    """Events per week as a line; the last week's dot is red when it is a spike."""
    peak = max((n for _, n in points), default=0) or 1
    step = width / max(len(points) - 1, 1)
    coords = [(round(i * step, 1), round(height - 2 - (height - 4) * n / peak, 1)) for i, (_, n) in enumerate(points)]
    path = " ".join(f"{x},{y}" for x, y in coords)
    label = ", ".join(f"{start:%d %b}: {n}" for start, n in points)
    x, y = coords[-1] if coords else (0, height)
    return format_html(
        '<svg class="week-spark" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="Events per week: {}">'
        '<polyline points="{}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        '<circle cx="{}" cy="{}" r="2.5" class="{}"/></svg>',
        width, height, width, height, label, path, x, y, "dot spike" if spike else "dot")


def weeks_series(history: dict, starts: list[date]) -> list[tuple[date, int]]:
    return [(start, history.get(start, 0)) for start in starts]


