"""The escalation scan (beat, every minute): requests not acknowledged in time move up the chain.

Level N fires once, N SLA periods after the request was filed: 1 tells ops again, 2 the escalation
contact, 3 the admins. The due rows are locked with SKIP LOCKED, so two scans at once take
different rows; the level is raised in the same transaction as the notifications are planned, and
the notifications' unique keys stop any repeat. A fixed number of queries, whatever the backlog.
"""

from django.db import transaction
from django.utils import timezone

from .models import DataFixEvent, DataFixRequest
from .notify import notifications_plan
from .recipients import CHAIN, LAST_LEVEL
from .sla import sla_deadline

BATCH = 500  # per scan; a bigger backlog is taken by the next minute's scans
SCAN_FIELDS = (
    "id",
    "urgency",
    "created_at",
    "escalation_level",
    "next_escalation_at",
    "state",
    "description",
    "requested_by",
    "item__id",
    "item__team",
)


@transaction.atomic
def escalation_scan(*, now=None) -> int:
    """Escalate the requests whose next level is due; returns how many moved up."""
    now = now or timezone.now()
    due = list(
        DataFixRequest.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(state=DataFixRequest.State.REQUESTED, next_escalation_at__lte=now)
        .select_related("item")
        .only(*SCAN_FIELDS)
        .order_by("next_escalation_at")[:BATCH]
    )
    if not due:
        return 0
    for request in due:
        _raise_level(request)
    DataFixRequest.objects.bulk_update(due, ["escalation_level", "next_escalation_at"])
    DataFixEvent.objects.bulk_create(
        [
            DataFixEvent(
                request=request,
                verb="escalated",
                data={"level": request.escalation_level, "to": CHAIN[request.escalation_level]},
            )
            for request in due
        ]
    )
    notifications_plan(
        requests=due,
        event="escalated",
        levels={index: request.escalation_level for index, request in enumerate(due)},
    )
    return len(due)


def _raise_level(request):
    request.escalation_level += 1
    following = request.escalation_level + 1
    request.next_escalation_at = (
        sla_deadline(urgency=request.urgency, start=request.created_at, multiple=following)
        if request.escalation_level < LAST_LEVEL
        else None
    )
