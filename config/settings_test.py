"""Test settings: the real services when they answer (CI makes sure they do), embedded ones otherwise."""

import os
import socket


def _reachable(host, port):
    try:
        socket.create_connection((host, port), timeout=0.3).close()
        return True
    except OSError:
        return False


os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-" + "x" * 20)
os.environ.setdefault("SENTRY_CLIENT_SECRET", "test-client-secret")
os.environ.setdefault("SENTRY_LEGACY_TOKEN", "test-legacy-token")
os.environ.setdefault("SENTRY_ORG_SLUG", "test-org")
if not os.environ.get("DATABASE_URL") and _reachable("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/triage"
if not os.environ.get("CELERY_BROKER_URL"):
    os.environ["CELERY_BROKER_URL"] = (
        f"redis://127.0.0.1:6379/{os.environ.get('TEST_REDIS_DB', '15')}"
        if _reachable("127.0.0.1", 6379)
        else "memory://"
    )

from .settings import *  # noqa: E402,F403
from .settings import AUTHENTICATION_BACKENDS, DATABASES  # noqa: E402

DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME", "test_triage")}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Axes stays on in tests; only Django's test client.login(), which authenticates with no request, skips it.
AUTHENTICATION_BACKENDS = ["config.settings_test.RequestlessLoginAxesBackend", *AUTHENTICATION_BACKENDS[1:]]
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None


class RequestlessLoginAxesBackend:
    """Every login view passes the request; only client.login() does not, and it guesses no passwords."""

    def authenticate(self, request, *args, **kwargs):
        if request is None:
            return None
        from axes.backends import AxesStandaloneBackend  # not at import: axes reads settings as they load

        return AxesStandaloneBackend().authenticate(request, *args, **kwargs)
