import contextlib
import os
import shutil

import pytest
import redis
from django.db import connection

from integrations.models import WebhookDelivery
from integrations.services import deliveries_process, delivery_process
from tests.factories import team_create, user_create
from tests.processes import flush_broker, port_open

# CI sets REQUIRE_SERVICES=1: there a test that needs PostgreSQL, Redis, a worker
# or Chromium must run, so a missing service fails the run instead of skipping.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


def _redis_is_broker():
    from django.conf import settings

    return settings.CELERY_BROKER_URL.startswith("redis://") and port_open(6379)


def _missing_service(marker_name):
    if marker_name == "postgres" and connection.vendor != "postgresql":
        return "needs PostgreSQL: start it on 127.0.0.1:5432 or set DATABASE_URL (see .ci/run)"
    if marker_name in ("redis", "worker") and not _redis_is_broker():
        return "needs Redis on 127.0.0.1:6379 as the Celery broker (see .ci/run)"
    if marker_name == "worker" and connection.vendor != "postgresql":
        return "a worker process shares the test database, which needs PostgreSQL"
    if marker_name == "browser" and not os.path.exists(CHROMIUM):
        return "needs Debian's chromium (apt-get install chromium) or CHROMIUM_PATH"
    return None


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "worker", "browser"):
        if item.get_closest_marker(marker) and (reason := _missing_service(marker)):
            if REQUIRE_SERVICES:
                pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
            pytest.skip(reason)


@pytest.fixture(autouse=True)
def free_drain_flags():
    """Each test starts with no drain scheduled, as a fresh deployment does."""
    from integrations import drain

    drain._redis.cache_clear()
    drain._flag_seen_held_at = -1.0
    if client := drain._redis():
        with contextlib.suppress(redis.RedisError):  # Redis is down; the tests that need it say so
            client.delete(*(drain.FLAG.format(slot=slot) for slot in range(4)))


@pytest.fixture
def clean_broker():
    """An empty broker before and after: a worker test must not take another test's tasks."""
    flush_broker()
    yield
    flush_broker()


@pytest.fixture(params=["one at a time", "in one batch"])
def process_all(request):
    """Process what is pending as a retry or replay does (one by one) and as the drain does (a batch)."""

    def process():
        pending = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING)
        ids = list(pending.order_by("pk").values_list("pk", flat=True))
        if request.param == "one at a time":
            return [delivery_process(delivery_id=pk) for pk in ids]
        statuses = deliveries_process(delivery_ids=ids)
        return [statuses[pk] for pk in ids]

    return process


@pytest.fixture
def alice(db):
    """A developer on the checkout team."""
    user = user_create("alice", groups=("dev",), email="alice@example.com")
    team_create(slug="checkout", name="Checkout", members=[user])
    return user


@pytest.fixture
def bob(db):
    """An ops engineer."""
    return user_create("bob", groups=("ops",), email="bob@example.com")


@pytest.fixture
def charlie(db):
    """A logged-in user with no role: can read, nothing else."""
    return user_create("charlie", groups=())


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client
