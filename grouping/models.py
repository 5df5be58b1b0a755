"""Suggestions to change how Sentry groups events, found from the occurrences the portal has seen.

grouping.services computes them (nightly, incremental, or for one item); grouping.selectors reads them.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Suggestion(models.Model):
    """A split (one Sentry issue holding several errors) or a merge (one error in several issues)."""

    class Kind(models.TextChoices):
        SPLIT = "split", _("Split")
        MERGE = "merge", _("Merge")

    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    # "split:<item id>" or "merge:<hash of service, exception, template, culprit>": what makes it the same
    # suggestion from one recompute to the next, so a dismissal sticks to it.
    key = models.CharField(max_length=80, unique=True, verbose_name=_("key"))
    # The item to split; for a merge, its busiest item.
    item = models.ForeignKey(
        "triage.TriageItem", on_delete=models.CASCADE, related_name="+", verbose_name=_("item")
    )
    items = models.ManyToManyField(
        "triage.TriageItem",
        through="SuggestionItem",
        related_name="grouping_suggestions",
        verbose_name=_("items"),
    )
    # [{service, exception_type, message_template, events, share, example: {...}}], busiest first;
    # merges have one group per item (with item_id).
    groups = models.JSONField(default=list, verbose_name=_("groups"))
    other_events = models.BigIntegerField(
        default=0, verbose_name=_("other events")
    )  # a split's events outside the listed groups
    rule = models.TextField(verbose_name=_("rule"))
    preview_issues = models.PositiveIntegerField(
        default=0, verbose_name=_("preview issues")
    )  # issues the rule makes of the last 30 days
    events = models.BigIntegerField(
        default=0, verbose_name=_("events")
    )  # events affected in the last 30 days: the ranking
    # {group key: share of events}: what a dismissal is compared with (grouping.mix).
    mix = models.JSONField(default=dict, verbose_name=_("mix"))
    signature = models.CharField(max_length=40, verbose_name=_("signature"))
    active = models.BooleanField(
        default=True, verbose_name=_("active")
    )  # false once a recompute no longer finds it
    dismissal = models.ForeignKey(
        "Dismissal",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dismissal"),
    )
    found_at = models.DateTimeField(default=timezone.now, verbose_name=_("found at"))
    computed_at = models.DateTimeField(default=timezone.now, verbose_name=_("computed at"))

    class Meta:
        verbose_name = _("suggestion")
        verbose_name_plural = _("suggestions")
        ordering = ["-events", "-id"]
        indexes = [
            models.Index(
                fields=["-events", "-id"],
                condition=models.Q(active=True, dismissal__isnull=True),
                name="suggestion_open_events",
            )
        ]

    def __str__(self):
        return f"{self.kind} {self.key}"


class SuggestionItem(models.Model):
    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.CASCADE, related_name="links", verbose_name=_("suggestion")
    )
    item = models.ForeignKey(
        "triage.TriageItem", on_delete=models.CASCADE, related_name="+", verbose_name=_("item")
    )

    class Meta:
        verbose_name = _("suggestion item")
        verbose_name_plural = _("suggestion items")
        constraints = [models.UniqueConstraint(fields=["suggestion", "item"], name="suggestion_item_once")]
        indexes = [models.Index(fields=["item"], name="suggestion_item_item")]


class Dismissal(models.Model):
    """Someone decided a suggestion is wrong or not worth it. It holds while the mix stays the same."""

    suggestion = models.ForeignKey(
        Suggestion, on_delete=models.CASCADE, related_name="dismissals", verbose_name=_("suggestion")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    reason = models.TextField(verbose_name=_("reason"))
    mix = models.JSONField(default=dict, verbose_name=_("mix"))  # the mix when dismissed
    signature = models.CharField(max_length=40, verbose_name=_("signature"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    lifted_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("lifted at")
    )  # when the mix changed materially

    class Meta:
        verbose_name = _("dismissal")
        verbose_name_plural = _("dismissals")
        ordering = ["-created_at", "-id"]


class ItemMix(models.Model):
    """An item's busiest (service, inner exception, template) over the last 30 days: merges compare these."""

    item = models.OneToOneField(
        "triage.TriageItem",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("item"),
    )
    service = models.CharField(max_length=200, verbose_name=_("service"))
    exception_type = models.CharField(max_length=200, verbose_name=_("exception type"))
    message_template = models.CharField(max_length=500, verbose_name=_("message template"))
    events = models.BigIntegerField(
        default=0, verbose_name=_("events")
    )  # all the item's events in the window
    example_id = models.BigIntegerField(
        default=0, verbose_name=_("example id")
    )  # the busiest group's latest occurrence
    split = models.BooleanField(
        default=False, verbose_name=_("split")
    )  # several groups: split it before merging anything into it
    computed_at = models.DateTimeField(default=timezone.now, verbose_name=_("computed at"))

    class Meta:
        verbose_name = _("item mix")
        verbose_name_plural = _("item mixes")


class RecomputeRun(models.Model):
    """One recompute. Incremental runs start from the last run's occurrence watermark."""

    class Kind(models.TextChoices):
        FULL = "full", _("Full")
        INCREMENTAL = "incremental", _("Incremental")
        ITEM = "item", _("Item")

    kind = models.CharField(max_length=16, choices=Kind.choices, verbose_name=_("kind"))
    item = models.ForeignKey(
        "triage.TriageItem",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("item"),
    )
    since_occurrence_id = models.BigIntegerField(default=0, verbose_name=_("since occurrence id"))
    watermark = models.BigIntegerField(
        default=0, verbose_name=_("watermark")
    )  # the highest occurrence id when the run started
    items_examined = models.IntegerField(default=0, verbose_name=_("items examined"))
    splits = models.IntegerField(default=0, verbose_name=_("splits"))
    merges = models.IntegerField(default=0, verbose_name=_("merges"))
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("recompute run")
        verbose_name_plural = _("recompute runs")
        ordering = ["-started_at", "-id"]
