from celery import shared_task

from . import services
from .weeks import week_last_ended


@shared_task
def compute_last_week_trends():
    """Beat, Mondays 06:00 in TIME_ZONE: the ISO week that just ended."""
    services.trends_compute_week(week=week_last_ended())
