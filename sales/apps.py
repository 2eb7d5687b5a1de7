"""App configuration of sales."""

from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"
