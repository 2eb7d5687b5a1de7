"""The project's admin: accounts, stores, credentials, memberships, rules and messages, and the
customers' LGPD actions."""

from loyalty.admin.engine import MessageAdmin, MessageTemplateAdmin, RewardRuleAdmin
from loyalty.admin.privacy import CustomerWithPrivacyAdmin
from loyalty.admin.tenancy import AccountAdmin, ApiCredentialAdmin, MembershipAdmin, StoreAdmin

__all__ = [
    "AccountAdmin",
    "ApiCredentialAdmin",
    "CustomerWithPrivacyAdmin",
    "MembershipAdmin",
    "MessageAdmin",
    "MessageTemplateAdmin",
    "RewardRuleAdmin",
    "StoreAdmin",
]
