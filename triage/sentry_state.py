"""Which Sentry snapshot an item follows, and Sentry's archive conditions in the portal's own terms.

Sentry's issue webhooks arrive out of order (a resolve before the create is normal when the portal
was slow or reconciling), so every snapshot carries the time Sentry took it, and the item keeps the
time of the one its Sentry state came from: an older snapshot changes neither that state nor the
item's own triage state. Its figures only ever grow, whatever the order (triage.services).
"""

from datetime import UTC, datetime, timedelta

from .facts import IssueFacts


def snapshot_is_newer(item, at: datetime) -> bool:
    """Newer, or as new: send times are whole seconds, so two changes in one second go in arrival order."""
    return item.sentry_state_at is None or at >= item.sentry_state_at


def ignore_condition_from_sentry(issue: IssueFacts, at: datetime) -> dict:
    """Sentry's statusDetails for an archived issue as the condition the portal's own ignore stores.

    Sentry sends the count still to go (ignoreCount, ignoreUserCount) when there is no window, so it
    counts from the snapshot's figures; with a window (minutes) it is the whole count within one.
    Escalation is Sentry's forecast: the portal waits for Sentry to say the issue escalates.
    """
    details = issue.status_details
    if details.get("ignoreUntilEscalating") is True or issue.substatus == "archived_until_escalating":
        return {"kind": "escalating"}
    if until := _until(details, at):
        return {"kind": "until", "until": until.isoformat()}
    if count := _positive(details.get("ignoreCount")):
        return _counted("events", count, _positive(details.get("ignoreWindow")), issue.count)
    if count := _positive(details.get("ignoreUserCount")):
        return _counted("users", count, _positive(details.get("ignoreUserWindow")), issue.user_count)
    return {"kind": "forever"}


def _counted(kind, count, window, seen) -> dict:
    if window:
        return {"kind": kind, "count": count, "window": window}
    return {"kind": kind, "count": count, "baseline": seen}


def _until(details, at) -> datetime | None:
    """ignoreUntil as the issue serializer sends it, or ignoreDuration (minutes) as an update answers it."""
    if isinstance(until := details.get("ignoreUntil"), str):
        try:
            parsed = datetime.fromisoformat(until.replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass  # unreadable: another condition, or forever
    minutes = _positive(details.get("ignoreDuration"))
    return at + timedelta(minutes=minutes) if minutes else None


def _positive(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        return number if (number := int(value)) > 0 else None
    except ValueError:
        return None
