"""Sentry fingerprint rules that split an item into its groups, and what they would do.

The syntax is Sentry's (Project → Settings → Issue Grouping → Fingerprint Rules):
`matcher:"glob" matcher:"glob" -> value, value`. Facts this relies on:

- `error.type` and `error.value` match any exception of a chain, and on one line they must match
  the same exception: so a line on the inner type and the inner message template works.
- `{{ error.type }}` is the outermost (most recently thrown) exception: useless for the inner one,
  so each inner type gets its own line with the type as a constant.
- `{{ default }}` keeps Sentry's own grouping underneath: other issues with the same inner
  exception are only split by service, never merged with this one.
- In globs `*` matches anything; `[ ] { } *` are escaped with a backslash.
"""

from dataclasses import dataclass

from django.utils.text import slugify

from triage.grouping_keys import MAX_TEMPLATE, SERVICE_TAGS

from .mix import Group

DEFAULT = "{{ default }}"
SERVICE = "{{ tags." + SERVICE_TAGS[0] + " }}"
PLACEHOLDERS = ("<str>", "<url>", "<email>", "<path>", "<uuid>", "<ts>", "<ip>", "<hex>", "<id>", "<n>")


@dataclass(frozen=True)
class Line:
    exception_type: str
    message_template: str | None  # None: any message
    values: tuple[str, ...]

    def matches(self, group: Group) -> bool:
        return group.exception_type == self.exception_type and self.message_template in (
            None,
            group.message_template,
        )

    def text(self, *, loose_spaces=False) -> str:
        glob = (
            None
            if self.message_template is None
            else template_glob(self.message_template, loose_spaces=loose_spaces)
        )
        if (
            not self.exception_type
        ):  # a captured message, no exception: `message` also checks exception values
            matchers = [f"message:{quoted(glob or '*')}"]
        else:
            matchers = [f"error.type:{quoted(self.exception_type)}"] + (
                [f"error.value:{quoted(glob)}"] if glob else []
            )
        return f"{' '.join(matchers)} -> {', '.join(self.values)}"


def split_lines(groups: list[Group]) -> list[Line]:
    """Lines giving each meaningful group its own issue; only what varies between them is added."""
    by_service = len({group.service for group in groups}) > 1
    types = sorted(
        {group.exception_type for group in groups}
    )  # a stable order: the rule reads the same each night
    lines = []
    for exception_type in types:
        head = (DEFAULT, SERVICE) if by_service else (DEFAULT,)
        typed = head + (_constant(exception_type),) if len(types) > 1 else head
        templates = sorted({g.message_template for g in groups if g.exception_type == exception_type})
        if len(templates) > 1:
            lines += [
                Line(exception_type, template, typed + (template_label(template, n),))
                for n, template in enumerate(templates, 1)
            ]
        if typed != (DEFAULT,):  # `{{ default }}` alone is Sentry's own grouping: no line needed
            lines.append(Line(exception_type, None, typed))
    return lines


def split_rule_text(*, lines: list[Line], heading: str, examples: dict[str, str]) -> str:
    """The rule as pasted into Sentry. `examples`: a raw message per template, to check spacing."""
    body = [
        line.text(loose_spaces=_irregular_spaces(examples.get(line.message_template or "", "")))
        for line in lines
    ]
    return "\n".join([f"# {heading}", *dict.fromkeys(body)])


def preview_issue_count(lines: list[Line], groups: list[Group]) -> int:
    """How many issues the rule makes of these groups (all of an item's, not only the meaningful ones).

    A group takes the first line matching its inner exception and template (as Sentry takes the first
    matching rule); the others keep the default fingerprint, one issue between them.
    """
    fingerprints = set()
    for group in groups:
        line = next((line for line in lines if line.matches(group)), None)
        fingerprints.add(_fingerprint(line, group) if line else ("default",))
    return len(fingerprints)


def _fingerprint(line: Line, group: Group) -> tuple:
    return tuple(group.service if value == SERVICE else value for value in line.values)


def template_glob(template: str, *, loose_spaces=False) -> str:
    glob = template
    for char in "[]{}*":
        glob = glob.replace(char, "\\" + char)
    for placeholder in PLACEHOLDERS:
        glob = glob.replace(placeholder, "*")
    if loose_spaces:
        glob = glob.replace(" ", "*")
    while "**" in glob:
        glob = glob.replace("**", "*")
    return glob + "*" if len(template) >= MAX_TEMPLATE and not glob.endswith("*") else glob


def template_label(template: str, n: int) -> str:
    words = template
    for placeholder in PLACEHOLDERS:
        words = words.replace(placeholder, " ")
    return slugify(words)[:40].strip("-") or f"message-{n}"


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _constant(value: str) -> str:
    """A fixed fingerprint value: plain when it is one word, else quoted."""
    plain = value and all(char.isalnum() or char in "._:-" for char in value)
    return value if plain else quoted(value)


def _irregular_spaces(value: str) -> bool:
    # Templates collapse runs of whitespace; a glob with single spaces would miss the real message.
    return bool(value) and " ".join(value.split()) != value.strip()


def merge_rule_text(*, group: Group, labels: list[str], projects: list[str]) -> str:
    """One fingerprint for the error the merged issues share (Sentry merges the existing issues by hand)."""
    heading = [
        f"# Merge {', '.join(labels)}: same service, inner exception, message and culprit: Triage Portal",
        "# In Sentry select these issues in the issue list and Merge; this rule keeps new events together.",
    ]
    if len(projects) > 1:
        heading.append(f"# They are in {len(projects)} projects ({', '.join(projects)}): paste it in each.")
    values = (SERVICE, _constant(group.exception_type or "error"), template_label(group.message_template, 1))
    line = Line(group.exception_type, group.message_template, values)
    return "\n".join([*heading, line.text()])
