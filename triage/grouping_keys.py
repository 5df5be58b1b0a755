"""What the grouping advisor needs from each event, computed once at intake.

Three columns on every occurrence, so the nightly grouping is a plain GROUP BY:

- `service_key`: the event's `service` tag, else the Sentry project slug. `server_name` and
  `transaction` are not used: they name hosts and routes, so one error seen on three pods or
  three endpoints would look like three errors, and a Sentry rule built on them would split it so.
- `inner_exception_type`: the innermost exception of the chain (Sentry puts the outermost LAST
  in `exception.values`), the one that says what actually went wrong.
- `message_template`: that exception's value with the parts that vary per event (numbers, ids,
  UUIDs, hex, quoted strings, paths, URLs, e-mails) replaced by placeholders.
"""

import re

from .facts import EventFacts

SERVICE_TAGS = ("service",)
MAX_TEMPLATE = 500
MAX_INPUT = 1000  # a template is recognisable from its start; longer values only cost regex time

# Order matters: the wide patterns go first so their digits are not numbered one by one.
_PLACEHOLDERS = [
    (re.compile(r"""(?<![\w'"`])(['"`])[^'"`\n]{0,300}\1(?![\w'"`])"""), r"\1<str>\1"),
    (re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s'\"<>]+", re.I), "<url>"),
    # Starting only where a word starts keeps long runs of word characters linear.
    (re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"), "<email>"),
    (re.compile(r"(?<![\w/.])(?:[a-z]:\\|\.{0,2}/)[\w.\-~@%+]+(?:[/\\][\w.\-~@%+]*)*", re.I), "<path>"),
    (re.compile(r"\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b", re.I), "<uuid>"),
    (
        re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+\-]\d{2}:?\d{2})?", re.I),
        "<ts>",
    ),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.I), "<hex>"),
    # Generated ids mix letters and digits: cus_9s6XKzkN8i3, ord-20c4k1, AB12CD34.
    (re.compile(r"\b(?=[\w\-]*[a-z])(?=(?:[\w\-]*?\d){2})[a-z0-9_\-]{6,}\b", re.I), "<id>"),
    (re.compile(r"-?\d+(?:[.,]\d+)*"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def message_template(value: str) -> str:
    """`value` with what varies per event replaced, so one error gives one template."""
    template = value[:MAX_INPUT]
    for pattern, placeholder in _PLACEHOLDERS:
        template = pattern.sub(placeholder, template)
    return template.strip()[:MAX_TEMPLATE]


def service_key(event: EventFacts) -> str:
    for tag in SERVICE_TAGS:
        if value := event.tags.get(tag):
            return value[:200]
    return event.project_slug[:200] or "unknown"


def grouping_columns(event: EventFacts) -> dict:
    """The occurrence columns the grouping advisor reads; computed from the event alone (no query)."""
    inner = event.exceptions[0] if event.exceptions else None
    value = inner.value if inner and inner.value else event.main_exception.value if inner else event.title
    return {
        "service_key": service_key(event),
        "inner_exception_type": inner.type[:200] if inner else "",
        "message_template": message_template(value or ""),
    }
