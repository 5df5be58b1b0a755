"""Sentry's web API: the calls the portal makes (update one issue, list issues seen in a window, read issues
by id).

Failures are exceptions that say whether trying again later can help:
RetryableError for 429 (with its Retry-After), 5xx and network trouble; PermanentError
for the other 4xx (400, 401, 403, 404, ...) and for answers we cannot read.
API reference: https://docs.sentry.io/api/events/list-an-organizations-issues/
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote

import requests
from django.conf import settings

TIMEOUT = (5, 10)  # seconds to connect, seconds to read
PAGE_SIZE = 100  # Sentry's maximum for the issues list
MAX_IDS = (
    100  # issues read by id in one request: Sentry sets no cap, the URL (~1.7 KB at 100) and its work do
)
_session = (None, None)  # (pid, requests.Session): one session per process, never shared over a fork


class SentryApiError(Exception):
    retryable = False

    def __init__(self, message, *, status=None, retry_after=None):
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


class RetryableError(SentryApiError):
    """Trying again later may work: 429, 5xx, connection refused, timeout."""

    retryable = True


class PermanentError(SentryApiError):
    """Trying again will not help until someone changes something: 4xx, or an unreadable answer."""


@dataclass(frozen=True)
class Page:
    issues: list
    next_cursor: str  # "" on the last page


@dataclass(frozen=True)
class RateLimit:
    """Sentry's X-Sentry-Rate-Limit-* headers: requests left in the window, and when the window starts
    over."""

    remaining: int | None = None
    reset_at: float | None = None  # UTC seconds since the epoch


@dataclass(frozen=True)
class Batch:
    issues: list
    rate_limit: RateLimit


def configured() -> bool:
    return bool(settings.SENTRY_AUTH_TOKEN and settings.SENTRY_ORG_SLUG)


def update_issue(issue_id, change: dict) -> dict:
    """PUT the change (Sentry's issue-update body, e.g. {"status": "resolved"}); returns the issue."""
    response = _request("PUT", f"issues/{quote(str(issue_id), safe='')}/", json=change)
    return _json(response) if response.content else {}


def list_issues(*, start: datetime, end: datetime, cursor: str = "") -> Page:
    """One page of the issues that had events between start and end, in every status.

    `start`/`end` set the window explicitly (without them Sentry applies its default
    period); an empty `query` replaces the default `is:unresolved`, so resolved and
    ignored issues come too; `sort=date` is last seen, newest first.
    """
    params = {
        "project": "-1",
        "query": "",
        "sort": "date",
        "start": _iso(start),
        "end": _iso(end),
        "limit": PAGE_SIZE,
    }
    if cursor:
        params["cursor"] = cursor
    response = _request("GET", "issues/", params=params)
    return Page(issues=_issue_list(response), next_cursor=_next_cursor(response))


def issues_by_ids(issue_ids) -> Batch:
    """The issues with these ids (at most MAX_IDS), in any status and however old; ids Sentry does not know
    are absent.

    The org issues list takes ids as repeated `group` parameters (`id` is read by its PUT and
    DELETE only: a GET ignores it and answers an ordinary search) and then skips the search, its
    dates and paging. `groupStatsPeriod=` (empty) spares Sentry the event graphs.
    """
    if len(issue_ids) > MAX_IDS:
        raise ValueError(f"at most {MAX_IDS} issues a request, not {len(issue_ids)}")
    params = [("project", "-1"), ("query", ""), ("groupStatsPeriod", "")]
    response = _request(
        "GET", "issues/", params=params + [("group", str(issue_id)) for issue_id in issue_ids]
    )
    issues = _issue_list(response)
    strays = {str(issue.get("id")) for issue in issues} - {str(issue_id) for issue_id in issue_ids}
    if strays:  # it searched instead: a missing id would then look like a deleted issue
        raise PermanentError(
            f"Sentry answered issues that were not asked for ({', '.join(sorted(strays)[:5])}): "
            "it did not read the `group` ids",
            status=response.status_code,
        )
    return Batch(issues=issues, rate_limit=_rate_limit(response))


def _issue_list(response) -> list:
    issues = _json(response)
    if not isinstance(issues, list) or not all(isinstance(issue, dict) for issue in issues):
        raise PermanentError(
            f"Sentry's issue list is not a JSON list of issues: {response.text[:200]!r}",
            status=response.status_code,
        )
    return issues


def _request(method, path, **kwargs) -> requests.Response:
    url = f"{settings.SENTRY_API_URL.rstrip('/')}/api/0/organizations/{settings.SENTRY_ORG_SLUG}/{path}"
    headers = {"Authorization": f"Bearer {settings.SENTRY_AUTH_TOKEN}", "Accept": "application/json"}
    try:
        response = _get_session().request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise RetryableError(f"could not reach Sentry at {settings.SENTRY_API_URL}: {exc}") from exc
    except requests.RequestException as exc:  # a malformed SENTRY_API_URL and the like
        raise PermanentError(f"could not call Sentry: {exc}") from exc
    if response.status_code >= 400:
        raise _error(response)
    return response


def _get_session() -> requests.Session:
    global _session
    pid, session = _session
    if pid != os.getpid():
        session = requests.Session()
        session.headers["User-Agent"] = "triage-portal"
        _session = (os.getpid(), session)
    return session


def _error(response) -> SentryApiError:
    status = response.status_code
    detail = _detail(response)
    message = f"Sentry answered {status} {response.reason}" + (f": {detail}" if detail else "")
    if status == 429 or status >= 500:
        retry_after = _retry_after(response)
        if retry_after is None and status == 429:  # no Retry-After: the window's reset says as much
            retry_after = _until_reset(_rate_limit(response))
        return RetryableError(message, status=status, retry_after=retry_after)
    return PermanentError(message, status=status)


def _detail(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200]
    return str(body.get("detail", body) if isinstance(body, dict) else body)[:200]


def _retry_after(response) -> float | None:
    """Retry-After in seconds, given as seconds or as an HTTP date; None when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None


def _rate_limit(response) -> RateLimit:
    return RateLimit(
        remaining=_header_number(response, "X-Sentry-Rate-Limit-Remaining", int),
        reset_at=_header_number(response, "X-Sentry-Rate-Limit-Reset", float),
    )


def _header_number(response, name, kind):
    try:
        return kind(response.headers.get(name, "").strip())
    except ValueError:
        return None


def _until_reset(rate_limit) -> float | None:
    if rate_limit.reset_at is None:
        return None
    return max(rate_limit.reset_at - datetime.now(UTC).timestamp(), 0.0)


def _json(response):
    try:
        return response.json()
    except ValueError:
        raise PermanentError(
            f"Sentry answered {response.status_code} with a body that is not JSON: {response.text[:200]!r}",
            status=response.status_code,
        ) from None


def _next_cursor(response) -> str:
    """Sentry's Link header: `<url>; rel="next"; results="true"; cursor="..."` while there is more."""
    link = response.links.get("next", {})
    return link.get("cursor", "") if link.get("results") == "true" else ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
