"""Finding runbooks: full-text search ranked title over body on PostgreSQL; substring search elsewhere.

Runbooks here are written in Japanese as often as in English. PostgreSQL's parsers take a run of
Japanese text for one word (在庫引当エラーの対処手順 is a single token), so a document holds two parts:
the text without its CJK runs, under the `english` configuration (stemming, stop words, as before), and
each CJK run cut into overlapping bigrams (在庫 庫引 引当 …) under `simple`. A CJK query of two or more
characters is the phrase of its bigrams, so it finds any part of a word; one character is a prefix of a
bigram. Both sides are NFKC-normalised first, so ＳＫＵ finds SKU and ５０３ finds 503.

On PostgreSQL each runbook stores its document (title and slug weighted A, the current body B) in a
GIN-indexed tsvector, which services refresh whenever the title or current version changes: computing
it per search costs ~0.5 s over 5,000 runbooks (bench/runbook_match.py). Without a query the list is
sorted by use (items linked), then title.
"""

import re

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, Value, When

from common.text import searchable

from .models import Runbook, RunbookVersion

CONFIG = "english"
MAX_QUERY_LENGTH = 200
MAX_CJK_RUNS = 10
# Hiragana, katakana (with ー), CJK ideographs (with 々 and extension A) and Hangul syllables.
CJK_RUN = re.compile(r"[\u3040-\u30ff\u3005\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")
DOCUMENT_SQL = (
    "setweight(to_tsvector(%(config)s::regconfig, %(title)s)"
    " || to_tsvector('simple'::regconfig, %(title_bigrams)s), 'A')"
    " || setweight(to_tsvector(%(config)s::regconfig, %(body)s)"
    " || to_tsvector('simple'::regconfig, %(body_bigrams)s), 'B')"
)
REFRESH_SQL = f"UPDATE runbooks_runbook SET search_document = {DOCUMENT_SQL} WHERE id = %(id)s"


def runbook_search(*, q: str = "", service: str = "", team: str = "") -> QuerySet:
    runbooks = listed()
    if service:
        # Slugs cannot hold quotes, so the quoted slug in the JSON text is one whole list element.
        runbooks = runbooks.filter(services__icontains=f'"{service}"')
    if team:
        runbooks = runbooks.filter(team=team)
    q = searchable(q.strip()[:MAX_QUERY_LENGTH]).strip()
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


def cjk_bigrams(text: str) -> str:
    """Each CJK run of `text` as its overlapping bigrams (a one-character run as itself), space-separated."""
    return " ".join(" ".join(_bigrams(run)) for run in CJK_RUN.findall(searchable(text)))


def _bigrams(run):
    return [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]


def _full_text(runbooks, q):
    query = _tsquery(q)
    if query is None:
        return runbooks.none()
    return (
        runbooks.filter(search_document__matches=query)
        .annotate(rank=SearchRank(F("search_document"), query))
        .order_by("-rank", "-use_count", "title", "id")
    )


def _tsquery(q):
    """The English words as websearch reads them, AND each CJK run as a phrase of bigrams."""
    parts = [_cjk_query(run) for run in CJK_RUN.findall(q)[:MAX_CJK_RUNS]]
    words = CJK_RUN.sub(" ", q).strip()
    if any(character.isalnum() for character in words):
        parts.insert(0, SearchQuery(words, search_type="websearch", config=CONFIG))
    query = None
    for part in parts:
        query = part if query is None else query & part
    return query


def _cjk_query(run):
    """CJK characters are no tsquery operators, so the bigrams go in raw."""
    text = f"{run}:*" if len(run) == 1 else " <-> ".join(_bigrams(run))
    return SearchQuery(text, search_type="raw", config="simple")


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
    runbooks = Runbook.objects.all() if runbook_ids is None else Runbook.objects.filter(pk__in=runbook_ids)
    rows = runbooks.values_list("pk", "title", "slug", "current_version_id")
    bodies = dict(
        RunbookVersion.objects.filter(pk__in=[row[3] for row in rows if row[3]]).values_list("pk", "body")
    )
    with connection.cursor() as cursor:
        cursor.executemany(REFRESH_SQL, [_document_params(*row, bodies.get(row[3], "")) for row in rows])


def _document_params(pk, title, slug, _version_id, body):
    title = searchable(f"{title} {slug.replace('-', ' ')}")
    body = searchable(body or "")
    return {
        "id": pk,
        "config": CONFIG,
        "title": CJK_RUN.sub(" ", title),
        "title_bigrams": cjk_bigrams(title),
        "body": CJK_RUN.sub(" ", body),
        "body_bigrams": cjk_bigrams(body),
    }
