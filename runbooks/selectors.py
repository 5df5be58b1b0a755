"""Reads for pages and the API: each a fixed number of queries, whatever the number of versions or uses."""

from django.db.models import Count, Q, QuerySet

from .models import Runbook, RunbookFeedback, RunbookMatcher, RunbookUse, RunbookVersion
from .search import runbook_search  # noqa: F401 -- the list read lives with its search

RECENT_USES = 50


def runbook_get(*, slug: str) -> Runbook:
    """The runbook with its current version and that version's author (Runbook.DoesNotExist if none)."""
    return Runbook.objects.select_related("current_version", "current_version__author").get(slug=slug)


def runbook_versions(*, runbook) -> QuerySet:
    """Newest first, without bodies (the history page and the API list need only the metadata)."""
    return (
        RunbookVersion.objects.filter(runbook=runbook)
        .select_related("author")
        .defer("body")
        .order_by("-number")
    )


def runbook_version_pair(*, runbook, first: int, second: int) -> tuple[RunbookVersion, RunbookVersion]:
    """Two versions by number in one query; RunbookVersion.DoesNotExist names a missing one."""
    found = {v.number: v for v in RunbookVersion.objects.filter(runbook=runbook, number__in=[first, second])}
    for number in (first, second):
        if number not in found:
            raise RunbookVersion.DoesNotExist(f"{runbook.slug} has no version {number}.")
    return found[first], found[second]


def runbook_version(*, runbook, number: int) -> RunbookVersion:
    return RunbookVersion.objects.select_related("author").get(runbook=runbook, number=number)


def runbook_recent_uses(*, runbook, limit: int = RECENT_USES) -> QuerySet:
    return (
        RunbookUse.objects.filter(runbook=runbook)
        .select_related("version")
        .order_by("-linked_at", "-id")[:limit]
    )


def runbook_matchers(*, runbook) -> QuerySet:
    return RunbookMatcher.objects.filter(runbook=runbook).order_by("group", "id")


def runbook_open_feedback(*, runbook) -> QuerySet:
    return (
        RunbookFeedback.objects.filter(runbook=runbook, resolved_at__isnull=True)
        .select_related("author", "version")
        .order_by("-created_at", "-id")
    )


def feedback_open_for_teams(*, team_slugs, limit: int = 50) -> QuerySet:
    """Open feedback on the runbooks these teams own, newest first: for an owner's morning view."""
    return (
        RunbookFeedback.objects.filter(resolved_at__isnull=True, runbook__team__in=list(team_slugs))
        .select_related("runbook", "author")
        .order_by("-created_at", "-id")[:limit]
    )


# --- The weekly report: a period's uses and flags, per runbook ---------------------------------------


def runbook_use_counts(*, start, end) -> dict[int, dict]:
    """{runbook_id: {"linked", "handled", "used"}}: uses linked, decided, and either, in [start, end)."""
    linked, decided = Q(linked_at__gte=start, linked_at__lt=end), Q(decided_at__gte=start, decided_at__lt=end)
    rows = (
        RunbookUse.objects.filter(linked | decided)
        .order_by()
        .values("runbook_id")
        .annotate(linked=Count("pk", filter=linked), handled=Count("pk", filter=decided), used=Count("pk"))
    )
    return {row.pop("runbook_id"): row for row in rows}


def runbook_feedback_counts(*, start, end) -> dict[int, dict]:
    """{runbook_id: {kind: n}}: the feedback left on the runbook's page in [start, end), by kind."""
    kinds = {kind: Count("pk", filter=Q(kind=kind)) for kind in RunbookFeedback.Kind.values}
    rows = (
        RunbookFeedback.objects.filter(created_at__gte=start, created_at__lt=end)
        .order_by()
        .values("runbook_id")
        .annotate(**kinds)
    )
    return {row.pop("runbook_id"): row for row in rows}


def runbook_titles(*, ids, slugs) -> QuerySet:
    """(pk, slug, title) of the runbooks with one of these ids or slugs."""
    return Runbook.objects.filter(Q(pk__in=ids) | Q(slug__in=slugs)).values_list("pk", "slug", "title")
