"""The OpenAPI document and its two pages, served offline by the application itself."""

import re
from urllib.parse import urlparse

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_describes_both_dialects_and_both_security_schemes(anonymous):
    response = anonymous.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    assert schemes["storeToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Store-Token",
        "description": schemes["storeToken"]["description"],
    }
    assert schema["paths"]["/api/v1/accounts/integrations/store"]["get"]["security"] == [
        {"bearer": [], "storeToken": []}
    ]
    assert schema["paths"]["/api/v2/account"]["get"]["security"] == [{"bearer": []}]
    assert "/api/v2/auth/token" in schema["paths"]
    assert "/api/v1/accounts/integrations/auth/token" in schema["paths"]


def test_paths_are_documented_without_trailing_slash(anonymous):
    schema = anonymous.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert [path for path in schema["paths"] if path.endswith("/")] == []


def _asset_urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_reference_no_external_host(anonymous, page):
    response = anonymous.get(page)

    assert response.status_code == 200
    html = response.content.decode()
    urls = _asset_urls(html)
    assert urls, "the page loads its assets"
    external = [url for url in urls if urlparse(url).netloc not in ("", "testserver")]
    assert external == []
    assert "cdn" not in html.lower()


def test_swagger_assets_are_served_by_the_app(anonymous):
    html = anonymous.get("/api/docs/").content.decode()
    scripts = [url for url in _asset_urls(html) if url.endswith(".js")]

    assert scripts
    for url in scripts:
        response = anonymous.get(url)
        assert response.status_code == 200, url


def test_schema_generates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3")
