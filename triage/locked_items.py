"""The triage items one intake transaction works on: each locked once, saved once (triage/intake.py).

Events of one issue come in bursts. Locking and saving its item once per batch of
deliveries, instead of once per event, is what lets the worker keep up with the
intake (bench/ingest.py).

New issues come in bursts too. On PostgreSQL the batch takes a transaction-level advisory
lock on every issue id it is about to look up, before locking the rows: a batch that does not
find an item then knows no other batch will create it before this one commits. So a new item
costs no statement of its own: its id is drawn from the sequence with the batch's others, and
all the batch's new items are inserted in one statement when it saves. (The timeline entries
that point to them wait too, triage/bulk.py; the foreign keys are checked at commit.) A
creator that takes no advisory lock (one delivery at a time, a replay) can still win the
race: the batch's INSERT then fails and the whole batch is redone one delivery at a time.
"""

from django.db import IntegrityError, connection, transaction

from . import bulk
from .models import TriageItem

# The first key of the two-key advisory locks (the one-key locks of grouping and reports are another space).
ISSUE_LOCK_SPACE = 7321


class LockedItems:
    def __init__(self):
        self._items = {}
        self._absent = set()  # looked up under the advisory locks and not found
        self._new = {}  # issue id -> item, inserted when the batch saves
        self._ids = []  # drawn from the sequence for the items in `_absent`

    def lock(self, issue_ids):
        """Lock the existing items of a batch up front, in one order, so that two batches cannot deadlock."""
        wanted = sorted(set(issue_ids) - self._items.keys())
        if wanted and connection.vendor == "postgresql":
            _lock_issue_ids(wanted)
            self._absent.update(wanted)
        for item in (
            TriageItem.objects.select_for_update()
            .filter(sentry_issue_id__in=wanted)
            .order_by("sentry_issue_id")
        ):
            self._items[item.sentry_issue_id] = item
            self._absent.discard(item.sentry_issue_id)

    def get(self, issue_id, build):
        """(item, created): created is True only the first time a new item is asked for."""
        if issue_id in self._items:
            return self._items[issue_id], False
        if issue_id in self._absent:
            item, created = self._new_item(issue_id, build), True
        else:
            item, created = _item_locked(issue_id, build)
        self._items[issue_id] = item
        return item, created

    def save(self):
        """The new items in one INSERT (in issue id order, like the locks), then the others, then the
        timeline."""
        TriageItem.objects.bulk_create([self._new[issue_id] for issue_id in sorted(self._new)])
        for issue_id, item in self._items.items():
            if issue_id not in self._new:
                item.save()
        self._new = {}
        bulk.activities_flush()

    def _new_item(self, issue_id, build):
        if not self._ids:
            self._ids = _draw_ids(len(self._absent))
        item = self._new[issue_id] = build()
        item.pk = self._ids.pop()
        return item


def _lock_issue_ids(issue_ids):
    """Held until the transaction ends; taken in key order, so two batches cannot deadlock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, key) FROM (SELECT DISTINCT hashtext(issue_id) AS key "
            "FROM unnest(%s::text[]) AS issue_id ORDER BY key) AS keys",
            [ISSUE_LOCK_SPACE, list(issue_ids)],
        )


def _draw_ids(count):
    table = TriageItem._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        return [row[0] for row in reversed(cursor.fetchall())]  # popped from the end: ids rise with the batch


def _item_locked(issue_id, build):
    """Get the item for a Sentry issue, creating it if needed, with its row locked.

    The unique constraint on `sentry_issue_id` decides races: get_or_create re-gets
    after the loser's IntegrityError, and the row lock serialises the updates.
    """
    try:
        return TriageItem.objects.select_for_update().get(sentry_issue_id=issue_id), False
    except TriageItem.DoesNotExist:
        pass
    item = build()
    try:
        with transaction.atomic():
            item.save(force_insert=True)
        return item, True
    except IntegrityError:
        return TriageItem.objects.select_for_update().get(sentry_issue_id=issue_id), False
