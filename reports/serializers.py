"""The weekly trends JSON, described for the OpenAPI schema (the payload itself is built by
reports.selectors)."""

from rest_framework import serializers


class WeeklyTrendItemSerializer(serializers.Serializer):
    item = serializers.IntegerField()
    short_id = serializers.CharField()
    title = serializers.CharField()
    service = serializers.CharField(help_text="Service slug")
    events = serializers.IntegerField()
    events_prev = serializers.IntegerField()
    delta = serializers.IntegerField()
    toil = serializers.IntegerField(help_text="Actions people took on the item in the week")
    days = serializers.IntegerField(help_text="Distinct days (TIME_ZONE) with events in the week")
    first_seen_in_week = serializers.BooleanField()
    recurring = serializers.BooleanField(help_text="New and already recurring: see rules.recurring")
    spike = serializers.BooleanField(help_text="See rules.spike")
    baseline = serializers.FloatField(
        allow_null=True,
        help_text="Median events of the previous 8 weeks; null below the rule's minimum volume",
    )
    spread = serializers.FloatField(allow_null=True, help_text="max(MAD·1.4826, 1)")


class CoverageFieldsMixin(serializers.Serializer):
    active_items = serializers.IntegerField(help_text="Items with events in the week")
    runbook_items = serializers.IntegerField(help_text="Of those, items with a runbook linked")
    runbook_events = serializers.IntegerField(help_text="Events of items with a runbook linked")


class WeekFiguresMixin(CoverageFieldsMixin):
    data_fix_requests = serializers.IntegerField(help_text="Data-fix requests filed in the week")
    data_fix_closed = serializers.IntegerField(
        help_text="Data-fix requests ops marked done or rejected in the week"
    )
    median_ops_turnaround_s = serializers.FloatField(
        allow_null=True,
        help_text="Median seconds from filing to done or rejected, of the requests closed in the week",
    )


class WeeklyServiceTrendSerializer(WeekFiguresMixin):
    service = serializers.CharField(help_text="Service slug")
    events = serializers.IntegerField()
    events_prev = serializers.IntegerField()
    new_items = serializers.IntegerField()
    regressed = serializers.IntegerField()
    resolved = serializers.IntegerField()
    ignored = serializers.IntegerField()
    open_backlog = serializers.IntegerField(help_text="Items open at the week's end")
    toil = serializers.IntegerField()
    median_time_to_triage_s = serializers.FloatField(allow_null=True)
    median_time_to_resolve_s = serializers.FloatField(allow_null=True)
    spike = serializers.BooleanField()
    baseline = serializers.FloatField(help_text="Median events of the previous 8 weeks")
    spread = serializers.FloatField(help_text="max(MAD·1.4826, 1)")
    classifications = serializers.DictField(child=serializers.IntegerField())


class WeeklyTotalsSerializer(WeekFiguresMixin):
    events = serializers.IntegerField()
    events_prev = serializers.IntegerField()
    new_items = serializers.IntegerField()
    regressed = serializers.IntegerField()
    resolved = serializers.IntegerField()
    ignored = serializers.IntegerField()
    open_backlog = serializers.IntegerField()
    toil = serializers.IntegerField()
    median_time_to_triage_s = serializers.FloatField(allow_null=True)
    median_time_to_resolve_s = serializers.FloatField(allow_null=True)
    classifications = serializers.DictField(child=serializers.IntegerField())


class WeeklyRunbookSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    used = serializers.IntegerField(help_text="Items linked to it or first decided with it in the week")
    linked = serializers.IntegerField()
    handled = serializers.IntegerField(help_text="Items first decided with it in the week")
    unclear = serializers.IntegerField(help_text="Flagged unclear in the week")
    outdated = serializers.IntegerField(help_text="Flagged outdated in the week")
    helped = serializers.IntegerField(help_text="Items whose last answer in the week was that it helped")
    not_helped = serializers.IntegerField(
        help_text="Items whose last answer in the week was that it did not help"
    )


class RunbookCoverageSerializer(CoverageFieldsMixin):
    events = serializers.IntegerField()
    item_share = serializers.FloatField(allow_null=True, help_text="runbook_items / active_items")
    event_share = serializers.FloatField(allow_null=True, help_text="runbook_events / events")


class ErrorKindSerializer(serializers.Serializer):
    service = serializers.CharField(help_text="Service slug")
    exception_type = serializers.CharField(allow_blank=True)
    events = serializers.IntegerField(help_text="Events in the week of items with no runbook")
    items = serializers.IntegerField()


class RulesSerializer(serializers.Serializer):
    spike = serializers.CharField()
    recurring = serializers.CharField()


class WeeklyTrendsSerializer(serializers.Serializer):
    week = serializers.CharField(help_text="ISO week, e.g. 2026-W47")
    week_start = serializers.DateField()
    computed_at = serializers.DateTimeField()
    totals = WeeklyTotalsSerializer()
    services = WeeklyServiceTrendSerializer(many=True)
    top_items = WeeklyTrendItemSerializer(many=True, help_text="Top movers up, then down")
    top_toil = WeeklyTrendItemSerializer(many=True)
    new_recurring = WeeklyTrendItemSerializer(
        many=True, help_text="Items first seen in the week that already recur"
    )
    runbooks = WeeklyRunbookSerializer(many=True, help_text="Runbooks used or flagged in the week")
    runbook_coverage = RunbookCoverageSerializer()
    kinds_without_runbook = ErrorKindSerializer(many=True, help_text="Most events first")
    rules = RulesSerializer()
