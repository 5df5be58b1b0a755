"""Secrets out of stored errors and log lines: common.redaction, its logging filter, and the logging of
Django (django.request, django.server under runserver) and of gunicorn (access and error log) as deployed."""

import io
import logging
import subprocess
import sys

import pytest
import requests

from common.logging import RedactingFilter
from common.redaction import redact
from tests.helpers import compact, sample
from tests.processes import (
    BIN,
    ROOT,
    _free_port,
    _running,
    celery_worker,
    flush_broker,
    port_open,
    process_env,
    wait_for,
    web_server,
)

SLACK_PATH = "/services/T000/B000/XXXX"
LEGACY_TOKEN = "legacy-0123456789abcdef"  # the secret the tests look for in every line


def refused_error(path):
    """What requests really says when the webhook's host is down: the path comes back in `url: ...`."""
    try:
        requests.post(f"http://127.0.0.1:1{path}", timeout=2)
    except requests.ConnectionError as exc:
        return f"could not reach http://127.0.0.1:1{path}: {exc}"
    raise AssertionError("port 1 answered")


def test_it_keeps_only_the_scheme_and_host_of_a_full_url():
    assert (
        redact(f"https://hooks.slack.com{SLACK_PATH} answered HTTP 404: no_service")
        == "https://hooks.slack.com/[redacted] answered HTTP 404: no_service"
    )
    assert (
        redact("https://user:pw@example.com:8443/hook?token=abc#x.") == "https://example.com:8443/[redacted]."
    )
    assert redact("redis://:s3cret@redis:6379/0 is down") == "redis://redis:6379/[redacted] is down"
    assert (
        redact("see https://example.com/ and https://example.com")
        == "see https://example.com/ and https://example.com"
    )


def test_it_redacts_the_path_requests_repeats_in_its_errors():
    error = refused_error(SLACK_PATH + "?token=abc")

    assert "url: /services" in error  # requests' own wording, so the pattern below is the real one
    cleaned = redact(error)
    assert "T000" not in cleaned and "XXXX" not in cleaned and "abc" not in cleaned
    assert (
        "url: /[redacted]" in cleaned
        and "host='127.0.0.1', port=1" in cleaned
        and "Connection refused" in cleaned
    )


def test_it_redacts_the_legacy_webhook_token_and_token_like_values():
    assert (
        redact(f'"POST /integrations/sentry/legacy/{LEGACY_TOKEN}/ HTTP/1.1" 202')
        == '"POST /integrations/sentry/legacy/[redacted]/ HTTP/1.1" 202'
    )
    assert redact("GET /items/?q=ledger&token=abc&page=2") == "GET /items/?q=ledger&token=[redacted]&page=2"
    assert redact("Authorization: Bearer eyJhbGciOi.x.y") == "Authorization: [redacted]"
    assert redact("Bearer eyJhbGciOi.x.y expired") == "Bearer [redacted] expired"
    assert redact("Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b") == "Token [redacted]"
    assert (
        redact("SENTRY_AUTH_TOKEN=sntrys_abc and {'api_key': 'k1'}")
        == "SENTRY_AUTH_TOKEN=[redacted] and {'api_key': '[redacted]'}"
    )


def test_it_leaves_ordinary_text_and_portal_paths_alone():
    for text in (
        "Token expired",
        "the token is wrong",
        "GET /items/42/?page=2 HTTP/1.1",
        "Not Found: /ops/requests/9/",
    ):
        assert redact(text) == text


def test_it_changes_nothing_the_second_time():
    for text in (
        refused_error(SLACK_PATH),
        f"/integrations/sentry/legacy/{LEGACY_TOKEN}/",
        "Token 9944b09199c62bcf94",
    ):
        assert redact(redact(text)) == redact(text)


def logged_through_filter(logger_name, *args, **kwargs):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        logger.error(*args, **kwargs)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_the_filter_redacts_the_message_its_arguments_and_the_traceback():
    try:
        raise ConnectionError(f"could not reach https://hooks.slack.com{SLACK_PATH}")
    except ConnectionError:
        line = logged_through_filter(
            "tests.redaction",
            "Notification %s failed: %s",
            7,
            f"https://hooks.slack.com{SLACK_PATH}",
            exc_info=True,
        )

    assert "XXXX" not in line
    assert line.count("https://hooks.slack.com/[redacted]") == 2 and "Notification 7 failed" in line
    assert "Traceback" in line and "ConnectionError" in line


def test_the_filter_leaves_a_record_with_bad_arguments_for_the_handler_to_report():
    record = logging.LogRecord("tests.redaction", logging.ERROR, __file__, 1, "%d items", ("many",), None)

    assert RedactingFilter().filter(record) is True  # raising here would break the caller's logging call
    assert (record.msg, record.args) == ("%d items", ("many",))


def console_handler():
    return next(handler for handler in logging.getLogger().handlers if handler.get_name() == "console")


@pytest.mark.django_db
def test_it_redacts_django_requests_error_lines_through_the_configured_logging(client):
    stream = io.StringIO()
    previous = console_handler().setStream(stream)
    try:
        client.get(
            f"/integrations/sentry/legacy/{LEGACY_TOKEN}/"
        )  # a 405: django.request warns with the path
        try:
            raise RuntimeError(f"failed on /integrations/sentry/legacy/{LEGACY_TOKEN}/")
        except RuntimeError:
            logging.getLogger("django.request").error(
                "Internal Server Error: %s", f"/integrations/sentry/legacy/{LEGACY_TOKEN}/", exc_info=True
            )
    finally:
        console_handler().setStream(previous)

    log = stream.getvalue()
    assert LEGACY_TOKEN not in log
    assert "Method Not Allowed: /integrations/sentry/legacy/[redacted]/" in log
    assert "Internal Server Error: /integrations/sentry/legacy/[redacted]/" in log
    assert "RuntimeError: failed on /integrations/sentry/legacy/[redacted]/" in log


def post_legacy(base_url, token):
    return requests.post(
        f"{base_url}/integrations/sentry/legacy/{token}/",
        data=compact(sample("legacy-plugin-webhook")),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_its_config_logs_the_legacy_webhook_without_its_token(tmp_path):
    port, log = _free_port(), tmp_path / "gunicorn.log"
    command = [
        str(BIN / "gunicorn"),
        "config.wsgi",
        "-c",
        "config/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--no-control-socket",
    ]  # no socket shared with another gunicorn here
    with _running(command, log, process_env(SENTRY_LEGACY_TOKEN=LEGACY_TOKEN)):
        wait_for(lambda: port_open(port), timeout=30, message=f"gunicorn listening ({log})")
        assert post_legacy(f"http://127.0.0.1:{port}", LEGACY_TOKEN).status_code == 202
        assert post_legacy(f"http://127.0.0.1:{port}", LEGACY_TOKEN + "-guess").status_code == 401
        wait_for(
            lambda: log.read_text().count("/integrations/sentry/legacy/[redacted]/") >= 3,
            message=f"the access lines and Django's warning ({log})",
        )

    text = log.read_text()
    assert LEGACY_TOKEN not in text
    assert '"POST /integrations/sentry/legacy/[redacted]/ HTTP/1.1" 202' in text  # the access log line
    assert '"POST /integrations/sentry/legacy/[redacted]/ HTTP/1.1" 401' in text
    assert "Unauthorized: /integrations/sentry/legacy/[redacted]/" in text  # django.request, in the worker


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_runserver_logs_the_legacy_webhook_without_its_token(tmp_path):
    with web_server(tmp_path, SENTRY_LEGACY_TOKEN=LEGACY_TOKEN) as base_url:
        assert post_legacy(base_url, LEGACY_TOKEN).status_code == 202
        wait_for(
            lambda: "/integrations/sentry/legacy/[redacted]/" in (tmp_path / "web.log").read_text(),
            message="django.server's line",
        )

    text = (tmp_path / "web.log").read_text()
    assert LEGACY_TOKEN not in text and '"POST /integrations/sentry/legacy/[redacted]/ HTTP/1.1" 202' in text


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_logs_a_message_it_refuses_without_the_secret_in_it(tmp_path):
    from config.celery import app

    flush_broker()
    with celery_worker(tmp_path):
        # A worker logs the whole body of a task it does not know: here, a webhook URL that is a secret.
        app.send_task("integrations.tasks.no_such_task", args=[f"https://hooks.slack.com{SLACK_PATH}"])
        wait_for(
            lambda: "no_such_task" in (tmp_path / "worker.log").read_text(), message="the worker's error line"
        )

    text = (tmp_path / "worker.log").read_text()
    assert SLACK_PATH not in text and "https://hooks.slack.com" in text


def test_the_package_imports_no_app_and_no_django():
    code = (
        "import sys, common.logging, common.redaction; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'ops', 'integrations',"
        " 'triage')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
