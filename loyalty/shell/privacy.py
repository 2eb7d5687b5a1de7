"""A customer's data under the LGPD: everything the product holds about them, and erasure.

The customer record, wallet and ledger belong to `customers`, their sales to `sales`, the
messages sent to them to the outbox; only a level above all of them can put the whole
together, by plain calls in a fixed order.
"""

from typing import Any

from django.db import transaction

from customers.models import Customer
from customers.selectors import customer_export
from customers.services import customer_anonymize
from loyalty.outbox.services import messages_erase_for_customer, messages_export_for_customer
from sales.selectors import customer_sales_export


def customer_data_export(*, customer: Customer) -> dict[str, Any]:
    """Everything the product holds about a customer, for an LGPD access request."""
    return {
        **customer_export(customer=customer),
        "messages": messages_export_for_customer(customer),
        "sales": customer_sales_export(customer),
    }


@transaction.atomic(savepoint=False)
def customer_erase(*, customer: Customer) -> Customer:
    """Erase the person (LGPD): their record, and what the messages sent to them said.

    The wallet, its ledger, the sales and the outbox's record of what happened stay, so the
    merchant's accounts still add up. Erasing twice changes nothing more.
    """
    if customer.anonymized_at:
        return customer
    customer = customer_anonymize(customer=customer)
    messages_erase_for_customer(customer)
    return customer
