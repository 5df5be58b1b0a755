"""Reading single values out of Sentry's JSON: what a stored column or fact may hold.

Shared by the webhook parser (sentry_payloads) and the event parser (sentry_events). PostgreSQL
refuses NUL and lone surrogates in text and jsonb, so every string read here is made storable.
"""

from datetime import UTC, datetime

from common.safe_urls import safe_url
from common.storable import UNSTORABLE

MAX_TEXT = 2000


class PayloadError(ValueError):
    """The body is not a webhook we understand; the message says why."""


def storable(text: str, limit: int | None = None) -> str:
    """`text` (cut to `limit`) as PostgreSQL stores it in text and jsonb, which refuse NUL and lone
    surrogates.

    A real event may carry either (a message read from binary data); each becomes U+FFFD.
    """
    text = text[:limit]
    return text if text.isascii() and "\x00" not in text else UNSTORABLE.sub("\ufffd", text)


def http_url(url):
    """`url` if it is an absolute http(s) URL, else "": what Sentry links to, and all a stored link may be."""
    url = safe_url(url)
    return url if not url.startswith("/") else ""  # safe_url also passes the portal's own paths


def timestamp(value, where):
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise PayloadError(f"`{where}` must be a timestamp, got {value!r:.50}")


def required_dict(parent, key):
    value = parent.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"`{key}` must be an object")
    return value


def as_dict(value):
    return value if isinstance(value, dict) else {}


def as_str(value):
    return storable(str(value), 200) if value is not None and not isinstance(value, dict | list) else ""


def as_text(value, limit=MAX_TEXT):
    return storable(str(value), limit) if value is not None and not isinstance(value, dict | list) else ""


def storable_json(value):
    if isinstance(value, dict):
        return {storable(key): storable_json(child) for key, child in value.items()}
    if isinstance(value, list):
        return [storable_json(child) for child in value]
    return storable(value) if isinstance(value, str) else value


def as_int(value):
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None
