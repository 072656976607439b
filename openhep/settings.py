"""OpenHEP settings: everything that varies between installations comes from
the environment (or a ``.env`` file beside ``manage.py``); see ``.env.example``.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
import fontpkg_atkinson_hyperlegible
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from openhep.mailers import mailer_from_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")


def secret(name: str, default=None):
    """A secret from ``NAME`` or from the file named by ``NAME_FILE`` (Docker/K8s secrets)."""
    path = env.str(f"{name}_FILE", default="")
    if path:
        return Path(path).read_text().strip()
    return env.str(name, default=default)


def public_origin(*, bucket: str, endpoint_url, domain, virtual: bool) -> str:
    """Where public media is fetched from with MEDIA_STORAGE=s3 (for the CSP)."""
    if domain:
        return f"https://{domain}"
    if not endpoint_url:  # Amazon S3 itself: the bucket's own host name.
        return f"https://{bucket}.s3.amazonaws.com"
    endpoint = urlsplit(endpoint_url)
    host = f"{bucket}.{endpoint.netloc}" if virtual else endpoint.netloc
    return f"{endpoint.scheme}://{host}"


def s3_storages(connection: dict, *, public_domain: str | None) -> dict[str, dict]:
    """The two storages of MEDIA_STORAGE=s3, in one bucket: ``public/`` readable by
    anyone and cached a year, ``private/`` by signed addresses that last a minute."""
    common = {**connection, "file_overwrite": False, "signature_version": "s3v4"}
    backend = "storages.backends.s3.S3Storage"
    return {
        "default": {
            "BACKEND": backend,
            "OPTIONS": {
                **common,
                "location": "private",
                "default_acl": "private",
                "querystring_auth": True,
                "querystring_expire": 60,
            },
        },
        "public": {
            "BACKEND": backend,
            "OPTIONS": {
                **common,
                "location": "public",
                "default_acl": "public-read",
                "querystring_auth": False,
                "custom_domain": public_domain,
                "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
            },
        },
    }


DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = secret("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (or SECRET_KEY_FILE) in the environment "
            "or in .env; for local development only, DEBUG=1 uses a throw-away key."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # Ours, lowest layer first (the import contract in pyproject.toml holds the order).
    "clinic",
    "exercises",
    "prescriptions",
    "outcomes",
    "patientpage",
    "records",
    "openhep",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "js_lib_htmx",
    "django_htmx",
    "django_tasks_db",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The patient's page: no Referer, noindex, no shared caching (before Security's
    # default Referrer-Policy is applied on the way out).
    "patientpage.views.PageHeadersMiddleware",
    # Before anything reads the body: refuses an oversized request from its headers.
    "openhep.middleware.RequestSizeLimitMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # request.htmx, before the middleware below that answers htmx requests differently.
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "clinic.middleware.IdleTimeoutMiddleware",
    "clinic.middleware.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "openhep.middleware.NoStoreForStaffMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "openhep.urls"
WSGI_APPLICATION = "openhep.wsgi.application"

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
                "clinic.context_processors.membership",
            ],
        },
    },
]

# The cache holds draft previews, the per-user preview limit and the password reset
# counts. Local memory by default; a shared cache (CACHE_URL=redis://127.0.0.1:6379/1)
# makes the limits hold across processes and servers.
CACHE_URL = secret("CACHE_URL", default="")
# Draft previews have a cache of their own, bounded: at most PREVIEW_CACHE_ENTRIES PDFs
# (local memory, file and database caches cull past it; give Redis a maxmemory policy),
# none over PREVIEW_CACHE_MAX_BYTES, each for PREVIEW_CACHE_SECONDS. It is CACHE_URL's
# cache unless PREVIEW_CACHE_URL names another. A preview drawn ahead by the worker
# after an autosave reaches the web processes only through a shared one (Redis, files).
PREVIEW_CACHE_URL = secret("PREVIEW_CACHE_URL", default="") or CACHE_URL
OPENHEP_PREVIEW_CACHE_ENTRIES = env.int("PREVIEW_CACHE_ENTRIES", default=200)
OPENHEP_PREVIEW_CACHE_MAX_BYTES = env.int("PREVIEW_CACHE_MAX_BYTES", default=5_000_000)
OPENHEP_PREVIEW_CACHE_SECONDS = env.int("PREVIEW_CACHE_SECONDS", default=600)
CACHES = {
    "default": environ.Env.cache_url_config(CACHE_URL or "locmemcache://"),
    "previews": environ.Env.cache_url_config(PREVIEW_CACHE_URL or "locmemcache://previews"),
}
CACHES["previews"].setdefault("KEY_PREFIX", "previews")
if CACHES["previews"]["BACKEND"].rsplit(".", 1)[-1] in (
    "LocMemCache",
    "FileBasedCache",
    "DatabaseCache",
):  # Django's own culling (Redis and Memcached take the options as connection ones).
    CACHES["previews"].setdefault("OPTIONS", {})["MAX_ENTRIES"] = OPENHEP_PREVIEW_CACHE_ENTRIES
# After each autosave of a draft, the worker draws its preview into that cache, so the
# click finds it drawn. Off by default with a cache local to each process (the worker's
# drawing would never reach the web processes); never with the immediate task backend
# (`make run`), where the drawing would hold up the autosave itself.
OPENHEP_PREVIEW_PRERENDER = env.bool(
    "PREVIEW_PRERENDER", default="LocMemCache" not in CACHES["previews"]["BACKEND"]
)

# PostgreSQL in production: DATABASE_URL (or DATABASE_URL_FILE). Without it, the
# embedded SQLite file in var/ is for development; a production process refuses
# to start on it unless ALLOW_SQLITE_IN_PRODUCTION=1 (openhep/checks.py).
DATABASE_URL = secret("DATABASE_URL", default="")
DATABASES = {
    "default": environ.Env.db_url_config(DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
OPENHEP_ALLOW_SQLITE_IN_PRODUCTION = env.bool("ALLOW_SQLITE_IN_PRODUCTION", default=False)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default lives in var/ (git-ignored); make sure the folder exists.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
# Persistent connections (both engines): opening one per request costs more than
# serving a stored handout.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction mode (docs/capacity.md): no server-side cursors.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DISABLE_SERVER_SIDE_CURSORS", default=False
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "clinic.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out login before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "clinic.auth.EmailBackend",
]

# Lockout: after AXES_FAILURE_LIMIT wrong passwords for one email address from
# one IP address, that pair is refused for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The login form posts "username" (Django's form); axes would look for "email".
AXES_USERNAME_FORM_FIELD = "username"
# Counted per address whatever its letter case, as sign-in matches it.
AXES_USERNAME_CALLABLE = "clinic.auth.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "clinic.access.client_ip"
# How many reverse proxies in front of the app append to X-Forwarded-For (0: none,
# the client is REMOTE_ADDR). Used for lockouts and the audit trail.
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
# Password reset links work for this long (Django's default is 3 days).
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2
# Password reset requests: at most so many per typed address and per client address
# in PASSWORD_RESET_LIMIT_MINUTES (counted in the cache, see CACHE_URL).
PASSWORD_RESET_LIMIT_PER_ADDRESS = env.int("PASSWORD_RESET_LIMIT_PER_ADDRESS", default=5)
PASSWORD_RESET_LIMIT_PER_IP = env.int("PASSWORD_RESET_LIMIT_PER_IP", default=20)
PASSWORD_RESET_LIMIT_MINUTES = env.int("PASSWORD_RESET_LIMIT_MINUTES", default=60)
# Two-factor sign-in: the name authenticator apps show beside the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="OpenHEP")
# Staff invitations work for this many days.
OPENHEP_INVITATION_DAYS = env.int("INVITATION_DAYS", default=7)

# Argon2 for new and changed passwords; older hashes upgrade at the next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-au"
TIME_ZONE = env.str("TIME_ZONE", default="Australia/Melbourne")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [
    BASE_DIR / "static",
    # Atkinson Hyperlegible (designed for low vision) from its PyPI package.
    ("fonts/atkinson", fontpkg_atkinson_hyperlegible.ROOT / "files"),
]
# WhiteNoise serves STATIC_ROOT (filled by collectstatic); in development the
# finders serve files straight from the packages and static/.
WHITENOISE_USE_FINDERS = DEBUG
if STATIC_ROOT.parent == VAR_DIR:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Files live in two storages (clinic/storage.py): "public" for library pictures and
# clinic logos (anyone may fetch them), "default" for private files (issued
# handouts), which only the clinic-scoped, audited views hand out. MEDIA_STORAGE
# chooses where: "local" (MEDIA_ROOT, public files in the folders below) or "s3"
# (an S3-compatible bucket through django-storages: public files under public/,
# readable by anyone; private ones under private/, fetched with a signed URL that
# lasts a minute).
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
# With MEDIA_STORAGE=local: the folders of MEDIA_ROOT that are public.
OPENHEP_PUBLIC_MEDIA = ["exercises/", "clinics/logos/"]
# With MEDIA_STORAGE=local behind nginx: private downloads answer with
# X-Accel-Redirect to this internal location, and the proxy sends the bytes.
OPENHEP_MEDIA_ACCEL_REDIRECT = env.str("MEDIA_ACCEL_REDIRECT", default="")
STATIC_STORAGE: dict[str, Any] = {
    "BACKEND": (
        "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )
}
if MEDIA_STORAGE == "local":
    STORAGES: dict[str, dict[str, Any]] = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "public": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": STATIC_STORAGE,
    }
    MEDIA_PUBLIC_ORIGIN = ""
elif MEDIA_STORAGE == "s3":
    S3_BUCKET = env.str("S3_BUCKET")
    S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="") or None
    # Public media from a CDN or the bucket's own web address, e.g. media.example.org.
    S3_PUBLIC_DOMAIN = env.str("S3_PUBLIC_DOMAIN", default="") or None
    s3 = {
        "bucket_name": S3_BUCKET,
        "endpoint_url": S3_ENDPOINT_URL,
        "region_name": env.str("S3_REGION", default="") or None,
        "access_key": secret("S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": secret("S3_SECRET_ACCESS_KEY", default="") or None,
        "addressing_style": env.str("S3_ADDRESSING_STYLE", default="") or None,
    }
    STORAGES = {
        **s3_storages(s3, public_domain=S3_PUBLIC_DOMAIN),
        "staticfiles": STATIC_STORAGE,
    }
    # Pictures and logos come from the bucket: the CSP lets pages show them.
    MEDIA_PUBLIC_ORIGIN = env.str("MEDIA_PUBLIC_ORIGIN", default="") or public_origin(
        bucket=S3_BUCKET,
        endpoint_url=S3_ENDPOINT_URL,
        domain=S3_PUBLIC_DOMAIN,
        virtual=s3["addressing_style"] == "virtual",
    )
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE must be local or s3, not {MEDIA_STORAGE!r}.")
# How many files `manage.py backup` reads from a bucket at once (openhep.backup.buckets);
# 1 reads them one after another. Local media are read from disk one at a time.
BACKUP_READERS = max(1, env.int("BACKUP_READERS", default=8))
# The largest request body accepted (a 5 MB picture or library file and the form
# around it). Larger ones are refused from their Content-Length, before any byte is
# read or written to disk (openhep.middleware); without a Content-Length the upload
# stops at the same size. Set the proxy's body limit to the same value.
OPENHEP_MAX_REQUEST_BYTES = env.int("MAX_REQUEST_MB", default=6) * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = OPENHEP_MAX_REQUEST_BYTES
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = ["openhep.middleware.LimitedUploadHandler"]

# Email: Django 6.1 mailers, configured by one URL.
MAILERS = {
    "default": mailer_from_url(
        secret("EMAIL_URL", default="console:"), timeout=env.int("EMAIL_TIMEOUT", default=15)
    )
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="OpenHEP <handouts@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work: Django's tasks framework. The immediate backend runs a task
# inside the request (no worker needed); production uses the database backend
# with `manage.py db_worker`.
TASKS = {
    "default": {
        "BACKEND": env.str(
            "TASKS_BACKEND", default="django.tasks.backends.immediate.ImmediateBackend"
        )
    }
}
# How long the audit trail keeps reads (views, downloads) and changes, in days
# (clinic/retention.py; `manage.py audit_prune`, daily). Set them to what the law asks.
OPENHEP_AUDIT_KEEP_READS_DAYS = env.int("AUDIT_KEEP_READS_DAYS", default=2 * 365)
OPENHEP_AUDIT_KEEP_CHANGES_DAYS = env.int("AUDIT_KEEP_CHANGES_DAYS", default=7 * 365)
# How long a worker's claim on a handout email holds (seconds): after it runs out (the
# worker died mid-send), requeue_deliveries, every minute, sends it again.
OPENHEP_DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=60)
# How long a worker's claim on drawing an issued handout holds (seconds): after it runs
# out (the worker died mid-draw), requeue_deliveries, every minute, queues it again.
OPENHEP_HANDOUT_LEASE_SECONDS = env.int("HANDOUT_LEASE_SECONDS", default=120)
# A running task whose worker has shown no heartbeat for this long is marked failed
# (the worker was killed); requeue_deliveries does it.
OPENHEP_TASK_ABANDONED_SECONDS = env.int("TASK_ABANDONED_SECONDS", default=300)
# The immediate backend sends email inside the request, with no retries: a
# production process refuses to start with it unless ALLOW_IMMEDIATE_TASKS=1.
OPENHEP_ALLOW_IMMEDIATE_TASKS = env.bool("ALLOW_IMMEDIATE_TASKS", default=False)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

SESSION_COOKIE_HTTPONLY = True
# A session ends after SESSION_IDLE_MINUTES without a request (clinic.middleware),
# and in any case SESSION_COOKIE_AGE after sign-in.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=10 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Production defaults to HTTPS only; set these to 0 to serve plain HTTP (not advised).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # Load balancers probe over plain HTTP.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content Security Policy: scripts only from our own static files (no inline
# scripts anywhere). Inline style attributes are allowed for the Django admin's
# widgets and htmx's request indicator; data: images for Bootstrap's form icons.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", *([MEDIA_PUBLIC_ORIGIN] if MEDIA_PUBLIC_ORIGIN else [])],
    # A clinic's own videos (exercises.ClinicMedia): from the app, or a bucket's
    # signed address when MEDIA_STORAGE=s3.
    "media-src": [CSP.SELF, *([MEDIA_PUBLIC_ORIGIN] if MEDIA_PUBLIC_ORIGIN else [])],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Error reports (500 emails, the debug page) never show request data: a form
# or a query string may hold a patient's details.
DEFAULT_EXCEPTION_REPORTER_FILTER = "openhep.logs.NoPatientDataReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "openhep.logs.NoPatientDataReporter"

# Logs go to standard error: one JSON object a line in production (LOG_FORMAT=json, the
# default when DEBUG is off: time in UTC, level, logger, message, request id), plain
# text for development (the default with DEBUG, as in `make run`). See openhep/logs.py.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
        "no_program_tokens": {"()": "openhep.logs.NoProgramTokensFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "openhep.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["no_program_tokens"],
        },
        # Errors (500s, failed tasks) emailed to ADMINS, with the values hidden.
        "mail_admins": {
            "class": "openhep.logs.NoPatientDataAdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "no_program_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own logger, without its default handlers: errors go to ADMINS
        # through the handler above, and everything to the root's console.
        "django": {"handlers": ["mail_admins"], "level": "INFO"},
        # runserver's request lines, through the console handler's token filter.
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        # One line per request (openhep.logs.RequestIdMiddleware); runserver prints
        # its own in development.
        "openhep.request": {"level": "INFO" if LOG_FORMAT == "json" else "WARNING"},
        # WeasyPrint reports every refused resource; our fetcher logs those itself.
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
        # django-axes logs every sign-in at INFO; lockouts are WARNING.
        "axes": {"level": "WARNING"},
    },
}

# OpenHEP's own settings.
# The public address of this installation, e.g. https://openhep.example.org.
# Handouts then print short video links (SITE_URL/v/<exercise>) under the QR codes.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
OPENHEP_LIBRARY_DIR = BASE_DIR / "exercises" / "library"
# The most exercises one program or template can hold: a home program is a handful,
# and an unbounded one could be doubled by template round trips until the builder
# can no longer save it.
OPENHEP_MAX_ITEMS = env.int("MAX_ITEMS_PER_PROGRAM", default=30)
# Video hosts a handout's short link (/v/<exercise>) redirects to directly; any other
# address gets a page naming where the link goes, and a button to continue.
OPENHEP_VIDEO_HOSTS = env.list(
    "VIDEO_HOSTS",
    default=["youtube.com", "youtu.be", "youtube-nocookie.com", "vimeo.com"],
)
# A clinic's own video file for an exercise (exercises.ClinicMedia): MP4 or WebM, at
# most this large and this long. Its upload is the one request allowed past
# MAX_REQUEST_MB (by this much); it is written to a temporary file as it arrives.
OPENHEP_CLINIC_VIDEO_MAX_BYTES = env.int("CLINIC_VIDEO_MAX_MB", default=50) * 1024 * 1024
OPENHEP_CLINIC_VIDEO_MAX_SECONDS = env.int("CLINIC_VIDEO_MAX_SECONDS", default=180)
# Photos one clinic may add to one exercise.
OPENHEP_CLINIC_PHOTOS_PER_EXERCISE = 6
# Draft previews drawn at once in one process (threads); each user draws one at a
# time. Over either limit the preview says "busy, try again" instead of queueing.
OPENHEP_PREVIEWS_PER_PROCESS = env.int("PREVIEWS_PER_PROCESS", default=2)


# Health, metrics and logs.
# Monitoring URLs (openhep/health.py): /healthz (liveness), /readyz (readiness),
# /healthz/queue (the worker and the email backlog) and /metrics (Prometheus). They
# answer whatever Host a probe sends and over plain HTTP (probes use the pod's address).
MIDDLEWARE = [
    # First: the request id, for every log line after it, then the request metrics.
    "openhep.logs.RequestIdMiddleware",
    "openhep.metrics.MetricsMiddleware",
    *MIDDLEWARE,
]
# Right after SecurityMiddleware (whose HTTPS redirect skips the monitoring URLs) and
# before anything checks the Host.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "openhep.health.ProbeMiddleware",
)
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^readyz$", r"^healthz/queue$", r"^metrics$"]
# /healthz/queue and /metrics answer a monitor that sends "Authorization: Bearer
# <HEALTH_TOKEN>", or one at an address in HEALTH_ALLOWED_IPS (addresses or networks,
# e.g. 10.0.0.0/8; the client address as PROXY_COUNT finds it). Neither set: 403.
OPENHEP_HEALTH_TOKEN = secret("HEALTH_TOKEN", default="")
if OPENHEP_HEALTH_TOKEN and len(OPENHEP_HEALTH_TOKEN) < 16:
    raise ImproperlyConfigured(
        "HEALTH_TOKEN is too short: use 16 characters or more, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(32))'."
    )
# (Checked when the app starts: openhep.health.ProbeMiddleware.)
OPENHEP_HEALTH_ALLOWED_IPS = env.list("HEALTH_ALLOWED_IPS", default=[])
# /healthz/queue answers 503 when the worker's last heartbeat is older than this
# (seconds; it writes one every 30), when a task or a handout email has waited longer
# than HEALTH_QUEUE_MAX_AGE, or when more emails than this failed in the last 24 hours.
OPENHEP_HEALTH_WORKER_MAX_AGE = env.int("HEALTH_WORKER_MAX_AGE", default=120)
OPENHEP_HEALTH_QUEUE_MAX_AGE = env.int("HEALTH_QUEUE_MAX_AGE", default=600)
OPENHEP_HEALTH_FAILED_DELIVERIES_MAX = env.int("HEALTH_FAILED_DELIVERIES_MAX", default=10)
# Prometheus metrics at /metrics (openhep/metrics.py). With several gunicorn workers
# also set PROMETHEUS_MULTIPROC_DIR (docs/operations.md).
OPENHEP_METRICS_ENABLED = env.bool("METRICS_ENABLED", default=False)
# Errors: emailed to ADMINS ("Name <address>,other@example.org") and/or sent to Sentry
# (SENTRY_DSN), in both cases without request data, variables or exception messages.
ADMINS = env.list("ADMINS", default=[])
for _admin in ADMINS:
    if "@" not in _admin:
        raise ImproperlyConfigured(f"ADMINS: {_admin!r} is not an email address.")
SENTRY_DSN = secret("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default="production")
