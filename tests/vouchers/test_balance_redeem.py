"""POS balance redemption: "Resgate de vale compras"."""

from decimal import Decimal

import pytest

from customers.models import LedgerEntry, Wallet
from customers.selectors import wallet_mismatches
from customers.services import customer_create, wallet_credit
from loyalty.outbox.models import Message
from loyalty.outbox.services import message_template_create
from tests.builders import POS
from tests.sales.builders import cancel, purchase, put
from tests.test_query_budgets import REDEEM_BUDGET, REDEEM_QUERIES
from vouchers.models import BalanceRedemption

pytestmark = pytest.mark.django_db

SEED_REDEEM = {
    "date": "2024-06-19 17:13",
    "value": 10,
    "digital_change": 2,
    "coupon": "2",
    "reference": "2",
    "pdv": "2",
    "type": "NF",
}


def redeem(tenant, body=SEED_REDEEM, document="53933515009"):
    return tenant.pos.post(f"{POS}/consumers/{document}/balance/redeem", body, format="json")


def test_the_seed_example_debits_both_balances(tenant, maria):
    response = redeem(tenant)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["redemption"]["value"], body["redemption"]["digital_change"]) == (10, 2)
    assert body["redemption"]["consumer"] == "53933515009"
    assert body["wallet"]["total_balance"] == 90
    assert body["wallet"]["digital_change"] == 3
    kinds = sorted(LedgerEntry.objects.filter(redemption__isnull=False).values_list("kind", flat=True))
    assert kinds == ["balance_redeem", "digital_change_debit"]
    assert wallet_mismatches() == []


def test_a_retry_answers_the_first_result_and_debits_nothing_more(tenant, maria):
    first = redeem(tenant)
    retry = redeem(tenant, {**SEED_REDEEM, "document": "ignored"})

    assert retry.status_code == 200
    assert retry.json()["redemption"] == first.json()["redemption"]
    assert Wallet.objects.get(customer=maria).balance == Decimal("90.00")
    assert BalanceRedemption.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "differences"),
    [
        ({"value": 5}, ["value"]),
        ({"digital_change": 1}, ["digital_change"]),
        ({"value": 5, "reference": "other", "date": "2024-06-19 18:00"}, ["value"]),
    ],
)
def test_other_amounts_under_the_same_keys_are_a_conflict_that_debits_nothing(
    tenant, maria, changes, differences
):
    first = redeem(tenant).json()["redemption"]

    response = redeem(tenant, {**SEED_REDEEM, **changes})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "redemption_conflict"
    assert body["differences"] == differences
    assert body["redemption"]["id"] == first["id"]
    assert {body["redemption"][key] for key in ("pdv", "coupon")} == {"2"}
    assert Wallet.objects.get(customer=maria).balance == Decimal("90.00")
    assert BalanceRedemption.objects.count() == 1


def test_the_same_keys_for_another_consumer_are_a_conflict_that_names_no_one(tenant, maria):
    other = customer_create(account=tenant.account, name="João", document="52998224725")
    wallet_credit(customer=other, kind="adjustment", amounts={"balance": Decimal("50")}, reason="Opening")
    redeem(tenant)

    response = tenant.pos.post(
        f"{POS}/consumers/52998224725/balance/redeem", {**SEED_REDEEM, "value": 10}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["differences"] == ["consumer"]
    assert b"53933515009" not in response.content
    assert Wallet.objects.get(customer=other).balance == Decimal("50.00")


def test_a_fiscal_receipt_identifies_the_redemption_whatever_its_reference(tenant, maria):
    redeem(tenant)

    retry = redeem(tenant, {**SEED_REDEEM, "reference": "another"})
    by_reference = redeem(
        tenant, {**SEED_REDEEM, "pdv": None, "coupon": None, "value": 1, "digital_change": 0}
    )

    assert retry.status_code == 200
    assert by_reference.status_code == 201  # identified by its reference, which no redemption has alone
    assert Wallet.objects.get(customer=maria).balance == Decimal("89.00")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({**SEED_REDEEM, "value": 100.01}, "100.01 of cashback balance"),
        ({**SEED_REDEEM, "digital_change": 6}, "6"),
    ],
)
def test_too_little_in_either_balance_is_422_and_debits_neither(tenant, maria, body, message):
    response = redeem(tenant, body)

    assert response.status_code == 422
    assert response.json()["code"] == "insufficient_balance"
    assert message in response.json()["detail"]
    assert response.json()["available"] == {"points": 250, "balance": 100, "digital_change": 5}
    wallet = Wallet.objects.get(customer=maria)
    assert (wallet.balance, wallet.digital_change) == (Decimal("100.00"), Decimal("5.00"))
    assert not BalanceRedemption.objects.exists()


def test_unknown_consumer_is_404_and_malformed_document_is_400(tenant, maria, other_tenant):
    assert redeem(tenant, document="11144477735").status_code == 404
    assert redeem(other_tenant).status_code == 404
    assert redeem(tenant, document="123").status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {**SEED_REDEEM, "value": 0, "digital_change": 0},
        {**SEED_REDEEM, "value": -1},
        {**SEED_REDEEM, "reference": "", "coupon": ""},
        {**SEED_REDEEM, "type": "XX"},
        {**SEED_REDEEM, "date": "2024-02-30 10:00"},
    ],
)
def test_invalid_redemptions_are_400(tenant, maria, body):
    assert redeem(tenant, body).status_code == 400
    assert not BalanceRedemption.objects.exists()


def test_cancelling_the_purchase_gives_the_redeemed_balance_back(tenant, maria):
    redeem(
        tenant,
        {
            **SEED_REDEEM,
            "date": "2024-05-24 15:00",
            "type": "CF",
            "reference": "11",
            "pdv": "1",
            "coupon": "15",
        },
    )
    tenant.pos.put(f"{POS}/shops", purchase(), format="json")

    response = tenant.pos.post(
        f"{POS}/shops/cancel", {"date": "2024-05-24", "type": "CF", "pdv": "1", "coupon": "15"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["reversed"]["balance"] == 10
    assert response.json()["reversed"]["digital_change"] == 2
    assert len(response.json()["reversed"]["redemptions_returned"]) == 1
    wallet = Wallet.objects.get(customer=maria)
    assert (wallet.balance, wallet.digital_change) == (Decimal("100.00"), Decimal("5.00"))
    assert BalanceRedemption.objects.get().status == "returned"
    assert wallet_mismatches() == []


def test_a_redemption_of_another_purchase_is_not_given_back(tenant, maria):
    redeem(
        tenant,
        {
            **SEED_REDEEM,
            "date": "2024-05-24 15:00",
            "type": "CF",
            "reference": "99",
            "pdv": "9",
            "coupon": "99",
        },
    )
    tenant.pos.put(f"{POS}/shops", purchase(), format="json")

    tenant.pos.post(
        f"{POS}/shops/cancel", {"date": "2024-05-24", "type": "CF", "reference": "11"}, format="json"
    )

    assert BalanceRedemption.objects.get().status == "redeemed"


# Which redemptions a cancel gives back: the purchase's keys, the redemption's, and whether
# cancelling the purchase (by its own keys) gives the redemption back.
FISCAL = {"pdv": "1", "coupon": "15", "reference": "11"}
GIVE_BACK_CASES = {
    "both with the same receipt": (FISCAL, FISCAL, True),
    "the same receipt, another reference": (FISCAL, {**FISCAL, "reference": "12"}, True),
    "purchase by reference, redemption with a receipt and that reference": (
        {"reference": "11"},
        FISCAL,
        True,
    ),
    "purchase with a receipt, redemption by its reference": (FISCAL, {"reference": "11"}, True),
    "both by the same reference": ({"reference": "11"}, {"reference": "11"}, True),
    "two receipts, one reference": (FISCAL, {**FISCAL, "pdv": "2", "coupon": "77"}, False),
    "another reference": ({"reference": "11"}, {"reference": "12"}, False),
}


def redeem_for_purchase(tenant, keys):
    body = {
        **SEED_REDEEM,
        "date": "2024-05-24 15:00",
        "type": "CF",
        "reference": None,
        "pdv": None,
        "coupon": None,
    }
    response = redeem(tenant, {**body, **keys})
    assert response.status_code == 201, response.content
    return response.json()["redemption"]["id"]


def purchase_with(keys):
    return purchase(**{"reference": None, "pdv": None, "coupon": None, **keys})


@pytest.mark.parametrize("case", list(GIVE_BACK_CASES))
def test_a_cancel_gives_back_the_redemptions_its_keys_name(tenant, maria, case):
    purchase_keys, redemption_keys, given_back = GIVE_BACK_CASES[case]
    redemption = redeem_for_purchase(tenant, redemption_keys)
    assert put(tenant, purchase_with(purchase_keys)).status_code == 201

    response = cancel(tenant, {"date": "2024-05-24", "type": "CF", **purchase_keys})

    assert response.status_code == 200
    assert response.json()["reversed"]["redemptions_returned"] == ([redemption] if given_back else [])
    assert BalanceRedemption.objects.get().status == ("returned" if given_back else "redeemed")
    assert Wallet.objects.get(customer=maria).balance == Decimal("100.00" if given_back else "90.00")
    assert wallet_mismatches() == []


def test_a_redemption_by_a_reference_two_purchases_share_waits_for_the_last_cancel(tenant, maria):
    redemption = redeem_for_purchase(tenant, {"reference": "11"})
    put(tenant, purchase_with(FISCAL))
    put(tenant, purchase_with({**FISCAL, "pdv": "2", "coupon": "77"}))

    first = cancel(tenant, {"date": "2024-05-24", "type": "CF", "pdv": "1", "coupon": "15"})
    after_first = Wallet.objects.get(customer=maria).balance
    last = cancel(tenant, {"date": "2024-05-24", "type": "CF", "pdv": "2", "coupon": "77"})

    assert first.json()["reversed"]["redemptions_returned"] == []  # it may have paid for the other one
    assert after_first == Decimal("90.00")
    assert last.json()["reversed"]["redemptions_returned"] == [redemption]
    assert Wallet.objects.get(customer=maria).balance == Decimal("100.00")
    assert wallet_mismatches() == []


def test_a_retry_of_a_redemption_given_back_says_so_and_debits_nothing(tenant, maria):
    body = {**SEED_REDEEM, "date": "2024-05-24 15:00", "type": "CF", **FISCAL}
    first = redeem(tenant, body).json()
    put(tenant, purchase_with(FISCAL))
    cancel(tenant, {"date": "2024-05-24", "type": "CF", "pdv": "1", "coupon": "15"})

    retry = redeem(tenant, body)

    assert retry.status_code == 200
    assert retry.json()["redemption"]["id"] == first["redemption"]["id"]
    assert retry.json()["redemption"]["status"] == "returned"
    assert "given back on" in retry.json()["warnings"][0]
    assert first["warnings"] == []
    assert Wallet.objects.get(customer=maria).balance == Decimal("100.00")


def test_a_balance_redeemed_template_queues_a_message(tenant, maria):
    message_template_create(
        account=tenant.account,
        name="Resgate",
        event="balance_redeemed",
        channel="email",
        body="{name}, você usou R$ {redeemed}. Saldo: R$ {balance}.",
    )

    redeem(tenant)

    assert Message.objects.get().body == "Maria, você usou R$ 10,00. Saldo: R$ 90,00."


def test_redemption_query_count(tenant, maria, django_assert_num_queries):
    # A first redemption reads the account's configuration (credential with store, templates,
    # webhook endpoints); the next ones find it in the process's memory.
    assert redeem(tenant, {**SEED_REDEEM, "coupon": "1"}).status_code == 201
    # The wallet locked with its customer and whether the keys are taken, the redemption's
    # insert, its ledger row and wallet move, and the request's savepoint (2).
    with django_assert_num_queries(REDEEM_QUERIES):
        assert redeem(tenant, {**SEED_REDEEM, "coupon": "2"}).status_code == 201
    assert REDEEM_QUERIES <= REDEEM_BUDGET
