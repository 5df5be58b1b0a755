"""The morning digest: each team's new, unowned, regressed and stale items, once a day.

Triage decides what each team reads and claims the team's day before anything is sent
(a unique row), so two beat runs never send twice; then it goes out by email to the team and
to its Slack channel. One channel failing does not keep the other from going out. A failed
channel is logged and not retried: tomorrow's digest carries whatever is still open.
"""

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.selectors import users_languages
from common.notifiers import EmailNotifier, Message, NotifierError, SlackNotifier

from .models import DigestSent, Team, TriageItem

log = logging.getLogger(__name__)
SECTION_TITLES = {
    "new": _("New since yesterday"),
    "unowned": _("Unowned"),
    "regressed": _("Regressed"),
    "stale": _("Stale"),
}
SECTIONS = tuple(SECTION_TITLES)


@dataclass(frozen=True)
class Letter:
    """The digest written in one language, and the addresses that read that language."""

    language: str
    subject: str
    text: str
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class Digest:
    key: str  # one per team and day
    letters: tuple[Letter, ...]  # the emails: one per language the team's members read
    slack: Letter  # in the team's language
    slack_webhook_url: str


def team_digest_items(*, team, now) -> dict:
    """Open items of the team per section; stale = no human action for DIGEST_STALE_DAYS."""
    open_items = TriageItem.objects.filter(team=team, status__in=TriageItem.OPEN_STATUSES).select_related(
        "service"
    )
    stale_before = now - timedelta(days=settings.DIGEST_STALE_DAYS)
    touched = open_items.annotate(
        touched=Max("activities__created_at", filter=Q(activities__actor__isnull=False))
    )
    return {
        "new": list(open_items.filter(status=TriageItem.Status.NEW, created_at__gte=now - timedelta(days=1))),
        "unowned": list(open_items.filter(owner__isnull=True)),
        "regressed": list(open_items.filter(regressed_at__isnull=False)),
        "stale": list(
            touched.filter(Q(touched__lt=stale_before) | Q(touched__isnull=True, created_at__lt=stale_before))
        ),
    }


def digests_claim(*, now=None) -> list[Digest]:
    """Today's digests of the teams that have something to read and someone to tell, each claimed once."""
    now = now or timezone.now()
    digests = (_team_digest(team, now) for team in Team.objects.prefetch_related("members"))
    return [digest for digest in digests if digest]


def _team_digest(team, now) -> Digest | None:
    sections = team_digest_items(team=team, now=now)
    count = len({item.pk for items in sections.values() for item in items})
    readers = _readers_by_language(team)
    day = timezone.localdate(now)
    if not count or not (readers or team.slack_webhook_url) or not _claim(team, day, count):
        return None
    titled = [(SECTION_TITLES[name], items) for name, items in sections.items()]
    context = {"team": team, "sections": titled, "base_url": settings.PORTAL_BASE_URL, "count": count}
    return Digest(
        key=f"digest:{team.slug}:{day.isoformat()}",
        letters=tuple(_letter(language, context, emails) for language, emails in readers.items()),
        slack=_letter(team.writes_in, context),
        slack_webhook_url=team.slack_webhook_url,
    )


def _readers_by_language(team) -> dict[str, tuple[str, ...]]:
    """Members with an address, by the language each reads: their own choice, else the team's."""
    members = [user for user in team.members.all() if user.email and user.is_active]
    chosen = users_languages(user_ids=[user.pk for user in members])
    readers = defaultdict(list)
    for user in members:
        readers[chosen.get(user.pk, team.writes_in)].append(user.email)
    return {language: tuple(emails) for language, emails in readers.items()}


def _letter(language, context, emails=()) -> Letter:
    with translation.override(language):
        count, team = context["count"], context["team"].name
        subject = ngettext(
            "[Triage] %(team)s: %(count)d item to look at",
            "[Triage] %(team)s: %(count)d items to look at",
            count,
        ) % {"team": team, "count": count}
        return Letter(language, subject, render_to_string("triage/digest_email.txt", context), emails)


def _claim(team, day, count) -> bool:
    try:
        with transaction.atomic():
            DigestSent.objects.create(team=team, day=day, item_count=count)
        return True
    except IntegrityError:
        return False


def digests_deliver(*, now=None) -> int:
    """Send today's digests; returns how many teams got theirs through at least one channel."""
    return sum(_deliver(digest) for digest in digests_claim(now=now or timezone.now()))


def _deliver(digest: Digest) -> bool:
    sends = [(EmailNotifier(letter.emails), letter) for letter in digest.letters]
    if digest.slack_webhook_url:
        sends.append((SlackNotifier(digest.slack_webhook_url), digest.slack))
    messages = (
        (channel, Message(key=digest.key, subject=letter.subject, text=letter.text))
        for channel, letter in sends
    )
    return sum(_send(channel, message) for channel, message in messages) > 0


def _send(channel, message) -> bool:
    try:
        channel.send(message)
    except NotifierError as exc:
        log.warning("Morning digest %s not sent by %s: %s", message.key, type(channel).__name__, exc)
        return False
    except Exception:  # noqa: BLE001 -- e.g. an address the mailer refuses: the other channel still goes out
        log.exception("Morning digest %s not sent by %s", message.key, type(channel).__name__)
        return False
    return True
