"""Production settings refuse to start half-configured and pass Django's deployment checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items() if key not in ("SECRET_KEY", "ALLOWED_HOSTS")}
    base.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "settings.production", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION_ENV = {
    "SECRET_KEY": "a-production-secret-that-is-long-and-random-0123456789-abcdefghijklmnopq",
    "ALLOWED_HOSTS": "loyalty.example.com",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/loyalty",
}


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without(missing):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert missing in result.stderr


def test_postgresql_prepares_repeated_statements_by_default(monkeypatch):
    from settings.base import database_from_environment

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loyalty")
    monkeypatch.delenv("DATABASE_PREPARE_THRESHOLD", raising=False)

    options = database_from_environment()["OPTIONS"]

    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 2


@pytest.mark.parametrize(("value", "threshold"), [("off", None), ("OFF", None), ("0", 0), (" 5 ", 5)])
def test_prepare_threshold_can_be_changed_or_turned_off_for_a_pooler(monkeypatch, value, threshold):
    from settings.base import database_from_environment

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loyalty")
    monkeypatch.setenv("DATABASE_PREPARE_THRESHOLD", value)

    assert database_from_environment()["OPTIONS"]["prepare_threshold"] == threshold


@pytest.mark.parametrize("value", ["-1", "twice", "2.5"])
def test_a_prepare_threshold_that_is_not_a_count_is_refused(monkeypatch, value):
    from django.core.exceptions import ImproperlyConfigured

    from settings.base import database_from_environment

    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/loyalty")
    monkeypatch.setenv("DATABASE_PREPARE_THRESHOLD", value)

    with pytest.raises(ImproperlyConfigured, match="DATABASE_PREPARE_THRESHOLD"):
        database_from_environment()


@pytest.mark.parametrize(
    ("extra", "kept"),
    [({}, "False"), ({"REDIS_URL": "redis://127.0.0.1:6379/0"}, "True")],
    ids=["without-redis", "with-redis"],
)
def test_production_keeps_the_accounts_configuration_in_memory_only_with_redis(extra, kept):
    """Several gunicorn workers see one another's configuration changes only through a shared
    cache: without Redis each request reads the configuration from the database."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.ACCOUNT_CACHE_ENABLED)",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "settings.production", **PRODUCTION_ENV, **extra},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == kept
