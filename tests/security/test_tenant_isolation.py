"""Tenant isolation over every API route: B's credentials against A's objects.

The routes come from the URLconf. Every (method, route) must be placed in one of the
tables below — by the object its path names, as a list, as a write whose body may name
another account's object, or as a route that holds no account data — so a new endpoint
fails this module until someone says how to probe it.

- A route naming an object (id, code, barcode, document) answers B exactly as it answers
  an object that does not exist: a 404, for every method, HEAD and OPTIONS included.
- A write naming A's object in its body answers exactly as for an unknown one.
- A list of B shows none of A's values, filtered by A's identifiers or not.
- B's bearer token with A's store token is a 401 on every POS route.
- None of A's rows changes.
"""

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from tests.routes import Route, api_routes
from tests.security.holdings import Holdings
from tests.snapshots import account_rows, changed_models

pytestmark = pytest.mark.django_db

V2 = "/api/v2"
POS = "/api/v1/accounts/integrations"
MISSING_ID = 987654321
MISSING = {
    "pk": MISSING_ID,
    "code": "ZZZZZZZZZZZZ",
    "barcode": "12121212121212",
    "document": "11144477735",  # a valid CPF of no customer
}


@dataclass(frozen=True)
class ByPath:
    """The route's path names an object: which of A's, and a body B could otherwise send."""

    target: Callable[[Holdings], dict]
    body: Callable[[Holdings], dict | None] = lambda b: None


@dataclass(frozen=True)
class ByBody:
    """A write whose body may name another account's object, one variant per reference."""

    references: tuple[tuple[str, Callable[[Holdings, Holdings], dict], Callable[[Holdings], dict]], ...]


@dataclass(frozen=True)
class Listing:
    """A read without an object in its path: plain, and filtered by A's identifiers."""

    queries: Callable[[Holdings], list[dict]] = lambda a: [{}]


@dataclass(frozen=True)
class Unscoped:
    """Holds no account data (health, OpenAPI, token), or writes only from its own values."""

    reason: str = ""


customer = ByPath(lambda a: {"pk": a.customer.pk})
sale = ByPath(lambda a: {"pk": a.sale.pk})
coupon = ByPath(lambda a: {"pk": a.reward.pk})
voucher = ByPath(lambda a: {"code": a.voucher.code.lower()})
promotion = ByPath(lambda a: {"pk": a.promotion.pk})
rule = ByPath(lambda a: {"pk": a.rule.pk})
webhook = ByPath(lambda a: {"pk": a.webhook.pk})


def purchase_body(b: Holdings, **overrides) -> dict:
    return {
        "consumer": b.document,
        "date": "2024-06-01 10:00",
        "reference": "BETA-NEW",
        "type": "CF",
        "items": [{"barcode": b.product.barcode, "unit_value": 10, "quantity": 1, "total": 10}],
        **overrides,
    }


def return_body(reference: str, b: Holdings) -> dict:
    """A return of one unit of B's product from the purchase with this reference."""
    return {
        "date": "2024-05-24",
        "type": "CF",
        "reference": reference,
        "return_reference": "BETA-DEV",
        "items": [{"barcode": b.product.barcode, "quantity": 1}],
    }


MATRIX: dict[tuple[str, str], ByPath | ByBody | Listing | Unscoped] = {
    ("GET", "/api/health"): Unscoped("service status"),
    ("GET", "/api/schema"): Unscoped("the OpenAPI document"),
    ("GET", "/api/docs"): Unscoped("Swagger UI"),
    ("GET", "/api/redoc"): Unscoped("ReDoc"),
    ("POST", f"{V2}/auth/token"): Unscoped("exchanges a credential's own key and secret"),
    ("POST", f"{POS}/auth/token"): Unscoped("exchanges a credential's own key and secret"),
    ("GET", f"{V2}/account"): Listing(),
    ("PATCH", f"{V2}/account"): Unscoped("changes only the caller's own account, from its own values"),
    ("GET", f"{POS}/store"): Listing(),
    # customers
    ("GET", f"{V2}/customers"): Listing(
        lambda a: [
            {},
            {"cpf": a.document},
            {"phone": a.customer.phone},
            {"email": a.customer.email},
            {"search": "Alfa"},
        ]
    ),
    ("POST", f"{V2}/customers"): Unscoped("the same CPF in two accounts is two customers"),
    ("GET", f"{V2}/customers/lookup"): ByBody(
        (
            ("cpf", lambda a, b: {"cpf": a.document}, lambda b: {"cpf": MISSING["document"]}),
            ("phone", lambda a, b: {"phone": a.customer.phone}, lambda b: {"phone": "(31) 91111-2222"}),
            ("email", lambda a, b: {"email": a.customer.email}, lambda b: {"email": "nobody@example.com"}),
        )
    ),
    ("GET", f"{V2}/customers/{{pk}}"): customer,
    ("PATCH", f"{V2}/customers/{{pk}}"): ByPath(customer.target, lambda b: {"name": "Beta Renamed"}),
    ("POST", f"{V2}/customers/{{pk}}/anonymize"): customer,
    ("GET", f"{V2}/customers/{{pk}}/export"): customer,
    ("GET", f"{V2}/customers/{{pk}}/transactions"): customer,
    ("GET", f"{V2}/customers/{{pk}}/wallet"): customer,
    ("GET", f"{POS}/consumers/document/{{document}}/wallet"): ByPath(lambda a: {"document": a.document}),
    # categories, products, promotions, quotes
    ("GET", f"{V2}/categories"): Listing(lambda a: [{}, {"parent": a.category.pk}, {"name": "Alfa"}]),
    ("POST", f"{V2}/categories"): ByBody(
        (
            (
                "parent",
                lambda a, b: {"name": "Beta Sub", "parent": a.category.pk},
                lambda b: {"name": "Beta Sub", "parent": MISSING_ID},
            ),
        )
    ),
    ("GET", f"{POS}/products"): Listing(
        lambda a: [{}, {"barcode": a.product.barcode}, {"category": a.category.name}]
    ),
    ("POST", f"{POS}/products"): Unscoped("the same barcode in two accounts is two products"),
    ("GET", f"{POS}/products/{{barcode}}"): ByPath(lambda a: {"barcode": a.product.barcode}),
    ("GET", f"{POS}/promotions"): Listing(lambda a: [{}, {"barcode": a.product.barcode}, {"active": 1}]),
    ("POST", f"{POS}/promotions"): ByBody(
        (
            (
                "barcode",
                lambda a, b: {"barcode": a.product.barcode, "percent_off": 5},
                lambda b: {"barcode": MISSING["barcode"], "percent_off": 5},
            ),
        )
    ),
    ("GET", f"{POS}/promotions/{{pk}}"): promotion,
    ("PUT", f"{POS}/promotions/{{pk}}"): ByPath(
        promotion.target, lambda b: {"barcode": b.product.barcode, "percent_off": 50}
    ),
    ("DELETE", f"{POS}/promotions/{{pk}}"): promotion,
    ("POST", f"{POS}/shops/discounts"): ByBody(
        (
            (
                "consumer",
                lambda a, b: {"consumer": a.document, "items": []},
                lambda b: {"consumer": MISSING["document"], "items": []},
            ),
            (
                "barcode",
                lambda a, b: {
                    "consumer": b.document,
                    "items": [{"barcode": a.product.barcode, "unit_value": 10, "quantity": 1}],
                },
                lambda b: {
                    "consumer": b.document,
                    "items": [{"barcode": MISSING["barcode"], "unit_value": 10, "quantity": 1}],
                },
            ),
        )
    ),
    # sales and purchases
    ("GET", f"{V2}/sales"): Listing(
        lambda a: [{}, {"customer_id": a.customer.pk}, {"cpf": a.document}, {"store": a.tenant.store.pk}]
    ),
    ("POST", f"{V2}/sales"): ByBody(
        (
            (
                "customer_id",
                lambda a, b: {"customer_id": a.customer.pk, "sale_amount": 10},
                lambda b: {"customer_id": MISSING_ID, "sale_amount": 10},
            ),
            (
                "store",
                lambda a, b: {"cpf": b.document, "sale_amount": 10, "store": a.tenant.store.pk},
                lambda b: {"cpf": b.document, "sale_amount": 10, "store": MISSING_ID},
            ),
        )
    ),
    ("GET", f"{V2}/sales/{{pk}}"): sale,
    ("POST", f"{V2}/sales/{{pk}}/cancel"): sale,
    ("GET", f"{V2}/sales/{{pk}}/returns"): sale,
    ("POST", f"{V2}/sales/{{pk}}/returns"): ByPath(
        sale.target, lambda b: {"reference": "BETA-DEV", "amount": 1}
    ),
    ("PUT", f"{POS}/shops"): ByBody(
        (
            (
                "promotion_id",
                lambda a, b: purchase_body(
                    b,
                    items=[
                        {"unit_value": 10, "quantity": 1, "total": 10, "promotion_id": str(a.promotion.pk)}
                    ],
                ),
                lambda b: purchase_body(
                    b, items=[{"unit_value": 10, "quantity": 1, "total": 10, "promotion_id": str(MISSING_ID)}]
                ),
            ),
        )
    ),
    ("POST", f"{POS}/shops/cancel"): ByBody(
        (
            (
                "reference",
                lambda a, b: {"date": "2024-05-24", "type": "CF", "reference": a.purchase.reference},
                lambda b: {"date": "2024-05-24", "type": "CF", "reference": "MISSING-1"},
            ),
        )
    ),
    ("POST", f"{POS}/shops/returns"): ByBody(
        (
            (
                "reference",
                lambda a, b: return_body(a.purchase.reference, b),
                lambda b: return_body("MISSING-1", b),
            ),
        )
    ),
    # coupons, vouchers, balance
    ("GET", f"{V2}/coupons"): Listing(lambda a: [{}, {"category": a.category.pk}]),
    ("POST", f"{V2}/coupons"): ByBody(
        (
            (
                "category",
                lambda a, b: {"name": "Beta Novo", "points_cost": 1, "value": 1, "category": a.category.pk},
                lambda b: {"name": "Beta Novo", "points_cost": 1, "value": 1, "category": MISSING_ID},
            ),
        )
    ),
    ("GET", f"{V2}/coupons/{{pk}}"): coupon,
    ("PATCH", f"{V2}/coupons/{{pk}}/stock"): ByPath(coupon.target, lambda b: {"stock": 3}),
    ("POST", f"{V2}/coupons/{{pk}}/redeem"): ByPath(coupon.target, lambda b: {"cpf": b.document}),
    ("GET", f"{V2}/vouchers"): Listing(
        lambda a: [{}, {"customer_id": a.customer.pk}, {"cpf": a.document}, {"coupon": a.reward.pk}]
    ),
    ("GET", f"{V2}/vouchers/{{code}}"): voucher,
    ("POST", f"{V2}/vouchers/{{code}}/use"): ByPath(voucher.target, lambda b: {"reference": "BETA-USE"}),
    ("POST", f"{V2}/vouchers/{{code}}/validate"): voucher,
    ("POST", f"{POS}/consumers/{{document}}/balance/redeem"): ByPath(
        lambda a: {"document": a.document},
        lambda b: {"date": "2024-06-19 17:13", "value": 1, "reference": "BETA-R", "type": "NF"},
    ),
    # the program
    ("GET", f"{V2}/rules"): Listing(lambda a: [{}, {"kind": "cashback"}, {"kind": "points"}, {"active": 1}]),
    ("POST", f"{V2}/rules"): ByBody(
        (
            (
                "store_ids",
                lambda a, b: {
                    "name": "Beta nova",
                    "kind": "points",
                    "value": 1,
                    "store_ids": [a.tenant.store.pk],
                },
                lambda b: {"name": "Beta nova", "kind": "points", "value": 1, "store_ids": [MISSING_ID]},
            ),
            (
                "category_ids",
                lambda a, b: {
                    "name": "Beta nova",
                    "kind": "points",
                    "value": 1,
                    "category_ids": [a.category.pk],
                },
                lambda b: {"name": "Beta nova", "kind": "points", "value": 1, "category_ids": [MISSING_ID]},
            ),
            (
                "reward_id",
                lambda a, b: {
                    "name": "Beta nova",
                    "kind": "voucher",
                    "threshold": 10,
                    "reward_id": a.reward.pk,
                },
                lambda b: {"name": "Beta nova", "kind": "voucher", "threshold": 10, "reward_id": MISSING_ID},
            ),
            (
                "template_id",
                lambda a, b: {"name": "Beta nova", "kind": "message", "template_id": a.template.pk},
                lambda b: {"name": "Beta nova", "kind": "message", "template_id": MISSING_ID},
            ),
        )
    ),
    ("GET", f"{V2}/rules/{{pk}}"): rule,
    ("PATCH", f"{V2}/rules/{{pk}}"): ByPath(rule.target, lambda b: {"active": False, "name": "Beta renamed"}),
    ("POST", f"{V2}/rules/simulate"): ByBody(
        (
            ("retire", lambda a, b: {"retire": [a.rule.pk]}, lambda b: {"retire": [MISSING_ID]}),
            (
                "change",
                lambda a, b: {"change": [{"id": a.rule.pk, "value": 2}]},
                lambda b: {"change": [{"id": MISSING_ID, "value": 2}]},
            ),
            (
                "store_ids",
                lambda a, b: {"store_ids": [a.tenant.store.pk]},
                lambda b: {"store_ids": [MISSING_ID]},
            ),
            (
                "add category_ids",
                lambda a, b: {
                    "add": [{"name": "Beta", "kind": "points", "value": 1, "category_ids": [a.category.pk]}]
                },
                lambda b: {
                    "add": [{"name": "Beta", "kind": "points", "value": 1, "category_ids": [MISSING_ID]}]
                },
            ),
            (
                "add reward_id",
                lambda a, b: {
                    "add": [{"name": "Beta", "kind": "voucher", "threshold": 10, "reward_id": a.reward.pk}]
                },
                lambda b: {
                    "add": [{"name": "Beta", "kind": "voucher", "threshold": 10, "reward_id": MISSING_ID}]
                },
            ),
            (
                "change template_id",
                lambda a, b: {"change": [{"id": b.rule.pk, "kind": "message", "template_id": a.template.pk}]},
                lambda b: {"change": [{"id": b.rule.pk, "kind": "message", "template_id": MISSING_ID}]},
            ),
        )
    ),
    ("GET", f"{V2}/rules/simulations/{{pk}}"): ByPath(lambda a: {"pk": a.simulation.pk}),
    # reports: A's store as a filter answers like a store without figures
    ("GET", f"{V2}/reports/liability"): Listing(lambda a: [{}, {"store": a.tenant.store.pk}]),
    # webhooks
    ("GET", f"{V2}/webhooks"): Listing(),
    ("POST", f"{V2}/webhooks"): Unscoped("writes only from its own values (a URL and event types)"),
    ("GET", f"{V2}/webhooks/{{pk}}"): webhook,
    ("PATCH", f"{V2}/webhooks/{{pk}}"): ByPath(
        webhook.target, lambda b: {"url": "https://beta.example/taken", "rotate_secret": True}
    ),
    ("GET", f"{V2}/webhooks/{{pk}}/deliveries"): webhook,
}

# The redeem answers "no customer" through the body too: B naming A's customer there.
REDEEM_REFERENCES = (
    ("customer_id", lambda a, b: {"customer_id": a.customer.pk}, lambda b: {"customer_id": MISSING_ID}),
    ("cpf", lambda a, b: {"cpf": a.document}, lambda b: {"cpf": MISSING["document"]}),
)
# A rule's change names stores, categories, a reward and a template in its body too: B
# naming A's in a change of B's own rule.
RULE_CHANGE_REFERENCES = (
    (
        "store_ids",
        lambda a, b: {"store_ids": [a.tenant.store.pk]},
        lambda b: {"store_ids": [MISSING_ID]},
    ),
    (
        "category_ids",
        lambda a, b: {"category_ids": [a.category.pk]},
        lambda b: {"category_ids": [MISSING_ID]},
    ),
    (
        "reward_id",
        lambda a, b: {"kind": "voucher", "threshold": 10, "reward_id": a.reward.pk},
        lambda b: {"kind": "voucher", "threshold": 10, "reward_id": MISSING_ID},
    ),
    (
        "template_id",
        lambda a, b: {"kind": "message", "template_id": a.template.pk},
        lambda b: {"kind": "message", "template_id": MISSING_ID},
    ),
)
USE_REFERENCES = (
    (
        "store",
        lambda a, b: {"reference": "BETA-USE", "store": a.tenant.store.pk},
        lambda b: {"reference": "BETA-USE", "store": MISSING_ID},
    ),
)


def route_methods() -> list[tuple[str, str]]:
    return [(method, route.path) for route in api_routes() for method in route.methods]


def routes_by_path() -> dict[str, Route]:
    return {route.path: route for route in api_routes()}


def test_every_route_of_the_urlconf_is_in_the_matrix():
    unknown = sorted(set(route_methods()) - set(MATRIX))
    stale = sorted(set(MATRIX) - set(route_methods()))

    assert not unknown, f"Teach the isolation matrix how to probe these routes: {unknown}"
    assert not stale, f"These matrix entries name no route any more: {stale}"


def test_every_route_with_a_path_parameter_is_probed_by_that_object():
    loose = [key for key in route_methods() if "{" in key[1] and not isinstance(MATRIX.get(key), ByPath)]

    assert not loose, f"Routes naming an object must be probed by it (ByPath): {loose}"


@dataclass
class Call:
    client: object
    method: str
    url: str
    body: dict | None = None
    query: dict = field(default_factory=dict)

    def send(self):
        send = getattr(self.client, self.method.lower())
        if self.method in ("GET", "HEAD"):
            return send(self.url, self.query)
        if self.method == "OPTIONS":
            return send(self.url)
        return send(self.url, self.body, format="json") if self.body is not None else send(self.url)


def client_of(holdings: Holdings, route: Route):
    return holdings.tenant.pos if route.is_pos else holdings.tenant.v2


def answer(response) -> tuple[int, object]:
    content = response.content.decode()
    return response.status_code, json.loads(content) if content else None


def cases(kind: type) -> list[tuple[str, str]]:
    return sorted(key for key, probe in MATRIX.items() if isinstance(probe, kind))


def probing(method: str, path: str, holdings: Holdings):
    """The route, its probe, and the client of the account that probes."""
    route = routes_by_path()[path]
    return route, MATRIX[(method, path)], client_of(holdings, route)


@pytest.mark.parametrize(("method", "path"), cases(ByPath))
def test_a_foreign_object_in_the_path_answers_like_a_missing_one(alfa, beta, method, path):
    route, probe, client = probing(method, path, beta)
    foreign_url, missing_url = route.url(**probe.target(alfa)), route.url(**MISSING)
    methods = [method, *(["HEAD"] if method == "GET" else []), "OPTIONS"]
    before = account_rows(alfa.account)

    for sent in methods:
        foreign = Call(client, sent, foreign_url, probe.body(beta)).send()
        missing = Call(client, sent, missing_url, probe.body(beta)).send()

        assert foreign["Content-Type"].startswith("application/json") or sent == "HEAD", (
            sent,
            foreign.content,
        )
        if sent != "OPTIONS":
            assert foreign.status_code == 404, (sent, foreign_url, foreign.content)
        assert answer(foreign) == answer(missing), (sent, foreign_url)

    assert changed_models(before, account_rows(alfa.account)) == []


def by_body_cases():
    cases = [
        (method, path, name, foreign, missing)
        for (method, path), probe in MATRIX.items()
        if isinstance(probe, ByBody)
        for name, foreign, missing in probe.references
    ]
    cases += [("POST", f"{V2}/coupons/{{pk}}/redeem", *reference) for reference in REDEEM_REFERENCES]
    cases += [("POST", f"{V2}/vouchers/{{code}}/use", *reference) for reference in USE_REFERENCES]
    cases += [("PATCH", f"{V2}/rules/{{pk}}", *reference) for reference in RULE_CHANGE_REFERENCES]
    return cases


def sent_and_rolled_back(call: Call, account) -> tuple[object, dict]:
    """The answer to the call and the account's rows right after it; then the call is undone,
    so that the next variant starts from the same data."""
    with transaction.atomic():
        response = call.send()
        rows = account_rows(account)
        transaction.set_rollback(True)
    return response, rows


def leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def differing_leaves(first, second) -> tuple[set, set]:
    """The values at the places where two request bodies differ: the references under test."""
    if isinstance(first, dict) and isinstance(second, dict):
        pairs = [differing_leaves(first[key], second[key]) for key in first.keys() & second.keys()]
    elif isinstance(first, list) and isinstance(second, list):
        pairs = [differing_leaves(a, b) for a, b in zip(first, second, strict=True)]
    else:
        return ({first}, {second}) if first != second else (set(), set())
    return set().union(*(a for a, _ in pairs)), set().union(*(b for _, b in pairs))


GENERATED_KEYS = {"id", "date", "code", "created_at", "updated_at", "valid_from", "valid_until"}


def normalized(response, references: set) -> tuple[int, object]:
    """Status and body, with generated values and the echoed references blanked out."""

    def blank(value, key=None):
        if key in GENERATED_KEYS:
            return "<generated>"
        if isinstance(value, dict):
            return {name: blank(item, name) for name, item in value.items()}
        if isinstance(value, list):
            return [blank(item) for item in value]
        if isinstance(value, str):
            for reference in references:
                value = re.sub(rf"(?<![\w-]){re.escape(str(reference))}(?![\w-])", "<ref>", value)
        return value

    content = response.content.decode()
    return response.status_code, blank(json.loads(content) if content else None)


@pytest.mark.parametrize(
    ("method", "path", "name", "foreign", "missing"),
    by_body_cases(),
    ids=[f"{method} {path} {name}" for method, path, name, *_ in by_body_cases()],
)
def test_a_foreign_reference_in_the_body_answers_like_a_missing_one(
    alfa, beta, method, path, name, foreign, missing
):
    route = routes_by_path()[path]
    own = beta.rule if path.startswith(f"{V2}/rules/") else beta.reward  # B's own object in the path
    url = route.url(pk=own.pk, code=beta.voucher.code)
    client = client_of(beta, route)
    foreign_body, missing_body = foreign(alfa, beta), missing(beta)
    foreign_references, missing_references = differing_leaves(foreign_body, missing_body)
    before = account_rows(alfa.account)

    def call(body):
        return Call(client, method, url, query=body) if method == "GET" else Call(client, method, url, body)

    foreign_response, rows_after = sent_and_rolled_back(call(foreign_body), alfa.account)
    missing_response, _ = sent_and_rolled_back(call(missing_body), alfa.account)

    assert foreign_response.status_code < 500, foreign_response.content
    assert normalized(foreign_response, foreign_references) == normalized(
        missing_response, missing_references
    )
    assert changed_models(before, rows_after) == []


@pytest.mark.parametrize(("method", "path"), cases(Listing))
def test_lists_show_none_of_the_other_accounts_rows(alfa, beta, method, path):
    route, probe, client = probing(method, path, beta)

    for query in probe.queries(alfa):
        response = client.get(route.path, query)

        assert response.status_code == 200, (query, response.content)
        values = [str(value) for value in leaves(response.json()) if value is not None]
        leaked = [value for value in values if value in alfa.markers or "alfa" in value.lower()]
        assert leaked == [], (query, leaked)
        if query == {}:
            assert any("beta" in value.lower() or value in beta.markers for value in values), response.content


def test_bs_bearer_with_as_store_token_is_refused_on_every_pos_route(alfa, beta):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {beta.tenant.access_token}",
        HTTP_X_STORE_TOKEN=alfa.tenant.merchant.store_token,
    )
    before = account_rows(alfa.account)
    probed = 0

    for route in api_routes():
        if not route.is_pos:
            continue
        values = {"pk": alfa.promotion.pk, "barcode": alfa.product.barcode, "document": alfa.document}
        for method in route.methods:
            response = Call(client, method, route.url(**values), {}).send()

            assert response.status_code == 401, (method, route.path, response.content)
            assert response.json()["code"] == "store_token_invalid"
            probed += 1

    assert probed >= 10
    assert changed_models(before, account_rows(alfa.account)) == []
