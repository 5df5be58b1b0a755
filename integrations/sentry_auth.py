"""Is this request from Sentry? HMAC-SHA256 of the raw body, and a rough replay window.

SENTRY_CLIENT_SECRET and SENTRY_LEGACY_TOKEN may each hold two values, comma-separated (new,old), for
the minutes of a rotation: a delivery signed with either is accepted, so none is lost in between.
"""

import hashlib
import hmac
import re
import time

from django.conf import settings

# What Sentry sends: hex digits, and whole seconds (a fraction is tolerated). float() would also
# take "nan", "inf", "1e400", "1_7e9" and non-ASCII digits, and "nan" is inside every window.
SIGNATURE = re.compile(r"[0-9a-f]{64}")
TIMESTAMP = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")


class Unauthorized(Exception):
    """The request is not from our Sentry organization; the message says why."""


def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def configured_values(setting: str) -> list[str]:
    """The secrets a setting holds: one, or during a rotation the new and the old, comma-separated."""
    return [value.strip() for value in getattr(settings, setting).split(",") if value.strip()]


def signing_secret() -> str:
    """What the portal's own tools sign with (send_test_webhook, the demo): the first, newest secret."""
    return next(iter(configured_values("SENTRY_CLIENT_SECRET")), "")


def verify_integration_request(*, body: bytes, signature: str, timestamp: str, now=None):
    secrets = configured_values("SENTRY_CLIENT_SECRET")
    if not secrets:
        raise Unauthorized("SENTRY_CLIENT_SECRET is not configured on the portal")
    if not signature:
        raise Unauthorized("missing Sentry-Hook-Signature header")
    signature = signature.strip().lower()
    if not SIGNATURE.fullmatch(signature):  # compare_digest raises on a str that is not ASCII
        raise Unauthorized("malformed Sentry-Hook-Signature header: expected 64 hex digits")
    if not any(hmac.compare_digest(sign(body, secret), signature) for secret in secrets):
        raise Unauthorized("signature does not match the body")
    _check_timestamp(timestamp, time.time() if now is None else now)


def _check_timestamp(timestamp, now):
    # Sentry does not sign the timestamp, so this only filters old captures replayed later.
    if not isinstance(timestamp, str) or not TIMESTAMP.fullmatch(timestamp.strip()):
        raise Unauthorized("missing or malformed Sentry-Hook-Timestamp header")
    sent = float(timestamp)
    if abs(now - sent) > settings.WEBHOOK_MAX_CLOCK_SKEW_SECONDS:
        raise Unauthorized("Sentry-Hook-Timestamp is more than 5 minutes off: replayed or clock skew")


def verify_legacy_token(token: str):
    tokens = configured_values("SENTRY_LEGACY_TOKEN")
    if not tokens:
        raise Unauthorized("SENTRY_LEGACY_TOKEN is not configured on the portal")
    # Bytes, not str: compare_digest refuses a str that is not ASCII, and a URL may carry any.
    given = token.encode("utf-8", "replace")
    if not any(hmac.compare_digest(given, expected.encode()) for expected in tokens):
        raise Unauthorized("wrong token in the webhook URL")
