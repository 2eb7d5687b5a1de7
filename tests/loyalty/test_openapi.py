"""The OpenAPI document and its two pages, served offline by the application itself."""

import re
from urllib.parse import urlparse

import pytest
from django.core.management import call_command

from tests.openapi import api_schema, assert_conforms, assert_documented

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


# --- answers Schemathesis found undocumented or off-schema --------------------------------

V2 = "/api/v2"
POS = "/api/v1/accounts/integrations"


def test_a_malformed_document_in_the_wallet_path_is_a_documented_400(tenant):
    response = tenant.pos.get(f"{POS}/consumers/document/123/wallet")

    assert response.status_code == 400
    assert_documented(response, "GET", f"{POS}/consumers/document/{{document}}/wallet")


@pytest.mark.parametrize(("query", "status"), [({}, 400), ({"cpf": "11144477735"}, 404)])
def test_customer_lookup_answers_are_documented(tenant, query, status):
    response = tenant.v2.get(f"{V2}/customers/lookup", query)

    assert response.status_code == status
    assert_documented(response, "GET", f"{V2}/customers/lookup")


def test_cancelling_an_unknown_purchase_is_a_documented_404(tenant):
    response = tenant.pos.post(
        f"{POS}/shops/cancel", {"date": "2024-05-22", "type": "NF", "reference": "none"}, format="json"
    )

    assert response.status_code == 404
    assert_documented(response, "POST", f"{POS}/shops/cancel")


@pytest.mark.parametrize(("page", "status"), [("999", 404), ("abc", 400), ("0", 400), ("-1", 400)])
def test_a_page_past_the_end_is_a_documented_404_and_a_malformed_one_a_400(tenant, page, status):
    response = tenant.v2.get(f"{V2}/customers", {"page": page})

    assert response.status_code == status, response.content
    assert_documented(response, "GET", f"{V2}/customers")
    if status == 400:
        assert "whole number" in response.json()["page"][0]


def test_a_sale_without_a_purchase_type_conforms_to_its_schema(tenant):
    created = tenant.v2.post(f"{V2}/sales", {"cpf": "53933515009", "sale_amount": 10}, format="json")

    assert created.json()["sale"]["type"] == ""
    assert_documented(created, "POST", f"{V2}/sales")
    response = tenant.v2.get(f"{V2}/sales/{created.json()['sale']['id']}")
    assert_documented(response, "GET", f"{V2}/sales/{{id}}")


# --- examples shown on the docs pages ---------------------------------------------------


def _response_examples(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                for content in response.get("content", {}).values():
                    for name, example in content.get("examples", {}).items():
                        yield f"{method.upper()} {path} {status} {name}", content["schema"], example["value"]


def test_every_response_example_conforms_to_its_schema():
    examples = list(_response_examples(api_schema()))

    assert f"GET {POS}/promotions 200 Promotions" in [where for where, _, _ in examples]
    for where, schema, value in examples:
        assert_conforms(value, schema, where)


def test_the_promotion_list_example_is_a_flat_list_shaped_like_the_answer(tenant, anonymous):
    schema = anonymous.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    content = schema["paths"][f"{POS}/promotions"]["get"]["responses"]["200"]["content"]["application/json"]
    tenant.pos.post(
        f"{POS}/products",
        {"unit": "un", "name": "Pringles 105g", "barcode": "13456789", "price": 12.99, "active": True},
        format="json",
    )
    tenant.pos.post(
        f"{POS}/promotions",
        {"barcode": "13456789", "percent_off": 10, "starts_at": "2024-05-22 15:45:00", "active": True},
        format="json",
    )
    answer = tenant.pos.get(f"{POS}/promotions").json()

    [example] = [example["value"] for example in content["examples"].values()]
    assert isinstance(example, list)
    assert len(example) == 1
    assert isinstance(example[0], dict)
    assert len(answer) == 1
    assert set(example[0]) == set(answer[0])
    assert set(example[0]["product"]) == set(answer[0]["product"])


def test_the_schema_is_english_whatever_the_browser_asks_and_only_known_languages_are_served(anonymous):
    from django.utils.translation import trans_real

    asked_portuguese = anonymous.get("/api/schema", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    portuguese = anonymous.get("/api/schema", {"lang": "pt-br"}).content.decode()
    unknown = [anonymous.get("/api/schema", {"lang": f"zz{index}"}) for index in range(3)]

    assert "A page number within the paginated result set." in asked_portuguese
    assert "Um número de página dentro do conjunto de resultados paginado." in portuguese
    assert all(response.status_code == 200 for response in unknown)
    assert not any(code.startswith("zz") for code in trans_real._translations)
