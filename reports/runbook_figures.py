"""The week's runbook figures, each an aggregate query (reads only; services.py stores them).

Used: runbooks keeps one RunbookUse per item handled with a runbook, with when it was linked and
when the item was first decided with it. Flagged: RunbookFeedback ("unclear", "outdated") from the
runbook's page, and the handler's "did it help?" answer on the item, which triage records as a
"runbook_feedback" activity naming the runbook's slug (the answer can change: the last one in the
week counts, once per item).
"""

from collections import defaultdict

from django.db.models import Count, Exists, OuterRef, Q

from runbooks.selectors import runbook_feedback_counts, runbook_titles, runbook_use_counts
from triage.models import Activity, Occurrence

from .weeks import Week

ANSWER_VERB = "runbook_feedback"


def runbook_week_figures(*, week: Week) -> dict[str, dict]:
    """{slug: {"runbook_id", "title", "linked", "handled", "used", "unclear", "outdated", "helped",
    "not_helped"}} for the runbooks used or flagged in the week."""
    start, end = week.bounds()
    by_id = _merge(runbook_use_counts(start=start, end=end), runbook_feedback_counts(start=start, end=end))
    answers = _answers(week)
    runbooks = runbook_titles(ids=by_id, slugs=answers)
    figures = {}
    for pk, slug, title in runbooks:
        figures[slug] = {"runbook_id": pk, "title": title, **by_id.get(pk, {}), **answers.get(slug, {})}
    return figures


def _merge(*tables):
    merged = defaultdict(dict)
    for table in tables:
        for key, row in table.items():
            merged[key].update(row)
    return merged


def _answers(week: Week) -> dict[str, dict]:
    """{slug: {"helped", "not_helped"}}: each item's last answer in the week."""
    start, end = week.bounds()
    in_week = Activity.objects.filter(verb=ANSWER_VERB, created_at__gte=start, created_at__lt=end)
    later = in_week.filter(
        Q(created_at__gt=OuterRef("created_at"))
        | Q(created_at=OuterRef("created_at"), pk__gt=OuterRef("pk")),
        item_id=OuterRef("item_id"),
        data__slug=OuterRef("data__slug"),
    )
    rows = (
        in_week.filter(~Exists(later))
        .order_by()
        .values_list("data__slug")
        .annotate(
            helped=Count("pk", filter=Q(data__helped=True)),
            not_helped=Count("pk", filter=Q(data__helped=False)),
        )
    )
    return {slug: {"helped": helped, "not_helped": not_helped} for slug, helped, not_helped in rows if slug}


def error_kinds_without_runbook(*, week: Week) -> list[dict]:
    """Events in the week of items with no runbook linked, per service and exception type, most events
    first."""
    start, end = week.bounds()
    return list(
        Occurrence.objects.filter(timestamp__gte=start, timestamp__lt=end, item__runbook__isnull=True)
        .order_by()
        .values("item__service_id", "exception_type")
        .annotate(events=Count("pk"), items=Count("item_id", distinct=True))
        .order_by("-events")
    )
