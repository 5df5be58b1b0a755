"""manage.py sync_from_sentry [--sweep]: apply what Sentry changed while the portal was not listening."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations import sentry_api
from integrations.sentry_api import SentryApiError
from integrations.sentry_sync import ReconcileError, reconcile_run
from integrations.sweep import sweep_run


class Command(BaseCommand):
    help = (
        "Page through Sentry's issues seen since the reconcile cursor (or --since) and create or update "
        "items through the webhook intake path. With --sweep, re-read by id the open and recently closed "
        "items instead, for changes that came with no event. Safe to run again: unchanged issues "
        "change nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--since",
            help="Start here instead of at the cursor: an ISO 8601 date or time "
            "(in TIME_ZONE unless it says otherwise), e.g. 2026-11-01.",
        )
        parser.add_argument(
            "--sweep",
            action="store_true",
            help="Re-read the Sentry state of the open items, and of those resolved or ignored in "
            "the last SENTRY_SWEEP_CLOSED_DAYS, by id; resumes an interrupted sweep.",
        )

    def handle(self, *args, since=None, sweep=False, **options):
        if not sentry_api.configured():
            raise CommandError("Sentry is not configured: set SENTRY_AUTH_TOKEN and SENTRY_ORG_SLUG.")
        if sweep:
            return self.sweep(since)
        try:
            result = reconcile_run(since=parse_since(since))
        except (ReconcileError, SentryApiError) as exc:
            raise CommandError(
                f"Reconcile stopped: {exc}. Pages already applied stay applied; "
                "the next run resumes after them."
            ) from exc
        self.stdout.write(f"Reconciled {result.summary()}.")

    def sweep(self, since):
        if since:
            raise CommandError("--sweep reads every open item whenever it was seen: it takes no --since.")
        try:
            result = sweep_run()
        except (ReconcileError, SentryApiError) as exc:
            raise CommandError(
                f"Sweep stopped: {exc}. Batches already applied stay applied; "
                "the next run resumes after them."
            ) from exc
        self.stdout.write(f"Swept {result.summary()}.")


def parse_since(value) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--since {value!r} is not an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T08:00"
        ) from None
    if moment > datetime.now(moment.tzinfo):
        raise CommandError(f"--since {value!r} is in the future.")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)
