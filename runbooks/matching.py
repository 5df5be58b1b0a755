"""Which runbooks match an error, best first, in microseconds.

Callers (triage on intake, the match API) describe the error as plain `MatchFacts`. Matching
runs against an in-memory index of every matcher, held per process and rebuilt when the
token in `MatcherIndexState` changes (services change it with every matcher, title or
version change). Checking the token is one primary-key SELECT per call; a batch
(`runbook_matches_many`) checks it once.

The index files each group under one of its `equals` matchers, the one fewest groups share
(an issue id rather than a service), so a lookup reads the few groups filed under the facts'
own values, plus the groups that have no `equals` matcher at all, and evaluates only those,
cheapest check first. bench/runbook_match.py measures it with 5,000 runbooks.

Each check is compiled once, when the index is built (regexes on RE2, see runbooks.matcher_rules). A stored
matcher that no longer compiles (a regex saved before RE2) matches nothing and is logged once per
process: intake and the drain go on.
"""

import functools
import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection

from . import matcher_rules
from .models import MatcherIndexState, Runbook, RunbookMatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchFacts:
    """What matchers look at. `tags` maps tag keys to values; `fingerprint` is Sentry's list (or one
    string)."""

    service: str = ""
    exception_type: str = ""
    exception_value: str = ""
    culprit: str = ""
    fingerprint: tuple[str, ...] | list[str] | str = ()
    sentry_issue_id: str = ""
    level: str = ""
    environment: str = ""
    tags: dict = field(default_factory=dict)

    def candidates(self) -> dict:
        """Field name → the string a matcher on it is tested against (a tuple for the fingerprint).

        Empty facts are left out: nothing matches them.
        """
        values = {name: str(getattr(self, name)) for name in matcher_rules.FIELDS if name != "fingerprint"}
        values["level"] = values["level"].lower()
        values.update({f"{matcher_rules.TAG_PREFIX}{key}": str(value) for key, value in self.tags.items()})
        values["fingerprint"] = _fingerprint_parts(self.fingerprint)
        return {name: value for name, value in values.items() if value}


def _fingerprint_parts(fingerprint) -> tuple[str, ...]:
    """Each part, and for a composite fingerprint also the parts joined by spaces."""
    parts = (
        (fingerprint,) if isinstance(fingerprint, str) else tuple(str(part) for part in fingerprint if part)
    )
    return parts + ((" ".join(parts),) if len(parts) > 1 else ())


@dataclass(frozen=True)
class RunbookRef:
    """The runbook fields a match carries: enough to link an item or list a match without a query."""

    id: int
    slug: str
    title: str
    team: str

    @property
    def pk(self):
        return self.id


@dataclass(frozen=True)
class VersionRef:
    id: int
    number: int
    runbook_id: int

    @property
    def pk(self):
        return self.id


@dataclass(frozen=True)
class RunbookMatch:
    runbook: RunbookRef
    version: VersionRef  # the runbook's current version when the index was built
    score: int
    group: int


@dataclass(frozen=True)
class _Group:
    runbook_id: int
    number: int
    score: int
    # (folded, field, predicate): every one must hold; cheap ones first, the anchor left out.
    checks: tuple


class MatcherIndex:
    """Groups filed by (field, value) of their anchor, and the groups without one."""

    def __init__(self, token, runbooks: dict[int, tuple[RunbookRef, VersionRef]], anchored, unanchored):
        self.token, self.runbooks = token, runbooks
        self.by_anchor: dict[tuple[str, str], list[_Group]] = anchored
        self.unanchored: list[_Group] = unanchored

    def matches(self, facts: MatchFacts, *, limit: int | None = None) -> list[RunbookMatch]:
        values = facts.candidates()
        folded = {name: _fold(value) for name, value in values.items()}
        best: dict[int, _Group] = {}
        # The hot loop of intake (bench/runbook_match.py): kept flat, without a call per group.
        for group in self._candidate_groups(values):
            current = best.get(group.runbook_id)
            if current is not None and current.score >= group.score:
                continue
            for use_folded, name, test in group.checks:
                fact = (folded if use_folded else values).get(name)
                if fact is None or not test(fact):
                    break
            else:
                best[group.runbook_id] = group
        ranked = sorted(best.values(), key=lambda g: (-g.score, self.runbooks[g.runbook_id][0].slug))
        return [self._match(group) for group in ranked[:limit]]

    def _candidate_groups(self, values):
        by_anchor = self.by_anchor
        for name, value in values.items():
            if isinstance(value, str):
                yield from by_anchor.get((name, value), ())
            else:
                for part in value:
                    yield from by_anchor.get((name, part), ())
        yield from self.unanchored

    def _match(self, group: _Group) -> RunbookMatch:
        runbook, version = self.runbooks[group.runbook_id]
        return RunbookMatch(runbook=runbook, version=version, score=group.score, group=group.number)


def _fold(value):
    return value.casefold() if isinstance(value, str) else tuple(part.casefold() for part in value)


# --- Building and caching ------------------------------------------------------------------------

_lock = threading.Lock()
_index: MatcherIndex | None = None


def runbook_matches(*, facts: MatchFacts, limit: int | None = 10) -> list[RunbookMatch]:
    """The runbooks matching `facts`, most specific first (one per runbook, its best group)."""
    return current_index().matches(facts, limit=limit)


def runbook_matches_many(*, facts: Iterable[MatchFacts], limit: int | None = 10) -> list[list[RunbookMatch]]:
    """`runbook_matches` for many items (re-linking): the index is checked once for the batch."""
    index = current_index()
    return [index.matches(one, limit=limit) for one in facts]


def current_index() -> MatcherIndex:
    """The process's index, rebuilt first if the stored token moved on."""
    global _index
    token = stored_token()
    index = _index
    if index is not None and index.token == token:
        return index
    with _lock:
        if _index is None or _index.token != token:
            _index = build_index(token)
        return _index


def stored_token() -> str:
    # Raw SQL: this runs on every webhook, and the ORM would triple the cost of the lookup.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {MatcherIndexState._meta.db_table} WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else ""


def build_index(token: str) -> MatcherIndex:
    runbooks = {
        pk: (RunbookRef(pk, slug, title, team), VersionRef(version_id, number, pk))
        for pk, slug, title, team, version_id, number in Runbook.objects.filter(
            current_version__isnull=False
        ).values_list("pk", "slug", "title", "team", "current_version_id", "current_version__number")
    }
    rows = (
        RunbookMatcher.objects.filter(runbook_id__in=runbooks)
        .order_by("runbook_id", "group", "id")
        .values_list("runbook_id", "group", "field", "op", "value")
    )
    by_group = defaultdict(list)
    for runbook_id, number, name, op, value in rows.iterator(chunk_size=5000):
        by_group[(runbook_id, number)].append((name, op, value))
    return _filed(token, runbooks, by_group)


def _filed(token, runbooks, by_group) -> MatcherIndex:
    """File each group under its rarest equals-matcher: the lookup then reads as few groups as the data
    allows."""
    keys = {
        group: {(name, value) for name, op, value in specs if op == "equals"}
        for group, specs in by_group.items()
    }
    filed = Counter(key for group_keys in keys.values() for key in group_keys)
    anchored, unanchored = defaultdict(list), []
    for (runbook_id, number), specs in by_group.items():
        anchor = min(keys[(runbook_id, number)], key=lambda key: (filed[key], key), default=None)
        group = _Group(
            runbook_id,
            number,
            sum(matcher_rules.score(name, op) for name, op, _ in specs),
            _checks(specs, anchor),
        )
        (anchored[anchor] if anchor else unanchored).append(group)
    return MatcherIndex(token, runbooks, dict(anchored), unanchored)


CHEAP_FIRST = {"equals": 0, "contains": 1, "glob": 2, "regex": 3}


def _checks(specs, anchor) -> tuple:
    """The group's checks without its anchor (the lookup found it), cheapest first."""
    rest = sorted(
        (spec for spec in specs if spec[1] != "equals" or (spec[0], spec[2]) != anchor),
        key=lambda spec: CHEAP_FIRST[spec[1]],
    )
    return tuple((op == "contains", name, _predicate(name, op, value)) for name, op, value in rest)


def _predicate(name, op, value):
    # A pattern saved before RE2 or around validation (admin, SQL) must not break intake: it matches nothing.
    try:
        test = matcher_rules.predicate(op, value)
    except matcher_rules.MatcherError as exc:
        _log_unusable(name, op, value, str(exc))
        return lambda fact: False
    if name == "fingerprint":  # any of its parts
        return lambda parts: any(test(part) for part in parts)
    return test


@functools.cache  # once per process and matcher, not at every rebuild of the index
def _log_unusable(name, op, value, problem) -> None:
    log.warning("runbook matcher %s %s %r matches nothing: %s", name, op, value, problem)


def forget_index() -> None:
    """Drop the cached index (tests; a process that knows the database was replaced)."""
    global _index
    with _lock:
        _index = None
