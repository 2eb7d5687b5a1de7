"""Reward rules: what an identified sale earns, and under which conditions."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loyalty.core.fields import MoneyField, TenantOneToOneField
from loyalty.core.vocabulary import PaymentMethod, SaleType
from loyalty.tenancy.models import MAX_EXPIRY_DAYS, Account, Store


def default_excluded_methods() -> list[int]:
    # What was paid with digital change earns nothing by default.
    return [PaymentMethod.DIGITAL_CHANGE.value]


#: The fields only some kinds of rule use, and those kinds.
KIND_ONLY_FIELDS = {"threshold": ("voucher",), "reward": ("voucher",), "template": ("message",)}
#: Why a rule of another kind refuses each of those fields (`%(kind)s`: the rule's kind).
KIND_FIELD_REFUSALS = {
    "threshold": _("A %(kind)s rule takes no threshold: only voucher rules use a threshold. Leave it empty."),
    "reward": _(
        "A %(kind)s rule takes no reward: only voucher rules use a catalogue reward. Leave it empty."
    ),
    "template": _(
        "A %(kind)s rule takes no template: only message rules use a message template. Leave it empty."
    ),
}


class RewardRule(models.Model):
    """A rule of the account's program. Rules add up: each one that matches grants its reward."""

    class Kind(models.TextChoices):
        CASHBACK = "cashback", _("Cashback (percent of the eligible amount to the balance)")
        POINTS = "points", _("Points (per currency unit of the eligible amount)")
        VOUCHER = "voucher", _("Voucher (when the eligible amount reaches the threshold)")
        MESSAGE = "message", _("Message only (queues a communication)")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="rules", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.DecimalField(
        _("value"),
        max_digits=12,
        decimal_places=4,
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_(
            "Cashback: percent of the eligible amount (5 = 5 %). Points: points per currency unit "
            "(1 = one point per R$ 1). Voucher: the voucher's value in R$. Message: not used."
        ),
    )
    threshold = MoneyField(
        _("threshold"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Voucher rules: the eligible amount a sale must reach to earn the voucher."),
    )
    reward = models.ForeignKey(
        "vouchers.Reward",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("reward"),
        help_text=_(
            "Voucher rules: the catalogue reward it hands out (takes its stock); empty: a voucher of `value`."
        ),
    )
    template = models.ForeignKey(
        "loyalty.MessageTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("message template"),
        help_text=_("Message rules: the template queued for each matching sale."),
    )
    starts_at = models.DateTimeField(
        _("starts at"), null=True, blank=True, help_text=_("Empty: since always.")
    )
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True, help_text=_("Empty: open-ended."))
    weekdays = models.JSONField(
        _("weekdays"),
        default=list,
        blank=True,
        help_text=_("Local weekdays on which it applies (0 = Monday); empty: every day."),
    )
    stores = models.ManyToManyField(
        Store,
        through="RuleStore",
        blank=True,
        related_name="+",
        verbose_name=_("stores"),
        help_text=_("Empty: every store."),
    )
    categories = models.ManyToManyField(
        "promotions.Category",
        through="RuleCategory",
        blank=True,
        related_name="+",
        verbose_name=_("categories"),
        help_text=_(
            "Only items of these categories (children included) are eligible; empty: the whole sale."
        ),
    )
    excluded_payment_methods = models.JSONField(
        _("excluded payment methods"),
        default=default_excluded_methods,
        blank=True,
        help_text=_("Payment methods whose share earns nothing (9 = digital change)."),
    )
    minimum_amount = MoneyField(
        _("minimum amount"),
        default=0,
        validators=[MinValueValidator(0)],
        help_text=_("Minimum eligible amount."),
    )
    maximum_reward = models.DecimalField(
        _("maximum reward"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Cap of the reward of one sale (R$ for cashback, points for points); empty: no cap."),
    )
    sale_types = models.JSONField(
        _("sale types"),
        default=list,
        blank=True,
        help_text=_("Sale types that earn (DAV, OS, FOOD, CF, NF); empty: all."),
    )
    valid_days = models.PositiveIntegerField(
        _("validity (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_EXPIRY_DAYS)],
        help_text=_(
            "Points and cashback it grants can be spent until the end of the local day this many "
            "days after they became available; vouchers: their validity. Empty: no expiry. A "
            "change applies to later grants."
        ),
    )
    pending_days = models.PositiveIntegerField(
        _("days until release"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_EXPIRY_DAYS)],
        help_text=_("Days before what it grants becomes available."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["account", "id"]
        verbose_name = _("reward rule")
        verbose_name_plural = _("reward rules")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        if not isinstance(self.weekdays, list) or any(day not in range(7) for day in self.weekdays):
            errors["weekdays"] = gettext("A list of weekday numbers from 0 (Monday) to 6 (Sunday).")
        if not isinstance(self.sale_types, list) or any(
            kind not in SaleType.values for kind in self.sale_types
        ):
            errors["sale_types"] = gettext("A list of sale types among %(types)s.") % {
                "types": ", ".join(SaleType.values)
            }
        if not isinstance(self.excluded_payment_methods, list) or any(
            method not in PaymentMethod.values for method in self.excluded_payment_methods
        ):
            errors["excluded_payment_methods"] = gettext("A list of payment method numbers from 1 to 9.")
        if self.kind == self.Kind.VOUCHER and self.threshold is None:
            errors["threshold"] = gettext("A voucher rule needs the amount that earns the voucher.")
        if self.kind in (self.Kind.CASHBACK, self.Kind.POINTS) and not self.value:
            errors["value"] = gettext("This kind of rule needs a value above zero.")
        if self.kind == self.Kind.VOUCHER and not self.value and self.reward_id is None:
            errors["value"] = gettext("A voucher rule needs a value, or a reward of the catalogue.")
        if self.kind == self.Kind.MESSAGE and self.template_id is None:
            errors["template"] = gettext("A message rule needs the template it queues.")
        # A reward or template of another account would leak it into this account's program.
        for name in ("reward", "template"):
            linked = getattr(self, name) if getattr(self, f"{name}_id") is not None else None
            if linked is not None and linked.account_id != self.account_id:
                errors[name] = gettext("%(object)s is not of the rule's account.") % {"object": linked}
        # A field the rule's kind does not use would be silently ignored when it grants.
        for name, kinds in KIND_ONLY_FIELDS.items():
            given = self.threshold if name == "threshold" else getattr(self, f"{name}_id")
            if given is not None and self.kind in self.Kind.values and self.kind not in kinds:
                errors[name] = KIND_FIELD_REFUSALS[name] % {"kind": self.kind}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = gettext("Must be after the start.")
        if errors:
            raise ValidationError(errors)


class RuleStore(models.Model):
    """A store a rule is limited to."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", verbose_name=_("account")
    )
    rewardrule = models.ForeignKey(
        RewardRule, on_delete=models.CASCADE, related_name="+", verbose_name=_("reward rule")
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="+", verbose_name=_("store"))

    class Meta:
        db_table = "loyalty_rewardrule_stores"
        verbose_name = _("store of a rule")
        verbose_name_plural = _("stores of rules")
        constraints = [
            models.UniqueConstraint(fields=["account", "rewardrule", "store"], name="rule_store_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rewardrule} at {self.store}"


class RuleCategory(models.Model):
    """A category a rule is limited to (its children included)."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="+", verbose_name=_("account")
    )
    rewardrule = models.ForeignKey(
        RewardRule, on_delete=models.CASCADE, related_name="+", verbose_name=_("reward rule")
    )
    category = models.ForeignKey(
        "promotions.Category", on_delete=models.CASCADE, related_name="+", verbose_name=_("category")
    )

    class Meta:
        db_table = "loyalty_rewardrule_categories"
        verbose_name = _("category of a rule")
        verbose_name_plural = _("categories of rules")
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

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    wallet = models.ForeignKey(
        "customers.Wallet", on_delete=models.PROTECT, related_name="+", verbose_name=_("wallet")
    )
    entry = TenantOneToOneField(
        "customers.LedgerEntry",
        on_delete=models.PROTECT,
        related_name="pending_grant",
        verbose_name=_("ledger entry"),
    )
    releases_at = models.DateTimeField(_("releases at"))
    valid_days = models.PositiveIntegerField(
        _("validity (days)"),
        null=True,
        blank=True,
        help_text=_("The rule's validity when it granted: counted from the release."),
    )
    settled_at = models.DateTimeField(
        _("settled at"), null=True, blank=True, help_text=_("When it was released or reversed.")
    )

    class Meta:
        verbose_name = _("pending grant")
        verbose_name_plural = _("pending grants")
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

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("account")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="+", verbose_name=_("customer")
    )
    expires_on = models.DateField(
        _("expires on"), help_text=_("The last local day on which the rewards can be spent.")
    )
    points = models.DecimalField(_("points"), max_digits=14, decimal_places=2)
    balance = models.DecimalField(_("balance"), max_digits=14, decimal_places=2)
    messages = models.PositiveIntegerField(
        _("messages"), default=0, help_text=_("Messages queued (one per matching template).")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("expiry reminder")
        verbose_name_plural = _("expiry reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "customer", "expires_on"], name="expiry_reminder_once_per_date"
            ),
        ]

    def __str__(self) -> str:
        return f"Expiry reminder for {self.expires_on}"
