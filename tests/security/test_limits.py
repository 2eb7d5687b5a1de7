"""Limits, each with a clear answer that writes nothing.

Bodies over 1 MiB (413), more than 500 items in a purchase, a sale or a quote, page sizes
over 500, strings over their documented length, numbers outside their documented range
(negative amounts, quantities of 10^12), dates that do not exist (`2024-02-30`), ids too
large for a key, JSON nested too deeply: every write route and every list of the URLconf,
with the fields and parameters the OpenAPI schema documents for it.
"""

import json

import pytest
from rest_framework.test import APIClient

from tests.openapi import api_schema
from tests.security.recipes import POS, RECIPES, V2, request_properties, write_routes
from tests.snapshots import database_rows

pytestmark = pytest.mark.django_db

ONE_MIB = 1024 * 1024
IMPOSSIBLE_DATE = "2024-02-30"


def client_for(alfa, method, path):
    recipe = RECIPES[(method, path)]
    route = write_routes()[(method, path)]
    client = APIClient() if recipe.anonymous else (alfa.tenant.pos if route.is_pos else alfa.tenant.v2)
    return client, route.url(**recipe.path(alfa)), recipe.body(alfa)


def field_errors(response) -> str:
    """The 400's body as text, to find the field it names."""
    return json.dumps(response.json())


def assert_refused(response, field: str, before: dict, status: int = 400) -> None:
    assert response.status_code == status, (field, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert f'"{field}"' in field_errors(response), (field, response.content[:300])
    assert database_rows() == before


@pytest.mark.parametrize(("method", "path"), sorted(RECIPES))
def test_a_body_over_one_mebibyte_is_refused_with_413(alfa, method, path):
    client, url, body = client_for(alfa, method, path)
    oversized = json.dumps({**body, "padding": "x" * ONE_MIB})
    before = database_rows()

    response = getattr(client, method.lower())(url, oversized, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert "1 MiB" in response.json()["detail"]
    assert database_rows() == before


ITEM = {"barcode": "13456789", "unit_value": 1, "quantity": 1, "discount": 0, "total": 1}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        (
            "PUT",
            f"{POS}/shops",
            lambda a: {"consumer": a.document, "date": "2024-06-01", "type": "CF", "reference": "X"},
        ),
        ("POST", f"{POS}/shops/discounts", lambda a: {"consumer": a.document}),
        ("POST", f"{V2}/sales", lambda a: {"cpf": a.document, "sale_amount": 501}),
    ],
)
def test_more_than_500_items_is_a_400_that_says_the_limit(alfa, method, path, body):
    client, url, _ = client_for(alfa, method, path)
    before = database_rows()

    response = getattr(client, method.lower())(url, {**body(alfa), "items": [ITEM] * 501}, format="json")

    assert_refused(response, "items", before)
    assert "500" in field_errors(response)


def paginated_lists() -> list[str]:
    return sorted(
        path
        for path, operations in api_schema()["paths"].items()
        if any(
            parameter["name"] == "page_size" for parameter in operations.get("get", {}).get("parameters", [])
        )
    )


def test_every_paginated_list_is_probed():
    assert len(paginated_lists()) >= 6


@pytest.mark.parametrize("path", paginated_lists())
@pytest.mark.parametrize("size", ["501", "0", "-1", "abc"])
def test_a_page_size_outside_1_to_500_is_a_400(alfa, path, size):
    client = alfa.tenant.pos if path.startswith(POS) else alfa.tenant.v2

    # A list under an object names that object: the sale's returns, the webhook's deliveries,
    # or the customer's ledger.
    owner = alfa.customer
    if path.startswith(f"{V2}/sales/"):
        owner = alfa.sale
    elif path.startswith(f"{V2}/webhooks/"):
        owner = alfa.webhook
    response = client.get(path.replace("{id}", str(owner.pk)), {"page_size": size})

    assert_refused(response, "page_size", database_rows())
    assert "1 to 500" in field_errors(response)


def body_variants(alfa, kind: str):
    """(method, path, field, body): a recipe's body with one documented field out of bounds."""
    for (method, path), recipe in sorted(RECIPES.items()):
        base = recipe.body(alfa)
        properties, nested = request_properties(method, path)
        places = [(None, properties), *((name, entries) for name, entries in nested.items() if name in base)]
        for parent, entries in places:
            for field, schema in sorted(entries.items()):
                for value in out_of_bounds(kind, field, schema):
                    if parent is None:
                        yield method, path, field, {**base, field: value}
                    else:
                        yield method, path, field, {**base, parent: [{**base[parent][0], field: value}]}


def out_of_bounds(kind: str, field: str, schema: dict) -> list:
    if schema.get("readOnly"):
        return []
    if kind == "length" and schema.get("type") == "string" and "maxLength" in schema:
        filler = "1" if "barcode" in field else "x"
        return [filler * (schema["maxLength"] + 1)]
    if kind == "range" and schema.get("type") in ("number", "integer"):
        values = []
        if "minimum" in schema:
            values.append(schema["minimum"] - 1)
        if "maximum" in schema:
            values.append(max(10**12, schema["maximum"] * 10))
        return values
    if kind == "date" and schema.get("format") in ("date", "date-time"):
        return [IMPOSSIBLE_DATE]
    return []


def run_variants(alfa, kind: str) -> int:
    refused = 0
    for method, path, field, body in body_variants(alfa, kind):
        client, url, _ = client_for(alfa, method, path)
        before = database_rows()

        response = getattr(client, method.lower())(url, body, format="json")

        assert_refused(response, field, before)
        refused += 1
    return refused


def test_strings_over_their_documented_length_are_400s_naming_the_field(alfa):
    assert run_variants(alfa, "length") >= 30


def test_numbers_outside_their_documented_range_are_400s_naming_the_field(alfa):
    # Negative amounts, quantities of 10^12, stock and limits past their maximum.
    assert run_variants(alfa, "range") >= 25


def test_dates_that_do_not_exist_are_400s_naming_the_field(alfa):
    assert run_variants(alfa, "date") >= 8


def test_the_probes_reach_the_fields_the_issue_names(alfa):
    variants = {
        (path, field, json.dumps(body, sort_keys=True, default=str))
        for kind in ("length", "range", "date")
        for _, path, field, body in body_variants(alfa, kind)
    }
    named = {(path, field) for path, field, _ in variants}

    assert (f"{POS}/shops", "quantity") in named
    assert (f"{V2}/sales", "sale_amount") in named
    assert (f"{POS}/consumers/{{document}}/balance/redeem", "value") in named
    assert (f"{POS}/shops", "reference") in named
    assert (f"{V2}/customers", "birth_date") in named
    assert any('"quantity": 1000000000000' in body for _, field, body in variants if field == "quantity")


def list_parameters(kind: str) -> list[tuple[str, str]]:
    found = []
    for path, operations in sorted(api_schema()["paths"].items()):
        if "{" in path or "get" not in operations:
            continue
        for parameter in operations["get"].get("parameters", []):
            name, schema = parameter["name"], parameter.get("schema", {})
            if parameter["in"] != "query" or name in ("page", "page_size"):
                continue
            numeric = schema.get("type") in ("integer", "number")
            dated = name.endswith(("_after", "_before"))
            if (kind == "number" and numeric) or (kind == "date" and dated):
                found.append((path, name))
    return found


@pytest.mark.parametrize(("path", "name"), list_parameters("number"))
@pytest.mark.parametrize("value", [str(10**30), "-1", "1e400", "NaN", "²"])
def test_numbers_out_of_range_in_list_filters_are_400s(alfa, path, name, value):
    client = alfa.tenant.pos if path.startswith(POS) else alfa.tenant.v2

    response = client.get(path, {name: value})

    assert_refused(response, name, database_rows())


@pytest.mark.parametrize(("path", "name"), list_parameters("date"))
def test_dates_that_do_not_exist_in_list_filters_are_400s(alfa, path, name):
    client = alfa.tenant.pos if path.startswith(POS) else alfa.tenant.v2

    response = client.get(path, {name: IMPOSSIBLE_DATE})

    assert_refused(response, name, database_rows())
    assert IMPOSSIBLE_DATE in field_errors(response)


def test_list_filters_are_probed():
    assert len(list_parameters("number")) >= 5
    assert len(list_parameters("date")) >= 3


def test_json_nested_too_deeply_is_a_400_parse_error(alfa):
    before = database_rows()

    response = alfa.tenant.v2.post(
        f"{V2}/customers", "[" * 50_000 + "]" * 50_000, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")
    assert database_rows() == before


def test_an_idempotency_key_over_255_characters_is_a_400(alfa):
    before = database_rows()

    response = alfa.tenant.v2.post(
        f"{V2}/categories", {"name": "Nova"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 256
    )

    assert_refused(response, "Idempotency-Key", before)


@pytest.mark.parametrize("promotion_id", [str(10**19), "²", "0"])
def test_a_promotion_id_that_names_no_promotion_is_recorded_with_a_warning(alfa, promotion_id):
    body = {
        "consumer": alfa.document,
        "date": "2024-06-01",
        "type": "CF",
        "reference": "P-1",
        "items": [{**ITEM, "promotion_id": promotion_id}],
    }

    response = alfa.tenant.pos.put(f"{POS}/shops", body, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["purchase"]["items"][0]["promotion_id"] is None
    assert f"promotion_id {promotion_id} is not a promotion of this account" in response.json()["warnings"][0]
