"""The POS discount quote: "Descontos do consumidor"."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.models import Customer, LedgerEntry, Wallet
from customers.services import wallet_credit
from promotions.models import Category, Product, Promotion, PromotionUse
from promotions.services import promotion_disable
from sales.models import Sale
from tests.builders import POS
from tests.factories import CustomerFactory, ProductFactory, PromotionFactory, record_promotion_use
from tests.openapi import assert_documented

pytestmark = pytest.mark.django_db

CPF = "53933515009"
OTHER_CPF = "11144477735"
# The seed's example body, with the comma it is missing after "type".
SEED_QUOTE = {
    "consumer": "53933515009",
    "date": "2024-06-19",
    "pdv": "1",
    "coupon": "1",
    "reference": "1",
    "type": "DAV",
    "items": [{"barcode": "999999", "unit_value": 36.59, "quantity": 3, "discount": 0, "total": 109.77}],
}
ZERO_WALLET = {
    "total_points": 0,
    "total_balance": 0,
    "total_shoppings": 0,
    "count_shoppings": 0,
    "digital_change": 0,
    "total_discounts": 0,
}


@pytest.fixture
def consumer(tenant):
    customer = CustomerFactory(account=tenant.account, document=CPF)
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


@pytest.fixture
def olive_oil(tenant):
    return ProductFactory(
        account=tenant.account, barcode="999999", name="Azeite 500ml", price=Decimal("36.59")
    )


@pytest.fixture
def seed_promotion(olive_oil):
    return PromotionFactory(
        product=olive_oil,
        percent_off=Decimal(10),
        quantity_limit=Decimal(2),
        starts_at=datetime(2024, 1, 1, tzinfo=UTC),
    )


def quote(tenant, body=None, *, query="", **overrides):
    return tenant.pos.post(
        f"{POS}/shops/discounts{query}", {**(body or SEED_QUOTE), **overrides}, format="json"
    )


def item(barcode="999999", unit_value=36.59, quantity=3):
    return {"barcode": barcode, "unit_value": unit_value, "quantity": quantity, "discount": 0, "total": 0}


def discounts(tenant, **overrides):
    response = quote(tenant, **overrides)
    assert response.status_code == 200, response.content
    return response.json()["discounts"]


def test_the_seed_example_answers_cent_rounded_figures(tenant, consumer, seed_promotion):
    response = quote(tenant)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "wallet": {
            "total_points": 52.99,
            "total_balance": 62.16,
            "total_shoppings": 152.99,
            "count_shoppings": 7,
            "digital_change": 0,
            "total_discounts": 15,
        },
        "max_redeemable": {"balance": 62.16, "digital_change": 0},
        "discounts": {
            "999999": {
                "barcode": "999999",
                "promotion_id": seed_promotion.pk,
                "price": 36.59,
                "final_price": 32.93,
                "discount": 7.32,
            }
        },
    }
    assert b'"final_price":32.93,"discount":7.32' in response.content


def test_the_seeds_body_with_its_missing_comma_is_a_json_parse_error(tenant, consumer):
    body = '{"consumer": "53933515009", "type": "DAV"\n "items": []}'

    response = tenant.pos.post(f"{POS}/shops/discounts", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


def test_not_show_discounts_answers_the_wallet_only(tenant, consumer, seed_promotion):
    response = quote(tenant, query="?not_show_discounts=1")

    assert response.status_code == 200
    assert list(response.json()) == ["wallet", "max_redeemable"]
    assert response.json()["wallet"]["total_points"] == 52.99
    assert "discounts" in quote(tenant, query="?not_show_discounts=0").json()
    assert quote(tenant, query="?not_show_discounts=talvez").json() == {
        "not_show_discounts": ["Use 1 or 0 (true or false); got 'talvez'."]
    }


def test_a_valid_document_of_no_customer_gets_a_zero_wallet_and_its_discounts(tenant, seed_promotion):
    response = quote(tenant, consumer="111.444.777-35")

    assert response.status_code == 200
    assert response.json()["wallet"] == ZERO_WALLET
    assert response.json()["discounts"]["999999"]["discount"] == 7.32
    assert not Customer.objects.exists()


@pytest.mark.parametrize("consumer", ["53933515000", "123", "", None])
def test_a_malformed_or_missing_document_is_400(tenant, seed_promotion, consumer):
    response = quote(tenant, consumer=consumer)

    assert response.status_code == 400
    assert list(response.json()) == ["consumer"]


def test_a_customer_of_another_account_is_a_new_consumer_here(tenant, other_tenant, consumer, seed_promotion):
    response = quote(other_tenant)

    assert response.json() == {
        "wallet": ZERO_WALLET,
        "max_redeemable": {"balance": 0, "digital_change": 0},
        "discounts": {},
    }


def test_unknown_barcode_has_no_entry(tenant, consumer, seed_promotion):
    assert discounts(tenant, items=[item(), item(barcode="7891000100103")]).keys() == {"999999"}


def test_a_product_without_promotion_has_no_entry(tenant, consumer, seed_promotion):
    ProductFactory(account=tenant.account, barcode="13456789")

    assert list(discounts(tenant, items=[item("13456789", 12.99, 1)])) == []


def test_another_accounts_promotion_never_applies(tenant, other_tenant, consumer, seed_promotion):
    ProductFactory(account=other_tenant.account, barcode="999999")

    assert quote(other_tenant).json()["discounts"] == {}


def test_minimum_quantity_not_reached(tenant, consumer, olive_oil):
    PromotionFactory(product=olive_oil, minimum_quantity=Decimal(3))

    assert discounts(tenant, items=[item(quantity=2)]) == {}
    assert discounts(tenant, items=[item(quantity=3)])["999999"]["discount"] == 10.98


def test_quantity_limit_caps_the_discounted_units(tenant, consumer, olive_oil):
    PromotionFactory(product=olive_oil, percent_off=Decimal(10), quantity_limit=Decimal(2))

    assert discounts(tenant, items=[item(unit_value=10, quantity=1)])["999999"]["discount"] == 1
    assert discounts(tenant, items=[item(unit_value=10, quantity=5)])["999999"]["discount"] == 2


def test_no_quantity_limit_discounts_every_unit_fractional_ones_too(tenant, consumer, olive_oil):
    PromotionFactory(product=olive_oil, percent_off=Decimal(20))

    entry = discounts(tenant, items=[item(unit_value=10, quantity=2.5)])["999999"]

    assert (entry["price"], entry["final_price"], entry["discount"]) == (10, 8, 5)


def test_repeated_barcodes_are_one_purchase_of_their_summed_quantity(tenant, consumer, olive_oil):
    PromotionFactory(product=olive_oil, minimum_quantity=Decimal(3), quantity_limit=Decimal(4))

    lines = [item(unit_value=10, quantity=2), item(barcode="1"), item(unit_value=10, quantity=3)]

    assert discounts(tenant, items=lines)["999999"]["discount"] == 4


def test_repeated_barcodes_with_different_unit_values_are_400(tenant, consumer, olive_oil):
    response = quote(tenant, items=[item(unit_value=10), item(unit_value=11)])

    assert response.status_code == 400
    assert "Item 1 repeats barcode 999999 with unit_value 11.00" in response.json()["items"][0]


def test_limit_per_consumer_counts_only_that_consumers_unreleased_uses_of_that_promotion(
    tenant, consumer, olive_oil
):
    limited = PromotionFactory(product=olive_oil, limit=2)
    other_promotion = PromotionFactory(
        product=ProductFactory(account=tenant.account, barcode="1234"), limit=1
    )
    someone_else = CustomerFactory(account=tenant.account, document=OTHER_CPF)
    record_promotion_use(limited, consumer, reference="a")
    record_promotion_use(limited, consumer, reference="b", released=True)
    record_promotion_use(limited, someone_else, reference="c")
    record_promotion_use(limited, someone_else, reference="d")
    record_promotion_use(other_promotion, consumer, reference="e")

    assert discounts(tenant, items=[item()])["999999"]["promotion_id"] == limited.pk
    assert discounts(tenant, consumer=OTHER_CPF, items=[item()]) == {}

    record_promotion_use(limited, consumer, reference="f")

    assert discounts(tenant, items=[item()]) == {}


def test_limit_zero_means_no_limit(tenant, consumer, olive_oil):
    promotion = PromotionFactory(product=olive_oil, limit=0)
    for reference in "abc":
        record_promotion_use(promotion, consumer, reference=reference)

    assert "999999" in discounts(tenant, items=[item()])


@pytest.mark.parametrize(
    ("window", "applies"),
    [
        ({"starts_at": datetime(2024, 6, 19, 3, tzinfo=UTC)}, True),  # starts at the quote's instant
        ({"starts_at": datetime(2024, 6, 19, 3, 1, tzinfo=UTC)}, False),  # not yet started
        (
            {
                "starts_at": datetime(2024, 6, 1, tzinfo=UTC),
                "expires_at": datetime(2024, 6, 19, 3, tzinfo=UTC),
            },
            False,
        ),
        (
            {
                "starts_at": datetime(2024, 6, 1, tzinfo=UTC),
                "expires_at": datetime(2024, 6, 19, 4, tzinfo=UTC),
            },
            True,
        ),
        ({"starts_at": datetime(2024, 6, 1, tzinfo=UTC), "active": False}, False),
    ],
    ids=["started", "not-yet-started", "expired", "before-expiry", "inactive"],
)
def test_the_window_and_the_switch_at_the_quotes_local_date(tenant, consumer, olive_oil, window, applies):
    # "2024-06-19" is midnight in São Paulo: 03:00 UTC.
    PromotionFactory(product=olive_oil, **window)

    assert bool(discounts(tenant)) is applies


def test_a_disabled_promotion_never_applies(tenant, consumer, seed_promotion):
    promotion_disable(promotion=seed_promotion)

    assert discounts(tenant) == {}


def test_an_inactive_products_promotions_do_not_apply(tenant, consumer, seed_promotion):
    Product.objects.filter(pk=seed_promotion.product_id).update(active=False)

    assert discounts(tenant) == {}


def test_without_a_date_the_quote_is_for_now(tenant, consumer, olive_oil):
    PromotionFactory(product=olive_oil, starts_at=timezone.now() - timedelta(minutes=1))
    body = {key: value for key, value in SEED_QUOTE.items() if key != "date"}

    assert "999999" in discounts(tenant, body=body)
    assert discounts(tenant, body=body, date="2024-06-19") == {}


def test_a_date_with_an_offset(tenant, consumer, olive_oil):
    PromotionFactory(product=olive_oil, starts_at=datetime(2024, 6, 19, 12, tzinfo=UTC))

    assert discounts(tenant, date="2024-06-19T09:00:00-03:00") != {}
    assert discounts(tenant, date="2024-06-19T08:59:00-03:00") == {}


def test_the_largest_of_two_discounts_wins_and_a_tie_goes_to_the_oldest(tenant, consumer, olive_oil):
    # 30 % of 2 units against 15 % of all 5 units: 6.00 against 7.50 on a unit value of 10.
    capped = PromotionFactory(product=olive_oil, percent_off=Decimal(30), quantity_limit=Decimal(2))
    uncapped = PromotionFactory(product=olive_oil, percent_off=Decimal(15))

    assert discounts(tenant, items=[item(unit_value=10, quantity=5)])["999999"]["promotion_id"] == uncapped.pk
    assert discounts(tenant, items=[item(unit_value=10, quantity=2)])["999999"]["promotion_id"] == capped.pk

    twin = PromotionFactory(product=olive_oil, percent_off=Decimal(30), quantity_limit=Decimal(2))
    assert twin.pk > capped.pk
    assert discounts(tenant, items=[item(unit_value=10, quantity=2)])["999999"]["promotion_id"] == capped.pk


def test_a_promotion_at_its_limit_leaves_the_other_to_win(tenant, consumer, olive_oil):
    best = PromotionFactory(product=olive_oil, percent_off=Decimal(50), limit=1)
    fallback = PromotionFactory(product=olive_oil, percent_off=Decimal(5))
    record_promotion_use(best, consumer, reference="1")

    assert discounts(tenant, items=[item()])["999999"]["promotion_id"] == fallback.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": [item(barcode="99A")]}, "items"),
        ({"items": [item(quantity=0)]}, "items"),
        ({"items": [item(unit_value=-1)]}, "items"),
        ({"items": [item(unit_value=1.005)]}, "items"),
        ({"items": "999999"}, "items"),
        ({"date": "2024-02-30"}, "date"),
        ({"date": "19/06/2024"}, "date"),
        ({"type": "XYZ"}, "type"),
    ],
)
def test_invalid_requests_are_400_naming_the_field(tenant, consumer, seed_promotion, change, field):
    response = quote(tenant, **change)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_more_than_500_items_is_400(tenant, consumer, seed_promotion):
    response = quote(tenant, items=[item()] * 501)

    assert response.status_code == 400
    assert response.json() == {"items": ["At most 500 items per quote; got 501."]}
    assert quote(tenant, items=[item()] * 500).status_code == 200


def test_an_empty_basket_answers_the_wallet_and_no_discounts(tenant, consumer, seed_promotion):
    assert quote(tenant, items=[]).json()["discounts"] == {}


def _table_counts():
    models = (Customer, Wallet, LedgerEntry, Product, Category, Promotion, PromotionUse, Sale)
    return {
        model.__name__: (model.objects.count(), list(model.objects.order_by("pk").values()))
        for model in models
    }


def test_the_quote_writes_nothing(tenant, consumer, seed_promotion):
    limited = PromotionFactory(product=ProductFactory(account=tenant.account, barcode="1234"), limit=1)
    before = _table_counts()

    assert discounts(tenant, items=[item(), item("1234", 10, 1)]).keys() == {"999999", "1234"}
    assert quote(tenant, consumer=OTHER_CPF).status_code == 200

    assert _table_counts() == before
    assert not PromotionUse.objects.filter(promotion=limited).exists()


# --- max_redeemable: what of the wallet the consumer may spend on this basket ------------


def limit(tenant, **settings):
    response = tenant.v2.patch("/api/v2/account", settings, format="json")
    assert response.status_code == 200, response.content


def max_redeemable(tenant, *, query="", **overrides):
    response = quote(tenant, query=query, **overrides)
    assert response.status_code == 200, response.content
    return response.json()["max_redeemable"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # The seed basket: 109.77 less the quoted 7.32 is 102.45; the wallet holds 62.16.
        ({}, 62.16),
        ({"redeem_max_share": 10}, 10.25),  # 10.245, half up
        ({"redeem_max_share": 50}, 51.23),  # 51.225, half up
        ({"redeem_max_share": "60.68"}, 62.16),  # 62.167: the balance is the bound
        ({"redeem_min_purchase": "102.45"}, 62.16),
        ({"redeem_min_purchase": "102.46"}, 0),  # the quoted discount lowers the basket under it
        ({"redeem_min_balance": "62.16"}, 62.16),
        ({"redeem_min_balance": "62.17"}, 0),
        ({"redeem_max_share": 10, "redeem_min_purchase": 100, "redeem_min_balance": 50}, 10.25),
    ],
)
def test_max_redeemable_under_the_accounts_limits(tenant, consumer, seed_promotion, settings, expected):
    limit(tenant, **settings)

    assert max_redeemable(tenant) == {"balance": expected, "digital_change": 0}


def test_hidden_discounts_still_lower_the_basket(tenant, consumer, seed_promotion):
    limit(tenant, redeem_max_share=10)

    assert max_redeemable(tenant, query="?not_show_discounts=1")["balance"] == 10.25


def test_digital_change_is_free_of_every_limit(tenant, consumer, seed_promotion):
    wallet_credit(customer=consumer, kind="adjustment", amounts={"digital_change": Decimal("4.50")})
    limit(tenant, redeem_max_share=1, redeem_min_purchase=1000, redeem_min_balance=1000)

    assert max_redeemable(tenant) == {"balance": 0, "digital_change": 4.5}


def test_an_item_without_a_total_counts_its_value_less_its_discount(tenant, consumer, seed_promotion):
    limit(tenant, redeem_max_share=50)
    line = {"barcode": "999999", "unit_value": 36.59, "quantity": 3, "discount": 9.77}

    # 109.77 − 9.77 = 100.00, less the quoted 7.32: 92.68; half of it 46.34.
    assert max_redeemable(tenant, items=[line])["balance"] == 46.34
    # A total sent is the till's word for it.
    assert max_redeemable(tenant, items=[{**line, "total": 50}])["balance"] == 21.34


def test_an_empty_basket_allows_nothing_under_a_limit_on_the_purchase(tenant, consumer):
    assert max_redeemable(tenant, items=[])["balance"] == 62.16

    limit(tenant, redeem_max_share=100)

    assert max_redeemable(tenant, items=[])["balance"] == 0


def test_a_consumer_not_known_yet_may_spend_nothing(tenant, seed_promotion):
    assert max_redeemable(tenant, consumer=OTHER_CPF) == {"balance": 0, "digital_change": 0}
    limit(tenant, redeem_max_share=50)
    assert max_redeemable(tenant, consumer=OTHER_CPF) == {"balance": 0, "digital_change": 0}


def test_another_accounts_limits_do_not_apply(tenant, other_tenant, consumer, seed_promotion):
    limit(other_tenant, redeem_max_share=1)

    assert max_redeemable(tenant)["balance"] == 62.16


def test_the_quote_with_max_redeemable_conforms_to_its_schema(tenant, consumer, seed_promotion):
    limit(tenant, redeem_max_share=10)

    for query in ("", "?not_show_discounts=1"):
        assert_documented(quote(tenant, query=query), "POST", f"{POS}/shops/discounts")
