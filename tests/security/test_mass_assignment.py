"""Mass assignment: money, points, counters, the account and the store never come from a body.

Every write route of the URLconf (POST, PUT, PATCH) has a recipe: a valid body. The body
is sent twice from the same data — as it is, and with every protected field the endpoint
does not document added (at the top level and in each item and payment), naming the
other account, its store and absurd amounts. Both answers and everything both requests
wrote must be the same (the extra fields were ignored), or the second must be a 400 that
wrote nothing (they were refused). The protected fields an endpoint does document are
listed in `DOCUMENTED`, each with its reason.
"""

import json
from datetime import datetime, timedelta

import pytest
from django.db import models, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from tests.routes import WRITE_METHODS
from tests.security.holdings import Holdings
from tests.security.recipes import POS, RECIPES, V2, documented_fields, write_routes
from tests.snapshots import database_rows, product_models

pytestmark = pytest.mark.django_db

ABSURD = 987654
THEN = "2000-01-01T00:00:00Z"


def protected_fields(b: Holdings) -> dict:
    """What a request must never set: identity, tenancy, balances, counters, computed state."""
    return {
        "id": ABSURD,
        "pk": ABSURD,
        "account": b.account.pk,
        "account_id": b.account.pk,
        "store": b.tenant.store.pk,
        "store_id": b.tenant.store.pk,
        "credential": b.tenant.merchant.credential.pk,
        "customer": b.customer.pk,
        "customer_id": b.customer.pk,
        "wallet": {"points": ABSURD, "balance": ABSURD},
        **{
            name: ABSURD
            for name in (
                "points",
                "balance",
                "digital_change",
                "pending_points",
                "pending_balance",
                "total_points",
                "total_balance",
                "total_shoppings",
                "count_shoppings",
                "total_discounts",
                "amount",
                "cashback",
                "discount_total",
                "messages_queued",
                "uses",
                "stock",
                "value",
                "product_count",
                "coupon_count",
                "secret_generation",
            )
        },
        "rewards": {"cashback": ABSURD, "points": ABSURD},
        "status": "cancelled",
        "is_active": False,
        "available": True,
        "code": "HACKEDCODE12",
        "used_reference": "HACKED",
        **{
            name: THEN
            for name in (
                "created_at",
                "updated_at",
                "cancelled_at",
                "disabled_at",
                "anonymized_at",
                "used_at",
                "valid_from",
                "valid_until",
            )
        },
    }


# Protected names an endpoint does take, on purpose.
DOCUMENTED = {
    ("POST", f"{V2}/sales"): {"customer_id", "store"},  # who bought, at which own store (isolation matrix)
    # The part of an itemless sale's amount given back, at most what is left of it (the service's check).
    ("POST", f"{V2}/sales/{{pk}}/returns"): {"amount"},
    ("POST", f"{V2}/coupons"): {"stock", "value"},  # the new reward's initial stock and voucher value
    ("PATCH", f"{V2}/coupons/{{pk}}/stock"): {"stock"},  # what the endpoint sets
    ("POST", f"{V2}/coupons/{{pk}}/redeem"): {"customer_id"},  # who redeems
    ("POST", f"{V2}/vouchers/{{code}}/use"): {"store"},  # where it was used
    ("POST", f"{POS}/consumers/{{document}}/balance/redeem"): {"value", "digital_change"},  # amounts to spend
    ("POST", f"{V2}/rules"): {"value"},  # the rule's percent, points per R$ or voucher value
    ("PATCH", f"{V2}/rules/{{pk}}"): {"value"},  # the same, changed for later grants
}


def test_every_write_route_has_a_recipe():
    unknown = sorted(set(write_routes()) - set(RECIPES))
    stale = sorted(set(RECIPES) - set(write_routes()))

    assert not unknown, f"Give these write routes a recipe (a valid body): {unknown}"
    assert not stale, f"These recipes name no route any more: {stale}"


def test_no_write_endpoint_documents_a_protected_field_without_a_reason(beta):
    protected = set(protected_fields(beta))

    for (method, path), (names, _) in documented_fields().items():
        if method not in WRITE_METHODS:
            continue
        unexpected = (names & protected) - DOCUMENTED.get((method, path), set())
        assert not unexpected, f"{method} {path} takes protected fields {sorted(unexpected)}"


# --- the differential ------------------------------------------------------------------

GENERATED_KEYS = {
    "id",
    "code",
    "access_token",
    "created_at",
    "updated_at",
    "valid_from",
    "valid_until",
    "secret",
    "secret_prefix",
}
RANDOM_COLUMNS = {"code", "password", "token_digest", "secret_digest", "secret", "secret_prefix", "event_id"}
# The ids a webhook event's data names, by the model they name: a new row's id differs between
# two runs (on PostgreSQL, whose sequences a rollback does not move back).
EVENT_DATA_IDS = {
    "sale_id": "sales.Sale",
    "return_id": "sales.SaleReturn",
    "redemption_id": "vouchers.BalanceRedemption",
    "customer_id": "customers.Customer",
}


def foreign_keys(model) -> dict[str, str]:
    return {
        field.attname: field.related_model._meta.label
        for field in model._meta.concrete_fields
        if isinstance(field, models.ForeignKey)
    }


def relative_to_now(value):
    """A time computed from now (`valid_until`, `created_at`) as hours from now; else None."""
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and value[10:11] == "T":
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, datetime):
        return None
    hours = (value - timezone.now()) / timedelta(hours=1)
    return f"<now {round(hours):+d}h>" if abs(hours) < 24 * 400 else None


def without_codes(value, codes: set[str]):
    if isinstance(value, str):
        for code in codes:
            value = value.replace(code, "<code>")
    return value


def written(before: dict, after: dict) -> tuple[list, set[str]]:
    """What a request wrote — new rows, changed columns, removed rows — without the values
    that differ between two runs (new ids, timestamps of now, random codes); and the codes
    of the vouchers it issued."""
    new_ids = {label: set(after[label]) - set(before[label]) for label in after}
    codes = {after["vouchers.Voucher"][pk]["code"] for pk in new_ids["vouchers.Voucher"]}

    def event_data(value, key=None):
        """A webhook event's body (JSON), as `stable` sees a row."""
        if isinstance(value, dict):
            return {name: event_data(item, name) for name, item in value.items()}
        if isinstance(value, list):
            return [event_data(item) for item in value]
        if key in EVENT_DATA_IDS and value in new_ids.get(EVENT_DATA_IDS[key], ()):
            return "<new row>"
        return relative_to_now(value) or without_codes(value, codes)

    def stable(label: str, column: str, value):
        if (label, column) == ("loyalty.WebhookDelivery", "payload"):
            return event_data(json.loads(value))
        model = next(model for model in product_models() if model._meta.label == label)
        related = foreign_keys(model).get(column)
        if column in ("id", model._meta.pk.attname):
            return "<new id>"
        if related and value in new_ids.get(related, ()):
            return "<new row>"
        if relative_to_now(value):
            return relative_to_now(value)
        if column in RANDOM_COLUMNS and value:
            return "<random>"
        return without_codes(value, codes)

    changes = []
    for label, rows in after.items():
        for pk, row in rows.items():
            if pk in new_ids[label]:
                changes.append(
                    ("new", label, {column: stable(label, column, value) for column, value in row.items()})
                )
            elif row != before[label][pk]:
                moved = {
                    column: stable(label, column, value)
                    for column, value in row.items()
                    if value != before[label][pk][column]
                }
                changes.append(("changed", label, pk, moved))
        changes.extend(("removed", label, pk) for pk in set(before[label]) - set(rows))
    return changes, codes


def answered(response, codes: set[str]) -> tuple[int, object]:
    def blank(value, key=None):
        if key in GENERATED_KEYS:
            return "<generated>"
        if relative_to_now(value):
            return relative_to_now(value)
        if isinstance(value, dict):
            return {name: blank(item, name) for name, item in value.items()}
        if isinstance(value, list):
            return [blank(item) for item in value]
        return without_codes(value, codes)

    return response.status_code, blank(response.json() if response.content else None)


def with_protected_fields(body: dict, extra: dict, documented: set[str], nested_documented: set[str]) -> dict:
    result = {**{name: value for name, value in extra.items() if name not in documented}, **body}
    nested = {name: value for name, value in extra.items() if name not in nested_documented}
    for name in ("items", "payments"):
        if isinstance(result.get(name), list):
            result[name] = [{**nested, **entry} for entry in result[name]]
    return result


def send_and_undo(client, method: str, url: str, body: dict) -> tuple[tuple, list]:
    """The answer and what the request wrote; then everything it wrote is undone."""
    before = database_rows()
    with transaction.atomic():
        response = getattr(client, method.lower())(url, body, format="json")
        changes, codes = written(before, database_rows())
        transaction.set_rollback(True)
    return answered(response, codes), changes


@pytest.mark.parametrize(("method", "path"), sorted(RECIPES))
def test_protected_fields_in_a_body_are_ignored_or_refused(alfa, beta, method, path):
    route = write_routes()[(method, path)]
    recipe = RECIPES[(method, path)]
    client = APIClient() if recipe.anonymous else (alfa.tenant.pos if route.is_pos else alfa.tenant.v2)
    url = route.url(**recipe.path(alfa))
    body = recipe.body(alfa)
    documented, nested_documented = documented_fields()[(method, path)]

    clean, clean_writes = send_and_undo(client, method, url, body)
    tampered, tampered_writes = send_and_undo(
        client,
        method,
        url,
        with_protected_fields(body, protected_fields(beta), documented, nested_documented),
    )

    assert 200 <= clean[0] < 300, f"the recipe of {method} {path} is not a valid request: {clean}"
    if tampered[0] == 400:
        assert tampered_writes == [], tampered_writes
    else:
        assert tampered == clean
        assert tampered_writes == clean_writes
