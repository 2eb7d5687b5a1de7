"""Development settings: the default of `manage.py`, used by `make run`."""

import os

from .base import *  # noqa: F403
from .base import VAR_DIR

DEBUG = os.environ.get("DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY") or "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnop"
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

VAR_DIR.mkdir(parents=True, exist_ok=True)

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
