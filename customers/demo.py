"""Demo customers with some wallet history, for `seed_demo`."""

from decimal import Decimal

from customers.models import Customer, LedgerEntry
from customers.services import customer_create, wallet_credit

DEMO_CUSTOMERS = (
    {
        "name": "Maria Souza",
        "document": "53933515009",
        "phone": "(11) 98765-4321",
        "email": "maria@example.com",
    },
    {"name": "João Lima", "document": "11144477735", "phone": "(21) 99876-5432", "email": "joao@example.com"},
    {"name": "Ana Costa", "phone": "(31) 98888-7777", "email": "ana@example.com"},
)


def seed(*, account, store) -> None:
    for data in DEMO_CUSTOMERS:
        key = {"document": data["document"]} if "document" in data else {"email": data["email"]}
        if Customer.objects.filter(account=account, **key).exists():
            continue
        customer = customer_create(account=account, **data)
        wallet_credit(
            customer=customer,
            kind=LedgerEntry.Kind.ADJUSTMENT,
            amounts={"points": Decimal("500.00"), "balance": Decimal("30.00")},
            reason="Welcome bonus",
            store=store,
        )
