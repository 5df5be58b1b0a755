"""REST API for data-fix requests (token auth): file one from an item, list them, move them on.

403 with a JSON `detail` when your role may not, 409 when the request's state does not allow it;
404 for a request you may not read (ops, admins, the item's team and the requester may), as for a missing one.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from triage.models import TriageItem

from . import permissions, selectors, services
from .models import DataFixRequest
from .serializers import (
    CancelInput,
    CompleteInput,
    DataFixCreateInput,
    DataFixRequestSerializer,
    RejectInput,
    StatesFilter,
)

MAX_BODY_BYTES = 64 * 1024
REFUSALS = {
    403: OpenApiResponse(description="your role may not do this"),
    409: OpenApiResponse(description="the request's state does not allow it"),
}


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request's state does not allow this."
    default_code = "conflict"


class TooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = f"The body is over {MAX_BODY_BYTES // 1024} KiB."
    default_code = "too_large"


def _validated(serializer_class, request):
    if int(request.META.get("CONTENT_LENGTH") or 0) > min(
        MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    ):
        raise TooLarge()
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _run(change, **kwargs):
    try:
        return change(**kwargs)
    except services.TransitionNotAllowed as exc:
        raise Conflict(str(exc)) from None


class ItemDataFixesView(APIView):
    """POST /api/items/<id>/data-fixes/ files a request; GET lists the item's requests."""

    @extend_schema(request=DataFixCreateInput, responses={201: DataFixRequestSerializer, **REFUSALS})
    def post(self, request, id):  # noqa: A002 (the schema names item ids `id`)
        item = get_object_or_404(TriageItem, pk=id)
        if not permissions.can_file(request.user, item):
            raise PermissionDenied(permissions.FILE_DENIED)
        data = _validated(DataFixCreateInput, request)
        created = _run(services.datafix_create, item=item, user=request.user, **data)
        return Response(DataFixRequestSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=DataFixRequestSerializer(many=True))
    def get(self, request, id):  # noqa: A002
        item = get_object_or_404(TriageItem, pk=id)
        requests = selectors.requests_for_item(user=request.user, item=item)
        return Response(DataFixRequestSerializer(requests, many=True).data)


class DataFixRequestViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = DataFixRequestSerializer
    lookup_value_regex = r"\d+"

    queryset = DataFixRequest.objects.none()  # the schema's model; get_queryset answers requests

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DataFixRequest.objects.none()
        if self.action == "list":
            states = StatesFilter(data={"state": self.request.query_params.getlist("state")})
            states.is_valid(raise_exception=True)
            return selectors.requests_for_api(user=self.request.user, states=states.validated_data["state"])
        return selectors.requests_visible_to(
            user=self.request.user
        )  # others' requests are 404, as missing ones

    @extend_schema(parameters=[OpenApiParameter("state", many=True, enum=DataFixRequest.State.values)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def _target(self, name):
        """The request, once the role is known to allow `name`: a refusal comes before any complaint about
        input."""
        target = self.get_object()
        if not permissions.may(self.request.user, name, target):
            raise PermissionDenied(permissions.denied_reason(name))
        return target

    def _answer(self, pk):
        return Response(DataFixRequestSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=None, responses={200: DataFixRequestSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        _run(services.datafix_acknowledge, request_id=self._target("acknowledge").pk, user=request.user)
        return self._answer(pk)

    @extend_schema(request=CompleteInput, responses={200: DataFixRequestSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        target, data = self._target("complete"), _validated(CompleteInput, request)
        _run(services.datafix_complete, request_id=target.pk, user=request.user, result=data["result"])
        return self._answer(pk)

    @extend_schema(request=RejectInput, responses={200: DataFixRequestSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        target, data = self._target("reject"), _validated(RejectInput, request)
        _run(services.datafix_reject, request_id=target.pk, user=request.user, reason=data["reason"])
        return self._answer(pk)

    @extend_schema(request=CancelInput, responses={200: DataFixRequestSerializer, **REFUSALS})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        target, data = self._target("cancel"), _validated(CancelInput, request)
        _run(services.datafix_cancel, request_id=target.pk, user=request.user, note=data["note"])
        return self._answer(pk)
