"""manage.py replay_deliveries: process failed (or stuck pending) webhook deliveries again."""

from collections import Counter
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations.models import WebhookDelivery
from integrations.services import deliveries_replay

Status = WebhookDelivery.Status
DEFAULT_LIMIT = 100


class Command(BaseCommand):
    help = (
        "Replay stored webhook deliveries: by default the failed ones, oldest first, through the worker. "
        "Rejected deliveries (unsigned, or not a webhook) are never replayed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--id",
            dest="ids",
            type=int,
            action="append",
            default=[],
            metavar="N",
            help="Replay this delivery (repeatable); --status, --since and --limit then do not apply.",
        )
        parser.add_argument(
            "--status",
            choices=WebhookDelivery.REPLAYABLE,
            default=Status.FAILED,
            help="Which deliveries to replay (default: failed).",
        )
        parser.add_argument(
            "--since",
            help="Only those received at or after this ISO 8601 date or time "
            "(in TIME_ZONE unless it says otherwise).",
        )
        parser.add_argument(
            "--limit", type=int, default=DEFAULT_LIMIT, help=f"At most this many (default {DEFAULT_LIMIT})."
        )
        parser.add_argument(
            "--sync", action="store_true", help="Process them here and now instead of enqueueing them."
        )

    def handle(
        self, *args, ids=(), status=Status.FAILED, since=None, limit=DEFAULT_LIMIT, sync=False, **options
    ):
        if ids:
            chosen, refused = _chosen_by_id(ids)
        else:
            chosen, refused = _chosen_by_filter(status, _parse_since(since), limit), []
        failed = self._replay(chosen, sync)
        if not ids and len(chosen) == limit:
            self.stdout.write(f"Stopped at --limit {limit}: run again for the rest.")
        # Exit non-zero when anything asked for did not end processed, so scripts notice.
        problems = [f"Not replayed: {reason}" for reason in refused]
        if failed:
            problems.append(f"{failed} of {len(chosen)} deliveries failed; their last_error says why")
        if problems:
            raise CommandError(". ".join(problems) + ".")

    def _replay(self, chosen, sync) -> int:
        """Replay and report each delivery; returns how many failed again."""
        if not chosen:
            self.stdout.write("Nothing to replay.")
            return 0
        results = deliveries_replay(ids=[delivery.pk for delivery in chosen], synchronous=sync)
        for delivery in chosen:
            self.stdout.write(_describe(delivery, results[delivery.pk]))
        self.stdout.write(_summary(results, sync))
        return Counter(results.values())[Status.FAILED]


def _chosen_by_id(ids):
    """The requested deliveries that may be replayed, oldest first, and why the others may not."""
    found = WebhookDelivery.objects.in_bulk(ids)
    chosen, refused = [], []
    for pk in dict.fromkeys(ids):
        reason = _refusal(found.get(pk))
        if reason:
            refused.append(f"#{pk} {reason}")
        else:
            chosen.append(found[pk])
    return sorted(chosen, key=lambda delivery: (delivery.received_at, delivery.pk)), refused


def _refusal(delivery):
    if delivery is None:
        return "does not exist"
    if delivery.status == Status.REJECTED:
        # Refused at the door (bad signature, bad token, not a webhook): it was never accepted.
        reason = delivery.last_error or "no reason kept"
        return f"was rejected at receipt ({reason}); rejected deliveries are never replayed"
    if delivery.status not in WebhookDelivery.REPLAYABLE:
        return f"is already {delivery.status}; there is nothing to replay"
    return ""


def _chosen_by_filter(status, since, limit):
    if status not in WebhookDelivery.REPLAYABLE:
        raise CommandError(f"--status must be one of {', '.join(WebhookDelivery.REPLAYABLE)}.")
    if limit < 1:
        raise CommandError("--limit must be at least 1.")
    deliveries = WebhookDelivery.objects.filter(status=status)
    if since:
        deliveries = deliveries.filter(received_at__gte=since)
    # Oldest first: issue state changes must be applied in the order Sentry sent them.
    return list(deliveries.order_by("received_at", "pk")[:limit])


def _parse_since(value):
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--since {value!r} is not an ISO 8601 date or time, e.g. 2025-06-01T08:00"
        ) from None
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _describe(delivery, result):
    received = timezone.localtime(delivery.received_at)
    line = f"#{delivery.pk} {delivery.resource}.{delivery.action or '?'} received {received:%Y-%m-%d %H:%M}"
    if result == Status.FAILED:
        error = WebhookDelivery.objects.values_list("last_error", flat=True).get(pk=delivery.pk)
        return f"{line}: {delivery.status} → failed: {error.splitlines()[0] if error else '?'}"
    return f"{line}: {delivery.status} → {result or 'skipped (another process already handled it)'}"


def _summary(results, sync):
    if not sync:
        return f"Enqueued {len(results)} deliveries for the worker; their status shows in the admin."
    counts = Counter(str(result or "skipped") for result in results.values())
    breakdown = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    return f"Replayed {len(results)} deliveries: {breakdown}."
