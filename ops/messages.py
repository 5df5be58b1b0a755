"""What a notification says, per channel: Slack text and blocks, the webhook's JSON, the email."""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from common.notifiers import Message, slack_escape

from .recipients import CHAIN

HEADLINES = {
    "created": _("Data fix requested"),
    "acknowledged": _("Data fix acknowledged"),
    "done": _("Data fix done"),
    "rejected": _("Data fix rejected"),
    "cancelled": _("Data fix cancelled"),
}
RESULT, REASON, ITEM_LINE = _("Result: %(text)s"), _("Reason: %(text)s"), _("Item: %(label)s")
ESCALATION_HEADLINES = {
    "ops": _("Data fix not acknowledged in time"),
    "contact": _("Data fix still not acknowledged: escalated to the escalation contact"),
    "admins": _("Data fix still not acknowledged: escalated to the admins"),
}


def message_for(notification) -> Message:
    request, item = notification.request, notification.request.item
    url = settings.PORTAL_BASE_URL + request.get_absolute_url()
    headline = f"{_headline(notification)} #{request.pk} ({request.get_urgency_display().lower()})"
    label = f"{item.short_id or item.sentry_issue_id}: {item.title}"
    outcome = f"\n{_outcome(request)}" if request.result else ""
    text = f"{headline}\n{ITEM_LINE % {'label': label}}\n\n{request.description}{outcome}\n\n{url}"
    return Message(
        key=notification.key,
        subject=f"[Triage] {headline}: {label}"[:200],
        text=text,
        payload=webhook_payload(notification, url),
        blocks=_slack_blocks(headline, label, request, url),
    )


def _outcome(request) -> str:
    return (RESULT if request.state == "done" else REASON) % {"text": request.result}


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
