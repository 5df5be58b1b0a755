"""Reads for the ops pages, the item page and the API; query counts do not grow with rows."""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from . import permissions
from .models import DataFixEvent, DataFixRequest, Notification

State, Urgency = DataFixRequest.State, DataFixRequest.Urgency
URGENCY_RANK = Case(When(urgency=Urgency.HIGH, then=Value(0)), When(urgency=Urgency.NORMAL, then=Value(1)),
                    default=Value(2), output_field=IntegerField())
STATE_FILTERS = {"open": Q(state__in=DataFixRequest.OPEN_STATES), "closed": Q(state__in=DataFixRequest.CLOSED_STATES),
                 "all": Q(), **{state: Q(state=state) for state in State.values}}
RELATED = ("item", "item__service", "item__team", "requested_by", "acknowledged_by", "closed_by")


def requests_visible_to(*, user) -> QuerySet:
    """Every read of a request starts here. Ops and admins see every request; others those they filed and
    those of their teams' items. A request outside this is answered 404, as if it did not exist."""
    requests = DataFixRequest.objects.select_related(*RELATED).defer("item__latest_event", "item__tags")
    if permissions.sees_every_request(user):
        return requests
    if not user.is_authenticated:
        return requests.none()
    return requests.filter(Q(requested_by_id=user.pk) | Q(item__team_id__in=permissions.visible_team_ids(user)))


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
    return (requests_visible_to(user=user).select_related("runbook", "runbook_version")
            .defer("runbook__search_document", "runbook_version__body").get(pk=request_id))


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
