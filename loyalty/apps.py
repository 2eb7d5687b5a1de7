"""App configuration of the engine core."""

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class LoyaltyConfig(AppConfig):
    default = True
    name = "loyalty"
    verbose_name = "Loyalty program"

    def ready(self) -> None:
        # The OpenAPI description of the two authentication schemes, and the engine's
        # receivers of the sales signals.
        from customers.selectors import EXPORT_SECTIONS
        from customers.services.customers import ANONYMIZERS
        from loyalty import receivers  # noqa: F401
        from loyalty.api import schema  # noqa: F401
        from loyalty.services.messaging import messages_erase_for_customer, messages_export_for_customer

        # The messages sent to a customer are part of their data (LGPD export and erasure).
        EXPORT_SECTIONS["messages"] = messages_export_for_customer
        if messages_erase_for_customer not in ANONYMIZERS:
            ANONYMIZERS.append(messages_erase_for_customer)


class LoyaltyAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the merchants' dashboard as its index."""

    default = False
    default_site = "loyalty.admin_site.LoyaltyAdminSite"
