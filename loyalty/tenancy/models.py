"""Tenancy: the merchant account and what authenticates on its behalf.

Everything in the product belongs to exactly one account. Stores authenticate tills
(the `X-Store-Token` header), API credentials authenticate integrations, and staff
memberships give admin users access to an account's data.
"""

import zoneinfo
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from loyalty.core.fields import MoneyField

#: Inactivity shorter than a month would expire a customer's rewards between two ordinary visits.
MIN_INACTIVITY_DAYS = 30
MAX_EXPIRY_DAYS = 3650


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            gettext("Unknown time zone %(zone)s; use an IANA name such as America/Sao_Paulo.")
            % {"zone": repr(value)}
        )


class Account(models.Model):
    """A merchant account: the tenant that owns every other object."""

    name = models.CharField(_("name"), max_length=120)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default=settings.DEFAULT_ACCOUNT_TIME_ZONE,
        validators=[validate_time_zone],
        help_text=_("Times sent without an offset, and day boundaries (expiry, sale dates), use this zone."),
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("An inactive account's credentials and stores are refused.")
    )
    # The program settings. Changing them never moves what was already granted: new values
    # apply to grants made after the change.
    expiry_inactivity_days = models.PositiveIntegerField(
        _("expiry after inactivity (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_INACTIVITY_DAYS), MaxValueValidator(MAX_EXPIRY_DAYS)],
        help_text=_(
            "Points and cashback expire this many days after the customer's last purchase "
            "(each purchase pushes it back); empty: never by inactivity. Applies to purchases "
            "made after the change."
        ),
    )
    expiry_reminder_days = models.PositiveSmallIntegerField(
        _("expiry reminder (days before)"),
        default=7,
        db_default=7,
        validators=[MaxValueValidator(365)],
        help_text=_(
            "Days before rewards expire that the 'rewards expiring' message is queued; 0: no reminder."
        ),
    )
    redeem_max_share = models.DecimalField(
        _("redemption cap (percent of purchase)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
        help_text=_("The largest percent of a purchase that cashback balance may pay; empty: no limit."),
    )
    redeem_min_purchase = MoneyField(
        _("minimum purchase to redeem"),
        default=0,
        db_default=0,
        validators=[MinValueValidator(0)],
        help_text=_("The smallest purchase on which cashback balance may be spent (R$)."),
    )
    redeem_min_balance = MoneyField(
        _("minimum balance to redeem"),
        default=0,
        db_default=0,
        validators=[MinValueValidator(0)],
        help_text=_("The cashback balance a customer must hold before spending any of it (R$)."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")

    def __str__(self) -> str:
        return self.name

    @cached_property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class Store(models.Model):
    """A shop of the account. Its token authenticates the tills of the POS dialect.

    The token is shown once and kept only as a SHA-256 digest: it is 256 bits of
    randomness, so a slow password hash would add nothing but latency to every till
    request, while the digest still makes a database leak useless.
    """

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="stores", verbose_name=_("account")
    )
    name = models.CharField(_("name"), max_length=120)
    token_digest = models.CharField(_("token digest"), max_length=64, editable=False)
    token_prefix = models.CharField(_("token prefix"), max_length=16, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["account", "name", "id"]
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="store_name_unique_per_account"),
            # A till's bearer token names the account; its store token is looked up within it.
            models.UniqueConstraint(
                fields=["account", "token_digest"], name="store_token_unique_per_account"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApiCredential(models.Model):
    """An `api_key` / `api_secret` pair of an account, exchanged for bearer tokens.

    The secret is stored with Django's password hasher. `secret_generation` goes up
    whenever the secret is regenerated, which invalidates every token issued before.
    """

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="credentials", verbose_name=_("account")
    )
    name = models.CharField(
        _("name"), max_length=120, help_text=_("What uses it, e.g. 'ERP' or 'E-commerce'.")
    )
    api_key = models.CharField(_("API key"), max_length=64, unique=True, editable=False)
    secret_hash = models.CharField(_("secret hash"), max_length=256, editable=False)
    secret_prefix = models.CharField(_("secret prefix"), max_length=16, editable=False)
    secret_generation = models.PositiveIntegerField(_("secret generation"), default=1, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    last_used_at = models.DateTimeField(
        _("last used at"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When a token was last issued for it."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["account", "name", "id"]
        verbose_name = _("API credential")
        verbose_name_plural = _("API credentials")

    def __str__(self) -> str:
        return f"{self.name} ({self.api_key})"


class Membership(models.Model):
    """A staff user's access to an account in the admin."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MANAGER = "manager", _("Manager")
        STAFF = "staff", _("Staff")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("account")
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["account", "user_id"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="membership_unique_per_user_account"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.account} ({self.get_role_display()})"
