"""Factories that build test data through the product's own services."""

import factory

from customers.models import Customer
from customers.services import customer_create
from loyalty.services.tenancy import MerchantCreated, merchant_create


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
