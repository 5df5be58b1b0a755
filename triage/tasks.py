import logging

from celery import shared_task

from common.tasks import RELIABLE

from . import digest, runbook_links, services

log = logging.getLogger(__name__)


@shared_task
def wake_expired_ignores():
    return services.items_wake_expired_ignores()


@shared_task(**RELIABLE)
def relink_open_items(runbook_id=None):
    """Runbook `runbook_id`'s matchers changed: re-match the open items (all of them: any may move)."""
    changed = runbook_links.items_relink_open()
    log.info("Re-linked %s open item(s) after runbook %s changed its matchers.", changed, runbook_id)
    return changed


@shared_task
def send_morning_digests():
    return digest.digests_deliver()
