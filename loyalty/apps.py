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


class LoyaltyAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the merchants' dashboard as its index."""

    default = False
    default_site = "loyalty.shell.admin_site.LoyaltyAdminSite"
