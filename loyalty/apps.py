"""App configuration of the project package (`loyalty`) and of the admin site."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class LoyaltyConfig(AppConfig):
    default = True
    name = "loyalty"
    verbose_name = _("Loyalty program")

    def ready(self) -> None:
        # The OpenAPI description of the two authentication schemes, and the engine's
        # receivers of the sales signals.
        from loyalty.api import schema  # noqa: F401
        from loyalty.engine import receivers  # noqa: F401

        _watch_account_configuration()


def _watch_account_configuration() -> None:
    """What each API request reads of its account and keeps in memory (`loyalty.tenancy.cache`):
    a save or delete of any of these rows renews the account's configuration version."""
    from loyalty.engine.models import RewardRule
    from loyalty.outbox.models import MessageTemplate
    from loyalty.outbox.webhooks.models import WebhookEndpoint
    from loyalty.tenancy.cache import watch, watch_links
    from loyalty.tenancy.models import Account, ApiCredential, Store
    from promotions.models import Category
    from vouchers.models import Reward

    watch(Account, account_of=lambda account: account.pk)
    for model in (ApiCredential, Store, RewardRule, Category, Reward, MessageTemplate, WebhookEndpoint):
        watch(model)
    # A rule's stores and categories, set from either side (a rule or a store / category).
    for links in (RewardRule.stores.through, RewardRule.categories.through):
        watch_links(links, account_of=lambda instance: instance.account_id)


class LoyaltyAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the merchants' dashboard as its index."""

    default = False
    default_site = "loyalty.shell.admin_site.LoyaltyAdminSite"
