"""Customers, their marketing consent, their wallets and the append-only wallet ledger.

A wallet's buckets are a materialised sum of its ledger: they change only in
`customers.services.wallets`, in the same transaction as the ledger rows that move them,
so that every bucket equals the sum of its rows (`check_wallets` proves it). Consent works
the same way: `CustomerConsent` is the current state of each channel, changed only by
`customers.services.consent` with the append-only `ConsentChange` row that records it.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.documents import format_document
from loyalty.core.fields import MoneyField, PointsField, TenantOneToOneField
from loyalty.outbox.models import Channel
from loyalty.tenancy.models import Account, Store

# Buckets hold what a customer can spend; totals describe their purchases. Ledger rows
# carry a signed delta for each, under the same names.
BUCKETS = ("points", "balance", "digital_change", "pending_points", "pending_balance")
TOTALS = ("total_shoppings", "count_shoppings", "total_discounts")
WALLET_FIELDS = BUCKETS + TOTALS
POINTS_FIELDS = frozenset({"points", "pending_points"})


class Customer(models.Model):
    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")
        UNDISCLOSED = "undisclosed", _("Undisclosed")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="customers", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=150, blank=True)
    document = models.CharField(
        _("CPF/CNPJ"),
        max_length=14,
        null=True,
        blank=True,
        help_text=_("Digits only (letters for new CNPJs)."),
    )
    phone = models.CharField(
        _("phone"), max_length=20, null=True, blank=True, help_text=_("E.164, e.g. +5511987654321.")
    )
    email = models.EmailField(_("e-mail"), max_length=254, null=True, blank=True)
    password = models.CharField(_("password"), max_length=128, blank=True, editable=False)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    gender = models.CharField(_("gender"), max_length=16, choices=Gender.choices, blank=True)
    extra = models.JSONField(_("extra data"), default=dict, blank=True)
    anonymized_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
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
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="customer_account_newest"),
            # The list's `search` (`UPPER(name) LIKE '%...%'`) cannot seek in a b-tree; this
            # index gives PostgreSQL statistics of the upper-cased names, without which it takes
            # any search to match 0.5 % of the account and sorts every match of a common name
            # instead of reading `customer_account_newest` in order until the page is full.
            models.Index(F("account"), Upper("name"), name="customer_account_name_upper"),
        ]

    def __str__(self) -> str:
        label = self.name or format_document(self.document) or self.phone or self.email or gettext("Customer")
        return f"{label} (#{self.pk})"

    @property
    def formatted_document(self) -> str:
        return format_document(self.document)

    def marketing_channels(self) -> frozenset[str]:
        """The channels on which the customer accepts marketing messages now (one query).

        The outbox, a floor below, asks this of the customer it addresses, and only when a
        marketing template would reach them (`loyalty.outbox.services.Recipient`).
        """
        return frozenset(
            CustomerConsent.objects.filter(
                account_id=self.account_id, customer_id=self.pk, granted=True
            ).values_list("channel", flat=True)
        )


class ConsentSource(models.TextChoices):
    """Where a customer gave or withdrew their consent."""

    ADMIN = "admin", _("Back office")
    API = "api", _("API")
    POS = "pos", _("Till (POS)")


class CustomerConsent(models.Model):
    """Whether a customer accepts marketing messages on one channel now (LGPD).

    The latest of the customer's `ConsentChange` rows for the channel, kept in step with them
    by `customers.services.consent`. No row: the customer was never asked, which is no consent.
    """

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="consents", verbose_name=_("customer")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    granted = models.BooleanField(_("accepts marketing"))
    changed_at = models.DateTimeField(_("changed at"))
    source = models.CharField(_("source"), max_length=8, choices=ConsentSource.choices)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("store")
    )

    class Meta:
        ordering = ["customer", "channel"]
        verbose_name = _("marketing consent")
        verbose_name_plural = _("marketing consents")
        constraints = [
            models.UniqueConstraint(fields=["account", "customer", "channel"], name="consent_one_per_channel")
        ]

    def __str__(self) -> str:
        return gettext("%(channel)s marketing of %(customer)s: %(answer)s") % {
            "channel": self.get_channel_display(),
            "customer": self.customer_id,
            "answer": gettext("accepted") if self.granted else gettext("refused"),
        }


class ConsentChange(models.Model):
    """One change of a customer's marketing consent on one channel: given or withdrawn, when,
    where and by whom. Rows are never updated or deleted."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="consent_changes", verbose_name=_("customer")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    granted = models.BooleanField(_("accepts marketing"))
    source = models.CharField(_("source"), max_length=8, choices=ConsentSource.choices)
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("store")
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff user"),
    )
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        ordering = ["-id"]
        verbose_name = _("consent change")
        verbose_name_plural = _("consent changes")

    def __str__(self) -> str:
        return gettext("%(channel)s marketing %(change)s (#%(id)s)") % {
            "channel": self.get_channel_display(),
            "change": gettext("given") if self.granted else gettext("withdrawn"),
            "id": self.pk,
        }


class Wallet(models.Model):
    """One per customer. Never written directly: see `customers.services.wallets`."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    customer = TenantOneToOneField(
        Customer, on_delete=models.PROTECT, related_name="wallet", verbose_name=_("customer")
    )
    points = PointsField(_("points"), default=0)
    balance = MoneyField(_("balance"), default=0, help_text=_("Cashback balance available (vale compras)."))
    digital_change = MoneyField(
        _("digital change"), default=0, help_text=_("Digital change balance (troco digital).")
    )
    pending_points = PointsField(_("pending points"), default=0)
    pending_balance = MoneyField(_("pending balance"), default=0)
    total_shoppings = MoneyField(_("total purchases"), default=0)
    count_shoppings = models.IntegerField(_("number of purchases"), default=0)
    total_discounts = MoneyField(_("total discounts"), default=0)
    # What of `points` and `balance` sits in expiry lots (the rest never expires by date).
    # A database default too, so that rows written by code that predates them stay valid.
    lot_points = PointsField(_("points with an expiry date"), default=0, db_default=0, editable=False)
    lot_balance = MoneyField(_("balance with an expiry date"), default=0, db_default=0, editable=False)
    inactivity_expires_at = models.DateTimeField(
        _("expiry by inactivity"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Accounts with expiry by inactivity: the first instant at which points and cashback expire."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")
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
        return gettext("Wallet of %(customer)s") % {"customer": self.customer}


class LedgerEntry(models.Model):
    """One movement of a wallet: signed deltas per bucket, its kind and where it came from.

    Rows are never updated or deleted.
    """

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase totals")
        CASHBACK = "cashback", _("Cashback")
        POINTS = "points", _("Points")
        DIGITAL_CHANGE_CREDIT = "digital_change_credit", _("Digital change credit")
        DIGITAL_CHANGE_DEBIT = "digital_change_debit", _("Digital change debit")
        BALANCE_REDEEM = "balance_redeem", _("Balance redeemed")
        POINTS_REDEEM = "points_redeem", _("Points redeemed")
        REVERSAL = "reversal", _("Reversal")
        ADJUSTMENT = "adjustment", _("Adjustment")
        EXPIRY = "expiry", _("Expiry")
        RELEASE = "release", _("Release")
        RETURN = "return", _("Return")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="entries", verbose_name=_("wallet")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    points = PointsField(_("points"), default=0)
    balance = MoneyField(_("balance"), default=0)
    digital_change = MoneyField(_("digital change"), default=0)
    pending_points = PointsField(_("pending points"), default=0)
    pending_balance = MoneyField(_("pending balance"), default=0)
    total_shoppings = MoneyField(_("total purchases"), default=0)
    count_shoppings = models.IntegerField(_("number of purchases"), default=0)
    total_discounts = MoneyField(_("total discounts"), default=0)
    sale = models.ForeignKey(
        "sales.Sale",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("sale"),
    )
    rule = models.ForeignKey(
        "loyalty.RewardRule",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("rule"),
    )
    voucher = models.ForeignKey(
        "vouchers.Voucher",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("voucher"),
    )
    redemption = models.ForeignKey(
        "vouchers.BalanceRedemption",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("redemption"),
    )
    sale_return = models.ForeignKey(
        "sales.SaleReturn",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("return"),
    )
    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("store")
    )
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff user"),
    )
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    reverses = TenantOneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        verbose_name=_("reversed entry"),
    )
    lots_spent = models.JSONField(
        _("expiry lots spent"),
        null=True,
        blank=True,
        help_text=_("Debits of points or balance: how much of each expiry lot (by id) the row spent."),
    )
    releases_at = models.DateTimeField(
        _("released at"), null=True, blank=True, help_text=_("Pending grants: when they become available.")
    )
    releases = TenantOneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="released_by",
        verbose_name=_("released entry"),
        help_text=_("Release rows: the pending grant they made available."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
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
        POINTS = "points", _("Points")
        BALANCE = "balance", _("Cashback balance")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    wallet = models.ForeignKey(
        Wallet, on_delete=models.PROTECT, related_name="lots", verbose_name=_("wallet")
    )
    bucket = models.CharField(_("balance type"), max_length=16, choices=Bucket.choices)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    remaining = models.DecimalField(_("remaining"), max_digits=14, decimal_places=2)
    expired = models.DecimalField(
        _("expired"),
        max_digits=14,
        decimal_places=2,
        default=0,
        db_default=0,
        help_text=_("What of it expired: a cancel of its sale does not take that back a second time."),
    )
    expires_at = models.DateTimeField(
        _("expires at"),
        null=True,
        blank=True,
        help_text=_(
            "The first instant it can no longer be spent (local midnight after its last day); "
            "empty: only inactivity expires it."
        ),
    )
    entry = models.ForeignKey(
        LedgerEntry,
        on_delete=models.PROTECT,
        related_name="lots",
        verbose_name=_("ledger entry"),
        help_text=_("The ledger row that credited it."),
    )
    store = models.ForeignKey(
        Store,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("store"),
        help_text=_("Where it was earned."),
    )
    given_back_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("given back from lot"),
        help_text=_("A give-back: the lot the cancelled debit had spent."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["wallet", "bucket", "expires_at", "id"]
        verbose_name = _("expiry lot")
        verbose_name_plural = _("expiry lots")
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
        return gettext("%(bucket)s lot #%(id)s") % {"bucket": self.get_bucket_display(), "id": self.pk}
