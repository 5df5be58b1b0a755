from django.db import models
from django.db.models import Q
from django.utils import timezone


class WebhookDelivery(models.Model):
    """Every request the webhook endpoints received, stored raw before anything else happens.

    Sentry does not retry deliveries to internal integrations, so this row is the
    only copy: processing reads it back by id and may run any number of times.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSED = "processed"
        DUPLICATE = "duplicate", "Duplicate (same content already processed)"
        FAILED = "failed"
        REJECTED = "rejected", "Rejected (not signed, or not a webhook)"

    REPLAYABLE = (Status.PENDING, Status.FAILED)

    source = models.CharField(max_length=20, default="sentry")  # sentry | legacy
    resource = models.CharField(max_length=50, blank=True)
    action = models.CharField(max_length=50, blank=True)
    request_id = models.CharField(max_length=100, blank=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField()
    sentry_issue_id = models.CharField(max_length=32, blank=True)
    dedupe_key = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "received_at"], name="delivery_status_received"),
            models.Index(fields=["sentry_issue_id"], name="delivery_issue"),
        ]
        constraints = [
            # At most one processed delivery per content: the database, not a
            # read-then-write, decides which of two concurrent duplicates wins.
            models.UniqueConstraint(
                fields=["dedupe_key"],
                condition=Q(status="processed") & ~Q(dedupe_key=""),
                name="delivery_processed_once",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.resource}.{self.action} ({self.status})"

    @property
    def body_text(self):
        return bytes(self.body).decode("utf-8", errors="replace")
