"""Matchers as people edit them in a form: one `field operator value` per line, a blank line between groups.

    service equals checkout-api
    exception_type equals KeyError

    sentry_issue_id equals 4242424242

Lines starting with # are comments. The value is the rest of the line, spaces included.
"""

from itertools import groupby

from .matcher_rules import MatcherError, MatcherSpec

HELP = (
    "One matcher per line: field operator value. All lines of a block must match; "
    "a blank line starts another block. Regexes use RE2 syntax: no lookaround or backreferences."
)


def parse_matchers(text: str) -> list[tuple[int, MatcherSpec]]:
    """(line number, spec) for each matcher line; MatcherError for a line that is not `field op value`."""
    found, group, in_block = [], 0, False
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            group, in_block = group + (1 if in_block else 0), False
            continue
        if line.startswith("#"):
            continue
        found.append((number, _spec(number, line, group)))
        in_block = True
    return found


def _spec(number, line, group) -> MatcherSpec:
    parts = line.split(None, 2)
    if len(parts) < 3:
        raise MatcherError(
            f"Line {number}: write `field operator value`, e.g. `exception_type equals KeyError`."
        )
    field, op, value = parts
    return MatcherSpec(group=group, field=field, op=op.lower(), value=value)


def format_matchers(specs) -> str:
    """The text `parse_matchers` reads back as the same groups (renumbered from 0)."""
    blocks = groupby(sorted(specs, key=lambda spec: spec.group), key=lambda spec: spec.group)
    return "\n\n".join("\n".join(f"{s.field} {s.op} {s.value}" for s in block) for _, block in blocks)
