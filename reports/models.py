"""Weekly trends, computed once a week (reports.services) and kept: the meeting's figures stay fixed."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .spikes import THRESHOLD


class WeekFigures(models.Model):
    """What a service, or the whole organization, did in one ISO week (Monday 00:00 to Monday 00:00 local)."""

    week = models.CharField(max_length=8)  # "2026-W47"
    week_start = models.DateField()
    events = models.BigIntegerField(default=0)
    events_prev = models.BigIntegerField(default=0)
    new_items = models.IntegerField(default=0)
    regressed = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    ignored = models.IntegerField(default=0)
    open_backlog = models.IntegerField(default=0)
    median_time_to_triage_s = models.FloatField(null=True, blank=True)
    median_time_to_resolve_s = models.FloatField(null=True, blank=True)
    toil = models.IntegerField(default=0, help_text="Actions people took on items (activities with an actor).")
    classifications = models.JSONField(default=dict, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class WeeklyServiceTrend(WeekFigures):
    service = models.ForeignKey("triage.Service", on_delete=models.CASCADE, related_name="+")
    spike = models.BooleanField(default=False)
    baseline = models.FloatField(default=0)  # median events of the previous 8 weeks
    spread = models.FloatField(default=0)  # MAD · 1.4826, at least 1

    class Meta:
        constraints = [models.UniqueConstraint(fields=["week", "service"], name="service_trend_once_per_week")]
        indexes = [models.Index(fields=["week_start"], name="service_trend_week_start")]

    @property
    def spike_threshold(self) -> float:
        return self.baseline + THRESHOLD * self.spread


class WeeklyOrgTrend(WeekFigures):
    class Meta:
        constraints = [models.UniqueConstraint(fields=["week"], name="org_trend_once_per_week")]


class WeeklyItemTrend(models.Model):
    """An item with events (or toil) in the week: for the top movers and the most handled."""

    week = models.CharField(max_length=8)
    week_start = models.DateField()
    item = models.ForeignKey("triage.TriageItem", on_delete=models.CASCADE, related_name="+")
    events = models.BigIntegerField(default=0)
    events_prev = models.BigIntegerField(default=0)
    delta = models.BigIntegerField(default=0)
    toil = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["week", "item"], name="item_trend_once_per_week")]
        indexes = [models.Index(fields=["week", "-delta"], name="item_trend_week_delta"),
                   models.Index(fields=["week", "-toil"], name="item_trend_week_toil")]


class MeetingDecision(models.Model):
    """What the weekly meeting decided about an item ("fix next sprint", "ignore: expected")."""

    week = models.CharField(max_length=8)
    item = models.ForeignKey("triage.TriageItem", on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=500)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["week", "created_at"], name="decision_week_time")]
