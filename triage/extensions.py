"""What the apps above triage add to its pages, registered from their AppConfig.ready().

The rule is integrations → triage → runbooks, and ops, grouping, reports → triage: triage never
imports an app above it, nor loads its template tags or reverses its URLs. Instead triage declares
extension points here and those apps register what its pages show of them:

- item panels: a template and a context function, rendered in a slot of the item page
  ("banner": above the item's header; "side": in the side column, after the runbook panel);
- activity lines: a template that words a timeline entry triage has no words for, chosen by a test
  on the entry, in the timeline's fallback position;
- queue sections: a section of the morning queue (its `section=` URL value, its rail entry and count),
  placed after one of triage's own.

A context function gets an `ItemPage` and returns the template's context, as an inclusion tag's
would (the page's csrf_token is added); it runs while the page renders, so a panel that reads the
database should do it in a fixed number of queries, because the page's query count is pinned.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

PANEL_SLOTS = ("banner", "side")


@dataclass(frozen=True)
class ItemPage:
    """What triage knows of the item page being rendered: all a panel's context function is handed."""

    request: object
    item: object
    can_change: bool


@dataclass(frozen=True)
class ItemPanel:
    name: str
    slot: str
    template: str
    context: Callable[[ItemPage], dict]
    order: int = 100  # lower first within the slot


@dataclass(frozen=True)
class ActivityLine:
    name: str
    template: str  # included in the entry's line, with `entry` and `d` (its data) in the context
    applies: Callable[[object], bool]  # the Activity entry → whether this template words it


@dataclass(frozen=True)
class Section:
    """A section of the morning queue: `condition` gives the Q its items match for a triage.queue.Viewer."""

    slug: str
    label: str
    hint: str  # what the section holds: its tooltip and its empty state
    condition: Callable[[object], Q]


_panels: dict[str, ItemPanel] = {}
_activity_lines: dict[str, ActivityLine] = {}
_sections: dict[str, tuple[Section, str]] = {}  # slug → (section, the slug it comes after)


def register_item_panel(*, name, slot, template, context, order=100) -> ItemPanel:
    """Show `template` in `slot` of the item page; registering the same name again replaces it."""
    if slot not in PANEL_SLOTS:
        raise ImproperlyConfigured(f"Item panel {name!r}: no slot {slot!r} (only {', '.join(PANEL_SLOTS)}).")
    panel = _panels[name] = ItemPanel(name=name, slot=slot, template=template, context=context, order=order)
    return panel


def register_activity_line(*, name, template, applies) -> ActivityLine:
    line = _activity_lines[name] = ActivityLine(name=name, template=template, applies=applies)
    return line


def register_queue_section(section: Section, *, after: str) -> Section:
    """Add `section` to the queue's rail right after the section `after` (triage's own or a registered
    one's)."""
    _sections[section.slug] = (section, after)
    return section


def item_panels(slot) -> list[ItemPanel]:
    return sorted((panel for panel in _panels.values() if panel.slot == slot), key=lambda panel: panel.order)


def activity_template(entry) -> str:
    """The registered template that words this timeline entry ("" if none does: triage words it, or shows the
    verb)."""
    return next((line.template for line in _activity_lines.values() if line.applies(entry)), "")


def queue_sections(own: Sequence[Section]) -> tuple[Section, ...]:
    """Triage's own sections with the registered ones each after its anchor, in registration order."""
    sections = list(own)
    for section, after in _sections.values():
        slugs = [s.slug for s in sections]
        if section.slug in slugs:
            raise ImproperlyConfigured(f"Queue section {section.slug!r} is triage's own already.")
        if after not in slugs:
            raise ImproperlyConfigured(
                f"Queue section {section.slug!r} comes after {after!r}: no such section."
            )
        sections.insert(slugs.index(after) + 1, section)
    return tuple(sections)
