"""Secrets never reach the logs: not the api_secret, not a bearer token, not a store token.

Every logger is captured at DEBUG, SQL included, around token requests and POS requests
that succeed and that fail; a 500 on each of them is rendered as Django's error e-mail
would render it, request included.
"""

import logging

import pytest
from django.db import connection
from django.views.debug import ExceptionReporter
from rest_framework.test import APIClient

from loyalty.api import auth as auth_views
from loyalty.api import pos as pos_views
from tests.builders import POS, V2

pytestmark = pytest.mark.django_db


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured():
    """Every record of every logger at DEBUG, including those that do not propagate."""
    handler = Capture()
    loggers = [
        logging.getLogger(),
        *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict)),
    ]
    saved = [(logger, logger.level) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
    connection.force_debug_cursor = True  # SQL statements and their parameters, as with DEBUG
    try:
        yield handler.records
    finally:
        connection.force_debug_cursor = False
        for logger, level in saved:
            logger.setLevel(level)
            logger.removeHandler(handler)


def rendered(record: logging.LogRecord) -> str:
    """A record as any handler could write it: message, arguments, traceback, and the
    request as Django's error e-mail shows it."""
    parts = [
        record.getMessage(),
        repr(record.args),
        repr(getattr(record, "sql", "")),
        repr(getattr(record, "params", "")),
    ]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    request = getattr(record, "request", None)
    if request is not None:
        exc_type, exc_value, tb = record.exc_info or (None, None, None)
        parts.append(ExceptionReporter(request, exc_type, exc_value, tb, is_email=True).get_traceback_text())
    return "\n".join(parts)


def explode(*args, **kwargs):
    raise RuntimeError("injected failure")


def test_no_secret_in_the_logs_of_token_and_store_token_requests(tenant, captured, monkeypatch):
    merchant = tenant.merchant
    secrets = {
        "api_secret": merchant.api_secret,
        "bearer token": tenant.access_token,
        "store token": merchant.store_token,
    }
    anonymous = APIClient()
    pos_with_foreign_store = APIClient()
    pos_with_foreign_store.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=merchant.store_token + "x"
    )
    token_body = {"api_key": merchant.credential.api_key, "api_secret": merchant.api_secret}

    answers = [
        anonymous.post(f"{V2}/auth/token", token_body, format="json").status_code,
        anonymous.post(f"{POS}/auth/token", token_body, format="json").status_code,
        anonymous.post(
            f"{V2}/auth/token", {**token_body, "api_secret": merchant.api_secret + "x"}, format="json"
        ).status_code,
        anonymous.post(
            f"{V2}/auth/token", {"api_key": "unknown", "api_secret": merchant.api_secret}, format="json"
        ).status_code,
        tenant.pos.get(f"{POS}/store").status_code,
        tenant.pos.get(f"{POS}/consumers/document/53933515009/wallet").status_code,
        pos_with_foreign_store.get(f"{POS}/store").status_code,
        tenant.v2.get(f"{V2}/customers/987654").status_code,
    ]
    monkeypatch.setattr(auth_views, "access_token_issue", explode)
    monkeypatch.setattr(pos_views.StoreSerializer, "to_representation", explode)
    answers += [
        anonymous.post(f"{V2}/auth/token", token_body, format="json").status_code,
        tenant.pos.get(f"{POS}/store").status_code,
    ]

    assert answers == [200, 200, 401, 401, 200, 404, 401, 404, 500, 500]
    assert any(getattr(record, "sql", None) for record in captured), "the SQL was captured"
    assert any(getattr(record, "request", None) for record in captured), "the failed requests were captured"
    text = "\n".join(rendered(record) for record in captured)
    leaked = [name for name, value in secrets.items() if value in text]
    assert leaked == [], f"found in the logs: {leaked}"
