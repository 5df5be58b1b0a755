"""Production settings, checked in a fresh process the way a deployment loads them, and the security headers
pages get."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "triage.example.com",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def run(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL", "CELERY_BROKER_URL")
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def setting(name, **env):
    code = f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    result = run("-c", code, **{**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_it_passes_the_deploy_check_with_debug_off(tmp_path):
    result = run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        TRIAGE_VAR_DIR=str(tmp_path),
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run("manage.py", "check", DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings")

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_it_keeps_postgres_connections_open_between_requests():
    assert (
        setting('DATABASES["default"]["CONN_MAX_AGE"]', DATABASE_URL="postgres://u@db:5432/triage") == "600"
    )


def test_it_defaults_to_embedded_sqlite_in_wal_mode_and_a_filesystem_broker(tmp_path):
    env = {"TRIAGE_VAR_DIR": str(tmp_path)}

    assert setting('DATABASES["default"]["NAME"]', **env) == repr(str(tmp_path / "triage.sqlite3"))
    assert "journal_mode=WAL" in setting('DATABASES["default"]["OPTIONS"]["init_command"]', **env)
    assert setting("CELERY_BROKER_URL", **env) == "'filesystem://'"


def test_it_reads_the_login_throttle_from_the_environment():
    env = {"AXES_FAILURE_LIMIT": "5", "AXES_COOLOFF_MINUTES": "60", "TRUSTED_PROXY_COUNT": "1"}

    assert setting("AXES_FAILURE_LIMIT", **env) == "5"
    assert setting("AXES_COOLOFF_TIME", **env) == "datetime.timedelta(seconds=3600)"
    assert setting("TRUSTED_PROXY_COUNT", **env) == "1"
    assert setting("AUTHENTICATION_BACKENDS[0]") == "'axes.backends.AxesStandaloneBackend'"


# --- Content-Security-Policy ------------------------------------------------------------

TEMPLATES = ROOT / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def csp(response):
    return dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/", "/runbooks/", "/ops/", "/grouping/", "/reports/weekly/", "/login/"])
def test_it_serves_a_policy_without_inline_script_or_style_on_pages(alice_client, url):
    policy = csp(alice_client.get(url, follow=True))

    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert (policy["object-src"], policy["frame-ancestors"]) == ("'none'", "'none'")
    assert (policy["base-uri"], policy["form-action"], policy["default-src"]) == ("'self'",) * 3


@pytest.mark.django_db
def test_it_gives_the_api_docs_their_own_policy_and_no_inline_script(alice_client):
    response = alice_client.get("/api/docs/")
    script = alice_client.get("/api/docs/?script=")

    policy = csp(response)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"  # Swagger UI's page has a <style> block
    assert not INLINE_SCRIPT.search(response.content.decode())
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()


@pytest.mark.parametrize(
    "template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_it_keeps_script_and_style_out_of_the_templates(template):
    text = template.read_text()

    assert not INLINE_SCRIPT.search(text)
    assert not EVENT_HANDLER.search(text)
    assert "javascript:" not in text.lower()
    assert not INLINE_STYLE.search(text)


def test_it_takes_the_portals_language_from_the_environment():
    assert setting("LANGUAGE_CODE", LANGUAGE_CODE="ja") == "'ja'"
    assert setting("LANGUAGE_CODE") == "'en'"


def test_it_refuses_to_start_with_an_unknown_language_code():
    code = "import django; django.setup()"
    result = run("-c", code, **PRODUCTION, LANGUAGE_CODE="fr")
    assert result.returncode != 0
    assert "LANGUAGE_CODE must be one of ja, en, not 'fr'." in result.stderr
