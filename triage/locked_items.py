"""The triage items one intake transaction works on: each locked once, saved once.

Events of one issue come in bursts. Locking and saving its item once per batch of
deliveries, instead of once per event, is what lets the worker keep up with the
intake (bench/ingest.py).
"""

from django.db import IntegrityError, transaction

from .models import TriageItem


class LockedItems:
    def __init__(self):
        self._items = {}

    def lock(self, issue_ids):
        """Lock the existing items of a batch up front, in one order, so that two batches cannot deadlock."""
        wanted = sorted(set(issue_ids) - self._items.keys())
        for item in TriageItem.objects.select_for_update().filter(sentry_issue_id__in=wanted).order_by("sentry_issue_id"):
            self._items[item.sentry_issue_id] = item

    def get(self, issue_id, build):
        """(item, created): created is True only the first time a new item is asked for."""
        if issue_id in self._items:
            return self._items[issue_id], False
        item, created = _item_locked(issue_id, build)
        self._items[issue_id] = item
        return item, created

    def save(self):
        for item in self._items.values():
            item.save()


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
