"""Reads of the sales app."""

from django.db.models import QuerySet

from loyalty.models import Account
from sales.models import Sale


def sale_queryset(*, account: Account) -> QuerySet[Sale]:
    """The account's sales with what their representation needs, newest first."""
    return (
        Sale.objects.filter(account=account)
        .select_related("customer")
        .prefetch_related("items", "payments", "vouchers_issued")
        .order_by("-occurred_at", "-id")
    )
