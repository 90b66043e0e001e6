"""Webcare settings: every value comes from the environment.

With nothing set, the embedded default runs: a SQLite file under ``var/`` and a Celery broker on
kombu's filesystem transport, so a newcomer needs neither PostgreSQL nor Redis. Setting
``DATABASE_URL`` and ``REDIS_URL`` switches to the production servers. A value that cannot be
used stops the process at start with a message that names the variable.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()


def _bool(name: str, default: bool) -> bool:
    raw = env.str(name, default="")
    if raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, got {raw!r}")


def _int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.str(name, default="")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


DATA_DIR = Path(env.str("WEBCARE_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()

# The embedded default is a development setting; production sets DEBUG=0 and a SECRET_KEY.
DEBUG = _bool("DEBUG", True)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-embedded-default-key-only-for-local-demo-and-tests"  # noqa: S105
# Old keys stay readable during a rotation (sessions, signed values, encrypted channel secrets).
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# Salt for the key that encrypts channel credentials (django-fernet-encrypted-fields derives the
# Fernet key from SECRET_KEY and this salt). The first salt encrypts; all of them decrypt.
SALT_KEY = env.list("WEBCARE_FIELD_SALTS", default=["webcare-channel-credentials-v1"])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",
    "ninja",
    "inbox",
    "channels",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the signed-in user's time zone and language on every page.
    "inbox.core.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "webcare.urls"
WSGI_APPLICATION = "webcare.wsgi.application"
ASGI_APPLICATION = "webcare.asgi.application"

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
                "django.template.context_processors.tz",
                "csp.context_processors.nonce",
                "webcare.context.navigation",
            ],
        },
    },
]


# --- database -------------------------------------------------------------------------------
def _database(url: str) -> dict:
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres:// or sqlite:///, got {url!r}"
        )
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a configuration error
        raise ImproperlyConfigured(f"DATABASE_URL cannot be read ({exc}): {url!r}") from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # A web server and a worker write at once: WAL lets readers go on while one writes, the
        # busy timeout and IMMEDIATE transactions make writers queue instead of failing with
        # "database is locked".
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    else:
        config["ENGINE"] = "django.db.backends.postgresql"
        config.setdefault("OPTIONS", {})
        # Short OLTP queries: JIT compiling costs more than it saves (half a second seen on a
        # search of 1M messages). A statement timeout (milliseconds; 0 = none) keeps one runaway
        # query from holding a web worker: production sets it for the web process.
        options = ["-c jit=off"]
        timeout = _int("DATABASE_STATEMENT_TIMEOUT", 0, minimum=0)
        if timeout:
            options.append(f"-c statement_timeout={timeout}")
        config["OPTIONS"]["options"] = " ".join(options)
        # Prepared statements: parameters bound on the server, and a statement run more than
        # this many times on a connection is prepared, so PostgreSQL parses it once and may
        # keep its plan. Planning a ticket with its joins took longer than running it (2-3 ms
        # against 0.3 ms). 0 turns preparing off (for a transaction-mode connection pooler,
        # such as PgBouncer without max_prepared_statements). Statements whose best plan
        # depends on their values (the list's id scans, ingest's bulk statements) are never
        # prepared (inbox.core.bulk.cursor). docs/inbox.md, "Prepared statements".
        config["OPTIONS"]["server_side_binding"] = True
        threshold = _int("DATABASE_PREPARE_THRESHOLD", 5, minimum=0)
        config["OPTIONS"]["prepare_threshold"] = threshold or None
        config["CONN_MAX_AGE"] = _int("CONN_MAX_AGE", 60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env.str("DATABASE_URL", default="")
if not DATABASE_URL:
    # The embedded default keeps its database, broker folders and cache in one data folder,
    # which must exist before SQLite can create its file there.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASE_URL = f"sqlite:///{DATA_DIR / 'webcare.sqlite3'}"
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- Redis, cache and Celery ------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL and urlsplit(REDIS_URL).scheme not in {"redis", "rediss"}:
    raise ImproperlyConfigured(
        f"REDIS_URL must start with redis:// or rediss://, got {REDIS_URL!r}"
    )

if REDIS_URL:
    CACHES = {
        "default": {
            # Degrades to "nothing cached" while Redis is down (see webcare/cache.py).
            "BACKEND": "webcare.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "webcare",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        # Late acks redeliver an unacknowledged task after this long; it must outlast every
        # countdown and ETA we set (the longest is a poll backoff of one hour), or the task runs
        # twice.
        "visibility_timeout": _int("CELERY_VISIBILITY_TIMEOUT", 2 * 60 * 60, minimum=1),
    }
    if env.str("CELERY_RESTORE_SWEEP_SECONDS", default=""):
        # How often a worker looks for tasks of dead workers past the visibility timeout
        # (fault tests shorten both).
        CELERY_BROKER_TRANSPORT_OPTIONS |= {
            "unacked_restore_interval": _int("CELERY_RESTORE_SWEEP_SECONDS", 10, minimum=1),
            "unacked_restore_throttle": 1,
        }
else:
    # Shared by web, worker and beat processes on one machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
        }
    }
    CELERY_BROKER_URL = "filesystem://"
    _broker_dir = DATA_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

CELERY_TASK_ALWAYS_EAGER = _bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The hard limit bounds every attempt: a reply found "sending" for longer than this (plus a
# margin) belongs to an attempt that is certainly over, so it is safe to look for its post.
CELERY_TASK_TIME_LIMIT = _int("CELERY_TASK_TIME_LIMIT", 120, minimum=5)
CELERY_TASK_SOFT_TIME_LIMIT = max(1, CELERY_TASK_TIME_LIMIT * 3 // 4)
# A poll holds its channel this long at most; a killed worker's lease frees itself then.
POLL_LEASE_SECONDS = _int("POLL_LEASE_SECONDS", CELERY_TASK_TIME_LIMIT + 30, minimum=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Webhook intake (channels/intake.py, docs/reliability.md): the largest body read (413 above),
# attempts before a delivery is "failed", the first retry's delay (doubled per attempt), how
# long an attempt holds its delivery, and how overdue a waiting delivery must be before the
# sweep queues it again (its task was lost).
WEBHOOK_MAX_BODY_BYTES = _int("WEBHOOK_MAX_BODY_BYTES", 8 * 1024 * 1024, minimum=1024)
WEBHOOK_MAX_ATTEMPTS = _int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
WEBHOOK_RETRY_SECONDS = _int("WEBHOOK_RETRY_SECONDS", 30, minimum=1)
WEBHOOK_LEASE_SECONDS = _int("WEBHOOK_LEASE_SECONDS", CELERY_TASK_TIME_LIMIT + 30, minimum=1)
WEBHOOK_STALL_SECONDS = _int("WEBHOOK_STALL_SECONDS", 30, minimum=1)
WEBHOOK_KEEP_DAYS = _int("WEBHOOK_KEEP_DAYS", 7, minimum=1)
# A web request that queues a reply must not hang on a broker that is down: the reply waits in
# the database and the sweep (channels.tasks.redeliver_stalled_replies) sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- auth, i18n, static -----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend with roles cached until they change (inbox/core/auth.py).
    "inbox.core.auth.RoleCachingBackend",
]
AXES_FAILURE_LIMIT = _int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ENABLED = _bool("AXES_ENABLED", True)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox:index"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
# In development whitenoise serves straight from the app folders; production collects first.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # What customers send and agents attach: never served from here directly, only through
    # permission-checked views. The local filesystem on the embedded default.
    "media": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "media"), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- customers' media (inbox/media, docs/media.md) -------------------------------------------
# Production keeps media in any S3-compatible object store (AWS S3, MinIO, Ceph, R2...) through
# django-storages when MEDIA_S3_BUCKET is set: MEDIA_S3_ENDPOINT_URL (empty for AWS itself),
# MEDIA_S3_ACCESS_KEY_ID, MEDIA_S3_SECRET_ACCESS_KEY, MEDIA_S3_REGION. Objects are private
# (no public ACL, no unsigned URLs): files reach a browser only through the permission-checked
# view, which streams them.
MEDIA_S3_BUCKET = env.str("MEDIA_S3_BUCKET", default="")
if MEDIA_S3_BUCKET:
    STORAGES["media"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": MEDIA_S3_BUCKET,
            "endpoint_url": env.str("MEDIA_S3_ENDPOINT_URL", default="") or None,
            "access_key": env.str("MEDIA_S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("MEDIA_S3_SECRET_ACCESS_KEY", default="") or None,
            "region_name": env.str("MEDIA_S3_REGION", default="") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 60,
            "file_overwrite": False,
            "addressing_style": env.str("MEDIA_S3_ADDRESSING_STYLE", default="path"),
        },
    }
# The largest attachment fetched (bytes): a download stops at this size without reading more.
MEDIA_MAX_BYTES = _int("MEDIA_MAX_BYTES", 25 * 1024 * 1024, minimum=1)
# Seconds one download may take in all, however slowly a server drips bytes.
MEDIA_FETCH_DEADLINE = _int("MEDIA_FETCH_DEADLINE", 120, minimum=1)
# Tries of a download that fails for a passing reason (timeout, 5xx) before "no longer
# available"; waits double from 30 seconds between them.
MEDIA_FETCH_ATTEMPTS = _int("MEDIA_FETCH_ATTEMPTS", 5, minimum=1)
# Stored media older than this many days is deleted (a daily task and `manage.py media_expire`);
# 0 keeps it for ever.
MEDIA_RETENTION_DAYS = _int("MEDIA_RETENTION_DAYS", 0)
# Loopback "host:port" test servers the safe fetch may use (webcare/safe_http.py): tests set it,
# nothing reads it from the environment, so production never fetches from our own machine.
SAFE_FETCH_LOCAL_HOSTS: tuple[str, ...] = ()

# --- security ---------------------------------------------------------------------------------
# Platform text is untrusted: no inline script runs, whatever slips into a page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Only our own images: customer avatars come through our proxy
        # (inbox/customers/avatars.py), so
        # a URL planted in a platform payload cannot make the agent's browser call out.
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = _int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# --- platforms --------------------------------------------------------------------------------
GRAPH_API_VERSION = env.str("GRAPH_API_VERSION", default="v25.0")
# One Meta app serves every Page: its secret signs webhooks (and makes the app token for the daily
# debug_token check); the verify token answers the subscription handshake. See
# docs/channels/facebook.md.
META_APP_ID = env.str("META_APP_ID", default="")
META_APP_SECRET = env.str("META_APP_SECRET", default="")
META_WEBHOOK_VERIFY_TOKEN = env.str("META_WEBHOOK_VERIFY_TOKEN", default="")
META_TOKEN_WARN_DAYS = _int("META_TOKEN_WARN_DAYS", 7)
# An app using Business Login for Instagram signs its webhooks with the Instagram app secret
# (App Dashboard > Instagram > API setup); empty: META_APP_SECRET. Tokens are refreshed when
# they expire within INSTAGRAM_REFRESH_DAYS. See docs/channels/instagram.md.
INSTAGRAM_APP_SECRET = env.str("INSTAGRAM_APP_SECRET", default="")
INSTAGRAM_REFRESH_DAYS = _int("INSTAGRAM_REFRESH_DAYS", 10)
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000")
# This installation's public https address (https://care.example.nl). Platforms that download
# the files agents attach (Instagram DMs) fetch them from signed links under it
# (/media/out/<token>/, webcare/public_links.py), valid WEBCARE_PUBLIC_MEDIA_MAX_AGE seconds.
# Empty: such channels offer no attachments, and their health says why.
WEBCARE_PUBLIC_URL = env.str("WEBCARE_PUBLIC_URL", default="")
WEBCARE_PUBLIC_MEDIA_MAX_AGE = _int("WEBCARE_PUBLIC_MEDIA_MAX_AGE", 3600)


def _price(name: str, default: str) -> Decimal:
    raw = env.str(name, default="") or default
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name} must be an amount like 0.005, got {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ImproperlyConfigured(f"{name} must be zero or more, got {raw!r}")
    return value


# X API pay-per-use unit prices in USD, for the estimated monthly cost on an X channel's page
# (channels/x/counting.py). X changes them: the defaults are X's published rates (docs.x.com
# /x-api/getting-started/pricing, see docs/channels/x.md); set the current ones from the
# developer console. Reads are billed per resource returned, writes per request.
X_PRICE_POST_READ = _price("X_PRICE_POST_READ", "0.005")
X_PRICE_USER_READ = _price("X_PRICE_USER_READ", "0.010")
X_PRICE_DM_EVENT_READ = _price("X_PRICE_DM_EVENT_READ", "0.010")
X_PRICE_CONTENT_CREATE = _price("X_PRICE_CONTENT_CREATE", "0.015")

# LOG_FORMAT=json writes one JSON object a line (python-json-logger), with the ticket_id and
# channel_id that services pass in ``extra`` as fields of their own.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, got {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    # An ordinary 403 is logged as one line, without a traceback (webcare/log_filters.py).
    "filters": {"forbidden": {"()": "webcare.log_filters.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {"filters": ["forbidden"]},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}


# --- API, outbound webhooks, CRM panel (docs/api.md) -------------------------------------------
API_THROTTLE = env("API_THROTTLE", default="120/min")
# Outbound webhooks and the CRM look-up go only to public addresses unless this is set.
WEBHOOKS_ALLOW_PRIVATE = env.bool("WEBHOOKS_ALLOW_PRIVATE", default=False)
# How long a worker holds the deliveries it is sending (a killed worker's are sent again after).
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=60)
# The country a phone number an agent types without "+" is read in (ISO 3166 code, for
# inbox.customers.contact): "06 12345678" is +31612345678 with NL.
PHONE_REGION = env.str("PHONE_REGION", default="NL")
CRM_LOOKUP_URL = env("CRM_LOOKUP_URL", default="")
CRM_SECRET = env("CRM_SECRET", default="")
