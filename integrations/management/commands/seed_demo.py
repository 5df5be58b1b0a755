"""manage.py seed_demo: a portal that looks alive, fed through the real, signed webhook endpoints."""

import secrets
from collections import Counter
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.test import Client
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.services import preference_set
from integrations import demo, demo_ja
from integrations.models import WebhookDelivery
from integrations.sentry_auth import configured_values, signing_secret
from integrations.sentry_payloads import LEGACY
from integrations.services import delivery_process
from runbooks.models import Runbook
from runbooks.services import runbook_create
from triage.models import Service, Team, TriageItem

SIGNING_SETTINGS = ("SENTRY_CLIENT_SECRET", "SENTRY_LEGACY_TOKEN")
CHECKOUT_SERVICES = ("checkout-api", "front-end")
PORTAL_URL = "http://127.0.0.1:8000/"
Status = WebhookDelivery.Status


class DemoUser(NamedTuple):
    username: str  # also the password: these are for a local demo only
    groups: tuple[str, ...]
    superuser: bool = False
    in_checkout_team: bool = False


DEMO_USERS = (
    DemoUser("dev", ("dev",), in_checkout_team=True),
    DemoUser("ops", ("ops",)),
    DemoUser("admin", ("admin",), superuser=True),
)


class Command(BaseCommand):
    help = (
        "Fill the portal with demo data: Sentry's published sample payloads, varied into 13 issues "
        "over 4 services and the last 14 days, posted signed through the real webhook endpoints and "
        "processed. Also creates the users dev/dev, ops/ops and admin/admin. Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-users", action="store_true", help="Do not create the demo users.")
        parser.add_argument(
            "--lang",
            choices=("en", "ja"),
            default="en",
            help="ja adds a team that works in Japanese: services, errors, runbooks and a grouping split.",
        )

    def handle(self, *args, no_users=False, lang="en", **options):
        if not demo.SAMPLES_DIR.is_dir():
            raise CommandError(f"The Sentry sample payloads are not at {demo.SAMPLES_DIR}.")
        temporary = [name for name in SIGNING_SETTINGS if not getattr(settings, name)]
        specs = demo.DEMO_ISSUES + (demo_ja.ISSUES if lang == "ja" else ())
        users = [] if no_users else [_demo_user(user, _checkout_team()) for user in DEMO_USERS]
        if lang == "ja":  # the team, its services and runbooks before the items, so intake links them
            _japanese_team(author=_runbook_author())
        # The demo must work before Sentry is configured: sign with a throwaway value for this run only.
        with override_settings(**{name: secrets.token_urlsafe(24) for name in temporary}):
            new_issues, sender = _send_demo_deliveries(specs)
        _checkout_team()  # its services exist now
        if lang == "ja" and not no_users:
            _japanese_dev()
        self._summarize(new_issues, sender, users, temporary)
        if sender.statuses[Status.FAILED]:
            raise CommandError(
                f"{sender.statuses[Status.FAILED]} demo deliveries failed to process: see "
                "their last_error in the admin, fix, then `manage.py replay_deliveries --sync`."
            )

    def _summarize(self, new_issues, sender, users, temporary):
        if temporary and sender.statuses:
            self.stdout.write(
                self.style.WARNING(
                    f"{' and '.join(temporary)} not set: signed the demo deliveries with a temporary value, "
                    "for this run only. Set the real value before pointing Sentry at the portal."
                )
            )
        specs = demo.DEMO_ISSUES + demo_ja.ISSUES
        items = TriageItem.objects.filter(sentry_issue_id__in=[spec.issue_id for spec in specs])
        services = sorted(set(items.values_list("service__slug", flat=True)))
        self.stdout.write(
            f"Items: {items.count()} demo items in {len(services)} services "
            f"({', '.join(services)}), {len(new_issues)} of them new."
        )
        self.stdout.write(f"Deliveries: {sender.summary()}.")
        self._summarize_users(users)
        login = " and log in as dev/dev, ops/ops or admin/admin" if users else ""
        self.stdout.write(self.style.SUCCESS(f"Open {PORTAL_URL} (make run){login}."))

    def _summarize_users(self, users):
        if not users:
            return
        self.stdout.write(
            "Users: "
            + ", ".join(
                f"{name} ({'created' if created else 'already there, left as it was'})"
                for name, created in users
            )
        )
        if any(created for _, created in users) and not settings.DEBUG:
            self.stdout.write(
                self.style.WARNING(
                    "These users have well-known passwords: never seed a portal that others can reach."
                )
            )


class DemoSender:
    """Posts demo payloads to the real endpoints, in this process, and processes each one at once."""

    def __init__(self):
        self.client = Client(SERVER_NAME=_allowed_host())
        self.statuses = Counter()

    def send_all(self, deliveries):
        for delivery in deliveries:
            self.send(delivery)

    def send(self, delivery: demo.DemoDelivery):
        response = self._post(delivery.resource, demo.compact(delivery.payload))
        if response.status_code != 202:
            raise CommandError(
                f"The portal refused a demo {delivery.resource} delivery with "
                f"{response.status_code}: {response.content[:300].decode(errors='replace')}"
            )
        delivery_id = response.json()["delivery"]
        # Now rather than after the loop, so the story keeps its order (resolved, then the next
        # event) even when a worker is running too; processing twice is harmless.
        delivery_process(delivery_id=delivery_id)
        self.statuses[WebhookDelivery.objects.values_list("status", flat=True).get(pk=delivery_id)] += 1

    def summary(self):
        counts = ", ".join(f"{count} {status}" for status, count in sorted(self.statuses.items()))
        if not counts:
            return "none sent, the demo issues were all there already"
        return f"{self.statuses.total()} signed deliveries posted and processed ({counts})"

    def _post(self, resource, body):
        if resource == LEGACY:
            url = reverse(
                "integrations:sentry-legacy-webhook", args=[configured_values("SENTRY_LEGACY_TOKEN")[0]]
            )
            return self.client.post(url, body, content_type="application/json", secure=True)
        headers = demo.webhook_headers(body, resource, signing_secret())
        return self.client.post(
            reverse("integrations:sentry-webhook"),
            body,
            content_type="application/json",
            secure=True,
            headers=headers,
        )


def _send_demo_deliveries(specs):
    now, sender = timezone.now(), DemoSender()
    # An issue already in the portal is left alone: sending its story again would, for one,
    # resolve the regressed item a second time (its new event would then be a duplicate).
    new_issues = [spec for spec in specs if not _already_seeded(spec)]
    for spec in new_issues:
        sender.send_all(demo.demo_deliveries(spec, now=now))
    sender.send_all(_deliveries_without_items(now))
    return new_issues, sender


def _already_seeded(spec):
    return TriageItem.objects.filter(sentry_issue_id=spec.issue_id).exists()


def _deliveries_without_items(now):
    """An installation and a comment, once: they create no item but belong in the deliveries list."""
    regressed = next(spec for spec in demo.DEMO_ISSUES if spec.then == "resolved")
    wanted = [
        demo.DemoDelivery("installation", demo.installation_payload()),
        demo.DemoDelivery("comment", demo.comment_payload(regressed, now)),
    ]
    received = WebhookDelivery.objects.exclude(status=Status.REJECTED)
    return [delivery for delivery in wanted if not received.filter(resource=delivery.resource).exists()]


def _allowed_host():
    """A host the portal accepts: the test client's `testserver` is only allowed under tests."""
    host = next(iter(settings.ALLOWED_HOSTS), "localhost")
    if host == "*":
        return "localhost"
    return f"demo{host}" if host.startswith(".") else host


def _checkout_team():
    """Checkout owns checkout-api and front-end, unless an admin already gave them an owner."""
    team, _ = Team.objects.get_or_create(slug="checkout", defaults={"name": "Checkout"})
    Service.objects.filter(slug__in=CHECKOUT_SERVICES, team=None).update(team=team)
    return team


def _demo_user(user: DemoUser, team):
    """Create a demo user if missing; an existing one keeps its password, groups and teams."""
    User = get_user_model()
    if User.objects.filter(username=user.username).exists():
        return user.username, False
    created = User.objects.create_user(
        username=user.username, password=user.username, is_staff=user.superuser, is_superuser=user.superuser
    )
    created.groups.set([Group.objects.get_or_create(name=name)[0] for name in user.groups])
    if user.in_checkout_team:
        team.members.add(created)
    return user.username, True


def _japanese_team(*, author):
    """The team that works in Japanese, owner of its services, with its runbooks."""
    team, _ = Team.objects.get_or_create(
        slug=demo_ja.TEAM_SLUG, defaults={"name": demo_ja.TEAM_NAME, "language": "ja"}
    )
    for slug in demo_ja.SERVICES:
        Service.objects.get_or_create(slug=slug, defaults={"name": slug, "team": team})
    for slug, title, body, matchers in demo_ja.RUNBOOKS:
        if not Runbook.objects.filter(slug=slug).exists():
            specs = [{"group": g, "field": f, "op": o, "value": v} for g, f, o, v in matchers]
            runbook_create(
                user=author, slug=slug, title=title, body=body, services=[matchers[0][3]], matchers=specs
            )
    return team


def _runbook_author():
    author = get_user_model().objects.filter(groups__name="dev").order_by("pk").first()
    if author is None:
        raise CommandError("The Japanese demo's runbooks need an author: run it without --no-users.")
    return author


def _japanese_dev():
    """dev is in the Japanese team too and reads the portal in Japanese, in Japan's time."""
    dev = get_user_model().objects.get(username=DEMO_USERS[0].username)
    Team.objects.get(slug=demo_ja.TEAM_SLUG).members.add(dev)
    preference_set(user=dev, language="ja", time_zone="Asia/Tokyo")
