"""Customers, their wallets and the wallet ledger."""
