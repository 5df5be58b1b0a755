from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.text import Nfkc


class Team(models.Model):
    slug = models.SlugField(max_length=100, unique=True, verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )
    slack_webhook_url = models.URLField(
        max_length=500,
        blank=True,
        db_default="",
        help_text="A Slack-compatible incoming webhook: the team's morning digest goes there too.",
        verbose_name=_("slack webhook url"),
    )
    language = models.CharField(
        max_length=8,
        blank=True,
        db_default="",
        choices=settings.LANGUAGES,
        help_text="What its digest and Slack messages are written in (blank: the portal's LANGUAGE_CODE).",
        verbose_name=_("language"),
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def writes_in(self) -> str:
        """The language of what the portal sends the team as a whole (its digest, its Slack channel)."""
        return self.language or settings.LANGUAGE_CODE


class Service(models.Model):
    """A deployable unit; one per Sentry project slug unless an admin maps it otherwise."""

    slug = models.SlugField(max_length=100, unique=True, verbose_name=_("slug"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="services",
        verbose_name=_("team"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["slug"]

    def __str__(self):
        return self.slug


class OwnershipRule(models.Model):
    """Like Sentry's ownership rules: the first matching rule (lowest position) names the owning team."""

    class Kind(models.TextChoices):
        SERVICE = "service", _("Service is")
        PATH = "path", _("Culprit or stack path matches (glob)")
        TAG = "tag", _("Tag key:value matches (glob on the value)")

    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    pattern = models.CharField(
        max_length=300,
        help_text="service slug, path glob, or tag `key:value-glob`",
        verbose_name=_("pattern"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="ownership_rules", verbose_name=_("team")
    )
    position = models.PositiveIntegerField(default=100, verbose_name=_("position"))

    class Meta:
        verbose_name = _("ownership rule")
        verbose_name_plural = _("ownership rules")
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.pattern} → {self.team}"


class Level(models.TextChoices):
    FATAL = "fatal", _("Fatal")
    ERROR = "error", _("Error")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")
    DEBUG = "debug", _("Debug")


# TriageItem.OPEN_STATUSES, for the partial indexes its Meta declares before the class exists.
OPEN_STATUS_VALUES = ("new", "triaged", "in_progress")


class TriageItem(models.Model):
    """One Sentry issue, as the team triages it."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        TRIAGED = "triaged", _("Triaged")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        IGNORED = "ignored", _("Ignored")

    class Classification(models.TextChoices):
        CODE_FIX = "code_fix", _("Code fix")
        DATA_FIX = "data_fix", _("Data fix")
        NO_ACTION = "no_action", _("No action")
        NOISE = "noise", _("Noise (ignore)")
        DUPLICATE = "duplicate", _("Duplicate")

    OPEN_STATUSES = (Status.NEW, Status.TRIAGED, Status.IN_PROGRESS)

    sentry_issue_id = models.CharField(max_length=32, unique=True, verbose_name=_("sentry issue id"))
    short_id = models.CharField(max_length=100, blank=True, verbose_name=_("short id"))
    title = models.TextField(verbose_name=_("title"))
    culprit = models.TextField(blank=True, verbose_name=_("culprit"))
    # What the queue's search box compares (issue 14): NFKC, so ＳＫＵ finds SKU. Computed by the database on
    # every write and trigram-indexed (triage 0016): normalising 10,000 candidate rows per search cost a
    # filtered search 40 ms at p95 (bench/morning.py).
    title_search = models.GeneratedField(
        expression=Nfkc("title"), output_field=models.TextField(), db_persist=True, verbose_name=_("title")
    )
    culprit_search = models.GeneratedField(
        expression=Nfkc("culprit"),
        output_field=models.TextField(),
        db_persist=True,
        verbose_name=_("culprit"),
    )
    level = models.CharField(max_length=16, default=Level.ERROR, verbose_name=_("level"))
    # Sentry's issue category (issueCategory): "error", or "performance", "cron", "uptime", "feedback", ...
    # db_default too, here and below: rows written by raw SQL (bench loaders, bulk INSERTs) that predate a
    # column.
    issue_category = models.CharField(
        max_length=32, default="error", db_default="error", verbose_name=_("issue category")
    )
    platform = models.CharField(max_length=64, blank=True, verbose_name=_("platform"))
    project_slug = models.CharField(max_length=100, blank=True, verbose_name=_("project slug"))
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="items", verbose_name=_("service")
    )
    environment = models.CharField(max_length=100, blank=True, verbose_name=_("environment"))
    first_seen = models.DateTimeField(verbose_name=_("first seen"))
    last_seen = models.DateTimeField(verbose_name=_("last seen"))
    event_count = models.BigIntegerField(default=0, verbose_name=_("event count"))
    # lastSeen of the Sentry issue snapshot that event_count came from: events up to
    # then are already in Sentry's count, later ones add to it.
    counted_until = models.DateTimeField(null=True, blank=True, verbose_name=_("counted until"))
    user_count = models.BigIntegerField(default=0, verbose_name=_("user count"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.NEW, verbose_name=_("status")
    )
    sentry_status = models.CharField(max_length=32, blank=True, verbose_name=_("sentry status"))
    sentry_substatus = models.CharField(max_length=32, blank=True, verbose_name=_("sentry substatus"))
    sentry_assignee = models.CharField(
        max_length=200, blank=True, verbose_name=_("sentry assignee")
    )  # as read: an email or name, "#slug" for a team
    # Sentry's assignedTo as sent: {"type": "user" | "team", "id", "name", "email"}, {} for nobody.
    sentry_assignee_info = models.JSONField(
        default=dict, db_default={}, blank=True, verbose_name=_("sentry assignee info")
    )
    # When Sentry took the snapshot sentry_status, sentry_substatus and the assignee came from (its
    # send time): deliveries arrive out of order, and an older snapshot changes none of them.
    sentry_state_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sentry state at"))
    sentry_url = models.URLField(max_length=500, blank=True, verbose_name=_("sentry url"))
    tags = models.JSONField(default=dict, blank=True, verbose_name=_("tags"))
    # The latest event, trimmed to what a person reads (see triage.facts.EventFacts.summary).
    latest_event = models.JSONField(default=dict, blank=True, verbose_name=_("latest event"))
    latest_event_at = models.DateTimeField(null=True, blank=True, verbose_name=_("latest event at"))
    regressed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("regressed at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    # Set when resolved "in the next release": only an event from a newer release regresses it.
    resolved_in_release = models.CharField(max_length=200, blank=True, verbose_name=_("resolved in release"))

    # Triage decisions (people, in the portal).
    classification = models.CharField(
        max_length=16, choices=Classification.choices, blank=True, verbose_name=_("classification")
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("duplicate of"),
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="items", verbose_name=_("team")
    )
    ownership_rule = models.ForeignKey(
        OwnershipRule, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("ownership rule")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_items",
        verbose_name=_("owner"),
    )
    # Why it was classified or ignored, pinned above the timeline so comments do not bury it.
    pinned_note = models.TextField(blank=True, verbose_name=_("pinned note"))
    # {"kind": "forever" | "until" | "events" | "users" | "escalating", "until": iso, "count": N,
    #  "baseline": N, "window": minutes}: with a window, N events (or users) within that many minutes.
    ignore_condition = models.JSONField(default=dict, blank=True, verbose_name=_("ignore condition"))
    woke_at = models.DateTimeField(null=True, blank=True, verbose_name=_("woke at"))
    triaged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("triaged at"))
    # The best-matching runbook (triage.runbook_links), and the version current when the item was
    # first classified with it: "handled with v3" stays true after v4.
    runbook = models.ForeignKey(
        "runbooks.Runbook",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("runbook"),
    )
    runbook_version = models.ForeignKey(
        "runbooks.RunbookVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("runbook version"),
    )
    runbook_helped = models.BooleanField(null=True, blank=True, verbose_name=_("runbook helped"))
    # State of the last push of a portal change to Sentry ("" = nothing pushed).
    sentry_sync_state = models.CharField(max_length=16, blank=True, verbose_name=_("sentry sync state"))
    sentry_sync_error = models.TextField(blank=True, verbose_name=_("sentry sync error"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("triage item")
        verbose_name_plural = _("triage items")
        ordering = ["-last_seen"]
        indexes = [
            models.Index(fields=["status", "-last_seen"], name="item_status_last_seen"),
            models.Index(fields=["service", "-last_seen"], name="item_service_last_seen"),
            models.Index(fields=["owner", "status"], name="item_owner_status"),
            models.Index(fields=["team", "status"], name="item_team_status"),
            models.Index(fields=["-created_at"], name="item_created"),
            # The queue and the API list newest first; the partial ones serve the small sections
            # that would otherwise walk the whole table in last_seen order (bench/morning.py).
            models.Index(fields=["-last_seen", "-id"], name="item_last_seen"),
            models.Index(fields=["environment"], name="item_environment"),  # the filter bar's choices
            models.Index(
                fields=["-last_seen", "-id"],
                name="item_regressed_open",
                condition=models.Q(regressed_at__isnull=False, status__in=OPEN_STATUS_VALUES),
            ),
            models.Index(
                fields=["team", "-last_seen", "-id"],
                name="item_team_unowned",
                condition=models.Q(owner__isnull=True, status__in=OPEN_STATUS_VALUES),
            ),
            models.Index(
                fields=["-last_seen", "-id"],
                condition=models.Q(woke_at__isnull=False),
                name="item_woke_last_seen",
            ),
            models.Index(
                fields=["-last_seen", "-id"],
                condition=models.Q(classification="data_fix"),
                name="item_data_fix_last_seen",
            ),
        ]

    def __str__(self):
        return f"{self.short_id or self.sentry_issue_id}: {self.title}"

    def get_absolute_url(self):
        return reverse("triage:item", args=[self.pk])

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES

    @property
    def exception_type(self):
        return self.latest_event.get("exception_type", "")

    @property
    def exception_value(self):
        return self.latest_event.get("exception_value", "")


class Occurrence(models.Model):
    """One Sentry event we learned of. `timestamp` is when it happened, per Sentry."""

    event_id = models.CharField(max_length=64, unique=True, verbose_name=_("event id"))
    item = models.ForeignKey(
        TriageItem, on_delete=models.CASCADE, related_name="occurrences", verbose_name=_("item")
    )
    timestamp = models.DateTimeField(verbose_name=_("timestamp"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))
    environment = models.CharField(max_length=100, blank=True, verbose_name=_("environment"))
    release = models.CharField(max_length=200, blank=True, verbose_name=_("release"))
    level = models.CharField(max_length=16, blank=True, verbose_name=_("level"))
    exception_type = models.CharField(max_length=200, blank=True, verbose_name=_("exception type"))
    exception_value = models.TextField(blank=True, verbose_name=_("exception value"))
    tags = models.JSONField(default=dict, blank=True, verbose_name=_("tags"))
    # What the grouping advisor groups by, computed at intake (triage.grouping_keys explains each).
    service_key = models.CharField(max_length=200, blank=True, verbose_name=_("service key"))
    inner_exception_type = models.CharField(
        max_length=200, blank=True, verbose_name=_("inner exception type")
    )
    message_template = models.CharField(max_length=500, blank=True, verbose_name=_("message template"))

    class Meta:
        verbose_name = _("occurrence")
        verbose_name_plural = _("occurrences")
        ordering = ["-timestamp"]
        indexes = [models.Index(fields=["item", "-timestamp"], name="occurrence_item_time")]

    def __str__(self):
        return self.event_id


class Activity(models.Model):
    """Append-only timeline entry: who or what did what to an item, and when."""

    item = models.ForeignKey(
        TriageItem, on_delete=models.CASCADE, related_name="activities", verbose_name=_("item")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("actor")
    )
    actor_label = models.CharField(
        max_length=200,
        blank=True,
        help_text="Who, when not a portal user (e.g. Sentry).",
        verbose_name=_("actor label"),
    )
    verb = models.CharField(max_length=50, verbose_name=_("verb"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["item", "-created_at"], name="activity_item_time")]

    def __str__(self):
        return f"{self.who} {self.verb}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Activity entries are append-only.")
        super().save(*args, **kwargs)

    @property
    def who(self):
        return self.actor.get_username() if self.actor_id else self.actor_label or "portal"


class QueueVisit(models.Model):
    """When a user last opened the morning queue, so "new since your last visit" means something."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_visit", verbose_name=_("user")
    )
    previous_visit_at = models.DateTimeField(null=True, blank=True, verbose_name=_("previous visit at"))
    last_visit_at = models.DateTimeField(default=timezone.now, verbose_name=_("last visit at"))

    class Meta:
        verbose_name = _("queue visit")
        verbose_name_plural = _("queue visits")


class DigestSent(models.Model):
    """One morning digest per team per day, claimed before sending so two beat runs send one."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="digests", verbose_name=_("team"))
    day = models.DateField(verbose_name=_("day"))
    sent_at = models.DateTimeField(default=timezone.now, verbose_name=_("sent at"))
    item_count = models.PositiveIntegerField(default=0, verbose_name=_("item count"))

    class Meta:
        verbose_name = _("digest sent")
        verbose_name_plural = _("digests sent")
        constraints = [models.UniqueConstraint(fields=["team", "day"], name="digest_once_per_team_day")]
