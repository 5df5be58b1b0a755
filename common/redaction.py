"""Take secrets out of text before it is stored, shown or logged: `redact(text) -> str`.

A webhook's secret is its URL (Slack's is /services/T…/B…/…), and `requests` repeats the URL in
its errors, so a full URL keeps only its scheme and host: errors still say which server failed.
Relative paths are logged on purpose (the access log), so only their known secrets go: the legacy
webhook's token segment and the values of token-like query parameters. Credentials in headers
(Bearer, Token, Basic, Authorization) and `name=value` pairs whose name says secret go too.
Applying it twice changes nothing.
"""

import re

MARK = "[redacted]"
_END = r"""\s"'<>`"""  # what ends a URL or a value in prose, logs and reprs

# scheme://[user:password@]host[:port] then the path, query and fragment, never ending on punctuation.
_FULL_URL = re.compile(
    rf"\b([a-z][a-z0-9+.-]*://)(?:[^{_END}/@]*@)?([^{_END}/?#@]+)"
    rf"((?:[/?#][^{_END}]*[^{_END}.,;:!?)}}])?)",
    re.IGNORECASE,
)
# urllib3's "Max retries exceeded with url: /services/T000/B000/XXXX (Caused by ...)": the host is named
# apart.
_POOL_URL = re.compile(rf"(\burl: )/[^{_END}]*")
# urllib3's debug line: https://hooks.slack.com:443 "POST /services/T000/B000/XXXX HTTP/1.1" 200 2
_POOL_REQUEST_LINE = re.compile(r'(://[^\s"/]+ "[A-Z]+ )/[^\s"]*')
# The portal's own secret path (integrations/urls.py): /integrations/sentry/legacy/<token>/
_LEGACY_TOKEN = re.compile(rf"(/sentry/legacy/)[^{_END}/?#]+")
_SECRET_NAME = r"[\w.-]*(?:token|secret|passw(?:or)?d|api[_-]?key|signature|sentry_key|credential)[\w.-]*"
# name=value, as in a query string or an environment dump: ?token=…, SENTRY_AUTH_TOKEN=…
_SECRET_PAIR = re.compile(rf"\b({_SECRET_NAME}=)[^{_END}&;,)]+", re.IGNORECASE)
# 'token': '…' and "token": "…", as in a repr or a JSON error body
_SECRET_ITEM = re.compile(rf"""(["']{_SECRET_NAME}["']\s*:\s*["'])[^"']+""", re.IGNORECASE)
# Credential headers, as a header line or a dict's item: Authorization: …, 'Cookie': '…', X-Api-Key: …
_CREDENTIAL_HEADER = re.compile(
    r"""(\b(?:(?:Proxy-)?Authorization|Cookie|X-[\w-]*(?:Token|Key|Secret))["']?\s*[:=]\s*["']?)"""
    r"""[^"'\r\n,}]+""",
    re.IGNORECASE,
)
_SCHEME_CREDENTIAL = re.compile(r"\b((?:[Bb]earer|Basic)\s+)[A-Za-z0-9._~+/=-]{8,}")
# DRF's "Token <key>": the word is also prose ("Token expired"), so only a key-like value (a digit, 16+
# chars).
_DRF_TOKEN = re.compile(r"\b(Token\s+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{16,}")


def redact(text) -> str:
    """`text` (anything: an exception, a message) as a string without the secrets it may carry."""
    text = _FULL_URL.sub(_keep_origin, str(text))
    text = _POOL_URL.sub(rf"\1/{MARK}", text)
    text = _POOL_REQUEST_LINE.sub(rf"\1/{MARK}", text)
    text = _LEGACY_TOKEN.sub(rf"\1{MARK}", text)
    for pattern in (_SECRET_PAIR, _SECRET_ITEM, _CREDENTIAL_HEADER, _SCHEME_CREDENTIAL, _DRF_TOKEN):
        text = pattern.sub(rf"\1{MARK}", text)
    return text


def _keep_origin(match) -> str:
    scheme, host, rest = match.groups()
    return f"{scheme}{host}/{MARK}" if rest.strip("/") else f"{scheme}{host}{rest}"
