"""Vouchers: single-use codes worth a value for one customer — issued, used, cancelled.

A voucher is locked last (after the wallet and the stock), as everywhere in this app.
"""

import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Protocol

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from customers.models import Customer, LedgerEntry
from customers.services import entries_reversal, wallet_lock, wallet_post
from loyalty.core.errors import ConflictError, NotFoundError
from loyalty.outbox.webhooks.models import WebhookEventType
from loyalty.outbox.webhooks.services import WebhookEventData, webhook_events_record
from loyalty.tenancy.models import Account, Store
from sales.models import Sale
from vouchers.models import CODE_ALPHABET, CODE_LENGTH, Reward, Voucher
from vouchers.selectors import voucher_refusal

DEFAULT_VALID_DAYS = 30


class IssuingRule(Protocol):
    """A rule that earned a voucher, as the voucher records it (the engine, a floor above, owns
    the model)."""

    @property
    def pk(self) -> int: ...


def new_voucher_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def voucher_issued_event(voucher: Voucher) -> WebhookEventData:
    """The `voucher.issued` webhook event of a voucher just issued."""
    return WebhookEventData(
        type=WebhookEventType.VOUCHER_ISSUED,
        occurred_at=voucher.valid_from,
        data={
            "voucher_code": voucher.code,
            "value": voucher.value,
            "customer_id": voucher.customer_id,
            "coupon_id": voucher.reward_id,
            "sale_id": voucher.sale_id,
            "valid_until": voucher.valid_until,
        },
    )


@transaction.atomic(savepoint=False)
def voucher_issue(
    *,
    account: Account,
    customer: Customer,
    value: Decimal,
    valid_days: int | None = None,
    sale: Sale | None = None,
    rule: IssuingRule | None = None,
    reward: Reward | None = None,
    announce: bool = True,
) -> Voucher:
    """A new active voucher with an unguessable code, valid from now for `valid_days`.

    It is announced to the account's webhooks (`voucher.issued`) unless `announce` is False:
    a sale's recording announces the vouchers the sale earned itself, with the sale, in one
    statement (`voucher_issued_event`)."""
    now = timezone.now()
    for _ in range(5):
        voucher = Voucher(
            account=account,
            customer=customer,
            reward=reward,
            code=new_voucher_code(),
            value=value,
            valid_from=now,
            valid_until=now + timedelta(days=valid_days or DEFAULT_VALID_DAYS),
            sale=sale,
            rule_id=rule.pk if rule is not None else None,
        )
        try:
            with transaction.atomic():
                voucher.save()
        except IntegrityError:
            continue  # a code collision: 31^12 codes make this vanishingly rare
        if announce:
            webhook_events_record(account_id=account.pk, events=[voucher_issued_event(voucher)])
        return voucher
    raise RuntimeError("Could not generate a unique voucher code.")


def voucher_lock(*, account: Account, code: str) -> Voucher:
    """The account's voucher with this code (any case), locked (voucher lock: last)."""
    voucher = Voucher.objects.select_for_update().filter(account=account, code=code.strip().upper()).first()
    if voucher is None:
        raise NotFoundError(gettext("No voucher with this code in this account."))
    return voucher


@transaction.atomic(savepoint=False)
def voucher_use(*, account: Account, code: str, reference: str = "", store: Store | None = None) -> Voucher:
    """Mark a voucher used at a sale; it can be used once."""
    voucher = voucher_lock(account=account, code=code)
    refusal = voucher_refusal(voucher, timezone.now())
    if refusal is not None:
        raise ConflictError(refusal.message, code=f"voucher_{refusal.reason}", reason=refusal.reason)
    voucher.status = Voucher.Status.USED
    voucher.used_at = timezone.now()
    voucher.used_reference = reference
    voucher.used_store = store
    voucher.save(update_fields=["status", "used_at", "used_reference", "used_store"])
    webhook_events_record(
        account_id=account.pk,
        events=[
            WebhookEventData(
                type=WebhookEventType.VOUCHER_USED,
                occurred_at=voucher.used_at,
                data={
                    "voucher_code": voucher.code,
                    "value": voucher.value,
                    "customer_id": voucher.customer_id,
                    "coupon_id": voucher.reward_id,
                    "reference": reference,
                    "store_id": store.pk if store is not None else None,
                },
            )
        ],
    )
    return voucher


@transaction.atomic(savepoint=False)
def voucher_cancel(*, voucher: Voucher) -> Voucher:
    """Cancel an unused voucher; a used one stays used. The points a customer paid for it
    are given back (into the expiry lots they came from, see `customers.services.lots`),
    unless it had expired: then they stay spent."""
    wallet = wallet_lock(account_id=voucher.account_id, customer_id=voucher.customer_id)
    voucher = Voucher.objects.select_for_update().get(account_id=voucher.account_id, pk=voucher.pk)
    if voucher.status == Voucher.Status.USED:
        raise ConflictError(
            gettext("A used voucher cannot be cancelled."), code="voucher_used", reason="used"
        )
    if voucher.status != Voucher.Status.CANCELLED:
        voucher.status = Voucher.Status.CANCELLED
        voucher.cancelled_at = timezone.now()
        voucher.save(update_fields=["status", "cancelled_at"])
        paid = list(
            LedgerEntry.objects.filter(
                account_id=voucher.account_id,
                voucher=voucher,
                kind=LedgerEntry.Kind.POINTS_REDEEM,
                reversed_by__isnull=True,
            ).order_by("id")
        )
        # A voucher that expired unused was the customer's to use: its points stay spent.
        if paid and voucher.cancelled_at < voucher.valid_until:
            wallet_post(
                postings=entries_reversal(
                    paid, reason=f"Voucher {voucher.code} cancelled: points given back"
                ),
                locked_wallet=wallet,
            )
    return voucher


@transaction.atomic(savepoint=False)
def vouchers_cancel_for_sale(*, sale: Sale) -> list[Voucher]:
    """Cancel the still-unused vouchers a sale issued; used ones stay used."""
    vouchers = list(
        Voucher.objects.select_for_update().filter(
            account_id=sale.account_id, sale=sale, status=Voucher.Status.ACTIVE
        )
    )
    if not vouchers:
        return []
    now = timezone.now()
    Voucher.objects.filter(account_id=sale.account_id, pk__in=[voucher.pk for voucher in vouchers]).update(
        status=Voucher.Status.CANCELLED, cancelled_at=now
    )
    for voucher in vouchers:
        voucher.status, voucher.cancelled_at = Voucher.Status.CANCELLED, now
    return vouchers
