"""The rewards catalogue ("coupons") with stock, vouchers, and balance redemptions.

A reward is something a customer takes in exchange for points (or that a rule hands
out), with a limited stock; taking one issues a voucher. A voucher is a single-use code
worth a value for one customer, with a validity. A balance redemption is cashback or
digital change spent at a till.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from loyalty.core.fields import MoneyField, PointsField
from loyalty.core.receipts import Receipt, identity_constraints
from loyalty.tenancy.models import Account, ApiCredential, Store

# No look-alikes (0/O, 1/I/L): codes are read aloud and typed at tills.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


class Reward(models.Model):
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="rewards", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        "promotions.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rewards",
        verbose_name=_("category"),
    )
    points_cost = PointsField(
        _("points cost"),
        validators=[MinValueValidator(0)],
        help_text=_("Points a customer gives for it."),
    )
    value = MoneyField(
        _("value"),
        validators=[MinValueValidator(0)],
        help_text=_("Value of the voucher it issues (R$)."),
    )
    stock = models.PositiveIntegerField(
        _("stock"), default=0, help_text=_("Units left; every change is recorded.")
    )
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    voucher_valid_days = models.PositiveIntegerField(
        _("voucher validity (days)"), default=30, help_text=_("Validity of the vouchers it issues.")
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        # The catalogue the customers redeem points in; "cupom" is the sale's receipt.
        verbose_name = _("catalogue reward")
        verbose_name_plural = _("rewards catalogue")
        constraints = [
            models.CheckConstraint(condition=Q(stock__gte=0), name="reward_stock_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True)
                | Q(starts_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="reward_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StockChange(models.Model):
    """Who changed a reward's stock, when, from what, to what, and why."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    reward = models.ForeignKey(
        Reward, on_delete=models.CASCADE, related_name="stock_changes", verbose_name=_("reward")
    )
    from_stock = models.PositiveIntegerField(_("stock before"))
    to_stock = models.PositiveIntegerField(_("stock after"))
    reason = models.CharField(_("reason"), max_length=255)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff user"),
    )
    credential = models.ForeignKey(
        ApiCredential,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API credential"),
    )
    voucher = models.ForeignKey(
        "Voucher",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("voucher"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("stock change")
        verbose_name_plural = _("stock changes")

    def __str__(self) -> str:
        return f"{self.reward}: {self.from_stock} → {self.to_stock}"


class Voucher(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("voucher status", "Active")
        USED = "used", pgettext_lazy("voucher status", "Used")
        CANCELLED = "cancelled", pgettext_lazy("voucher status", "Cancelled")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("account")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="vouchers", verbose_name=_("customer")
    )
    reward = models.ForeignKey(
        Reward,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vouchers",
        verbose_name=_("reward"),
    )
    code = models.CharField(
        _("code"), max_length=32, help_text=_("Stored upper-case; matched case-insensitively.")
    )
    value = MoneyField(_("value"))
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    sale = models.ForeignKey(
        "sales.Sale",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vouchers_issued",
        verbose_name=_("sale that earned it"),
    )
    rule = models.ForeignKey(
        "loyalty.RewardRule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="vouchers",
        verbose_name=_("rule that earned it"),
    )
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    used_reference = models.CharField(_("reference of the sale it was used at"), max_length=64, blank=True)
    used_store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store it was used at"),
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        constraints = [
            models.UniqueConstraint(fields=["account", "code"], name="voucher_code_unique_per_account")
        ]
        indexes = [models.Index(fields=["customer", "status"], name="voucher_customer_status")]

    def __str__(self) -> str:
        return self.code


class BalanceRedemption(models.Model):
    """Cashback ("vale compras") and digital change spent at a till, both or neither.

    Identified like a purchase (store, type, local day and receipt, see `loyalty.core.receipts`):
    unique constraints make a retry answer the first result, and the same keys with other
    amounts or another consumer a conflict.
    """

    class Status(models.TextChoices):
        REDEEMED = "redeemed", pgettext_lazy("redemption status", "Redeemed")
        RETURNED = "returned", pgettext_lazy("redemption status", "Given back (purchase cancelled)")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="redemptions",
        verbose_name=_("customer"),
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", verbose_name=_("store"))
    type = models.CharField(_("purchase type"), max_length=4, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    local_date = models.DateField(_("local date"))
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    pdv = models.CharField(_("PDV"), max_length=32, blank=True)
    coupon = models.CharField(_("receipt number"), max_length=32, blank=True)
    value = MoneyField(_("cashback"), default=0, help_text=_("Taken from the cashback balance."))
    digital_change = MoneyField(
        _("digital change"), default=0, help_text=_("Taken from the digital change balance.")
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REDEEMED)
    returned_at = models.DateTimeField(_("given back at"), null=True, blank=True)
    legacy_duplicate = models.BooleanField(
        _("legacy duplicate"),
        default=False,
        editable=False,
        help_text=_(
            "Recorded under the same receipt as an earlier redemption, before one redemption per "
            "receipt was enforced; kept as it happened."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("balance redemption")
        verbose_name_plural = _("balance redemptions")
        constraints = identity_constraints(prefix="redemption", scope=Q(legacy_duplicate=False))
        indexes = [models.Index(fields=["store", "type", "local_date"], name="redemption_purchase_keys")]

    def __str__(self) -> str:
        return gettext("Redemption #%(id)s: R$ %(value)s + %(digital_change)s digital change") % {
            "id": self.pk,
            "value": self.value,
            "digital_change": self.digital_change,
        }

    @property
    def receipt(self) -> Receipt:
        return Receipt(reference=self.reference, pdv=self.pdv, coupon=self.coupon)
