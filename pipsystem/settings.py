"""pipsystem settings: one file, read from the environment.

Defaults make a fresh checkout run at once (SQLite, a file-system Celery broker under var/).
`DATABASE_URL` switches to PostgreSQL, `REDIS_URL` to Redis. With `DEBUG` off the production
hardening switches on, and `manage.py check --deploy` is clean.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PIPSYSTEM_VAR_DIR", BASE_DIR / "var"))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-change-me-for-any-real-deployment-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env_str("SITE_NAME", "pipsystem")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "csp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "metrics",
    "pips",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of the browser for pages before login; after login, the person's own.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pips.languages.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "pipsystem.security.SecurityHeadersMiddleware",
    # Last: turns a login refused during a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pipsystem.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pips.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "pipsystem.wsgi.application"

# Database: SQLite by default so a checkout runs at once; DATABASE_URL for PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "pipsystem.sqlite3",
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "pips:home"
LOGOUT_REDIRECT_URL = "login"

# The languages fixed text is shown in (pages, e-mails, calendar invitations, PDFs). Each person
# has one (their profile); PIP_DEFAULT_LANGUAGE is the organisation's, for people who have not
# chosen and for the consent printed beside the employee's. French is written for Canada.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français (Canada)"),
    ("pt-br", "Português (Brasil)"),
]
LANGUAGE_CODE = env_str("PIP_DEFAULT_LANGUAGE", "en").strip().lower().replace("_", "-")
if LANGUAGE_CODE not in {code for code, _ in LANGUAGES}:
    raise ImproperlyConfigured(
        f"PIP_DEFAULT_LANGUAGE must be one of {', '.join(code for code, _ in LANGUAGES)}, "
        f"got {LANGUAGE_CODE!r}"
    )
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and numbers as each language writes them (pipsystem/formats/<lang>/formats.py adjusts
# Django's where Canadian French differs).
FORMAT_MODULE_PATH = ["pipsystem.formats"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedStaticFilesStorage"
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The KPI data API (metrics.api): token authentication for integrations, an OpenAPI schema.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "pipsystem KPI data API",
    "DESCRIPTION": "Load QA, CSAT, AHT, adherence and FCR samples in bulk, all or nothing.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}
# KPI uploads: the largest file accepted, and the size (in values) above which a file loads in
# a background task with a progress bar instead of during the request.
METRICS_UPLOAD_MAX_BYTES = env_int("METRICS_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)
METRICS_ASYNC_ROWS = env_int("METRICS_ASYNC_ROWS", 50_000)
METRICS_API_MAX_ROWS = env_int("METRICS_API_MAX_ROWS", 50_000)
# A background load still pending or loading after this long is closed as stalled, and uploaded
# files this old are removed (metrics.housekeeping, hourly).
METRICS_STALE_LOAD_HOURS = env_int("METRICS_STALE_LOAD_HOURS", 24)

# E-mail: SMTP when EMAIL_HOST is set; otherwise each message is written in full to a folder
# (var/mail/, one .eml file each) and summarised in one line on the console.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "pipsystem.mail.FolderBackend"
)
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "pipsystem <pipsystem@localhost>")

# Sessions expire after idle time and when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_SECONDS", 30 * 60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Security (SECURITY.md). Login throttling: django-axes locks a username from one IP address
# after AXES_FAILURE_LIMIT failures in a row, until the cool-off has passed. Counted on the pair
# because the agents of a floor share one public IP (a lock per IP would lock the floor out)
# and a lock per username alone would let anyone lock a colleague out from elsewhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's, loading the user with their profile (the language) in the same query.
    "pips.languages.ProfileModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The login page again, with the lockout explained (status 429).
AXES_LOCKOUT_CALLABLE = "pipsystem.security.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The client address is REMOTE_ADDR, as in the audit trail: behind a proxy, the proxy sets it.
AXES_CLIENT_IP_CALLABLE = "pipsystem.security.client_ip"
AXES_USERNAME_CALLABLE = "pipsystem.security.throttled_username"
# A reset link works once, for two hours.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 2 * 60 * 60)
# Only the app's own scripts, styles, fonts and images (and data: images: drawn signatures);
# no inline script or style, no framing, forms post only to the app.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF],
        "img-src": [CSP_SELF, "data:"],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_SELF],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Secure cookies need HTTPS; `make run` (plain HTTP on the loopback) turns them off.
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# Celery: Redis when REDIS_URL is set, otherwise kombu's file-system transport under var/,
# which needs no server, so `make run` works on a bare laptop.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        # Where the broadcast exchanges live; by default the current directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The folder is polled; once a second (kombu's default) takes a message a second.
        "polling_interval": 0.2,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
# A message whose worker died is put back at once only for tasks that declare themselves light
# (short, safe to run again: pips.tasks.LIGHT). A heavy task that kills its worker would loop.
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With acks_late, a task still running when the broker connection drops is redelivered; stop it
# rather than have it finish twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
# A request must not hang on a broker outage: publishing gives up after about a second and
# pips.tasks.enqueue logs it; the sweep finds the work again from the database.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Above the longest task's hard time limit, so a running task is never redelivered;
        # a message whose worker was killed comes back after it.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", CELERY_TASK_TIME_LIMIT * 4),
        "socket_connect_timeout": 5,
    }
# One beat process (`make run` embeds it in the worker): the reminder sweep finds what is due.
# Its messages expire after one interval, so a backlog of sweeps never builds up in the queue.
PIP_SWEEP_INTERVAL_SECONDS = env_int("PIP_SWEEP_INTERVAL_SECONDS", 300)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "reminder-sweep": {
        "task": "pips.tasks.sweep_due",
        "schedule": float(PIP_SWEEP_INTERVAL_SECONDS),
        "options": {"expires": float(PIP_SWEEP_INTERVAL_SECONDS)},
    },
    "metrics-housekeeping": {
        "task": "metrics.tasks.housekeeping",
        "schedule": 3600.0,
        "options": {"expires": 3600.0},
    },
}

# Caches: the rate limits (pipsystem.ratelimit) are counted in Redis when there is one, so
# every web process shares them; otherwise in each process's memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "pipsystem",
    }
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"},
}

# The product's own settings.
# The public page that checks a PDF copy: checks per client address per hour.
PIP_VERIFY_PER_HOUR = env_int("PIP_VERIFY_PER_HOUR", 30)
PIP_ACK_DEADLINE_WORKING_DAYS = env_int("PIP_ACK_DEADLINE_WORKING_DAYS", 3)
PIP_MAX_EXTENSIONS = env_int("PIP_MAX_EXTENSIONS", 1)
PIP_DEFAULT_PERIOD_DAYS = env_int("PIP_DEFAULT_PERIOD_DAYS", 30)
PIP_MIN_PERIOD_DAYS = env_int("PIP_MIN_PERIOD_DAYS", 14)
PIP_MAX_PERIOD_DAYS = env_int("PIP_MAX_PERIOD_DAYS", 90)
# Check-ins and reviews are held at this hour, in the team's time zone.
PIP_MEETING_HOUR = env_int("PIP_MEETING_HOUR", 10)

# The organisation's certificate and key that sign every PDF copy (PAdES). `make run` creates a
# self-signed pair under var/signing/ when none exists; production points these at real files.
PIP_SIGNING_CERT = Path(env_str("PIP_SIGNING_CERT", str(VAR_DIR / "signing" / "cert.pem")))
PIP_SIGNING_KEY = Path(env_str("PIP_SIGNING_KEY", str(VAR_DIR / "signing" / "key.pem")))
PIP_SIGNING_KEY_PASSPHRASE = env_str("PIP_SIGNING_KEY_PASSPHRASE") or None
# Earlier certificates, still trusted when verifying copies signed before a rotation.
PIP_SIGNING_EXTRA_TRUST_ROOTS = env_list("PIP_SIGNING_EXTRA_TRUST_ROOTS")
PIP_PDF_MAX_CONCURRENT_RENDERS = env_int("PIP_PDF_MAX_CONCURRENT_RENDERS", 4)
# Paper of the PDF copies: A4 or US Letter.
PIP_PDF_PAGE_SIZE = {"a4": "A4", "letter": "letter"}.get(env_str("PIP_PDF_PAGE_SIZE", "A4").lower())
if PIP_PDF_PAGE_SIZE is None:
    raise ImproperlyConfigured("PIP_PDF_PAGE_SIZE must be A4 or letter")
PIP_PDF_RENDER_TIMEOUT_SECONDS = env_int("PIP_PDF_RENDER_TIMEOUT_SECONDS", 20)

# One line per event. A refused or missing page (4xx) is logged without a traceback
# (pipsystem.logfilters); LOG_LEVEL_REQUESTS=ERROR leaves only server errors from django.request,
# as `make run` does, where runserver already prints one line per request.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"client_errors": {"()": "pipsystem.logfilters.ClientErrorsWithoutTraceback"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["client_errors"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print each record a second time: through root only.
        "django": {"level": "INFO"},
        "django.request": {"level": env_str("LOG_LEVEL_REQUESTS", "WARNING")},
        "django.db.backends": {"level": "WARNING"},
        # Logins, failures, lockouts and refusals (pipsystem.security); never passwords.
        "pipsystem.security": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
