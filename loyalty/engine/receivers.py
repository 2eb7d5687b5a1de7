"""The engine listens to the sales app: rules on every recorded sale, reversal on cancel."""

from django.dispatch import receiver

from loyalty.engine.services import rewards_grant, rewards_reverse
from sales.signals import sale_cancelled, sale_recorded


@receiver(sale_recorded, dispatch_uid="loyalty.rewards_grant")
def grant_rewards(sender, recording, **kwargs):
    rewards_grant(recording=recording)


@receiver(sale_cancelled, dispatch_uid="loyalty.rewards_reverse")
def reverse_rewards(sender, cancellation, **kwargs):
    rewards_reverse(cancellation=cancellation)
