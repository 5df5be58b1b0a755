"""API shapes for runbooks: runbooks and versions out; create, patch, restore and match in."""

from rest_framework import serializers

from . import matcher_rules
from .matching import MatchFacts
from .models import Runbook, RunbookMatcher, RunbookVersion


class MatcherSerializer(serializers.Serializer):
    group = serializers.IntegerField(min_value=0, max_value=matcher_rules.MAX_GROUP, default=0)
    field = serializers.CharField(
        max_length=120,
        help_text="service, exception_type, exception_value, culprit, "
        "fingerprint, sentry_issue_id, level, environment, or tag:<key>",
    )
    op = serializers.ChoiceField(choices=matcher_rules.OPS, default="equals")
    value = serializers.CharField(max_length=matcher_rules.MAX_VALUE_LENGTH, trim_whitespace=False)


class MatcherListField(serializers.ListField):
    """Matchers checked as a whole: every bad one named as matchers[i] with what it says and why."""

    child = MatcherSerializer()

    def to_internal_value(self, data):
        items = super().to_internal_value(data)
        specs = [matcher_rules.MatcherSpec(**item) for item in items]
        problems = matcher_rules.check_all(specs, name=lambda i, spec: f"matchers[{i}] ({spec.describe()})")
        if problems:
            raise serializers.ValidationError(problems)
        return specs


class RunbookListSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="current_version.number", read_only=True)
    changed_at = serializers.DateTimeField(source="current_version.created_at", read_only=True)
    use_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Runbook
        fields = [
            "slug",
            "title",
            "services",
            "team",
            "tags",
            "version",
            "changed_at",
            "use_count",
            "created_at",
            "last_used_at",
        ]


class RunbookSerializer(RunbookListSerializer):
    body = serializers.CharField(source="current_version.body", read_only=True)
    summary = serializers.CharField(source="current_version.summary", read_only=True)
    author = serializers.SerializerMethodField()
    matchers = serializers.SerializerMethodField()

    class Meta(RunbookListSerializer.Meta):
        fields = [f for f in RunbookListSerializer.Meta.fields if f != "use_count"] + [
            "body",
            "summary",
            "author",
            "matchers",
        ]

    def get_author(self, runbook) -> str | None:
        author = runbook.current_version.author
        return author.get_username() if author else None

    def get_matchers(self, runbook) -> list[dict]:
        rows = runbook.matchers.order_by("group", "id")
        return MatcherSerializer([_spec(row) for row in rows], many=True).data


def _spec(row: RunbookMatcher) -> dict:
    return {"group": row.group, "field": row.field, "op": row.op, "value": row.value}


class RunbookCreateInput(serializers.Serializer):
    slug = serializers.SlugField(max_length=100)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=200_000)
    summary = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    services = serializers.ListField(
        child=serializers.SlugField(max_length=100), max_length=20, required=False, default=list
    )
    team = serializers.SlugField(max_length=100, required=False, allow_blank=True, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), max_length=20, required=False, default=list
    )
    matchers = MatcherListField(required=False, default=list)


class RunbookPatchInput(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False)
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=200_000, required=False)
    summary = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    services = serializers.ListField(
        child=serializers.SlugField(max_length=100), max_length=20, required=False
    )
    team = serializers.SlugField(max_length=100, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=20, required=False)
    matchers = MatcherListField(required=False)


class VersionSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = RunbookVersion
        fields = ["number", "author", "created_at", "summary", "restored_from"]

    def get_author(self, version) -> str | None:
        return version.author.get_username() if version.author else None


class DiffOutput(serializers.Serializer):
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    unified = serializers.CharField(help_text="A unified diff of the two bodies (empty when they are equal).")


class RestoreInput(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The number of the version to copy.")


class MatchInput(serializers.Serializer):
    """An event-like object: the portal's names, or Sentry's (project, issue_id, exception.values, tags
    pairs)."""

    service = serializers.CharField(required=False, allow_blank=True, max_length=200)
    project = serializers.CharField(required=False, allow_blank=True, max_length=200)
    exception_type = serializers.CharField(required=False, allow_blank=True, max_length=500)
    exception_value = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    exception = serializers.JSONField(
        required=False, help_text='Sentry\'s {"values": [{"type", "value"}, …]}'
    )
    culprit = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    fingerprint = serializers.ListField(
        child=serializers.CharField(max_length=1000), max_length=50, required=False
    )
    sentry_issue_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    issue_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    level = serializers.CharField(required=False, allow_blank=True, max_length=32)
    environment = serializers.CharField(required=False, allow_blank=True, max_length=200)
    tags = serializers.JSONField(required=False, help_text="{key: value} or Sentry's [[key, value], …]")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100, default=10)

    def validate_exception(self, value):
        values = value.get("values") if isinstance(value, dict) else None
        if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
            raise serializers.ValidationError('Expected {"values": [{"type": …, "value": …}, …]}.')
        return values

    def validate_tags(self, value) -> dict:
        pairs = list(value.items()) if isinstance(value, dict) else value
        if not isinstance(pairs, list) or any(_tag_pair(pair) is None for pair in pairs):
            raise serializers.ValidationError(
                'Expected {key: value}, [[key, value], …] or [{"key": …, "value": …}].'
            )
        # Sentry sends null for a tag without a value: such a tag matches nothing.
        return {str(key): str(tag) for key, tag in map(_tag_pair, pairs) if tag is not None}

    def facts(self) -> MatchFacts:
        data = self.validated_data
        main = data.get("exception", [{}])[-1] if data.get("exception") else {}  # Sentry: outermost last
        return MatchFacts(
            service=data.get("service") or data.get("project", ""),
            exception_type=data.get("exception_type") or str(main.get("type") or ""),
            exception_value=data.get("exception_value") or str(main.get("value") or ""),
            culprit=data.get("culprit", ""),
            fingerprint=tuple(data.get("fingerprint", ())),
            sentry_issue_id=data.get("sentry_issue_id") or data.get("issue_id", ""),
            level=data.get("level", ""),
            environment=data.get("environment", ""),
            tags=data.get("tags", {}),
        )


def _tag_pair(pair) -> tuple | None:
    """(key, value) from Sentry's [key, value] or {"key", "value"} (or a dict item); None if neither."""
    if isinstance(pair, dict) and "key" in pair:
        return pair["key"], pair.get("value")
    if isinstance(pair, list | tuple) and len(pair) == 2 and isinstance(pair[0], str):
        return pair[0], pair[1]
    return None


class MatchOutput(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    version = serializers.IntegerField()
    score = serializers.IntegerField(help_text="Specificity: higher wins (see runbooks.matcher_rules).")
    group = serializers.IntegerField()
    url = serializers.CharField()
