"""Rewards that expire as promised: expiry lots, spending order, give-backs, inactivity.

Every test travels in time with time-machine: the account is in São Paulo (UTC−3), so a day
ends at 03:00 UTC, and an expiry at UTC midnight would be three hours early.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from rest_framework_simplejwt.tokens import AccessToken

from customers.models import ExpiryLot, LedgerEntry, Wallet
from customers.selectors import lot_mismatches, wallet_mismatches
from customers.services import customer_create, wallet_adjust, wallet_credit
from loyalty.engine.lifecycle import rewards_process_due
from loyalty.engine.program import rule_create
from tests.builders import POS, V2, make_tenant
from tests.factories import RewardFactory
from tests.sales.builders import cancel, purchase, put
from vouchers.models import Voucher
from vouchers.services import reward_redeem, voucher_cancel

pytestmark = pytest.mark.django_db

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
CPF = "53933515009"


@pytest.fixture
def tenant(merchant, monkeypatch):
    """The merchant's clients, with a token issued before every date these tests travel to and
    valid after all of them."""
    monkeypatch.setattr(AccessToken, "lifetime", timedelta(days=3650))
    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC)):
        return make_tenant(merchant)


def local(text: str) -> datetime:
    """An instant given as São Paulo wall-clock time."""
    return datetime.fromisoformat(text).replace(tzinfo=SAO_PAULO)


def sell(tenant, at: str, amount, reference: str):
    """A v2 sale of `amount` to the customer, recorded at the local time `at`."""
    with time_machine.travel(local(at), tick=False):
        response = tenant.v2.post(
            f"{V2}/sales",
            {"cpf": CPF, "sale_amount": amount, "reference": reference, "date": at},
            format="json",
        )
    assert response.status_code == 201, response.content
    return response.json()


def process(at: str):
    with time_machine.travel(local(at), tick=False):
        return rewards_process_due()


def wallet(tenant) -> Wallet:
    return Wallet.objects.get(account=tenant.account, customer__document=CPF)


def lots(tenant, bucket="balance"):
    return list(
        ExpiryLot.objects.filter(account=tenant.account, bucket=bucket)
        .order_by("id")
        .values_list("amount", "remaining")
    )


def expiries(tenant):
    return list(
        LedgerEntry.objects.filter(account=tenant.account, kind="expiry")
        .order_by("id")
        .values_list("points", "balance")
    )


def clean():
    call_command("check_wallets", stdout=None)  # raises on any mismatch
    return wallet_mismatches() == [] and lot_mismatches() == []


def cashback(tenant, percent="10", **fields):
    return rule_create(
        account=tenant.account, name=f"{percent} %", kind="cashback", value=Decimal(percent), **fields
    )


def redeem(tenant, at: str, value, coupon: str):
    body = {"date": at, "value": value, "digital_change": 0, "coupon": coupon, "pdv": "9", "type": "NF"}
    with time_machine.travel(local(at), tick=False):
        response = tenant.pos.post(f"{POS}/consumers/{CPF}/balance/redeem", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def pos_wallet(tenant, at: str):
    with time_machine.travel(local(at), tick=False):
        response = tenant.pos.get(f"{POS}/consumers/document/{CPF}/wallet")
    assert response.status_code == 200, response.content
    return response.json()


def test_valid_days_expire_what_is_left_with_an_expiry_row(tenant):
    """The issue's reproduction: a 10 % rule valid for one day, a sale on 1 October."""
    cashback(tenant, valid_days=1)
    sell(tenant, "2026-10-01 10:00", 100, "R1")
    assert wallet(tenant).balance == Decimal("10.00")

    done = process("2026-11-30 09:00")

    assert done.expired_wallets == 1
    assert wallet(tenant).balance == 0
    assert expiries(tenant) == [(0, Decimal("-10.00"))]
    assert lots(tenant) == [(Decimal("10.00"), 0)]
    assert clean()


def test_a_lot_is_spendable_until_235959_local_of_its_last_day_and_not_a_second_more(tenant):
    cashback(tenant, valid_days=30)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # spendable through 1 July, local

    # UTC midnight of 2 July is 21:00 of 1 July in São Paulo: still spendable.
    process("2026-07-01 21:00")
    process("2026-07-01 23:59:59")
    assert wallet(tenant).balance == Decimal("10.00")
    assert pos_wallet(tenant, "2026-07-01 23:59:59")["next_expiry"] == {
        "date": "2026-07-01",
        "points": 0,
        "balance": 10,
    }

    process("2026-07-02 00:00:00")

    assert wallet(tenant).balance == 0
    assert expiries(tenant) == [(0, Decimal("-10.00"))]
    assert pos_wallet(tenant, "2026-07-02 00:00:01")["next_expiry"] is None


def test_next_expiry_shows_only_what_expires_within_30_days(tenant):
    cashback(tenant, valid_days=45)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # through 16 July

    assert pos_wallet(tenant, "2026-06-15 12:00")["next_expiry"] is None
    assert pos_wallet(tenant, "2026-06-16 00:00")["next_expiry"] == {
        "date": "2026-07-16",
        "points": 0,
        "balance": 10,
    }


def test_debits_spend_the_soonest_lot_first_and_the_unexpiring_amount_last(tenant):
    short = cashback(tenant, "10", valid_days=10)
    sell(tenant, "2026-06-05 12:00", 100, "A")  # 10.00 through 15 June
    short.active = False
    short.save()
    cashback(tenant, "5", valid_days=60)
    sell(tenant, "2026-06-01 12:00", 100, "B")  # 5.00 through 31 July
    sell(tenant, "2026-06-02 12:00", 40, "C")  # 2.00 through 1 August
    customer = wallet(tenant).customer
    wallet_credit(customer=customer, kind="adjustment", amounts={"balance": Decimal("3")}, reason="Goodwill")
    assert wallet(tenant).balance == Decimal("20.00")

    redeem(tenant, "2026-06-06 10:00", 12, "1")  # the 10.00 lot, then 2.00 of the 31 July one

    assert lots(tenant) == [
        (Decimal("10.00"), Decimal("0.00")),
        (Decimal("5.00"), Decimal("3.00")),
        (Decimal("2.00"), Decimal("2.00")),
    ]
    redeem(tenant, "2026-06-06 11:00", 6, "2")  # every lot, then 1.00 of the goodwill

    assert [remaining for _, remaining in lots(tenant)] == [0, 0, 0]
    wallet_now = wallet(tenant)
    assert (wallet_now.balance, wallet_now.lot_balance) == (Decimal("2.00"), 0)
    assert process("2026-12-01 00:00").expired_wallets == 0  # the rest never expires
    assert wallet(tenant).balance == Decimal("2.00")
    assert clean()


def test_a_partly_spent_lot_expires_what_is_left(tenant):
    cashback(tenant, valid_days=5)
    sell(tenant, "2026-06-01 12:00", 100, "R1")
    redeem(tenant, "2026-06-03 12:00", 4, "1")

    process("2026-06-07 00:00")

    assert expiries(tenant) == [(0, Decimal("-6.00"))]
    assert wallet(tenant).balance == 0
    assert clean()


def test_the_job_is_idempotent(tenant):
    cashback(tenant, valid_days=5)
    sell(tenant, "2026-06-01 12:00", 100, "R1")

    process("2026-06-07 00:00")
    again = process("2026-06-07 00:00")

    assert again.expired_wallets == 0
    assert expiries(tenant) == [(0, Decimal("-10.00"))]


def test_a_pending_grant_is_released_then_expires_counted_from_its_release(tenant):
    cashback(tenant, valid_days=10, pending_days=7)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # released 8 June 12:00, spendable through 18 June
    process("2026-06-08 11:59")
    assert wallet(tenant).pending_balance == Decimal("10.00")

    assert process("2026-06-08 13:00").released == 1
    assert (wallet(tenant).balance, wallet(tenant).pending_balance) == (Decimal("10.00"), 0)
    process("2026-06-18 23:59:59")
    assert wallet(tenant).balance == Decimal("10.00")

    process("2026-06-19 00:00")

    assert wallet(tenant).balance == 0
    assert expiries(tenant) == [(0, Decimal("-10.00"))]
    assert clean()


def test_cancelling_a_sale_takes_back_its_own_lot_first_and_forgives_nothing(tenant):
    cashback(tenant, valid_days=30)
    put(
        tenant,
        purchase(
            date="2026-06-01 12:00",
            consumer=CPF,
            payments=[{"method": 1, "total": 100}],
            items=[{**purchase()["items"][0], "unit_value": 50, "total": 100}],
        ),
    )
    sell(tenant, "2026-06-20 12:00", 50, "LATER")  # 5.00 through 20 July
    redeem(tenant, "2026-06-21 12:00", 12, "1")  # the 1 June lot (10.00), then 2.00 of the later one
    assert lots(tenant) == [(Decimal("10.00"), 0), (Decimal("5.00"), Decimal("3.00"))]

    with time_machine.travel(local("2026-06-22 12:00"), tick=False):
        response = cancel(tenant, {"date": "2026-06-01", "type": "CF", "pdv": "1", "coupon": "15"})
    assert response.status_code == 200, response.content

    # Its own lot was spent: the reversal takes the other lot and leaves a debt of 7.00.
    current = wallet(tenant)
    assert (current.balance, current.lot_balance) == (Decimal("-7.00"), 0)
    assert lots(tenant) == [(Decimal("10.00"), 0), (Decimal("5.00"), 0)]
    assert process("2026-08-01 00:00").expired_wallets == 0  # a debt never expires
    sell(tenant, "2026-08-02 12:00", 100, "PAYS")  # 10.00: 7.00 pays the debt, 3.00 opens a lot
    assert (wallet(tenant).balance, wallet(tenant).lot_balance) == (Decimal("3.00"), Decimal("3.00"))
    assert clean()


def test_a_cancelled_sale_whose_lot_is_intact_takes_back_exactly_that_lot(tenant):
    cashback(tenant, valid_days=30)
    sell(tenant, "2026-06-01 12:00", 100, "FIRST")
    sell(tenant, "2026-06-02 12:00", 100, "SECOND")
    sale_id = sell(tenant, "2026-06-03 12:00", 100, "THIRD")["sale"]["id"]

    with time_machine.travel(local("2026-06-04 12:00"), tick=False):
        assert tenant.v2.post(f"{V2}/sales/{sale_id}/cancel").status_code == 200

    assert [remaining for _, remaining in lots(tenant)] == [Decimal("10.00"), Decimal("10.00"), 0]
    assert clean()


@pytest.mark.parametrize(
    ("valid_days", "given_back_until"),
    [
        (9, "2026-07-08"),  # the lot ended on 10 June: the give-back lasts 30 days from 8 June
        (60, "2026-07-31"),  # the lot outlasts the floor: it keeps its own end
    ],
)
def test_points_given_back_keep_their_lot_expiry_but_never_less_than_30_days(
    tenant, valid_days, given_back_until
):
    rule_create(
        account=tenant.account, name="points", kind="points", value=Decimal("1"), valid_days=valid_days
    )
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # 100 points
    customer = wallet(tenant).customer
    reward = RewardFactory(account=tenant.account, points_cost=Decimal("80"), stock=5)
    with time_machine.travel(local("2026-06-05 12:00"), tick=False):
        voucher = reward_redeem(reward=reward, customer=customer)
    assert lots(tenant, "points") == [(Decimal("100.00"), Decimal("20.00"))]

    with time_machine.travel(local("2026-06-08 12:00"), tick=False):
        voucher_cancel(voucher=voucher)

    assert Voucher.objects.get(pk=voucher.pk).status == "cancelled"
    given_back = ExpiryLot.objects.get(account=tenant.account, given_back_from__isnull=False)
    assert given_back.amount == Decimal("80.00")
    assert (given_back.expires_at - timedelta(microseconds=1)).astimezone(SAO_PAULO).date().isoformat() == (
        given_back_until
    )
    assert wallet(tenant).points == Decimal("100.00")
    assert clean()


def test_a_cancelled_purchase_gives_back_its_redemption_into_lots(tenant):
    cashback(tenant, valid_days=9)
    sell(tenant, "2026-06-01 12:00", 100, "EARN")  # 10.00 through 10 June
    put(tenant, purchase(date="2026-06-05 12:00", consumer=CPF))
    redeem_body = {
        "date": "2026-06-05 12:00",
        "value": 10,
        "digital_change": 0,
        "coupon": "15",
        "pdv": "1",
        "type": "CF",
        "reference": "11",
    }
    with time_machine.travel(local("2026-06-05 12:00"), tick=False):
        assert (
            tenant.pos.post(f"{POS}/consumers/{CPF}/balance/redeem", redeem_body, format="json").status_code
            == 201
        )
        assert (
            cancel(tenant, {"date": "2026-06-05", "type": "CF", "pdv": "1", "coupon": "15"}).status_code
            == 200
        )

    given_back = ExpiryLot.objects.get(account=tenant.account, given_back_from__isnull=False)
    assert given_back.remaining == Decimal("10.00")
    assert (given_back.expires_at - timedelta(microseconds=1)).astimezone(
        SAO_PAULO
    ).date().isoformat() == "2026-07-05"
    process("2026-06-11 00:00")
    assert wallet(tenant).balance >= Decimal("10.00")  # the give-back outlived the original lot
    assert clean()


def test_a_staff_debit_spends_lots_like_a_redemption(tenant, make_staff):
    cashback(tenant, valid_days=30)
    sell(tenant, "2026-06-01 12:00", 100, "R1")
    staff = make_staff(tenant.account)

    with time_machine.travel(local("2026-06-05 12:00"), tick=False):
        wallet_adjust(
            customer=wallet(tenant).customer,
            bucket="balance",
            amount=Decimal("-4"),
            reason="Erro",
            staff_user=staff,
        )

    assert lots(tenant) == [(Decimal("10.00"), Decimal("6.00"))]
    assert clean()


# --- inactivity ---------------------------------------------------------------------------


@pytest.fixture
def inactivity_30(tenant):
    tenant.account.expiry_inactivity_days = 30
    tenant.account.save(update_fields=["expiry_inactivity_days"])
    return tenant


def test_inactivity_expires_everything_and_each_purchase_pushes_it_back(inactivity_30):
    tenant = inactivity_30
    cashback(tenant)
    rule_create(account=tenant.account, name="points", kind="points", value=Decimal("1"))
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # deadline: end of 1 July
    with time_machine.travel(local("2026-06-02 12:00"), tick=False):
        wallet_credit(
            customer=wallet(tenant).customer, kind="adjustment", amounts={"balance": Decimal("5")}, reason="x"
        )
    sell(tenant, "2026-06-20 12:00", 50, "R2")  # pushed back to the end of 20 July
    sell(tenant, "2026-06-10 12:00", 10, "LATE")  # sent late: never brings it forward

    process("2026-07-02 00:00")
    assert wallet(tenant).balance == Decimal("21.00")
    assert pos_wallet(tenant, "2026-07-10 12:00")["next_expiry"] == {
        "date": "2026-07-20",
        "points": 160,
        "balance": 21,
    }
    process("2026-07-20 23:59:59")
    assert wallet(tenant).balance == Decimal("21.00")

    process("2026-07-21 00:00")

    current = wallet(tenant)
    assert (current.points, current.balance, current.inactivity_expires_at) == (0, 0, None)
    assert expiries(tenant) == [(Decimal("-160.00"), 0), (0, Decimal("-21.00"))]
    assert clean()


def test_the_inactivity_setting_applies_to_purchases_after_it(tenant):
    cashback(tenant)
    sell(tenant, "2026-06-01 12:00", 100, "BEFORE")
    assert wallet(tenant).inactivity_expires_at is None

    tenant.account.expiry_inactivity_days = 60
    tenant.account.save(update_fields=["expiry_inactivity_days"])
    sell(tenant, "2026-06-02 12:00", 100, "AFTER")

    deadline = wallet(tenant).inactivity_expires_at
    assert deadline == datetime(2026, 8, 2, 3, 0, tzinfo=UTC)  # end of 1 August, local
    assert ExpiryLot.objects.filter(account=tenant.account).count() == 1  # only the later grant


def test_turning_inactivity_off_lifts_the_deadline_at_the_next_purchase(inactivity_30):
    tenant = inactivity_30
    cashback(tenant)
    sell(tenant, "2026-06-01 12:00", 100, "R1")
    tenant.account.expiry_inactivity_days = None
    tenant.account.save(update_fields=["expiry_inactivity_days"])

    sell(tenant, "2026-06-02 12:00", 100, "R2")
    process("2026-12-01 00:00")

    assert wallet(tenant).inactivity_expires_at is None
    assert wallet(tenant).balance == Decimal("20.00")


def test_v2_wallet_answers_next_expiry(tenant):
    cashback(tenant, valid_days=10)
    customer_id = sell(tenant, "2026-06-01 12:00", 100, "R1")["sale"]["customer_id"]

    with time_machine.travel(local("2026-06-05 12:00"), tick=False):
        body = tenant.v2.get(f"{V2}/customers/{customer_id}/wallet").json()

    assert body["next_expiry"] == {"date": "2026-06-11", "points": 0, "balance": 10}
    assert body["balance"] == 10


# --- what a cancel, a late job or a changed setting must not do ----------------------------


def test_cancelling_a_sale_after_its_cashback_expired_takes_nothing_twice(tenant):
    cashback(tenant, valid_days=5)
    sale_id = sell(tenant, "2026-06-01 12:00", 100, "OLD")["sale"]["id"]  # 10.00 through 6 June
    process("2026-06-07 00:00")
    sell(tenant, "2026-06-10 12:00", 100, "NEW")  # 10.00 through 15 June

    with time_machine.travel(local("2026-06-11 12:00"), tick=False):
        assert tenant.v2.post(f"{V2}/sales/{sale_id}/cancel").status_code == 200

    # The 10.00 that expired is gone once; the other sale's lot is untouched.
    assert wallet(tenant).balance == Decimal("10.00")
    assert lots(tenant) == [(Decimal("10.00"), 0), (Decimal("10.00"), Decimal("10.00"))]
    assert clean()


def test_cancelling_a_sale_whose_lot_is_past_its_end_but_not_yet_expired_takes_nothing_twice(tenant):
    cashback(tenant, valid_days=5)
    sale_id = sell(tenant, "2026-06-01 12:00", 100, "OLD")["sale"]["id"]

    with time_machine.travel(local("2026-06-20 12:00"), tick=False):  # no job ran since the end
        assert tenant.v2.post(f"{V2}/sales/{sale_id}/cancel").status_code == 200

    assert wallet(tenant).balance == 0
    assert expiries(tenant) == [(0, Decimal("-10.00"))]
    assert clean()


def test_cancelling_a_grant_that_never_expires_leaves_the_other_sales_lots_alone(tenant):
    base = cashback(tenant, "10")
    sale_id = sell(tenant, "2026-06-01 12:00", 100, "BASE")["sale"]["id"]  # 10.00, never expires
    base.active = False
    base.save()
    cashback(tenant, "5", valid_days=10)
    sell(tenant, "2026-06-02 12:00", 100, "CAMPAIGN")  # 5.00 through 12 June

    with time_machine.travel(local("2026-06-03 12:00"), tick=False):
        assert tenant.v2.post(f"{V2}/sales/{sale_id}/cancel").status_code == 200

    current = wallet(tenant)
    assert (current.balance, current.lot_balance) == (Decimal("5.00"), Decimal("5.00"))
    process("2026-06-13 00:00")
    assert wallet(tenant).balance == 0  # the campaign's cashback still expires
    assert clean()


def test_what_is_past_its_end_cannot_be_spent_before_the_job_runs(tenant):
    cashback(tenant, valid_days=1)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # through 2 June

    body = {
        "date": "2026-06-03 10:00",
        "value": 10,
        "digital_change": 0,
        "coupon": "1",
        "pdv": "9",
        "type": "NF",
    }
    with time_machine.travel(local("2026-06-03 10:00"), tick=False):
        response = tenant.pos.post(f"{POS}/consumers/{CPF}/balance/redeem", body, format="json")

    assert response.status_code == 422
    assert response.json()["available"]["balance"] == 0


def test_a_purchase_after_a_passed_deadline_does_not_revive_what_it_took(inactivity_30):
    tenant = inactivity_30
    cashback(tenant)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # deadline: end of 1 July; no job runs

    sell(tenant, "2026-07-10 12:00", 50, "R2")

    assert wallet(tenant).balance == Decimal("5.00")  # only the new purchase's cashback
    assert expiries(tenant) == [(0, Decimal("-10.00"))]
    assert clean()


def test_turning_inactivity_off_stops_it_for_customers_who_do_not_buy_again(inactivity_30):
    tenant = inactivity_30
    cashback(tenant)
    sell(tenant, "2026-06-01 12:00", 100, "R1")
    tenant.account.expiry_inactivity_days = None
    tenant.account.save(update_fields=["expiry_inactivity_days"])

    assert pos_wallet(tenant, "2026-06-20 12:00")["next_expiry"] is None
    process("2026-08-01 00:00")

    assert wallet(tenant).balance == Decimal("10.00")
    assert expiries(tenant) == []


def test_a_cancelled_purchase_does_not_push_the_inactivity_deadline(inactivity_30):
    tenant = inactivity_30
    cashback(tenant)
    sell(tenant, "2026-06-01 12:00", 100, "R1")
    sale_id = sell(tenant, "2026-06-20 12:00", 1, "SMALL")["sale"]["id"]

    with time_machine.travel(local("2026-06-21 12:00"), tick=False):
        assert tenant.v2.post(f"{V2}/sales/{sale_id}/cancel").status_code == 200

    assert wallet(tenant).inactivity_expires_at == datetime(2026, 7, 2, 3, 0, tzinfo=UTC)  # end of 1 July
    process("2026-07-02 00:00")
    assert wallet(tenant).balance == 0


def test_a_grant_released_after_an_inactivity_wipe_expires_too(inactivity_30):
    tenant = inactivity_30
    cashback(tenant, pending_days=45)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # deadline end of 1 July; released 16 July
    process("2026-07-02 00:00")

    done = process("2026-07-16 13:00")

    assert (done.released, done.expired_wallets) == (1, 1)
    assert wallet(tenant).balance == 0
    assert clean()


def test_a_late_release_counts_its_validity_from_the_day_it_was_released(tenant):
    cashback(tenant, valid_days=3, pending_days=1)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # due 2 June; the job only runs on 10 June

    done = process("2026-06-10 12:00")

    assert (done.released, done.expired_wallets) == (1, 0)
    assert pos_wallet(tenant, "2026-06-10 12:00")["next_expiry"] == {
        "date": "2026-06-13",
        "points": 0,
        "balance": 10,
    }


def test_next_expiry_is_null_when_nothing_would_be_lost(inactivity_30):
    tenant = inactivity_30
    cashback(tenant)
    sale_id = sell(tenant, "2026-06-01 12:00", 100, "R1")["sale"]["id"]
    redeem(tenant, "2026-06-02 12:00", 10, "1")
    sell(tenant, "2026-06-03 12:00", 0.01, "TINY")  # earns nothing, pushes the deadline

    with time_machine.travel(local("2026-06-04 12:00"), tick=False):
        assert tenant.v2.post(f"{V2}/sales/{sale_id}/cancel").status_code == 200

    assert wallet(tenant).balance < 0
    assert pos_wallet(tenant, "2026-06-25 12:00")["next_expiry"] is None


def test_an_expired_voucher_cancelled_keeps_its_points_spent(tenant):
    rule_create(account=tenant.account, name="points", kind="points", value=Decimal("1"))
    sell(tenant, "2026-06-01 12:00", 100, "R1")
    reward = RewardFactory(account=tenant.account, points_cost=Decimal("80"), stock=5, voucher_valid_days=10)
    with time_machine.travel(local("2026-06-02 12:00"), tick=False):
        voucher = reward_redeem(reward=reward, customer=wallet(tenant).customer)

    with time_machine.travel(local("2026-08-01 12:00"), tick=False):
        voucher_cancel(voucher=voucher)

    assert wallet(tenant).points == Decimal("20.00")


def test_one_failing_wallet_does_not_stop_the_others(tenant, monkeypatch):
    from loyalty.engine import lifecycle

    cashback(tenant, valid_days=1)
    sell(tenant, "2026-06-01 12:00", 100, "R1")
    other = customer_create(account=tenant.account, name="Bia", document="52998224725")
    with time_machine.travel(local("2026-06-01 13:00"), tick=False):
        tenant.v2.post(
            f"{V2}/sales",
            {"cpf": "52998224725", "sale_amount": 50, "reference": "R2", "date": "2026-06-01 13:00"},
            format="json",
        )
    real = lifecycle.wallet_expire_due

    def failing_for_the_first(*, wallet, **kwargs):
        if wallet.customer_id != other.pk:
            raise RuntimeError("broken wallet")
        return real(wallet=wallet, **kwargs)

    monkeypatch.setattr(lifecycle, "wallet_expire_due", failing_for_the_first)

    assert process("2026-06-03 00:00").expired_wallets == 1
    assert Wallet.objects.get(customer=other).balance == 0
