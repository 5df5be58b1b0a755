"""What a notification says, per channel: Slack text and blocks, the webhook's JSON, the email."""

from django.conf import settings

from common.notifiers import Message, slack_escape

from .recipients import CHAIN

HEADLINES = {
    "created": "Data fix requested",
    "acknowledged": "Data fix acknowledged",
    "done": "Data fix done",
    "rejected": "Data fix rejected",
    "cancelled": "Data fix cancelled",
}
ESCALATION_HEADLINES = {
    "ops": "Data fix not acknowledged in time",
    "contact": "Data fix still not acknowledged: escalated to the escalation contact",
    "admins": "Data fix still not acknowledged: escalated to the admins",
}


def message_for(notification) -> Message:
    request, item = notification.request, notification.request.item
    url = settings.PORTAL_BASE_URL + request.get_absolute_url()
    headline = f"{_headline(notification)} #{request.pk} ({request.urgency})"
    label = f"{item.short_id or item.sentry_issue_id}: {item.title}"
    outcome = (
        f"\n{'Result' if request.state == 'done' else 'Reason'}: {request.result}" if request.result else ""
    )
    text = f"{headline}\nItem: {label}\n\n{request.description}{outcome}\n\n{url}"
    return Message(
        key=notification.key,
        subject=f"[Triage] {headline}: {label}"[:200],
        text=text,
        payload=webhook_payload(notification, url),
        blocks=_slack_blocks(headline, label, request, url),
    )


def _headline(notification) -> str:
    if notification.event == "escalated":
        return ESCALATION_HEADLINES[CHAIN[notification.level]]
    return HEADLINES[notification.event]


def _slack_blocks(headline, label, request, url) -> list:
    line = f"*{slack_escape(headline)}* for <{url}|{slack_escape(label)}>"
    return [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"{line}\n{slack_escape(request.description[:500])}"},
        }
    ]


def webhook_payload(notification, url) -> dict:
    request, item = notification.request, notification.request.item
    return {
        "event": f"data_fix.{notification.event}",
        "escalation_level": notification.level,
        "request": {
            "id": request.pk,
            "url": url,
            "state": request.state,
            "urgency": request.urgency,
            "description": request.description,
            "environment": request.environment,
            "customer": request.customer,
            "tenant": request.tenant,
            "parameters": request.parameters,
            "result": request.result,
            "requested_by": request.requested_by.get_username() if request.requested_by else None,
            "created_at": request.created_at.isoformat(),
            "due_at": request.due_at.isoformat(),
        },
        "item": {
            "id": item.pk,
            "url": settings.PORTAL_BASE_URL + item.get_absolute_url(),
            "title": item.title,
            "short_id": item.short_id,
            "sentry_issue_id": item.sentry_issue_id,
            "service": item.service.slug,
            "sentry_url": item.sentry_url,
        },
    }
