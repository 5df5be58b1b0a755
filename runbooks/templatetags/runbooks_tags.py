"""Small display filters for runbook pages."""

from django import template

register = template.Library()


@register.filter
def short_duration(value):
    """A timedelta as its two largest units ("2 d 3 h", "14 min", "40 s"); "—" for None."""
    if value is None:
        return "—"
    seconds = max(int(value.total_seconds()), 0)
    units = [("d", 86400), ("h", 3600), ("min", 60), ("s", 1)]
    parts = []
    for name, size in units:
        if seconds >= size or (not parts and size == 1):
            parts.append(f"{seconds // size} {name}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


@register.filter
def percent(value):
    """A ratio 0..1 as a whole percentage; "—" when there is none."""
    return "—" if value is None else f"{round(value * 100)}%"
