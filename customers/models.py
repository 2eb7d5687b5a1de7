"""Customers, their wallets and the append-only wallet ledger.

A wallet's buckets are a materialised sum of its ledger: they change only in
`customers.services.wallets`, in the same transaction as the ledger rows that move them,
so that every bucket equals the sum of its rows (`check_wallets` proves it).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.documents import format_document
from loyalty.core.fields import MoneyField, PointsField, TenantOneToOneField
from loyalty.tenancy.models import Account, Store

# Buckets hold what a customer can spend; totals describe their purchases. Ledger rows
# carry a signed delta for each, under the same names.
BUCKETS = ("points", "balance", "digital_change", "pending_points", "pending_balance")
TOTALS = ("total_shoppings", "count_shoppings", "total_discounts")
WALLET_FIELDS = BUCKETS + TOTALS
POINTS_FIELDS = frozenset({"points", "pending_points"})


class Customer(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        OTHER = "other", "Other"
        UNDISCLOSED = "undisclosed", "Undisclosed"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="customers")
    name = models.CharField(max_length=150, blank=True)
    document = models.CharField(
        "CPF/CNPJ", max_length=14, null=True, blank=True, help_text="Digits only (letters for new CNPJs)."
    )
    phone = models.CharField(max_length=20, null=True, blank=True, help_text="E.164, e.g. +5511987654321.")
    email = models.EmailField(max_length=254, null=True, blank=True)
    password = models.CharField(max_length=128, blank=True, editable=False)
    birth_date = models.DateField(null=True, blank=True)
    gender = models.CharField(max_length=16, choices=Gender.choices, blank=True)
    extra = models.JSONField(default=dict, blank=True)
    anonymized_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "document"],
                condition=Q(document__isnull=False),
                name="customer_document_unique",
            ),
            models.UniqueConstraint(
                fields=["account", "phone"], condition=Q(phone__isnull=False), name="customer_phone_unique"
            ),
            models.UniqueConstraint(
                fields=["account", "email"], condition=Q(email__isnull=False), name="customer_email_unique"
            ),
        ]
        indexes = [models.Index(fields=["account", "-created_at", "-id"], name="customer_account_newest")]

    def __str__(self) -> str:
        label = self.name or format_document(self.document) or self.phone or self.email or "Customer"
        return f"{label} (#{self.pk})"

    @property
    def formatted_document(self) -> str:
        return format_document(self.document)


class Wallet(models.Model):
    """One per customer. Never written directly: see `customers.services.wallets`."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    customer = TenantOneToOneField(Customer, on_delete=models.PROTECT, related_name="wallet")
    points = PointsField(default=0)
    balance = MoneyField(default=0, help_text="Cashback balance available (vale compras).")
    digital_change = MoneyField(default=0, help_text="Digital change balance (troco digital).")
    pending_points = PointsField(default=0)
    pending_balance = MoneyField(default=0)
    total_shoppings = MoneyField(default=0)
    count_shoppings = models.IntegerField(default=0)
    total_discounts = MoneyField(default=0)
    # What of `points` and `balance` sits in expiry lots (the rest never expires by date).
    # A database default too, so that rows written by code that predates them stay valid.
    lot_points = PointsField(default=0, db_default=0, editable=False)
    lot_balance = MoneyField(default=0, db_default=0, editable=False)
    inactivity_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Accounts with expiry by inactivity: the first instant at which points and cashback expire.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        permissions = [("adjust_wallet", "Can adjust wallet balances with a signed ledger row")]
        constraints = [
            models.UniqueConstraint(fields=["account", "customer"], name="wallet_one_per_customer")
        ]
        indexes = [
            models.Index(
                fields=["inactivity_expires_at"],
                condition=Q(inactivity_expires_at__isnull=False),
                name="wallet_inactivity_due",
            )
        ]

    def __str__(self) -> str:
        return f"Wallet of {self.customer}"


class LedgerEntry(models.Model):
    """One movement of a wallet: signed deltas per bucket, its kind and where it came from.

    Rows are never updated or deleted.
    """

    class Kind(models.TextChoices):
        PURCHASE = "purchase", "Purchase totals"
        CASHBACK = "cashback", "Cashback"
        POINTS = "points", "Points"
        DIGITAL_CHANGE_CREDIT = "digital_change_credit", "Digital change credit"
        DIGITAL_CHANGE_DEBIT = "digital_change_debit", "Digital change debit"
        BALANCE_REDEEM = "balance_redeem", "Balance redeemed"
        POINTS_REDEEM = "points_redeem", "Points redeemed"
        REVERSAL = "reversal", "Reversal"
        ADJUSTMENT = "adjustment", "Adjustment"
        EXPIRY = "expiry", "Expiry"
        RELEASE = "release", "Release"
        RETURN = "return", "Return"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    points = PointsField(default=0)
    balance = MoneyField(default=0)
    digital_change = MoneyField(default=0)
    pending_points = PointsField(default=0)
    pending_balance = MoneyField(default=0)
    total_shoppings = MoneyField(default=0)
    count_shoppings = models.IntegerField(default=0)
    total_discounts = MoneyField(default=0)
    sale = models.ForeignKey(
        "sales.Sale", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    rule = models.ForeignKey(
        "loyalty.RewardRule", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    voucher = models.ForeignKey(
        "vouchers.Voucher", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    redemption = models.ForeignKey(
        "vouchers.BalanceRedemption",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
    )
    sale_return = models.ForeignKey(
        "sales.SaleReturn", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    store = models.ForeignKey(Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)
    reverses = TenantOneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    lots_spent = models.JSONField(
        null=True,
        blank=True,
        help_text="Debits of points or balance: how much of each expiry lot (by id) the row spent.",
    )
    releases_at = models.DateTimeField(
        null=True, blank=True, help_text="Pending grants: when they become available."
    )
    releases = TenantOneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="released_by",
        help_text="Release rows: the pending grant they made available.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "ledger entry"
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["wallet", "-id"], name="ledger_wallet_newest")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "reverses"],
                condition=Q(reverses__isnull=False),
                name="ledger_reversed_once",
            ),
            models.UniqueConstraint(
                fields=["account", "releases"],
                condition=Q(releases__isnull=False),
                name="ledger_released_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def moved(self) -> dict[str, Decimal | int]:
        """The non-zero deltas of this row."""
        return {name: getattr(self, name) for name in WALLET_FIELDS if getattr(self, name)}


class ExpiryLot(models.Model):
    """An amount of points or cashback that expires: what was granted, what is left, and when.

    The ledger stays the single truth: a lot only says which part of a bucket expires when.
    Lots move only in `customers.services.wallets`, with the ledger row that moves their
    bucket; a wallet's `lot_points` / `lot_balance` are the sum of its lots' `remaining`.
    """

    class Bucket(models.TextChoices):
        POINTS = "points", "Points"
        BALANCE = "balance", "Cashback balance"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="lots")
    bucket = models.CharField(max_length=16, choices=Bucket.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    remaining = models.DecimalField(max_digits=14, decimal_places=2)
    expired = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=0,
        db_default=0,
        help_text="What of it expired: a cancel of its sale does not take that back a second time.",
    )
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The first instant it can no longer be spent (local midnight after its last day); "
        "empty: only inactivity expires it.",
    )
    entry = models.ForeignKey(
        LedgerEntry,
        on_delete=models.PROTECT,
        related_name="lots",
        help_text="The ledger row that credited it.",
    )
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Where it was earned.",
    )
    given_back_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A give-back: the lot the cancelled debit had spent.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["wallet", "bucket", "expires_at", "id"]
        indexes = [
            models.Index(
                fields=["wallet", "bucket", "expires_at", "id"],
                condition=Q(remaining__gt=0),
                name="lot_wallet_spendable",
            ),
            models.Index(
                fields=["account", "expires_at"], condition=Q(remaining__gt=0), name="lot_account_due"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                # Not `remaining + expired <= amount`: SQLite would add the decimals as floats.
                condition=Q(remaining__gte=0) & Q(expired__gte=0) & Q(remaining__lte=models.F("amount")),
                name="lot_remaining_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_bucket_display()} lot #{self.pk}"
