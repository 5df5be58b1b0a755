"""An item's life in one place (triage.lifecycle): each move from each status; no status written elsewhere."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.triage.test_api import make_item
from triage import lifecycle
from triage.facts import IssueFacts
from triage.lifecycle import SENTRY
from triage.models import Activity, TriageItem

pytestmark = pytest.mark.django_db
Status = TriageItem.Status
ROOT = Path(__file__).resolve().parents[1]

# Where each move may start, as the callers allowed before the moves came to triage.lifecycle.
# Columns: new, triaged, in progress, resolved, ignored; "+" allowed, "." refused.
COLUMNS = (Status.NEW, Status.TRIAGED, Status.IN_PROGRESS, Status.RESOLVED, Status.IGNORED)
ALLOWED_BEFORE = {
    "triage": "+....",  # triage.actions._mark_triaged: only a new item
    "take": "++...",  # triage.actions.item_take
    "ignore": "+++++",
    "resolve": "+++++",
    "unresolve": "+++++",
    "resolve_from_sentry": "+++.+",  # not when already resolved
    "ignore_from_sentry": "+++++",
    "reopen_from_sentry": "...++",  # not item.is_open
    "regress": "...+.",  # item_record_event: resolved, and the event regresses it
    "wake": "....+",  # ignored, and its condition passed
    "resolve_by_data_fix": "+++..",  # ops.resolution: item.is_open
}
# Where each move ends, and its timeline entry, for an item never classified whose ignore period is over.
ENDS_IN = {
    "triage": (Status.TRIAGED, None),  # the "classified" entry is triage.actions'
    "take": (Status.IN_PROGRESS, None),  # the "took" entry too
    "ignore": (Status.IGNORED, "ignored"),
    "resolve": (Status.RESOLVED, "resolved"),
    "unresolve": (Status.NEW, "unresolved"),
    "resolve_from_sentry": (Status.RESOLVED, "resolved"),
    "ignore_from_sentry": (Status.IGNORED, "ignored"),
    "reopen_from_sentry": (Status.NEW, "reopened"),
    "regress": (Status.NEW, "regressed"),
    "wake": (Status.NEW, "woke_up"),
    "resolve_by_data_fix": (Status.RESOLVED, "resolved"),
}
LIFE_FIELDS = (
    "status",
    "resolved_at",
    "resolved_in_release",
    "ignore_condition",
    "woke_at",
    "regressed_at",
    "sentry_status",
    "sentry_substatus",
    "sentry_state_at",
)


def perform(transition, item, user):
    """Each move as its caller makes it."""
    now = timezone.now()
    issue = IssueFacts(
        issue_id=item.sentry_issue_id, title=item.title, project_slug="p", first_seen=now, last_seen=now
    )
    moves = {
        "triage": lambda: lifecycle.mark_triaged(item),
        "take": lambda: lifecycle.start_work(item),
        "ignore": lambda: lifecycle.ignore(item, {"kind": "forever"}, actor=user),
        "resolve": lambda: lifecycle.resolve(item, actor=user, in_next_release=True),
        "unresolve": lambda: lifecycle.unresolve(item, actor=user),
        "resolve_from_sentry": lambda: lifecycle.resolve_from_sentry(item, issue, actor_label=SENTRY),
        "ignore_from_sentry": lambda: lifecycle.ignore_from_sentry(item, issue, now, actor_label=SENTRY),
        "reopen_from_sentry": lambda: lifecycle.reopen_from_sentry(item, regressed=False, actor_label=SENTRY),
        "regress": lambda: lifecycle.regress_if_due(item, now, "", actor_label=SENTRY, event_id="e1"),
        "wake": lambda: lifecycle.wake_if_due(item, actor_label="portal", reason="ignore period ended"),
        "resolve_by_data_fix": lambda: lifecycle.resolve_by_data_fix(item, actor=user, data_fix=1, note=""),
    }
    return moves[transition]()


def life(item):
    return {name: getattr(item, name) for name in LIFE_FIELDS}


PAIRS = [(transition, status) for transition in ALLOWED_BEFORE for status in COLUMNS]


@pytest.mark.parametrize("transition,status", PAIRS)
def test_it_makes_every_move_only_from_where_it_was_allowed(alice, transition, status):
    item = make_item(1, status=status)
    item.ignore_condition = {"kind": "until", "until": (timezone.now() - timedelta(minutes=1)).isoformat()}
    before, entries = life(item), Activity.objects.count()
    allowed = ALLOWED_BEFORE[transition][COLUMNS.index(status)] == "+"
    assert (status in lifecycle.TRANSITIONS[transition]) is allowed

    assert perform(transition, item, alice) is allowed
    if allowed:
        status_after, verb = ENDS_IN[transition]
        verbs = list(Activity.objects.filter(item=item).values_list("verb", flat=True))
        assert (item.status, verbs) == (status_after, [verb] if verb else [])
    else:  # refused: nothing raised, nothing changed, nothing on the timeline
        assert (life(item), Activity.objects.count()) == (before, entries)


def test_it_has_one_row_for_every_move_and_every_status():
    assert lifecycle.TRANSITIONS.keys() == ALLOWED_BEFORE.keys()
    assert all(set(statuses) <= set(COLUMNS) for statuses in lifecycle.TRANSITIONS.values())


def test_it_unresolves_a_classified_item_as_triaged(alice):
    item = make_item(1, status=Status.RESOLVED)
    item.classification = TriageItem.Classification.CODE_FIX

    assert lifecycle.unresolve(item, actor=alice)
    assert (item.status, item.resolved_at) == (Status.TRIAGED, None)


def test_it_remembers_when_an_open_item_first_met_as_regressed():
    item = make_item(1, status=Status.IN_PROGRESS)

    assert lifecycle.reopen_from_sentry(item, regressed=True, actor_label=SENTRY) is False
    assert (item.status, item.regressed_at is not None) == (Status.IN_PROGRESS, True)


def test_it_keeps_a_next_release_resolution_through_an_event_of_that_release(alice):
    item = make_item(1, status=Status.NEW)
    item.latest_event = {"release": "1.2.0"}
    lifecycle.resolve(item, actor=alice, in_next_release=True)

    assert not lifecycle.reopen_on_event(
        item, sent_at=timezone.now(), release="1.2.0", event_id="e1", actor_label=SENTRY
    )
    assert lifecycle.reopen_on_event(
        item, sent_at=timezone.now(), release="1.3.0", event_id="e2", actor_label=SENTRY
    )
    assert (item.status, item.sentry_substatus) == (Status.NEW, "regressed")


# --- Only triage.lifecycle writes an item's status ---------------------------------------------------

# Other things with a status: (file, owner) -> what it is.
NOT_ITEMS = {("integrations/sentry_api.py", "self"): "the HTTP status of Sentry's answer"}
SKIPPED_DIRS = {".venv", "var", "tests", "bench", "migrations", "node_modules", "static", "templates"}


def _portal_sources():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if not SKIPPED_DIRS.intersection(parts) and not any(part.startswith(".") for part in parts):
            yield path


def _status_writes(tree):
    """(line, owner) of each write of a `status` attribute: x.status = ..., a, x.status = ..., and
    setattr(x, "status", ...).
    """
    for node in ast.walk(tree):
        for target in _assigned(node):
            for part in ast.walk(target):  # a tuple's elements too
                if isinstance(part, ast.Attribute) and part.attr == "status":
                    yield part.lineno, ast.unparse(part.value)
        if _is_setattr_of_status(node):
            yield node.lineno, ast.unparse(node.args[0])


def _is_setattr_of_status(node) -> bool:
    if not (isinstance(node, ast.Call) and ast.unparse(node.func) == "setattr" and len(node.args) > 1):
        return False
    return isinstance(node.args[1], ast.Constant) and node.args[1].value == "status"


def _assigned(node):
    if isinstance(node, ast.Assign):
        return node.targets
    return [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else []


def test_it_writes_an_items_status_only_in_the_lifecycle_module():
    writes = [
        f"{name}:{line}: {owner}.status"
        for path in _portal_sources()
        if (name := str(path.relative_to(ROOT))) != "triage/lifecycle.py"
        for line, owner in _status_writes(ast.parse(path.read_text(), filename=name))
        if "delivery" not in owner.lower()  # integrations' deliveries have a status of their own
        and (name, owner) not in NOT_ITEMS
    ]

    assert writes == []


def test_it_finds_the_status_writes_it_looks_for():
    source = [
        "item.status = 1",
        "item.status, item.woke_at = 1, 2",
        "setattr(item, 'status', 1)",
        "row.delivery.status += 2",
        "self.status: str = 'x'",
    ]
    found = sorted(_status_writes(ast.parse("\n".join(source))))

    assert found == [(1, "item"), (2, "item"), (3, "item"), (4, "row.delivery"), (5, "self")]
