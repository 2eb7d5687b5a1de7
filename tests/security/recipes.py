"""A valid request for every write route of the API, and what the OpenAPI schema says
each one accepts: the recipes the mass-assignment and limits tests start from."""

from collections.abc import Callable
from dataclasses import dataclass

from tests.openapi import api_schema
from tests.routes import WRITE_METHODS, api_routes
from tests.security.holdings import Holdings

V2 = "/api/v2"
POS = "/api/v1/accounts/integrations"


@dataclass(frozen=True)
class Recipe:
    """A valid request: the path's values and the body, from account A's own objects."""

    body: Callable[[Holdings], dict]
    path: Callable[[Holdings], dict] = lambda a: {}
    anonymous: bool = False


def credentials(a: Holdings) -> dict:
    return {"api_key": a.tenant.merchant.credential.api_key, "api_secret": a.tenant.merchant.api_secret}


def purchase(a: Holdings) -> dict:
    return {
        "consumer": a.document,
        "date": "2024-06-01 10:00",
        "reference": "NEW-1",
        "type": "CF",
        "pdv": "3",
        "coupon": "99",
        "payments": [{"method": 1, "total": 20, "digital_change": 1}],
        "items": [{"unit": "un", "barcode": a.product.barcode, "unit_value": 10, "quantity": 2, "total": 20}],
    }


RECIPES: dict[tuple[str, str], Recipe] = {
    ("POST", f"{V2}/auth/token"): Recipe(credentials, anonymous=True),
    ("POST", f"{POS}/auth/token"): Recipe(credentials, anonymous=True),
    ("POST", f"{V2}/customers"): Recipe(lambda a: {"name": "Novo", "cpf": "11144477735"}),
    ("PATCH", f"{V2}/customers/{{pk}}"): Recipe(
        lambda a: {"name": "Renomeado"}, lambda a: {"pk": a.customer.pk}
    ),
    ("POST", f"{V2}/customers/{{pk}}/anonymize"): Recipe(lambda a: {}, lambda a: {"pk": a.customer.pk}),
    ("POST", f"{V2}/categories"): Recipe(lambda a: {"name": "Nova categoria"}),
    ("POST", f"{POS}/products"): Recipe(
        lambda a: {
            "unit": "un",
            "name": "Produto novo",
            "barcode": "555",
            "price": 5,
            "category": "Mercearia",
        }
    ),
    ("POST", f"{POS}/promotions"): Recipe(lambda a: {"barcode": a.product.barcode, "percent_off": 20}),
    ("PUT", f"{POS}/promotions/{{pk}}"): Recipe(
        lambda a: {"barcode": a.product.barcode, "percent_off": 30}, lambda a: {"pk": a.promotion.pk}
    ),
    ("POST", f"{POS}/shops/discounts"): Recipe(
        lambda a: {
            "consumer": a.document,
            "items": [{"barcode": a.product.barcode, "unit_value": 10, "quantity": 2}],
        }
    ),
    ("PUT", f"{POS}/shops"): Recipe(purchase),
    ("POST", f"{POS}/shops/cancel"): Recipe(
        lambda a: {"date": "2024-05-24", "type": "CF", "reference": a.purchase.reference}
    ),
    ("POST", f"{V2}/sales"): Recipe(
        lambda a: {
            "cpf": a.document,
            "sale_amount": 100,
            "reference": "NEW-ERP",
            "items": [{"barcode": a.product.barcode, "unit_value": 50, "quantity": 2, "total": 100}],
            "payments": [{"method": 3, "total": 100}],
        }
    ),
    ("POST", f"{V2}/sales/{{pk}}/cancel"): Recipe(lambda a: {}, lambda a: {"pk": a.sale.pk}),
    ("POST", f"{POS}/shops/returns"): Recipe(
        lambda a: {
            "date": "2024-05-24",
            "type": "CF",
            "reference": a.purchase.reference,
            "return_reference": "DEV-1",
            "items": [{"barcode": a.product.barcode, "quantity": 1}],
        }
    ),
    # A's ERP sale has no items: part of its amount is given back.
    ("POST", f"{V2}/sales/{{pk}}/returns"): Recipe(
        lambda a: {"reference": "DEV-1", "amount": 10}, lambda a: {"pk": a.sale.pk}
    ),
    ("POST", f"{V2}/coupons"): Recipe(
        lambda a: {"name": "Novo vale", "points_cost": 10, "value": 5, "stock": 3}
    ),
    ("PATCH", f"{V2}/coupons/{{pk}}/stock"): Recipe(lambda a: {"delta": 2}, lambda a: {"pk": a.reward.pk}),
    ("POST", f"{V2}/coupons/{{pk}}/redeem"): Recipe(
        lambda a: {"cpf": a.document}, lambda a: {"pk": a.reward.pk}
    ),
    ("POST", f"{V2}/vouchers/{{code}}/validate"): Recipe(lambda a: {}, lambda a: {"code": a.voucher.code}),
    ("POST", f"{V2}/vouchers/{{code}}/use"): Recipe(
        lambda a: {"reference": "USE-1"}, lambda a: {"code": a.voucher.code}
    ),
    ("PATCH", f"{V2}/account"): Recipe(lambda a: {"expiry_reminder_days": 3, "expiry_inactivity_days": 180}),
    ("POST", f"{V2}/rules"): Recipe(
        lambda a: {
            "name": "Nova regra",
            "kind": "cashback",
            "value": 5,
            "store_ids": [a.tenant.store.pk],
            "category_ids": [a.category.pk],
        }
    ),
    ("PATCH", f"{V2}/rules/{{pk}}"): Recipe(
        lambda a: {"name": "Renomeada", "value": 7}, lambda a: {"pk": a.rule.pk}
    ),
    ("POST", f"{V2}/rules/simulate"): Recipe(
        lambda a: {
            "date_from": "2024-05-01",
            "date_to": "2024-06-30",
            "store_ids": [a.tenant.store.pk],
            "add": [{"name": "Nova", "kind": "points", "value": 1, "category_ids": [a.category.pk]}],
            "change": [{"id": a.rule.pk, "value": 7}],
        }
    ),
    ("POST", f"{V2}/webhooks"): Recipe(
        lambda a: {"url": "https://erp.example.com/hooks", "events": ["sale.recorded", "voucher.used"]}
    ),
    ("PATCH", f"{V2}/webhooks/{{pk}}"): Recipe(
        lambda a: {"url": "https://erp.example.com/v2", "events": ["balance.redeemed"]},
        lambda a: {"pk": a.webhook.pk},
    ),
    ("POST", f"{POS}/consumers/{{document}}/balance/redeem"): Recipe(
        lambda a: {"date": "2024-06-19 17:13", "value": 2, "reference": "R-2", "type": "NF"},
        lambda a: {"document": a.document},
    ),
}


def write_routes() -> dict[tuple[str, str], object]:
    return {
        (method, route.path): route
        for route in api_routes()
        for method in route.methods
        if method in WRITE_METHODS
    }


def _resolve(node: dict) -> dict:
    components = api_schema()["components"]["schemas"]
    return components[node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else node


def request_properties(method: str, path: str) -> tuple[dict, dict[str, dict]]:
    """The documented properties of the operation's JSON body, and those of the objects of
    each of its lists (items, payments), with their schemas resolved."""
    operation = api_schema()["paths"][path.replace("{pk}", "{id}")][method.lower()]
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    properties = {
        name: _resolve(prop)
        for name, prop in _resolve(content.get("schema", {})).get("properties", {}).items()
    }
    nested = {
        name: {
            key: _resolve(value)
            for key, value in _resolve(prop.get("items", {})).get("properties", {}).items()
        }
        for name, prop in properties.items()
        if prop.get("type") == "array"
    }
    return properties, nested


def documented_fields() -> dict[tuple[str, str], tuple[set[str], set[str]]]:
    """The request fields each write operation documents in the OpenAPI schema: those of
    the body itself, and those of the objects in its lists (items, payments)."""
    fields = {}
    for path, operations in api_schema()["paths"].items():
        for method in operations:
            properties, nested = request_properties(method, path)
            key = (method.upper(), path.replace("{id}", "{pk}"))
            fields[key] = (set(properties), {name for entries in nested.values() for name in entries})
    return fields
