"""Units of sale are accepted in any case, as tills send them (`UN`), and stored lower case."""

import pytest

from promotions.models import Product
from sales.models import SaleItem
from tests.builders import POS, V2
from tests.promotions.test_products_api import SEED_PRODUCT
from tests.sales.builders import item, purchase

pytestmark = pytest.mark.django_db

UNIT_MESSAGE = '"{}" is not a unit; use one of pc, kg, mt, cx, jg, pr, cj, un, hr, pt, lt.'


@pytest.mark.parametrize(("sent", "stored"), [("UN", "un"), ("Kg", "kg"), ("lt", "lt")])
def test_a_product_unit_in_any_case_is_stored_lower_case(tenant, sent, stored):
    response = tenant.pos.post(f"{POS}/products", {**SEED_PRODUCT, "unit": sent}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["unit"] == stored
    assert Product.objects.get().unit == stored


def test_an_unknown_unit_in_capitals_is_still_400_naming_it(tenant):
    response = tenant.pos.post(f"{POS}/products", {**SEED_PRODUCT, "unit": "KILO"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"unit": [UNIT_MESSAGE.format("KILO")]}


def test_a_pos_purchase_item_unit_in_any_case_is_stored_lower_case(tenant):
    response = tenant.pos.put(
        f"{POS}/shops", purchase(items=[item(unit="UN"), item(unit="KG")]), format="json"
    )

    assert response.status_code == 201, response.content
    assert [line["unit"] for line in response.json()["purchase"]["items"]] == ["un", "kg"]
    assert sorted(SaleItem.objects.values_list("unit", flat=True)) == ["kg", "un"]


def test_a_v2_sale_item_unit_in_any_case_is_stored_lower_case(tenant):
    sale = {
        "cpf": "53933515009",
        "sale_amount": 24,
        "reference": "ERP-UNIT",
        "date": "2024-06-19 17:13",
        "items": [{"unit": "Un", "barcode": "13456789", "quantity": 2, "unit_value": 12, "total": 24}],
        "payments": [{"method": 3, "total": 24}],
    }

    response = tenant.v2.post(f"{V2}/sales", sale, format="json")

    assert response.status_code == 201, response.content
    assert SaleItem.objects.get().unit == "un"


def test_an_unknown_purchase_item_unit_is_400(tenant):
    response = tenant.pos.put(f"{POS}/shops", purchase(items=[item(unit="XX")]), format="json")

    assert response.status_code == 400
    assert response.json() == {"items": {"0": {"unit": [UNIT_MESSAGE.format("XX")]}}}
