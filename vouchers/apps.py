"""App configuration of vouchers."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VouchersConfig(AppConfig):
    name = "vouchers"
    verbose_name = _("Vouchers")

    def ready(self) -> None:
        # Cancelling a purchase gives back the balance redeemed for it.
        from vouchers import receivers  # noqa: F401
