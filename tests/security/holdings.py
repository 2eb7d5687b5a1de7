"""Two merchants holding one object of every kind, made through the services.

Account A ("Alfa") and account B ("Beta") hold the same kinds of objects under different
names, documents, barcodes and codes, so that an answer to B that shows any of A's values
is a leak.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.utils import timezone

from customers.models import Customer
from customers.services import consent_set, customer_create, wallet_credit
from loyalty.backoffice.scoping import account_lookup
from loyalty.core.receipts import Receipt
from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_create
from loyalty.engine.simulation.drafts import simulation_spec
from loyalty.engine.simulation.models import Simulation
from loyalty.engine.simulation.runs import simulation_run, simulation_start
from loyalty.engine.simulation.services import Window
from loyalty.outbox.models import Message, MessageTemplate
from loyalty.outbox.services import message_template_create
from loyalty.outbox.webhooks.models import WebhookEndpoint, WebhookEventType
from loyalty.outbox.webhooks.services import webhook_endpoint_create
from loyalty.tenancy.models import Account
from promotions.models import Category, Product, Promotion
from promotions.services import category_create
from sales.models import Sale
from sales.outcomes import ItemData, PaymentData, SaleInput
from sales.services import sale_record
from tests.builders import Tenant
from tests.factories import ProductFactory, PromotionFactory, RewardFactory
from vouchers.models import BalanceRedemption, Reward, Voucher
from vouchers.services import balance_redeem, reward_redeem


@dataclass
class Holdings:
    """One account's objects, one of each kind, and the values that name them."""

    tenant: Tenant
    label: str
    customer: Customer
    category: Category
    product: Product
    promotion: Promotion
    reward: Reward
    voucher: Voucher
    purchase: Sale  # recorded by a till (POS)
    sale: Sale  # recorded by the ERP (v2)
    redemption: BalanceRedemption
    rule: RewardRule
    template: MessageTemplate
    webhook: WebhookEndpoint  # subscribed to every event: what the account does is in its log
    simulation: Simulation  # the rules replayed over its sales, done

    @property
    def account(self) -> Account:
        return self.tenant.account

    @property
    def document(self) -> str:
        return self.customer.document

    @property
    def markers(self) -> set[str]:
        """Values only this account's objects carry."""
        return {
            self.customer.document,
            self.customer.phone,
            self.customer.email,
            self.product.barcode,
            self.voucher.code,
            self.purchase.reference,
            self.sale.reference,
            self.webhook.url,
        }

    def first_object_of(self, model) -> object:
        """An object of this account of any model of the product apps."""
        lookup = account_lookup(model)
        value = self.account.pk if lookup == "pk" else self.account
        return model._default_manager.filter(**{lookup: value}).order_by("pk").first()


def hold(tenant: Tenant, *, label: str, document: str, phone: str, barcode: str) -> Holdings:
    account, store = tenant.account, tenant.store
    rule = rule_create(account=account, name=f"{label} cashback", kind="cashback", value=Decimal("5"))
    rule_create(account=account, name=f"{label} points", kind="points", value=Decimal("1"))
    template = message_template_create(
        account=account, name=f"{label} thanks", event="sale_rewarded", channel="email", body="{name}"
    )
    webhook = webhook_endpoint_create(
        account=account, url=f"https://{label.lower()}.example/hooks", events=WebhookEventType.values
    ).endpoint
    customer = customer_create(
        account=account,
        name=f"{label} Cliente",
        document=document,
        phone=phone,
        email=f"{label.lower()}@example.com",
    )
    wallet_credit(
        customer=customer,
        kind="adjustment",
        amounts={"points": Decimal("500"), "balance": Decimal("100"), "digital_change": Decimal("10")},
        reason="Opening balance",
    )
    consent_set(customer=customer, channel="email", granted=True, source="pos", store=store)
    category = category_create(account=account, name=f"{label} Mercearia")
    product = ProductFactory(account=account, barcode=barcode, name=f"{label} Arroz", category=category.name)
    promotion = PromotionFactory(product=product, percent_off=Decimal("10"))
    reward = RewardFactory(account=account, name=f"{label} Vale", stock=10)
    voucher = reward_redeem(reward=reward, customer=customer)
    purchase = sale_record(
        account=account,
        sent=SaleInput(
            source=Sale.Source.POS,
            store=store,
            occurred_at=datetime(2024, 5, 24, 18, 10, tzinfo=UTC),
            document=document,
            type="CF",
            receipt=Receipt(reference=f"{label.upper()}-POS-1", pdv="1", coupon="15"),
            items=(
                ItemData(
                    total=Decimal("20"),
                    unit_value=Decimal("10"),
                    quantity=Decimal("2"),
                    barcode=barcode,
                    name=product.name,
                    promotion_id=str(promotion.pk),
                ),
            ),
            payments=(PaymentData(method=1, total=Decimal("20"), digital_change=Decimal("1")),),
        ),
    ).sale
    sale = sale_record(
        account=account,
        sent=SaleInput(
            source=Sale.Source.API,
            occurred_at=timezone.now(),
            customer_id=customer.pk,
            receipt=Receipt(reference=f"{label.upper()}-ERP-1"),
            declared_amount=Decimal("50"),
        ),
    ).sale
    redemption = balance_redeem(
        account=account,
        store=store,
        customer=customer,
        value=Decimal("1"),
        digital_change=Decimal("1"),
        occurred_at=datetime(2024, 5, 24, 18, 10, tzinfo=UTC),
        type="CF",
        reference=f"{label.upper()}-POS-1",
    ).redemption
    assert Message.objects.filter(account=account).exists()
    window = Window(date_from=date(2024, 5, 1), date_to=date(2024, 6, 30))
    simulation = simulation_run(
        simulation=simulation_start(account=account, spec=simulation_spec(window=window), requested_by=label)
    )
    return Holdings(
        tenant=tenant,
        label=label,
        customer=customer,
        category=category,
        product=product,
        promotion=promotion,
        reward=reward,
        voucher=voucher,
        purchase=purchase,
        sale=sale,
        redemption=redemption,
        rule=rule,
        template=template,
        webhook=webhook,
        simulation=simulation,
    )
