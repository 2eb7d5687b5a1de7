"""Every answer under /api/ is JSON, errors included, and paths never redirect."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.test import override_settings
from rest_framework.test import APIClient

from loyalty.api.health import HealthView
from tests.builders import POS, V2

pytestmark = pytest.mark.django_db


def assert_json_error(response, status, code=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    if code:
        assert body["code"] == code
    return body


def test_malformed_json_is_400_with_the_parser_message(anonymous):
    # The seed's cancel example is missing a comma exactly like this.
    body = '{\n    "date": "2024-05-22",\n    "type": "NF"\n    "reference": "1"\n}'

    response = anonymous.post(f"{V2}/auth/token", body, content_type="application/json")

    detail = assert_json_error(response, 400)["detail"]
    assert detail.startswith("JSON parse error - ")


def test_non_json_body_is_415(anonymous):
    response = anonymous.post(
        f"{V2}/auth/token", "api_key=a", content_type="application/x-www-form-urlencoded"
    )

    assert_json_error(response, 415, "unsupported_media_type")


def test_unknown_api_path_is_json_404(anonymous):
    for path in ("/api/nope", "/api/v2/nope/", f"{POS}/nope", "/api/"):
        body = assert_json_error(anonymous.get(path), 404, "not_found")
        assert "/api/docs/" in body["detail"]


def test_unknown_api_path_is_json_404_for_posts_too(anonymous):
    csrf_checking = APIClient(enforce_csrf_checks=True)

    for client in (anonymous, csrf_checking):
        body = assert_json_error(
            client.post("/api/v2/vouchers//validate", {}, format="json"), 404, "not_found"
        )
        assert "/api/docs/" in body["detail"]


def test_wrong_method_is_405(anonymous):
    assert_json_error(anonymous.get(f"{V2}/auth/token"), 405, "method_not_allowed")


def test_missing_auth_is_401_json(anonymous):
    assert_json_error(anonymous.get(f"{V2}/account"), 401, "authorization_missing")


def test_body_over_one_mebibyte_is_413(anonymous):
    payload = '{"api_key": "' + "a" * (1024 * 1024) + '", "api_secret": "b"}'

    response = anonymous.post(f"{V2}/auth/token", payload, content_type="application/json")

    body = assert_json_error(response, 413, "request_too_large")
    assert "1 MiB" in body["detail"]


def test_trailing_slash_is_optional_and_never_redirects(tenant):
    without = tenant.v2.get(f"{V2}/account")
    with_slash = tenant.v2.get(f"{V2}/account/")

    assert without.status_code == with_slash.status_code == 200
    assert without.json() == with_slash.json()


def test_post_with_trailing_slash_reaches_the_endpoint(anonymous, merchant):
    response = anonymous.post(
        f"{POS}/auth/token/",
        {"api_key": merchant.credential.api_key, "api_secret": merchant.api_secret},
        format="json",
    )

    assert response.status_code == 200


def test_unhandled_error_is_json_500(monkeypatch):
    def explode(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(HealthView, "get", explode)

    body = assert_json_error(APIClient().get("/api/health"), 500, "server_error")
    assert "boom" not in body["detail"]


def test_permission_denied_outside_drf_is_json_403(monkeypatch):
    def deny(self, request):
        raise PermissionDenied

    monkeypatch.setattr(HealthView, "get", deny)

    assert_json_error(APIClient().get("/api/health"), 403)


def test_database_error_inside_a_view_is_json_503(tenant, monkeypatch):
    from loyalty.api import authentication

    def unavailable(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(authentication.ApiCredential.objects, "select_related", unavailable)

    response = tenant.v2.get(f"{V2}/account")

    assert_json_error(response, 503, "database_unavailable")
    assert response["Retry-After"]


@override_settings(DEBUG=False)
def test_disallowed_host_under_api_is_json_400():
    response = APIClient().get("/api/health", HTTP_HOST="evil.example")

    assert_json_error(response, 400, "bad_request")


def test_non_api_pages_keep_html_errors(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_a_404_from_an_object_lookup_carries_its_code(tenant):
    response = tenant.v2.get(f"{V2}/customers/999999")

    assert_json_error(response, 404, "not_found")
