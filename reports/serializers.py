"""The weekly trends JSON, described for the OpenAPI schema (the payload itself is built by reports.selectors)."""

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


class WeeklyServiceTrendSerializer(serializers.Serializer):
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


class WeeklyTotalsSerializer(serializers.Serializer):
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


class WeeklyTrendsSerializer(serializers.Serializer):
    week = serializers.CharField(help_text="ISO week, e.g. 2026-W47")
    week_start = serializers.DateField()
    computed_at = serializers.DateTimeField()
    totals = WeeklyTotalsSerializer()
    services = WeeklyServiceTrendSerializer(many=True)
    top_items = WeeklyTrendItemSerializer(many=True, help_text="Top movers up, then down")
    top_toil = WeeklyTrendItemSerializer(many=True)
