"""Factories that build test data through the product's own services."""

from datetime import UTC, datetime
from decimal import Decimal

import factory
from django.utils import timezone

from customers.models import Customer
from customers.services import customer_create
from loyalty.core.receipts import Receipt
from loyalty.shell.merchants import MerchantCreated, merchant_create
from promotions.models import Product, Promotion, PromotionUse
from promotions.services import PromotionTerms, product_upsert, promotion_create
from sales.models import Sale
from sales.outcomes import ItemData, SaleInput
from sales.services import sale_cancel, sale_record
from vouchers.models import Reward
from vouchers.services import reward_create


class MerchantFactory(factory.Factory):
    """A merchant account with one store and one credential, as `create_merchant` makes it."""

    class Meta:
        model = MerchantCreated

    name = factory.Sequence(lambda n: f"Merchant {n}")
    store_name = "Main store"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return merchant_create(**kwargs)

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise NotImplementedError("Merchants only exist once created through the services.")


class CustomerFactory(factory.Factory):
    """A customer with an empty wallet, created through `customer_create`."""

    class Meta:
        model = Customer

    account = None
    name = factory.Sequence(lambda n: f"Customer {n}")
    document = None
    phone = None
    email = factory.Sequence(lambda n: f"customer{n}@example.com")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return customer_create(**kwargs)

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise NotImplementedError("Customers only exist once created through the services.")


class ProductFactory(factory.Factory):
    """A product registered through `product_upsert`, as the POS registers it."""

    class Meta:
        model = Product

    account = None
    barcode = factory.Sequence(lambda n: f"{7890000000000 + n}")
    name = factory.Sequence(lambda n: f"Product {n}")
    unit = "un"
    price = Decimal("10.00")
    active = True
    category = "Mercearia"
    subcategory = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        product, _ = product_upsert(**kwargs)
        return product

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise NotImplementedError("Products only exist once created through the services.")


class PromotionFactory(factory.Factory):
    """A promotion of a product, open-ended since 2024 (before every quote date of the tests)."""

    class Meta:
        model = Promotion

    product = None
    account = factory.LazyAttribute(lambda promotion: promotion.product.account)
    percent_off = Decimal("10")
    starts_at = datetime(2024, 1, 1, tzinfo=UTC)
    expires_at = None
    limit = 0
    quantity_limit = Decimal(0)
    minimum_quantity = Decimal(0)
    active = True

    @classmethod
    def _create(cls, model_class, *, account, **terms):
        return promotion_create(account=account, terms=PromotionTerms(**terms))

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise NotImplementedError("Promotions only exist once created through the services.")


def record_promotion_use(promotion: Promotion, customer: Customer, *, reference: str, released: bool = False):
    """A use of the promotion by the customer: a sale through the real recording service,
    cancelled when the use should be released."""
    price = Decimal("10.00")
    sent = SaleInput(
        source=Sale.Source.API,
        occurred_at=timezone.now(),
        customer_id=customer.pk,
        receipt=Receipt(reference=reference),
        declared_amount=price,
        items=(
            ItemData(
                total=price,
                unit_value=price,
                barcode=promotion.product.barcode,
                promotion_id=str(promotion.pk),
            ),
        ),
    )
    outcome = sale_record(account=promotion.account, sent=sent)
    if released:
        sale_cancel(sale=outcome.sale)
    return PromotionUse.objects.get(sale=outcome.sale, promotion=promotion)


class RewardFactory(factory.Factory):
    """A catalogue reward ("coupon"), created through `reward_create`."""

    class Meta:
        model = Reward

    account = None
    name = factory.Sequence(lambda n: f"Reward {n}")
    points_cost = Decimal("100")
    value = Decimal("20")
    stock = 10

    @classmethod
    def _create(cls, model_class, **kwargs):
        return reward_create(**kwargs)

    @classmethod
    def _build(cls, model_class, **kwargs):
        raise NotImplementedError("Rewards only exist once created through the services.")
