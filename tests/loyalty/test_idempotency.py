"""`Idempotency-Key` on every write of both dialects.

Same key and request: the first answer byte for byte, nothing changed. Same key, another
request: 422. While the first still runs: 409 `request_in_progress`, never both run. Kept
at least 24 hours, then purged by `manage.py purge_idempotency_keys`.
"""

import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Wallet
from customers.services import customer_create, wallet_credit
from loyalty.api.dialects import _DialectMixin
from loyalty.api.idempotency import IdempotencyMixin, _lock_id
from loyalty.api.models import IdempotencyKey
from loyalty.api.services import idempotency_keys_purge
from loyalty.tenancy.services import store_create
from promotions.api.pos.promotions import PROMOTION_REQUEST_EXAMPLE
from promotions.models import Promotion
from sales.models import Sale
from tests.builders import POS, V2
from tests.concurrency import run_concurrently
from tests.factories import ProductFactory
from tests.openapi import api_schema
from tests.routes import api_routes
from tests.sales.builders import SEED_PURCHASE
from vouchers.models import BalanceRedemption

pytestmark = pytest.mark.django_db

# The seed's body of "Adicionar promoção".
PROMOTION = PROMOTION_REQUEST_EXAMPLE
REDEEM = {"date": "2024-06-19 17:13", "value": 10, "coupon": "2", "reference": "2", "pdv": "2", "type": "NF"}


@pytest.fixture
def coffee(tenant):
    return ProductFactory(account=tenant.account, barcode="1234")


def with_key(key):
    return {"HTTP_IDEMPOTENCY_KEY": key}


def test_every_view_of_both_dialects_honours_the_header():
    dialect_views = {
        route.view_class for route in api_routes() if issubclass(route.view_class, _DialectMixin)
    }

    assert dialect_views
    assert all(issubclass(view, IdempotencyMixin) for view in dialect_views)


def test_every_write_operation_documents_the_header():
    writes = [
        (path, method, operation)
        for path, operations in api_schema()["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch", "delete"} and not path.endswith("/auth/token")
    ]

    assert len(writes) > 15
    for path, method, operation in writes:
        headers = {
            parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "header"
        }
        assert "Idempotency-Key" in headers, f"{method.upper()} {path}"
        assert {"409", "422"} <= set(operation["responses"]), f"{method.upper()} {path}"


def test_a_retried_pos_promotion_is_created_once_and_answered_byte_for_byte(tenant, coffee):
    first = tenant.pos.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("promo-1"))
    retry = tenant.pos.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("promo-1"))

    assert first.status_code == retry.status_code == 201
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Promotion.objects.count() == 1


def test_put_patch_and_delete_honour_the_key_too(tenant, coffee):
    promotion_id = tenant.pos.post(f"{POS}/promotions", PROMOTION, format="json").json()["id"]
    url = f"{POS}/promotions/{promotion_id}"

    put = [
        tenant.pos.put(url, {**PROMOTION, "percent_off": 20}, format="json", **with_key("put")) for _ in "ab"
    ]
    deleted = [tenant.pos.delete(url, **with_key("delete")) for _ in "ab"]
    customer = customer_create(account=tenant.account, name="Ana", email="ana@example.com")
    patched = [
        tenant.v2.patch(
            f"{V2}/customers/{customer.pk}", {"name": "Ana Souza"}, format="json", **with_key("patch")
        )
        for _ in "ab"
    ]

    for first, retry in (put, deleted, patched):
        assert first.status_code < 300
        assert (retry.status_code, retry.content) == (first.status_code, first.content)
        assert retry["Idempotent-Replayed"] == "true"
    # The delete was answered from the store: a second real DELETE would now answer 404.
    assert deleted[1].status_code == 204


def test_the_same_key_on_another_request_is_422_and_changes_nothing(tenant, coffee):
    tenant.pos.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("k"))

    other_body = tenant.pos.post(
        f"{POS}/promotions", {**PROMOTION, "percent_off": 50}, format="json", **with_key("k")
    )
    other_path = tenant.pos.put(f"{POS}/shops", SEED_PURCHASE, format="json", **with_key("k"))

    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
    assert Promotion.objects.count() == 1
    assert not Sale.objects.exists()


def test_two_stores_tills_may_use_the_same_key_for_their_own_sales(tenant):
    _, token = store_create(account=tenant.account, name="Loja Norte")
    other_store = APIClient()
    other_store.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=token)
    key = with_key("1-15-2024-05-24")  # derived from the receipt, as a till may do

    first = tenant.pos.put(f"{POS}/shops", SEED_PURCHASE, format="json", **key)
    second = other_store.put(f"{POS}/shops", SEED_PURCHASE, format="json", **key)

    assert (first.status_code, second.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in second
    assert second.json()["purchase"]["id"] != first.json()["purchase"]["id"]
    assert Sale.objects.values("store").distinct().count() == 2


def test_the_same_numbers_written_another_way_are_the_same_request(tenant, coffee):
    first = tenant.pos.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("n"))
    retry = tenant.pos.post(
        f"{POS}/promotions", {**PROMOTION, "percent_off": 10.0, "limit": 0.0}, format="json", **with_key("n")
    )

    assert (retry.status_code, retry.content) == (201, first.content)
    assert Promotion.objects.count() == 1


def test_a_query_string_is_part_of_the_request(tenant):
    body = {
        "consumer": "53933515009",
        "items": [{"barcode": "1", "unit_value": 1, "quantity": 1, "total": 1}],
    }
    tenant.pos.post(f"{POS}/shops/discounts", body, format="json", **with_key("quote"))

    response = tenant.pos.post(
        f"{POS}/shops/discounts?not_show_discounts=1", body, format="json", **with_key("quote")
    )

    assert response.status_code == 422


def test_a_refusal_is_replayed_as_it_was_even_once_the_request_would_succeed(tenant):
    customer = customer_create(account=tenant.account, name="Maria", document="53933515009")
    url = f"{POS}/consumers/53933515009/balance/redeem"

    refused = tenant.pos.post(url, REDEEM, format="json", **with_key("redeem-1"))
    wallet_credit(customer=customer, kind="adjustment", amounts={"balance": Decimal("50")}, reason="Top-up")
    retry = tenant.pos.post(url, REDEEM, format="json", **with_key("redeem-1"))
    fresh = tenant.pos.post(url, REDEEM, format="json", **with_key("redeem-2"))

    assert refused.status_code == 422
    assert (retry.status_code, retry.content) == (422, refused.content)
    assert fresh.status_code == 201
    assert Wallet.objects.get(customer=customer).balance == Decimal("40.00")


def broken(**kwargs):
    raise RuntimeError("injected failure")


def test_a_server_error_is_not_kept_so_the_client_may_retry(tenant, coffee, monkeypatch):
    monkeypatch.setattr("promotions.api.pos.promotions.promotion_create", broken)
    failed = tenant.pos.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("retry-me"))
    monkeypatch.undo()
    retried = tenant.pos.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("retry-me"))

    assert (failed.status_code, retried.status_code) == (500, 201)
    assert not IdempotencyKey.objects.filter(response_status=500).exists()
    assert Promotion.objects.count() == 1


def test_a_key_past_its_keeping_time_is_free_again(tenant, coffee, settings):
    tenant.pos.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("old"))
    IdempotencyKey.objects.update(
        created_at=timezone.now() - settings.IDEMPOTENCY_KEY_TTL - timedelta(minutes=1)
    )

    response = tenant.pos.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("old"))

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Promotion.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1


def test_the_purge_deletes_only_answers_past_their_keeping_time(tenant, settings):
    now = timezone.now()
    for index, age in enumerate(
        [timedelta(hours=1), settings.IDEMPOTENCY_KEY_TTL + timedelta(seconds=1)] * 3
    ):
        IdempotencyKey.objects.create(
            account=tenant.account,
            key=f"k{index}",
            request_fingerprint="f",
            response_status=201,
            response_body=b"{}",
        )
        IdempotencyKey.objects.filter(key=f"k{index}").update(created_at=now - age)
    out = StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert out.getvalue().strip() == "Purged 3 idempotency key(s)."
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == ["k0", "k2", "k4"]
    assert idempotency_keys_purge(now=now + settings.IDEMPOTENCY_KEY_TTL, batch_size=2) == 3
    assert not IdempotencyKey.objects.exists()


def test_the_purge_finds_old_answers_through_an_index(postgres_only, tenant):
    cutoff = timezone.now()
    query = (
        IdempotencyKey.objects.filter(created_at__lt=cutoff).order_by("created_at").values_list("pk")[:5000]
    )
    sql, params = query.query.sql_with_params()

    with connection.cursor() as cursor:
        # With no rows the planner would scan anyway; forbid it so the plan shows what index exists.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Index" in plan, plan
    assert "Seq Scan" not in plan, plan


# --- concurrency (PostgreSQL: real connections) ------------------------------------------


def pos_client(tenant) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=tenant.merchant.store_token
    )
    return client


@pytest.mark.django_db(transaction=True)
def test_a_request_whose_key_is_held_by_a_running_one_is_409(postgres_only, tenant, coffee):
    settings_dict = connection.settings_dict
    with psycopg.connect(
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        dbname=settings_dict["NAME"],
        autocommit=True,
    ) as other:
        # Another worker is in the middle of the request with this key.
        other.execute(
            "SELECT pg_advisory_lock(%s)", [_lock_id(tenant.account.pk, f"store:{tenant.store.pk}", "busy")]
        )
        busy = pos_client(tenant).post(f"{POS}/promotions", PROMOTION, format="json", **with_key("busy"))
        other.execute("SELECT pg_advisory_unlock_all()")

    after = pos_client(tenant).post(f"{POS}/promotions", PROMOTION, format="json", **with_key("busy"))

    assert busy.status_code == 409
    assert busy.json()["code"] == "request_in_progress"
    assert after.status_code == 201
    assert Promotion.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_no_request_leaves_a_lock_behind(postgres_only, tenant, coffee, monkeypatch):
    client = pos_client(tenant)
    client.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("a"))  # 201
    client.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("a"))  # replay
    client.post(f"{POS}/promotions", {**PROMOTION, "limit": 3}, format="json", **with_key("a"))  # 422
    client.post(f"{POS}/promotions", {**PROMOTION, "barcode": "999"}, format="json", **with_key("b"))  # 400
    monkeypatch.setattr("promotions.api.pos.promotions.promotion_create", broken)
    assert client.post(f"{POS}/promotions", PROMOTION, format="json", **with_key("c")).status_code == 500

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_ten_retries_of_one_request_at_once_run_it_once(postgres_only, tenant, coffee, monkeypatch):
    from promotions.api.pos import promotions as view_module

    create = view_module.promotion_create

    def slow_create(**kwargs):
        time.sleep(0.5)  # long enough for every retry to arrive while the first runs
        return create(**kwargs)

    monkeypatch.setattr(view_module, "promotion_create", slow_create)

    def send(_):
        response = pos_client(tenant).post(f"{POS}/promotions", PROMOTION, format="json", **with_key("once"))
        return response.status_code, response.get("Idempotent-Replayed"), response.json()

    results = run_concurrently(10, send)

    ran = [result for result in results if result[0] == 201 and result[1] is None]
    in_progress = [result for result in results if result[0] == 409]
    assert len(ran) == 1, results
    assert all(body["code"] == "request_in_progress" for _, _, body in in_progress)
    assert len(ran) + len(in_progress) + sum(result[1] == "true" for result in results) == 10
    assert in_progress, "no retry arrived while the first request ran"
    assert Promotion.objects.count() == 1
    replay = pos_client(tenant).post(f"{POS}/promotions", PROMOTION, format="json", **with_key("once"))
    assert (replay.status_code, replay.json()) == (201, ran[0][2])


@pytest.mark.django_db(transaction=True)
def test_ten_tills_redeeming_under_one_receipt_with_other_amounts_debit_once(postgres_only, tenant):
    customer = customer_create(account=tenant.account, name="Maria", document="53933515009")
    wallet_credit(customer=customer, kind="adjustment", amounts={"balance": Decimal("100")}, reason="Opening")

    def send(index):
        body = {**REDEEM, "value": 1 + index}
        url = f"{POS}/consumers/53933515009/balance/redeem"
        return pos_client(tenant).post(url, body, format="json").status_code

    statuses = run_concurrently(10, send)

    assert sorted(statuses) == [201] + [409] * 9
    redemption = BalanceRedemption.objects.get()
    assert Wallet.objects.get(customer=customer).balance == Decimal("100") - redemption.value
    call_command("check_wallets", stdout=StringIO())
