"""Writes of the promotions app."""

from collections.abc import Iterable

from django.db.models import Count, Q
from django.utils import timezone

from promotions.models import Promotion, PromotionUse


def promotion_uses_record(*, sale, customer, promotion_ids: Iterable[int]) -> list[Promotion]:
    """Record one use of each promotion by the sale's consumer.

    A sale that happened is never refused: when the consumer had already reached a
    promotion's `limit` (another till got there first), the use is still recorded and the
    promotion is returned, so the caller can warn. Its one write (a bulk insert) is
    atomic by itself; it runs inside the recording's transaction.
    """
    ids = sorted(set(promotion_ids))
    if not ids:
        return []
    promotions = list(
        Promotion.objects.filter(pk__in=ids, account_id=sale.account_id).annotate(
            live_uses=Count("uses", filter=Q(uses__customer=customer, uses__released=False))
        )
    )
    PromotionUse.objects.bulk_create(
        [PromotionUse(promotion=promotion, customer=customer, sale=sale) for promotion in promotions]
    )
    return [
        promotion for promotion in promotions if promotion.limit and promotion.live_uses >= promotion.limit
    ]


def promotion_uses_release(*, sale) -> int:
    """Release the promotion uses of a cancelled sale; they no longer count toward limits.

    One UPDATE statement: atomic by itself.
    """
    return PromotionUse.objects.filter(sale=sale, released=False).update(
        released=True, released_at=timezone.now()
    )
