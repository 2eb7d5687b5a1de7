"""The vouchers app listens to sale cancellations to give redeemed balance back."""

from django.dispatch import receiver

from sales.outcomes import CancelledSale, Reversal
from sales.signals import sale_cancelled
from vouchers.services import redemptions_give_back


@receiver(sale_cancelled, dispatch_uid="vouchers.redemptions_give_back")
def give_back_redemptions(sender: object, cancelled: CancelledSale, **kwargs: object) -> Reversal:
    return redemptions_give_back(cancelled=cancelled)
