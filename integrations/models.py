from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WebhookDelivery(models.Model):
    """Every request the webhook endpoints received, stored raw before anything else happens.

    Sentry does not retry deliveries to internal integrations, so this row is the
    only copy: processing reads it back by id and may run any number of times.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        DUPLICATE = "duplicate", _("Duplicate (same content, body or Request-ID already processed)")
        FAILED = "failed", _("Failed")
        REJECTED = "rejected", _("Rejected (not signed, or not a webhook)")

    REPLAYABLE = (Status.PENDING, Status.FAILED)

    source = models.CharField(max_length=20, default="sentry", verbose_name=_("source"))  # sentry | legacy
    resource = models.CharField(max_length=50, blank=True, verbose_name=_("resource"))
    action = models.CharField(max_length=50, blank=True, verbose_name=_("action"))
    request_id = models.CharField(max_length=100, blank=True, verbose_name=_("request id"))
    headers = models.JSONField(default=dict, verbose_name=_("headers"))
    body = models.BinaryField(verbose_name=_("body"))
    body_sha256 = models.CharField(
        max_length=64, blank=True, db_default="", verbose_name=_("body sha256")
    )  # hex; blank on rejected rows
    sentry_issue_id = models.CharField(max_length=32, blank=True, verbose_name=_("sentry issue id"))
    dedupe_key = models.CharField(max_length=64, blank=True, verbose_name=_("dedupe key"))
    received_at = models.DateTimeField(default=timezone.now, verbose_name=_("received at"))
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, verbose_name=_("status")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed at"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]  # the order they arrived in, by the primary key's index
        # Every webhook is one INSERT into these: only the few rows still to do (pending, the
        # drain's queue) or to look at (failed) are indexed beyond the primary key.
        indexes = [
            models.Index(fields=["id"], condition=Q(status="pending"), name="delivery_pending"),
            models.Index(fields=["id"], condition=Q(status="failed"), name="delivery_failed"),
            # Refused requests are counted a minute at a time and pruned oldest first
            # (services.delivery_reject).
            models.Index(fields=["received_at"], condition=Q(status="rejected"), name="delivery_rejected"),
        ]
        constraints = [
            # At most one processed delivery per content: the database, not a
            # read-then-write, decides which of two concurrent duplicates wins.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status="processed") & ~Q(dedupe_key=""),
                name="delivery_processed_once",
            ),
            # Sentry signs the body only: a capture sent again with a fresh timestamp and Request-ID
            # passes every check at intake, and is refused here when it is processed.
            models.UniqueConstraint(
                fields=["body_sha256"],
                condition=Q(status="processed") & ~Q(body_sha256=""),
                name="delivery_body_processed_once",
            ),
            models.UniqueConstraint(
                fields=["request_id"],
                condition=Q(status="processed") & ~Q(request_id=""),
                name="delivery_request_processed_once",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.resource}.{self.action} ({self.status})"

    @property
    def body_text(self):
        return bytes(self.body).decode("utf-8", errors="replace")


# Which part of an issue a change touches: a newer change to the same part supersedes an older one.
STATUS_KEYS = {"status", "substatus", "statusDetails"}
STATUS_ACTIONS = {"resolved", "ignored", "archived", "unresolved"}
ASSIGN_ACTIONS = {"assigned", "unassigned"}
# A push stuck pending longer than this (e.g. the token was removed) no longer mutes Sentry's changes.
PENDING_WINS_FOR = timedelta(hours=1)


def change_fields(change: dict) -> set[str]:
    return {"status" if key in STATUS_KEYS else key for key in change}


class SentrySyncQuerySet(models.QuerySet):
    def echoes(self, *, issue, action) -> bool:
        """Is this issue webhook (or reconciled issue) our own push coming back, or about to be overwritten?

        Only what we pushed tells: Sentry names our change's actor as the token's user, and a change
        made through any Sentry app (another integration's, an automation's) as the app receiving the
        webhook, so the actor looks like us either way. A state equal to one we sent in the last few
        minutes is our echo, and while one of our changes to the same part is still pending, Sentry's
        state is about to be replaced by ours: either way it must not flip the portal's state back.
        """
        field = "status" if action in STATUS_ACTIONS else "assignedTo" if action in ASSIGN_ACTIONS else None
        if field is None:
            return False
        now = timezone.now()
        recent = self.filter(item__sentry_issue_id=issue.issue_id).filter(
            Q(state=SentrySync.State.PENDING, created_at__gte=now - PENDING_WINS_FOR)
            | Q(
                state=SentrySync.State.SENT,
                sent_at__gte=now - timedelta(seconds=settings.SENTRY_ECHO_WINDOW_SECONDS),
            )
        )
        return any(sync.echoed_by(field, issue) for sync in recent)


def _assigned_to_matches(sent: str, assignee: dict) -> bool:
    """Is Sentry's assignedTo ({type, id, name, email}) the one we sent ("user:ID", "team:ID", an email
    or a username, "" for nobody)? A team never matches a user's email or name, nor a user a team's id.
    """
    if not sent or not assignee:
        return not sent and not assignee
    kind, _colon, ident = sent.partition(":")
    if kind in ("user", "team") and ident:
        return assignee.get("type") == kind and assignee.get("id") == ident
    return assignee.get("type") == "user" and sent.lower() in (
        assignee.get("email", "").lower(),
        assignee.get("name", "").lower(),
    )


class SentrySync(models.Model):
    """One portal change to push to Sentry (the body of Sentry's issue-update PUT).

    The row is written before anything is sent, and a task pushes it by id: any number
    of tasks may run for one row, the compare-and-set claim lets one attempt through at a time.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SUPERSEDED = "superseded", _("Superseded (a newer change to the same field came first)")

    item = models.ForeignKey(
        "triage.TriageItem", on_delete=models.CASCADE, related_name="+", verbose_name=_("item")
    )
    change = models.JSONField(verbose_name=_("change"))
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.PENDING, verbose_name=_("state")
    )
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    next_attempt_at = models.DateTimeField(default=timezone.now, verbose_name=_("next attempt at"))
    # While an attempt is in flight; a claim older than this is abandoned (worker died).
    claimed_until = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed until"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    objects = SentrySyncQuerySet.as_manager()

    class Meta:
        verbose_name = _("sentry sync")
        verbose_name_plural = _("sentry syncs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="sentrysync_state_due"),
            models.Index(fields=["item", "-id"], name="sentrysync_item"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.change} ({self.state})"

    @property
    def fields(self) -> set[str]:
        return change_fields(self.change)

    def overlaps(self, other) -> bool:
        return bool(self.fields & other.fields)

    def echoed_by(self, field, issue) -> bool:
        if field not in self.fields:
            return False
        if self.state == self.State.PENDING:
            return True
        sent = self.change
        if field == "status":  # the same change: the status, and the substatus when we sent one
            return (
                sent.get("status") == issue.status
                and sent.get("substatus", issue.substatus) == issue.substatus
            )
        return _assigned_to_matches(str(sent.get("assignedTo") or ""), issue.assignee_info)


class SyncCursor(models.Model):
    """How far reconciliation with Sentry got, and who is running it now (a lease, not a lock held open).

    `position`: issues seen before it are applied. A run covers [window_start, window_end]
    page by page; `page` is Sentry's cursor for the next page, saved after each page is
    applied, so an interrupted run resumes there. `position` moves only when the last page is done.
    """

    name = models.CharField(max_length=50, unique=True, verbose_name=_("name"))
    position = models.DateTimeField(null=True, blank=True, verbose_name=_("position"))
    window_start = models.DateTimeField(null=True, blank=True, verbose_name=_("window start"))
    window_end = models.DateTimeField(null=True, blank=True, verbose_name=_("window end"))
    page = models.CharField(max_length=200, blank=True, verbose_name=_("page"))
    lease_holder = models.CharField(max_length=64, blank=True, verbose_name=_("lease holder"))
    lease_until = models.DateTimeField(null=True, blank=True, verbose_name=_("lease until"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("sync cursor")
        verbose_name_plural = _("sync cursors")

    def __str__(self):
        return f"{self.name} at {self.position}"

    @property
    def run_in_progress(self) -> bool:
        return self.window_end is not None
