"""Text as search compares it: Unicode NFKC on both sides, so ＳＫＵ finds SKU and ５０３ finds 503."""

import unicodedata

from django.db.models import Func, TextField


def searchable(text: str) -> str:
    """NFKC (full-width letters and digits as ASCII, half-width kana as full-width), no lone surrogates."""
    return unicodedata.normalize("NFKC", text.encode("utf-8", "replace").decode("utf-8"))


class Nfkc(Func):
    """A text column in NFKC: PostgreSQL's normalize(), which is IMMUTABLE, so an expression index serves it.
    SQLite has no such function: there the column is compared as stored (the query side is still NFKC)."""

    output_field = TextField()

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"normalize({sql}, NFKC)", params
