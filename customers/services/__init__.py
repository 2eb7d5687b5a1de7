"""Writes of the customers app: customers (`customers.py`), their marketing consent
(`consent.py`), wallets (`wallets.py`), what a wallet movement is made of (`postings.py`) and
the expiry lots it moves (`lots.py`)."""

from customers.services.consent import consent_set, consents_set
from customers.services.customers import (
    DuplicateContact,
    UnknownCustomer,
    customer_anonymize,
    customer_create,
    customer_get_or_create_by_document,
    customer_update,
    customer_wallet_find_locked,
    customer_wallet_lock,
)
from customers.services.lots import GIVE_BACK_MIN_DAYS, LOT_BUCKETS, lot_end
from customers.services.postings import LotTerms, Posting
from customers.services.wallets import (
    InsufficientFunds,
    entries_reversal,
    postings_total,
    wallet_adjust,
    wallet_check_funds,
    wallet_credit,
    wallet_debit,
    wallet_expire_due,
    wallet_lock,
    wallet_post,
    wallet_post_entries,
)

__all__ = [
    "GIVE_BACK_MIN_DAYS",
    "LOT_BUCKETS",
    "DuplicateContact",
    "InsufficientFunds",
    "LotTerms",
    "Posting",
    "UnknownCustomer",
    "consent_set",
    "consents_set",
    "customer_anonymize",
    "customer_create",
    "customer_get_or_create_by_document",
    "customer_update",
    "customer_wallet_find_locked",
    "customer_wallet_lock",
    "entries_reversal",
    "lot_end",
    "postings_total",
    "wallet_adjust",
    "wallet_check_funds",
    "wallet_credit",
    "wallet_debit",
    "wallet_expire_due",
    "wallet_lock",
    "wallet_post",
    "wallet_post_entries",
]
