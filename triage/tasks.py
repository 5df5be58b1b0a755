import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import runbook_links, services

log = logging.getLogger(__name__)


@shared_task
def wake_expired_ignores():
    return services.items_wake_expired_ignores()


@shared_task(acks_late=True, autoretry_for=(OperationalError, InterfaceError), retry_backoff=2,
             retry_backoff_max=300, retry_jitter=True, max_retries=8)
def relink_open_items(runbook_id=None):
    """Runbook `runbook_id`'s matchers changed: re-match the open items (all of them: any may move)."""
    changed = runbook_links.items_relink_open()
    log.info("Re-linked %s open item(s) after runbook %s changed its matchers.", changed, runbook_id)
    return changed
