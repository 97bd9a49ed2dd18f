"""Django settings for OpenCX, read from the environment only (see docs/configuration.md)."""

from pathlib import Path

from .database import databases
from .email import email_settings
from .environment import data_dir, env, secret_key
from .security import security_settings
from .sms import sms_settings

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = data_dir()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = secret_key(DATA_DIR)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
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
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "opencx.platform",
    "opencx.contacts",
    "opencx.surveys",
    "opencx.feedback",
    "opencx.inbox",
    "opencx.cases",
    "opencx.insights",
    "opencx.assistant",
    "opencx.offers",
    "opencx.integrations",
    "opencx.api",
    "opencx.ui",
    "opencx.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "opencx.config.urls"
WSGI_APPLICATION = "opencx.config.wsgi.application"
ASGI_APPLICATION = "opencx.config.asgi.application"

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
                "django.template.context_processors.i18n",
                "opencx.ui.context_processors.shell",
            ],
        },
    }
]

DATABASES = databases(DATA_DIR)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "platform.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: five failures per account and address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "platform/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_ENABLED = env.bool("LOGIN_THROTTLING", default=True)

OTP_TOTP_ISSUER = "OpenCX"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if redis_url := env.str("REDIS_URL", default=""):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("it", "Italiano"),
    ("cy", "Cymraeg"),
    ("ru", "Русский"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders when collectstatic has not run (tests, development).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
SESSION_COOKIE_AGE = 60 * 60 * 12

globals().update(email_settings())
globals().update(sms_settings())
globals().update(security_settings(DEBUG))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# The host name used in links inside e-mails.
# Hosted survey pages: answers per minute per client address and per link or invitation token.
SURVEY_RATE_PER_IP = env.int("SURVEY_RATE_PER_IP", default=30)
SURVEY_RATE_PER_LINK = env.int("SURVEY_RATE_PER_LINK", default=600)
SURVEY_RATE_PER_INVITATION = env.int("SURVEY_RATE_PER_INVITATION", default=10)
# A partial survey response (the score given, the rest not) untouched this long is abandoned:
# the case rules act on its score (surveys.services.responses_abandon_stale); 0: never.
SURVEY_ABANDON_MINUTES = env.int("SURVEY_ABANDON_MINUTES", default=60)
OFFERS_RATE_PER_IP = env.int("OFFERS_RATE_PER_IP", default=20)
OFFERS_RATE_PER_LINK = env.int("OFFERS_RATE_PER_LINK", default=10)
# Customers' messages from other systems (API channel, webhooks) stored at once per web worker,
# how many more may wait for a turn (each holds a thread: keep it well below WEB_THREADS) and
# for how long, before a 503 (platform/lanes.py).
INBOUND_LANES = env.int("INBOUND_LANES", default=1)
INBOUND_WAITING = env.int("INBOUND_WAITING", default=8)
INBOUND_WAIT_SECONDS = env.float("INBOUND_WAIT_SECONDS", default=20.0)
OPENCX_PUBLIC_HOST = env.str("OPENCX_PUBLIC_HOST", default="127.0.0.1:8000")
OPENCX_DEMO_PASSWORD = env.str("OPENCX_DEMO_PASSWORD", default="opencx-demo")
# A user-supplied sentiment model (Hugging Face directory, the `transformers` extra): when set,
# it gives every brand's sentiment instead of the shipped model. Never downloaded.
OPENCX_TRANSFORMER_DIR = env.str("OPENCX_TRANSFORMER_DIR", default="")
