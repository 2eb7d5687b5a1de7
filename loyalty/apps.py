"""App configuration of the engine core."""

from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = "Loyalty program"

    def ready(self) -> None:
        # Registers the OpenAPI description of the two authentication schemes.
        from loyalty.api import schema  # noqa: F401
