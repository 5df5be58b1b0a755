"""Sentry webhook bodies → triage facts. Shape problems raise PayloadError (the view answers 400).

Integration Platform: https://docs.sentry.io/integrations/integration-platform/webhooks/
Legacy WebHooks plugin: top-level issue fields plus `event`, no action, no signature.
The event inside `error`, `event_alert` and legacy deliveries: integrations/sentry_events.py.
"""

import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from config.storable import UNSTORABLE
from triage.facts import EventFacts, IssueFacts
from triage.templatetags.safe_urls import safe_url

LEGACY = "legacy"
EVENT_RESOURCES = {"event_alert": "event", "error": "error"}
ISSUE_ACTIONS = {"created", "resolved", "assigned", "ignored", "archived", "unresolved"}
MAX_TEXT = 2000
# Identifiers are stored in bounded columns: printable ASCII only, because PostgreSQL refuses
# NUL and lone surrogates in text, and one that does not fit must be refused here, not at the INSERT.
RESOURCE = re.compile(r"[!-~]{1,50}")
ACTION = re.compile(r"[!-~]{0,50}")
ISSUE_ID = re.compile(r"[!-~]{1,32}")
EVENT_ID = re.compile(r"[!-~]{1,64}")
CATEGORY = re.compile(r"[a-z_]{1,32}")  # Sentry's GroupCategory names, lower case
SENT_AT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")  # Sentry-Hook-Timestamp, as the view accepts it
ONE_SECOND = timedelta(seconds=1)


class PayloadError(ValueError):
    """The body is not a webhook we understand; the message says why."""


@dataclass(frozen=True)
class Webhook:
    resource: str
    action: str
    actor_type: str = ""
    actor_id: str = ""
    actor_name: str = ""
    sent_at: str = ""
    issue: IssueFacts | None = None
    event: EventFacts | None = None

    @property
    def snapshot_at(self):
        """When Sentry took the issue snapshot (or sent the event), as late as we can tell: the order of deliveries.

        A webhook's Sentry-Hook-Timestamp is its send time in whole seconds; the issue's lastSeen or
        latest activity only refines it within that second (a skewed client clock moves it no further).
        A reconciled or swept issue has no send time: it was read from Sentry's API just before it is
        applied, so it is as of now. (The actor says nothing here: for a change made through any Sentry
        app, Sentry names the app receiving the webhook, so echoes are told by what we pushed.)
        """
        sent = _sent_time(self.sent_at)
        if sent is None:
            return datetime.now(UTC)
        as_of = self.issue.as_of if self.issue else None
        return max(sent, min(as_of, sent + ONE_SECOND)) if as_of else sent

    @property
    def actor_label(self):
        return f"{self.actor_name} (Sentry)" if self.actor_type == "user" and self.actor_name else "Sentry"

    @property
    def issue_id(self):
        return (self.issue or self.event).issue_id if (self.issue or self.event) else ""

    @property
    def dedupe_key(self):
        """Same content ⇒ same key, however many times or ways Sentry sends it.

        An event is the same event through any resource. An issue change also keys on
        the send time, because resolve → unresolve → resolve with no event between
        repeats the content; applying a state twice is harmless, skipping one is not.
        """
        if self.event:
            parts = ("event", self.event.event_id)
        elif self.issue:
            parts = (self.resource, self.action, self.issue.issue_id, self.issue.last_seen.isoformat(),
                     self.issue.status, self.issue.substatus, self.issue.assignee, self.sent_at)
        else:
            return ""
        return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()  # any str hashes


def storable(text: str, limit: int | None = None) -> str:
    """`text` (cut to `limit`) as PostgreSQL stores it in text and jsonb, which refuse NUL and lone surrogates.

    A real event may carry either (a message read from binary data); each becomes U+FFFD.
    """
    text = text[:limit]
    return text if text.isascii() and "\x00" not in text else UNSTORABLE.sub("\ufffd", text)


def parse_body(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise PayloadError("body is nested too deeply to be a webhook") from None
    if not isinstance(payload, dict):
        raise PayloadError("body must be a JSON object")
    return payload


def parse_webhook(resource: str, payload: dict, *, sent_at: str = "") -> Webhook:
    webhook = _parse_legacy(payload) if resource == LEGACY else _parse_integration(resource, payload, sent_at)
    if webhook.issue_id and not ISSUE_ID.fullmatch(webhook.issue_id):
        raise PayloadError(f"an issue id is 1 to 32 printable ASCII characters, not {webhook.issue_id!r:.50}")
    if webhook.event and not EVENT_ID.fullmatch(event_id := webhook.event.event_id):
        raise PayloadError(f"an event id is 1 to 64 printable ASCII characters, not {event_id!r:.50}")
    return webhook


def _parse_integration(resource, payload, sent_at):
    if not resource:
        raise PayloadError("missing Sentry-Hook-Resource header")
    if not RESOURCE.fullmatch(resource):
        raise PayloadError(f"malformed Sentry-Hook-Resource header: {resource!r:.60}")
    action, data = payload.get("action"), payload.get("data")
    if not isinstance(action, str) or not isinstance(data, dict):
        raise PayloadError("expected an object with string `action` and object `data`")
    if not ACTION.fullmatch(action):
        raise PayloadError(f"`action` must be at most 50 printable ASCII characters, got {action!r:.60}")
    actor = _dict(payload.get("actor"))
    common = dict(resource=resource, action=action, actor_type=_str(actor.get("type")),
                  actor_id=_str(actor.get("id")), actor_name=_str(actor.get("name")), sent_at=sent_at)
    if resource == "issue":
        return Webhook(**common, issue=_issue_with_category(data))
    if resource in EVENT_RESOURCES:
        return Webhook(**common, event=_event_facts(_required_dict(data, EVENT_RESOURCES[resource])))
    return Webhook(**common)


def _issue_with_category(data):
    """The issue's facts with its category, and its link only if it is http(s) (as for an event's)."""
    facts = _issue_facts(data)
    category = _category(_dict(data.get("issue")).get("issueCategory"))
    return replace(facts, issue_category=category, web_url=_http_url(facts.web_url))


def _event_facts(event, **defaults):
    from .sentry_events import event_facts  # sentry_events reads values with this module's readers

    return event_facts(event, **defaults)


def _parse_legacy(payload):
    event = _required_dict(payload, "event")
    issue_id = _str(payload.get("id")) or _str(event.get("issue_id"))
    if not issue_id:
        raise PayloadError("legacy payload needs the issue `id`")
    project = _str(payload.get("project_slug")) or _str(payload.get("project"))
    defaults = {"issue_id": issue_id, "project_slug": project, "web_url": _str(payload.get("url"))}
    return Webhook(resource=LEGACY, action="triggered", event=_event_facts(event, **defaults))


def _issue_facts(data):
    issue = _required_dict(data, "issue")
    issue_id = _str(issue.get("id"))
    if not issue_id:
        raise PayloadError("`data.issue.id` is required")
    project, metadata = _dict(issue.get("project")), _dict(issue.get("metadata"))
    first_seen = _timestamp(issue.get("firstSeen"), "data.issue.firstSeen")
    last_seen = _timestamp(issue.get("lastSeen") or issue.get("firstSeen"), "data.issue.lastSeen")
    status_details = _storable_json(_dict(issue.get("statusDetails")))
    if data.get("resolution_type"):
        status_details["resolution_type"] = _str(data["resolution_type"])
    assignee, assignee_info = _assignee(issue.get("assignedTo"))
    return IssueFacts(
        issue_id=issue_id,
        short_id=_str(issue.get("shortId")),
        title=_text(issue.get("title")) or issue_id,
        culprit=_text(issue.get("culprit")),
        level=_str(issue.get("level")) or "error",
        platform=_str(issue.get("platform")),
        project_slug=_str(project.get("slug")),
        first_seen=first_seen,
        last_seen=last_seen,
        count=_int(issue.get("count")),
        user_count=_int(issue.get("userCount")),
        status=_str(issue.get("status")),
        substatus=_str(issue.get("substatus")),
        status_details=status_details,
        assignee=assignee,
        assignee_info=assignee_info,
        web_url=_str(data.get("web_url") or issue.get("permalink") or issue.get("web_url")),
        exception_type=_text(metadata.get("type")),
        exception_value=_text(metadata.get("value")),
        as_of=max(last_seen, _latest_activity(issue) or last_seen),
    )


def _latest_activity(issue):
    """The newest `dateCreated` of the issue's activity (the issue detail endpoint lists it), if any.

    statusDetails holds no time of change (ignoreUntil is when an archive ends, inCommit's date the commit's).
    """
    dates = []
    for entry in issue.get("activity") if isinstance(issue.get("activity"), list) else ():
        try:
            dates.append(_timestamp(_dict(entry).get("dateCreated"), "activity.dateCreated"))
        except PayloadError:
            pass  # an unreadable entry only gives no date
    return max(dates, default=None)


def _assignee(raw) -> tuple[str, dict]:
    """(as people read it, as Sentry sent it): assignedTo is a user or a team, or null for nobody.

    Sentry names a team by its slug and gives it no email; a team reads "#slug", as in Sentry.
    """
    if not isinstance(raw, dict):
        name = _str(raw)
        return name, {"type": "user", "id": "", "name": name, "email": ""} if name else {}
    team = _str(raw.get("type")) == "team"
    info = {"type": "team" if team else "user", "id": _str(raw.get("id")), "name": _str(raw.get("name")),
            "email": "" if team else _str(raw.get("email"))}
    if not (info["id"] or info["name"] or info["email"]):
        return "", {}
    shown = f"#{info['name'] or info['id']}" if team else info["email"] or info["name"] or info["id"]
    return shown[:200], info


def _sent_time(sent_at):
    sent_at = (sent_at or "").strip()
    return datetime.fromtimestamp(float(sent_at), tz=UTC) if SENT_AT.fullmatch(sent_at) else None


def _http_url(url):
    """`url` if it is an absolute http(s) URL, else "": what Sentry links to, and all a stored link may be."""
    url = safe_url(url)
    return url if not url.startswith("/") else ""  # safe_url also passes the portal's own paths


def _category(value):
    category = _str(value).lower()
    return category if CATEGORY.fullmatch(category) else "error"


def _timestamp(value, where):
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, tz=UTC)
        if isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise PayloadError(f"`{where}` must be a timestamp, got {value!r:.50}")


def _required_dict(parent, key):
    value = parent.get(key)
    if not isinstance(value, dict):
        raise PayloadError(f"`{key}` must be an object")
    return value


def _dict(value):
    return value if isinstance(value, dict) else {}


def _str(value):
    return storable(str(value), 200) if value is not None and not isinstance(value, dict | list) else ""


def _text(value, limit=MAX_TEXT):
    return storable(str(value), limit) if value is not None and not isinstance(value, dict | list) else ""


def _storable_json(value):
    if isinstance(value, dict):
        return {storable(key): _storable_json(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_storable_json(child) for child in value]
    return storable(value) if isinstance(value, str) else value


def _int(value):
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0


def _int_or_none(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None
