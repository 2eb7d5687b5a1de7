"""Merchant accounts, their stores, API credentials and staff memberships: the tenant every
row belongs to."""
