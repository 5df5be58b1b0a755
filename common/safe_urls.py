"""The one check for a link whose address was stored from outside (Sentry permalinks, item links, example
events).

Autoescaping stops a URL from breaking out of its attribute, not `javascript:` from running when clicked:
every href built from stored input goes through `safe_url`, in templates (`{{ url|safe_url }}`), API fields
and the Sentry payload readers alike. It lives here, not with the template filter, so that any app may use it.
"""

from urllib.parse import urlsplit

from rest_framework import serializers

LINK_SCHEMES = ("http", "https")


def safe_url(value) -> str:
    """The URL if it leads to an http(s) page or a path of the portal itself; "" for anything else."""
    url = str(value or "").strip()
    try:
        parts = urlsplit(url)  # drops tabs, newlines and leading control characters, as browsers do
    except ValueError:  # an unbalanced [ in the host
        return ""
    if parts.scheme or parts.netloc:
        return url if parts.scheme in LINK_SCHEMES and parts.netloc else ""
    # "//host" has a netloc above; "/\host" is "//host" to a browser (checked once tabs are dropped).
    return url if parts.path.startswith("/") and not parts.path.startswith("/\\") else ""


class SafeURLField(serializers.URLField):
    """A stored URL answered only when it leads to an http(s) page: a client may put it in an href as it
    is."""

    def to_representation(self, value):
        return safe_url(value)
