"""/healthz: what load balancers and `docker compose` poll. No login; 200 only when the database and broker
answer."""

import time

import pytest

DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.mark.django_db
def test_it_reports_ok_without_a_login(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_it_answers_503_quickly_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = DEAD_BROKER

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "broker": "error"}
    assert elapsed < 1.5  # a health check that hangs is as bad as one that lies


@pytest.mark.django_db
def test_it_keeps_the_failure_details_in_the_log_not_the_answer(client, settings, caplog):
    settings.CELERY_BROKER_URL = DEAD_BROKER

    response = client.get("/healthz")

    # Anyone may call /healthz: internal host names and exception texts are for the log only.
    assert "127.0.0.1:1" not in response.content.decode()
    assert "Error" not in response.content.decode()
    assert any("broker" in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.django_db
def test_it_checks_the_broker_afresh_on_every_request(client, settings):
    reachable = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = DEAD_BROKER
    assert client.get("/healthz").status_code == 503

    settings.CELERY_BROKER_URL = reachable

    assert client.get("/healthz").status_code == 200


def test_it_answers_503_when_the_database_refuses_queries(client):
    # No django_db mark: pytest-django makes every query raise, as a database that is down would.
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "broker": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_it_refuses_other_methods_with_405(client, method):
    response = getattr(client, method)("/healthz")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_it_answers_head_for_load_balancer_probes(client):
    assert client.head("/healthz").status_code == 200
