"""Transports for outgoing notifications: a Slack incoming webhook, a signed JSON webhook, email.

Each takes a `Message` and either delivers it or raises NotifierError, whose `retryable` says
whether trying again later can help (5xx, 429, network trouble) or not (another 4xx, a refused
address). They know nothing of what the message is about; callers decide what to say and when.
"""

import hashlib
import hmac
import json
import re
import smtplib
from dataclasses import dataclass, field

import requests
from django.core.mail import EmailMessage

from common.redaction import redact

SIGNATURE_HEADER = "X-Triage-Signature"
KEY_HEADER = "X-Triage-Notification"  # the same key on every try: receivers may drop a repeat
ERROR_BODY_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


class NotifierError(Exception):
    """Its message is redacted: a webhook's URL is its secret, and the message is stored, shown and logged."""

    def __init__(self, message, *, retryable):
        super().__init__(redact(message))
        self.retryable = retryable


@dataclass(frozen=True)
class Message:
    key: str  # unique per notification, stable over retries
    subject: str
    text: str  # plain text: the email body, Slack's fallback text
    payload: dict = field(default_factory=dict)  # the JSON webhook's body
    blocks: list = field(default_factory=list)  # Slack Block Kit, optional


def header_text(text: str) -> str:
    """One line for a mail header: a CR/LF (or any control character) in an item's title would make the
    mail library refuse the whole message, so each run of them becomes one space."""
    return _CONTROL.sub(" ", text)


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: sha256=<hex HMAC-SHA256 of the exact body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def slack_escape(text: str) -> str:
    """Slack reads &, < and > as markup: escape them in text people wrote."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _post(url, body: bytes, headers: dict, timeout: float):
    try:
        response = requests.post(
            url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=timeout
        )
    except requests.RequestException as exc:
        raise NotifierError(
            f"could not reach {url}: {exc.__class__.__name__}: {exc}", retryable=True
        ) from exc
    if response.status_code >= 300:
        retryable = response.status_code >= 500 or response.status_code in (408, 429)
        raise NotifierError(
            f"{url} answered HTTP {response.status_code}: {response.text[:ERROR_BODY_CHARS]}",
            retryable=retryable,
        )


class SlackNotifier:
    """Slack's incoming webhooks (and the compatible ones of Mattermost, Rocket.Chat, Discord's /slack)."""

    def __init__(self, url, *, timeout=10.0):
        self.url, self.timeout = url, timeout

    def send(self, message: Message):
        body = {"text": slack_escape(message.text), **({"blocks": message.blocks} if message.blocks else {})}
        _post(self.url, json.dumps(body).encode(), {KEY_HEADER: message.key}, self.timeout)


class SignedWebhookNotifier:
    """A JSON POST signed with HMAC-SHA256 in X-Triage-Signature, for on-call tools and scripts."""

    def __init__(self, url, *, secret, timeout=10.0):
        self.url, self.secret, self.timeout = url, secret, timeout

    def send(self, message: Message):
        body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True).encode()
        headers = {KEY_HEADER: message.key, SIGNATURE_HEADER: sign(body, self.secret)}
        _post(self.url, body, headers, self.timeout)


class EmailNotifier:
    """Django's email backend, to the given addresses."""

    def __init__(self, recipients):
        self.recipients = list(recipients)

    def send(self, message: Message):
        if not self.recipients:
            raise NotifierError("no recipients with an email address", retryable=False)
        email = EmailMessage(
            header_text(message.subject), message.text, to=self.recipients, headers={KEY_HEADER: message.key}
        )
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as exc:
            raise NotifierError(
                f"the mail server refused {', '.join(exc.recipients)}", retryable=False
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifierError(
                f"could not send mail: {exc.__class__.__name__}: {exc}", retryable=True
            ) from exc
