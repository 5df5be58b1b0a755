"""GET /api/grouping/suggestions/ and POST /api/grouping/suggestions/<id>/dismiss/ (token auth, like
/api/items/)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from . import selectors, services
from .serializers import DismissInput, SuggestionQuery, SuggestionSerializer


class SuggestionViewSet(viewsets.GenericViewSet):
    serializer_class = SuggestionSerializer
    filter_backends = []

    def get_queryset(self):
        return selectors.suggestion_list(dismissed=None)

    @extend_schema(
        summary="Grouping suggestions",
        tags=["grouping"],
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=["split", "merge"]),
            OpenApiParameter("item", OpenApiTypes.INT),
            OpenApiParameter("dismissed", OpenApiTypes.BOOL),
        ],
        responses={200: SuggestionSerializer(many=True), 400: OpenApiResponse(description="Bad filter")},
    )
    def list(self, request):
        query = SuggestionQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        suggestions = selectors.suggestion_list(
            kind=filters.get("kind"), item_id=filters.get("item"), dismissed=filters["dismissed"]
        )
        page = self.paginate_queryset(suggestions)
        return self.get_paginated_response(SuggestionSerializer(page, many=True).data)

    @extend_schema(
        summary="Dismiss a suggestion until its mix changes materially",
        tags=["grouping"],
        request=DismissInput,
        responses={
            200: SuggestionSerializer,
            400: OpenApiResponse(description="No reason, or too long"),
            403: OpenApiResponse(description="Not a developer"),
            409: OpenApiResponse(description="Already dismissed"),
        },
    )
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        suggestion = self.get_object()
        reason = request.data.get("reason") if isinstance(request.data, dict) else None
        try:  # the service checks who may dismiss before what was sent: 403 before 400
            services.suggestion_dismiss(suggestion_id=suggestion.pk, user=request.user, reason=reason)
        except services.AlreadyDismissed as error:
            return Response({"error": error.message, "detail": error.message}, status=409)
        return Response(SuggestionSerializer(self.get_object()).data)
