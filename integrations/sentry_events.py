"""Sentry event bodies → EventFacts: `data.error`, `data.event` and the legacy plugin's `event`.

Sentry sends a stored event as its webhook serializer builds it (GroupEvent.as_dict, then `url`, `web_url`,
`issue_url`, `issue_id`; an issue-platform event also carries its `occurrence`). What the item shows follows
Sentry's own rules:

- The stack. An exception's own `stacktrace` (its `raw_stacktrace`, unsymbolicated, only without one); else
  the stack of the thread it names by `thread_id`, else of the one thread Sentry's grouping picks: the crashed
  one, else the current one, else the only one. Native, Cocoa and Ruby SDKs put the crashing stack on that
  thread. An event with no exception (a message captured with a stack) gets its top-level `stacktrace`, else
  that thread's.
- The category: an issue-platform occurrence's `type` (a GroupType id) names it, else the event type; else
  "error".
- The title: the occurrence's `issueTitle` (a performance issue's event is a transaction titled by its route).
- The culprit: the occurrence's, else the event's, else the one Sentry derives from the stack (culprit.py),
  which Sentry never derives from a thread.

Single values are read with integrations/payload_values.py, as the webhook parser reads them.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from triage.facts import EventFacts, ExceptionFacts, Frame

from .payload_values import PayloadError, as_dict, as_str, as_text, http_url, int_or_none, timestamp

MAX_FRAMES = 60
MAX_FINGERPRINT_PARTS = 10
PROJECT_IN_API_URL = re.compile(r"/api/0/projects/[^/]+/(?P<project>[^/]+)/events/")
EVENT_IN_WEB_URL = re.compile(r"/events/[^/]+/?$")
# GroupCategory by the thousands of an occurrence's GroupType id (sentry/issues/grouptype.py); 2xxx, the
# profile types, are performance issues too.
CATEGORY_BY_TYPE = {
    1: "performance",
    2: "performance",
    4: "cron",
    5: "replay",
    6: "feedback",
    7: "uptime",
    8: "metric_alert",
}
CATEGORY_BY_EVENT_TYPE = {"transaction": "performance", "feedback": "feedback"}
FUNCTION_CULPRIT_PLATFORMS = ("objc", "cocoa", "native")
CALL_CULPRIT_PLATFORMS = ("javascript", "node")


@dataclass(frozen=True)
class EventKey:
    """What names an event, and all the intake reads of one at receipt: the worker reads the rest
    (event_facts)."""

    event_id: str
    issue_id: str
    timestamp: datetime


def event_key(event, *, issue_id="", **_) -> EventKey:
    """Raises PayloadError for every event event_facts cannot read, so that the intake refuses it at once."""
    event_id = as_str(event.get("event_id") or event.get("id"))
    issue_id = as_str(event.get("issue_id") or event.get("groupID")) or issue_id
    if not event_id or not issue_id:
        raise PayloadError("an event needs `event_id` and `issue_id`")
    when = timestamp(
        event.get("timestamp") or event.get("datetime") or event.get("received"), "event.timestamp"
    )
    return EventKey(event_id=event_id, issue_id=issue_id, timestamp=when)


def event_facts(event, *, issue_id="", project_slug="", web_url="") -> EventFacts:
    """The keyword arguments are what the legacy plugin sends beside the event, used where the event is
    silent."""
    key = event_key(event, issue_id=issue_id)
    match = PROJECT_IN_API_URL.search(as_str(event.get("url")))
    tags, occurrence, exceptions = (
        _tags(event.get("tags")),
        as_dict(event.get("occurrence")),
        _exceptions(event),
    )
    return EventFacts(
        event_id=key.event_id,
        issue_id=key.issue_id,
        timestamp=key.timestamp,
        title=as_text(occurrence.get("issueTitle"))
        or as_text(event.get("title"))
        or as_text(event.get("message"))
        or key.event_id,
        project_slug=match["project"] if match else project_slug,
        culprit=as_text(occurrence.get("culprit"))
        or as_text(event.get("culprit"))
        or _stack_culprit(event, exceptions),
        level=as_str(occurrence.get("level")) or as_str(event.get("level")) or tags.get("level", "error"),
        platform=as_str(event.get("platform")),
        environment=as_str(event.get("environment")) or tags.get("environment", ""),
        release=as_str(event.get("release")) or tags.get("release", ""),
        request_url=http_url(as_text(as_dict(event.get("request")).get("url"))),
        web_url=_issue_web_url(as_str(event.get("web_url"))) or _issue_web_url(web_url),
        tags=tags,
        fingerprint=_fingerprint(event.get("fingerprint")),
        exceptions=exceptions,
        issue_category=_category(event, occurrence),
    )


def _category(event, occurrence) -> str:
    type_id = int_or_none(occurrence.get("type"))
    by_type = CATEGORY_BY_TYPE.get(type_id // 1000) if type_id is not None else None
    return by_type or CATEGORY_BY_EVENT_TYPE.get(as_str(event.get("type")), "error")


def _fingerprint(value) -> tuple[str, ...]:
    parts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(part for part in map(as_str, parts[:MAX_FINGERPRINT_PARTS]) if part)


def _exceptions(event) -> tuple[ExceptionFacts, ...]:
    threads = _objects(event.get("threads"))
    values = _objects(event.get("exception"))
    if not values:
        return _message_stack(event, threads)
    return tuple(
        ExceptionFacts(
            type=as_text(exc.get("type"), 200),
            value=as_text(exc.get("value")),
            frames=_frames(_own_stack(exc) or _thread_stack(threads, exc.get("thread_id"))),
        )
        for exc in values
    )


def _message_stack(event, threads) -> tuple[ExceptionFacts, ...]:
    """An event without an exception, as one untyped entry carrying its message, when it has a stack."""
    frames = _frames(_own_stack(event) or _thread_stack(threads, None))
    message = as_text(as_dict(event.get("logentry")).get("formatted")) or as_text(event.get("message"))
    return (
        (ExceptionFacts(type="", value=message or as_text(event.get("title")), frames=frames),)
        if frames
        else ()
    )


def _own_stack(holder) -> list:
    """The frames of `stacktrace`; of `raw_stacktrace` (before symbolication) only when there are none."""
    return _frame_list(holder.get("stacktrace")) or _frame_list(holder.get("raw_stacktrace"))


def _thread_stack(threads, thread_id) -> list:
    """The frames of the thread `thread_id` names, else of the crashed, else the current, else the only
    thread.

    Like Sentry's grouping, the first of these that is exactly one thread decides, with or without a stack.
    """
    wanted = as_str(thread_id)
    named = [thread for thread in threads if wanted and as_str(thread.get("id")) == wanted]
    crashed = [thread for thread in threads if thread.get("crashed") is True]
    current = [thread for thread in threads if thread.get("current") is True]
    chosen = next((found for found in (named, crashed, current, threads) if len(found) == 1), None)
    return _own_stack(chosen[0]) if chosen else []


def _frames(frames) -> tuple[Frame, ...]:
    return tuple(
        Frame(
            filename=as_text(frame.get("filename") or frame.get("abs_path"), 500),
            function=as_text(frame.get("function"), 300),
            module=as_text(frame.get("module"), 300),
            lineno=int_or_none(frame.get("lineno")),
            colno=int_or_none(frame.get("colno")),
            in_app=bool(frame.get("in_app")),
            context_line=as_text(frame.get("context_line"), 500),
        )
        for frame in frames[-MAX_FRAMES:]
        if isinstance(frame, dict)
    )


def _stack_culprit(event, exceptions) -> str:
    """Sentry's culprit from a stack: the innermost in-app frame's, else the innermost frame's
    (sentry/culprit.py)."""
    frames = exceptions[-1].frames if exceptions else ()
    platform = as_str(event.get("platform"))
    in_app = (
        culprit for frame in reversed(frames) if frame.in_app and (culprit := _frame_culprit(frame, platform))
    )
    return next(in_app, "") or next((_frame_culprit(frame, platform) for frame in reversed(frames)), "")


def _frame_culprit(frame, platform) -> str:
    if platform in FUNCTION_CULPRIT_PLATFORMS:
        return frame.function or "?"
    place = frame.module or frame.filename
    if not place:
        return ""
    if platform in CALL_CULPRIT_PLATFORMS:
        return f"{frame.function or '?'}({place})"
    return f"{place} in {frame.function or '?'}"


def _tags(raw) -> dict:
    """Tags as Sentry sends them: [key, value] pairs (webhooks), {key, value} objects (API); or one
    {key: value}."""
    if isinstance(raw, dict):
        return {as_str(key): as_text(value, 200) for key, value in raw.items()}
    tags = {}
    for tag in raw if isinstance(raw, list) else ():
        if isinstance(tag, list | tuple) and len(tag) == 2:
            tags[as_str(tag[0])] = as_text(tag[1], 200)
        elif isinstance(tag, dict) and "key" in tag:
            tags[as_str(tag["key"])] = as_text(tag.get("value"), 200)
    return tags


def _issue_web_url(url) -> str:
    """An event's web URL without the `/events/<id>/` tail, and no query string; "" unless http(s)."""
    return http_url(EVENT_IN_WEB_URL.sub("/", url.split("?", 1)[0])) if url else ""


def _objects(interface) -> list[dict]:
    """The objects of an interface sent as {"values": [...]} (or, by older SDKs, as the bare list)."""
    values = interface.get("values") if isinstance(interface, dict) else interface
    return [value for value in values if isinstance(value, dict)] if isinstance(values, list) else []


def _frame_list(stacktrace) -> list:
    frames = as_dict(stacktrace).get("frames")
    return frames if isinstance(frames, list) else []
