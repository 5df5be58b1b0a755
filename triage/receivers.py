"""triage's reactions to other apps' signals."""

import logging

from django.db import transaction

from .tasks import relink_open_items

log = logging.getLogger(__name__)


def runbook_matchers_changed(sender, runbook_id, **kwargs):
    """Re-link the open items in the worker once the change is committed (runbooks sends this after
    commit)."""
    transaction.on_commit(lambda: relink_enqueue(runbook_id=runbook_id))


def relink_enqueue(*, runbook_id) -> bool:
    """Never raises: with the broker down the matchers are still saved, and the next change re-links all."""
    try:
        relink_open_items.apply_async(args=[runbook_id], retry=False)
    except Exception as exc:  # noqa: BLE001 -- any broker failure
        log.warning("Runbook %s changed its matchers but no re-link was scheduled (%s).", runbook_id, exc)
        return False
    return True
