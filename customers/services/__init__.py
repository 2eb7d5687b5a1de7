"""Writes of the customers app: customers (`customers.py`) and wallets (`wallets.py`)."""

from customers.services.customers import (
    DuplicateContact,
    customer_anonymize,
    customer_create,
    customer_get_or_create_by_document,
    customer_update,
)
from customers.services.wallets import (
    InsufficientFunds,
    Posting,
    entries_reversal,
    wallet_adjust,
    wallet_check_funds,
    wallet_credit,
    wallet_debit,
    wallet_lock,
    wallet_post,
    wallet_projection,
)

__all__ = [
    "DuplicateContact",
    "InsufficientFunds",
    "Posting",
    "customer_anonymize",
    "customer_create",
    "customer_get_or_create_by_document",
    "customer_update",
    "entries_reversal",
    "wallet_adjust",
    "wallet_check_funds",
    "wallet_credit",
    "wallet_debit",
    "wallet_lock",
    "wallet_post",
    "wallet_projection",
]
