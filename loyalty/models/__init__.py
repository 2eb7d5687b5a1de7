"""Models of the engine core: tenancy (accounts, stores, credentials, staff)."""

from loyalty.models.tenancy import Account, ApiCredential, Membership, Store

__all__ = ["Account", "ApiCredential", "Membership", "Store"]
