"""Sentry's changes reach triage items here, and only here.

integrations verifies, stores, parses and dedupes the deliveries, and tells echoes of the portal's
own pushes; what they say about issues and events comes in as SentryChange facts. A batch (the
drain's) locks its items up front, makes each lookup once and saves each item once
(triage/locked_items.py, triage/bulk.py); a change on its own (a retry, a replay, a reconciled
issue) locks and saves its item by itself and takes no advisory lock, as it always did.
"""

from collections.abc import Sequence

from . import bulk, services
from .facts import SentryChange
from .locked_items import LockedItems


def items_apply_sentry(*, changes: Sequence[SentryChange]):
    """Apply a batch of changes in the caller's transaction: the items locked in one order, saved once."""
    items = LockedItems()
    with bulk.batch():  # lookups once, new items and timeline entries inserted together
        items.lock(change.issue_id for change in changes)
        for change in changes:
            _apply(change, items=items)
        items.save()


def item_apply_sentry(*, change: SentryChange):
    """Apply one change: its item locked, then saved, by the triage service that applies it."""
    _apply(change, items=None)


def _apply(change, *, items):
    if change.issue:
        services.item_apply_issue(
            issue=change.issue,
            action=change.action,
            at=change.at,
            actor_label=change.actor_label,
            echo=change.echo,
            items=items,
        )
    else:
        services.item_record_event(
            event=change.event, at=change.at, actor_label=change.actor_label, items=items
        )
