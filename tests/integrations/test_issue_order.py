"""Deliveries in any order end where in-order delivery ends (issue 12, item 2).

Each history is what Sentry sent, in the order it sent it (Sentry-Hook-Timestamp one second apart, each
issue snapshot consistent with its moment). Every permutation of it goes through the real intake (signed
POST, stored, processed one by one or as one batch, on PostgreSQL), and the item's Sentry state, its own
triage state and its figures must equal the in-order item's.
"""

import itertools
import time
from datetime import UTC, datetime

import pytest

from integrations.models import WebhookDelivery
from integrations.services import deliveries_process, delivery_process
from tests.helpers import event_payload, issue_payload, post_webhook
from triage.models import TriageItem

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
ISSUE_ID = "1117540176"
BASE = int(time.time()) - 120  # sent times must fall inside the intake's five-minute window
FIRST_EVENT = BASE - 60.0
DANA = {"type": "user", "id": "12", "name": "Dana", "email": "dana@example.com"}
PAYMENTS = {"type": "team", "id": "7", "name": "payments"}


def iso(seconds):
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat().replace("+00:00", "Z")


def issue(action, status, substatus="", *, count=1, last_seen=FIRST_EVENT, actor=None, **fields):
    payload = issue_payload(
        ISSUE_ID,
        action=action,
        status=status,
        substatus=substatus,
        count=str(count),
        lastSeen=iso(last_seen),
        firstSeen=iso(FIRST_EVENT),
        **fields,
    )
    payload["actor"] = actor or payload["actor"]
    return ("issue", payload)


def event(event_id, at):
    return ("event_alert", event_payload(event_id, ISSUE_ID, timestamp=at))


CREATED = issue("created", "unresolved", "new")
RESOLVED = issue("resolved", "resolved")
HISTORIES = {
    "created-resolved-unresolved": [CREATED, RESOLVED, issue("unresolved", "unresolved", "ongoing")],
    # by someone else: a body the same as the first resolve's is a replay
    "created-resolved-unresolved-resolved": [
        CREATED,
        RESOLVED,
        issue("unresolved", "unresolved", "ongoing"),
        issue("resolved", "resolved", actor={"type": "user", "id": "12", "name": "Dana"}),
    ],
    "created-ignored-escalating": [
        CREATED,
        issue(
            "ignored", "ignored", "archived_until_escalating", statusDetails={"ignoreUntilEscalating": True}
        ),
        issue("unresolved", "unresolved", "escalating"),
    ],
    "created-ignored-archived-until-100-in-an-hour": [
        CREATED,
        issue("ignored", "ignored", "archived_forever"),
        issue(
            "archived",
            "ignored",
            "archived_until_condition_met",
            count=5,
            statusDetails={"ignoreCount": 100, "ignoreWindow": 60},
        ),
    ],
    "created-assigned-unassigned-assigned-to-a-team": [
        CREATED,
        issue("assigned", "unresolved", "new", assignedTo=DANA),
        issue("unassigned", "unresolved", "new", assignedTo=None),
        issue("assigned", "unresolved", "new", assignedTo=PAYMENTS),
    ],
    "event-created-assigned-resolved": [
        event("first", FIRST_EVENT),
        issue("created", "unresolved", "new", assignedTo=DANA),
        issue("resolved", "resolved", assignedTo=DANA),
    ],
    "event-created-resolved-event-regressed": [
        event("first", FIRST_EVENT),
        CREATED,
        RESOLVED,
        event("after-the-resolve", BASE + 2.5),
        issue("unresolved", "unresolved", "regressed", count=2, last_seen=BASE + 2.5),
    ],
}
CASES = [
    (name, order)
    for name, history in HISTORIES.items()
    for order in itertools.permutations(range(len(history)))
    if order != tuple(range(len(history)))
]


@pytest.fixture(autouse=True)
def wide_replay_window(settings):
    """The histories' send times are fixed when this module is imported, minutes before a full suite gets
    here."""
    settings.WEBHOOK_MAX_CLOCK_SKEW_SECONDS = 3600


@pytest.fixture(params=["one at a time", "in one batch"])
def mode(request):
    return request.param


def deliver(client, history, order, mode):
    """POST the history's deliveries in `order` (each keeps the time Sentry sent it), then process them."""
    for index in order:
        resource, payload = history[index]
        assert post_webhook(client, resource, payload, timestamp=BASE + index).status_code == 202
    ids = list(WebhookDelivery.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True))
    if mode == "one at a time":
        statuses = [delivery_process(delivery_id=pk) for pk in ids]
    else:
        statuses = list(deliveries_process(delivery_ids=ids).values())
    assert statuses == ["processed"] * len(history)
    return final_state(TriageItem.objects.get())


def final_state(item) -> dict:
    return {
        "status": item.status,
        "sentry_status": item.sentry_status,
        "sentry_substatus": item.sentry_substatus,
        "sentry_state_at": item.sentry_state_at,
        "sentry_assignee": item.sentry_assignee,
        "sentry_assignee_info": item.sentry_assignee_info,
        "ignore_condition": item.ignore_condition,
        "resolved": item.resolved_at is not None,
        "regressed": item.regressed_at is not None,
        "resolved_in_release": item.resolved_in_release,
        "event_count": item.event_count,
        "user_count": item.user_count,
        "first_seen": item.first_seen,
        "last_seen": item.last_seen,
    }


def forget_everything():
    """The in-order run and the shuffled one must not meet: the same bodies would be duplicates."""
    WebhookDelivery.objects.all().delete()
    TriageItem.objects.all().delete()


IN_ORDER = {}  # (history, mode) -> the in-order end: every field compared is the same on each run


def in_order_end(client, name, mode):
    if (name, mode) not in IN_ORDER:
        IN_ORDER[name, mode] = deliver(client, HISTORIES[name], range(len(HISTORIES[name])), mode)
        forget_everything()
    return IN_ORDER[name, mode]


@pytest.mark.parametrize(
    "name,order", CASES, ids=[f"{name}:{''.join(map(str, order))}" for name, order in CASES]
)
def test_any_order_ends_where_sentrys_order_ends(client, mode, name, order):
    in_order = in_order_end(client, name, mode)

    assert deliver(client, HISTORIES[name], order, mode) == in_order


def test_the_in_order_ends_are_what_sentry_says(client, mode):
    """The reference the permutations are held to is itself right."""
    ends = {name: in_order_end(client, name, mode) for name in HISTORIES}

    def sent(index):
        return datetime.fromtimestamp(BASE + index, tz=UTC)

    assert (
        ends["created-resolved-unresolved"]["status"],
        ends["created-resolved-unresolved"]["resolved"],
    ) == ("new", False)
    assert ends["created-resolved-unresolved-resolved"]["status"] == "resolved"
    assert ends["created-ignored-escalating"]["status"] == "new"
    assert ends["created-ignored-escalating"]["ignore_condition"] == {}
    assert ends["created-ignored-archived-until-100-in-an-hour"]["ignore_condition"] == {
        "kind": "events",
        "count": 100,
        "window": 60,
    }
    assigned = ends["created-assigned-unassigned-assigned-to-a-team"]
    assert (assigned["sentry_assignee"], assigned["sentry_assignee_info"]) == (
        "#payments",
        {**PAYMENTS, "email": ""},
    )
    assert assigned["sentry_state_at"] == sent(3)
    resolved = ends["event-created-assigned-resolved"]
    assert (resolved["status"], resolved["sentry_assignee"], resolved["event_count"]) == (
        "resolved",
        "dana@example.com",
        1,
    )
    regressed = ends["event-created-resolved-event-regressed"]
    assert (regressed["status"], regressed["regressed"], regressed["sentry_substatus"]) == (
        "new",
        True,
        "regressed",
    )
    assert (regressed["event_count"], regressed["sentry_state_at"]) == (2, sent(4))


def test_a_late_event_from_before_the_resolve_does_not_reopen_it(client, mode):
    history = HISTORIES["event-created-resolved-event-regressed"][:3]

    assert deliver(client, history, (1, 2, 0), mode)["status"] == "resolved"
