"""Medians of durations per group, in the database where it can take them (PostgreSQL), else in Python.

Shared by the apps' figures (the weekly report's triage times, ops' data-fix turnaround): one query per
figure on PostgreSQL, one small list per figure on SQLite.
"""

from collections import defaultdict
from statistics import median

from django.db import connection
from django.db.models import Aggregate, DurationField


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5); SQLite has none, so grouped_medians computes it in Python there."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    allow_distinct = False


def grouped_medians(rows, *, group: str, durations: dict) -> tuple[dict, dict]:
    """Medians in seconds of each duration {key: (condition, expression)} over `rows`, per `group` value and
    overall: ({group value: {key: seconds}}, {key: seconds})."""
    if connection.vendor != "postgresql":
        return _medians_in_python(rows, group, durations)
    medians = {
        key: Median(expr, filter=cond, output_field=DurationField())
        for key, (cond, expr) in durations.items()
    }
    per_group = {row.pop(group): _seconds(row) for row in rows.values(group).annotate(**medians)}
    return per_group, _seconds(rows.aggregate(**medians))


def _seconds(row: dict) -> dict:
    return {key: value.total_seconds() if value is not None else None for key, value in row.items()}


def _medians_in_python(rows, group, durations):
    """SQLite has no percentile function: read the durations (one small list per figure)."""
    samples = defaultdict(lambda: defaultdict(list))
    for key, (cond, expr) in durations.items():
        for group_value, value in rows.filter(cond).annotate(d=expr).values_list(group, "d"):
            samples[group_value][key].append(value.total_seconds())
            samples[None][key].append(value.total_seconds())

    def pick(values):
        return {key: median(values[key]) if values[key] else None for key in durations}

    org = pick(samples.pop(None, defaultdict(list)))
    return {group_value: pick(values) for group_value, values in samples.items()}, org
