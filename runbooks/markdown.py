"""Runbook bodies: CommonMark (+ tables) rendered by markdown-it-py, then sanitized by nh3.

Two layers, so that one mistake is not enough: markdown-it runs with raw HTML off (a `<script>`
in a body is shown as text) and refuses javascript:/vbscript:/file: links; nh3 then keeps only
the tags and attributes below, links and images only to http, https and mailto (or relative),
and adds rel="noopener noreferrer" to every link.
"""

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"style"},
    "td": {"style"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# markdown-it aligns table cells with style="text-align:…"; nothing else of CSS gets through.
STYLE_PROPERTIES = {"text-align"}

_parser = MarkdownIt("commonmark", {"html": False}).enable("table").enable("strikethrough")


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        filter_style_properties=STYLE_PROPERTIES,
        link_rel="noopener noreferrer",
    )


def render(body: str) -> SafeString:
    """Safe HTML for a Markdown body."""
    return mark_safe(sanitize(_parser.render(body or "")))  # sanitized just above
