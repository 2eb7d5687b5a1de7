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

from loyalty.core.fields import MoneyField

#: Inactivity shorter than a month would expire a customer's rewards between two ordinary visits.
MIN_INACTIVITY_DAYS = 30
MAX_EXPIRY_DAYS = 3650


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name such as America/Sao_Paulo.")


class Account(models.Model):
    """A merchant account: the tenant that owns every other object."""

    name = models.CharField(max_length=120)
    time_zone = models.CharField(
        max_length=64,
        default=settings.DEFAULT_ACCOUNT_TIME_ZONE,
        validators=[validate_time_zone],
        help_text="Times sent without an offset, and day boundaries (expiry, sale dates), use this zone.",
    )
    is_active = models.BooleanField(
        default=True, help_text="An inactive account's credentials and stores are refused."
    )
    # The program settings. Changing them never moves what was already granted: new values
    # apply to grants made after the change.
    expiry_inactivity_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(MIN_INACTIVITY_DAYS), MaxValueValidator(MAX_EXPIRY_DAYS)],
        help_text=(
            "Points and cashback expire this many days after the customer's last purchase "
            "(each purchase pushes it back); empty: never by inactivity. Applies to purchases "
            "made after the change."
        ),
    )
    expiry_reminder_days = models.PositiveSmallIntegerField(
        default=7,
        db_default=7,
        validators=[MaxValueValidator(365)],
        help_text="Days before rewards expire that the 'rewards expiring' message is queued; 0: no reminder.",
    )
    redeem_max_share = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)],
        help_text="The largest percent of a purchase that cashback balance may pay; empty: no limit.",
    )
    redeem_min_purchase = MoneyField(
        default=0,
        db_default=0,
        validators=[MinValueValidator(0)],
        help_text="The smallest purchase on which cashback balance may be spent (R$).",
    )
    redeem_min_balance = MoneyField(
        default=0,
        db_default=0,
        validators=[MinValueValidator(0)],
        help_text="The cashback balance a customer must hold before spending any of it (R$).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

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

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="stores")
    name = models.CharField(max_length=120)
    token_digest = models.CharField(max_length=64, editable=False)
    token_prefix = models.CharField(max_length=16, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "name", "id"]
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

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credentials")
    name = models.CharField(max_length=120, help_text="What uses it, e.g. 'ERP' or 'E-commerce'.")
    api_key = models.CharField(max_length=64, unique=True, editable=False)
    secret_hash = models.CharField(max_length=256, editable=False)
    secret_prefix = models.CharField(max_length=16, editable=False)
    secret_generation = models.PositiveIntegerField(default=1, editable=False)
    is_active = models.BooleanField(default=True)
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When a token was last issued for it."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "name", "id"]
        verbose_name = "API credential"

    def __str__(self) -> str:
        return f"{self.name} ({self.api_key})"


class Membership(models.Model):
    """A staff user's access to an account in the admin."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MANAGER = "manager", "Manager"
        STAFF = "staff", "Staff"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="membership_unique_per_user_account"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.account} ({self.get_role_display()})"
