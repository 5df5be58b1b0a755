"""API shapes: suggestions out, dismissals in."""

from rest_framework import serializers

from .models import Suggestion
from .services import MAX_REASON


class ExampleSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    value = serializers.CharField(help_text="The inner exception's message, as sent (first 500 characters)")
    timestamp = serializers.DateTimeField()


class GroupSerializer(serializers.Serializer):
    service = serializers.CharField(help_text="The event's `service` tag, else the Sentry project slug")
    exception_type = serializers.CharField(help_text="The innermost exception of the chain")
    message_template = serializers.CharField(
        help_text="Its message with numbers, ids, UUIDs, hex, quoted strings, "
        "paths, URLs and e-mails replaced by placeholders"
    )
    events = serializers.IntegerField(help_text="Events of the last 30 days")
    share = serializers.FloatField(help_text="Share of the suggestion's events, 0 to 1")
    example = ExampleSerializer(required=False)
    item_id = serializers.IntegerField(required=False, help_text="Merges: the item this group is")
    culprit = serializers.CharField(required=False)


class DismissalSerializer(serializers.Serializer):
    reason = serializers.CharField()
    by = serializers.CharField(source="by.username", allow_null=True, default=None)
    created_at = serializers.DateTimeField()


class SuggestionSerializer(serializers.ModelSerializer):
    item_ids = serializers.SerializerMethodField()
    groups = GroupSerializer(many=True)
    dismissal = DismissalSerializer(allow_null=True)
    proposed_rule = serializers.CharField(source="rule", help_text="Sentry fingerprint rules, ready to paste")

    class Meta:
        model = Suggestion
        fields = [
            "id",
            "kind",
            "item_ids",
            "events",
            "groups",
            "other_events",
            "proposed_rule",
            "preview_issues",
            "signature",
            "dismissal",
            "found_at",
            "computed_at",
        ]

    def get_item_ids(self, suggestion) -> list[int]:
        return sorted(item.pk for item in suggestion.items.all())


class SuggestionQuery(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Suggestion.Kind.choices, required=False)
    item = serializers.IntegerField(
        required=False, min_value=1, help_text="Only suggestions involving this item"
    )
    dismissed = serializers.BooleanField(
        required=False, default=False, help_text="true: the dismissed suggestions instead of the open ones"
    )


class DismissInput(serializers.Serializer):
    reason = serializers.CharField(max_length=MAX_REASON, help_text="Why it is dismissed: shown on the page")
