from celery import shared_task

from . import services


@shared_task
def wake_expired_ignores():
    return services.items_wake_expired_ignores()


@shared_task
def send_morning_digests():
    from .digest import digests_send

    return digests_send()
