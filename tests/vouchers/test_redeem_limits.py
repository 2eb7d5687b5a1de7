"""The account's redemption limits at the POS redeem, and the quote's `max_redeemable` that
the redeem then accepts."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customers.documents import normalize_document
from customers.models import ExpiryLot, LedgerEntry, Wallet
from customers.selectors import wallet_mismatches
from customers.services import LotTerms, Posting, customer_create, wallet_credit, wallet_post
from tests.builders import POS, V2
from tests.factories import ProductFactory, PromotionFactory
from tests.openapi import assert_documented
from tests.test_query_budgets import REDEEM_QUERIES
from vouchers.models import BalanceRedemption

pytestmark = pytest.mark.django_db

CPF = "53933515009"
REDEEM_PATH = f"{POS}/consumers/{{document}}/balance/redeem"
# Maria's wallet (`maria` fixture): 100.00 cashback, 5.00 digital change, 250 points.
BODY = {"date": "2024-06-19 17:13", "value": 10, "digital_change": 0, "pdv": "7", "coupon": "1", "type": "NF"}


def limit(tenant, **settings):
    response = tenant.v2.patch(f"{V2}/account", settings, format="json")
    assert response.status_code == 200, response.content


def redeem(tenant, document=CPF, **changes):
    body = {**BODY, **changes}
    return tenant.pos.post(REDEEM_PATH.format(document=document), body, format="json")


def assert_nothing_debited(customer, balance="100.00", digital_change="5.00"):
    wallet = Wallet.objects.get(customer=customer)
    assert (wallet.balance, wallet.digital_change) == (Decimal(balance), Decimal(digital_change))
    assert not LedgerEntry.objects.filter(wallet=wallet, redemption__isnull=False).exists()
    assert not BalanceRedemption.objects.filter(customer=customer).exists()
    assert wallet_mismatches() == []


def refusal(response, expected_limit):
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "redeem_limit"
    assert body["limit"] == expected_limit
    assert_documented(response, "POST", REDEEM_PATH)
    return body


# --- each limit refuses, names itself and says what is allowed ---------------------------


@pytest.mark.parametrize(
    ("settings", "changes", "expected_limit", "allowed_balance", "said"),
    [
        (
            {"redeem_max_share": 10},
            {"purchase_total": 50, "value": "5.01"},
            "redeem_max_share",
            5,
            "at most 10%",
        ),
        ({"redeem_max_share": "12.5"}, {"purchase_total": 40, "value": 6}, "redeem_max_share", 5, "12.5%"),
        (
            {"redeem_min_purchase": 20},
            {"purchase_total": "19.99", "value": 1},
            "redeem_min_purchase",
            0,
            "19.99",
        ),
        ({"redeem_min_balance": "100.01"}, {"value": 1}, "redeem_min_balance", 0, "holds 100.00"),
        ({"redeem_max_share": 50}, {"value": 1}, "redeem_max_share", 0, "send purchase_total"),
        ({"redeem_min_purchase": 1}, {"value": 1}, "redeem_min_purchase", 0, "send purchase_total"),
        (
            {"redeem_max_share": 50},
            {"value": 1, "purchase_total": None},
            "redeem_max_share",
            0,
            "send purchase_total",
        ),
    ],
    ids=[
        "share",
        "fractional-share",
        "min-purchase",
        "min-balance",
        "no-total-share",
        "no-total-min",
        "null-total",
    ],
)
def test_a_breach_is_422_naming_the_limit_and_what_is_allowed_and_debits_nothing(
    tenant, maria, settings, changes, expected_limit, allowed_balance, said
):
    limit(tenant, **settings)

    body = refusal(redeem(tenant, **changes, digital_change=2), expected_limit)

    assert body["allowed"] == {"balance": allowed_balance, "digital_change": 5}
    assert said in body["detail"]
    assert body["detail"].endswith("Nothing was debited.")
    assert_nothing_debited(maria)


@pytest.mark.parametrize(
    ("settings", "changes"),
    [
        ({"redeem_max_share": 10}, {"purchase_total": 50, "value": 5}),
        ({"redeem_max_share": 100}, {"purchase_total": 100, "value": 100}),
        ({"redeem_min_purchase": 20}, {"purchase_total": 20, "value": 20}),
        ({"redeem_min_balance": 100}, {"value": 100}),
        (
            {"redeem_max_share": 50, "redeem_min_purchase": 20, "redeem_min_balance": 100},
            {"purchase_total": 20, "value": 10},
        ),
    ],
    ids=["share", "whole-purchase", "min-purchase", "min-balance", "all-three"],
)
def test_exactly_at_the_limit_is_accepted(tenant, maria, settings, changes):
    limit(tenant, **settings)

    response = redeem(tenant, **changes)

    assert response.status_code == 201, response.content
    assert response.json()["redemption"]["value"] == changes["value"]
    assert Wallet.objects.get(customer=maria).balance == Decimal(100) - Decimal(changes["value"])
    assert wallet_mismatches() == []


@pytest.mark.parametrize(
    ("share", "purchase_total", "allowed"),
    [(10, "33.33", "3.33"), (10, "0.05", "0.01"), (15, "0.10", "0.02"), ("33.33", "10", "3.33")],
)
def test_the_share_is_rounded_to_the_cent_half_up(tenant, maria, share, purchase_total, allowed):
    limit(tenant, redeem_max_share=share)
    one_cent_more = str(Decimal(allowed) + Decimal("0.01"))

    refused = refusal(redeem(tenant, purchase_total=purchase_total, value=one_cent_more), "redeem_max_share")
    accepted = redeem(tenant, purchase_total=purchase_total, value=allowed)

    assert refused["allowed"]["balance"] == float(allowed)
    assert accepted.status_code == 201, accepted.content
    assert Wallet.objects.get(customer=maria).balance == Decimal(100) - Decimal(allowed)


def test_a_share_rounding_to_nothing_allows_no_cashback(tenant, maria):
    limit(tenant, redeem_max_share=10)

    body = refusal(redeem(tenant, purchase_total="0.04", value="0.01"), "redeem_max_share")

    assert body["allowed"]["balance"] == 0
    assert_nothing_debited(maria)


# --- digital change is the customer's own money ----------------------------------------


def test_digital_change_is_free_of_the_share(tenant, maria):
    limit(tenant, redeem_max_share=10)

    response = redeem(tenant, purchase_total=10, value=1, digital_change=5)

    assert response.status_code == 201, response.content
    wallet = Wallet.objects.get(customer=maria)
    assert (wallet.balance, wallet.digital_change) == (Decimal("99.00"), Decimal("0.00"))


@pytest.mark.parametrize(
    "settings",
    [{"redeem_max_share": 10}, {"redeem_min_purchase": 500}, {"redeem_min_balance": 1000}],
    ids=["share", "min-purchase", "min-balance"],
)
def test_digital_change_alone_needs_no_purchase_total_and_meets_no_minimum(tenant, maria, settings):
    limit(tenant, **settings)

    without_total = redeem(tenant, value=0, digital_change=2)
    small_purchase = redeem(tenant, value=0, digital_change=3, purchase_total="0.01", coupon="2")

    assert (without_total.status_code, small_purchase.status_code) == (201, 201)
    assert Wallet.objects.get(customer=maria).digital_change == Decimal("0.00")


# --- what the limits leave alone -----------------------------------------------------------


def test_without_limits_purchase_total_changes_nothing(tenant, maria):
    response = redeem(tenant, value=100, purchase_total="0.01")

    assert response.status_code == 201, response.content
    assert Wallet.objects.get(customer=maria).balance == Decimal("0.00")


def test_within_the_limits_but_above_the_balance_is_insufficient_balance(tenant, maria):
    limit(tenant, redeem_max_share=50)

    response = redeem(tenant, purchase_total=400, value="100.01")

    assert response.status_code == 422
    assert response.json()["code"] == "insufficient_balance"
    assert_nothing_debited(maria)


@pytest.mark.parametrize("purchase_total", [0, -1, "0.001", "muito"])
def test_a_purchase_total_that_is_not_a_positive_amount_is_400(tenant, maria, purchase_total):
    response = redeem(tenant, purchase_total=purchase_total)

    assert response.status_code == 400
    assert list(response.json()) == ["purchase_total"]
    assert_nothing_debited(maria)


def test_a_retry_answers_its_first_result_after_the_limits_changed(tenant, maria):
    first = redeem(tenant, value=30)
    limit(tenant, redeem_max_share=10, redeem_min_balance=1000)

    retry = redeem(tenant, value=30)
    with_a_total = redeem(tenant, value=30, purchase_total=1)
    new_one = redeem(tenant, value=30, coupon="2", purchase_total=1000)

    assert first.status_code == 201
    assert (retry.status_code, with_a_total.status_code) == (200, 200)
    assert retry.json()["redemption"] == with_a_total.json()["redemption"] == first.json()["redemption"]
    assert refusal(new_one, "redeem_min_balance")["allowed"]["balance"] == 0
    assert Wallet.objects.get(customer=maria).balance == Decimal("70.00")
    assert BalanceRedemption.objects.count() == 1


def test_another_accounts_limits_do_not_apply(tenant, other_tenant, maria):
    elsewhere = customer_create(account=other_tenant.account, name="Maria", document=CPF)
    wallet_credit(
        customer=elsewhere,
        kind="adjustment",
        amounts={"balance": Decimal("100")},
        reason="Opening",
    )
    limit(tenant, redeem_max_share=1)

    assert redeem(other_tenant, value=100).status_code == 201
    assert refusal(redeem(tenant, value=2, purchase_total=100), "redeem_max_share")["allowed"]["balance"] == 1
    assert Wallet.objects.get(customer=maria).balance == Decimal("100.00")


def test_amounts_past_their_end_do_not_count_towards_the_minimum_balance(tenant, maria):
    """The wallet as locked still holds a lot past its end that no job expired yet; posting
    expires it first, and the limits then see what was really held."""
    wallet_post(
        customer=maria,
        postings=[
            Posting(
                kind="cashback",
                deltas={"balance": Decimal("50")},
                lot=LotTerms(expires_at=timezone.now() + timedelta(seconds=1)),
            )
        ],
    )
    ExpiryLot.objects.filter(account=tenant.account).update(expires_at=timezone.now() - timedelta(days=1))
    limit(tenant, redeem_min_balance=120)

    body = refusal(redeem(tenant, value=10), "redeem_min_balance")

    assert body["allowed"] == {"balance": 0, "digital_change": 5}
    assert "holds 100.00" in body["detail"]
    # The refusal rolled the expiry back with the rest: the expiry job will take it.
    assert_nothing_debited(maria, balance="150.00")


# --- query counts -------------------------------------------------------------------------

# Within the request's savepoint (opened, rolled back and released: 3): the wallet locked with
# its customer and whether the keys are taken, and the redemption's insert. Nothing is posted:
# the limits are checked on the locked wallet.
REFUSED_QUERIES = 5


def test_a_limited_redemption_costs_what_a_plain_one_does(tenant, maria, django_assert_num_queries):
    limit(tenant, redeem_max_share=50, redeem_min_purchase=10, redeem_min_balance=10)
    # The first reads the account's configuration; the limits come with the account.
    assert redeem(tenant, purchase_total=40, value=1, coupon="0").status_code == 201

    with django_assert_num_queries(REDEEM_QUERIES):
        assert redeem(tenant, purchase_total=40, value=20).status_code == 201
    with django_assert_num_queries(REFUSED_QUERIES):
        assert redeem(tenant, purchase_total=40, value=21, coupon="2").status_code == 422


# --- the quote's max_redeemable is what the redeem accepts ---------------------------------

_documents = itertools.count(100_000_000)


def new_cpf() -> str:
    """A valid CPF, a new one each call."""
    digits = [int(digit) for digit in f"{next(_documents):09d}"]
    for length in (9, 10):
        remainder = (
            sum(digit * weight for digit, weight in zip(digits, range(length + 1, 1, -1), strict=True)) % 11
        )
        digits.append(0 if remainder < 2 else 11 - remainder)
    return "".join(map(str, digits))


def test_new_cpf_makes_valid_documents():
    documents = [new_cpf() for _ in range(20)]

    assert len(set(documents)) == 20
    assert [normalize_document(document) for document in documents] == documents


@pytest.fixture
def promoted(tenant):
    """A product at 10% off, so that some baskets' totals are lowered by a quoted discount."""
    product = ProductFactory(account=tenant.account, barcode="777")
    PromotionFactory(product=product, percent_off=Decimal(10), starts_at=timezone.now() - timedelta(days=1))
    return product


money = st.decimals(min_value=Decimal("0"), max_value=Decimal("300"), places=2)
items = st.lists(
    st.fixed_dictionaries(
        {
            "barcode": st.sampled_from(["777", "778"]),
            "unit_value": st.decimals(min_value=Decimal("0.01"), max_value=Decimal("80"), places=2),
            "quantity": st.integers(min_value=1, max_value=4),
        }
    ),
    min_size=0,
    max_size=3,
    unique_by=lambda item: item["barcode"],
)
minimum = st.just(Decimal("0")) | st.decimals(min_value=Decimal("0"), max_value=Decimal("60"), places=2)
account_settings = st.fixed_dictionaries(
    {
        "redeem_max_share": st.none()
        | st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2),
        "redeem_min_purchase": minimum,
        "redeem_min_balance": minimum,
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(balance=money, digital_change=money, basket=items, limits=account_settings, send_totals=st.booleans())
def test_the_quotes_max_redeemable_is_accepted_and_one_cent_more_refused(
    tenant, promoted, balance, digital_change, basket, limits, send_totals
):
    tenant.account.__class__.objects.filter(pk=tenant.account.pk).update(**limits)
    cpf = new_cpf()
    customer = customer_create(account=tenant.account, name="Cliente", document=cpf)
    if balance or digital_change:
        wallet_credit(
            customer=customer,
            kind="adjustment",
            amounts={"balance": balance, "digital_change": digital_change},
            reason="Opening",
        )
    lines = [
        {**item, "unit_value": str(item["unit_value"]), "discount": 0}
        | ({"total": str(item["unit_value"] * item["quantity"])} if send_totals else {})
        for item in basket
    ]

    quote = tenant.pos.post(f"{POS}/shops/discounts", {"consumer": cpf, "items": lines}, format="json").json()

    most = Decimal(str(quote["max_redeemable"]["balance"]))
    assert Decimal(str(quote["max_redeemable"]["digital_change"])) == digital_change
    basket_total = sum((item["unit_value"] * item["quantity"] for item in basket), Decimal(0)) - sum(
        (Decimal(str(entry["discount"])) for entry in quote["discounts"].values()), Decimal(0)
    )
    purchase_total = {"purchase_total": str(basket_total)} if basket_total > 0 else {}
    keys = {"date": "2024-06-19 17:13", "digital_change": 0, "type": "NF", "reference": cpf}

    over = tenant.pos.post(
        REDEEM_PATH.format(document=cpf),
        {**keys, **purchase_total, "value": str(most + Decimal("0.01"))},
        format="json",
    )

    assert over.status_code == 422, over.content
    if most < balance:
        assert over.json()["code"] == "redeem_limit"
        assert over.json()["allowed"]["balance"] == quote["max_redeemable"]["balance"]
    elif balance:
        assert over.json()["code"] == "insufficient_balance"
    assert Wallet.objects.get(customer=customer).balance == balance
    if most > 0:
        within = tenant.pos.post(
            REDEEM_PATH.format(document=cpf), {**keys, **purchase_total, "value": str(most)}, format="json"
        )
        assert within.status_code == 201, within.content
        assert Wallet.objects.get(customer=customer).balance == balance - most
