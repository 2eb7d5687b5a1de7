"""Balance redemption at a till: cashback ("vale compras") and digital change, both or neither.

A redemption is identified like a purchase (store, type, local day and receipt, see
`loyalty.core.receipts`): sent again it answers the first result; the same keys with another
customer or other amounts are a conflict. Cancelling the purchase gives it back.

The cashback part obeys the account's redemption limits (`loyalty.tenancy.redemption_limits`,
the function the discount quote's `max_redeemable` also reads); digital change obeys none.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from django.db import IntegrityError, transaction
from django.db.models import Exists, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from customers.models import Customer, LedgerEntry, Wallet
from customers.services import (
    Posting,
    UnknownCustomer,
    customer_wallet_find_locked,
    entries_reversal,
    postings_total,
    wallet_post,
)
from loyalty.core.dates import local_date
from loyalty.core.errors import BusinessRuleError, ConflictError
from loyalty.core.inserts import insert_unless_taken
from loyalty.core.money import ZERO
from loyalty.core.receipts import Receipt
from loyalty.outbox.models import Event
from loyalty.outbox.services import format_brl, messages_queue_event
from loyalty.outbox.webhooks.models import WebhookEventType
from loyalty.outbox.webhooks.services import webhook_event_record
from loyalty.tenancy.models import Account, Store
from loyalty.tenancy.redemption_limits import Redeemable, RedeemLimit, RedeemLimits, redeemable_balance
from sales.outcomes import CancelledSale, Reversal
from sales.selectors import reference_names_another_standing_purchase
from vouchers.models import BalanceRedemption


@dataclass
class RedemptionOutcome:
    redemption: BalanceRedemption
    created: bool
    wallet: Wallet
    warnings: list[str] = field(default_factory=list)


class RedemptionConflict(ConflictError):
    """The keys name a recorded redemption with another customer or amounts; nothing was debited."""

    code = "redemption_conflict"

    def __init__(self, *, redemption: BalanceRedemption, differences: list[str]) -> None:
        super().__init__(
            gettext("Redemption %(id)s was recorded with these keys and another %(differences)s.")
            % {"id": redemption.pk, "differences": ", ".join(differences)}
        )
        self.redemption = redemption
        self.differences = differences


class RedeemLimitExceeded(BusinessRuleError):
    """The cashback asked is more than the account's limits allow now; nothing was debited.

    `limit` names the setting; `allowed` is what may be spent now: `balance`, the most
    cashback, and `digital_change`, what the wallet holds of it (no limit applies to it).
    """

    code = "redeem_limit"

    def __init__(self, detail: str, *, limit: RedeemLimit, balance: Decimal, digital_change: Decimal) -> None:
        super().__init__(
            detail, limit=str(limit), allowed={"balance": balance, "digital_change": digital_change}
        )
        self.limit = limit
        self.allowed_balance = balance
        self.allowed_digital_change = digital_change


def _percent(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)).normalize():f}"


def _limit_refusal(
    limits: RedeemLimits,
    redeemable: Redeemable,
    limit: RedeemLimit,
    *,
    value: Decimal,
    balance: Decimal,
    digital_change: Decimal,
    purchase_total: Decimal | None,
) -> RedeemLimitExceeded:
    values = {
        "value": value,
        "limit": str(limit),
        "balance": balance,
        "purchase_total": purchase_total,
        "min_balance": limits.min_balance,
        "min_purchase": limits.min_purchase,
        "max_share": _percent(limits.max_share),
        "allowed": redeemable.balance,
    }
    if redeemable.purchase_total_missing:
        message = gettext(
            "Redemption limit: %(value)s of cashback balance asked, but this account limits cashback "
            "redemption by the purchase (%(limit)s): send purchase_total, the purchase's amount, to "
            "spend cashback balance (digital change needs none). Nothing was debited."
        )
    elif limit == RedeemLimit.MIN_BALANCE:
        message = gettext(
            "Redemption limit: %(value)s of cashback balance asked, but cashback balance may be spent "
            "once the customer holds at least %(min_balance)s of it (%(limit)s); this customer holds "
            "%(balance)s. Nothing was debited."
        )
    elif limit == RedeemLimit.MIN_PURCHASE:
        message = gettext(
            "Redemption limit: %(value)s of cashback balance asked, but cashback balance may be spent "
            "on purchases of at least %(min_purchase)s (%(limit)s); purchase_total is "
            "%(purchase_total)s. Nothing was debited."
        )
    else:
        message = gettext(
            "Redemption limit: %(value)s of cashback balance asked, but cashback balance may pay at "
            "most %(max_share)s%% of a purchase (%(limit)s): at most %(allowed)s of purchase_total "
            "%(purchase_total)s. Nothing was debited."
        )
    return RedeemLimitExceeded(
        message % values,
        limit=limit,
        balance=redeemable.balance,
        digital_change=max(digital_change, ZERO),  # a debt (left by a reversal) allows nothing
    )


def _limits_check(
    limits: RedeemLimits,
    *,
    value: Decimal,
    balance: Decimal,
    digital_change: Decimal,
    purchase_total: Decimal | None,
) -> None:
    """Raise `RedeemLimitExceeded` if `value` of cashback is more than the limits allow with
    `balance` held; `digital_change` is what the wallet holds of it, for the answer."""
    if not value:
        return  # digital change alone: the customer's own money, under no limit
    redeemable = redeemable_balance(account_limits=limits, balance=balance, purchase_total=purchase_total)
    # With no limit holding it below the balance, asking more is a matter of funds: that refusal
    # is `InsufficientFunds`, from the posting.
    if value > redeemable.balance and redeemable.limit is not None:
        raise _limit_refusal(
            limits,
            redeemable,
            redeemable.limit,
            value=value,
            balance=balance,
            digital_change=digital_change,
            purchase_total=purchase_total,
        )


def _redemptions_with_keys(
    account: Account, store: Store, type: str, day: date, receipt: Receipt
) -> QuerySet[BalanceRedemption]:
    return BalanceRedemption.objects.filter(
        receipt.identity(), account=account, store=store, type=type, local_date=day, legacy_duplicate=False
    )


def _redemption_recorded(
    account: Account, store: Store, type: str, day: date, receipt: Receipt
) -> BalanceRedemption | None:
    return _redemptions_with_keys(account, store, type, day, receipt).first()


def _redemption_replay(
    redemption: BalanceRedemption,
    *,
    account: Account,
    customer: Customer,
    wallet: Wallet,
    value: Decimal,
    digital_change: Decimal,
) -> RedemptionOutcome:
    differences = [
        name
        for name, same in (
            ("customer", redemption.customer_id == customer.pk),
            ("value", redemption.value == value),
            ("digital_change", redemption.digital_change == digital_change),
        )
        if not same
    ]
    if differences:
        raise RedemptionConflict(redemption=redemption, differences=differences)
    warnings = []
    if redemption.status == BalanceRedemption.Status.RETURNED:
        # The till must not grant the discount again: its purchase was cancelled.
        if redemption.returned_at:
            warning = gettext(
                "This redemption was given back on %(when)s (%(time_zone)s) when its purchase was "
                "cancelled; nothing was debited again."
            ) % {
                "when": f"{redemption.returned_at.astimezone(account.tzinfo):%Y-%m-%d %H:%M}",
                "time_zone": account.time_zone,
            }
        else:
            warning = gettext(
                "This redemption was given back when its purchase was cancelled; nothing was debited again."
            )
        warnings.append(warning)
    redemption.customer = customer
    return RedemptionOutcome(redemption=redemption, created=False, wallet=wallet, warnings=warnings)


@transaction.atomic(savepoint=False)
def balance_redeem(
    *,
    account: Account,
    store: Store,
    customer: Customer | None = None,
    document: str | None = None,
    value: Decimal,
    digital_change: Decimal,
    occurred_at: datetime,
    type: str = "",
    reference: str = "",
    pdv: str = "",
    coupon: str = "",
    purchase_total: Decimal | None = None,
) -> RedemptionOutcome:
    """Spend cashback balance and digital change at a till, both or neither, from the wallet of
    `customer` or of the customer of `document` (`UnknownCustomer` when the account has none).

    A redemption is identified like a purchase (store, type, local day and receipt). Sent
    again with the same customer and amounts it answers the first result and debits nothing
    more; with another customer or other amounts it is a `RedemptionConflict`.

    The cashback `value` must stay within the account's limits for a purchase of
    `purchase_total` (see `loyalty.tenancy.redemption_limits`), else `RedeemLimitExceeded`
    and nothing is debited. A replay answers before the limits are read: a redemption
    accepted once is not refused later because the account changed its limits.
    `purchase_total` is not part of the redemption's identity (it is not recorded).
    """
    day = local_date(occurred_at, account.tzinfo)
    receipt = Receipt.of(reference=reference, pdv=pdv, coupon=coupon)
    # The wallet first, locked, with whether these keys are taken, in one query: the balance
    # as locked has another till's redemption of a moment ago already out of it.
    found = customer_wallet_find_locked(
        account=account,
        document=document,
        customer_id=customer.pk if customer is not None else None,
        annotations={
            "redemption_keys_taken": Exists(_redemptions_with_keys(account, store, type, day, receipt))
        },
    )
    if found is None:
        raise UnknownCustomer(gettext("No consumer with this document in this account."))
    customer, locked = found.customer, found.wallet
    replay = partial(
        _redemption_replay,
        account=account,
        customer=customer,
        wallet=locked,
        value=value,
        digital_change=digital_change,
    )
    if found.annotated["redemption_keys_taken"]:
        existing = _redemption_recorded(account, store, type, day, receipt)
        if existing is not None:
            return replay(existing)
    redemption = BalanceRedemption(
        account=account,
        customer=customer,
        store=store,
        type=type,
        occurred_at=occurred_at,
        local_date=day,
        value=value,
        digital_change=digital_change,
        **receipt.as_fields(),
    )
    if not insert_unless_taken(redemption):
        # Another till recorded a redemption with these keys a moment ago: for another
        # customer, or for this one, committed while this request waited for the wallet.
        existing = _redemption_recorded(account, store, type, day, receipt)
        if existing is None:
            raise IntegrityError("The redemption was refused by a constraint of the database.")
        return replay(existing)
    of_this_redemption = partial(
        Posting, reason="Redeemed at the till", store=store, links={"redemption": redemption}
    )
    postings = [
        of_this_redemption(kind=kind, deltas={bucket: -amount})
        for kind, bucket, amount in (
            (LedgerEntry.Kind.BALANCE_REDEEM, "balance", value),
            (LedgerEntry.Kind.DIGITAL_CHANGE_DEBIT, "digital_change", digital_change),
        )
        if amount
    ]
    limits = RedeemLimits.of(account)
    check = partial(_limits_check, limits, value=value, purchase_total=purchase_total)
    check(balance=locked.balance, digital_change=locked.digital_change)
    held = locked.balance
    wallet = wallet_post(customer=customer, postings=postings, locked_wallet=locked)
    if wallet.balance + value < held:
        # Posting first expired amounts past their end (lots not yet taken by the expiry job):
        # the limits apply to what was really held (the refusal rolls the expiry back too).
        check(balance=wallet.balance + value, digital_change=wallet.digital_change + digital_change)
    messages_queue_event(
        account=account,
        customer=customer,
        event=Event.BALANCE_REDEEMED,
        context={"redeemed": format_brl(value), "redeemed_digital_change": format_brl(digital_change)},
        wallet_after={
            "balance": wallet.balance,
            "points": wallet.points,
            "digital_change": wallet.digital_change,
        },
        store=store,
    )
    webhook_event_record(
        account_id=account.pk,
        type=WebhookEventType.BALANCE_REDEEMED,
        occurred_at=occurred_at,
        data={
            "redemption_id": redemption.pk,
            "customer_id": customer.pk,
            "store_id": store.pk,
            "type": type,
            "reference": redemption.reference,
            "pdv": redemption.pdv,
            "coupon": redemption.coupon,
            "balance": value,
            "digital_change": digital_change,
        },
    )
    return RedemptionOutcome(redemption=redemption, created=True, wallet=wallet)


def redemptions_give_back(*, cancelled: CancelledSale) -> Reversal:
    """On a purchase's cancellation, give back the balance redeemed for it: under the same
    store, type and day, with its fiscal receipt, or with its reference where that names
    this purchase alone (vouchers' `sale_cancelled` receiver).

    A redemption sent with a reference that another standing purchase of the day also
    carries stays redeemed: it may have paid for that one. Once every purchase with the
    reference is cancelled, the last cancel gives it back.
    """
    sale = cancelled.sale
    if cancelled.customer is None or sale.store_id is None or not sale.receipt:
        return Reversal()
    candidates = list(
        BalanceRedemption.objects.select_for_update()
        .filter(
            sale.receipt.sharing_a_key(),
            account_id=sale.account_id,
            store_id=sale.store_id,
            type=sale.type,
            local_date=sale.local_date,
            customer=cancelled.customer,
            status=BalanceRedemption.Status.REDEEMED,
        )
        .order_by("id")
    )
    if not candidates:
        return Reversal()
    reference_is_unique = not reference_names_another_standing_purchase(sale)
    redemptions = [
        redemption
        for redemption in candidates
        if sale.receipt.names_the_same_purchase(redemption.receipt, reference_is_unique=reference_is_unique)
    ]
    if not redemptions:
        return Reversal()
    entries = list(
        LedgerEntry.objects.filter(
            account_id=sale.account_id, redemption__in=redemptions, reversed_by__isnull=True
        )
        .select_related("store")
        .order_by("id")
    )
    postings = entries_reversal(
        entries, reason=f"Purchase {sale.pk} cancelled: redemption given back", links={"sale_id": sale.pk}
    )
    wallet = wallet_post(
        customer=cancelled.customer, postings=postings, overdraw=True, locked_wallet=cancelled.wallet
    )
    BalanceRedemption.objects.filter(
        account_id=sale.account_id, pk__in=[redemption.pk for redemption in redemptions]
    ).update(status=BalanceRedemption.Status.RETURNED, returned_at=timezone.now())
    return Reversal(moved=postings_total(postings), redemptions_returned=tuple(redemptions), wallet=wallet)
