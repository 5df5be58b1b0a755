"""Line diffs between two versions' bodies: unified text for the API, classified lines for the page."""

import difflib
from dataclasses import dataclass

CONTEXT = 3


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "hunk", "context", "added", "removed"
    text: str
    old_number: int | None = None
    new_number: int | None = None


def unified(old, new) -> str:
    """A unified diff of two RunbookVersions' bodies, headed with their version numbers."""
    lines = difflib.unified_diff(
        old.body.splitlines(),
        new.body.splitlines(),
        fromfile=f"v{old.number}",
        tofile=f"v{new.number}",
        lineterm="",
        n=CONTEXT,
    )
    return "\n".join(lines)


def diff_lines(old, new) -> list[DiffLine]:
    """The same hunks as `unified`, line by line with line numbers (empty when the bodies are equal)."""
    a, b = old.body.splitlines(), new.body.splitlines()
    lines = []
    for group in difflib.SequenceMatcher(None, a, b, autojunk=False).get_grouped_opcodes(CONTEXT):
        lines.append(_hunk(group))
        for tag, i1, i2, j1, j2 in group:
            lines.extend(_opcode_lines(tag, a, b, i1, i2, j1, j2))
    return lines


def _hunk(group) -> DiffLine:
    first, last = group[0], group[-1]
    old = f"-{first[1] + 1},{last[2] - first[1]}"
    new = f"+{first[3] + 1},{last[4] - first[3]}"
    return DiffLine("hunk", f"@@ {old} {new} @@")


def _opcode_lines(tag, a, b, i1, i2, j1, j2):
    if tag == "equal":
        return [
            DiffLine("context", a[i], i + 1, j + 1) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
        ]
    removed = [DiffLine("removed", a[i], old_number=i + 1) for i in range(i1, i2)]
    added = [DiffLine("added", b[j], new_number=j + 1) for j in range(j1, j2)]
    return removed + added
