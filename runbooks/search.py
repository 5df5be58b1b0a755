"""Finding runbooks: full-text search ranked title over body on PostgreSQL; word-by-word icontains elsewhere.

On PostgreSQL each runbook stores its document (title and slug weighted A, the current body B)
in a GIN-indexed tsvector, which services refresh whenever the title or current version
changes: computing it per search costs ~0.5 s over 5,000 runbooks (bench/runbook_match.py).
Without a query the list is sorted by use (items linked), then title.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When

from .models import Runbook

CONFIG = "english"
MAX_QUERY_LENGTH = 200
REFRESH_SQL = """
UPDATE runbooks_runbook AS r SET search_document =
    setweight(to_tsvector(%(config)s::regconfig, r.title || ' ' || replace(r.slug, '-', ' ')), 'A')
    || setweight(to_tsvector(%(config)s::regconfig, coalesce(v.body, '')), 'B')
FROM runbooks_runbookversion AS v
WHERE v.id = r.current_version_id
"""


def runbook_search(*, q: str = "", service: str = "", team: str = "") -> QuerySet:
    runbooks = listed()
    if service:
        # Slugs cannot hold quotes, so the quoted slug in the JSON text is one whole list element.
        runbooks = runbooks.filter(services__icontains=f'"{service}"')
    if team:
        runbooks = runbooks.filter(team=team)
    q = q.strip()[:MAX_QUERY_LENGTH]
    if not q:
        return runbooks.order_by("-use_count", "title", "id")
    return _full_text(runbooks, q) if connection.vendor == "postgresql" else _words(runbooks, q)


def listed() -> QuerySet:
    """Every runbook with what a list row shows (its current version, without the body) and its use count."""
    return (
        Runbook.objects.select_related("current_version")
        .defer("search_document", "current_version__body")
        .annotate(use_count=Count("uses"))
    )


def _full_text(runbooks, q):
    query = SearchQuery(q, search_type="websearch", config=CONFIG)
    return (
        runbooks.filter(search_document__matches=query)
        .annotate(rank=SearchRank(F("search_document"), query))
        .order_by("-rank", "-use_count", "title", "id")
    )


def _words(runbooks, q):
    """SQLite: every word in the title, slug or body; title hits first."""
    words = q.split()[:10]
    for word in words:
        runbooks = runbooks.filter(
            Q(title__icontains=word) | Q(slug__icontains=word) | Q(current_version__body__icontains=word)
        )
    in_title = Case(
        When(title__icontains=q, then=Value(2)),
        When(title__icontains=words[0], then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return runbooks.annotate(rank=in_title).order_by("-rank", "-use_count", "title", "id")


def search_document_refresh(*, runbook_ids=None) -> None:
    """Recompute the stored documents of these runbooks (all when None); nothing to do off PostgreSQL."""
    if connection.vendor != "postgresql":
        return
    sql, params = REFRESH_SQL, {"config": CONFIG}
    if runbook_ids is not None:
        sql, params = sql + " AND r.id = ANY(%(ids)s)", {**params, "ids": list(runbook_ids)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
