"""Admin of the engine core: accounts, stores, API credentials and memberships."""

from loyalty.admin.tenancy import AccountAdmin, ApiCredentialAdmin, MembershipAdmin, StoreAdmin

__all__ = ["AccountAdmin", "ApiCredentialAdmin", "MembershipAdmin", "StoreAdmin"]
