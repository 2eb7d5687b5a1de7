"""The POS wallet query: "Consultar carteira"."""

from decimal import Decimal

import pytest

from customers.services import wallet_credit
from tests.builders import POS
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def consumer(tenant):
    customer = CustomerFactory(account=tenant.account, document="53933515009")
    wallet_credit(
        customer=customer,
        kind="adjustment",
        amounts={
            "points": Decimal("52.99"),
            "balance": Decimal("62.16"),
            "total_shoppings": Decimal("152.99"),
            "count_shoppings": 7,
            "total_discounts": Decimal("15.00"),
        },
    )
    return customer


@pytest.mark.parametrize("document", ["53933515009", "539.335.150-09"])
def test_answers_the_six_fields_of_the_seed_as_numbers(tenant, consumer, document):
    response = tenant.pos.get(f"{POS}/consumers/document/{document}/wallet")

    assert response.status_code == 200
    # The seed's six totals, then `next_expiry` (added beyond the seed; nothing expires here).
    assert response.content == (
        b'{"total_points":52.99,"total_balance":62.16,"total_shoppings":152.99,'
        b'"count_shoppings":7,"digital_change":0,"total_discounts":15,"next_expiry":null}'
    )


def test_unknown_consumer_is_404(tenant):
    response = tenant.pos.get(f"{POS}/consumers/document/11144477735/wallet")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_consumer_of_another_account_is_404(tenant, other_tenant, consumer):
    assert other_tenant.pos.get(f"{POS}/consumers/document/53933515009/wallet").status_code == 404


def test_malformed_document_is_400(tenant):
    response = tenant.pos.get(f"{POS}/consumers/document/123/wallet")

    assert response.status_code == 400
    assert "Invalid CPF/CNPJ" in response.json()["document"][0]


def test_alphanumeric_cnpj_in_the_path(tenant):
    CustomerFactory(account=tenant.account, document="12ABC34501DE35")

    assert tenant.pos.get(f"{POS}/consumers/document/12.ABC.345/01DE-35/wallet").status_code == 200


def test_needs_the_store_token(tenant, anonymous, consumer):
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}")

    assert anonymous.get(f"{POS}/consumers/document/53933515009/wallet").status_code == 401
