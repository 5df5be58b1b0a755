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

    item = models.ForeignKey("triage.TriageItem", on_delete=models.CASCADE, related_name="data_fix_requests")
    description = models.TextField(help_text="What to change, and why.")
    environment = models.CharField(max_length=100, blank=True)
    customer = models.CharField(max_length=200, blank=True)
    tenant = models.CharField(max_length=200, blank=True)
    # The procedure it follows: the runbook and the version read when filing, and which section.
    runbook = models.ForeignKey(
        "runbooks.Runbook", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    runbook_version = models.ForeignKey(
        "runbooks.RunbookVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    runbook_section = models.CharField(max_length=200, blank=True)
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    parameters = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="data_fix_requests"
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    result = models.TextField(blank=True, help_text="What ops did (done) or why not (rejected).")
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(
        null=True, blank=True, help_text="When it became done, rejected or cancelled."
    )
    # The SLA: acknowledged by `due_at`, else the escalation chain starts; `escalation_level` levels have
    # fired and the next one is due at `next_escalation_at` (null once acknowledged or closed).
    due_at = models.DateTimeField()
    escalation_level = models.PositiveSmallIntegerField(default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)

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

    request = models.ForeignKey(DataFixRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    verb = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

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

    request = models.ForeignKey(DataFixRequest, on_delete=models.CASCADE, related_name="notifications")
    key = models.CharField(max_length=200, unique=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    event = models.CharField(max_length=32, help_text="created, escalated, acknowledged, done, rejected")
    recipients = models.JSONField(
        default=list, blank=True, help_text="Email addresses, for the email channel."
    )
    level = models.PositiveSmallIntegerField(default=0, help_text="Escalation level, for `escalated`.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

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

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempt_log")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("notification attempt")
        verbose_name_plural = _("notification attempts")
        ordering = ["-started_at", "-id"]


class TeamPolicy(models.Model):
    """What a team wants from ops (kept here so triage's tables stay triage's)."""

    team = models.OneToOneField("triage.Team", on_delete=models.CASCADE, related_name="ops_policy")
    auto_resolve_on_done = models.BooleanField(
        default=False, help_text="Resolve the item when its data fix is done."
    )
    escalation_email = models.EmailField(
        blank=True,
        help_text="Who hears second when ops do not acknowledge in time (else OPS_ESCALATION_EMAIL).",
    )

    class Meta:
        verbose_name = _("team policy")
        verbose_name_plural = _("team policies")

    def __str__(self):
        return f"Ops policy of {self.team}"
