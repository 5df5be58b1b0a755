"""Read-only REST API for triage items (token auth; see README)."""

import django_filters
from rest_framework import serializers, viewsets

from .models import TriageItem


class TriageItemSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    exception_type = serializers.CharField(read_only=True)
    exception_value = serializers.CharField(read_only=True)

    class Meta:
        model = TriageItem
        fields = [
            "id", "sentry_issue_id", "short_id", "title", "culprit", "level", "status",
            "service", "project_slug", "environment", "platform", "event_count", "user_count",
            "first_seen", "last_seen", "sentry_url", "sentry_status", "sentry_substatus",
            "exception_type", "exception_value", "regressed_at", "resolved_at",
        ]


class TriageItemDetailSerializer(TriageItemSerializer):
    class Meta(TriageItemSerializer.Meta):
        fields = TriageItemSerializer.Meta.fields + ["tags", "latest_event", "sentry_assignee"]


class TriageItemFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=TriageItem.Status.choices)
    service = django_filters.CharFilter(field_name="service__slug")
    level = django_filters.CharFilter()
    sentry_issue_id = django_filters.CharFilter()

    class Meta:
        model = TriageItem
        fields = ["status", "service", "level", "sentry_issue_id", "environment"]


class TriageItemViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = TriageItem.objects.select_related("service").order_by("-last_seen", "-id")
    filterset_class = TriageItemFilter

    def get_serializer_class(self):
        return TriageItemDetailSerializer if self.action == "retrieve" else TriageItemSerializer
