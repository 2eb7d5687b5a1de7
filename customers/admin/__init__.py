"""Customers, their marketing consent and wallets in the admin; importing it registers them."""

from customers.admin.customers import CustomerAdmin
from customers.admin.records import ConsentChangeAdmin, LedgerEntryAdmin

__all__ = ["ConsentChangeAdmin", "CustomerAdmin", "LedgerEntryAdmin"]
