"""Ownership rules, evaluated on intake: the first matching rule names the owning team."""

from fnmatch import fnmatchcase

from . import bulk
from .models import OwnershipRule


def ownership_rule_for(item) -> OwnershipRule | None:
    rules = bulk.looked_up(
        "ownership_rules",
        lambda: list(  # once a batch of deliveries
            OwnershipRule.objects.select_related("team").order_by("position", "id")
        ),
    )
    return next((rule for rule in rules if rule_matches(rule, item)), None)


def item_assign_owning_team(item):
    """Set the item's team from the first matching rule, else its service's team."""
    rule = ownership_rule_for(item)
    item.ownership_rule = rule
    item.team = rule.team if rule else item.service.team


def rule_matches(rule, item) -> bool:
    if rule.kind == OwnershipRule.Kind.SERVICE:
        return item.service.slug == rule.pattern
    if rule.kind == OwnershipRule.Kind.PATH:
        return any(fnmatchcase(path, rule.pattern) for path in _paths(item))
    key, _, value_glob = rule.pattern.partition(":")
    value = item.tags.get(key)
    return value is not None and fnmatchcase(str(value), value_glob or "*")


def _paths(item):
    yield item.culprit
    for exception in item.latest_event.get("exceptions", []):
        for frame in exception.get("frames", []):
            yield frame.get("filename") or ""
            yield frame.get("module") or ""
