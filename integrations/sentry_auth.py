"""Is this request from Sentry? HMAC-SHA256 of the raw body, and a rough replay window."""

import hashlib
import hmac
import time

from django.conf import settings


class Unauthorized(Exception):
    """The request is not from our Sentry organization; the message says why."""


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_integration_request(*, body: bytes, signature: str, timestamp: str, now=None):
    secret = settings.SENTRY_CLIENT_SECRET
    if not secret:
        raise Unauthorized("SENTRY_CLIENT_SECRET is not configured on the portal")
    if not signature:
        raise Unauthorized("missing Sentry-Hook-Signature header")
    if not hmac.compare_digest(sign(body, secret), signature.strip().lower()):
        raise Unauthorized("signature does not match the body")
    _check_timestamp(timestamp, time.time() if now is None else now)


def _check_timestamp(timestamp, now):
    # Sentry does not sign the timestamp, so this only filters old captures replayed later.
    try:
        sent = float(timestamp)
    except (TypeError, ValueError):
        raise Unauthorized("missing or malformed Sentry-Hook-Timestamp header") from None
    if abs(now - sent) > settings.WEBHOOK_MAX_CLOCK_SKEW_SECONDS:
        raise Unauthorized("Sentry-Hook-Timestamp is more than 5 minutes off: replayed or clock skew")


def verify_legacy_token(token: str):
    expected = settings.SENTRY_LEGACY_TOKEN
    if not expected:
        raise Unauthorized("SENTRY_LEGACY_TOKEN is not configured on the portal")
    if not hmac.compare_digest(token.encode(), expected.encode()):
        raise Unauthorized("wrong token in the webhook URL")
