"""App configuration of sales."""

from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "sales"

    def ready(self) -> None:
        # A customer's LGPD export includes their sales.
        from customers.selectors import EXPORT_SECTIONS
        from sales.selectors import customer_sales_export

        EXPORT_SECTIONS["sales"] = customer_sales_export
