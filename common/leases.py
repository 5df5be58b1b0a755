"""Rows that tasks work on one attempt at a time: an outgoing change, a notification.

The rows carry `state`, `next_attempt_at`, `claimed_until` and `attempts`. Claiming is a
compare-and-set UPDATE: of any number of tasks for one row (retries, a redelivered message,
two beat sweeps), one gets through; a holder that died frees the row when its claim ends.
"""

from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone


def attempt_claim(model, *, pk, pending_state, seconds) -> bool:
    """Take row `pk` for one attempt of at most `seconds`, counting the attempt; False if not due or held."""
    now = timezone.now()
    return (
        model.objects.filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
            pk=pk,
            state=pending_state,
            next_attempt_at__lte=now,
        ).update(claimed_until=now + timedelta(seconds=seconds), attempts=F("attempts") + 1)
        == 1
    )
