"""App configuration of vouchers."""

from django.apps import AppConfig


class VouchersConfig(AppConfig):
    name = "vouchers"
