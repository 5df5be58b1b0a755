"""Usefulness from real handling, per runbook and per version, read from RunbookUse.

Counts are aggregated in the database. Medians too on PostgreSQL (percentile_cont over the
intervals); SQLite has no percentile, so there the durations of the most recent
SQLITE_MEDIAN_SAMPLE uses are read and the medians taken in Python. Both take two queries.
"""

import statistics
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q

from .models import RunbookUse

SQLITE_MEDIAN_SAMPLE = 5000


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5); it accepts intervals and ignores NULLs."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


@dataclass(frozen=True)
class Usefulness:
    version: int | None  # None: the whole runbook
    linked: int
    handled: int  # decided
    resolved: int
    rated: int
    helped: int
    median_to_decision: timedelta | None
    median_to_resolution: timedelta | None

    @property
    def helped_ratio(self) -> float | None:
        return self.helped / self.rated if self.rated else None


TO_DECISION = ExpressionWrapper(F("decided_at") - F("linked_at"), output_field=DurationField())
TO_RESOLUTION = ExpressionWrapper(F("resolved_at") - F("linked_at"), output_field=DurationField())
COUNTS = {
    "linked": Count("id"),
    "handled": Count("id", filter=Q(decided_at__isnull=False)),
    "resolved": Count("id", filter=Q(resolved_at__isnull=False)),
    "rated": Count("id", filter=Q(helped__isnull=False)),
    "helped": Count("id", filter=Q(helped=True)),
}


def runbook_usefulness(*, runbook) -> tuple[Usefulness, list[Usefulness]]:
    """(the whole runbook, each version that has uses, newest first)."""
    uses = RunbookUse.objects.filter(runbook=runbook)
    if connection.vendor == "postgresql":
        return _on_postgresql(uses)
    return _in_python(uses)


def _on_postgresql(uses):
    medians = {"median_to_decision": Median(TO_DECISION), "median_to_resolution": Median(TO_RESOLUTION)}
    rows = uses.values("version__number").annotate(**COUNTS, **medians).order_by("-version__number")
    per_version = [_row(row, row["version__number"]) for row in rows]
    overall = uses.aggregate(**medians)
    return _total(per_version, overall["median_to_decision"], overall["median_to_resolution"]), per_version


def _in_python(uses):
    rows = uses.values("version__number").annotate(**COUNTS).order_by("-version__number")
    sample = list(
        uses.order_by("-linked_at").values_list("version__number", "linked_at", "decided_at", "resolved_at")[
            :SQLITE_MEDIAN_SAMPLE
        ]
    )
    per_version = [
        _row(row, number, *_medians(s for s in sample if s[0] == number))
        for row in rows
        for number in [row["version__number"]]
    ]
    return _total(per_version, *_medians(sample)), per_version


def _medians(sample) -> tuple[timedelta | None, timedelta | None]:
    sample = list(sample)
    decided = [decided - linked for _, linked, decided, _ in sample if decided]
    resolved = [resolved - linked for _, linked, _, resolved in sample if resolved]
    return (
        statistics.median(decided) if decided else None,
        statistics.median(resolved) if resolved else None,
    )


def _row(row, number, to_decision=None, to_resolution=None) -> Usefulness:
    return Usefulness(
        version=number,
        **{key: row[key] for key in COUNTS},
        median_to_decision=row.get("median_to_decision", to_decision),
        median_to_resolution=row.get("median_to_resolution", to_resolution),
    )


def _total(per_version, to_decision, to_resolution) -> Usefulness:
    sums = {key: sum(getattr(one, key) for one in per_version) for key in COUNTS}
    return Usefulness(
        version=None, **sums, median_to_decision=to_decision, median_to_resolution=to_resolution
    )
