"""Sentry webhook bodies → triage facts. Shape problems raise PayloadError (the view answers 400).

The view reads the envelope (parse_envelope); the worker reads the whole delivery (parse_webhook).

Integration Platform: https://docs.sentry.io/integrations/integration-platform/webhooks/
Legacy WebHooks plugin: top-level issue fields plus `event`, no action, no signature.
The event inside `error`, `event_alert` and legacy deliveries: integrations/sentry_events.py.
"""

import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from triage.facts import EventFacts, IssueFacts

from .payload_values import (
    PayloadError,
    as_dict,
    as_int,
    as_str,
    as_text,
    http_url,
    required_dict,
    storable_json,
    timestamp,
)
from .sentry_events import EventKey, event_facts, event_key

LEGACY = "legacy"
EVENT_RESOURCES = {"event_alert": "event", "error": "error"}
ISSUE_ACTIONS = {"created", "resolved", "assigned", "ignored", "archived", "unresolved"}
# Identifiers are stored in bounded columns: printable ASCII only, because PostgreSQL refuses
# NUL and lone surrogates in text, and one that does not fit must be refused here, not at the INSERT.
RESOURCE = re.compile(r"[!-~]{1,50}")
ACTION = re.compile(r"[!-~]{0,50}")
ISSUE_ID = re.compile(r"[!-~]{1,32}")
EVENT_ID = re.compile(r"[!-~]{1,64}")
CATEGORY = re.compile(r"[a-z_]{1,32}")  # Sentry's GroupCategory names, lower case
SENT_AT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")  # Sentry-Hook-Timestamp, as the view accepts it
ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class Webhook:
    resource: str
    action: str
    actor_type: str = ""
    actor_id: str = ""
    actor_name: str = ""
    sent_at: str = ""
    issue: IssueFacts | None = None
    event: EventFacts | EventKey | None = None  # a key only inside parse_envelope

    @property
    def snapshot_at(self):
        """When Sentry took the issue snapshot (or sent the event), as late as we can tell: the order of
        deliveries.

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
            parts = (
                self.resource,
                self.action,
                self.issue.issue_id,
                self.issue.last_seen.isoformat(),
                self.issue.status,
                self.issue.substatus,
                self.issue.assignee,
                self.sent_at,
            )
        else:
            return ""
        return hashlib.sha256(
            "\x1f".join(parts).encode("utf-8", "surrogatepass")
        ).hexdigest()  # any str hashes


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
    return _parse(resource, payload, sent_at, read_event=event_facts)


@dataclass(frozen=True)
class Envelope:
    """What the intake stores beside the body: what finds the issue and dedupes the delivery."""

    resource: str
    action: str
    issue_id: str
    dedupe_key: str


def parse_envelope(resource: str, payload: dict, *, sent_at: str = "") -> Envelope:
    """The view's read of a delivery: refuses what parse_webhook refuses, but leaves an event's details to the
    worker.

    Reading a whole event (its stacks, tags, chain) was a third of what the intake cost per request.
    """
    webhook = _parse(resource, payload, sent_at, read_event=event_key)
    return Envelope(
        resource=webhook.resource,
        action=webhook.action,
        issue_id=webhook.issue_id,
        dedupe_key=webhook.dedupe_key,
    )


def _parse(resource, payload, sent_at, *, read_event):
    if resource == LEGACY:
        webhook = _parse_legacy(payload, read_event)
    else:
        webhook = _parse_integration(resource, payload, sent_at, read_event)
    if webhook.issue_id and not ISSUE_ID.fullmatch(webhook.issue_id):
        raise PayloadError(f"an issue id is 1 to 32 printable ASCII characters, not {webhook.issue_id!r:.50}")
    if webhook.event and not EVENT_ID.fullmatch(event_id := webhook.event.event_id):
        raise PayloadError(f"an event id is 1 to 64 printable ASCII characters, not {event_id!r:.50}")
    return webhook


def _parse_integration(resource, payload, sent_at, read_event):
    if not resource:
        raise PayloadError("missing Sentry-Hook-Resource header")
    if not RESOURCE.fullmatch(resource):
        raise PayloadError(f"malformed Sentry-Hook-Resource header: {resource!r:.60}")
    action, data = payload.get("action"), payload.get("data")
    if not isinstance(action, str) or not isinstance(data, dict):
        raise PayloadError("expected an object with string `action` and object `data`")
    if not ACTION.fullmatch(action):
        raise PayloadError(f"`action` must be at most 50 printable ASCII characters, got {action!r:.60}")
    actor = as_dict(payload.get("actor"))
    common = {
        "resource": resource,
        "action": action,
        "actor_type": as_str(actor.get("type")),
        "actor_id": as_str(actor.get("id")),
        "actor_name": as_str(actor.get("name")),
        "sent_at": sent_at,
    }
    if resource == "issue":
        return Webhook(**common, issue=_issue_facts(data))
    if resource in EVENT_RESOURCES:
        return Webhook(**common, event=read_event(required_dict(data, EVENT_RESOURCES[resource])))
    return Webhook(**common)


def _parse_legacy(payload, read_event):
    event = required_dict(payload, "event")
    issue_id = as_str(payload.get("id")) or as_str(event.get("issue_id"))
    if not issue_id:
        raise PayloadError("legacy payload needs the issue `id`")
    project = as_str(payload.get("project_slug")) or as_str(payload.get("project"))
    defaults = {"issue_id": issue_id, "project_slug": project, "web_url": as_str(payload.get("url"))}
    return Webhook(resource=LEGACY, action="triggered", event=read_event(event, **defaults))


def _issue_facts(data):
    issue = required_dict(data, "issue")
    issue_id = as_str(issue.get("id"))
    if not issue_id:
        raise PayloadError("`data.issue.id` is required")
    project, metadata = as_dict(issue.get("project")), as_dict(issue.get("metadata"))
    first_seen = timestamp(issue.get("firstSeen"), "data.issue.firstSeen")
    last_seen = timestamp(issue.get("lastSeen") or issue.get("firstSeen"), "data.issue.lastSeen")
    status_details = storable_json(as_dict(issue.get("statusDetails")))
    if data.get("resolution_type"):
        status_details["resolution_type"] = as_str(data["resolution_type"])
    assignee, assignee_info = _assignee(issue.get("assignedTo"))
    return IssueFacts(
        issue_id=issue_id,
        short_id=as_str(issue.get("shortId")),
        title=as_text(issue.get("title")) or issue_id,
        culprit=as_text(issue.get("culprit")),
        level=as_str(issue.get("level")) or "error",
        platform=as_str(issue.get("platform")),
        project_slug=as_str(project.get("slug")),
        first_seen=first_seen,
        last_seen=last_seen,
        count=as_int(issue.get("count")),
        user_count=as_int(issue.get("userCount")),
        status=as_str(issue.get("status")),
        substatus=as_str(issue.get("substatus")),
        status_details=status_details,
        assignee=assignee,
        assignee_info=assignee_info,
        web_url=http_url(as_str(data.get("web_url") or issue.get("permalink") or issue.get("web_url"))),
        exception_type=as_text(metadata.get("type")),
        exception_value=as_text(metadata.get("value")),
        as_of=max(last_seen, _latest_activity(issue) or last_seen),
        issue_category=_category(issue.get("issueCategory")),
    )


def _latest_activity(issue):
    """The newest `dateCreated` of the issue's activity (the issue detail endpoint lists it), if any.

    statusDetails holds no time of change (ignoreUntil is when an archive ends, inCommit's date the commit's).
    """
    dates = []
    for entry in issue.get("activity") if isinstance(issue.get("activity"), list) else ():
        with contextlib.suppress(PayloadError):  # an unreadable entry only gives no date
            dates.append(timestamp(as_dict(entry).get("dateCreated"), "activity.dateCreated"))
    return max(dates, default=None)


def _assignee(raw) -> tuple[str, dict]:
    """(as people read it, as Sentry sent it): assignedTo is a user or a team, or null for nobody.

    Sentry names a team by its slug and gives it no email; a team reads "#slug", as in Sentry.
    """
    if not isinstance(raw, dict):
        name = as_str(raw)
        return name, {"type": "user", "id": "", "name": name, "email": ""} if name else {}
    team = as_str(raw.get("type")) == "team"
    info = {
        "type": "team" if team else "user",
        "id": as_str(raw.get("id")),
        "name": as_str(raw.get("name")),
        "email": "" if team else as_str(raw.get("email")),
    }
    if not (info["id"] or info["name"] or info["email"]):
        return "", {}
    shown = f"#{info['name'] or info['id']}" if team else info["email"] or info["name"] or info["id"]
    return shown[:200], info


def _sent_time(sent_at):
    sent_at = (sent_at or "").strip()
    return datetime.fromtimestamp(float(sent_at), tz=UTC) if SENT_AT.fullmatch(sent_at) else None


def _category(value):
    category = as_str(value).lower()
    return category if CATEGORY.fullmatch(category) else "error"
