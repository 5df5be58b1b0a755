"""Settings come from the environment only; README.md has the table."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TRIAGE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a local demo).")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",  # password login throttling (issue 18)
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "triage",
    "runbooks",
    "integrations",
    "reports",
    "ops",  # data fixes and ops escalation (issue 5)
    "grouping",  # grouping advisor (issue 7)
    "accounts",  # a person's language and time zone (issue 14)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # after sessions, before common, as Django asks
    "django.middleware.common.CommonMiddleware",
    "config.middleware.StorableTextMiddleware",  # before anything reads a query or a form (issue 18)
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PreferenceMiddleware",  # a saved language wins over LocaleMiddleware's pick
    "config.middleware.PortalLoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a login refused for a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            "builtins": ["common.moments"],  # |moment, |ago, |day: one format per kind of date (issue 14)
        },
    },
]

# --- Database -----------------------------------------------------------------
# SQLite is the embedded default (make run); PostgreSQL in production and CI.
# Connections stay open between requests: reconnecting per request costs a
# write endpoint here most of its throughput (see bench/ingest.py).
DEFAULT_SQLITE_URL = f"sqlite:///{VAR_DIR / 'triage.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or DEFAULT_SQLITE_URL
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite creates the file, not its folder
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE takes
        # the write lock up front so concurrent writers queue instead of failing.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# axes first: it refuses a locked-out username and address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Japanese first, English second (issue 14). A browser's Accept-Language picks one of LANGUAGES;
# LANGUAGE_CODE is what a browser asking for neither gets.
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LANGUAGE_CODE = os.environ.get("LANGUAGE_CODE", "en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}, not {LANGUAGE_CODE!r}."
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # one format per kind of date, per language
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Security (manage.py check --deploy is clean with DEBUG=0) ----------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"
# No inline script or style anywhere (templates/ and static/js/ only): an injected <script> does not run.
# data: is for the favicon and the search box's icon. The API docs have their own policy (config/urls.py).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Password login throttling (django-axes) ------------------------------------
# Failures count per username *and* client address: guessing alice's password from one address
# locks alice out of that address only, so nobody can lock a colleague out from elsewhere.
# A successful login clears that pair's count; every try while locked restarts the cool-off.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_COOLOFF_MINUTES = int(os.environ.get("AXES_COOLOFF_MINUTES", "15"))
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_CLIENT_IP_CALLABLE = "config.settings.client_address"
# Proxies in front of the portal that append the client's address to X-Forwarded-For (1 behind a
# TLS-terminating proxy). 0 trusts no header: behind a proxy every client then shares its address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))


def client_address(request):
    """The client's address as the nearest trusted proxy saw it: what a client writes itself is further
    left."""
    from django.conf import settings  # at request time, so tests can change the count

    forwarded = [
        part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
    ]
    if settings.TRUSTED_PROXY_COUNT and len(forwarded) >= settings.TRUSTED_PROXY_COUNT:
        return forwarded[-settings.TRUSTED_PROXY_COUNT]
    return request.META.get("REMOTE_ADDR")


# --- API ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "config.storable.StorableJSONParser",
        "config.storable.StorableFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],  # NUL refused or dropped (issue 18)
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Triage Portal API",
    "DESCRIPTION": "Triage items created from Sentry webhooks. Authenticate with "
    "`Authorization: Token <key>` (manage.py drf_create_token USER).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery -------------------------------------------------------------------
# The embedded default is kombu's filesystem transport: nothing to install.
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
else:
    # Fail fast when the broker is down: the webhook view must answer Sentry
    # within a second, and the beat task re-enqueues what could not be sent.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Publishing gives up after one immediate retry (kombu's default sleeps ~2 s).
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
        "socket_connect_timeout": 0.5,
        "socket_timeout": 2,
        "visibility_timeout": 3600,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# Celery's Django fixup closes the database connection around every task unless told to
# reuse it: reconnecting per task was a third of the worker's time (bench/ingest.py).
CELERY_DB_REUSE_MAX = 1000
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
MORNING_DIGEST_TIME = os.environ.get("MORNING_DIGEST_TIME", "08:30")  # in TIME_ZONE
MORNING_DIGEST_DAYS = os.environ.get("MORNING_DIGEST_DAYS", "mon-fri")
DIGEST_STALE_DAYS = int(os.environ.get("DIGEST_STALE_DAYS", "7"))
CELERY_BEAT_SCHEDULE = {
    "morning-digest": {
        "task": "triage.tasks.send_morning_digests",
        "schedule": crontab(
            hour=MORNING_DIGEST_TIME.split(":")[0],
            minute=MORNING_DIGEST_TIME.split(":")[1],
            day_of_week=MORNING_DIGEST_DAYS,
        ),
    },
    "wake-expired-ignores": {"task": "triage.tasks.wake_expired_ignores", "schedule": 60.0},
    "requeue-stale-deliveries": {
        "task": "integrations.tasks.requeue_stale_deliveries",
        "schedule": 60.0,
    },
    "requeue-stale-sentry-syncs": {
        "task": "integrations.tasks.requeue_stale_sentry_syncs",
        "schedule": 60.0,
    },
    "reconcile-from-sentry": {
        "task": "integrations.tasks.reconcile_from_sentry",
        "schedule": 600.0,
    },
    # Sentry changes that came with no event (resolved, ignored, reassigned) while webhooks were missed.
    "sweep-sentry-issues": {
        "task": "integrations.tasks.sweep_sentry_issues",
        "schedule": float(os.environ.get("SENTRY_SWEEP_EVERY_SECONDS", "3600")),
    },
    # Data fixes (issue 5): escalate requests ops have not acknowledged in time; resend what got lost.
    "ops-escalation-scan": {"task": "ops.tasks.escalation_scan", "schedule": 60.0},
    "ops-requeue-notifications": {"task": "ops.tasks.requeue_stale_notifications", "schedule": 60.0},
    # Weekly report (issue 6): the ISO week that just ended, Mondays 06:00 in TIME_ZONE.
    "weekly-trends": {
        "task": "reports.tasks.compute_last_week_trends",
        "schedule": crontab(hour=6, minute=0, day_of_week="mon"),
    },
    # Grouping advisor (issue 7): items with new events nightly, every item once a week.
    "grouping-suggestions": {
        "task": "grouping.tasks.recompute_grouping_suggestions",
        "schedule": crontab(hour=3, minute=30),
    },
}

# --- Sentry -------------------------------------------------------------------
SENTRY_CLIENT_SECRET = os.environ.get("SENTRY_CLIENT_SECRET", "")
SENTRY_LEGACY_TOKEN = os.environ.get("SENTRY_LEGACY_TOKEN", "")
# The Sentry host; API paths (/api/0/...) are appended to it.
SENTRY_API_URL = os.environ.get("SENTRY_API_URL", "https://sentry.io").rstrip("/")
SENTRY_ORG_SLUG = os.environ.get("SENTRY_ORG_SLUG", "")
SENTRY_AUTH_TOKEN = os.environ.get("SENTRY_AUTH_TOKEN", "")
# Pushing portal changes to Sentry: tries per change, and the exponential backoff between them.
SENTRY_SYNC_MAX_ATTEMPTS = int(os.environ.get("SENTRY_SYNC_MAX_ATTEMPTS", "6"))
SENTRY_SYNC_BACKOFF_SECONDS = float(os.environ.get("SENTRY_SYNC_BACKOFF_SECONDS", "2"))
SENTRY_SYNC_BACKOFF_MAX_SECONDS = float(os.environ.get("SENTRY_SYNC_BACKOFF_MAX_SECONDS", "300"))
SENTRY_SYNC_STALE_SECONDS = 60  # a push due this long ago and not running is re-enqueued by beat
SENTRY_ECHO_WINDOW_SECONDS = 300  # an issue webhook equal to what we pushed this recently is our echo
# Reconciliation: how far back the first run looks, and how much each run re-reads before its cursor.
SENTRY_RECONCILE_FIRST_LOOKBACK_SECONDS = 24 * 3600
SENTRY_RECONCILE_OVERLAP_SECONDS = 300
WEBHOOK_MAX_BODY_BYTES = 1024 * 1024
WEBHOOK_MAX_CLOCK_SKEW_SECONDS = 300
WEBHOOK_STALE_PENDING_SECONDS = 120
# A refused webhook request needs no secret to send: each keeps only an excerpt of its body, the
# reason and a few headers, at most so many a minute, and the oldest go past the total.
WEBHOOK_REJECTED_BODY_BYTES = int(os.environ.get("WEBHOOK_REJECTED_BODY_BYTES", "2048"))
WEBHOOK_REJECTED_PER_MINUTE = int(os.environ.get("WEBHOOK_REJECTED_PER_MINUTE", "60"))
WEBHOOK_REJECTED_MAX_ROWS = int(os.environ.get("WEBHOOK_REJECTED_MAX_ROWS", "1000"))
# How many drain tasks may process deliveries at once (one per worker process is plenty).
DELIVERY_DRAIN_PARALLEL = int(os.environ.get("DELIVERY_DRAIN_PARALLEL", "2"))
# How long one drain task runs before a fresh one takes over its slot (other tasks get a turn between).
DELIVERY_DRAIN_BUDGET_SECONDS = float(os.environ.get("DELIVERY_DRAIN_BUDGET_SECONDS", "50"))
# The sweep (integrations/sweep.py) re-reads by id the Sentry state of the open items and of those
# resolved or ignored in the last so many days; beat runs it every SENTRY_SWEEP_EVERY_SECONDS.
SENTRY_SWEEP_BATCH_SIZE = int(os.environ.get("SENTRY_SWEEP_BATCH_SIZE", "100"))  # ids a request, at most 100
SENTRY_SWEEP_CLOSED_DAYS = int(os.environ.get("SENTRY_SWEEP_CLOSED_DAYS", "14"))
# Pacing: a pause between requests; when Sentry says this few requests are left in its window, wait
# for the window to reset; a Retry-After (or reset) longer than the last figure stops the run until the next.
SENTRY_SWEEP_PAUSE_SECONDS = float(os.environ.get("SENTRY_SWEEP_PAUSE_SECONDS", "0.5"))
SENTRY_SWEEP_RATE_LIMIT_RESERVE = int(os.environ.get("SENTRY_SWEEP_RATE_LIMIT_RESERVE", "2"))
SENTRY_SWEEP_MAX_WAIT_SECONDS = float(os.environ.get("SENTRY_SWEEP_MAX_WAIT_SECONDS", "60"))

# --- Data fixes and ops escalation (issue 5) -----------------------------------------
# Minutes ops have to acknowledge a request; low urgency counts business minutes (Mon-Fri).
DATA_FIX_SLA_MINUTES_HIGH = int(os.environ.get("DATA_FIX_SLA_MINUTES_HIGH", "30"))
DATA_FIX_SLA_MINUTES_NORMAL = int(os.environ.get("DATA_FIX_SLA_MINUTES_NORMAL", "240"))
DATA_FIX_SLA_MINUTES_LOW = int(os.environ.get("DATA_FIX_SLA_MINUTES_LOW", str(2 * 24 * 60)))
OPS_SLACK_WEBHOOK_URL = os.environ.get("OPS_SLACK_WEBHOOK_URL", "")
OPS_WEBHOOK_URL = os.environ.get("OPS_WEBHOOK_URL", "")
OPS_WEBHOOK_SECRET = os.environ.get("OPS_WEBHOOK_SECRET", "")
OPS_ESCALATION_EMAIL = os.environ.get("OPS_ESCALATION_EMAIL", "")
OPS_NOTIFY_MAX_ATTEMPTS = int(os.environ.get("OPS_NOTIFY_MAX_ATTEMPTS", "5"))
OPS_NOTIFY_BACKOFF_SECONDS = float(os.environ.get("OPS_NOTIFY_BACKOFF_SECONDS", "2"))
OPS_NOTIFY_BACKOFF_MAX_SECONDS = float(os.environ.get("OPS_NOTIFY_BACKOFF_MAX_SECONDS", "300"))
OPS_NOTIFY_TIMEOUT_SECONDS = float(os.environ.get("OPS_NOTIFY_TIMEOUT_SECONDS", "10"))

# --- Email ----------------------------------------------------------------------
# The morning digest goes out by SMTP; with DEBUG=1 and no EMAIL_HOST it is printed instead.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "triage-portal@localhost")
SMTP_MAILER = {
    "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "OPTIONS": {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": int(os.environ.get("EMAIL_PORT", "25")),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
    },
}
CONSOLE_MAILER = {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
MAILERS = {"default": CONSOLE_MAILER if DEBUG and not os.environ.get("EMAIL_HOST") else SMTP_MAILER}

# Every line is redacted (common/logging.py): request paths carry the legacy webhook's token, and
# errors carry webhook URLs. Django's own loggers lose their handlers, which would print unredacted
# (django.server under runserver, django.request's DEBUG console), and go through the root's.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "common.logging.RedactingFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact"]},
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact"],
        },
    },
    "loggers": {
        "django": {"handlers": [], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
