"""Events for the grouping advisor's tests: real Sentry sample payloads through the real intake."""

import itertools
from datetime import UTC, datetime, timedelta

from integrations.models import WebhookDelivery
from integrations.services import delivery_process
from tests.helpers import event_payload, post_webhook
from triage.models import Occurrence, TriageItem

_ids = itertools.count(1)


def chain(inner_type, inner_value, outer_type="RequestFailed", outer_value="request failed"):
    """An exception chain as Sentry sends it: the innermost first, the outermost last."""
    return {
        "values": [
            {
                "type": inner_type,
                "value": inner_value,
                "stacktrace": {
                    "frames": [{"filename": "app/db.py", "function": "query", "lineno": 10, "in_app": True}]
                },
            },
            {
                "type": outer_type,
                "value": outer_value,
                "stacktrace": {
                    "frames": [
                        {"filename": "app/views.py", "function": "handle", "lineno": 3, "in_app": True}
                    ]
                },
            },
        ]
    }


def send_events(client, *, issue_id, service, inner_type, value, count, hours_ago=1, **event):
    """`count` signed `event_alert` webhooks for one Sentry issue, processed as the worker would."""
    at = datetime.now(UTC) - timedelta(hours=hours_ago)
    for n in range(count):
        value_n = value.format(n=n, id=f"{next(_ids):08x}-7425-40de-944b-e07dc4f1d8b0")
        payload = event_payload(
            f"ev-{next(_ids)}",
            issue_id=issue_id,
            exception=chain(inner_type, value_n),
            tags=[["service", service], ["level", "error"]],
            timestamp=(at + timedelta(seconds=n)).isoformat(),
            **event,
        )
        assert post_webhook(client, "event_alert", payload).status_code == 202
    process_pending()


def split_issue(client, issue_id) -> TriageItem:
    """One Sentry issue hiding four errors (two services × two inner exceptions), with its suggestion
    computed."""
    from grouping.services import suggestions_recompute

    for service in ("checkout-api", "billing-worker"):
        for inner in ("KeyError", "TimeoutError"):
            send_events(
                client, issue_id=issue_id, service=service, inner_type=inner, value="'sku-{n}'", count=5
            )
    suggestions_recompute(full=True)
    return item_of(issue_id)


def process_pending():
    for pk in WebhookDelivery.objects.filter(status="pending").order_by("pk").values_list("pk", flat=True):
        delivery_process(delivery_id=pk)


def bulk_occurrences(item, *, service, exception_type, template, count, at=None):
    """Many occurrences at once, for volume (the columns as intake would compute them)."""
    at = at or datetime.now(UTC) - timedelta(hours=2)
    Occurrence.objects.bulk_create(
        Occurrence(
            event_id=f"bulk-{next(_ids)}",
            item=item,
            timestamp=at,
            service_key=service,
            inner_exception_type=exception_type,
            exception_type=exception_type,
            message_template=template,
            exception_value=template,
        )
        for _ in range(count)
    )


def item_of(issue_id) -> TriageItem:
    return TriageItem.objects.get(sentry_issue_id=issue_id)
