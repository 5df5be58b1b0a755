"""Every text a person reads in a template is marked for translation, and the Japanese catalog has it all.

The scan reads the templates themselves, not a list: a new template or a new line of English in an old
one fails here until it is marked and translated.
"""

import ast
import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
CATALOG = ROOT / "locale" / "ja" / "LC_MESSAGES"
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# A text that is only one of these needs no translation: names, units and symbols read the same in Japanese.
AS_IS = {
    "Sentry",
    "Slack",
    "SLA",
    "CSV",
    "API",
    "URL",
    "ID",
    "JSON",
    "Markdown",
    "HTTP",
    "p95",
    "p50",
    "ms",
    "v",
}
# Keys, code and what another program shows (Sentry's own menus have no Japanese) are read as they are.
AS_WRITTEN = ("kbd", "code", "samp", "pre", "script", "style")
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
TRANSLATED_BLOCK = re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
TRANSLATED_TAG = re.compile(r"{%\s*trans(?:late)?\s.*?%}", re.S)
# {# #} ends on its line (Django prints a two-line one as text): only {% comment %} spans lines.
COMMENT_BLOCK = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#[^\n]*?#}", re.S)
CLASS_BLOCK = re.compile(r"{%\s*block\s+\w*class\s*%}.*?{%\s*endblock\s*%}", re.S)  # a CSS class, not text
OTHER_TAG = re.compile(r"{%.*?%}", re.S)
VARIABLE = re.compile(r"{{.*?}}", re.S)
MARK = "\u2400"  # stands for a translated text or a variable once the tags are gone


class _Texts(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in AS_WRITTEN
        self.found += [value for name, value in attrs if name in READ_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        self._skip -= tag in AS_WRITTEN

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def untranslated(template_text: str) -> list[str]:
    """The texts of a template that a person reads and that no translate tag covers."""
    text = CLASS_BLOCK.sub("", COMMENT_BLOCK.sub("", template_text))
    text = TRANSLATED_BLOCK.sub(MARK, text)
    text = TRANSLATED_TAG.sub(MARK, text)
    text = VARIABLE.sub(MARK, OTHER_TAG.sub("", text))
    parser = _Texts()
    parser.feed(text)
    return [found.strip() for found in parser.found if _needs_translation(found)]


def _needs_translation(text):
    words = re.sub(rf"[{MARK}\W\d_]+", " ", text).split()
    return any(word not in AS_IS for word in words if re.search(r"[A-Za-z]", word))


def template_paths():
    return sorted(path for path in TEMPLATES.rglob("*") if path.suffix in (".html", ".txt"))


@pytest.mark.parametrize("path", template_paths(), ids=lambda path: str(path.relative_to(TEMPLATES)))
def test_it_finds_no_text_left_unmarked_in_a_template(path):
    assert untranslated(path.read_text()) == []


def test_the_scan_tells_marked_text_from_unmarked():
    assert untranslated("<h1>Queue</h1>") == ["Queue"]
    assert untranslated("{% block main_class %}wide{% endblock %}") == []
    assert untranslated("{# a note\n on two lines #}") == ["{# a note\n on two lines #}"]
    assert untranslated('<input placeholder="Search items">') == ["Search items"]
    assert untranslated('<a title="{% translate "Open" %}" href="{% url "x" %}">{{ item.title }}</a>') == []
    assert untranslated("{% blocktranslate trimmed %}Hello {{ name }}{% endblocktranslate %}") == []
    assert untranslated("<th>SLA</th><td>{{ n }} ms</td>{# a note #}<kbd>j</kbd>") == []


def catalog_entries() -> list[dict]:
    """The entries of django.po as {msgid, msgstr: [...], fuzzy}: a reader of just what this check needs."""
    entries, entry, field = [], None, None
    for line in (CATALOG / "django.po").read_text().splitlines() + [""]:
        if not line.strip():
            entries, entry = entries + ([entry] if entry else []), None
            continue
        entry = entry or {"msgid": "", "msgstr": [], "fuzzy": False}
        if line.startswith("#,"):
            entry["fuzzy"] |= "fuzzy" in line
        elif match := re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line):
            field = match[1]
            _append(entry, field, match[2], new=True)
        elif line.startswith('"') and field:
            _append(entry, field, line[1:-1], new=False)
    return [entry for entry in entries if entry["msgid"]]


def _append(entry, field, quoted, *, new):
    value = ast.literal_eval(f'"{quoted}"')  # a PO string's escapes are C's, which Python reads the same
    if field.startswith("msgstr"):
        entry["msgstr"] = (
            [*entry["msgstr"], value] if new else [*entry["msgstr"][:-1], entry["msgstr"][-1] + value]
        )
    elif field == "msgid":
        entry["msgid"] += value


def test_every_japanese_entry_is_translated_and_none_is_fuzzy():
    entries = catalog_entries()

    assert len(entries) > 300
    assert [entry["msgid"] for entry in entries if entry["fuzzy"] or not all(entry["msgstr"])] == []


def test_the_compiled_catalog_is_the_one_in_the_po():
    with open(CATALOG / "django.mo", "rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)

    stale = [
        e["msgid"]
        for e in catalog_entries()
        if len(e["msgstr"]) == 1 and catalog.gettext(e["msgid"]) != e["msgstr"][0]
    ]
    assert stale == []


@pytest.mark.django_db
def test_a_japanese_browser_reads_the_portal_in_japanese(alice_client):
    page = alice_client.get("/", HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5").content.decode()

    assert '<html lang="ja">' in page
    assert "ログアウト" in page


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/runbooks/", "/ops/", "/reports/weekly/", "/grouping/"])
def test_an_english_browser_sees_no_japanese(alice_client, path):
    response = alice_client.get(path, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9", follow=True)

    assert response.status_code == 200
    assert CJK.findall(response.content.decode().replace("日本語", "")) == []
