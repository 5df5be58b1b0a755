"""Runbooks: wiki-like pages with an insert-only version per edit, matchers, feedback and recorded use.

runbooks depends on nothing else in the portal (integrations → triage → runbooks): services
are stored as slugs, teams as a slug, and a triage item as a plain integer `item_ref`.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import SearchDocument

# No change in this long while items are still arriving: the page says the runbook may be stale.
STALE_AFTER = timedelta(days=90)
RECENT_USE = timedelta(days=30)


class Runbook(models.Model):
    slug = models.SlugField(max_length=100, unique=True, verbose_name=_("slug"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    services = models.JSONField(
        default=list, blank=True, help_text="Service slugs (triage.Service.slug).", verbose_name=_("services")
    )
    team = models.SlugField(
        max_length=100, blank=True, help_text="Slug of the owning team.", verbose_name=_("team")
    )
    tags = models.JSONField(default=list, blank=True, verbose_name=_("tags"))
    # Always the newest version: every edit and every restore inserts one (Wagtail's latest_revision).
    current_version = models.ForeignKey(
        "RunbookVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("current version"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    # PostgreSQL only (GIN-indexed): title and slug weighted A, the current body B. See runbooks.search.
    search_document = SearchDocument(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("runbook")
        verbose_name_plural = _("runbooks")
        ordering = ["title"]
        indexes = [models.Index(fields=["team"], name="runbook_team")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("runbooks:detail", args=[self.slug])

    def is_stale(self, now=None) -> bool:
        """Unchanged for STALE_AFTER while items still arrived within RECENT_USE."""
        now = now or timezone.now()
        changed_at = self.current_version.created_at if self.current_version_id else self.updated_at
        recently_used = self.last_used_at is not None and self.last_used_at >= now - RECENT_USE
        return changed_at < now - STALE_AFTER and recently_used


class RunbookVersion(models.Model):
    """One edit of a runbook's body. Immutable: nothing updates a version once inserted."""

    runbook = models.ForeignKey(
        Runbook, on_delete=models.CASCADE, related_name="versions", verbose_name=_("runbook")
    )
    number = models.PositiveIntegerField(verbose_name=_("number"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    summary = models.CharField(max_length=300, blank=True, verbose_name=_("summary"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    restored_from = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("restored from"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("runbook version")
        verbose_name_plural = _("runbook versions")
        ordering = ["runbook", "-number"]
        constraints = [models.UniqueConstraint(fields=["runbook", "number"], name="runbook_version_number")]

    def __str__(self):
        return f"{self.runbook_id} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Runbook versions are immutable: insert a new version instead.")
        super().save(*args, **kwargs)


class RunbookMatcher(models.Model):
    """One condition. A runbook matches an item when every matcher of one of its groups matches."""

    class Op(models.TextChoices):
        EQUALS = "equals", _("Equals")
        CONTAINS = "contains", _("Contains")
        GLOB = "glob", _("Glob")
        REGEX = "regex", _("Regex")

    runbook = models.ForeignKey(
        Runbook, on_delete=models.CASCADE, related_name="matchers", verbose_name=_("runbook")
    )
    group = models.PositiveSmallIntegerField(default=0, verbose_name=_("group"))
    # service, exception_type, exception_value, culprit, fingerprint, sentry_issue_id, level,
    # environment, or tag:<key> (runbooks.matcher_rules.FIELDS).
    field = models.CharField(max_length=120, verbose_name=_("field"))
    op = models.CharField(max_length=16, choices=Op.choices, default=Op.EQUALS, verbose_name=_("op"))
    value = models.CharField(max_length=500, verbose_name=_("value"))

    class Meta:
        verbose_name = _("runbook matcher")
        verbose_name_plural = _("runbook matchers")
        ordering = ["runbook", "group", "id"]

    def __str__(self):
        return f"{self.field} {self.op} {self.value!r}"


class MatcherIndexState(models.Model):
    """One row whose token changes with every change the in-memory matcher index reads.

    A random token rather than a counter: a counter could come back to a value an old index
    was built at (a rolled-back transaction, a restored database).
    """

    token = models.CharField(max_length=32, verbose_name=_("token"))

    class Meta:
        verbose_name = _("matcher index state")
        verbose_name_plural = _("matcher index states")


class RunbookFeedback(models.Model):
    class Kind(models.TextChoices):
        UNCLEAR = "unclear", _("Unclear")
        OUTDATED = "outdated", _("Outdated")

    runbook = models.ForeignKey(
        Runbook, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("runbook")
    )
    version = models.ForeignKey(
        RunbookVersion,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("version"),
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    comment = models.TextField(blank=True, verbose_name=_("comment"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        verbose_name = _("runbook feedback")
        verbose_name_plural = _("runbook feedback")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["runbook", "resolved_at"], name="runbook_feedback_open")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.comment[:50]}"


class RunbookUse(models.Model):
    """A triage item handled with a runbook. `item_ref` is the item's id: runbooks never imports triage.

    `version` follows the runbook's current version until the item is decided, then stays:
    "handled with v3" remains true after v4.
    """

    runbook = models.ForeignKey(
        Runbook, on_delete=models.CASCADE, related_name="uses", verbose_name=_("runbook")
    )
    version = models.ForeignKey(
        RunbookVersion, on_delete=models.CASCADE, related_name="uses", verbose_name=_("version")
    )
    item_ref = models.BigIntegerField(verbose_name=_("item ref"))
    item_title = models.CharField(max_length=300, blank=True, verbose_name=_("item title"))
    item_url = models.CharField(max_length=500, blank=True, verbose_name=_("item url"))
    linked_at = models.DateTimeField(verbose_name=_("linked at"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    resolved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("resolved at"))
    helped = models.BooleanField(null=True, blank=True, verbose_name=_("helped"))

    class Meta:
        verbose_name = _("runbook use")
        verbose_name_plural = _("runbook uses")
        ordering = ["-linked_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["runbook", "item_ref"], name="runbook_use_item")]
        indexes = [models.Index(fields=["runbook", "-linked_at"], name="runbook_use_recent")]

    def __str__(self):
        return f"{self.runbook_id} ← item {self.item_ref}"
