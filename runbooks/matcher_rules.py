"""What a matcher may say, how specific it is, and how its operator is evaluated.

Specificity: a group's score is the sum of its matchers' `FIELD_WEIGHTS[field] * OP_FACTORS[op]`.
The weights are tiers, not tuning: a Sentry issue id (100,000 even as a regex) outweighs any group
without one (at most MAX_PER_GROUP = 10 matchers, each at most 3,000), a fingerprint outweighs the
rest, an exception type (300) outweighs a service (30), so "service + exception type" (330) beats
"service" alone; and on one field an exact value (×3) beats a glob or substring (×2), which beats
a regex (×1).

Case: `equals` and `glob` compare exactly (identifiers, paths); `contains` ignores case
(free text).

Regexes cannot hang the matcher because they run on RE2, whose automata take time linear in the
input whatever the pattern: no pattern is recognised as dangerous, none needs to be. What RE2
cannot run (backreferences, lookaround, possessive quantifiers, atomic groups, `\\Z`) is refused
at save time by `regex_compile`, naming the construct; so is a pattern whose automaton would
outgrow REGEX_MAX_MEM. A pattern stored before (or around) that check raises MatcherError from
`predicate`, and the index treats it as matching nothing. Globs stay on `re`: fnmatch translates
them without nested repeats, every `*` but the last inside an atomic group, so they cannot
backtrack exponentially. Every value a regex or glob sees is cut to INPUT_LIMIT characters.
"""

import fnmatch
import functools
import re
from dataclasses import dataclass

import re2

FIELDS = (
    "service",
    "exception_type",
    "exception_value",
    "culprit",
    "fingerprint",
    "sentry_issue_id",
    "level",
    "environment",
)
TAG_PREFIX = "tag:"
OPS = ("equals", "contains", "glob", "regex")
TAG_KEY = re.compile(r"[A-Za-z0-9_.:\-]{1,100}")

FIELD_WEIGHTS = {
    "sentry_issue_id": 100_000,
    "fingerprint": 1_000,
    "exception_type": 100,
    "culprit": 40,
    "exception_value": 30,
    "tag": 20,
    "service": 10,
    "environment": 5,
    "level": 2,
}
OP_FACTORS = {"equals": 3, "glob": 2, "contains": 2, "regex": 1}

MAX_VALUE_LENGTH = 500
MAX_PATTERN_LENGTH = 200
MAX_PER_GROUP = 10
MAX_PER_RUNBOOK = 50
MAX_GROUP = 99
INPUT_LIMIT = 1000
REGEX_MAX_MEM = (
    1 << 20
)  # bytes per compiled regex, an eighth of RE2's default: an index holds a thousand of them
COMPILED_CACHE = 4096  # more than the regexes of any real index, so a rebuild recompiles none


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
    if spec.op == "regex":
        regex_compile(spec.value)


# --- Regexes on RE2 ------------------------------------------------------------------------------

NO_BACKTRACKING = "runbook regexes run on RE2, which has no backtracking"
# The fragment RE2's error quotes → the construct a person wrote.
UNSUPPORTED_GROUPS = {
    "(?=": "lookaround (?=…)",
    "(?!": "lookaround (?!…)",
    "(?<=": "lookaround (?<=…)",
    "(?<!": "lookaround (?<!…)",
    "(?>": "atomic group (?>…)",
    "(?P": "backreference (?P=…)",
    "(?(": "conditional (?(…)…)",
}


def regex_compile(pattern: str):
    """The pattern compiled for RE2 (once per process); MatcherError saying why RE2 refuses it."""
    try:
        return _compiled(pattern)
    except re2.error as exc:
        raise MatcherError(_refusal(_error_text(exc))) from None
    except UnicodeEncodeError:
        raise MatcherError(
            "invalid regex: it holds a character that is not valid text (a lone surrogate)"
        ) from None


@functools.lru_cache(maxsize=COMPILED_CACHE)  # re2's own cache keeps 128 patterns
def _compiled(pattern: str):
    return re2.compile(pattern, _OPTIONS)


def _options():
    options = re2.Options()
    options.max_mem = REGEX_MAX_MEM
    options.never_capture = True  # a matcher only asks whether it matches
    options.log_errors = False  # a refusal goes to the pattern's author, not to stderr
    return options


_OPTIONS = _options()


def _refusal(error: str) -> str:
    """RE2's error (`kind: fragment`) as a person reads it, naming the construct where RE2 lacks it."""
    kind, _, fragment = error.partition(": ")
    if kind == "invalid perl operator" and (construct := UNSUPPORTED_GROUPS.get(fragment)):
        return f"{construct} is not supported: {NO_BACKTRACKING}"
    if kind == "invalid escape sequence" and fragment[1:].isdigit():
        return f"backreference {fragment} is not supported: {NO_BACKTRACKING}"
    if kind == "bad repetition operator" and fragment.endswith("+") and len(fragment) > 1:
        return f"possessive quantifier {fragment} is not supported: {NO_BACKTRACKING}"
    if kind == "invalid repetition size":
        return f"repeat {fragment} is out of range for RE2: at most 1000, nested counts multiplied together"
    if fragment == "\\Z":
        return "\\Z is not supported on RE2: write \\z for the end of the text"
    if kind.startswith("pattern too large"):
        return (
            f"regex is too large: RE2 would need more than {REGEX_MAX_MEM >> 10} KiB for it; "
            "use smaller repeat counts"
        )
    return f"invalid regex: {error}"


def _error_text(error: re2.error) -> str:
    message = error.args[0] if error.args else ""  # RE2's own errors carry bytes
    return message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)


# --- Evaluation --------------------------------------------------------------------------------


def predicate(op: str, value: str):
    """A function of one fact (a string) that says whether the matcher holds.

    `contains` expects the fact casefolded (runbooks.matching folds each fact once per item).
    MatcherError for a regex RE2 refuses (one stored before the save-time check).
    """
    if op == "equals":
        return value.__eq__  # facts are always strings, so this is True or False
    if op == "contains":
        return _contains(value)
    if op == "glob":
        test = re.compile(fnmatch.translate(value)).match
        return lambda fact: test(fact[:INPUT_LIMIT]) is not None
    search = regex_compile(value).search
    # UTF-8 bytes: what RE2 reads anyway, and a lone surrogate in a fact becomes "?" instead of an error.
    return lambda fact: search(fact[:INPUT_LIMIT].encode("utf-8", "replace")) is not None


def _contains(value):
    folded = value.casefold()
    return lambda fact: folded in fact
