"""API shapes: items out, decisions in."""

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import serializers

from common.safe_urls import SafeURLField

from .models import TriageItem

ACTIONS = ("classify", "take", "assign", "ignore", "resolve", "unresolve")


class TriageItemSerializer(serializers.ModelSerializer):
    service = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    exception_type = serializers.CharField(read_only=True)
    exception_value = serializers.CharField(read_only=True)
    regressed = serializers.SerializerMethodField()
    runbook = serializers.SlugRelatedField(
        slug_field="slug",
        read_only=True,
        allow_null=True,
        help_text="Slug of the best-matching runbook, or null.",
    )
    runbook_version = serializers.IntegerField(
        source="runbook_version.number",
        read_only=True,
        allow_null=True,
        help_text="The runbook version pinned when the item was classified, or null.",
    )
    runbook_helped = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="Whether the runbook helped, as its handler said; or null."
    )
    sentry_url = SafeURLField(
        read_only=True, help_text="The issue in Sentry; empty unless it is an http(s) URL."
    )

    class Meta:
        model = TriageItem
        fields = [
            "id",
            "sentry_issue_id",
            "short_id",
            "title",
            "culprit",
            "level",
            "status",
            "service",
            "project_slug",
            "environment",
            "platform",
            "event_count",
            "user_count",
            "first_seen",
            "last_seen",
            "sentry_url",
            "sentry_status",
            "sentry_substatus",
            "exception_type",
            "exception_value",
            "regressed",
            "regressed_at",
            "resolved_at",
            "classification",
            "owner",
            "team",
            "ignore_condition",
            "pinned_note",
            "sentry_sync_state",
            "runbook",
            "runbook_version",
            "runbook_helped",
        ]

    def get_regressed(self, item) -> bool:
        return item.regressed_at is not None and item.is_open


class TriageItemDetailSerializer(TriageItemSerializer):
    class Meta(TriageItemSerializer.Meta):
        fields = TriageItemSerializer.Meta.fields + [
            "tags",
            "latest_event",
            "sentry_assignee",
            "sentry_sync_error",
        ]


class ClassifyInput(serializers.Serializer):
    classification = serializers.ChoiceField(choices=TriageItem.Classification.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    duplicate_of = serializers.PrimaryKeyRelatedField(
        queryset=TriageItem.objects.all(), required=False, allow_null=True, default=None
    )


class AssignInput(serializers.Serializer):
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True), allow_null=True
    )


class IgnoreInput(serializers.Serializer):
    until = serializers.DateTimeField(required=False)
    until_events = serializers.IntegerField(required=False, min_value=1, max_value=10**9)
    until_users = serializers.IntegerField(required=False, min_value=1, max_value=10**9)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")

    def validate(self, data):
        if sum(key in data for key in ("until", "until_events", "until_users")) > 1:
            raise serializers.ValidationError(_("Choose one of until, until_events, until_users."))
        return data


class ResolveInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    in_next_release = serializers.BooleanField(required=False, default=False)


class Answer(serializers.BooleanField):
    default_empty_html = serializers.empty  # a form without the field is an error, not a "no"


class RunbookFeedbackInput(serializers.Serializer):
    helped = Answer(help_text="Whether the item's runbook helped.")


class CommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=10000)


class BulkInput(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=500)
    action = serializers.ChoiceField(choices=ACTIONS)


class BulkResult(serializers.Serializer):
    id = serializers.IntegerField()
    ok = serializers.BooleanField()
    error = serializers.CharField(allow_blank=True)


# The input each action takes (None: no input).
ACTION_INPUTS = {
    "classify": ClassifyInput,
    "assign": AssignInput,
    "ignore": IgnoreInput,
    "resolve": ResolveInput,
    "take": None,
    "unresolve": None,
    "runbook_feedback": RunbookFeedbackInput,
}


def validated_action_input(action, data) -> dict:
    serializer_class = ACTION_INPUTS[action]
    if serializer_class is None:
        return {}
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
