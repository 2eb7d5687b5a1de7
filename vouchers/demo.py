"""Demo rewards with stock and a voucher, for `seed_demo`."""

from decimal import Decimal

from customers.models import Customer
from vouchers.models import Reward, Voucher
from vouchers.services import reward_create, reward_redeem

DEMO_REWARDS = (
    {"name": "Vale compras R$ 20", "points_cost": Decimal("100"), "value": Decimal("20"), "stock": 50},
    {"name": "Caneca Mercado Demo", "points_cost": Decimal("300"), "value": Decimal("35"), "stock": 10},
)


def seed(*, account, store) -> None:
    for data in DEMO_REWARDS:
        if not Reward.objects.filter(account=account, name=data["name"]).exists():
            reward_create(account=account, **data)
    maria = Customer.objects.filter(account=account, document="53933515009").first()
    if maria is not None and not Voucher.objects.filter(customer=maria, reward__isnull=False).exists():
        reward_redeem(
            reward=Reward.objects.get(account=account, name=DEMO_REWARDS[0]["name"]), customer=maria
        )
