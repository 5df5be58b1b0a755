"""REST API for triage items: read, and the decisions people make (token auth; see README)."""

import django_filters
from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import actions, selectors
from .models import TriageItem
from .serializers import (
    ACTIONS,
    AssignInput,
    BulkInput,
    BulkResult,
    ClassifyInput,
    CommentInput,
    IgnoreInput,
    ResolveInput,
    RunbookFeedbackInput,
    TriageItemDetailSerializer,
    TriageItemSerializer,
    validated_action_input,
)


class TriageItemFilter(django_filters.FilterSet):
    # distinct=False: an item matches one status at a time, and DISTINCT over every column is costly.
    status = django_filters.MultipleChoiceFilter(choices=TriageItem.Status.choices, distinct=False)
    classification = django_filters.MultipleChoiceFilter(
        choices=TriageItem.Classification.choices, distinct=False
    )
    service = django_filters.CharFilter(field_name="service__slug")
    team = django_filters.CharFilter(field_name="team__slug")
    owner = django_filters.CharFilter(field_name="owner__username")
    level = django_filters.CharFilter()
    sentry_issue_id = django_filters.CharFilter()

    class Meta:
        model = TriageItem
        fields = [
            "status",
            "classification",
            "service",
            "team",
            "owner",
            "level",
            "sentry_issue_id",
            "environment",
        ]


class TriageItemViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = selectors.item_queryset()
    filterset_class = TriageItemFilter

    def get_serializer_class(self):
        return TriageItemSerializer if self.action == "list" else TriageItemDetailSerializer

    def _perform(self, request, name):
        item = self.get_object()
        actions.item_perform(
            item=item, user=request.user, action=name, data=validated_action_input(name, request.data)
        )
        return Response(TriageItemDetailSerializer(self.get_object()).data)

    @extend_schema(request=ClassifyInput, responses=TriageItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def classify(self, request, pk=None):
        return self._perform(request, "classify")

    @extend_schema(request=None, responses=TriageItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def take(self, request, pk=None):
        return self._perform(request, "take")

    @extend_schema(request=AssignInput, responses=TriageItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._perform(request, "assign")

    @extend_schema(request=IgnoreInput, responses=TriageItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def ignore(self, request, pk=None):
        return self._perform(request, "ignore")

    @extend_schema(request=ResolveInput, responses=TriageItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        return self._perform(request, "resolve")

    @extend_schema(request=None, responses=TriageItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def unresolve(self, request, pk=None):
        return self._perform(request, "unresolve")

    @extend_schema(
        request=RunbookFeedbackInput,
        description="Say whether the item's runbook helped; it counts in "
        "the runbook's usefulness figures (per version, on the runbook's page). It can be changed.",
        responses={
            200: TriageItemDetailSerializer,
            400: OpenApiResponse(description="`helped` missing or not a boolean, or no runbook"),
            403: OpenApiResponse(description="you may not change this item"),
        },
    )
    @action(detail=True, methods=["post"], url_path="runbook-feedback")
    def runbook_feedback(self, request, pk=None):
        return self._perform(request, "runbook_feedback")

    @extend_schema(request=CommentInput, responses=TriageItemDetailSerializer)
    @action(detail=True, methods=["post"])
    def comments(self, request, pk=None):
        item = self.get_object()
        body = CommentInput(data=request.data)
        body.is_valid(raise_exception=True)
        actions.item_comment(item=item, user=request.user, body=body.validated_data["body"])
        return Response(TriageItemDetailSerializer(item).data)

    @extend_schema(
        request=BulkInput,
        responses=BulkResult(many=True),
        description=f"Run one action ({', '.join(ACTIONS)}) on many items; the action's "
        "own fields go beside `ids` and `action`. Each item succeeds or fails on its own.",
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        bulk = BulkInput(data=request.data)
        bulk.is_valid(raise_exception=True)
        name = bulk.validated_data["action"]
        data = validated_action_input(name, request.data)
        items = self.get_queryset().filter(pk__in=bulk.validated_data["ids"])
        results = [_bulk_one(item, request.user, name, data) for item in items]
        return Response({"results": results}, status=status.HTTP_200_OK)


def _bulk_one(item, user, name, data):
    try:
        actions.item_perform(item=item, user=user, action=name, data=data)
        return {"id": item.pk, "ok": True, "error": ""}
    except (PermissionDenied, ValidationError) as exc:
        return {"id": item.pk, "ok": False, "error": "; ".join(getattr(exc, "messages", [str(exc)]))}
