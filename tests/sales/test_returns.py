"""Returning part of a sale (`sale_return`): each rule's grant taken back in proportion, the
totals, the references, and a cancel afterwards reversing only what is left."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction

from customers.models import ExpiryLot, LedgerEntry, Wallet
from loyalty.engine.lifecycle import rewards_release_due
from loyalty.engine.program import rule_create
from promotions.models import Category, PromotionUse
from sales.models import Sale
from sales.outcomes import ReturnedUnits
from sales.services import ReturnConflict, ReturnRefused, SaleAlreadyCancelled, sale_cancel, sale_return
from tests.factories import ProductFactory, PromotionFactory
from tests.sales.builders import item, purchase, put
from vouchers.models import Voucher
from vouchers.services import voucher_use

pytestmark = pytest.mark.django_db

CPF = "53933515009"


def bought(tenant, **overrides) -> Sale:
    response = put(tenant, purchase(**overrides))
    assert response.status_code == 201, response.content
    return Sale.objects.get(pk=response.json()["purchase"]["id"])


def wallet(tenant) -> Wallet:
    return Wallet.objects.get(account=tenant.account, customer__document=CPF)


def back(sale, reference, **units):
    return sale_return(
        sale=sale,
        reference=reference,
        items=[
            ReturnedUnits(barcode=barcode, quantity=Decimal(quantity)) for barcode, quantity in units.items()
        ],
    )


def clean() -> bool:
    call_command("check_wallets", stdout=StringIO())  # raises on any mismatch
    return True


def figures(current: Wallet) -> tuple:
    return (
        current.balance,
        current.points,
        current.total_shoppings,
        current.count_shoppings,
        current.total_discounts,
    )


def test_the_seed_purchase_returned_one_unit_then_the_other_ends_as_a_cancel(tenant, program):
    sale = bought(tenant)  # 2 × R$ 12: 1.20 cashback, 24 points
    assert figures(wallet(tenant)) == (Decimal("1.20"), Decimal("24.00"), Decimal("24.00"), 1, 0)

    first = back(sale, "DEV-1", **{"13456789": 1})

    assert first.created
    assert figures(wallet(tenant)) == (Decimal("0.60"), Decimal("12.00"), Decimal("12.00"), 1, 0)
    assert first.taken_back["moved"] == {"balance": "-0.60", "points": "-12.00", "total_shoppings": "-12.00"}

    back(sale, "DEV-2", **{"13456789": 1})

    assert figures(wallet(tenant)) == (0, 0, 0, 0, 0)
    # Each return: its totals, and what the cashback and the points rules took back.
    assert LedgerEntry.objects.filter(account=tenant.account, kind="return").count() == 6
    assert clean()


def test_the_same_reference_answers_the_first_return_and_other_units_are_a_conflict(tenant, program):
    sale = bought(tenant)
    first = back(sale, "DEV-1", **{"13456789": 1})

    again = back(sale, "DEV-1", **{"13456789": 1})

    assert (again.created, again.sale_return.pk, again.taken_back) == (
        False,
        first.sale_return.pk,
        first.taken_back,
    )
    assert wallet(tenant).balance == Decimal("0.60")
    with pytest.raises(ReturnConflict), transaction.atomic():
        back(sale, "DEV-1", **{"13456789": 2})


def test_more_units_than_are_left_are_refused_naming_the_item(tenant, program):
    sale = bought(tenant)
    back(sale, "DEV-1", **{"13456789": 1})

    with pytest.raises(ReturnRefused) as refused, transaction.atomic():
        back(sale, "DEV-2", **{"13456789": 2})
    assert refused.value.extra["item"] == "13456789"
    with pytest.raises(ReturnRefused) as unknown, transaction.atomic():
        back(sale, "DEV-3", **{"999": 1})
    assert unknown.value.extra["item"] == "999"
    assert wallet(tenant).balance == Decimal("0.60")  # nothing more taken


def test_a_cancelled_sale_has_nothing_to_return(tenant, program):
    sale = bought(tenant)
    sale_cancel(sale=sale)

    with pytest.raises(SaleAlreadyCancelled), transaction.atomic():
        back(sale, "DEV-1", **{"13456789": 1})


def test_a_cancel_after_a_return_reverses_only_what_is_left(tenant, program):
    sale = bought(
        tenant,
        items=[item(barcode="11", unit_value=10, quantity=3), item(barcode="22", unit_value=7, quantity=1)],
    )
    back(sale, "DEV-1", **{"11": 2})

    outcome = sale_cancel(sale=sale)

    assert figures(wallet(tenant)) == (0, 0, 0, 0, 0)
    assert outcome.reversed["balance"] == Decimal("-0.85")  # 1.85 granted, 1.00 returned
    assert clean()


def test_a_category_rule_takes_back_only_what_its_categories_lost(tenant):
    for name in ("Hortifruti", "Bebidas"):
        assert tenant.v2.post("/api/v2/categories", {"name": name}, format="json").status_code == 201
    fruit = Category.objects.get(account=tenant.account, name="Hortifruti")
    rule_create(
        account=tenant.account, name="10% fruit", kind="cashback", value=Decimal("10"), categories=[fruit]
    )
    sale = bought(
        tenant,
        items=[
            item(barcode="101", unit_value=10, quantity=2, category="Hortifruti"),
            item(barcode="202", unit_value=30, quantity=1, category="Bebidas"),
        ],
    )
    assert wallet(tenant).balance == Decimal("2.00")

    back(sale, "DEV-1", **{"202": 1})
    assert wallet(tenant).balance == Decimal("2.00")  # drinks earned nothing here

    back(sale, "DEV-2", **{"101": 1})
    assert wallet(tenant).balance == Decimal("1.00")
    assert clean()


def test_a_pending_grant_is_taken_back_from_pending_and_released_less(tenant):
    rule_create(account=tenant.account, name="5% later", kind="cashback", value=Decimal("5"), pending_days=7)
    sale = bought(tenant)  # 1.20 pending

    back(sale, "DEV-1", **{"13456789": 1})
    assert (wallet(tenant).pending_balance, wallet(tenant).balance) == (Decimal("0.60"), 0)

    assert rewards_release_due() == 1  # 2024 + 7 days is long past
    assert (wallet(tenant).pending_balance, wallet(tenant).balance) == (0, Decimal("0.60"))

    sale_cancel(sale=sale)
    assert (wallet(tenant).pending_balance, wallet(tenant).balance) == (0, 0)
    assert clean()


def test_a_return_takes_back_its_own_lot_first(tenant):
    rule_create(
        account=tenant.account, name="5% 30 days", kind="cashback", value=Decimal("5"), valid_days=3650
    )
    first = bought(tenant)
    bought(tenant, coupon="16", reference="12")

    back(first, "DEV-1", **{"13456789": 1})

    lots = list(
        ExpiryLot.objects.filter(account=tenant.account).order_by("id").values_list("remaining", flat=True)
    )
    assert lots == [Decimal("0.60"), Decimal("1.20")]
    assert clean()


def test_a_threshold_voucher_is_cancelled_if_unused_or_charged_if_used(tenant):
    rule_create(
        account=tenant.account,
        name="R$ 5 from R$ 20",
        kind="voucher",
        value=Decimal("5"),
        threshold=Decimal("20"),
    )
    unused_sale = bought(tenant)
    used_sale = bought(tenant, coupon="16", reference="12")
    used = Voucher.objects.get(sale=used_sale)
    voucher_use(account=tenant.account, code=used.code, reference="X")

    kept = back(unused_sale, "DEV-1", **{"13456789": 1})  # R$ 12 left, below R$ 20
    charged = back(used_sale, "DEV-2", **{"13456789": 1})

    assert Voucher.objects.get(sale=unused_sale).status == "cancelled"
    assert kept.taken_back["vouchers_cancelled"] == [Voucher.objects.get(sale=unused_sale).code]
    assert charged.taken_back["vouchers_charged"] == [{"code": used.code, "value": "5.00"}]
    assert wallet(tenant).balance == Decimal("-5.00")
    back(used_sale, "DEV-3", **{"13456789": 1})
    assert wallet(tenant).balance == Decimal("-5.00")  # charged once
    assert clean()


def test_a_promotion_use_is_released_once_its_units_are_all_back(tenant, program):
    product = ProductFactory(account=tenant.account, barcode="13456789")
    promotion = PromotionFactory(product=product)
    sale = bought(tenant, items=[{**purchase()["items"][0], "promotion_id": str(promotion.pk)}])

    back(sale, "DEV-1", **{"13456789": 1})
    assert PromotionUse.objects.get(sale_id=sale.pk).released is False

    back(sale, "DEV-2", **{"13456789": 1})
    assert PromotionUse.objects.get(sale_id=sale.pk).released is True


def test_a_sale_without_items_is_returned_by_amount(tenant, program):
    response = tenant.v2.post(
        "/api/v2/sales",
        {"cpf": CPF, "sale_amount": 100, "reference": "ERP-1", "date": "2024-06-19 10:00"},
        format="json",
    )
    sale = Sale.objects.get(pk=response.json()["sale"]["id"])

    sale_return(sale=sale, reference="DEV-1", amount=Decimal("40"))
    assert (wallet(tenant).balance, wallet(tenant).points) == (Decimal("3.00"), Decimal("60.00"))
    with pytest.raises(ReturnRefused), transaction.atomic():
        sale_return(sale=sale, reference="DEV-2", amount=Decimal("60.01"))

    sale_return(sale=sale, reference="DEV-3", amount=Decimal("60"))
    assert figures(wallet(tenant)) == (0, 0, 0, 0, 0)
    assert clean()
