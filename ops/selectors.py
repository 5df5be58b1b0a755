"""Reads for the ops pages, the item page, the API and the weekly report; query counts do not grow with
rows."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from common.medians import grouped_medians
from triage.models import TriageItem

from . import permissions
from .models import DataFixEvent, DataFixRequest, Notification

State, Urgency = DataFixRequest.State, DataFixRequest.Urgency
URGENCY_RANK = Case(
    When(urgency=Urgency.HIGH, then=Value(0)),
    When(urgency=Urgency.NORMAL, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
STATE_FILTERS = {
    "open": Q(state__in=DataFixRequest.OPEN_STATES),
    "closed": Q(state__in=DataFixRequest.CLOSED_STATES),
    "all": Q(),
    **{state: Q(state=state) for state in State.values},
}
RELATED = ("item", "item__service", "item__team", "requested_by", "acknowledged_by", "closed_by")
# A cancelled request was withdrawn by whoever filed it: neither closed by ops nor part of ops' turnaround.
OPS_CLOSED = (State.DONE, State.REJECTED)


def requests_visible_to(*, user) -> QuerySet:
    """Every read of a request starts here. Ops and admins see every request; others those they filed and
    those of their teams' items. A request outside this is answered 404, as if it did not exist."""
    requests = DataFixRequest.objects.select_related(*RELATED).defer("item__latest_event", "item__tags")
    if permissions.sees_every_request(user):
        return requests
    if not user.is_authenticated:
        return requests.none()
    return requests.filter(
        Q(requested_by_id=user.pk) | Q(item__team_id__in=permissions.visible_team_ids(user))
    )


def requests_for_queue(*, user, state="open", urgency="", team="") -> QuerySet:
    """The ops queue: most urgent first, then oldest first."""
    requests = requests_visible_to(user=user).filter(STATE_FILTERS.get(state, STATE_FILTERS["open"]))
    if urgency in Urgency.values:
        requests = requests.filter(urgency=urgency)
    if team:
        requests = requests.filter(item__team__slug=team)
    return requests.annotate(urgency_rank=URGENCY_RANK).order_by("urgency_rank", "created_at", "id")


def requests_for_api(*, user, states=()) -> QuerySet:
    requests = requests_visible_to(user=user).order_by("-created_at", "-id")
    return requests.filter(state__in=states) if states else requests


def request_for_page(*, user, request_id) -> DataFixRequest:
    """The request, if `user` may read it; DoesNotExist otherwise."""
    return (
        requests_visible_to(user=user)
        .select_related("runbook", "runbook_version")
        .defer("runbook__search_document", "runbook_version__body")
        .get(pk=request_id)
    )


def request_is_visible(*, user, request_id) -> bool:
    return requests_visible_to(user=user).filter(pk=request_id).exists()


def notification_for_user(*, user, notification_id) -> Notification | None:
    """A notification of a request `user` may read, else None."""
    visible = requests_visible_to(user=user).values("pk")
    return Notification.objects.filter(pk=notification_id, request__in=visible).only("request_id").first()


def request_audit_log(*, request) -> QuerySet:
    return DataFixEvent.objects.filter(request=request).select_related("actor").order_by("created_at", "id")


def request_notifications(*, request) -> QuerySet:
    return Notification.objects.filter(request=request).order_by("created_at", "id")


def requests_for_item(*, user, item, limit=20) -> list:
    """The item's requests that `user` may read (the item page's panel, the API's list)."""
    return list(requests_visible_to(user=user).filter(item=item).order_by("-created_at", "-id")[:limit])


@dataclass(frozen=True)
class Countdown:
    """The SLA as a person reads it: "12m left", "overdue 1h 5m", or nothing once acknowledged."""

    text: str
    overdue: bool


def sla_countdown(request, now=None) -> Countdown | None:
    if request.state != State.REQUESTED:
        return None
    seconds = int((request.due_at - (now or timezone.now())).total_seconds())
    span = _span(abs(seconds))
    return Countdown(f"overdue {span}", True) if seconds < 0 else Countdown(f"{span} left", False)


def _span(seconds) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


# --- The weekly report ------------------------------------------------------------------------------


def items_waiting_on_ops(*, limit) -> QuerySet:
    """Open items with a data-fix request ops have not closed (the queue's "Waiting on ops"), the longest
    waiting first, with their oldest open request's filing time, state and urgency."""
    open_requests = DataFixRequest.objects.filter(state__in=DataFixRequest.OPEN_STATES)
    oldest = open_requests.filter(item_id=OuterRef("pk")).order_by("created_at", "id")
    return (
        TriageItem.objects.filter(status__in=TriageItem.OPEN_STATUSES, pk__in=open_requests.values("item_id"))
        .annotate(
            waiting_since=Subquery(oldest.values("created_at")[:1]),
            request_state=Subquery(oldest.values("state")[:1]),
            request_urgency=Subquery(oldest.values("urgency")[:1]),
        )
        .select_related("service")
        .only("title", "short_id", "event_count", "last_seen", "service__slug")
        .order_by("waiting_since", "-id")[:limit]
    )


def datafix_figures_by_service(*, start, end) -> tuple[dict[int, dict], float | None]:
    """The report's data-fix columns per service of the request's item, {service_id: {"data_fix_requests",
    "data_fix_closed", "median_ops_turnaround_s"}}, and the organization's median turnaround in seconds.

    Filed: created in [start, end). Closed: marked done or rejected by ops then; the turnaround runs from
    filing to that close."""
    filed = Q(created_at__gte=start, created_at__lt=end)
    closed = Q(closed_at__gte=start, closed_at__lt=end, state__in=OPS_CLOSED)
    requests = DataFixRequest.objects.filter(filed | closed).order_by()
    figures = _datafix_counts_by_service(requests, filed=filed, closed=closed)
    turnaround = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    per_service, org = grouped_medians(
        requests, group="item__service_id", durations={"ops": (closed, turnaround)}
    )
    for service_id, medians in per_service.items():
        figures[service_id]["median_ops_turnaround_s"] = medians["ops"]
    return figures, org["ops"]


def _datafix_counts_by_service(requests, *, filed, closed) -> defaultdict:
    figures = defaultdict(
        lambda: {"data_fix_requests": 0, "data_fix_closed": 0, "median_ops_turnaround_s": None}
    )
    counts = requests.values_list("item__service_id").annotate(
        filed=Count("pk", filter=filed), closed=Count("pk", filter=closed)
    )
    for service_id, n_filed, n_closed in counts:
        figures[service_id].update(data_fix_requests=n_filed, data_fix_closed=n_closed)
    return figures
