"""The v2 sales API: register by CPF or id, idempotency, lists, cancel."""

from decimal import Decimal

import pytest

from customers.models import Customer, LedgerEntry, Wallet
from customers.selectors import wallet_mismatches
from customers.services import customer_create
from sales.models import Sale
from tests.builders import V2

pytestmark = pytest.mark.django_db

SALE = {
    "cpf": "53933515009",
    "sale_amount": 152.99,
    "reference": "ERP-0001",
    "date": "2024-06-19 17:13",
    "items": [
        {
            "barcode": "13456789",
            "name": "Pringles",
            "category": "Snacks",
            "quantity": 2,
            "unit_value": 12.0,
            "total": 24.0,
        }
    ],
    "payments": [{"method": 3, "total": 152.99}],
}


def post(tenant, body, **headers):
    return tenant.v2.post(f"{V2}/sales", body, format="json", **headers)


def test_sale_by_cpf_creates_the_customer_and_earns(tenant, program):
    response = post(tenant, {**SALE, "items": []})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["sale"]["cpf"] == "53933515009"
    assert body["sale"]["amount"] == 152.99
    assert body["sale"]["date"] == "2024-06-19T20:13:00.000000Z"
    assert body["sale"]["rewards"] == {"cashback": 7.65, "points": 152.99, "vouchers": [], "messages": 0}
    assert body["wallet"]["balance"] == 7.65
    assert body["wallet"]["points"] == 152.99
    assert body["wallet"]["total_shoppings"] == 152.99
    assert body["warnings"] == []
    assert Customer.objects.get().document == "53933515009"


def test_with_items_the_eligible_amount_is_the_item_totals(tenant, program):
    body = post(tenant, SALE).json()

    assert body["sale"]["rewards"]["cashback"] == 1.2
    assert body["sale"]["rewards"]["points"] == 24
    assert body["wallet"]["total_shoppings"] == 152.99


def test_sale_by_customer_id(tenant, program):
    customer = customer_create(account=tenant.account, name="Ana", email="ana@example.com")

    response = post(tenant, {"customer_id": customer.pk, "sale_amount": 10})

    assert response.status_code == 201
    assert response.json()["sale"]["customer_id"] == customer.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sale_amount": 10}, "detail"),
        ({"cpf": "53933515009", "customer_id": 1, "sale_amount": 10}, "detail"),
        ({"customer_id": 999999, "sale_amount": 10}, "customer_id"),
        ({"cpf": "53933515009", "sale_amount": 0}, "sale_amount"),
        ({"cpf": "53933515009", "sale_amount": -5}, "sale_amount"),
        ({"cpf": "53933515009", "sale_amount": 1e12}, "sale_amount"),
        ({"cpf": "123", "sale_amount": 10}, "cpf"),
        ({"cpf": "53933515009", "sale_amount": 10, "store": 999999}, "store"),
        ({"cpf": "53933515009", "sale_amount": 10, "date": "2024-02-30"}, "date"),
    ],
)
def test_invalid_sales_are_400(tenant, body, field):
    response = post(tenant, body)

    assert response.status_code == 400
    assert field in response.json()
    assert not Sale.objects.exists()


def test_a_customer_of_another_account_is_unknown(tenant, other_tenant):
    foreign = customer_create(account=other_tenant.account, name="B", email="b@example.com")

    response = post(tenant, {"customer_id": foreign.pk, "sale_amount": 10})

    assert response.status_code == 400
    assert response.json()["customer_id"] == [f"No customer with id {foreign.pk} in this account."]


def test_same_reference_twice_answers_the_first_sale_with_no_new_reward(tenant, program):
    first = post(tenant, SALE)
    second = post(tenant, SALE)

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["sale"] == first.json()["sale"]
    assert Sale.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="cashback").count() == 1


def test_idempotency_key_replays_byte_for_byte_and_changes_nothing(tenant, program):
    body = {**SALE, "reference": ""}

    first = post(tenant, body, HTTP_IDEMPOTENCY_KEY="key-1")
    replay = post(tenant, body, HTTP_IDEMPOTENCY_KEY="key-1")

    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert replay["Idempotent-Replayed"] == "true"
    assert Sale.objects.count() == 1
    assert Wallet.objects.get().points == Decimal("24.00")


def test_idempotency_key_with_another_body_is_422(tenant, program):
    post(tenant, {**SALE, "reference": ""}, HTTP_IDEMPOTENCY_KEY="key-1")

    response = post(tenant, {**SALE, "reference": "", "sale_amount": 10}, HTTP_IDEMPOTENCY_KEY="key-1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Sale.objects.count() == 1


def test_idempotency_keys_are_scoped_to_the_account(tenant, other_tenant, program):
    assert post(tenant, SALE, HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert post(other_tenant, SALE, HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    assert Sale.objects.count() == 2


def test_an_idempotency_key_over_255_characters_is_400(tenant):
    response = post(tenant, SALE, HTTP_IDEMPOTENCY_KEY="k" * 256)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()


def test_a_validation_error_is_replayed_too(tenant):
    first = post(tenant, {"sale_amount": 1}, HTTP_IDEMPOTENCY_KEY="bad")
    replay = post(tenant, {"sale_amount": 1}, HTTP_IDEMPOTENCY_KEY="bad")

    assert first.status_code == replay.status_code == 400
    assert replay.content == first.content


def test_list_filters_and_detail(tenant, other_tenant, program):
    post(tenant, SALE)
    post(
        tenant, {"cpf": "11144477735", "sale_amount": 50, "reference": "ERP-0002", "date": "2024-06-21 10:00"}
    )
    post(other_tenant, SALE)

    def refs(**params):
        response = tenant.v2.get(f"{V2}/sales", params)
        assert response.status_code == 200, response.content
        return [row["reference"] for row in response.json()["results"]]

    assert refs() == ["ERP-0002", "ERP-0001"]
    assert refs(cpf="539.335.150-09") == ["ERP-0001"]
    assert refs(date_after="2024-06-20") == ["ERP-0002"]
    assert refs(date_before="2024-06-19") == ["ERP-0001"]
    assert refs(date_after="2024-06-19 17:14") == ["ERP-0002"]
    assert refs(status="cancelled") == []
    assert tenant.v2.get(f"{V2}/sales", {"date_after": "2024-13-01"}).status_code == 400
    sale_id = Sale.objects.get(account=tenant.account, reference="ERP-0001").pk
    detail = tenant.v2.get(f"{V2}/sales/{sale_id}").json()
    assert detail["rewards"]["cashback"] == 1.2
    assert detail["items"][0]["barcode"] == "13456789"


def test_another_accounts_sale_is_404(tenant, other_tenant, program):
    post(other_tenant, SALE)
    foreign = Sale.objects.get().pk

    assert tenant.v2.get(f"{V2}/sales/{foreign}").status_code == 404
    assert tenant.v2.post(f"{V2}/sales/{foreign}/cancel").status_code == 404
    assert Sale.objects.get().status == "recorded"


def test_cancel_reverses_and_is_idempotent(tenant, program):
    sale_id = post(tenant, SALE).json()["sale"]["id"]

    first = tenant.v2.post(f"{V2}/sales/{sale_id}/cancel")
    second = tenant.v2.post(f"{V2}/sales/{sale_id}/cancel")

    assert first.status_code == 200
    assert first.json()["sale"]["status"] == "cancelled"
    assert first.json()["reversed"]["balance"] == -1.2
    assert first.json()["wallet"]["balance"] == 0
    assert second.json()["already_cancelled"] is True
    assert wallet_mismatches() == []


def test_the_customer_export_includes_their_sales(tenant, program):
    body = post(tenant, SALE).json()

    export = tenant.v2.get(f"{V2}/customers/{body['sale']['customer_id']}/export").json()

    assert export["sales"][0]["reference"] == "ERP-0001"
    assert export["sales"][0]["cashback"] == 1.2
    assert export["sales"][0]["items"][0]["barcode"] == "13456789"
