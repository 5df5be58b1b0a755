"""GET /api/trends/weekly/?week=YYYY-Www: a computed week's figures as JSON (token auth, like /api/items/)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .serializers import WeeklyTrendsSerializer
from .weeks import BadWeek, week_parse


class WeeklyTrendsView(APIView):
    @extend_schema(
        summary="Weekly error trends",
        tags=["trends"],
        parameters=[
            OpenApiParameter(
                "week",
                OpenApiTypes.STR,
                description="ISO week, e.g. 2026-W47 (default: the latest computed week)",
            )
        ],
        responses={
            200: WeeklyTrendsSerializer,
            400: OpenApiResponse(description="Malformed week"),
            404: OpenApiResponse(description="Week not computed"),
        },
    )
    def get(self, request):
        try:
            week = (
                week_parse(request.query_params["week"])
                if "week" in request.query_params
                else selectors.week_latest_computed()
            )
        except BadWeek as error:
            return Response({"detail": str(error)}, status=400)
        payload = selectors.trends_payload(week=week) if week else None
        if payload is None:
            return Response({"detail": f"{week or 'No week'} has not been computed."}, status=404)
        return Response(payload)
