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
    # The form widgets' templates, overridable from templates/ (FORM_RENDERER below).
    "django.forms",
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
    # Times in the reader's zone: their profile's, their team's, else TIME_ZONE.
    "pips.zones.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Before any view hook (the CSRF check reads a POST's body): an oversized KPI upload.
    "metrics.middleware.UploadSizeLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "pipsystem.security.SecurityHeadersMiddleware",
    # Inside the header middleware: its 400 gets the same headers as any page.
    "pipsystem.security.RefuseNulMiddleware",
    # Last: turns a login refused during a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "pipsystem.urls"

# Widgets render through the project's templates: templates/django/forms/widgets/attrs.html
# turns a field's maxlength into data-limit, so the browser never cuts pasted text short (the
# counter in static/js/text-limits.js shows the limit; the form refuses what is over it).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

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
            # WAL: pages read while a KPI load writes; a writer waits up to `timeout` seconds
            # for another's lock (loads commit in short batches here, see metrics.loading).
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
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
# Every file the app keeps goes through Django's storage API, never to a path of its own: PDF
# copies to the default storage, uploaded files (KPI and roster files between upload and load)
# to "uploads". Both are local disk under MEDIA_ROOT by default, or S3-compatible object storage
# (django-storages) when several machines must share the files (README, "Several machines"): a
# file uploaded to one web machine is then loaded by a worker on another.
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "local").lower()
if STORAGE_BACKEND == "local":
    _default_storage: dict = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
elif STORAGE_BACKEND == "s3":
    _bucket = env_str("S3_BUCKET")
    if not _bucket:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs S3_BUCKET")
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            # Empty: the provider's own endpoint; set for MinIO, Ceph and other S3-compatibles.
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,
            "region_name": env_str("S3_REGION") or None,
            # Empty: boto3 finds credentials itself (instance role, environment, config file).
            "access_key": env_str("S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY") or None,
            "location": env_str("S3_PREFIX"),
            # Private objects, handed out only through the app's own views (access checks and
            # the audit trail), never by a public or signed URL.
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
            "addressing_style": env_str("S3_ADDRESSING_STYLE") or None,
            # A file read back (a KPI export of up to 100 MB, in the worker) is downloaded into
            # memory up to this size and into an anonymous temporary file beyond, deleted once
            # closed; django-storages' default (0) would keep all of it in memory.
            "max_memory_size": env_int("S3_MAX_MEMORY_SIZE", 4 * 1024 * 1024),
        },
    }
else:
    raise ImproperlyConfigured("STORAGE_BACKEND must be local or s3")
STORAGES = {
    "default": _default_storage,
    # The same place as the default storage, under uploads/ and roster-uploads/; a storage of
    # its own so that it can be pointed elsewhere (a bucket with an expiry rule, say).
    "uploads": _default_storage,
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
# The largest request body the KPI API reads (JSON, or gzip-encoded JSON once unpacked):
# room for METRICS_API_MAX_ROWS rows of ~200 bytes each.
METRICS_API_MAX_BYTES = env_int("METRICS_API_MAX_BYTES", 20 * 1024 * 1024)
# Rows per upsert of a load on PostgreSQL (the reader checks the next batch meanwhile).
METRICS_LOAD_BATCH_ROWS = env_int("METRICS_LOAD_BATCH_ROWS", 100_000)
# Seconds a background KPI load may run: a 200 MB file takes a few minutes.
METRICS_LOAD_TIME_LIMIT = env_int("METRICS_LOAD_TIME_LIMIT", 1800)
# KPI files larger than this are previewed by the worker, not during the request.
METRICS_PREVIEW_ASYNC_BYTES = env_int("METRICS_PREVIEW_ASYNC_BYTES", 5 * 1024 * 1024)
# A background load still pending or loading after this long is closed as stalled, and uploaded
# files this old are removed (metrics.housekeeping, hourly).
METRICS_STALE_LOAD_HOURS = env_int("METRICS_STALE_LOAD_HOURS", 24)

# E-mail: SMTP when EMAIL_HOST is set; otherwise each message is written in full to a folder
# (var/mail/, one .eml file each) and summarised in one line on the console.
EMAIL_HOST = env_str("EMAIL_HOST")
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or (
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
# No script of the app reads the CSRF cookie (forms carry the token), so none may.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Security (SECURITY.md). Login throttling: django-axes locks a username from one IP address
# after AXES_FAILURE_LIMIT failures in a row, until the cool-off has passed. Counted on the pair
# because the agents of a floor share one public IP (a lock per IP would lock the floor out)
# and a lock per username alone would let anyone lock a colleague out from elsewhere.
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
    # Load balancers probe the health endpoints over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
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
    # The host is not used; naming one spares kombu's "No hostname was supplied" warning.
    CELERY_BROKER_URL = "filesystem://localhost//"
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
        "visibility_timeout": env_int(
            "CELERY_VISIBILITY_TIMEOUT",
            max(CELERY_TASK_TIME_LIMIT * 4, METRICS_LOAD_TIME_LIMIT + 120),
        ),
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
# Reminder and escalation e-mails to one person: at most one in this many minutes; what comes
# in between is held (it shows in the app at once) and sent as one digest when they are over.
PIP_REMINDER_DIGEST_MINUTES = env_int("PIP_REMINDER_DIGEST_MINUTES", 60)
if PIP_REMINDER_DIGEST_MINUTES < 0:
    raise ImproperlyConfigured("PIP_REMINDER_DIGEST_MINUTES must be 0 (no digest) or more")
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
# A copy whose render failed or ran out of time is not rendered again for this long.
PIP_PDF_FAILURE_RETRY_SECONDS = env_int("PIP_PDF_FAILURE_RETRY_SECONDS", 600)

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
        # A banner at every start of every process, and four lines at every login (each login,
        # failure and lockout is one line of pipsystem.security instead).
        "axes": {"level": "WARNING"},
        # runserver's "Watching for file changes" at every start.
        "django.utils.autoreload": {"level": "WARNING"},
        # Two lines per task (received, succeeded with its result), which operators read;
        # LOG_LEVEL_TASKS=WARNING (`make run`) leaves them out. A failure is still logged, with
        # its traceback, and a task's own lines (an e-mail sent) stay.
        "celery.app.trace": {"level": env_str("LOG_LEVEL_TASKS", "INFO")},
        "celery.worker.strategy": {"level": env_str("LOG_LEVEL_TASKS", "INFO")},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- People: roster import, invitations, single sign-on, SCIM and two-factor sign-in ---------
# (pips.roster: the HR system's roster; pipsystem.identity: the ways in, which know nothing of
# plans and ask the plan domain through IDENTITY_ROLES_OF, IDENTITY_EMPLOYEE_LOOKUP and
# IDENTITY_LANGUAGE_OF.)
INSTALLED_APPS += [
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "mozilla_django_oidc",
    "pipsystem.identity",
    "pips.roster",
]
_AUTH = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware")
MIDDLEWARE[_AUTH + 1 : _AUTH + 1] = [
    "django_otp.middleware.OTPMiddleware",
    "pipsystem.identity.twofactor.TwoFactorRequiredMiddleware",
]
TEMPLATES[0]["OPTIONS"]["context_processors"].append(
    "pipsystem.identity.context_processors.sign_in"
)
CELERY_BEAT_SCHEDULE["invitation-catch-up"] = {
    "task": "pipsystem.identity.tasks.send_unsent_invitations",
    "schedule": 600.0,
    "options": {"expires": 600.0},
}

IDENTITY_ROLES_OF = "pips.roles.roles_of"
IDENTITY_EMPLOYEE_LOOKUP = "pips.roster.directory.user_for_employee"
IDENTITY_LANGUAGE_OF = "pips.languages.language_of"  # invitations go out in the invitee's
# Roles that are Django groups of the same name, which the provider's groups may grant.
IDENTITY_GROUP_ROLES = ("supervisor", "hr", "analyst")


def env_mapping(name: str) -> dict[str, str]:
    """`a=b,c=d` -> {"a": "b", "c": "d"}; a pair without `=` stops the app at start."""
    result = {}
    for item in env_list(name):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name}: {item!r} must be GROUP=role")
        result[key.strip()] = value.strip()
    return result


# The identity provider's group names -> roles (supervisor, hr, analyst; "agent" grants
# nothing: an agent is someone with an employee record).
IDENTITY_ROLE_GROUPS = env_mapping("IDENTITY_ROLE_GROUPS")
for _group, _role in IDENTITY_ROLE_GROUPS.items():
    if _role not in (*IDENTITY_GROUP_ROLES, "agent"):
        raise ImproperlyConfigured(
            f"IDENTITY_ROLE_GROUPS: {_group}={_role}: the role must be supervisor, hr, analyst "
            "or agent"
        )

# Invitations: how long a link works.
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7)

# Local passwords: off means single sign-on only (the login page shows only its button).
LOCAL_PASSWORDS = env_bool("LOCAL_PASSWORDS", True)

# OpenID Connect single sign-on (mozilla-django-oidc), on when OIDC_CLIENT_ID is set.
OIDC_RP_CLIENT_ID = env_str("OIDC_CLIENT_ID")
OIDC_RP_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET")
OIDC_PROVIDER_NAME = env_str("OIDC_PROVIDER_NAME", "your company account")
OIDC_OP_AUTHORIZATION_ENDPOINT = env_str("OIDC_AUTHORIZATION_ENDPOINT")
OIDC_OP_TOKEN_ENDPOINT = env_str("OIDC_TOKEN_ENDPOINT")
OIDC_OP_USER_ENDPOINT = env_str("OIDC_USERINFO_ENDPOINT")
OIDC_OP_JWKS_ENDPOINT = env_str("OIDC_JWKS_ENDPOINT")
OIDC_OP_LOGOUT_ENDPOINT = env_str("OIDC_END_SESSION_ENDPOINT")
OIDC_RP_SIGN_ALGO = env_str("OIDC_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = env_str("OIDC_SCOPES", "openid email profile")
OIDC_EMPLOYEE_ID_CLAIM = env_str("OIDC_EMPLOYEE_ID_CLAIM", "employee_id")
OIDC_GROUPS_CLAIM = env_str("OIDC_GROUPS_CLAIM", "groups")
OIDC_MATCH_EMAIL = env_bool("OIDC_MATCH_EMAIL", True)
OIDC_REQUIRE_VERIFIED_EMAIL = env_bool("OIDC_REQUIRE_VERIFIED_EMAIL", True)
OIDC_CREATE_USERS = env_bool("OIDC_CREATE_USERS", False)
OIDC_SYNC_GROUP_ROLES = env_bool("OIDC_SYNC_GROUP_ROLES", True)
OIDC_USE_PKCE = True
OIDC_STORE_ID_TOKEN = True  # for the provider's logout (id_token_hint)
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "identity:oidc_authentication_callback"
LOGIN_REDIRECT_URL_FAILURE = "/accounts/sso/refused/"
if OIDC_RP_CLIENT_ID:
    _missing = [
        name
        for name, value in (
            ("OIDC_CLIENT_SECRET", OIDC_RP_CLIENT_SECRET),
            ("OIDC_AUTHORIZATION_ENDPOINT", OIDC_OP_AUTHORIZATION_ENDPOINT),
            ("OIDC_TOKEN_ENDPOINT", OIDC_OP_TOKEN_ENDPOINT),
            ("OIDC_USERINFO_ENDPOINT", OIDC_OP_USER_ENDPOINT),
            ("OIDC_JWKS_ENDPOINT", OIDC_OP_JWKS_ENDPOINT),
        )
        if not value
    ]
    if _missing:
        raise ImproperlyConfigured(f"OIDC_CLIENT_ID is set; also set {', '.join(_missing)}")
if OIDC_OP_LOGOUT_ENDPOINT:
    # Logging out is a form whose answer redirects to the provider's end-session endpoint;
    # the content security policy must let that form go there.
    from urllib.parse import urlsplit as _urlsplit

    _end = _urlsplit(OIDC_OP_LOGOUT_ENDPOINT)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(f"{_end.scheme}://{_end.netloc}")
AXES_WHITELIST_CALLABLE = "pipsystem.identity.oidc.axes_exempt"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's, loading the user with their language (pips.languages) in the same query.
    *(["pips.languages.ProfileModelBackend"] if LOCAL_PASSWORDS else []),
    "pipsystem.identity.oidc.RoleMappedOIDCBackend",
]

# Two-factor sign-in (TOTP with recovery codes) for these roles, when required.
TWO_FACTOR_REQUIRED = env_bool("TWO_FACTOR_REQUIRED", False)
TWO_FACTOR_ROLES = tuple(env_list("TWO_FACTOR_ROLES", "hr,admin"))
OTP_TOTP_ISSUER = SITE_NAME

# Roster imports: the largest file the page accepts, rows per API request.
ROSTER_UPLOAD_MAX_BYTES = env_int("ROSTER_UPLOAD_MAX_BYTES", 20 * 1024 * 1024)
ROSTER_API_MAX_ROWS = env_int("ROSTER_API_MAX_ROWS", 50_000)
# Roster sync from a folder the HR system drops exports into (pips.roster.dropfolder).
ROSTER_DROP_FOLDER = env_str("ROSTER_DROP_FOLDER")
ROSTER_DROP_SOURCE = env_str("ROSTER_DROP_SOURCE")
ROSTER_DROP_USER = env_str("ROSTER_DROP_USER")
ROSTER_DROP_INTERVAL_SECONDS = env_int("ROSTER_DROP_INTERVAL_SECONDS", 900)
if ROSTER_DROP_FOLDER:
    if not (ROSTER_DROP_SOURCE and ROSTER_DROP_USER):
        raise ImproperlyConfigured(
            "ROSTER_DROP_FOLDER needs ROSTER_DROP_SOURCE and ROSTER_DROP_USER"
        )
    CELERY_BEAT_SCHEDULE["roster-drop-folder"] = {
        "task": "pips.roster.tasks.sync_drop_folder",
        "schedule": float(ROSTER_DROP_INTERVAL_SECONDS),
        "options": {"expires": float(ROSTER_DROP_INTERVAL_SECONDS)},
    }
# --- end of People ----------------------------------------------------------------------------
