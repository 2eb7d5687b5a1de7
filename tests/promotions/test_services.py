"""The writes of the promotions app under races: one product per barcode, one category per name."""

from decimal import Decimal

import pytest

from promotions import services
from promotions.models import Category, Product
from promotions.services import category_get_or_create, product_upsert
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db


def test_a_category_created_between_the_check_and_the_insert_is_reused(merchant, monkeypatch):
    existing = Category.objects.create(account=merchant.account, name="Mercearia")
    real_find = services.category_find
    calls = []

    def find_after_the_race(**kwargs):
        # The look before the insert misses the row another request has just committed.
        calls.append(kwargs)
        return None if len(calls) == 1 else real_find(**kwargs)

    monkeypatch.setattr(services, "category_find", find_after_the_race)

    assert category_get_or_create(account=merchant.account, name="MERCEARIA") == existing
    assert len(calls) == 2  # the insert failed on the constraint and the row was read again
    assert Category.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_tills_registering_one_new_barcode_at_once_make_one_product(postgres_only, merchant):
    def register(index):
        return product_upsert(
            account=merchant.account,
            barcode="13456789",
            name=f"Batata Pringles {index}",
            unit="un",
            price=Decimal("12.99"),
            category="Biscoitos e chocolates",
            subcategory="Salgadinho",
        )

    results = run_concurrently(8, register)

    assert [result for result in results if isinstance(result, BaseException)] == []
    assert sorted(created for _, created in results) == [False] * 7 + [True]
    assert Product.objects.count() == 1
    assert sorted(Category.objects.values_list("name", flat=True)) == ["Biscoitos e chocolates", "Salgadinho"]
