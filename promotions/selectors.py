"""Reads of the promotions app."""

from collections.abc import Iterable

from django.db.models import Count

from promotions.models import PromotionUse


def promotion_use_counts(*, customer_id: int | None, promotion_ids: Iterable[int]) -> dict[int, int]:
    """How many unreleased uses the customer has of each promotion (absent means none)."""
    ids = list(promotion_ids)
    if customer_id is None or not ids:
        return {}
    rows = (
        PromotionUse.objects.filter(customer_id=customer_id, promotion_id__in=ids, released=False)
        .values("promotion_id")
        .annotate(uses=Count("id"))
    )
    return {row["promotion_id"]: row["uses"] for row in rows}
