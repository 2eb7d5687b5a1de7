"""A ready-to-integrate merchant: the tenancy records and, where asked, a starter program.

It composes tenancy (below the apps) with the engine's rules (above them), so it lives in
the project shell; `create_merchant`, the demo data and the benchmark use it.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from loyalty.engine.program import rule_create
from loyalty.tenancy.models import Account, ApiCredential, Store
from loyalty.tenancy.services import account_create, credential_create, store_create


@dataclass(frozen=True)
class MerchantCreated:
    account: Account
    store: Store
    store_token: str
    credential: ApiCredential
    api_secret: str


@transaction.atomic(savepoint=False)
def merchant_create(
    *,
    name: str,
    store_name: str = "Main store",
    time_zone: str | None = None,
    cashback_percent: Decimal | None = None,
    points_per_currency: Decimal | None = None,
) -> MerchantCreated:
    """A ready-to-integrate merchant: account, one store, one API credential and, where
    given, a cashback rule and a points rule."""
    account = account_create(name=name, time_zone=time_zone)
    store, store_token = store_create(account=account, name=store_name)
    credential, api_secret = credential_create(account=account, name="Default")
    if cashback_percent:
        rule_create(
            account=account, name=f"{cashback_percent}% cashback", kind="cashback", value=cashback_percent
        )
    if points_per_currency:
        rule_create(
            account=account,
            name=f"{points_per_currency} point(s) per R$ 1",
            kind="points",
            value=points_per_currency,
        )
    return MerchantCreated(
        account=account, store=store, store_token=store_token, credential=credential, api_secret=api_secret
    )
