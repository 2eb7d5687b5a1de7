"""The project's admin: accounts, stores, credentials, memberships, rules, messages and webhooks,
and the customers' LGPD actions."""

from loyalty.admin.engine import MessageAdmin, MessageTemplateAdmin, RewardRuleAdmin
from loyalty.admin.privacy import CustomerWithPrivacyAdmin
from loyalty.admin.tenancy import AccountAdmin, ApiCredentialAdmin, MembershipAdmin, StoreAdmin
from loyalty.admin.webhooks import WebhookDeliveryAdmin, WebhookEndpointAdmin

__all__ = [
    "AccountAdmin",
    "ApiCredentialAdmin",
    "CustomerWithPrivacyAdmin",
    "MembershipAdmin",
    "MessageAdmin",
    "MessageTemplateAdmin",
    "RewardRuleAdmin",
    "StoreAdmin",
    "WebhookDeliveryAdmin",
    "WebhookEndpointAdmin",
]
