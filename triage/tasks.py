from celery import shared_task

from . import services


@shared_task
def wake_expired_ignores():
    return services.items_wake_expired_ignores()
