"""Reward rules: what an identified sale earns, and under which conditions."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from loyalty.core.fields import MoneyField, TenantOneToOneField
from loyalty.core.vocabulary import PaymentMethod, SaleType
from loyalty.tenancy.models import MAX_EXPIRY_DAYS, Account, Store


def default_excluded_methods() -> list[int]:
    # What was paid with digital change earns nothing by default.
    return [PaymentMethod.DIGITAL_CHANGE.value]


#: The fields only some kinds of rule use, and those kinds.
KIND_ONLY_FIELDS = {"threshold": ("voucher",), "reward": ("voucher",), "template": ("message",)}
KIND_FIELD_WORDS = {
    "threshold": "a threshold",
    "reward": "a catalogue reward",
    "template": "a message template",
}


class RewardRule(models.Model):
    """A rule of the account's program. Rules add up: each one that matches grants its reward."""

    class Kind(models.TextChoices):
        CASHBACK = "cashback", "Cashback (percent of the eligible amount to the balance)"
        POINTS = "points", "Points (per currency unit of the eligible amount)"
        VOUCHER = "voucher", "Voucher (when the eligible amount reaches the threshold)"
        MESSAGE = "message", "Message only (queues a communication)"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="rules")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.DecimalField(
        max_digits=12,
        decimal_places=4,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=(
            "Cashback: percent of the eligible amount (5 = 5 %). Points: points per currency unit "
            "(1 = one point per R$ 1). Voucher: the voucher's value in R$. Message: not used."
        ),
    )
    threshold = MoneyField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Voucher rules: the eligible amount a sale must reach to earn the voucher.",
    )
    reward = models.ForeignKey(
        "vouchers.Reward",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        help_text="Voucher rules: the catalogue reward it hands out (takes its stock); empty: a voucher of `value`.",
    )
    template = models.ForeignKey(
        "loyalty.MessageTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        help_text="Message rules: the template queued for each matching sale.",
    )
    starts_at = models.DateTimeField(null=True, blank=True, help_text="Empty: since always.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: open-ended.")
    weekdays = models.JSONField(
        default=list,
        blank=True,
        help_text="Local weekdays on which it applies (0 = Monday); empty: every day.",
    )
    stores = models.ManyToManyField(
        Store, through="RuleStore", blank=True, related_name="+", help_text="Empty: every store."
    )
    categories = models.ManyToManyField(
        "promotions.Category",
        through="RuleCategory",
        blank=True,
        related_name="+",
        help_text="Only items of these categories (children included) are eligible; empty: the whole sale.",
    )
    excluded_payment_methods = models.JSONField(
        default=default_excluded_methods,
        blank=True,
        help_text="Payment methods whose share earns nothing (9 = digital change).",
    )
    minimum_amount = MoneyField(
        default=0, validators=[MinValueValidator(0)], help_text="Minimum eligible amount."
    )
    maximum_reward = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Cap of the reward of one sale (R$ for cashback, points for points); empty: no cap.",
    )
    sale_types = models.JSONField(
        default=list, blank=True, help_text="Sale types that earn (DAV, OS, FOOD, CF, NF); empty: all."
    )
    valid_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_EXPIRY_DAYS)],
        help_text=(
            "Points and cashback it grants can be spent until the end of the local day this many "
            "days after they became available; vouchers: their validity. Empty: no expiry. A "
            "change applies to later grants."
        ),
    )
    pending_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_EXPIRY_DAYS)],
        help_text="Days before what it grants becomes available.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if not isinstance(self.weekdays, list) or any(day not in range(7) for day in self.weekdays):
            errors["weekdays"] = "A list of weekday numbers from 0 (Monday) to 6 (Sunday)."
        if not isinstance(self.sale_types, list) or any(
            kind not in SaleType.values for kind in self.sale_types
        ):
            errors["sale_types"] = f"A list of sale types among {', '.join(SaleType.values)}."
        if not isinstance(self.excluded_payment_methods, list) or any(
            method not in PaymentMethod.values for method in self.excluded_payment_methods
        ):
            errors["excluded_payment_methods"] = "A list of payment method numbers from 1 to 9."
        if self.kind == self.Kind.VOUCHER and self.threshold is None:
            errors["threshold"] = "A voucher rule needs the amount that earns the voucher."
        if self.kind in (self.Kind.CASHBACK, self.Kind.POINTS) and not self.value:
            errors["value"] = "This kind of rule needs a value above zero."
        if self.kind == self.Kind.VOUCHER and not self.value and self.reward_id is None:
            errors["value"] = "A voucher rule needs a value, or a reward of the catalogue."
        if self.kind == self.Kind.MESSAGE and self.template_id is None:
            errors["template"] = "A message rule needs the template it queues."
        # A reward or template of another account would leak it into this account's program.
        for name in ("reward", "template"):
            linked = getattr(self, name) if getattr(self, f"{name}_id") is not None else None
            if linked is not None and linked.account_id != self.account_id:
                errors[name] = f"{linked} is not of the rule's account."
        # A field the rule's kind does not use would be silently ignored when it grants.
        for name, kinds in KIND_ONLY_FIELDS.items():
            given = self.threshold if name == "threshold" else getattr(self, f"{name}_id")
            if given is not None and self.kind in self.Kind.values and self.kind not in kinds:
                errors[name] = (
                    f"A {self.kind} rule takes no {name}: only {' and '.join(kinds)} rules use "
                    f"{KIND_FIELD_WORDS[name]}. Leave it empty."
                )
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "Must be after the start."
        if errors:
            raise ValidationError(errors)


class RuleStore(models.Model):
    """A store a rule is limited to."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    rewardrule = models.ForeignKey(RewardRule, on_delete=models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "loyalty_rewardrule_stores"
        constraints = [
            models.UniqueConstraint(fields=["account", "rewardrule", "store"], name="rule_store_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rewardrule} at {self.store}"


class RuleCategory(models.Model):
    """A category a rule is limited to (its children included)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    rewardrule = models.ForeignKey(RewardRule, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey("promotions.Category", on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "loyalty_rewardrule_categories"
        constraints = [
            models.UniqueConstraint(fields=["account", "rewardrule", "category"], name="rule_category_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rewardrule} in {self.category}"


class PendingGrant(models.Model):
    """A grant waiting for its release: the release job's queue.

    The ledger row stays as written; this row is what the job looks for, through an index on
    the grants not yet settled (released, or reversed by a cancel), so that finding what is
    due never scans the ledger.
    """

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    wallet = models.ForeignKey("customers.Wallet", on_delete=models.PROTECT, related_name="+")
    entry = TenantOneToOneField(
        "customers.LedgerEntry", on_delete=models.PROTECT, related_name="pending_grant"
    )
    releases_at = models.DateTimeField()
    valid_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="The rule's validity when it granted: counted from the release."
    )
    settled_at = models.DateTimeField(null=True, blank=True, help_text="When it was released or reversed.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "entry"], name="pending_grant_once"),
        ]
        indexes = [
            models.Index(
                fields=["releases_at"], condition=Q(settled_at__isnull=True), name="pending_grant_due"
            ),
        ]

    def __str__(self) -> str:
        return f"Pending grant of entry {self.entry_id}"


class ExpiryReminder(models.Model):
    """A `rewards_expiring` reminder sent to a customer for one expiry date: sent once."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    expires_on = models.DateField(help_text="The last local day on which the rewards can be spent.")
    points = models.DecimalField(max_digits=14, decimal_places=2)
    balance = models.DecimalField(max_digits=14, decimal_places=2)
    messages = models.PositiveIntegerField(
        default=0, help_text="Messages queued (one per matching template)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "customer", "expires_on"], name="expiry_reminder_once_per_date"
            ),
        ]

    def __str__(self) -> str:
        return f"Expiry reminder for {self.expires_on}"
