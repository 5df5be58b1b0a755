"""Data-fix requests to ops, their audit log, and the notifications they send.

A request's `state` moves requested → acknowledged → done | rejected, or requested → cancelled.
Every notification is a row with a unique key, inserted before anything is sent: a second task,
a second beat run or a retry finds the row and never sends it twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DataFixRequest(models.Model):
    class State(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        DONE = "done", _("Done")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")

    class Urgency(models.TextChoices):
        HIGH = "high", _("High")
        NORMAL = "normal", _("Normal")
        LOW = "low", _("Low")

    OPEN_STATES = (State.REQUESTED, State.ACKNOWLEDGED)
    CLOSED_STATES = (State.DONE, State.REJECTED, State.CANCELLED)

    item = models.ForeignKey(
        "triage.TriageItem",
        on_delete=models.CASCADE,
        related_name="data_fix_requests",
        verbose_name=_("item"),
    )
    description = models.TextField(help_text="What to change, and why.", verbose_name=_("description"))
    environment = models.CharField(max_length=100, blank=True, verbose_name=_("environment"))
    customer = models.CharField(max_length=200, blank=True, verbose_name=_("customer"))
    tenant = models.CharField(max_length=200, blank=True, verbose_name=_("tenant"))
    # The procedure it follows: the runbook and the version read when filing, and which section.
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
    runbook_section = models.CharField(max_length=200, blank=True, verbose_name=_("runbook section"))
    urgency = models.CharField(
        max_length=8, choices=Urgency.choices, default=Urgency.NORMAL, verbose_name=_("urgency")
    )
    parameters = models.JSONField(default=dict, blank=True, verbose_name=_("parameters"))
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.REQUESTED, verbose_name=_("state")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="data_fix_requests",
        verbose_name=_("requested by"),
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("closed by"),
    )
    result = models.TextField(
        blank=True, help_text="What ops did (done) or why not (rejected).", verbose_name=_("result")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    closed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it became done, rejected or cancelled.",
        verbose_name=_("closed at"),
    )
    # The SLA: acknowledged by `due_at`, else the escalation chain starts; `escalation_level` levels have
    # fired and the next one is due at `next_escalation_at` (null once acknowledged or closed).
    due_at = models.DateTimeField(verbose_name=_("due at"))
    escalation_level = models.PositiveSmallIntegerField(default=0, verbose_name=_("escalation level"))
    next_escalation_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next escalation at"))

    class Meta:
        verbose_name = _("data fix request")
        verbose_name_plural = _("data fix requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="datafix_state_created"),
            models.Index(fields=["-created_at"], name="datafix_created"),
            models.Index(fields=["closed_at"], name="datafix_closed"),
            # The escalation scan reads only what is due and still unacknowledged.
            models.Index(
                fields=["next_escalation_at"], condition=Q(state="requested"), name="datafix_escalation_due"
            ),
        ]

    def __str__(self):
        return f"Data fix #{self.pk} ({self.state})"

    def get_absolute_url(self):
        return reverse("ops:request", args=[self.pk])

    @property
    def is_open(self):
        return self.state in self.OPEN_STATES


class DataFixEvent(models.Model):
    """The request's append-only audit log: who did what, when, with what note."""

    request = models.ForeignKey(
        DataFixRequest, on_delete=models.CASCADE, related_name="events", verbose_name=_("request")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("actor")
    )
    verb = models.CharField(max_length=32, verbose_name=_("verb"))
    from_state = models.CharField(max_length=16, blank=True, verbose_name=_("from state"))
    to_state = models.CharField(max_length=16, blank=True, verbose_name=_("to state"))
    note = models.TextField(blank=True, verbose_name=_("note"))
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("data fix event")
        verbose_name_plural = _("data fix events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"], name="datafix_event_request")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit entries are append-only.")
        super().save(*args, **kwargs)

    @property
    def who(self):
        return self.actor.get_username() if self.actor_id else "portal"


class Notification(models.Model):
    """One message on one channel, keyed so that it goes out once whoever asks for it."""

    class Channel(models.TextChoices):
        SLACK = "slack", "Slack"
        WEBHOOK = "webhook", "Webhook"
        EMAIL = "email", _("Email")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    request = models.ForeignKey(
        DataFixRequest, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("request")
    )
    key = models.CharField(max_length=200, unique=True, verbose_name=_("key"))
    channel = models.CharField(max_length=16, choices=Channel.choices, verbose_name=_("channel"))
    event = models.CharField(
        max_length=32, help_text="created, escalated, acknowledged, done, rejected", verbose_name=_("event")
    )
    recipients = models.JSONField(
        default=list,
        blank=True,
        help_text="Email addresses, for the email channel.",
        verbose_name=_("recipients"),
    )
    level = models.PositiveSmallIntegerField(
        default=0, help_text="Escalation level, for `escalated`.", verbose_name=_("level")
    )
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    claimed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed until"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(state="pending"), name="notification_due")
        ]

    def __str__(self):
        return self.key


class NotificationAttempt(models.Model):
    """Each try on a channel, kept like Healthchecks keeps its notification log."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("notification")
    )
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    duration_ms = models.PositiveIntegerField(default=0, verbose_name=_("duration ms"))
    ok = models.BooleanField(default=False, verbose_name=_("ok"))
    error = models.TextField(blank=True, verbose_name=_("error"))

    class Meta:
        verbose_name = _("notification attempt")
        verbose_name_plural = _("notification attempts")
        ordering = ["-started_at", "-id"]


class TeamPolicy(models.Model):
    """What a team wants from ops (kept here so triage's tables stay triage's)."""

    team = models.OneToOneField(
        "triage.Team", on_delete=models.CASCADE, related_name="ops_policy", verbose_name=_("team")
    )
    auto_resolve_on_done = models.BooleanField(
        default=False,
        help_text="Resolve the item when its data fix is done.",
        verbose_name=_("auto resolve on done"),
    )
    escalation_email = models.EmailField(
        blank=True,
        help_text="Who hears second when ops do not acknowledge in time (else OPS_ESCALATION_EMAIL).",
        verbose_name=_("escalation email"),
    )

    class Meta:
        verbose_name = _("team policy")
        verbose_name_plural = _("team policies")

    def __str__(self):
        return f"Ops policy of {self.team}"
