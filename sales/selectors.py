"""Reads of the sales app."""

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from customers.models import Customer, LedgerEntry, Wallet
from loyalty.core.dates import format_api_datetime
from loyalty.core.errors import ConflictError
from loyalty.core.money import ZERO, round_money, round_points
from loyalty.core.receipts import Receipt
from loyalty.outbox.models import Message
from loyalty.tenancy.models import Account, Store
from sales.models import Sale, SaleItem, SalePayment, SaleReturn, SaleReturnLine
from sales.outcomes import SaleRewards

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Rewards(TypedDict):
    granted_cashback: Decimal
    granted_points: Decimal
    queued_messages: int


class RewardsAndReturns(Rewards):
    returns_recorded: int


#: A sale read `with_rewards`: what it earned when recorded, in its own row.
SaleWithRewards: TypeAlias = "WithAnnotations[Sale, Rewards]"
#: A sale of the v2 representation: its rewards and how many returns it has, in its own row.
SaleWithReturns: TypeAlias = "WithAnnotations[Sale, RewardsAndReturns]"


def _same_account(account_id: int | None) -> int | OuterRef:
    # A literal where the caller knows the account (one shard); else the sale's own.
    return account_id if account_id is not None else OuterRef("account_id")


def _granted(kind: str, account_id: int | None, *buckets: str) -> Coalesce:
    """What the sale's grants of `kind` put into `buckets` (pending included), as a subquery."""
    total = sum((F(bucket) for bucket in buckets[1:]), F(buckets[0]))
    grants = (
        LedgerEntry.objects.filter(account_id=_same_account(account_id), sale=OuterRef("pk"), kind=kind)
        .order_by()
        .values("sale")
        .annotate(total=Sum(total))
        .values("total")
    )
    return Coalesce(Subquery(grants, output_field=DecimalField()), ZERO, output_field=DecimalField())


def _queued_messages(account_id: int | None) -> Coalesce:
    counts = (
        Message.objects.filter(account_id=_same_account(account_id), sale=OuterRef("pk"))
        .order_by()
        .values("sale")
        .annotate(total=Count("id"))
        .values("total")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def with_rewards(sales: QuerySet[Sale], *, account_id: int | None) -> QuerySet[SaleWithRewards]:
    """Sales with what they earned when recorded: the rules' grants of cashback and points (the
    ledger rows pointing to the sale) and the messages queued for it, in the sales' own query.

    `account_id` names the sales' account, when they are all of one (a request's).
    """
    return sales.annotate(
        granted_cashback=_granted(LedgerEntry.Kind.CASHBACK, account_id, "balance", "pending_balance"),
        granted_points=_granted(LedgerEntry.Kind.POINTS, account_id, "points", "pending_points"),
        queued_messages=_queued_messages(account_id),
    )


def with_returns(sales: "QuerySet[SaleWithRewards]", *, account_id: int) -> "QuerySet[SaleWithReturns]":
    """Sales with how many returns each has, counted in the sales' own query (a subquery), so
    that a page of sales costs the same whatever its size."""
    counts = (
        SaleReturn.objects.filter(account_id=account_id, sale=OuterRef("pk"))
        .order_by()
        .values("sale")
        .annotate(total=Count("id"))
        .values("total")
    )
    return sales.annotate(returns_recorded=Coalesce(Subquery(counts, output_field=IntegerField()), 0))


def _of_the_account(relation: str, account_id: int) -> "Prefetch[str, QuerySet[Model], str]":
    """A sale's lines or vouchers, read within the account."""
    related = Sale._meta.get_field(relation).related_model
    assert related is not None, f"{relation} is a relation"
    return Prefetch(relation, queryset=related._default_manager.filter(account_id=account_id))


def sale_queryset(*, account: Account) -> "QuerySet[SaleWithReturns]":
    """The account's sales with what their representation needs, newest first."""
    return with_returns(
        with_rewards(
            Sale.objects.filter(account=account)
            .select_related("customer")
            .prefetch_related(
                *(_of_the_account(name, account.pk) for name in ("items", "payments", "vouchers_issued"))
            )
            .order_by("-occurred_at", "-id"),
            account_id=account.pk,
        ),
        account_id=account.pk,
    )


def _related_of(sale: Sale, relation: str) -> list[Any]:
    """The sale's items, payments or vouchers: as prefetched, or read within its account."""
    cache = getattr(sale, "_prefetched_objects_cache", {})
    if relation in cache:
        return list(cache[relation])
    return list(getattr(sale, relation).filter(account_id=sale.account_id))


def sale_items(sale: Sale) -> list[SaleItem]:
    return _related_of(sale, "items")


def sale_payments(sale: Sale) -> list[SalePayment]:
    return _related_of(sale, "payments")


def customer_sales_export(customer: Customer) -> list[dict[str, Any]]:
    """The customer's sales for an LGPD export: keys, amounts, rewards and items."""
    sales = with_rewards(
        Sale.objects.filter(account_id=customer.account_id, customer=customer)
        .select_related("store")
        .prefetch_related(_of_the_account("items", customer.account_id))
        .order_by("occurred_at", "id"),
        account_id=customer.account_id,
    )
    return [
        {
            "id": sale.pk,
            "date": format_api_datetime(sale.occurred_at),
            "store": sale.store.name if sale.store else None,
            "type": sale.type,
            "reference": sale.reference,
            "pdv": sale.pdv,
            "coupon": sale.coupon,
            "amount": sale.amount,
            "cashback": round_money(sale.granted_cashback),
            "points": round_points(sale.granted_points),
            "status": sale.status,
            "items": [
                {"barcode": item.barcode, "name": item.name, "quantity": item.quantity, "total": item.total}
                for item in sale.items.all()
            ],
        }
        for sale in sales
    ]


def purchases_with_identity(
    *, account: Account, store: Store, type: str, day: date, receipt: Receipt
) -> QuerySet[Sale]:
    """The POS purchase these keys identify (store, type, local day and receipt): one at most."""
    return Sale.objects.filter(
        receipt.identity(), account=account, store=store, source=Sale.Source.POS, type=type, local_date=day
    )


def purchase_by_identity(
    *, account: Account, store: Store, type: str, day: date, receipt: Receipt
) -> "SaleWithRewards | None":
    """The POS purchase these keys identify (store, type, local day and receipt), if recorded."""
    sales = purchases_with_identity(account=account, store=store, type=type, day=day, receipt=receipt)
    return with_rewards(sales, account_id=account.pk).select_related("customer").first()


class AmbiguousReference(ConflictError):
    """A bare reference that names several purchases of the day (two tills used it)."""

    code = "ambiguous_reference"

    def __init__(self, *, purchases: list[Sale], more: bool) -> None:
        message = (
            gettext("The reference names %(count)s or more purchases.")
            if more
            else gettext("The reference names %(count)s purchases.")
        )
        super().__init__(message % {"count": len(purchases)})
        self.purchases = purchases
        self.more = more


def purchase_named(
    *, account: Account, store: Store, type: str, day: date, receipt: Receipt, listed: int = 10
) -> Sale | None:
    """The POS purchase these keys name, if any: a fiscal receipt names one; a reference alone
    may name several, which is `AmbiguousReference` (listing at most `listed` of them)."""
    named = list(
        Sale.objects.filter(
            receipt.naming(), account=account, store=store, source=Sale.Source.POS, type=type, local_date=day
        ).order_by("id")[: listed + 1]
    )
    if len(named) > 1:
        raise AmbiguousReference(purchases=named[:listed], more=len(named) > listed)
    return named[0] if named else None


def reference_names_another_standing_purchase(sale: Sale) -> bool:
    """Whether another purchase of the sale's store, type and day, not cancelled, carries its
    reference."""
    if not sale.reference or sale.store_id is None:
        return False
    return (
        Sale.objects.filter(
            account_id=sale.account_id,
            store_id=sale.store_id,
            source=Sale.Source.POS,
            type=sale.type,
            local_date=sale.local_date,
            reference=sale.reference,
            status=Sale.Status.RECORDED,
        )
        .exclude(pk=sale.pk)
        .exists()
    )


def sales_with_reference(*, account: Account, reference: str) -> QuerySet[Sale]:
    """The server-to-server sale of this ERP reference: one at most."""
    return Sale.objects.filter(account=account, source=Sale.Source.API, reference=reference)


def sale_by_reference(*, account: Account, reference: str) -> "SaleWithReturns | None":
    """The server-to-server sale of this ERP reference, if recorded (with its returns counted:
    a resend answers the sale's v2 representation)."""
    if not reference:
        return None
    return (
        with_returns(
            with_rewards(
                sales_with_reference(account=account, reference=reference),
                account_id=account.pk,
            ),
            account_id=account.pk,
        )
        .select_related("customer")
        .first()
    )


def stored_rewards(sale: SaleWithRewards) -> SaleRewards:
    """What a recorded sale earned, from a sale read `with_rewards` (vouchers may be prefetched)."""
    return SaleRewards(
        cashback=round_money(sale.granted_cashback),
        points=round_points(sale.granted_points),
        vouchers=tuple(sorted(_related_of(sale, "vouchers_issued"), key=lambda voucher: voucher.pk)),
        messages=sale.queued_messages,
    )


def sale_wallet(sale: Sale) -> Wallet | None:
    """The wallet of the sale's customer (None for an unidentified sale), as it stands now."""
    if sale.customer_id is None:
        return None
    return Wallet.objects.filter(account_id=sale.account_id, customer_id=sale.customer_id).first()


def return_lines(sale_return: SaleReturn) -> list[SaleReturnLine]:
    """The lines of a return with the sale's items they came from, in the sale's order."""
    return list(
        SaleReturnLine.objects.filter(account_id=sale_return.account_id, sale_return=sale_return)
        .select_related("item")
        .order_by("item__position", "id")
    )


def sale_return_queryset(*, sale: Sale) -> QuerySet[SaleReturn]:
    """A sale's returns, newest first, each with its lines and their items: a page of them
    costs one query for the returns and one for all their lines, whatever its size."""
    lines = SaleReturnLine.objects.filter(account_id=sale.account_id).select_related("item")
    return (
        SaleReturn.objects.filter(account_id=sale.account_id, sale=sale)
        .prefetch_related(Prefetch("lines", queryset=lines.order_by("item__position", "id")))
        .order_by("-created_at", "-id")
    )
