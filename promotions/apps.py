"""App configuration of promotions."""

from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "promotions"
