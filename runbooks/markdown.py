"""Runbook bodies: CommonMark (+ tables) rendered by markdown-it-py, then sanitized by nh3.

Two layers, so that one mistake is not enough: markdown-it runs with raw HTML off (a `<script>`
in a body is shown as text) and refuses javascript:/vbscript:/file: links; nh3 then keeps only
the tags and attributes below, links and images only to http, https and mailto (or relative),
and adds rel="noopener noreferrer" to every link.

No inline CSS at all: the Content-Security-Policy has no 'unsafe-inline' styles, so a table
column's alignment becomes one of the `align-*` classes of portal.css instead of a style attribute.
"""

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
}
ALIGN_CLASSES = {"align-left", "align-center", "align-right"}
URL_SCHEMES = {"http", "https", "mailto"}


def _alignment_as_class(state):
    """markdown-it aligns a table cell with style="text-align:X"; the page's CSP allows class="align-X"."""
    for token in state.tokens:
        style = token.attrs.pop("style", "") if token.type in ("th_open", "td_open") else ""
        if style.startswith("text-align:"):
            token.attrSet("class", "align-" + style.removeprefix("text-align:"))


_parser = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")
_parser.core.ruler.push("alignment_as_class", _alignment_as_class)


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes={"th": ALIGN_CLASSES, "td": ALIGN_CLASSES},
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )


def render(body: str) -> SafeString:
    """Safe HTML for a Markdown body."""
    return mark_safe(sanitize(_parser.render(body or "")))  # sanitized just above
