"""SQL query budgets of recording a sale (quality.md): constant in the number of items."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.services.messaging import message_template_create
from tests.conftest import POS, V2
from tests.sales.conftest import item, purchase

pytestmark = pytest.mark.django_db

PURCHASE_BUDGET = 25
V2_SALE_BUDGET = 25


def count_queries(send) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    assert response.status_code == 201, response.content
    return len(captured.captured_queries)


@pytest.fixture
def busy_program(tenant, program):
    message_template_create(
        account=tenant.account, name="R", event="sale_rewarded", channel="sms", body="Ganhou {cashback}"
    )
    tenant.v2.post(
        f"{V2}/customers", {"name": "Maria", "cpf": "53933515009", "phone": "11987654321"}, format="json"
    )


def test_identified_purchase_costs_the_same_for_1_and_50_items(tenant, busy_program):
    def send(count, reference):
        items = [item(barcode=str(index + 1)) for index in range(count)]
        return lambda: tenant.pos.put(
            f"{POS}/shops", purchase(reference=reference, coupon=reference, items=items), format="json"
        )

    one = count_queries(send(1, "1"))
    fifty = count_queries(send(50, "50"))

    assert one == fifty
    assert fifty <= PURCHASE_BUDGET


def test_v2_sale_with_10_items_stays_in_budget(tenant, busy_program):
    items = [
        {"barcode": str(index), "name": "x", "quantity": 1, "unit_value": 10, "total": 10}
        for index in range(1, 11)
    ]

    queries = count_queries(
        lambda: tenant.v2.post(
            f"{V2}/sales", {"cpf": "53933515009", "sale_amount": 100, "items": items}, format="json"
        )
    )

    assert queries <= V2_SALE_BUDGET
