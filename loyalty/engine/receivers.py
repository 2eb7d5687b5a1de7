"""The engine listens to the sales app: the rules on every recorded sale, their reversal on a
cancel, and what a return takes back. Each receiver writes its own rows and returns what it did."""

from django.dispatch import receiver

from loyalty.engine.returns import rewards_take_back
from loyalty.engine.services import rewards_grant, rewards_reverse
from sales.outcomes import CancelledSale, RecordedSale, ReturnedSale, Reversal, SaleRewards, TakenBack
from sales.signals import sale_cancelled, sale_recorded, sale_returned


@receiver(sale_recorded, dispatch_uid="loyalty.rewards_grant")
def grant_rewards(sender: object, recorded: RecordedSale, **kwargs: object) -> SaleRewards:
    return rewards_grant(recorded=recorded)


@receiver(sale_cancelled, dispatch_uid="loyalty.rewards_reverse")
def reverse_rewards(sender: object, cancelled: CancelledSale, **kwargs: object) -> Reversal:
    return rewards_reverse(cancelled=cancelled)


@receiver(sale_returned, dispatch_uid="loyalty.rewards_take_back")
def take_back_rewards(sender: object, returned: ReturnedSale, **kwargs: object) -> TakenBack:
    return rewards_take_back(returned=returned)
