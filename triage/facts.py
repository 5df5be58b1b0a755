"""What triage needs to know about a Sentry issue or event, independent of how it arrived.

`integrations` turns webhook payloads into these; `triage.services` applies them.
"""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class IssueFacts:
    issue_id: str
    title: str
    project_slug: str
    first_seen: datetime
    last_seen: datetime
    short_id: str = ""
    culprit: str = ""
    issue_category: str = "error"  # Sentry's issueCategory: error, performance, cron, uptime, feedback, ...
    level: str = "error"
    platform: str = ""
    count: int = 0
    user_count: int = 0
    status: str = ""
    substatus: str = ""
    status_details: dict = field(default_factory=dict)
    assignee: str = ""  # as people read it: an email or name, "#slug" for a team, "" for nobody
    # Sentry's assignedTo as sent: {"type": "user" | "team", "id", "name", "email"}, {} for nobody.
    assignee_info: dict = field(default_factory=dict)
    web_url: str = ""
    exception_type: str = ""
    exception_value: str = ""
    # The snapshot is at least this recent: its lastSeen, or its latest activity when it lists one.
    as_of: datetime | None = None


@dataclass(frozen=True)
class Frame:
    filename: str = ""
    function: str = ""
    module: str = ""
    lineno: int | None = None
    colno: int | None = None
    in_app: bool = False
    context_line: str = ""


@dataclass(frozen=True)
class ExceptionFacts:
    type: str
    value: str = ""
    frames: tuple[Frame, ...] = ()


@dataclass(frozen=True)
class EventFacts:
    event_id: str
    issue_id: str
    timestamp: datetime
    title: str
    project_slug: str
    culprit: str = ""
    level: str = "error"
    platform: str = ""
    environment: str = ""
    release: str = ""
    request_url: str = ""
    web_url: str = ""
    tags: dict = field(default_factory=dict)
    # Sentry's grouping fingerprint: ("{{ default }}",) unless the SDK or a rule set one.
    fingerprint: tuple[str, ...] = ()
    # Outermost exception last, as Sentry orders a chain. An event without one but with a stack (a message
    # captured with it) has one entry of type "" whose value is the message.
    exceptions: tuple[ExceptionFacts, ...] = ()
    # The issue's category in Sentry: an issue-platform event's occurrence names it
    # (integrations.sentry_events).
    issue_category: str = "error"

    @property
    def main_exception(self):
        return self.exceptions[-1] if self.exceptions else ExceptionFacts(type="")

    def summary(self):
        """The event trimmed to what a person reads on the item page."""
        return {
            "event_id": self.event_id,
            "timestamp": self.timestamp.isoformat(),
            "exception_type": self.main_exception.type,
            "exception_value": self.main_exception.value,
            "exceptions": [
                {
                    "type": exc.type,
                    "value": exc.value,
                    "frames": [frame.__dict__ for frame in exc.frames],
                }
                for exc in self.exceptions
            ],
            "fingerprint": list(self.fingerprint),
            "request_url": self.request_url,
            "release": self.release,
            "environment": self.environment,
        }


@dataclass(frozen=True)
class SentryChange:
    """What Sentry told about an issue, as triage applies it: a snapshot of the issue, or one of its events.

    `at` orders the changes: when Sentry took the snapshot or sent the event. `echo` marks an issue
    snapshot that is the portal's own push coming back (or about to be overwritten by one): only the
    integration, which knows what it pushed, can tell.
    """

    action: str
    at: datetime
    actor_label: str
    issue: IssueFacts | None = None
    event: EventFacts | None = None
    echo: bool = False

    def __post_init__(self):
        if (self.issue is None) == (self.event is None):
            raise ValueError("a SentryChange is about an issue or an event, and only one")

    @property
    def issue_id(self) -> str:
        return (self.issue or self.event).issue_id
