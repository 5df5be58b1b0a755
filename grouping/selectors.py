"""Reads for the grouping page, the item banner, the API and the weekly report."""

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from triage.models import TriageItem

from .models import RecomputeRun, Suggestion, SuggestionItem

ITEM_FIELDS = (
    "id",
    "short_id",
    "sentry_issue_id",
    "title",
    "sentry_url",
    "status",
    "project_slug",
    "service_id",
)


def suggestion_list(
    *, kind: str | None = None, item_id: int | None = None, dismissed: bool | None = False
) -> QuerySet:
    """Current suggestions, most events affected in the last 30 days first, with their items in one more
    query.

    `dismissed`: False the open ones, True the dismissed ones, None both."""
    suggestions = (
        Suggestion.objects.filter(active=True)
        .select_related("dismissal__by")
        .prefetch_related(Prefetch("items", queryset=TriageItem.objects.only(*ITEM_FIELDS).order_by("pk")))
        .order_by("-events", "-id")
    )
    if dismissed is not None:
        suggestions = suggestions.filter(dismissal__isnull=not dismissed)
    if kind:
        suggestions = suggestions.filter(kind=kind)
    if item_id is not None:
        suggestions = suggestions.filter(links__item_id=item_id)
    return suggestions


def suggestion_counts() -> dict[str, int]:
    """Open and dismissed suggestions, for the page's tabs: one query."""
    return Suggestion.objects.filter(active=True).aggregate(
        open=Count("pk", filter=Q(dismissal__isnull=True)),
        dismissed=Count("pk", filter=Q(dismissal__isnull=False)),
    )


def item_split_suggestion(*, item_id: int) -> Suggestion | None:
    """The item page's banner: its open split suggestion, if any (one query)."""
    return (
        Suggestion.objects.filter(
            kind=Suggestion.Kind.SPLIT, item_id=item_id, active=True, dismissal__isnull=True
        )
        .only("id", "groups", "preview_issues", "events", "other_events")
        .first()
    )


def last_run() -> RecomputeRun | None:
    return RecomputeRun.objects.filter(finished_at__isnull=False).first()


def suggestions_ranked_by_item_events(*, item_events, limit) -> QuerySet:
    """Open suggestions (not dismissed), most `week_events` first: the sum over their items of `item_events`,
    a subquery of an item's events correlated on OuterRef("item_id"), its first row counted. The caller brings
    the figures (the weekly report its stored week), so grouping needs nothing of the caller's models."""
    events = (
        SuggestionItem.objects.filter(suggestion=OuterRef("pk"))
        .order_by()
        .values("suggestion")
        .annotate(total=Sum(Subquery(item_events[:1])))
        .values("total")
    )
    return (
        Suggestion.objects.filter(active=True, dismissal__isnull=True)
        .annotate(week_events=Coalesce(Subquery(events), 0))
        .select_related("item", "item__service")
        .only("kind", "groups", "item__title", "item__short_id", "item__service__slug")
        .order_by("-week_events", "-id")[:limit]
    )
