"""Server-side SVG for the weekly report: no chart library, no CDN, prints as it shows."""

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

OTHER = "other"
CHART = {"width": 760, "height": 260, "left": 48, "right": 130, "top": 12, "bottom": 28}
GRID_LINES = 4
LABEL_GAP = 12  # px between two line labels at the chart's right edge


def week_sparkline(points: list[tuple[date, int]], *, spike=False, width=120, height=24) -> SafeString:
    """Events per week as a line; the last week's dot is red when it is a spike."""
    peak = max((n for _, n in points), default=0) or 1
    step = width / max(len(points) - 1, 1)
    coords = [
        (round(i * step, 1), round(height - 2 - (height - 4) * n / peak, 1))
        for i, (_, n) in enumerate(points)
    ]
    path = " ".join(f"{x},{y}" for x, y in coords)
    days = ", ".join(f"{date_format(start, 'SHORT_DATE_FORMAT')}: {n}" for start, n in points)
    label = _("Events per week: %(weeks)s") % {"weeks": days}
    x, y = coords[-1] if coords else (0, height)
    return format_html(
        '<svg class="week-spark" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}">'
        '<polyline points="{}" fill="none" stroke="currentColor" stroke-width="1.5"/>'
        '<circle cx="{}" cy="{}" r="2.5" class="{}"/></svg>',
        width,
        height,
        width,
        height,
        label,
        path,
        x,
        y,
        "dot spike" if spike else "dot",
    )


def weeks_series(history: dict, starts: list[date]) -> list[tuple[date, int]]:
    return [(start, history.get(start, 0)) for start in starts]


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


def service_series(history: dict, names: dict[int, str], starts: list[date], *, top=6) -> list[Series]:
    """The `top` services with the most events over the weeks, then "other" for the rest (when there is
    any)."""
    per_service = {sid: [weeks.get(start, 0) for start in starts] for sid, weeks in history.items()}
    ranked = sorted(per_service, key=lambda sid: (-sum(per_service[sid]), names.get(sid, "")))
    shown = [sid for sid in ranked if sid in names][:top]
    series = [Series(names[sid], per_service[sid]) for sid in shown]
    rest = [per_service[sid] for sid in ranked if sid not in shown]
    if rest:
        series.append(Series(OTHER, [sum(week) for week in zip(*rest, strict=True)]))
    return series


def services_chart(series: list[Series], week_names: list[str]) -> SafeString:
    """Events per week, one line per series, labelled at its end; dashes tell lines apart on a grey
    printout."""
    c = CHART
    plot_w, plot_h = c["width"] - c["left"] - c["right"], c["height"] - c["top"] - c["bottom"]
    grid = _grid_step(max((max(s.values) for s in series if s.values), default=0))
    top_value = GRID_LINES * grid
    step = plot_w / max(len(week_names) - 1, 1)

    def x(i):
        return round(c["left"] + i * step, 1)

    def y(n):
        return round(c["top"] + plot_h - plot_h * n / top_value, 1)

    parts = [_axes(grid, y, c), _week_labels(week_names, x, c)]
    ends = []
    for index, one in enumerate(series):
        points = " ".join(f"{x(i)},{y(n)}" for i, n in enumerate(one.values))
        parts.append(
            format_html(
                '<polyline class="line s{}" points="{}"><title>{}</title></polyline>',
                index,
                points,
                _("%(service)s: %(events)d events in %(weeks)d weeks")
                % {"service": one.name, "events": one.total, "weeks": len(week_names)},
            )
        )
        ends.append((y(one.values[-1]), index, one))
    parts.append(_end_labels(ends, x(len(week_names) - 1) + 6, y(0)))
    summary = "; ".join(f"{s.name} {s.total}" for s in series)
    return format_html(
        '<svg class="services-chart" viewBox="0 0 {w} {h}" width="100%" role="img" '
        'preserveAspectRatio="xMinYMin meet" aria-label="{label}">{body}</svg>',
        w=c["width"],
        h=c["height"],
        label=_("Events per service and week, %(weeks)d weeks (totals: %(summary)s)")
        % {"weeks": len(week_names), "summary": summary},
        body=SafeString("".join(parts)),
    )


def _grid_step(value: int) -> int:
    """The smallest 1, 2 or 5 × 10^k step whose four grid lines reach `value`."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            if GRID_LINES * factor * magnitude >= value:
                return factor * magnitude
        magnitude *= 10


def _axes(grid, y, c) -> str:
    lines = [
        format_html(
            '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="tick" x="{}" y="{}" '
            'text-anchor="end">{}</text>',
            c["left"],
            c["width"] - c["right"],
            y(v),
            y(v),
            c["left"] - 6,
            y(v) + 4,
            f"{v:,}",
        )
        for v in (grid * k for k in range(GRID_LINES + 1))
    ]
    return "".join(lines)


def _week_labels(week_names, x, c) -> str:
    baseline = c["height"] - 8
    return "".join(
        format_html(
            '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
            x(i),
            baseline,
            name.split("-")[1],
        )
        for i, name in enumerate(week_names)
    )


def _end_labels(ends, left, bottom) -> str:
    """Series names at their last point, pushed apart so close lines keep readable labels (and kept above the
    chart's bottom edge)."""
    ends = sorted(ends, key=lambda end: (end[0], end[1]))
    spots = []
    for wanted, _index, _series in ends:
        spots.append(wanted if not spots else max(wanted, spots[-1] + LABEL_GAP))
    lift = max(spots[-1] - bottom, 0) if spots else 0
    return "".join(
        format_html(
            '<text class="label s{}" x="{}" y="{}">{} <tspan class="muted">{}</tspan></text>',
            index,
            left,
            round(at - lift + 4, 1),
            one.name,
            f"{one.values[-1]:,}",
        )
        for at, (_, index, one) in zip(spots, ends, strict=True)
    )
