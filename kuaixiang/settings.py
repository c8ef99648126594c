"""One env-driven settings module; zero configuration gives SQLite, SqliteHuey and console e-mail.

Every variable is documented in ``.env.example``.
"""

from pathlib import Path

import dj_database_url

from kuaixiang.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KX_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEMO_MODE = env_bool("KX_DEMO", False)
TESTING = env_bool("KX_TESTING", False)
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not (DEBUG or DEMO_MODE or TESTING):
        raise RuntimeError("SECRET_KEY is required outside demo, debug and test mode")
    SECRET_KEY = "insecure-demo-key-do-not-use-in-production"  # noqa: S105  (demo, debug and tests only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["*"] if (DEMO_MODE or DEBUG) else ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "huey.contrib.djhuey",
    "kuaixiang.org",
    "kuaixiang.sla",
    "kuaixiang.triage",
    "kuaixiang.complaints",
    "kuaixiang.notify",
    "kuaixiang.alerts",
    "kuaixiang.crisis",
    "kuaixiang.remedies",
    "kuaixiang.drills",
    "kuaixiang.api",
    "kuaixiang.web",
    "kuaixiang.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kuaixiang.web.middleware.ChineseFirstLocaleMiddleware",  # zh-hans unless the user switched
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kuaixiang.urls"
WSGI_APPLICATION = "kuaixiang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kuaixiang.web.context.navigation",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'kuaixiang.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
if env_bool("KX_FAST_PASSWORD_HASHER", TESTING):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
_VENDOR = {
    "vendor/bootstrap": BASE_DIR / "node_modules/bootstrap/dist",
    "vendor/bootstrap-icons": BASE_DIR / "node_modules/bootstrap-icons/font",
    "vendor/htmx": BASE_DIR / "node_modules/htmx.org/dist",
    "vendor/echarts": BASE_DIR / "node_modules/echarts/dist",
}
STATICFILES_DIRS = [(prefix, path) for prefix, path in _VENDOR.items() if path.exists()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
KX_ATTACHMENT_MAX_BYTES = env_int("KX_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:workbench"
LOGOUT_REDIRECT_URL = "web:login"

REDIS_URL = env_str("REDIS_URL")
# Tests run tasks synchronously through the real code path (one test runs a real consumer).
HUEY_IMMEDIATE = env_bool("HUEY_IMMEDIATE", TESTING)
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env_str("HUEY_NAME", "kuaixiang"),
        "url": REDIS_URL,
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("HUEY_WORKERS", 4), "worker_type": "thread"},
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "kuaixiang",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": HUEY_IMMEDIATE,
        "consumer": {"workers": env_int("HUEY_WORKERS", 2), "worker_type": "thread"},
    }

EMAIL_URL = env_str("EMAIL_URL", "locmem://" if TESTING else "console://")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kuaixiang@localhost")


def _email_settings(url: str) -> dict:
    """Map ``smtp://user:pass@host:port`` / ``smtp+tls://`` / ``console://`` to Django's e-mail settings."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parts.scheme in {"smtp", "smtp+tls", "smtps"}:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
            "EMAIL_USE_SSL": parts.scheme == "smtps",
            "EMAIL_TIMEOUT": 10,
        }
    raise RuntimeError(f"EMAIL_URL scheme not supported: {parts.scheme!r}")


globals().update(_email_settings(EMAIL_URL))

KX_OUTBOX_MAX_ATTEMPTS = env_int("KX_OUTBOX_MAX_ATTEMPTS", 8)
KX_WEBHOOK_TIMEOUT = env_int("KX_WEBHOOK_TIMEOUT", 5)
KX_SITE_URL = env_str("KX_SITE_URL", "http://localhost:8000")

# Triage (docs/triage.md): repeat window, category level that counts as "the same subject",
# the classifier model behind category suggestions and the confidence that pre-fills the category.
KX_REPEAT_WINDOW_DAYS = env_int("KX_REPEAT_WINDOW_DAYS", 30)
KX_REPEAT_CATEGORY_LEVEL = env_int("KX_REPEAT_CATEGORY_LEVEL", 2)
KX_CLASSIFIER_MODEL = env_str("KX_CLASSIFIER_MODEL", "") or ""
KX_CLASSIFIER_PREFILL = float(env_str("KX_CLASSIFIER_PREFILL", "0.8") or "0.8")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

if not DEBUG and not DEMO_MODE:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
