"""The data can be sharded by account: every tenant-owned row carries it, every unique
constraint includes it, and the hot requests filter by it.

The rule for statements: each query block's driving table (`FROM "table"`, an `UPDATE` or
a `DELETE`) is filtered by its `account_id`; tables joined to it are reached through a
foreign key of a row of that account. Every `INSERT` into a tenant table writes the
`account_id`.
"""

import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection, models
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from customers.services import customer_create, wallet_credit
from loyalty.engine.program import rule_create
from loyalty.outbox.services import message_template_create
from loyalty.outbox.webhooks.models import WebhookEventType
from loyalty.outbox.webhooks.services import webhook_endpoint_create
from loyalty.tenancy.models import Account
from tests.builders import POS, PRODUCT_APPS, V2
from tests.factories import ProductFactory, PromotionFactory, RewardFactory
from tests.sales.builders import item, purchase

# Unique without the account, each with the reason it must be global.
GLOBAL_UNIQUES = {
    # The token endpoint finds the account by it before anything else is known: it is the
    # directory's lookup key (a reference table when the data is sharded).
    ("loyalty.ApiCredential", "api_key"): "the tenant directory's lookup key",
}


def product_models() -> list[type[models.Model]]:
    return [model for label in PRODUCT_APPS for model in apps.get_app_config(label).get_models()]


def tenant_models() -> list[type[models.Model]]:
    return [model for model in product_models() if model is not Account]


def _names_account(constraint: models.UniqueConstraint) -> bool:
    if "account" in constraint.fields:
        return True
    return any(
        (isinstance(expression, str) and expression == "account")
        or (isinstance(expression, F) and expression.name == "account")
        for expression in constraint.expressions
    )


def is_change_history(model) -> bool:
    return hasattr(model, "history_object")


@pytest.mark.parametrize("model", tenant_models(), ids=lambda model: model._meta.label)
def test_every_tenant_table_carries_the_account(model):
    field = model._meta.get_field("account")

    assert field.related_model is Account
    if is_change_history(model):
        # django-simple-history copies every foreign key as nullable (what it points at may be
        # gone later); each row is written from a saved object, whose account is required —
        # tests/loyalty/test_history.py checks the copied account.
        return
    assert not field.null, f"{model._meta.label}.account may be empty"


@pytest.mark.parametrize("model", tenant_models(), ids=lambda model: model._meta.label)
def test_every_unique_constraint_includes_the_account(model):
    label = model._meta.label
    unique_fields = [
        field.name
        for field in model._meta.local_fields
        if field.unique and not field.primary_key and (label, field.name) not in GLOBAL_UNIQUES
    ]
    constraints = [
        constraint.name
        for constraint in model._meta.constraints
        if isinstance(constraint, models.UniqueConstraint) and not _names_account(constraint)
    ]
    together = [fields for fields in model._meta.unique_together if "account" not in fields]

    assert (unique_fields, constraints, together) == ([], [], [])


@pytest.mark.parametrize("model", product_models(), ids=lambda model: model._meta.label)
def test_no_link_table_is_left_to_django(model):
    """A many-to-many of Django's own making has no account column."""
    automatic = [
        field.name for field in model._meta.many_to_many if field.remote_field.through._meta.auto_created
    ]

    assert automatic == []


# --- the SQL of the hot requests ------------------------------------------------------------

TENANT_TABLES = {model._meta.db_table for model in tenant_models()}
DRIVING = re.compile(r'\b(?:FROM|UPDATE)\s+"(\w+)"(?:\s+(?:AS\s+)?"?(\w+)"?)?')
INSERT = re.compile(r'^INSERT INTO "(\w+)" \(([^)]*)\)')
KEYWORDS = {"WHERE", "INNER", "LEFT", "ORDER", "GROUP", "LIMIT", "SET", "ON", "FOR", "WINDOW", "HAVING"}


def unfiltered(sql: str) -> list[str]:
    """The tenant tables a statement writes without the account, or drives a query block
    from without filtering by it."""
    insert = INSERT.match(sql)
    if insert:
        table, columns = insert.groups()
        return [table] if table in TENANT_TABLES and '"account_id"' not in columns else []
    missing = []
    for match in DRIVING.finditer(sql):
        table, alias = match.group(1), match.group(2)
        if table not in TENANT_TABLES:
            continue
        reference = re.escape(f'"{table}"' if not alias or alias.upper() in KEYWORDS else alias)
        # A filter names an account: a join condition between two tables is not one.
        filtered = re.search(rf'{reference}\."account_id"\s*(=\s*\d|IN\s*\(\d)', sql) or re.search(
            rf'\d\s*=\s*{reference}\."account_id"', sql
        )
        if not filtered:
            missing.append(table)
    return missing


def statements_of(send) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    assert response.status_code < 300, response.content
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))
    ]


def test_the_rule_finds_what_it_is_for():
    assert unfiltered(
        'SELECT "customers_wallet"."id" FROM "customers_wallet" WHERE "customers_wallet"."id" = 1'
    )
    assert not unfiltered(
        'SELECT "customers_wallet"."id" FROM "customers_wallet" WHERE "customers_wallet"."account_id" = 1'
    )
    assert unfiltered('SELECT U0."id" FROM "customers_ledgerentry" U0 WHERE U0."sale_id" = 3')
    assert not unfiltered('SELECT U0."id" FROM "customers_ledgerentry" U0 WHERE (U0."account_id" = 2)')
    assert unfiltered('INSERT INTO "sales_saleitem" ("sale_id", "total") VALUES (1, 2)')
    assert not unfiltered('INSERT INTO "sales_saleitem" ("account_id", "sale_id") VALUES (1, 2)')
    assert unfiltered('UPDATE "customers_wallet" SET "points" = 1 WHERE "customers_wallet"."id" = 1')
    joined_only = (
        'SELECT "loyalty_apicredential"."id" FROM "loyalty_apicredential" INNER JOIN "loyalty_account" '
        'ON ("loyalty_apicredential"."account_id" = "loyalty_account"."id") WHERE "loyalty_apicredential"."id" = 3'
    )
    assert unfiltered(joined_only) == ["loyalty_apicredential"]


@pytest.fixture
def busy_account(tenant):
    """Every step of the hot requests has work to do."""
    account = tenant.account
    rule_create(account=account, name="5% cashback", kind="cashback", value=Decimal("5"))
    rule_create(account=account, name="Points", kind="points", value=Decimal("1"), stores=[tenant.store])
    reward = RewardFactory(account=account, points_cost=Decimal("10"))
    rule_create(account=account, name="Voucher", kind="voucher", value=Decimal("5"), threshold=Decimal("1"))
    rule_create(account=account, name="Gift", kind="voucher", threshold=Decimal("1"), reward=reward)
    message_template_create(
        account=account, name="R", event="sale_rewarded", channel="sms", body="{cashback}"
    )
    message_template_create(
        account=account, name="O", event="sale_rewarded", channel="sms", purpose="marketing", body="{name}"
    )
    # Every event is queued for a webhook endpoint (read, then written, by each request).
    webhook_endpoint_create(
        account=account, url="https://erp.example.com/hooks", events=WebhookEventType.values
    )
    customer = customer_create(account=account, name="Maria", document="53933515009", phone="11987654321")
    wallet_credit(customer=customer, kind="adjustment", amounts={"balance": Decimal("50")}, reason="Opening")
    product = ProductFactory(account=account, barcode="13456789", subcategory="Salgadinho")
    promotion = PromotionFactory(product=product, limit=1)
    # The till records the consumer's marketing consent with the purchase (and reads it back).
    return purchase(items=[item(promotion_id=str(promotion.pk))], consent={"sms": True, "email": False})


RETURN = {
    "date": "2024-05-24",
    "type": "CF",
    "pdv": "1",
    "coupon": "15",
    "return_reference": "DEV-1",
    "items": [{"barcode": "13456789", "quantity": 1}],
}

# The hot requests (purchase, replay, quote, redemption, wallet, return, cancel) and the rest of the
# request paths a till or an ERP runs every day, in an order in which each has work to do.
REQUESTS = {
    "purchase": lambda tenant, body: tenant.pos.put(f"{POS}/shops", body, format="json"),
    "replay": lambda tenant, body: tenant.pos.put(f"{POS}/shops", body, format="json"),
    "quote": lambda tenant, body: tenant.pos.post(
        f"{POS}/shops/discounts",
        {
            "consumer": "53933515009",
            "items": [{"barcode": "13456789", "unit_value": 12, "quantity": 2, "total": 24}],
        },
        format="json",
    ),
    "redeem": lambda tenant, body: tenant.pos.post(
        f"{POS}/consumers/53933515009/balance/redeem",
        {"date": "2024-05-24 15:00", "value": 5, "reference": "11", "pdv": "1", "coupon": "15", "type": "CF"},
        format="json",
    ),
    "wallet": lambda tenant, body: tenant.pos.get(f"{POS}/consumers/document/53933515009/wallet"),
    "coupon stock": lambda tenant, body: tenant.v2.patch(
        f"{V2}/coupons/{tenant.account.rewards.get().pk}/stock", {"delta": 5}, format="json"
    ),
    "coupon redeem": lambda tenant, body: tenant.v2.post(
        f"{V2}/coupons/{tenant.account.rewards.get().pk}/redeem", {"cpf": "53933515009"}, format="json"
    ),
    "customers": lambda tenant, body: tenant.v2.get(f"{V2}/customers"),
    "customer": lambda tenant, body: tenant.v2.get(f"{V2}/customers/{maria(tenant)}"),
    "customer consent": lambda tenant, body: tenant.v2.patch(
        f"{V2}/customers/{maria(tenant)}", {"consent": {"sms": False, "whatsapp": True}}, format="json"
    ),
    "customer wallet": lambda tenant, body: tenant.v2.get(f"{V2}/customers/{maria(tenant)}/wallet"),
    "transactions": lambda tenant, body: tenant.v2.get(f"{V2}/customers/{maria(tenant)}/transactions"),
    "export": lambda tenant, body: tenant.v2.get(f"{V2}/customers/{maria(tenant)}/export"),
    "categories": lambda tenant, body: tenant.v2.get(f"{V2}/categories"),
    "sales": lambda tenant, body: tenant.v2.get(f"{V2}/sales"),
    # One unit back (and the same return again), then the sale's returns, before the purchase is cancelled.
    "return": lambda tenant, body: tenant.pos.post(f"{POS}/shops/returns", RETURN, format="json"),
    "return replay": lambda tenant, body: tenant.pos.post(f"{POS}/shops/returns", RETURN, format="json"),
    "returns": lambda tenant, body: tenant.v2.get(f"{V2}/sales/{tenant.account.sales.get().pk}/returns"),
    "cancel": lambda tenant, body: tenant.pos.post(
        f"{POS}/shops/cancel", {"date": "2024-05-24", "type": "CF", "pdv": "1", "coupon": "15"}, format="json"
    ),
    "anonymize": lambda tenant, body: tenant.v2.post(f"{V2}/customers/{maria(tenant)}/anonymize"),
    "rules": lambda tenant, body: tenant.v2.get(f"{V2}/rules"),
    "rule": lambda tenant, body: tenant.v2.get(f"{V2}/rules/{tenant.account.rules.order_by('id')[1].pk}"),
    "account settings": lambda tenant, body: tenant.v2.patch(
        f"{V2}/account", {"expiry_inactivity_days": 365}, format="json"
    ),
    "webhooks": lambda tenant, body: tenant.v2.get(f"{V2}/webhooks"),
    "webhook": lambda tenant, body: tenant.v2.get(f"{V2}/webhooks/{webhook(tenant)}"),
    "webhook change": lambda tenant, body: tenant.v2.patch(
        f"{V2}/webhooks/{webhook(tenant)}",
        {"events": ["sale.recorded"], "rotate_secret": True},
        format="json",
    ),
    "webhook deliveries": lambda tenant, body: tenant.v2.get(
        f"{V2}/webhooks/{webhook(tenant)}/deliveries", {"status": "queued"}
    ),
    "webhook added": lambda tenant, body: tenant.v2.post(
        f"{V2}/webhooks", {"url": "https://erp.example.com/more", "events": ["voucher.used"]}, format="json"
    ),
}


def webhook(tenant) -> int:
    return tenant.account.webhook_endpoints.order_by("id").first().pk


def maria(tenant) -> int:
    return tenant.account.customers.get(document__in=["53933515009", None]).pk


@pytest.mark.django_db
def test_every_statement_of_the_requests_filters_by_the_account(tenant, busy_account):
    found = {}
    for name, send in REQUESTS.items():
        for sql in statements_of(lambda send=send: send(tenant, busy_account)):
            for table in unfiltered(sql):
                found.setdefault(name, []).append(f"{table}: {sql[:300]}")

    assert found == {}
