"""Admin of the engine core: accounts, stores, credentials, memberships, rules and messages."""

from loyalty.admin.engine import MessageAdmin, MessageTemplateAdmin, RewardRuleAdmin
from loyalty.admin.tenancy import AccountAdmin, ApiCredentialAdmin, MembershipAdmin, StoreAdmin

__all__ = [
    "AccountAdmin",
    "ApiCredentialAdmin",
    "MembershipAdmin",
    "MessageAdmin",
    "MessageTemplateAdmin",
    "RewardRuleAdmin",
    "StoreAdmin",
]
