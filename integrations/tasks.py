from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def process_delivery(delivery_id):
    return services.delivery_process(delivery_id=delivery_id)


@shared_task
def requeue_stale_deliveries():
    return services.deliveries_requeue_stale()
