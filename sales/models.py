"""Sales (purchases) with their items and payments, as the till or ERP sent them.

A sale is identified by natural keys that unique constraints enforce, so a purchase sent
twice — even by two tills at the same instant — is recorded once:

- POS purchases: store, type, local date and the receipt — `pdv` + `coupon` when both are
  sent, otherwise `reference` (see `loyalty.core.receipts`);
- server-to-server sales: account and `reference`.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from loyalty.core.fields import MoneyField, QuantityField
from loyalty.core.receipts import BY_RECEIPT, Receipt, identity_constraints
from loyalty.core.vocabulary import PaymentMethod, SaleType
from loyalty.tenancy.models import Account, Store


class Sale(models.Model):
    class Status(models.TextChoices):
        RECORDED = "recorded", pgettext_lazy("sale status", "Recorded")
        CANCELLED = "cancelled", pgettext_lazy("sale status", "Cancelled")

    class Source(models.TextChoices):
        POS = "pos", _("POS")
        API = "api", _("Server-to-server API")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="sales", verbose_name=_("account")
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="sales", verbose_name=_("store")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sales",
        verbose_name=_("customer"),
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    type = models.CharField(_("type"), max_length=4, choices=SaleType.choices, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), help_text=_("When the sale happened."))
    local_date = models.DateField(
        _("local date"), help_text=_("The sale's calendar day in the account's time zone.")
    )
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    pdv = models.CharField(_("PDV"), max_length=32, blank=True)
    coupon = models.CharField(_("receipt number"), max_length=32, blank=True)
    operator = models.CharField(_("operator"), max_length=100, blank=True)
    amount = MoneyField(_("amount"), help_text=_("Sum of the item totals, or the declared sale amount."))
    discount_total = MoneyField(_("total discount"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECORDED)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("cancelled by"),
        help_text=_("The staff user who cancelled it in the admin; empty when a POS or the API did."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sale")
        verbose_name_plural = _("sales")
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
        return f"{self.type or gettext('Sale')} {key} ({date_format(self.local_date, 'SHORT_DATE_FORMAT')})"

    @property
    def receipt(self) -> Receipt:
        return Receipt(reference=self.reference, pdv=self.pdv, coupon=self.coupon)


class SaleItem(models.Model):
    """An item as sent; `product` and `category` are what the account knows of it."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="items", verbose_name=_("sale"))
    position = models.PositiveSmallIntegerField(_("position"))
    barcode = models.CharField(_("barcode"), max_length=20, blank=True)
    name = models.CharField(_("name"), max_length=255, blank=True)
    unit = models.CharField(_("unit"), max_length=2, blank=True)
    category_name = models.CharField(_("category (as sent)"), max_length=100, blank=True)
    subcategory_name = models.CharField(_("subcategory (as sent)"), max_length=100, blank=True)
    product = models.ForeignKey(
        "promotions.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    category = models.ForeignKey(
        "promotions.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
        help_text=_("The most specific known category of the item, used by category rules."),
    )
    unit_value = MoneyField(_("unit price"))
    quantity = QuantityField(_("quantity"))
    discount = MoneyField(_("discount"), default=0)
    total = MoneyField(_("total"))
    promotion = models.ForeignKey(
        "promotions.Promotion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sale_items",
        verbose_name=_("promotion"),
    )

    class Meta:
        verbose_name = _("sale item")
        verbose_name_plural = _("sale items")
        ordering = ["sale", "position"]

    def __str__(self) -> str:
        return f"{self.name or self.barcode} × {self.quantity}"


class SalePayment(models.Model):
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="payments", verbose_name=_("sale"))
    position = models.PositiveSmallIntegerField(_("position"))
    method = models.PositiveSmallIntegerField(
        _("payment method"),
        choices=PaymentMethod.choices,
        validators=[MinValueValidator(1), MaxValueValidator(9)],
    )
    total = MoneyField(_("total"))
    digital_change = MoneyField(
        _("digital change"), default=0, help_text=_("Change credited to the consumer's digital change.")
    )
    splits = models.PositiveSmallIntegerField(_("installments"), default=0)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sale payment")
        verbose_name_plural = _("sale payments")
        ordering = ["sale", "position"]

    def __str__(self) -> str:
        return f"{self.get_method_display()} {self.total}"


class SaleReturn(models.Model):
    """Units of an identified sale given back ("devolução"), under the ERP's own reference.

    The same reference again is the same return: it answers as first recorded. What each
    rule granted is taken back in proportion (`loyalty.engine`), as ledger rows of kind
    `return` linked to it.
    """

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="returns", verbose_name=_("sale"))
    reference = models.CharField(_("reference"), max_length=64, help_text=_("The ERP's id of the return."))
    amount = MoneyField(_("amount"), help_text=_("What the returned units were worth in the sale."))
    discount = MoneyField(
        _("discount"), default=0, help_text=_("The promotion discounts of the returned units.")
    )
    completes = models.BooleanField(
        _("whole sale returned"),
        default=False,
        help_text=_("Nothing of the sale is left after it: the purchase no longer counts."),
    )
    outcome = models.JSONField(
        _("outcome"),
        default=dict,
        blank=True,
        help_text=_("What it took back, as first answered (the same reference answers it)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sale return")
        verbose_name_plural = _("sale returns")
        ordering = ["sale", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "sale", "reference"], name="sale_return_reference_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="sale_return_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return gettext("Return %(reference)s of %(sale)s") % {"reference": self.reference, "sale": self.sale}


class SaleReturnLine(models.Model):
    """Units of one line of the sale in a return, and what they were worth."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    sale_return = models.ForeignKey(
        SaleReturn, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return")
    )
    item = models.ForeignKey(
        SaleItem, on_delete=models.PROTECT, related_name="returned", verbose_name=_("item")
    )
    quantity = QuantityField(_("quantity"))
    total = MoneyField(_("total"), help_text=_("The line's total for these units."))
    discount = MoneyField(_("discount"), default=0)

    class Meta:
        verbose_name = _("sale return line")
        verbose_name_plural = _("sale return lines")
        ordering = ["sale_return", "item__position"]

    def __str__(self) -> str:
        return f"{self.item} ← {self.quantity}"
