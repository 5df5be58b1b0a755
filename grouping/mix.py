"""An item's mix of (service, inner exception type, message template) groups, and when it changed.

Pure functions over the rows grouping.aggregate reads from the database.
"""

import hashlib
from dataclasses import dataclass

# A group counts when it holds at least this share of the item's events and this many events:
# below that it is noise (a retry, a rare path) rather than a second error.
MIN_SHARE = 0.10
MIN_EVENTS = 5
# A dismissed suggestion comes back when a group appears or disappears, or one's share moves this much.
MATERIAL_SHIFT = 0.20


@dataclass(frozen=True)
class Group:
    service: str
    exception_type: str
    message_template: str
    events: int
    example_id: int

    @property
    def key(self) -> str:
        return f"{self.service}|{self.exception_type}|{self.message_template}"


def is_meaningful(events: int, total: int) -> bool:
    return events >= MIN_EVENTS and events >= MIN_SHARE * total


def meaningful_groups(groups: list[Group]) -> list[Group]:
    total = sum(group.events for group in groups)
    return [group for group in groups if is_meaningful(group.events, total)]


def mix_of(shares: dict[str, int]) -> dict[str, float]:
    """{key: events} -> {key: share}, rounded so that equal mixes compare equal."""
    total = sum(shares.values()) or 1
    return {key: round(events / total, 3) for key, events in sorted(shares.items())}


def mix_signature(mix: dict) -> str:
    """Which groups make the mix (not their shares): equal signatures, same groups."""
    return hashlib.sha1("\n".join(sorted(mix)).encode()).hexdigest()


def mix_changed_materially(before: dict, after: dict) -> bool:
    if set(before) != set(after):
        return True
    return any(abs(before[key] - after[key]) >= MATERIAL_SHIFT for key in before)
