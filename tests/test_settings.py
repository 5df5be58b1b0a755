"""Production settings, checked in a fresh process the way a deployment loads them."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "triage.example.com",
              "DJANGO_SETTINGS_MODULE": "config.settings"}


def run(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "DATABASE_URL", "CELERY_BROKER_URL")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=60)


def setting(name, **env):
    code = f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    result = run("-c", code, **{**PRODUCTION, **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_it_passes_the_deploy_check_with_debug_off(tmp_path):
    result = run("manage.py", "check", "--deploy", "--fail-level", "WARNING", TRIAGE_VAR_DIR=str(tmp_path), **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off():
    result = run("manage.py", "check", DEBUG="0", DJANGO_SETTINGS_MODULE="config.settings")

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_it_keeps_postgres_connections_open_between_requests():
    assert setting('DATABASES["default"]["CONN_MAX_AGE"]', DATABASE_URL="postgres://u@db:5432/triage") == "600"


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
