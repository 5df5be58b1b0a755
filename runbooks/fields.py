"""A stored full-text document: tsvector on PostgreSQL, an unused text column elsewhere.

Not django.contrib.postgres's SearchVectorField, which needs that app installed even on SQLite.
`search_document__matches=SearchQuery(...)` is PostgreSQL's `@@`.
"""

from django.db import models
from django.db.models import Lookup


class SearchDocument(models.Field):
    description = "Full-text search document (PostgreSQL tsvector)"

    def db_type(self, connection):
        return "tsvector" if connection.vendor == "postgresql" else "text"


@SearchDocument.register_lookup
class Matches(Lookup):
    lookup_name = "matches"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ {rhs}", (*lhs_params, *rhs_params)
