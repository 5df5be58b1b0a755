"""REST API for runbooks (token auth, like /api/items/). Reads anyone logged in; writes dev and admin."""

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from . import diffs, selectors, services
from .matching import runbook_matches
from .models import Runbook, RunbookVersion
from .permissions import NOT_AN_EDITOR, can_edit
from .serializers import (
    DiffOutput,
    MatchInput,
    MatchOutput,
    RestoreInput,
    RunbookCreateInput,
    RunbookListSerializer,
    RunbookPatchInput,
    RunbookSerializer,
    VersionSerializer,
)

WRITES = {"create", "partial_update", "restore"}


class RunbookWritePermission(permissions.BasePermission):
    message = NOT_AN_EDITOR

    def has_permission(self, request, view):
        return view.action not in WRITES or can_edit(request.user)


FILTERS = [
    OpenApiParameter("q", str, description="Full-text search (title weighs more than the body)."),
    OpenApiParameter("service", str, description="Only runbooks for this service slug."),
    OpenApiParameter("team", str, description="Only runbooks of this team slug."),
]


@extend_schema_view(
    list=extend_schema(parameters=FILTERS, description="Most used first; with `q`, best match first."),
    retrieve=extend_schema(description="The runbook with its current version's body and its matchers."),
)
class RunbookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "slug"
    lookup_value_regex = "[A-Za-z0-9_-]+"
    permission_classes = [permissions.IsAuthenticated, RunbookWritePermission]

    def get_queryset(self):
        params = self.request.query_params if self.action == "list" else {}
        return selectors.runbook_search(
            q=params.get("q", ""), service=params.get("service", ""), team=params.get("team", "")
        )

    def get_serializer_class(self):
        return RunbookListSerializer if self.action == "list" else RunbookSerializer

    def get_object(self):
        try:
            return selectors.runbook_get(slug=self.kwargs["slug"])
        except Runbook.DoesNotExist:
            raise Http404(_("No such runbook.")) from None

    @extend_schema(
        request=RunbookCreateInput,
        responses={201: RunbookSerializer},
        description="Create a runbook with its version 1. A bad matcher (e.g. a regex with "
        "lookaround, which RE2 cannot run) answers 400 naming it.",
    )
    def create(self, request):
        data = _valid(RunbookCreateInput, request.data)
        runbook = services.runbook_create(user=request.user, **data)
        return Response(
            RunbookSerializer(selectors.runbook_get(slug=runbook.slug)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=RunbookPatchInput,
        responses=RunbookSerializer,
        description="A changed `body` inserts a new version (`version` in the answer); `matchers` "
        "replace all of them and re-link the open items they affect.",
    )
    def partial_update(self, request, slug=None):
        data = _valid(RunbookPatchInput, request.data)
        runbook = services.runbook_update(runbook=self.get_object(), user=request.user, **data)
        return Response(RunbookSerializer(selectors.runbook_get(slug=runbook.slug)).data)

    @extend_schema(responses=VersionSerializer(many=True), description="Every version, newest first.")
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, slug=None):
        versions = selectors.runbook_versions(runbook=self.get_object())
        return Response(VersionSerializer(versions, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("from", int, required=True), OpenApiParameter("to", int, required=True)],
        responses={
            200: DiffOutput,
            400: OpenApiResponse(description="from/to missing or not numbers"),
            404: OpenApiResponse(description="no such version"),
        },
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, slug=None):
        runbook = self.get_object()
        first, second = (_version_number(request.query_params, key) for key in ("from", "to"))
        old, new = _or_404(selectors.runbook_version_pair, runbook=runbook, first=first, second=second)
        return Response(
            {"from_version": old.number, "to_version": new.number, "unified": diffs.unified(old, new)}
        )

    @extend_schema(
        request=RestoreInput,
        responses={201: RunbookSerializer, 404: OpenApiResponse(description="no such version")},
        description="Insert a copy of version N as the new current version.",
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, slug=None):
        number = _valid(RestoreInput, request.data)["version"]
        runbook = self.get_object()
        _or_404(services.runbook_restore, runbook=runbook, user=request.user, number=number)
        return Response(
            RunbookSerializer(selectors.runbook_get(slug=runbook.slug)).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        request=MatchInput,
        responses=inline_serializer("MatchResults", {"results": MatchOutput(many=True)}),
        description="The runbooks matching an event-like object, most specific first.",
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def match(self, request):
        body = MatchInput(data=request.data)
        body.is_valid(raise_exception=True)
        found = runbook_matches(facts=body.facts(), limit=body.validated_data["limit"])
        return Response({"results": [_match_row(match) for match in found]})


def _valid(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _version_number(params, key) -> int:
    try:
        return int(params[key])
    except (KeyError, ValueError):
        raise ValidationError({key: [_("Give a version number, e.g. ?from=1&to=2.")]}) from None


def _or_404(function, **kwargs):
    try:
        return function(**kwargs)
    except RunbookVersion.DoesNotExist as exc:
        raise Http404(str(exc)) from None


def _match_row(match) -> dict:
    return {
        "slug": match.runbook.slug,
        "title": match.runbook.title,
        "version": match.version.number,
        "score": match.score,
        "group": match.group,
        "url": reverse("runbooks:detail", args=[match.runbook.slug]),
    }
