"""The health endpoint: one SELECT 1, and a JSON 503 naming the database when it is down."""

import pytest
from django.db import OperationalError, connection

pytestmark = pytest.mark.django_db


def test_health_is_ok_with_one_query(anonymous, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        response = anonymous.get("/api/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert captured.captured_queries[0]["sql"] == "SELECT 1"


def test_health_names_the_database_when_it_is_down(anonymous, monkeypatch):
    def refuse():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(connection, "cursor", refuse)

    response = anonymous.get("/api/health")

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    assert response.json()["status"] == "unavailable"
    assert response["Retry-After"]
