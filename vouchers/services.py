"""Writes of the vouchers app."""

import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from vouchers.models import CODE_ALPHABET, CODE_LENGTH, Voucher

DEFAULT_VALID_DAYS = 30


def new_voucher_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@transaction.atomic
def voucher_issue(
    *,
    account,
    customer,
    value: Decimal,
    valid_days: int | None = None,
    sale=None,
    rule=None,
) -> Voucher:
    """A new active voucher with an unguessable code, valid from now for `valid_days`."""
    now = timezone.now()
    for _ in range(5):
        voucher = Voucher(
            account=account,
            customer=customer,
            code=new_voucher_code(),
            value=value,
            valid_from=now,
            valid_until=now + timedelta(days=valid_days or DEFAULT_VALID_DAYS),
            sale=sale,
            rule=rule,
        )
        try:
            with transaction.atomic():
                voucher.save()
        except IntegrityError:
            continue  # a code collision: 31^12 codes make this vanishingly rare
        return voucher
    raise RuntimeError("Could not generate a unique voucher code.")


@transaction.atomic
def vouchers_cancel_for_sale(*, sale) -> list[Voucher]:
    """Cancel the still-unused vouchers a sale issued; used ones stay used."""
    vouchers = list(Voucher.objects.select_for_update().filter(sale=sale, status=Voucher.Status.ACTIVE))
    now = timezone.now()
    Voucher.objects.filter(pk__in=[voucher.pk for voucher in vouchers]).update(
        status=Voucher.Status.CANCELLED, cancelled_at=now
    )
    for voucher in vouchers:
        voucher.status, voucher.cancelled_at = Voucher.Status.CANCELLED, now
    return vouchers
