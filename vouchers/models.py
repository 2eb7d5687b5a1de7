"""Vouchers: single-use codes worth a value, issued to one customer with a validity."""

from django.db import models

from loyalty.models import Account
from loyalty.money import MoneyField

# No look-alikes (0/O, 1/I/L): codes are read aloud and typed at tills.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


class Voucher(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        USED = "used", "Used"
        CANCELLED = "cancelled", "Cancelled"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="vouchers")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="vouchers")
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
