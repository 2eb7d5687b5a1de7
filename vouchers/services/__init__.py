"""Writes of the vouchers app: vouchers (`vouchers.py`), the rewards catalogue and its stock
(`rewards.py`), and balance redemption at the till (`redemptions.py`)."""

from vouchers.services.redemptions import (
    RedeemLimitExceeded,
    RedemptionConflict,
    RedemptionOutcome,
    balance_redeem,
    redemptions_give_back,
)
from vouchers.services.rewards import (
    reward_create,
    reward_lock,
    reward_redeem,
    reward_stock_set,
    reward_take_one,
)
from vouchers.services.vouchers import (
    DEFAULT_VALID_DAYS,
    new_voucher_code,
    voucher_cancel,
    voucher_issue,
    voucher_issued_event,
    voucher_lock,
    voucher_use,
    vouchers_cancel_for_sale,
)

__all__ = [
    "DEFAULT_VALID_DAYS",
    "RedeemLimitExceeded",
    "RedemptionConflict",
    "RedemptionOutcome",
    "balance_redeem",
    "new_voucher_code",
    "redemptions_give_back",
    "reward_create",
    "reward_lock",
    "reward_redeem",
    "reward_stock_set",
    "reward_take_one",
    "voucher_cancel",
    "voucher_issue",
    "voucher_issued_event",
    "voucher_lock",
    "voucher_use",
    "vouchers_cancel_for_sale",
]
