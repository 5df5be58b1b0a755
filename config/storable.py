"""NUL characters and unpaired surrogates: PostgreSQL stores neither, so either one in a filter or a body was
a 500.

Query strings and form values lose them (config.middleware.StorableTextMiddleware, and StorableFormParser for
the API's form bodies): in a search box or a pasted comment they are noise, and the rest is what was meant.
JSON bodies with them are refused with a 400 saying so: a program sent them, and should learn its data was not
kept as sent.
"""

from urllib.parse import urlencode

from django.http import QueryDict
from rest_framework.exceptions import ParseError
from rest_framework.parsers import FormParser, JSONParser

from common.storable import UNSTORABLE

UNSTORABLE_JSON = (
    "The JSON body has a NUL character (\\u0000) or an unpaired surrogate (\\ud800-\\udfff) in a "
    "string; the database cannot store them. Remove them and send it again."
)


def storable_query(query: QueryDict) -> QueryDict:
    """`query` without NUL or unpaired surrogates in its names and values: itself when it has none."""
    pairs = [(name, value) for name, values in query.lists() for value in values]
    if not any(UNSTORABLE.search(name + value) for name, value in pairs):
        return query
    cleaned = [(UNSTORABLE.sub("", name), UNSTORABLE.sub("", value)) for name, value in pairs]
    return QueryDict(urlencode(cleaned), encoding=query.encoding)


class StorableJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:  # json.loads on [[[[…: DRF turns only ValueError into a 400
            raise ParseError("JSON parse error - nested too deeply") from None
        if _has_unstorable_text(data):
            raise ParseError(UNSTORABLE_JSON)
        return data


class StorableFormParser(FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        return storable_query(super().parse(stream, media_type, parser_context))


def _has_unstorable_text(data) -> bool:
    pending = [data]  # a loop, not recursion: the nesting is whatever the client sent
    while pending:
        value = pending.pop()
        if isinstance(value, str) and UNSTORABLE.search(value):
            return True
        if isinstance(value, dict):
            pending += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            pending += value
    return False
