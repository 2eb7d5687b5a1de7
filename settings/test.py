"""Settings for the test suite: fast password hashing, in-memory cache and e-mail."""

import os

from .base import *  # noqa: F403
from .base import API_THROTTLE_RATES

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789-abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

# Hashing strength is irrelevant to behaviour and costs seconds per test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

API_THROTTLE_RATES = {**API_THROTTLE_RATES, "auth_token": "1000/min", "voucher_validate": "1000/min"}

# Tests run against a clean schema whatever DATABASE_URL names; keep connections short so
# the test database can be dropped at the end.
if os.environ.get("DATABASE_URL"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
