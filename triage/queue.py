"""The morning queue: its sections, filters and sort orders, and where "new since your last visit" starts.

Everything here is plain logic over Q objects and the request's parameters; the queries
themselves are in `triage.selectors`, so the page's query count stays fixed.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.text import searchable

from .extensions import Section, queue_sections
from .models import Level, QueueVisit, TriageItem
from .permissions import can_change_item, change_denied_reason, is_admin, is_developer, user_team_ids

Status, Classification = TriageItem.Status, TriageItem.Classification
OPEN = Q(status__in=TriageItem.OPEN_STATUSES)
# On a first visit, "new" means what arrived in the last day.
FIRST_VISIT_WINDOW = timedelta(hours=24)
# Page loads this close together are one visit: opening an item and coming back to the
# queue must not empty "new since your last visit" while you are still working through it.
VISIT_GAP = timedelta(minutes=30)


@dataclass(frozen=True)
class Viewer:
    """Who looks at the queue, with what the sections and row permissions need to know."""

    user: object
    team_ids: frozenset
    new_since: datetime
    admin: bool = False
    dev: bool = False

    def can_change(self, item) -> bool:
        return can_change_item(self.user, item)  # roles and teams are read once per user


# Triage's own sections; other apps add theirs through triage.extensions (ops: "Waiting on ops").
OWN_SECTIONS = (
    Section(
        "new",
        _("New since your last visit"),
        _("Open items that arrived since your last visit."),
        lambda v: OPEN & Q(created_at__gt=v.new_since),
    ),
    Section(
        "regressed",
        _("Regressed"),
        _("Open items that came back after they were resolved."),
        lambda v: OPEN & Q(regressed_at__isnull=False),
    ),
    Section("mine", _("Assigned to me"), _("Open items you own."), lambda v: OPEN & Q(owner=v.user)),
    Section(
        "team",
        _("My teams' unowned"),
        _("Open items of your teams that nobody has taken yet."),
        lambda v: OPEN & Q(team_id__in=v.team_ids, owner__isnull=True),
    ),
    Section(
        "woke",
        _("Woke up from ignore"),
        _("Ignored items whose condition passed: they need a new look."),
        lambda v: Q(status=Status.NEW, woke_at__isnull=False),
    ),
    Section("open", _("All open"), _("Every open item."), lambda v: OPEN),
    Section("all", _("All items"), _("Every item, resolved and ignored ones too."), lambda v: Q()),
)


class Sections(Sequence):
    """The rail's sections in order: triage's own with the registered ones in place, read when asked for
    (the apps above triage register theirs in their ready(), after this module is imported)."""

    def _all(self) -> tuple[Section, ...]:
        return queue_sections(OWN_SECTIONS)

    def __iter__(self):
        return iter(self._all())

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def by_slug(self) -> dict[str, Section]:
        return {section.slug: section for section in self._all()}


SECTIONS = Sections()
DEFAULT_SECTION = "new"

# Sort key → ordering; the id breaks ties so pages never overlap.
SORTS = {
    "last_seen": (_("Last seen"), ("-last_seen", "-id")),
    "first_seen": (_("First seen"), ("-first_seen", "-id")),
    "events": (_("Events"), ("-event_count", "-last_seen", "-id")),
    "users": (_("Users"), ("-user_count", "-last_seen", "-id")),
}
UNCLASSIFIED, UNOWNED, ME = "none", "none", "me"
MAX_SEARCH = 200
FILTERS = ("service", "environment", "level", "classification", "status", "owner", "q")
# Parameters with a fixed set of values (and `section`: the sections there are); anything else in them is
# dropped.
CHOICES = {
    "sort": set(SORTS),
    "level": set(Level.values),
    "status": set(Status.values),
    "classification": {*Classification.values, UNCLASSIFIED},
}


@dataclass(frozen=True)
class QueueQuery:
    """What the queue shows, read from the URL; unknown values fall back to "no filter"."""

    section: str = DEFAULT_SECTION
    service: str = ""
    environment: str = ""
    level: str = ""
    classification: str = ""
    status: str = ""
    owner: str = ""
    q: str = ""
    sort: str = "last_seen"
    page: str = ""

    @classmethod
    def from_params(cls, params) -> "QueueQuery":
        values = {name: params.get(name, "").strip()[:MAX_SEARCH] for name in cls.__dataclass_fields__}
        choices = {**CHOICES, "section": set(SECTIONS.by_slug())}
        valid = {name: value for name, value in values.items() if value in choices.get(name, {value})}
        return cls(**{name: value for name, value in valid.items() if value})

    @property
    def filtered(self) -> bool:
        return any(getattr(self, name) for name in FILTERS)

    @property
    def ordering(self) -> tuple[str, ...]:
        return SORTS[self.sort][1]

    def filters(self, user) -> Q:
        """The filters as one Q; the section condition is applied on top of it."""
        exact = {f: getattr(self, f) for f in ("environment", "level", "status") if getattr(self, f)}
        q = Q(**exact)
        if self.service:
            q &= Q(service__slug=self.service)
        if self.classification:
            q &= Q(classification="" if self.classification == UNCLASSIFIED else self.classification)
        return q & self._owner_q(user) & self._search_q()

    def _owner_q(self, user) -> Q:
        if self.owner == ME:
            return Q(owner=user)
        if self.owner == UNOWNED:
            return Q(owner__isnull=True)
        return Q(owner__username=self.owner) if self.owner else Q()

    def _search_q(self) -> Q:
        if not self.q:
            return Q()
        text = searchable(self.q)
        return (
            Q(title_search__icontains=text)
            | Q(culprit_search__icontains=text)
            | Q(short_id__icontains=text)
            | Q(sentry_issue_id=text)
        )

    def urlencode(self, **changes) -> str:
        """The query string for this view with some values changed; defaults are left out."""
        changed = replace(self, **changes)
        defaults = QueueQuery()
        pairs = [(name, getattr(changed, name)) for name in self.__dataclass_fields__]
        return urlencode([(name, value) for name, value in pairs if value != getattr(defaults, name)])


# --- _("New since your last visit") ------------------------------------------------------------------


def visit_record(*, user, now=None) -> datetime:
    """A full load of the queue. Starts a new visit unless the last load was within VISIT_GAP.

    Returns where "new" starts for this visit. The one write of the queue page; htmx
    partial loads and other pages of the list read with `visit_new_since` instead.
    """
    now = now or timezone.now()
    visit = QueueVisit.objects.filter(user=user).first()
    if visit is None:
        # ignore_conflicts: two first loads at once must not fail on the one-per-user constraint.
        QueueVisit.objects.bulk_create([QueueVisit(user=user, last_visit_at=now)], ignore_conflicts=True)
        return now - FIRST_VISIT_WINDOW
    if now - visit.last_visit_at > VISIT_GAP:
        visit.previous_visit_at = visit.last_visit_at
    visit.last_visit_at = now
    visit.save(update_fields=["previous_visit_at", "last_visit_at"])
    return _new_since(visit)


def visit_new_since(*, user) -> datetime:
    visit = QueueVisit.objects.filter(user=user).first()
    return _new_since(visit) if visit else timezone.now() - FIRST_VISIT_WINDOW


def _new_since(visit) -> datetime:
    return visit.previous_visit_at or visit.last_visit_at - FIRST_VISIT_WINDOW


def viewer_for(user, *, new_since) -> Viewer:
    """The viewer, in two queries (the user's groups and teams) however many rows follow."""
    team_ids = user_team_ids(user)
    return Viewer(
        user=user, team_ids=team_ids, new_since=new_since, admin=is_admin(user), dev=is_developer(user)
    )


# --- Rows -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One queue row: the item, and what the template needs beside it."""

    item: TriageItem
    url: str  # reversed once: the row links it three times
    sparkline: str
    is_new: bool
    denied_reason: str  # empty when the viewer may change the item
    last_seen_ago: str
    age: str


def rows_for(items, *, viewer, sparklines, now=None) -> list[Row]:
    now = now or timezone.now()
    return [
        Row(
            item=item,
            url=item.get_absolute_url(),
            sparkline=sparklines[item.pk],
            is_new=item.is_open and item.created_at > viewer.new_since,
            denied_reason="" if viewer.can_change(item) else change_denied_reason(item),
            last_seen_ago=compact_ago(item.last_seen, now),
            age=compact_ago(item.first_seen, now),
        )
        for item in items
    ]


# Compact, and in the viewer's language: 3h / 3時間.
AGO_UNITS = (
    (365 * 86400, _("%(n)dy")),
    (30 * 86400, _("%(n)dmo")),
    (7 * 86400, _("%(n)dw")),
    (86400, _("%(n)dd")),
    (3600, _("%(n)dh")),
    (60, _("%(n)dm")),
)


def compact_ago(moment, now) -> str:
    """ "3h", "2d": a dense column reads faster than "2 days, 3 hours"."""
    seconds = (now - moment).total_seconds()
    return next((unit % {"n": seconds // size} for size, unit in AGO_UNITS if seconds >= size), "now")
