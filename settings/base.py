"""Settings shared by every environment.

Environment modules (`dev`, `test`, `production`) import everything from here and
override only what differs. Anything that varies per deployment is read from the
environment.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LOYALTY_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS: list[str] = []

INSTALLED_APPS = [
    "loyalty.apps.LoyaltyAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "loyalty",
    "customers",
    "promotions",
    "sales",
    "vouchers",
]

MIDDLEWARE = [
    # First, so that API error handling and path normalisation wrap everything else.
    "loyalty.api.middleware.ApiRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of every answer: the staff user's choice, else Accept-Language, else pt-BR.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Admin pages in the staff user's account time zone (loyalty.backoffice.timezones).
    "loyalty.backoffice.timezones.AccountTimeZoneMiddleware",
    # Signs the change history of rules, promotions, rewards and templates with the staff user.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "loyalty.urls"
CSRF_FAILURE_VIEW = "loyalty.api.errors.csrf_failure"
WSGI_APPLICATION = "loyalty.wsgi.application"

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
            ],
        },
    },
]


# Database: an embedded SQLite file unless DATABASE_URL names another server.
SQLITE_PATH = VAR_DIR / "loyalty.sqlite3"
SQLITE_OPTIONS = {
    # WAL lets readers proceed while a writer commits; IMMEDIATE takes the write lock
    # at BEGIN, so two writers queue on the busy timeout instead of failing mid-way.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def prepare_threshold_from_environment() -> int | None:
    """`DATABASE_PREPARE_THRESHOLD`: executions before psycopg prepares a statement; `off` never."""
    value = os.environ.get("DATABASE_PREPARE_THRESHOLD", "2").strip().lower()
    if value in {"off", "none", ""}:
        return None
    try:
        threshold = int(value)
    except ValueError:
        threshold = -1
    if threshold < 0:
        raise ImproperlyConfigured(
            f"DATABASE_PREPARE_THRESHOLD must be a whole number of executions (0 or more) or 'off'; got {value!r}."
        )
    return threshold


def database_from_environment() -> dict:
    """The default database: `DATABASE_URL` when set, the embedded SQLite file otherwise."""
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        if config["ENGINE"] == "django.db.backends.sqlite3":
            config["OPTIONS"] = dict(SQLITE_OPTIONS)
        elif config["ENGINE"] == "django.db.backends.postgresql":
            # Server-side parameters, and psycopg preparing a statement once a connection
            # has run it twice (Django turns preparing off unless asked): the API runs the
            # same few statements again and again, and PostgreSQL then skips parsing and
            # planning them — half the database time of a wallet lookup. A transaction-mode
            # pooler (PgBouncer) cannot keep prepared statements: DATABASE_PREPARE_THRESHOLD=off.
            config["OPTIONS"] = {
                **config.get("OPTIONS", {}),
                "server_side_binding": True,
                "prepare_threshold": prepare_threshold_from_environment(),
            }
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": SQLITE_PATH,
        "OPTIONS": dict(SQLITE_OPTIONS),
    }


DATABASES = {"default": database_from_environment()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Caching backs throttling and idempotency keys: Redis when configured, process memory otherwise.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Each process keeps its accounts' configuration (credentials, stores, rules, templates,
# webhook endpoints) in memory, checked on every request against a version in the cache above
# (loyalty.tenancy.cache): nothing is used longer than ACCOUNT_CACHE_SECONDS after it was
# read. The versions must be seen by every process that serves: one process (runserver, the
# tests) with process memory, several (gunicorn) only with Redis — production keeps it off
# without REDIS_URL.
ACCOUNT_CACHE_ENABLED = os.environ.get("ACCOUNT_CACHE_ENABLED", "1") == "1"
ACCOUNT_CACHE_SECONDS = int(os.environ.get("ACCOUNT_CACHE_SECONDS", "60"))


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Brazilian Portuguese by default, English selectable (admin header; API: Accept-Language).
LANGUAGE_CODE = "pt-br"
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
# One catalogue for the whole project (locale/pt_BR/LC_MESSAGES/django.po). The compiled
# .mo files are committed, so a fresh clone needs no gettext; `make messages` rebuilds them.
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# Numbers shown grouped by the active language: 1.234,56 in pt-BR. Inputs never rely on it:
# the admin's number fields parse both marks (loyalty.backoffice.numbers).
USE_THOUSAND_SEPARATOR = True
TIME_ZONE = "UTC"
USE_TZ = True

# The local time zone of a new merchant account: a time without an offset in a request
# is read in the account's zone.
DEFAULT_ACCOUNT_TIME_ZONE = "America/Sao_Paulo"
# The zone a superuser (who belongs to no account) reads the admin in.
BACKOFFICE_TIME_ZONE = os.environ.get("BACKOFFICE_TIME_ZONE", DEFAULT_ACCOUNT_TIME_ZONE)

STATIC_URL = "/static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders, so the API docs work without `collectstatic`.
WHITENOISE_USE_FINDERS = True

# Request bodies: the API and the admin both refuse anything over 1 MiB.
API_MAX_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

# How long an `Idempotency-Key` answer is kept (at least 24 hours).
IDEMPOTENCY_KEY_TTL = timedelta(hours=int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "24")))

# API tokens.
API_TOKEN_LIFETIME = timedelta(seconds=int(os.environ.get("API_TOKEN_LIFETIME_SECONDS", "3600")))

# Request rates per scope; read at request time so tests and deployments can change them.
API_THROTTLE_RATES = {
    "auth_token": os.environ.get("THROTTLE_AUTH_TOKEN", "30/min"),
    # Failed token requests per api_key, from any address (see loyalty.api.throttling).
    "auth_token_api_key": os.environ.get("THROTTLE_AUTH_TOKEN_API_KEY", "10/min"),
    "voucher_validate": os.environ.get("THROTTLE_VOUCHER_VALIDATE", "120/min"),
}
# Proxies in front of the application that append to X-Forwarded-For. Throttles count the
# socket's address when 0; with N, the N-th address from the right of the header. Anything
# more than the real number lets a client choose the address it is counted under.
API_TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["loyalty.api.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["loyalty.api.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "loyalty.api.schema.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "loyalty.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "loyalty.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "NON_FIELD_ERRORS_KEY": "detail",
    "COERCE_DECIMAL_TO_STRING": False,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%S.%fZ",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": API_TOKEN_LIFETIME,
    "ALGORITHM": "HS256",
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Loyalty engine API",
    "DESCRIPTION": (
        "Cashback, points, vouchers and product promotions for retail.\n\n"
        "Two dialects share one engine:\n\n"
        "* **Server-to-server** (`/api/v2/`) — ERPs and e-commerce back ends register sales, "
        "keep customers in sync and manage the rewards catalogue. Authenticate with "
        "`Authorization: Bearer <access_token>` from `POST /api/v2/auth/token`.\n"
        "* **POS integration** (`/api/v1/accounts/integrations/`) — tills register products, "
        "promotions and purchases, quote discounts and redeem balance. Every call sends the "
        "same bearer token **and** the store's `X-Store-Token`.\n\n"
        "Money, points and quantities are JSON numbers. Dates are accepted as "
        "`YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD HH:MM`, `YYYY-MM-DD` or ISO 8601; a time without an "
        "offset is the merchant account's local time. Responses give dates in UTC ISO 8601."
    ),
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayOperationId": False},
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/(v2|v1/accounts/integrations)",
    "TAGS": [
        {"name": "Auth", "description": "Generation of the Bearer token with `api_key` and `api_secret`."},
        {
            "name": "Customers",
            "description": "Registration, search by CPF, phone, email, and data for relationship management.",
        },
        {
            "name": "Sales",
            "description": "Register external purchases to generate cashback, points, or vouchers.",
        },
        {"name": "Coupons", "description": "Listing and control of available reward stock."},
        {
            "name": "Program",
            "description": (
                "The account's reward rules and program settings (expiry, redemption limits), as the "
                "admin sets them. Changes apply to later grants; what was granted keeps its expiry."
            ),
        },
        {"name": "Vouchers", "description": "Query and validation of vouchers used by the customer."},
        {
            "name": "Categories",
            "description": "Creation and listing of categories used in operation organization.",
        },
        {
            "name": "Reports",
            "description": "What the account owes its customers (liability), as JSON or CSV.",
        },
        {
            "name": "Webhooks",
            "description": (
                "Endpoints the account's events are posted to, signed the Standard Webhooks way, "
                "and their delivery log."
            ),
        },
        {
            "name": "POS · Products",
            "description": "Cadastrar produto: the till's product catalogue, by barcode.",
        },
        {"name": "POS · Promotions", "description": "Listar, adicionar, atualizar e excluir promoções."},
        {
            "name": "POS · Purchases",
            "description": "Adicionar e cancelar compras; descontos do consumidor (the discount quote).",
        },
        {
            "name": "POS · Consumers",
            "description": "Consultar carteira e resgatar vale compras (wallet and balance redemption).",
        },
        {"name": "Health", "description": "Liveness of the service and its database."},
    ],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
    "ENUM_NAME_OVERRIDES": {
        "HealthStateEnum": ["ok", "unavailable"],
        "SaleStatusEnum": "sales.models.Sale.Status",
        "SaleTypeEnum": "loyalty.core.vocabulary.SaleType",
        "PaymentMethodEnum": "loyalty.core.vocabulary.PaymentMethod",
        "ConsentSourceEnum": "customers.models.ConsentSource",
        "RuleKindEnum": "loyalty.engine.models.RewardRule.Kind",
    },
}

# Customer messages: a delivery backend per channel, and the retry policy of the outbox.
MESSAGE_BACKENDS = {
    "email": "loyalty.outbox.backends.EmailBackend",  # Django's EMAIL_BACKEND chooses the provider
    "sms": os.environ.get("MESSAGE_SMS_BACKEND", "loyalty.outbox.backends.LoggingBackend"),
    "whatsapp": os.environ.get("MESSAGE_WHATSAPP_BACKEND", "loyalty.outbox.backends.LoggingBackend"),
}
MESSAGE_MAX_ATTEMPTS = int(os.environ.get("MESSAGE_MAX_ATTEMPTS", "5"))
MESSAGE_RETRY_BASE_SECONDS = int(os.environ.get("MESSAGE_RETRY_BASE_SECONDS", "60"))
# Providers (loyalty.outbox.backends). SMS: Zenvia; WhatsApp: Meta's Cloud API, one approved
# template whose body parameter carries the text. A provider call waits this long at most.
MESSAGE_PROVIDER_TIMEOUT_SECONDS = int(os.environ.get("MESSAGE_PROVIDER_TIMEOUT_SECONDS", "10"))
ZENVIA_API_URL = os.environ.get("ZENVIA_API_URL", "https://api.zenvia.com")
ZENVIA_API_TOKEN = os.environ.get("ZENVIA_API_TOKEN", "")
ZENVIA_SMS_FROM = os.environ.get("ZENVIA_SMS_FROM", "")
WHATSAPP_API_URL = os.environ.get("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0")
WHATSAPP_ACCESS_TOKEN = os.environ.get("WHATSAPP_ACCESS_TOKEN", "")
WHATSAPP_PHONE_NUMBER_ID = os.environ.get("WHATSAPP_PHONE_NUMBER_ID", "")
WHATSAPP_TEMPLATE_NAME = os.environ.get("WHATSAPP_TEMPLATE_NAME", "loyalty_message")
WHATSAPP_TEMPLATE_LANGUAGE = os.environ.get("WHATSAPP_TEMPLATE_LANGUAGE", "pt_BR")
# E-mail: Django's backend and the SMTP settings from the environment (production swaps in
# any django-anymail provider with EMAIL_BACKEND); the sender unless an account names its own.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Programa de fidelidade <noreply@localhost>")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "").lower() in ("1", "true", "yes")
EMAIL_USE_SSL = os.environ.get("EMAIL_USE_SSL", "").lower() in ("1", "true", "yes")
EMAIL_TIMEOUT = MESSAGE_PROVIDER_TIMEOUT_SECONDS
# django-anymail's settings from the environment: ANYMAIL_SENDGRID_API_KEY=... becomes
# ANYMAIL["SENDGRID_API_KEY"], read by `anymail.backends.sendgrid.EmailBackend`.
ANYMAIL = {
    name.removeprefix("ANYMAIL_"): value for name, value in os.environ.items() if name.startswith("ANYMAIL_")
}

# Background jobs (loyalty.shell.jobs): each one's interval in seconds, overridable as
# JOB_INTERVALS="send_messages=5,process_rewards=60". Production runs them on Celery with
# Redis as the broker; `make run` runs them in one process with no broker (`run_jobs`).
JOB_INTERVALS = {
    "send_messages": 10,
    "send_webhooks": 10,
    "process_rewards": 60,
    "purge_idempotency_keys": 3600,
    "run_simulations": 2,
}
for _item in filter(None, os.environ.get("JOB_INTERVALS", "").split(",")):
    _name, _, _seconds = _item.partition("=")
    JOB_INTERVALS[_name.strip()] = int(_seconds)

# What-if simulations of the rules (`loyalty.engine.simulation`): a range of up to this many
# sales is answered inline, a larger one runs on the background job; an account runs at most
# SIMULATION_MAX_RUNNING at once (the others queue); a run not heard of for
# SIMULATION_STALE_SECONDS was lost and is queued again; answers are kept SIMULATION_KEEP_DAYS;
# one job run starts simulations for at most SIMULATION_JOB_SECONDS.
SIMULATION_INLINE_MAX_SALES = int(os.environ.get("SIMULATION_INLINE_MAX_SALES", "20000"))
SIMULATION_MAX_RUNNING = int(os.environ.get("SIMULATION_MAX_RUNNING", "2"))
SIMULATION_STALE_SECONDS = int(os.environ.get("SIMULATION_STALE_SECONDS", "120"))
SIMULATION_KEEP_DAYS = int(os.environ.get("SIMULATION_KEEP_DAYS", "7"))
SIMULATION_JOB_SECONDS = int(os.environ.get("SIMULATION_JOB_SECONDS", "60"))

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "redis://127.0.0.1:6379/0")
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Beat remembers its last runs in a file: beside the SQLite database, not in the working tree.
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# How long a sender holds the messages it took before another may take them: longer than a
# batch of provider calls takes, short enough that a crashed sender's messages go out soon.
MESSAGE_LEASE_SECONDS = int(os.environ.get("MESSAGE_LEASE_SECONDS", "300"))

# Webhooks (loyalty.outbox.webhooks): a receiver answers within WEBHOOK_TIMEOUT_SECONDS (each
# socket operation), anything but a 2xx is retried after WEBHOOK_RETRY_BASE_SECONDS doubled at
# each attempt, and an event ends as failed after WEBHOOK_MAX_ATTEMPTS. A sender holds the
# events it took for WEBHOOK_LEASE_SECONDS: longer than a batch of 50 posts can take when each
# receiver uses its whole timeout to connect and again to answer.
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_RETRY_BASE_SECONDS = int(os.environ.get("WEBHOOK_RETRY_BASE_SECONDS", "60"))
WEBHOOK_LEASE_SECONDS = int(os.environ.get("WEBHOOK_LEASE_SECONDS", "1800"))
# Whether an endpoint may resolve to a private, loopback or link-local address: yes on a
# laptop and in the tests (a receiver on 127.0.0.1); never in production (settings.production).
WEBHOOK_ALLOW_PRIVATE_URLS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
