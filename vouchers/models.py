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

from loyalty.core.fields import MoneyField, PointsField
from loyalty.core.receipts import Receipt, identity_constraints
from loyalty.tenancy.models import Account, ApiCredential, Store

# No look-alikes (0/O, 1/I/L): codes are read aloud and typed at tills.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


class Reward(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="rewards")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        "promotions.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="rewards"
    )
    points_cost = PointsField(validators=[MinValueValidator(0)], help_text="Points a customer gives for it.")
    value = MoneyField(validators=[MinValueValidator(0)], help_text="Value of the voucher it issues (R$).")
    stock = models.PositiveIntegerField(default=0, help_text="Units left; every change is recorded.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    voucher_valid_days = models.PositiveIntegerField(
        default=30, help_text="Validity of the vouchers it issues."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "reward (coupon)"
        verbose_name_plural = "rewards (coupons)"
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

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    reward = models.ForeignKey(Reward, on_delete=models.CASCADE, related_name="stock_changes")
    from_stock = models.PositiveIntegerField()
    to_stock = models.PositiveIntegerField()
    reason = models.CharField(max_length=255)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    credential = models.ForeignKey(
        ApiCredential, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    voucher = models.ForeignKey("Voucher", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.reward}: {self.from_stock} → {self.to_stock}"


class Voucher(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        USED = "used", "Used"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="vouchers")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="vouchers")
    reward = models.ForeignKey(
        Reward, on_delete=models.PROTECT, null=True, blank=True, related_name="vouchers"
    )
    code = models.CharField(max_length=32, help_text="Stored upper-case; matched case-insensitively.")
    value = MoneyField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    sale = models.ForeignKey(
        "sales.Sale", on_delete=models.PROTECT, null=True, blank=True, related_name="vouchers_issued"
    )
    rule = models.ForeignKey(
        "loyalty.RewardRule", on_delete=models.PROTECT, null=True, blank=True, related_name="vouchers"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    used_reference = models.CharField(max_length=64, blank=True)
    used_store = models.ForeignKey(Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
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
        REDEEMED = "redeemed", "Redeemed"
        RETURNED = "returned", "Given back (purchase cancelled)"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="redemptions")
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+")
    type = models.CharField(max_length=4, blank=True)
    occurred_at = models.DateTimeField()
    local_date = models.DateField()
    reference = models.CharField(max_length=64, blank=True)
    pdv = models.CharField("PDV", max_length=32, blank=True)
    coupon = models.CharField(max_length=32, blank=True)
    value = MoneyField(default=0, help_text="Taken from the cashback balance.")
    digital_change = MoneyField(default=0, help_text="Taken from the digital change balance.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REDEEMED)
    returned_at = models.DateTimeField(null=True, blank=True)
    legacy_duplicate = models.BooleanField(
        default=False,
        editable=False,
        help_text=(
            "Recorded under the same receipt as an earlier redemption, before one redemption per "
            "receipt was enforced; kept as it happened."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = identity_constraints(prefix="redemption", scope=Q(legacy_duplicate=False))
        indexes = [models.Index(fields=["store", "type", "local_date"], name="redemption_purchase_keys")]

    def __str__(self) -> str:
        return f"Redemption #{self.pk}: R$ {self.value} + {self.digital_change} digital change"

    @property
    def receipt(self) -> Receipt:
        return Receipt(reference=self.reference, pdv=self.pdv, coupon=self.coupon)
