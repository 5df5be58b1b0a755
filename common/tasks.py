"""Options shared by the apps' Celery tasks."""

from django.db import InterfaceError, OperationalError

# Tasks whose work must not be lost: redelivered if the worker dies mid-task, retried while
# the database is away. Each such task must be safe to run twice.
RELIABLE = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}
