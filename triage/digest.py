"""The morning digest: each team gets its new, unowned, regressed and stale items by email.

(The escalation notifiers will carry it too once they exist; email works everywhere today.)
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.utils import timezone

from .models import DigestSent, Team, TriageItem

SECTIONS = ("new", "unowned", "regressed", "stale")


def team_digest_items(*, team, now) -> dict:
    """Open items of the team per section; stale = no human action for DIGEST_STALE_DAYS."""
    open_items = TriageItem.objects.filter(team=team, status__in=TriageItem.OPEN_STATUSES).select_related("service")
    stale_before = now - timedelta(days=settings.DIGEST_STALE_DAYS)
    touched = open_items.annotate(touched=Max("activities__created_at", filter=Q(activities__actor__isnull=False)))
    return {
        "new": list(open_items.filter(status=TriageItem.Status.NEW, created_at__gte=now - timedelta(days=1))),
        "unowned": list(open_items.filter(owner__isnull=True)),
        "regressed": list(open_items.filter(regressed_at__isnull=False)),
        "stale": list(touched.filter(Q(touched__lt=stale_before) | Q(touched__isnull=True, created_at__lt=stale_before))),
    }


def digests_send(*, now=None) -> int:
    """Send today's digest to every team that has something to read; returns how many were sent."""
    now = now or timezone.now()
    teams = Team.objects.prefetch_related("members")
    return sum(_send_team_digest(team, now) for team in teams)


def _send_team_digest(team, now) -> bool:
    sections = team_digest_items(team=team, now=now)
    count = len({item.pk for items in sections.values() for item in items})
    recipients = [user.email for user in team.members.all() if user.email and user.is_active]
    if not count or not recipients or not _claim(team, timezone.localdate(now), count):
        return False
    context = {"team": team, "sections": sections, "base_url": settings.PORTAL_BASE_URL, "count": count}
    body = render_to_string("triage/digest_email.txt", context)
    subject = f"[Triage] {team.name}: {count} item{'' if count == 1 else 's'} to look at"
    EmailMessage(subject, body, to=recipients).send()
    return True


def _claim(team, day, count) -> bool:
    try:
        with transaction.atomic():
            DigestSent.objects.create(team=team, day=day, item_count=count)
        return True
    except IntegrityError:
        return False
