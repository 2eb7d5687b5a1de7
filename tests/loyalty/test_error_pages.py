"""Errors under `/api/` that no API view renders are JSON too, with DEBUG off and on.

Django renders some errors itself — an exception raised in a middleware, a disallowed
host, a request it refuses to read — and under DEBUG those are its HTML debug pages; the
documentation views render their errors in their own formats (HTML, YAML). Each answer
must still be JSON, with the status it had, and say nothing of the settings or the code.
"""

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import Http404
from django.test import override_settings
from rest_framework.test import APIClient

from tests.builders import V2

pytestmark = pytest.mark.django_db

DEBUG = pytest.mark.parametrize("debug", [False, True], ids=["DEBUG off", "DEBUG on"])


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response.content[:300]
    body = response.json()
    assert body["code"] == code, body
    return body


@DEBUG
def test_a_disallowed_host_is_a_json_400(debug):
    with override_settings(DEBUG=debug):
        response = APIClient().get("/api/health", HTTP_HOST="evil.example")

    body = assert_json_error(response, 400, "bad_request")
    assert "ALLOWED_HOSTS" not in body["detail"]  # the operator's setting is not the client's business


@DEBUG
def test_an_exception_raised_in_a_middleware_is_a_json_500_without_its_traceback(debug, monkeypatch):
    def explode(self, request):
        raise RuntimeError("secret-laden failure")

    monkeypatch.setattr(SessionMiddleware, "process_request", explode)

    with override_settings(DEBUG=debug):
        response = APIClient(raise_request_exception=False).get("/api/health")

    body = assert_json_error(response, 500, "server_error")
    assert "secret-laden" not in response.content.decode()
    assert "Traceback" not in body["detail"]


@DEBUG
def test_a_404_raised_in_a_middleware_is_a_json_404(debug, monkeypatch):
    def missing(self, request):
        raise Http404("nothing here")

    monkeypatch.setattr(SessionMiddleware, "process_request", missing)

    with override_settings(DEBUG=debug):
        response = APIClient().get("/api/health")

    assert_json_error(response, 404, "not_found")


@DEBUG
@pytest.mark.parametrize("path", ["/api/docs", "/api/redoc", "/api/schema"])
def test_the_documentation_views_answer_their_errors_in_json(debug, path):
    with override_settings(DEBUG=debug):
        wrong_method = APIClient().post(path, {}, format="json")
        unknown_format = APIClient().get(path, {"format": "xml"})

    assert_json_error(wrong_method, 405, "method_not_allowed")
    assert "GET" in wrong_method["Allow"]
    assert_json_error(unknown_format, 404, "not_found")


def test_the_documentation_pages_themselves_stay_html():
    response = APIClient().get("/api/docs")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")


@DEBUG
def test_too_many_query_parameters_is_a_json_400_not_a_server_error(debug, tenant):
    query = "&".join(f"field{number}=1" for number in range(1001))

    with override_settings(DEBUG=debug):
        response = tenant.v2.get(f"{V2}/customers?{query}")

    body = assert_json_error(response, 400, "bad_request")
    assert "parameters" in body["detail"]


@DEBUG
def test_api_without_a_slash_is_a_json_404_not_a_redirect(debug, anonymous):
    with override_settings(DEBUG=debug):
        response = anonymous.get("/api")

    body = assert_json_error(response, 404, "not_found")
    assert "/api/docs/" in body["detail"]
