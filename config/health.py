import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_safe

from .celery import app

logger = logging.getLogger(__name__)


@require_safe
@login_not_required
def healthz(request):
    """For load balancers and `docker compose`: 200 when the database and broker answer, else 503.

    Anyone may call it, so the answer names only the check that failed; the reason goes to the log.
    """
    checks = {"database": _check("database", _database), "broker": _check("broker", _broker)}
    healthy = all(status == "ok" for status in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503)


def _check(name, probe):
    try:
        probe()
        return "ok"
    except Exception:
        logger.exception("Health check: the %s does not answer", name)
        return "error"


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker():
    # The URL is read from settings on each call (not the one the Celery app loaded at import);
    # the one retry is immediate, so a dead broker answers 503 in well under a second, not after 2 s.
    with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
