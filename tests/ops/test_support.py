"""Fixtures and helpers the data-fix tests share (no tests here): an item classified data_fix, API clients."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from ops import services
from tests.factories import item_create, service_get, user_create
from triage.models import Team


def make_data_fix_item(team, n=1, **fields):
    now = timezone.now()
    values = {
        "sentry_issue_id": str(5500 + n),
        "short_id": f"BILLING-{n}",
        "title": f"LedgerError: invoice {n} unbalanced",
        "service": service_get(slug="billing-api", name="Billing API"),
        "first_seen": now - timedelta(days=1),
        "last_seen": now,
        "team": team,
        "classification": "data_fix",
        "status": "triaged",
        "environment": "production",
        **fields,
    }
    return item_create(**values)


@pytest.fixture
def checkout(alice):
    return Team.objects.get(slug="checkout")


@pytest.fixture
def item(checkout):
    return make_data_fix_item(checkout)


@pytest.fixture
def dana(db):
    """Another developer, not on the checkout team."""
    return user_create("dana", email="dana@example.com", groups=("dev",))


@pytest.fixture
def admin_user(db):
    return user_create("ada", email="ada@example.com", groups=("admin",))


def file_request(item, user, **fields):
    return services.datafix_create(
        item=item,
        user=user,
        **{"description": "Set invoice 42's total to 10.00", "urgency": "high", **fields},
    )


class Api:
    """Token-authenticated JSON calls as one user."""

    def __init__(self, client, user):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"}

    def post(self, path, body=None, **extra):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body or {})
        return self.client.post(path, data=data, content_type="application/json", **self.headers, **extra)

    def get(self, path, **params):
        return self.client.get(path, params, **self.headers)


@pytest.fixture
def as_user(client):
    return lambda user: Api(client, user)
