"""With the database unreachable, every API route answers a JSON 503 and the health
endpoint names the database; once it is back, requests succeed without a restart.

The routes come from the URLconf. On any database the failure is simulated (every
statement fails, or the k-th statement of each write); on PostgreSQL it is real: the
connection points at a closed port, or the server kills the connection under a worker.
"""

import socket

import psycopg
import pytest
from django.db import OperationalError, close_old_connections, connection, transaction
from rest_framework.test import APIClient

from tests.faults import statements_of, with_fault_at
from tests.routes import api_routes
from tests.security.recipes import RECIPES, write_routes
from tests.snapshots import database_rows

# Served from code alone: the OpenAPI document and its two pages need no database.
WITHOUT_DATABASE = {"/api/schema", "/api/docs", "/api/redoc"}
# Answered from what the process keeps of the caller's account (`loyalty.tenancy.cache`), once
# a request has read it, with the database down: the account's settings and the till's store,
# as of that read, and a request that the API refuses before it needs any row.
FROM_MEMORY = {
    ("GET", "/api/v2/account"): 200,
    ("GET", "/api/v1/accounts/integrations/store"): 200,
    ("GET", "/api/v2/customers/lookup"): 400,
}
ANY_OBJECT = {"pk": 1, "code": "ABCDEFGHJKLM", "barcode": "13456789", "document": "53933515009"}


def every_request(holdings):
    """(method, path, send) for every data method of every route; writes send their
    recipe's valid body, so that no answer comes from validation alone."""
    for route in api_routes():
        for method in route.methods:
            recipe = RECIPES.get((method, route.path))
            client = holdings.tenant.pos if route.is_pos else holdings.tenant.v2
            if recipe is None:
                url, body = route.url(**ANY_OBJECT), {}
            else:
                client = APIClient() if recipe.anonymous else client
                url, body = route.url(**recipe.path(holdings)), recipe.body(holdings)
            if method == "GET":
                yield method, route.path, lambda client=client, url=url: client.get(url)
            else:
                send = getattr(client, method.lower())
                yield method, route.path, lambda send=send, url=url, body=body: send(url, body, format="json")


def assert_unavailable(holdings, from_memory: dict[tuple[str, str], int] | None = None) -> int:
    from_memory = from_memory or {}
    answered = 0
    for method, path, send in every_request(holdings):
        response = send()

        if path in WITHOUT_DATABASE:
            assert response.status_code == 200, (method, path)
            continue
        if (method, path) in from_memory:
            assert response.status_code == from_memory[method, path], (method, path)
            continue
        assert response.status_code == 503, (method, path, response.status_code, response.content[:200])
        assert response["Content-Type"].startswith("application/json")
        assert response["Retry-After"]
        body = response.json()
        if path == "/api/health":
            assert body["database"] == "unavailable"
        else:
            assert body["code"] == "database_unavailable"
        answered += 1
    return answered


def assert_available(tenant) -> None:
    assert tenant.v2.get("/api/v2/customers").status_code == 200
    assert tenant.pos.get("/api/v1/accounts/integrations/products").status_code == 200
    assert tenant.v2.get("/api/health").json() == {"status": "ok", "database": "ok"}


def unreachable(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db
def test_every_route_answers_503_json_while_every_statement_fails(alfa):
    with connection.execute_wrapper(unreachable):
        answered = assert_unavailable(alfa)

    assert answered >= 40
    assert_available(alfa.tenant)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), sorted(RECIPES))
def test_the_database_failing_at_any_statement_of_a_write_answers_503_and_writes_nothing(alfa, method, path):
    recipe = RECIPES[(method, path)]
    route = write_routes()[(method, path)]
    client = APIClient() if recipe.anonymous else (alfa.tenant.pos if route.is_pos else alfa.tenant.v2)
    url, body = route.url(**recipe.path(alfa)), recipe.body(alfa)

    def send():
        return getattr(client, method.lower())(url, body, format="json")

    statements = statements_of(send)
    before = database_rows()

    for at in range(1, statements + 1):
        with transaction.atomic():
            response = with_fault_at(at, OperationalError("server closed the connection"), send)
            after = database_rows()
            transaction.set_rollback(True)

        if response.status_code == 503:
            assert response.json()["code"] == "database_unavailable"
            assert after == before, f"statement {at} of {statements} left rows behind"
        else:
            # Django itself tolerates a failed constraint pre-check (the database enforces it).
            assert 200 <= response.status_code < 300, (at, statements, response.content[:200])
    assert 200 <= send().status_code < 300


# --- for real, on PostgreSQL -----------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def database_settings():
    """The connection's settings, restored whatever the test did to them."""
    saved = dict(connection.settings_dict)
    yield connection.settings_dict
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_with_postgresql_unreachable_every_route_answers_503_then_recovers(
    postgres_only, alfa, database_settings
):
    tenant = alfa.tenant
    assert_available(tenant)
    reachable = {"HOST": database_settings["HOST"], "PORT": database_settings["PORT"]}
    connection.close()
    database_settings.update(HOST="127.0.0.1", PORT=str(closed_port()))

    answered = assert_unavailable(alfa, from_memory=FROM_MEMORY)

    assert answered >= 40
    database_settings.update(reachable)  # the database is back; the same process serves again
    assert_available(tenant)


@pytest.mark.django_db(transaction=True)
def test_a_connection_killed_by_postgresql_is_replaced_on_the_next_request(
    postgres_only, tenant, database_settings
):
    # As in production: persistent connections, checked before reuse.
    connection.close()
    database_settings.update(CONN_MAX_AGE=60, CONN_HEALTH_CHECKS=True)
    assert_available(tenant)
    backend = connection.connection.info.backend_pid

    with psycopg.connect(
        host=database_settings["HOST"] or "127.0.0.1",
        port=database_settings["PORT"] or 5432,
        user=database_settings["USER"],
        password=database_settings["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    # What the WSGI handler does at every request boundary; Django's test client skips it.
    close_old_connections()

    assert_available(tenant)
    assert connection.connection.info.backend_pid != backend
