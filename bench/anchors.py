"""Anchor views: what a Django view costs here with nothing in it, and with one JSON parse + one INSERT.

They run behind the same middleware as the webhook view, so the gap between an anchor
and the intake is what the intake itself adds.
"""

import json

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
@login_not_required
def bare_ok(request):
    return HttpResponse("ok")


@csrf_exempt
@login_not_required
def insert_one(request):
    """bench_anchor is a bench-only table, created by bench/ingest.py with raw SQL."""
    json.loads(request.body)  # the intake parses the body too: the anchor pays the same
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_anchor (body) VALUES (%s::jsonb) RETURNING id", [request.body.decode()]
        )
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)
