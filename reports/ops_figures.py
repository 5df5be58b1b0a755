"""The week's data-fix figures from ops.DataFixRequest, per service of the request's item (reads only).

Filed: requests created in the week. Closed: requests ops marked done or rejected in the week; their
median turnaround runs from filing to that close. A cancelled request was withdrawn by whoever filed
it, so it is neither closed by ops nor part of ops' turnaround.
"""

from collections import defaultdict

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q

from ops.models import DataFixRequest

from .figures import grouped_medians
from .weeks import Week

OPS_CLOSED = (DataFixRequest.State.DONE, DataFixRequest.State.REJECTED)


def data_fix_week_figures(*, week: Week) -> tuple[dict[int, dict], dict]:
    """({service_id: {"data_fix_requests", "data_fix_closed", "median_ops_turnaround_s"}}, the organization's
    median turnaround in seconds or None)."""
    start, end = week.bounds()
    filed = Q(created_at__gte=start, created_at__lt=end)
    closed = Q(closed_at__gte=start, closed_at__lt=end, state__in=OPS_CLOSED)
    requests = DataFixRequest.objects.filter(filed | closed).order_by()
    figures = defaultdict(lambda: {"data_fix_requests": 0, "data_fix_closed": 0, "median_ops_turnaround_s": None})
    counts = requests.values_list("item__service_id").annotate(filed=Count("pk", filter=filed),
                                                               closed=Count("pk", filter=closed))
    for service_id, n_filed, n_closed in counts:
        figures[service_id].update(data_fix_requests=n_filed, data_fix_closed=n_closed)
    turnaround = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
    per_service, org = grouped_medians(requests, group="item__service_id", durations={"ops": (closed, turnaround)})
    for service_id, medians in per_service.items():
        figures[service_id]["median_ops_turnaround_s"] = medians["ops"]
    return figures, org["ops"]
