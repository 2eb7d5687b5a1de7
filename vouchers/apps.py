"""App configuration of vouchers."""

from django.apps import AppConfig


class VouchersConfig(AppConfig):
    name = "vouchers"

    def ready(self) -> None:
        # Cancelling a purchase gives back the balance redeemed for it.
        from vouchers import receivers  # noqa: F401
