"""Is this request from Sentry? HMAC-SHA256 of the raw body, and a rough replay window."""

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


def verify_integration_request(*, body: bytes, signature: str, timestamp: str, now=None):
    secret = settings.SENTRY_CLIENT_SECRET
    if not secret:
        raise Unauthorized("SENTRY_CLIENT_SECRET is not configured on the portal")
    if not signature:
        raise Unauthorized("missing Sentry-Hook-Signature header")
    signature = signature.strip().lower()
    if not SIGNATURE.fullmatch(signature):  # compare_digest raises on a str that is not ASCII
        raise Unauthorized("malformed Sentry-Hook-Signature header: expected 64 hex digits")
    if not hmac.compare_digest(sign(body, secret), signature):
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
    expected = settings.SENTRY_LEGACY_TOKEN
    if not expected:
        raise Unauthorized("SENTRY_LEGACY_TOKEN is not configured on the portal")
    # Bytes, not str: compare_digest refuses a str that is not ASCII, and a URL may carry any.
    if not hmac.compare_digest(token.encode("utf-8", "replace"), expected.encode()):
        raise Unauthorized("wrong token in the webhook URL")
