"""App configuration of the engine core."""

from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = "Loyalty program"

    def ready(self) -> None:
        # The OpenAPI description of the two authentication schemes, and the engine's
        # receivers of the sales signals.
        from loyalty import receivers  # noqa: F401
        from loyalty.api import schema  # noqa: F401
