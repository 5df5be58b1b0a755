"""What a batch of deliveries does once instead of once per delivery.

A burst of new Sentry issues made every delivery repeat the same lookups (its project's
service, the ownership rules, the runbook matchers' token) and write its timeline entry in a
statement of its own. Inside `batch()`, which triage/intake.py opens around a batch, each lookup
is made once, and timeline entries wait to be inserted together when the batch saves its items,
in the batch's transaction.

Outside a batch every function here does the work at once, as before. A batch's memory ends
with it: after a rollback, the one-by-one retry looks everything up afresh.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from .models import Activity

_current = ContextVar("triage_bulk_batch", default=None)


class _Batch:
    def __init__(self):
        self.looked_up = {}
        self.activities = []


@contextmanager
def batch():
    token = _current.set(_Batch())
    try:
        yield
    finally:
        _current.reset(token)


def looked_up(key, load):
    """`load()`, once a batch per key. Only for what the batch itself does not change (or changes through
    it)."""
    state = _current.get()
    if state is None:
        return load()
    if key not in state.looked_up:
        state.looked_up[key] = load()
    return state.looked_up[key]


def activity_add(activity: Activity) -> Activity:
    """Insert a timeline entry now, or with the batch's others when the batch saves."""
    state = _current.get()
    if state is None:
        activity.save(force_insert=True)
    else:
        state.activities.append(activity)
    return activity


def activities_flush():
    """One INSERT for the entries the batch held back, in the order they were recorded (ids follow it)."""
    state = _current.get()
    if state is not None and state.activities:
        Activity.objects.bulk_create(state.activities)
        state.activities = []
