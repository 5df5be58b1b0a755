"""The rows tests build over and over: items, services, teams, occurrences and users in groups.

Plain keyword-only functions that create one saved row each (`occurrences_create` many), with defaults
that satisfy the model and nothing more; a test module that wants its own numbering or titles keeps a
thin wrapper that passes them in.
"""

import itertools
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.contrib.auth.models import Group, User
from django.utils import timezone

from triage.models import Occurrence, Service, Team, TriageItem

_ids = itertools.count(1)


def team_create(*, slug: str, name: str | None = None, members: Iterable[User] = (), **fields) -> Team:
    team = Team.objects.create(slug=slug, name=slug.title() if name is None else name, **fields)
    if members:
        team.members.add(*members)
    return team


def service_create(*, slug: str, name: str = "", team: Team | None = None, **fields) -> Service:
    return Service.objects.create(slug=slug, name=name, team=team, **fields)


def service_get(*, slug: str, name: str | None = None, team: Team | None = None) -> Service:
    """The service of that slug, created (named `name`, or its slug) on first use."""
    defaults = {"name": slug if name is None else name}
    if team is not None:
        defaults["team"] = team
    return Service.objects.get_or_create(slug=slug, defaults=defaults)[0]


def item_create(
    *,
    service: Service | None = None,
    sentry_issue_id: str | None = None,
    title: str | None = None,
    first_seen: datetime | None = None,
    last_seen: datetime | None = None,
    **fields,
) -> TriageItem:
    """A TriageItem: a unique Sentry issue id, a title, first and last seen now (last seen defaults to
    first seen), on the service given or a shared "default" one. Every other field as the model has
    it (status NEW, no team, no owner) unless given."""
    n = next(_ids)
    first_seen = timezone.now() if first_seen is None else first_seen
    return TriageItem.objects.create(
        sentry_issue_id=f"factory-{n}" if sentry_issue_id is None else sentry_issue_id,
        title=f"Item {n}" if title is None else title,
        service=service_get(slug="default", name="Default") if service is None else service,
        first_seen=first_seen,
        last_seen=first_seen if last_seen is None else last_seen,
        **fields,
    )


def occurrence_create(
    *, item: TriageItem, timestamp: datetime | None = None, event_id: str | None = None, **fields
) -> Occurrence:
    return Occurrence.objects.create(
        event_id=f"factory-ev{next(_ids)}" if event_id is None else event_id,
        item=item,
        timestamp=timezone.now() if timestamp is None else timestamp,
        **fields,
    )


def occurrences_create(
    *,
    item: TriageItem,
    timestamps: Iterable[datetime],
    prefix: str = "factory-ev",
    ids: Iterator[int] = _ids,
    **fields,
) -> list[Occurrence]:
    """One occurrence of `item` at each timestamp, in one INSERT; event ids are `prefix` and the next of
    `ids` (a module's own counter, where it numbers its items with the same one)."""
    return Occurrence.objects.bulk_create(
        Occurrence(event_id=f"{prefix}{next(ids)}", item=item, timestamp=ts, **fields) for ts in timestamps
    )


def user_create(
    username: str, *, groups: Iterable[str] = ("dev",), password: str = "password", **extra
) -> User:
    """A user in the named groups (roles), which are created if missing: a transactional test (browser,
    worker) empties the tables, the rows the migrations made included."""
    user = User.objects.create_user(username=username, password=password, **extra)
    user.groups.set([Group.objects.get_or_create(name=group)[0] for group in groups])
    return user
