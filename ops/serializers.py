"""API shapes: a data-fix request out; a new request and each transition's input in."""

import json

from rest_framework import serializers

from .models import DataFixRequest

MAX_PARAMETERS_BYTES = 16 * 1024


class DataFixRequestSerializer(serializers.ModelSerializer):
    item = serializers.PrimaryKeyRelatedField(read_only=True)
    runbook = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    runbook_version = serializers.IntegerField(
        source="runbook_version.number", read_only=True, allow_null=True
    )
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = DataFixRequest
        fields = [
            "id",
            "url",
            "item",
            "state",
            "urgency",
            "description",
            "environment",
            "customer",
            "tenant",
            "parameters",
            "runbook",
            "runbook_version",
            "runbook_section",
            "requested_by",
            "acknowledged_by",
            "closed_by",
            "result",
            "created_at",
            "acknowledged_at",
            "closed_at",
            "due_at",
            "escalation_level",
        ]


class DataFixCreateInput(serializers.Serializer):
    description = serializers.CharField(max_length=10_000, help_text="What to change, and why.")
    urgency = serializers.ChoiceField(
        choices=DataFixRequest.Urgency.choices, default=DataFixRequest.Urgency.NORMAL
    )
    environment = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    customer = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    tenant = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    runbook_section = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    parameters = serializers.DictField(
        required=False, default=dict, help_text="Names and values the fix needs (JSON, up to 16 KiB)."
    )

    def validate_parameters(self, value):
        if len(json.dumps(value)) > MAX_PARAMETERS_BYTES:
            raise serializers.ValidationError(
                f"Parameters are limited to {MAX_PARAMETERS_BYTES // 1024} KiB of JSON."
            )
        return value


class CompleteInput(serializers.Serializer):
    result = serializers.CharField(max_length=10_000, help_text="What was changed.")


class RejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=10_000)


class CancelInput(serializers.Serializer):
    note = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")


class StatesFilter(serializers.Serializer):
    state = serializers.ListField(
        child=serializers.ChoiceField(choices=DataFixRequest.State.choices), required=False, default=list
    )
