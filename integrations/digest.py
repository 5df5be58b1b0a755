"""Delivers the morning digests triage composes: by email to the team, and to its Slack channel.

One channel failing does not keep the other from going out. A failed channel is logged and
not retried: tomorrow's digest carries whatever is still open.
"""

import logging

from django.utils import timezone

from triage.digest import Digest, digests_claim

from .notifiers import EmailNotifier, Message, NotifierError, SlackNotifier

log = logging.getLogger(__name__)


def digests_deliver(*, now=None) -> int:
    """Send today's digests; returns how many teams got theirs through at least one channel."""
    return sum(_deliver(digest) for digest in digests_claim(now=now or timezone.now()))


def _deliver(digest: Digest) -> bool:
    message = Message(key=digest.key, subject=digest.subject, text=digest.text)
    channels = [EmailNotifier(digest.emails)] if digest.emails else []
    if digest.slack_webhook_url:
        channels.append(SlackNotifier(digest.slack_webhook_url))
    return sum(_send(channel, message) for channel in channels) > 0


def _send(channel, message) -> bool:
    try:
        channel.send(message)
    except NotifierError as exc:
        log.warning("Morning digest %s not sent by %s: %s", message.key, type(channel).__name__, exc)
        return False
    except Exception:  # noqa: BLE001 -- e.g. an address the mailer refuses: the other channel still goes out
        log.exception("Morning digest %s not sent by %s", message.key, type(channel).__name__)
        return False
    return True
