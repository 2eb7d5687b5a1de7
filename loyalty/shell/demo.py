"""Demo data for `make run`: an admin, a demo merchant ready to integrate, and each app's data.

Idempotent: running it again finds what exists and resets the demo credentials to their
well-known values, so the values printed by `make run` always work. Each app adds its
demo data through its own `demo.seed(account=..., store=...)`, called in turn.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction

from customers import demo as customers_demo
from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_create
from loyalty.outbox.models import Channel, Event, MessageTemplate
from loyalty.outbox.services import message_template_create
from loyalty.tenancy import credentials
from loyalty.tenancy.models import Account, ApiCredential, Membership, Store
from loyalty.tenancy.services import (
    account_create,
    credential_create,
    credential_regenerate_secret,
    credential_set_active,
    store_create,
    store_set_active,
)
from promotions import demo as promotions_demo
from sales import demo as sales_demo
from vouchers import demo as vouchers_demo

DEMO_ACCOUNT_NAME = "Mercado Demo"
DEMO_STORE_NAME = "Loja Centro"
DEMO_API_KEY = "demo-api-key"
DEMO_API_SECRET = "demo-api-secret"
DEMO_STORE_TOKEN = "demo-store-token"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"
STAFF_USERNAME = "demo-staff"
STAFF_PASSWORD = "demo-staff"


DEMO_RULES = (
    {"name": "5% cashback", "kind": "cashback", "value": Decimal("5")},
    {"name": "1 point per R$ 1", "kind": "points", "value": Decimal("1")},
    {"name": "Double points on Saturdays", "kind": "points", "value": Decimal("1"), "weekdays": [5]},
    # Spendable for 15 days: the demo purchases of the last days show `next_expiry`.
    {"name": "2% bonus cashback, valid 15 days", "kind": "cashback", "value": Decimal("2"), "valid_days": 15},
    {
        "name": "R$ 20 voucher from R$ 200",
        "kind": "voucher",
        "value": Decimal("20"),
        "threshold": Decimal("200"),
        "valid_days": 30,
    },
)
DEMO_TEMPLATES = (
    {
        "name": "Cashback by e-mail",
        "event": Event.SALE_REWARDED,
        "channel": Channel.EMAIL,
        "subject": "Você ganhou R$ {cashback} de cashback",
        "body": "Olá {name}! Sua compra de R$ {amount} na {store} rendeu R$ {cashback}. Saldo: R$ {balance}.",
    },
    {
        "name": "Cashback by WhatsApp",
        "event": Event.SALE_REWARDED,
        "channel": Channel.WHATSAPP,
        "body": "{name}, você ganhou R$ {cashback} de cashback na {store}. Saldo: R$ {balance}.",
    },
    {
        "name": "Voucher by e-mail",
        "event": Event.VOUCHER_ISSUED,
        "channel": Channel.EMAIL,
        "subject": "Seu vale de R$ {voucher_value}",
        "body": "Use o código {voucher_code} até {voucher_valid_until}.",
    },
)


@dataclass(frozen=True)
class DemoCredentials:
    account: Account
    store: Store
    credential: ApiCredential
    api_key: str
    api_secret: str
    store_token: str
    admin_username: str
    admin_password: str
    staff_username: str
    staff_password: str


def _user(username: str, password: str, *, superuser: bool):
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    if user is None:
        if superuser:
            user = user_model.objects.create_superuser(username=username, password=password, email="")
        else:
            user = user_model.objects.create_user(username=username, password=password, is_staff=True)
    else:
        user.set_password(password)
        user.is_staff = True
        user.is_superuser = superuser
        user.save()
    return user


def _staff_permissions(user) -> None:
    """Give the demo staff user every permission of the product's apps (scoping limits the data)."""
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["loyalty", "customers", "promotions", "sales", "vouchers"]
        ).exclude(content_type__model="membership")
    )


def _seed_program(account: Account) -> None:
    for rule in DEMO_RULES:
        if not RewardRule.objects.filter(account=account, name=rule["name"]).exists():
            rule_create(account=account, **rule)
    for template in DEMO_TEMPLATES:
        if not MessageTemplate.objects.filter(account=account, name=template["name"]).exists():
            message_template_create(account=account, **template)


@transaction.atomic(savepoint=False)
def seed_demo() -> DemoCredentials:
    account = Account.objects.filter(name=DEMO_ACCOUNT_NAME).first() or account_create(name=DEMO_ACCOUNT_NAME)

    store = Store.objects.filter(account=account, name=DEMO_STORE_NAME).first()
    if store is None:
        store, _ = store_create(account=account, name=DEMO_STORE_NAME, token=DEMO_STORE_TOKEN)
    else:
        Store.objects.filter(pk=store.pk).update(
            token_digest=credentials.token_digest(DEMO_STORE_TOKEN),
            token_prefix=credentials.display_prefix(DEMO_STORE_TOKEN),
        )
        store = store_set_active(store=store, active=True)

    credential = ApiCredential.objects.filter(api_key=DEMO_API_KEY).first()
    if credential is None:
        credential, _ = credential_create(
            account=account, name="Demo integration", api_key=DEMO_API_KEY, api_secret=DEMO_API_SECRET
        )
    else:
        credential_regenerate_secret(credential=credential, api_secret=DEMO_API_SECRET)
        credential = credential_set_active(credential=credential, active=True)

    _user(ADMIN_USERNAME, ADMIN_PASSWORD, superuser=True)
    staff = _user(STAFF_USERNAME, STAFF_PASSWORD, superuser=False)
    _staff_permissions(staff)
    Membership.objects.get_or_create(user=staff, account=account, defaults={"role": Membership.Role.MANAGER})

    _seed_program(account)
    customers_demo.seed(account=account, store=store)
    promotions_demo.seed(account=account, store=store)
    sales_demo.seed(account=account, store=store)
    vouchers_demo.seed(account=account, store=store)

    return DemoCredentials(
        account=account,
        store=store,
        credential=credential,
        api_key=DEMO_API_KEY,
        api_secret=DEMO_API_SECRET,
        store_token=DEMO_STORE_TOKEN,
        admin_username=ADMIN_USERNAME,
        admin_password=ADMIN_PASSWORD,
        staff_username=STAFF_USERNAME,
        staff_password=STAFF_PASSWORD,
    )
