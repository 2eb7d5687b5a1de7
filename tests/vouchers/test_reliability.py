"""Redemptions are all or nothing: a failure at any step leaves no partial rows.

A balance redemption (the redemption row, the ledger rows, the wallet, the message) and a
reward redemption (the voucher, the stock and its history, the points, the message) fail
at named steps and then with the database failing at each of their statements in turn;
every time the database is left exactly as it was and `check_wallets` is clean.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import OperationalError

from loyalty.outbox.services import message_template_create
from tests.builders import POS, V2
from tests.faults import statements_of, with_fault_at
from tests.snapshots import database_rows
from tests.vouchers.test_balance_redeem import SEED_REDEEM

pytestmark = pytest.mark.django_db


def broken(*args, **kwargs):
    raise RuntimeError("injected failure")


@pytest.fixture
def templates(tenant):
    for event in ("balance_redeemed", "voucher_issued"):
        message_template_create(
            account=tenant.account, name=event, event=event, channel="email", body="{name}"
        )


@pytest.fixture
def redeem_balance(tenant, maria, templates):
    return lambda: tenant.pos.post(
        f"{POS}/consumers/{maria.document}/balance/redeem", SEED_REDEEM, format="json"
    )


@pytest.fixture
def redeem_reward(tenant, maria, reward, templates):
    return lambda: tenant.v2.post(f"{V2}/coupons/{reward.pk}/redeem", {"cpf": maria.document}, format="json")


def assert_left_nothing(response, before, status=500):
    assert response.status_code == status, response.content
    assert database_rows() == before
    call_command("check_wallets", stdout=StringIO())  # exits non-zero on any mismatch


BALANCE_STEPS = {
    "after the redemption row is saved": "vouchers.services.redemptions.RedeemLimits.of",
    "writing the ledger rows": "customers.services.wallets.LedgerEntry.objects.bulk_create",
    "while queueing the message": "vouchers.services.redemptions.messages_queue_event",
}
REWARD_STEPS = {
    "issuing the voucher": "vouchers.services.rewards.voucher_issue",
    "after the voucher, moving the stock": "vouchers.services.rewards._move_stock",
    "debiting the points": "vouchers.services.rewards.wallet_post",
    "while queueing the message": "vouchers.services.rewards.messages_queue_event",
}


@pytest.mark.parametrize("step", list(BALANCE_STEPS))
def test_a_failure_at_a_step_of_a_balance_redemption_leaves_nothing(redeem_balance, monkeypatch, step):
    monkeypatch.setattr(BALANCE_STEPS[step], broken)
    before = database_rows()

    assert_left_nothing(redeem_balance(), before)


@pytest.mark.parametrize("step", list(REWARD_STEPS))
def test_a_failure_at_a_step_of_a_reward_redemption_leaves_nothing(redeem_reward, monkeypatch, step):
    monkeypatch.setattr(REWARD_STEPS[step], broken)
    before = database_rows()

    assert_left_nothing(redeem_reward(), before)


@pytest.mark.parametrize("redemption", ["redeem_balance", "redeem_reward"])
def test_the_database_failing_at_any_statement_of_a_redemption_leaves_nothing(request, redemption):
    send = request.getfixturevalue(redemption)
    statements = statements_of(send)
    before = database_rows()

    for at in range(1, statements + 1):
        assert_left_nothing(with_fault_at(at, OperationalError("injected failure"), send), before, status=503)

    assert statements > 8  # the cold configuration reads, the redemption, its ledger and messages
    assert send().status_code == 201
