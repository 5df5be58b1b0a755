"""Runbook bodies: real CommonMark, and hostile input rendered inert (markdown-it with raw HTML off, then
nh3)."""

from html.parser import HTMLParser

import pytest

from runbooks.markdown import render, sanitize

# Payloads from the usual XSS cheat sheets, written the ways a Markdown body can carry them.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(document.cookie)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<a href="javascript:alert(1)">click</a>',
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click]( javascript:alert(1) )",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](javascript:alert(1))",
    '![x](https://example.com/a.png"onerror="alert(1))',
    '[x](https://example.com/ "title" onmouseover=alert(1))',
    "<details open ontoggle=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<<script>alert(1)//<</script>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<form action=javascript:alert(1)><button>go</button></form>",
]

SAFE_TAGS = {
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
SAFE_SCHEMES = ("http:", "https:", "mailto:")


class Elements(HTMLParser):
    """What a browser would build from the HTML: tags and attributes (text, escaped markup included, is only
    text)."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.found = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def dangers(html) -> list[str]:
    problems = []
    for tag, attrs in Elements(html).found:
        if tag not in SAFE_TAGS:
            problems.append(f"<{tag}>")
        problems += [
            f"{tag}[{name}]"
            for name in attrs
            if name.startswith("on") or name in ("style", "class") and tag not in ("th", "td")
        ]
        for name in ("href", "src", "action", "formaction"):
            url = "".join((attrs.get(name) or "").split()).lower()
            if ":" in url.split("/")[0] and not url.startswith(SAFE_SCHEMES):
                problems.append(f"{tag}[{name}={url}]")
    return problems


@pytest.mark.parametrize("payload", PAYLOADS)
def test_it_renders_xss_payloads_inert(payload):
    html = str(render(payload))

    assert dangers(html) == [], html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_sanitizer_alone_also_stops_them(payload):
    """If markdown-it ever passed raw HTML through, nh3 would still stop it."""
    html = sanitize(payload)

    assert dangers(html) == [], html


def test_the_check_itself_finds_live_payloads():
    assert dangers('<img src=x onerror=alert(1)><a href=" JavaScript:alert(1)">x</a><script></script>') == [
        "img[onerror]",
        "a[href=javascript:alert(1)]",
        "<script>",
    ]
    assert dangers("&lt;img src=x onerror=alert(1)&gt;") == []


def test_raw_html_shows_as_text():
    assert str(render("<b>bold</b> <img src=x onerror=alert(1)>")) == (
        "<p>&lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;</p>\n"
    )


def test_it_renders_commonmark_with_tables():
    html = str(
        render(
            "## Steps\n\n1. Check `orders`\n2. **Retry**\n\n| a | b |\n|--:|---|\n| 1 | 2 |\n\n"
            "```sql\nSELECT 1;\n```\n\n> note"
        )
    )

    assert "<h2>Steps</h2>" in html
    assert "<ol>\n<li>Check <code>orders</code></li>\n<li><strong>Retry</strong></li>\n</ol>" in html
    assert '<th class="align-right">a</th>' in html
    assert "style=" not in html  # the CSP refuses inline styles
    assert "<pre><code>SELECT 1;\n</code></pre>" in html
    assert "<blockquote>\n<p>note</p>\n</blockquote>" in html


def test_it_keeps_safe_links_with_noopener():
    html = str(
        render(
            "[docs](https://example.com/x) [mail](mailto:ops@example.com) [page](/runbooks/x/) "
            "![chart](https://example.com/c.png)"
        )
    )

    assert '<a href="https://example.com/x" rel="noopener noreferrer">docs</a>' in html
    assert '<a href="mailto:ops@example.com" rel="noopener noreferrer">mail</a>' in html
    assert '<a href="/runbooks/x/" rel="noopener noreferrer">page</a>' in html
    assert '<img src="https://example.com/c.png" alt="chart">' in html


def test_the_sanitizer_drops_other_schemes_and_css():
    html = sanitize(
        '<a href="ftp://x/">f</a><td style="color:red;text-align:center">c</td><p class="flash">p</p>'
        '<table><tr><td class="align-left flash">d</td></tr></table>'
    )

    assert 'href="ftp' not in html
    assert "style=" not in html
    assert 'class="flash"' not in html
    assert '<td class="align-left">d</td>' in html
