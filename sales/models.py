"""Sales (purchases) with their items and payments, as the till or ERP sent them.

A sale is identified by natural keys that unique constraints enforce, so a purchase sent
twice — even by two tills at the same instant — is recorded once:

- POS purchases: store, type, local date and the receipt — `pdv` + `coupon` when both are
  sent, otherwise `reference` (see `loyalty.core.receipts`);
- server-to-server sales: account and `reference`.
"""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from loyalty.core.fields import MoneyField, QuantityField
from loyalty.core.receipts import BY_RECEIPT, Receipt, identity_constraints
from loyalty.core.vocabulary import PaymentMethod, SaleType
from loyalty.tenancy.models import Account, Store


class Sale(models.Model):
    class Status(models.TextChoices):
        RECORDED = "recorded", "Recorded"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        POS = "pos", "POS"
        API = "api", "Server-to-server API"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="sales")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, null=True, blank=True, related_name="sales")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, null=True, blank=True, related_name="sales"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    type = models.CharField(max_length=4, choices=SaleType.choices, blank=True)
    occurred_at = models.DateTimeField(help_text="When the sale happened.")
    local_date = models.DateField(help_text="The sale's calendar day in the account's time zone.")
    reference = models.CharField(max_length=64, blank=True)
    pdv = models.CharField("PDV", max_length=32, blank=True)
    coupon = models.CharField(max_length=32, blank=True)
    operator = models.CharField(max_length=100, blank=True)
    amount = MoneyField(help_text="Sum of the item totals, or the declared sale amount.")
    discount_total = MoneyField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECORDED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        permissions = [("cancel_sale", "Can cancel sales (reverses their rewards)")]
        constraints = [
            *identity_constraints(prefix="sale_pos", scope=Q(source="pos")),
            models.CheckConstraint(
                condition=~Q(source="pos") | BY_RECEIPT | ~Q(reference=""),
                name="sale_pos_has_identity",
            ),
            models.UniqueConstraint(
                fields=["account", "reference"],
                condition=Q(source="api") & ~Q(reference=""),
                name="sale_api_reference_unique",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sale_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["account", "-occurred_at", "-id"], name="sale_account_newest"),
            models.Index(fields=["customer", "-occurred_at"], name="sale_customer_newest"),
        ]

    def __str__(self) -> str:
        key = self.reference or (f"PDV {self.pdv} / {self.coupon}" if self.pdv else f"#{self.pk}")
        return f"{self.type or 'Sale'} {key} ({self.local_date})"

    @property
    def receipt(self) -> Receipt:
        return Receipt(reference=self.reference, pdv=self.pdv, coupon=self.coupon)


class SaleItem(models.Model):
    """An item as sent; `product` and `category` are what the account knows of it."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    barcode = models.CharField(max_length=20, blank=True)
    name = models.CharField(max_length=255, blank=True)
    unit = models.CharField(max_length=2, blank=True)
    category_name = models.CharField(max_length=100, blank=True)
    subcategory_name = models.CharField(max_length=100, blank=True)
    product = models.ForeignKey(
        "promotions.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    category = models.ForeignKey(
        "promotions.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The most specific known category of the item, used by category rules.",
    )
    unit_value = MoneyField()
    quantity = QuantityField()
    discount = MoneyField(default=0)
    total = MoneyField()
    promotion = models.ForeignKey(
        "promotions.Promotion", on_delete=models.PROTECT, null=True, blank=True, related_name="sale_items"
    )

    class Meta:
        ordering = ["sale", "position"]

    def __str__(self) -> str:
        return f"{self.name or self.barcode} × {self.quantity}"


class SalePayment(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="payments")
    position = models.PositiveSmallIntegerField()
    method = models.PositiveSmallIntegerField(
        choices=PaymentMethod.choices, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    total = MoneyField()
    digital_change = MoneyField(default=0, help_text="Change credited to the consumer's digital change.")
    splits = models.PositiveSmallIntegerField(default=0)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sale", "position"]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.total}"


class SaleReturn(models.Model):
    """Units of an identified sale given back ("devolução"), under the ERP's own reference.

    The same reference again is the same return: it answers as first recorded. What each
    rule granted is taken back in proportion (`loyalty.engine`), as ledger rows of kind
    `return` linked to it.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="returns")
    reference = models.CharField(max_length=64, help_text="The ERP's id of the return.")
    amount = MoneyField(help_text="What the returned units were worth in the sale.")
    discount = MoneyField(default=0, help_text="The promotion discounts of the returned units.")
    completes = models.BooleanField(
        default=False, help_text="Nothing of the sale is left after it: the purchase no longer counts."
    )
    outcome = models.JSONField(
        default=dict,
        blank=True,
        help_text="What it took back, as first answered (the same reference answers it).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sale", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "sale", "reference"], name="sale_return_reference_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sale_return_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"Return {self.reference} of {self.sale}"


class SaleReturnLine(models.Model):
    """Units of one line of the sale in a return, and what they were worth."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    sale_return = models.ForeignKey(SaleReturn, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(SaleItem, on_delete=models.PROTECT, related_name="returned")
    quantity = QuantityField()
    total = MoneyField(help_text="The line's total for these units.")
    discount = MoneyField(default=0)

    class Meta:
        ordering = ["sale_return", "item__position"]

    def __str__(self) -> str:
        return f"{self.item} ← {self.quantity}"
