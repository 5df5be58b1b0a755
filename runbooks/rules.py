"""What a matcher may say, how specific it is, and how its operator is evaluated.

Specificity: a group's score is the sum of its matchers' `FIELD_WEIGHTS[field] * OP_FACTORS[op]`.
The weights are tiers, not tuning: a Sentry issue id (100,000 even as a regex) outweighs any group
without one (at most MAX_PER_GROUP = 10 matchers, each at most 3,000), a fingerprint outweighs the
rest, an exception type (300) outweighs a service (30), so "service + exception type" (330) beats
"service" alone; and on one field an exact value (×3) beats a glob or substring (×2), which beats
a regex (×1).

Case: `equals` and `glob` compare exactly (identifiers, paths); `contains` ignores case
(free text). Regexes run as written with `re.search`.

Regexes cannot hang the matcher: Python's `re` has no timeout, so a pattern is accepted only
if its worst-case backtracking over at most INPUT_LIMIT characters stays under STEP_BUDGET
(see `regex_problem`), and every value a regex or glob sees is cut to INPUT_LIMIT characters.
"""

import fnmatch
import re
import re._constants as sre  # the parsed form is the only way to see a pattern's shape (nested repeats)
import re._parser as sre_parse
from dataclasses import dataclass

FIELDS = ("service", "exception_type", "exception_value", "culprit", "fingerprint", "sentry_issue_id",
          "level", "environment")
TAG_PREFIX = "tag:"
OPS = ("equals", "contains", "glob", "regex")
TAG_KEY = re.compile(r"[A-Za-z0-9_.:\-]{1,100}")

FIELD_WEIGHTS = {
    "sentry_issue_id": 100_000, "fingerprint": 1_000, "exception_type": 100, "culprit": 40,
    "exception_value": 30, "tag": 20, "service": 10, "environment": 5, "level": 2,
}
OP_FACTORS = {"equals": 3, "glob": 2, "contains": 2, "regex": 1}

MAX_VALUE_LENGTH = 500
MAX_PATTERN_LENGTH = 200
MAX_PER_GROUP = 10
MAX_PER_RUNBOOK = 50
MAX_GROUP = 99
INPUT_LIMIT = 1000
STEP_BUDGET = 1_000_000  # ≈ 1 ms of backtracking in CPython's re on this kind of machine


class MatcherError(ValueError):
    """A matcher that cannot be saved; the message says why (the caller names the matcher)."""


@dataclass(frozen=True)
class MatcherSpec:
    group: int
    field: str
    op: str
    value: str

    def describe(self) -> str:
        return f"group {self.group}: {self.field} {self.op} {self.value!r}"


def field_kind(field: str) -> str:
    """The weight/anchor kind of a field: tag:<key> fields are all "tag"."""
    return "tag" if field.startswith(TAG_PREFIX) else field


def score(field: str, op: str) -> int:
    return FIELD_WEIGHTS[field_kind(field)] * OP_FACTORS[op]


def check(spec: MatcherSpec) -> None:
    """Raise MatcherError when the matcher cannot be saved."""
    if not isinstance(spec.group, int) or not 0 <= spec.group <= MAX_GROUP:
        raise MatcherError(f"group must be a whole number from 0 to {MAX_GROUP}")
    _check_field(spec.field)
    if spec.op not in OPS:
        raise MatcherError(f"unknown operator {spec.op!r}; use one of {', '.join(OPS)}")
    _check_value(spec)


def check_all(specs, *, name=lambda index, spec: f"matcher {index + 1} ({spec.describe()})") -> list[str]:
    """Every problem of a list of matchers, each message naming its matcher with `name`."""
    problems = []
    for index, spec in enumerate(specs):
        try:
            check(spec)
        except MatcherError as exc:
            problems.append(f"{name(index, spec)}: {exc}")
    return problems + _count_problems(specs)


def _count_problems(specs) -> list[str]:
    if len(specs) > MAX_PER_RUNBOOK:
        return [f"at most {MAX_PER_RUNBOOK} matchers per runbook"]
    groups = [spec.group for spec in specs]
    crowded = sorted({group for group in groups if groups.count(group) > MAX_PER_GROUP})
    return [f"group {group} has more than {MAX_PER_GROUP} matchers" for group in crowded]


def _check_field(field: str) -> None:
    if field.startswith(TAG_PREFIX):
        if not TAG_KEY.fullmatch(field.removeprefix(TAG_PREFIX)):
            raise MatcherError("a tag field is tag:<key>, the key made of letters, digits and _ . : -")
    elif field not in FIELDS:
        raise MatcherError(f"unknown field {field!r}; use one of {', '.join(FIELDS)} or tag:<key>")


def _check_value(spec: MatcherSpec) -> None:
    if not isinstance(spec.value, str) or not spec.value:
        raise MatcherError("the value is empty")
    limit = MAX_PATTERN_LENGTH if spec.op in ("glob", "regex") else MAX_VALUE_LENGTH
    if len(spec.value) > limit:
        raise MatcherError(f"the value is longer than {limit} characters")
    if spec.op == "regex" and (problem := regex_problem(spec.value)):
        raise MatcherError(problem)


# --- Regexes that cannot hang -----------------------------------------------------------------


def regex_problem(pattern: str) -> str | None:
    """Why `pattern` is refused, or None.

    Refused: invalid patterns, backreferences, a repeat inside a repeat (`(a+)+`), an
    alternation inside a repeat (`(a|ab)*`): the shapes that backtrack exponentially. Then
    the number of ways a search can split INPUT_LIMIT characters between the remaining
    repeats (each unbounded one counts INPUT_LIMIT, an unanchored search multiplies by
    INPUT_LIMIT again) must stay under STEP_BUDGET: `\\w+x` or `^.*a.*b` pass, `.*a.*b` does not.
    """
    try:
        parsed = sre_parse.parse(pattern)
    except re.error as exc:
        return f"invalid regex: {exc}"
    try:
        steps = _cost(parsed, nested=False)
    except MatcherError as exc:
        return str(exc)
    if not _anchored(parsed):
        steps *= INPUT_LIMIT
    if steps > STEP_BUDGET:
        return ("regex could backtrack too long: use at most one unbounded repeat (*, +, {n,}), "
                "or anchor the pattern with ^")
    return None


def _anchored(parsed) -> bool:
    first = parsed.data[0] if len(parsed.data) else None
    return first is not None and first[0] == sre.AT and first[1] in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING)


def _cost(items, *, nested: bool) -> int:
    total = 1
    for op, av in items:
        total *= _node_cost(op, av, nested=nested)
    return total


def _node_cost(op, av, *, nested: bool) -> int:
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        return _repeat_cost(av, nested=nested)
    if op == sre.SUBPATTERN:
        return _cost(av[3], nested=nested)
    if op == sre.ATOMIC_GROUP:
        return _cost(av, nested=nested)
    if op in (sre.ASSERT, sre.ASSERT_NOT):
        return _cost(av[1], nested=nested)
    if op == sre.BRANCH:
        if nested:
            raise MatcherError("regex has an alternation inside a repeat, which can backtrack exponentially")
        return sum(_cost(branch, nested=nested) for branch in av[1])
    if op in (sre.GROUPREF, sre.GROUPREF_EXISTS):
        raise MatcherError("regex backreferences are not allowed")
    return 1


def _repeat_cost(av, *, nested: bool) -> int:
    low, high, body = av
    if high <= 1:  # `x?` chooses once: nothing to nest
        return 2 * _cost(body, nested=nested)
    if nested:
        raise MatcherError("regex has a repeat inside a repeat, which can backtrack exponentially")
    span = INPUT_LIMIT if high == sre.MAXREPEAT else min(high - low + 1, INPUT_LIMIT)
    return span * _cost(body, nested=True)


# --- Evaluation --------------------------------------------------------------------------------


def predicate(op: str, value: str):
    """A function of one fact (a string) that says whether the matcher holds.

    `contains` expects the fact casefolded (runbooks.matching folds each fact once per item).
    """
    if op == "equals":
        return value.__eq__  # facts are always strings, so this is True or False
    if op == "contains":
        return _contains(value)
    compiled = re.compile(fnmatch.translate(value) if op == "glob" else value)
    test = compiled.match if op == "glob" else compiled.search
    return lambda fact: test(fact[:INPUT_LIMIT]) is not None


def _contains(value):
    folded = value.casefold()
    return lambda fact: folded in fact
