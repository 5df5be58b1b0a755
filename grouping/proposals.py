"""Turning grouped occurrences into proposals: what a suggestion says, before it is stored."""

import hashlib
from dataclasses import dataclass

from .aggregate import ItemGroups
from .fingerprint_rules import merge_rule_text, preview_issue_count, split_lines, split_rule_text
from .mix import Group, meaningful_groups, mix_of


@dataclass
class Proposal:
    kind: str
    key: str
    item_id: int
    item_ids: list[int]
    groups: list[dict]
    rule: str
    preview_issues: int
    events: int
    mix: dict
    other_events: int = 0


@dataclass(frozen=True)
class MergeMember:
    """One item of a merge: its busiest group (grouping.models.ItemMix) and culprit."""

    item_id: int
    group: Group
    culprit: str
    events: int


def split_proposal(entry: ItemGroups, item: dict, examples: dict[int, dict]) -> Proposal:
    groups = meaningful_groups(entry.groups)
    lines = split_lines(groups)
    label = item.get("short_id") or item.get("sentry_issue_id") or entry.item_id
    heading = f"Split {label} ({item.get('title', '')[:60]}) by service and inner exception: Triage Portal"
    rule = split_rule_text(
        lines=lines,
        heading=heading,
        examples={g.message_template: examples.get(g.example_id, {}).get("value", "") for g in groups},
    )
    listed = sum(group.events for group in groups)
    return Proposal(
        kind="split",
        key=f"split:{entry.item_id}",
        item_id=entry.item_id,
        item_ids=[entry.item_id],
        groups=[_group_dict(group, entry.total, examples) for group in groups],
        rule=rule,
        preview_issues=preview_issue_count(lines, entry.groups),
        events=entry.total,
        mix=mix_of({group.key: group.events for group in groups}),
        other_events=entry.total - listed,
    )


def merge_proposal(members: list[MergeMember], items: dict[int, dict], examples: dict[int, dict]) -> Proposal:
    members = sorted(members, key=lambda member: (-member.events, member.item_id))
    first, total = members[0], sum(member.events for member in members)
    key = hashlib.sha1("\n".join([first.group.key, first.culprit]).encode()).hexdigest()
    projects = sorted({items[member.item_id].get("project_slug", "") for member in members})
    labels = [items[member.item_id].get("short_id") or str(member.item_id) for member in members]
    return Proposal(
        kind="merge",
        key=f"merge:{key}",
        item_id=first.item_id,
        item_ids=[member.item_id for member in members],
        groups=[
            {
                **_group_dict(member.group, total, examples),
                "item_id": member.item_id,
                "culprit": member.culprit,
            }
            for member in members
        ],
        rule=merge_rule_text(group=first.group, labels=labels, projects=projects),
        preview_issues=len(projects),
        events=total,
        mix=mix_of({str(m.item_id): m.events for m in members}),
    )


def _group_dict(group: Group, total: int, examples: dict[int, dict]) -> dict:
    return {
        "service": group.service,
        "exception_type": group.exception_type,
        "message_template": group.message_template,
        "events": group.events,
        "share": round(group.events / total, 3) if total else 0,
        "example": examples.get(group.example_id, {}),
    }
