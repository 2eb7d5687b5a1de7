"""The demo data lets a new user try the POS seed document's examples as they are written."""

import pytest
from rest_framework.test import APIClient

from customers.models import Wallet
from loyalty.shell.demo import DEMO_API_KEY, DEMO_API_SECRET, DEMO_STORE_TOKEN, seed_demo
from promotions.models import Category, Product, Promotion
from tests.builders import POS, obtain_token
from tests.promotions.test_discount_quote import SEED_QUOTE
from tests.promotions.test_products_api import SEED_PRODUCT
from tests.promotions.test_promotions_api import SEED_PROMOTION

pytestmark = pytest.mark.django_db


@pytest.fixture
def till():
    seed_demo()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {obtain_token(DEMO_API_KEY, DEMO_API_SECRET)}",
        HTTP_X_STORE_TOKEN=DEMO_STORE_TOKEN,
    )
    return client


def test_seeding_twice_adds_nothing(till):
    counts = (Product.objects.count(), Category.objects.count(), Promotion.objects.count())

    seed_demo()

    assert (Product.objects.count(), Category.objects.count(), Promotion.objects.count()) == counts
    assert counts == (4, 7, 2)


def test_the_seeds_product_promotion_and_quote_examples_work(till):
    assert till.post(f"{POS}/products", SEED_PRODUCT, format="json").status_code == 200
    assert till.post(f"{POS}/promotions", SEED_PROMOTION, format="json").status_code == 201

    response = till.post(f"{POS}/shops/discounts", SEED_QUOTE, format="json")

    assert response.status_code == 200
    entry = response.json()["discounts"]["999999"]
    assert (entry["price"], entry["final_price"], entry["discount"]) == (36.59, 32.93, 7.32)
    maria = Wallet.objects.get(customer__document="53933515009")
    assert response.json()["wallet"]["total_points"] == float(maria.points)
    assert maria.points > 0


def test_the_promotion_list_example_is_there(till):
    listed = {row["product"]["barcode"]: row for row in till.get(f"{POS}/promotions").json()}

    rice = listed["123456789"]
    assert (rice["product"]["name"], rice["product"]["category"], rice["product"]["subcategory"]) == (
        "Arroz",
        "Arroz",
        "Arroz",
    )
    assert (rice["percent_off"], rice["limit"], rice["quantity_limit"], rice["minimum_quantity"]) == (
        10,
        1,
        2,
        1,
    )
