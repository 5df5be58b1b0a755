"""Weekly trends, computed once a week (reports.services) and kept: the meeting's figures stay fixed."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .spikes import THRESHOLD


class WeekFigures(models.Model):
    """What a service, or the whole organization, did in one ISO week (Monday 00:00 to Monday 00:00 local)."""

    week = models.CharField(max_length=8, verbose_name=_("week"))  # "2026-W47"
    week_start = models.DateField(verbose_name=_("week start"))
    events = models.BigIntegerField(default=0, verbose_name=_("events"))
    events_prev = models.BigIntegerField(default=0, verbose_name=_("events prev"))
    new_items = models.IntegerField(default=0, verbose_name=_("new items"))
    regressed = models.IntegerField(default=0, verbose_name=_("regressed"))
    resolved = models.IntegerField(default=0, verbose_name=_("resolved"))
    ignored = models.IntegerField(default=0, verbose_name=_("ignored"))
    open_backlog = models.IntegerField(default=0, verbose_name=_("open backlog"))
    median_time_to_triage_s = models.FloatField(
        null=True, blank=True, verbose_name=_("median time to triage s")
    )
    median_time_to_resolve_s = models.FloatField(
        null=True, blank=True, verbose_name=_("median time to resolve s")
    )
    toil = models.IntegerField(
        default=0,
        help_text="Actions people took on items (activities with an actor).",
        verbose_name=_("toil"),
    )
    classifications = models.JSONField(default=dict, blank=True, verbose_name=_("classifications"))
    # Runbook coverage: of the items with events in the week (and their events), those with a runbook
    # linked when the week was computed.
    active_items = models.IntegerField(default=0, verbose_name=_("active items"))
    runbook_items = models.IntegerField(default=0, verbose_name=_("runbook items"))
    runbook_events = models.BigIntegerField(default=0, verbose_name=_("runbook events"))
    # Data fixes (ops.DataFixRequest): filed in the week; done or rejected by ops in the week, and the median
    # time from filing to that close (cancelled requests were withdrawn, not ops' turnaround).
    data_fix_requests = models.IntegerField(default=0, verbose_name=_("data fix requests"))
    data_fix_closed = models.IntegerField(default=0, verbose_name=_("data fix closed"))
    median_ops_turnaround_s = models.FloatField(
        null=True, blank=True, verbose_name=_("median ops turnaround s")
    )
    computed_at = models.DateTimeField(default=timezone.now, verbose_name=_("computed at"))

    class Meta:
        verbose_name = _("week figures")
        verbose_name_plural = _("week figures")
        abstract = True

    @property
    def runbook_item_share(self) -> float | None:
        return self.runbook_items / self.active_items if self.active_items else None

    @property
    def runbook_event_share(self) -> float | None:
        return self.runbook_events / self.events if self.events else None


class WeeklyServiceTrend(WeekFigures):
    service = models.ForeignKey(
        "triage.Service", on_delete=models.CASCADE, related_name="+", verbose_name=_("service")
    )
    spike = models.BooleanField(default=False, verbose_name=_("spike"))
    baseline = models.FloatField(
        default=0, verbose_name=_("baseline")
    )  # median events of the previous 8 weeks
    spread = models.FloatField(default=0, verbose_name=_("spread"))  # MAD · 1.4826, at least 1

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["week", "service"], name="service_trend_once_per_week")
        ]
        indexes = [models.Index(fields=["week_start"], name="service_trend_week_start")]

    @property
    def spike_threshold(self) -> float:
        return self.baseline + THRESHOLD * self.spread


class WeeklyOrgTrend(WeekFigures):
    class Meta:
        constraints = [models.UniqueConstraint(fields=["week"], name="org_trend_once_per_week")]


class WeeklyItemTrend(models.Model):
    """An item with events (or toil) in the week: for the top movers and the most handled."""

    week = models.CharField(max_length=8, verbose_name=_("week"))
    week_start = models.DateField(verbose_name=_("week start"))
    item = models.ForeignKey(
        "triage.TriageItem", on_delete=models.CASCADE, related_name="+", verbose_name=_("item")
    )
    events = models.BigIntegerField(default=0, verbose_name=_("events"))
    events_prev = models.BigIntegerField(default=0, verbose_name=_("events prev"))
    delta = models.BigIntegerField(default=0, verbose_name=_("delta"))
    toil = models.IntegerField(default=0, verbose_name=_("toil"))
    days = models.PositiveSmallIntegerField(
        default=0, help_text="Distinct days (TIME_ZONE) with events in the week.", verbose_name=_("days")
    )
    first_seen_in_week = models.BooleanField(default=False, verbose_name=_("first seen in week"))
    recurring = models.BooleanField(
        default=False, help_text="New and already recurring (reports.recurring).", verbose_name=_("recurring")
    )
    spike = models.BooleanField(default=False, verbose_name=_("spike"))
    # None: below the spike rule's minimum volume, so the history was not read.
    baseline = models.FloatField(null=True, blank=True, verbose_name=_("baseline"))
    spread = models.FloatField(null=True, blank=True, verbose_name=_("spread"))

    class Meta:
        verbose_name = _("weekly item trend")
        verbose_name_plural = _("weekly item trends")
        constraints = [models.UniqueConstraint(fields=["week", "item"], name="item_trend_once_per_week")]
        indexes = [
            models.Index(fields=["week", "-delta"], name="item_trend_week_delta"),
            models.Index(fields=["week", "-toil"], name="item_trend_week_toil"),
            models.Index(
                fields=["week", "-events"],
                condition=models.Q(recurring=True),
                name="item_trend_week_recurring",
            ),
        ]

    @property
    def spike_threshold(self) -> float | None:
        return None if self.baseline is None else self.baseline + THRESHOLD * self.spread


class WeeklyRunbookTrend(models.Model):
    """A runbook used or flagged in the week. Slug and title are kept so the figures outlive a deleted
    runbook."""

    week = models.CharField(max_length=8, verbose_name=_("week"))
    week_start = models.DateField(verbose_name=_("week start"))
    runbook = models.ForeignKey(
        "runbooks.Runbook", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("runbook")
    )
    slug = models.CharField(max_length=100, verbose_name=_("slug"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    linked = models.IntegerField(
        default=0, help_text="Items linked to it in the week.", verbose_name=_("linked")
    )
    handled = models.IntegerField(
        default=0, help_text="Items first decided with it in the week.", verbose_name=_("handled")
    )
    used = models.IntegerField(
        default=0, help_text="Items linked or decided with it in the week.", verbose_name=_("used")
    )
    unclear = models.IntegerField(
        default=0, help_text="Flagged unclear in the week.", verbose_name=_("unclear")
    )
    outdated = models.IntegerField(
        default=0, help_text="Flagged outdated in the week.", verbose_name=_("outdated")
    )
    helped = models.IntegerField(
        default=0, help_text="Items whose last answer in the week was: it helped.", verbose_name=_("helped")
    )
    not_helped = models.IntegerField(
        default=0,
        help_text="Items whose last answer in the week was: it did not help.",
        verbose_name=_("not helped"),
    )

    class Meta:
        verbose_name = _("weekly runbook trend")
        verbose_name_plural = _("weekly runbook trends")
        constraints = [models.UniqueConstraint(fields=["week", "slug"], name="runbook_trend_once_per_week")]

    @property
    def flagged(self) -> int:
        return self.unclear + self.not_helped


class WeeklyErrorKind(models.Model):
    """Events in the week of items with no runbook, per service and exception type: where a runbook is
    missing."""

    week = models.CharField(max_length=8, verbose_name=_("week"))
    week_start = models.DateField(verbose_name=_("week start"))
    service = models.ForeignKey(
        "triage.Service", on_delete=models.CASCADE, related_name="+", verbose_name=_("service")
    )
    exception_type = models.CharField(max_length=200, blank=True, verbose_name=_("exception type"))
    events = models.BigIntegerField(default=0, verbose_name=_("events"))
    items = models.IntegerField(default=0, verbose_name=_("items"))

    class Meta:
        verbose_name = _("weekly error kind")
        verbose_name_plural = _("weekly error kinds")
        constraints = [
            models.UniqueConstraint(
                fields=["week", "service", "exception_type"], name="error_kind_once_per_week"
            )
        ]
        indexes = [models.Index(fields=["week", "-events"], name="error_kind_week_events")]


class MeetingDecision(models.Model):
    """What the weekly meeting decided about an item ("fix next sprint", "ignore: expected")."""

    week = models.CharField(max_length=8, verbose_name=_("week"))
    item = models.ForeignKey(
        "triage.TriageItem", on_delete=models.CASCADE, related_name="+", verbose_name=_("item")
    )
    text = models.CharField(max_length=500, verbose_name=_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("meeting decision")
        verbose_name_plural = _("meeting decisions")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["week", "created_at"], name="decision_week_time")]
