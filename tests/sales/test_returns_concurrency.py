"""Returns under concurrency, on PostgreSQL with real threads and connections: the same return
from five tills is recorded once; a return racing a cancel of its sale never undoes anything
twice."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from rest_framework.test import APIClient

from customers.models import LedgerEntry
from sales.models import Sale, SaleReturn
from sales.outcomes import ReturnedUnits
from sales.services import SaleAlreadyCancelled, sale_cancel, sale_return
from tests.builders import POS
from tests.concurrency import run_concurrently
from tests.sales.builders import purchase, put

pytestmark = pytest.mark.django_db(transaction=True)


def bought(tenant) -> Sale:
    response = put(tenant, purchase())
    assert response.status_code == 201, response.content
    return Sale.objects.get(pk=response.json()["purchase"]["id"])


def effect(sale: Sale) -> dict[str, Decimal]:
    sums = LedgerEntry.objects.filter(account_id=sale.account_id, sale=sale).aggregate(
        balance=Sum("balance"), points=Sum("points"), total_shoppings=Sum("total_shoppings")
    )
    return {name: Decimal(value or 0) for name, value in sums.items()}


def _till(tenant) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=tenant.merchant.store_token
    )
    return client


def test_the_same_return_from_five_tills_is_recorded_once(postgres_only, tenant, program):
    sale = bought(tenant)
    body = {
        "date": "2024-05-24",
        "type": "CF",
        "pdv": "1",
        "coupon": "15",
        "return_reference": "DEV-1",
        "items": [{"barcode": "13456789", "quantity": 1}],
    }

    results = run_concurrently(
        5, lambda index: _till(tenant).post(f"{POS}/shops/returns", body, format="json")
    )

    assert not [result for result in results if isinstance(result, BaseException)], results
    assert sorted(response.status_code for response in results) == [200, 200, 200, 200, 201]
    assert len({response.json()["return"]["id"] for response in results}) == 1
    assert SaleReturn.objects.filter(sale=sale).count() == 1
    assert effect(sale) == {
        "balance": Decimal("0.60"),
        "points": Decimal("12.00"),
        "total_shoppings": Decimal("12.00"),
    }
    call_command("check_wallets", stdout=StringIO())


def test_a_return_racing_a_cancel_never_undoes_anything_twice(postgres_only, tenant, program):
    sale = bought(tenant)

    def act(index: int):
        if index == 0:
            return sale_cancel(sale=sale)
        return sale_return(
            sale=sale, reference="DEV-1", items=[ReturnedUnits(barcode="13456789", quantity=Decimal(1))]
        )

    results = run_concurrently(2, act)

    cancel, returned = results
    assert not isinstance(cancel, BaseException), cancel
    # Either the return came first and the cancel took what was left, or the cancel came
    # first and the return was refused: the sale is undone exactly once.
    assert isinstance(returned, SaleAlreadyCancelled) or returned.created
    assert effect(sale) == {"balance": Decimal(0), "points": Decimal(0), "total_shoppings": Decimal(0)}
    call_command("check_wallets", stdout=StringIO())
