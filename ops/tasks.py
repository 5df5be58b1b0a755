from celery import shared_task

from common.tasks import RELIABLE

from . import escalation, notify


@shared_task(name=notify.SEND_TASK, **RELIABLE)
def send_notification(notification_id):
    return notify.notification_send(notification_id=notification_id)


@shared_task
def escalation_scan():
    return escalation.escalation_scan()


@shared_task
def requeue_stale_notifications():
    return notify.notifications_requeue_stale()
