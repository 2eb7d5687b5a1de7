"""The recorded sales a simulation replays, read in batches in constant memory.

One query streams the sales of the range (identified, not cancelled), and each batch of
`BATCH` of them reads its items and payments — and, when some of them had returns, their
returned lines and amounts — in a query each: the number of statements grows with the
batches, never with the sales in a batch.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, QuerySet, Sum

from loyalty.core.dates import local_day_end
from loyalty.core.money import ZERO
from loyalty.engine.rules import ItemFacts, PaymentFacts, SaleFacts
from loyalty.engine.simulation.replay import ReplayedSale
from sales.models import Sale, SaleItem, SalePayment, SaleReturn, SaleReturnLine

Fact = TypeVar("Fact")

#: Sales read, and replayed, at a time.
BATCH = 2000
SALE_COLUMNS = ("id", "customer_id", "store_id", "type", "amount", "occurred_at", "local_date", "has_returns")


def replayed_sales_filter(
    *, account_id: int, zone: ZoneInfo, date_from: date, date_to: date, store_ids: Sequence[int] = ()
) -> QuerySet[Sale]:
    """The account's identified, recorded sales of these local days (and stores)."""
    # The instants bound the index's range (account, occurred_at); a day of margin on each side
    # keeps the sales recorded under another time zone of the account, which the local dates
    # then choose exactly.
    sales = Sale.objects.filter(
        account_id=account_id,
        status=Sale.Status.RECORDED,
        customer_id__isnull=False,
        local_date__gte=date_from,
        local_date__lte=date_to,
    )
    after, before = _end_of(date_from, -2, zone), _end_of(date_to, 1, zone)
    if after is not None:
        sales = sales.filter(occurred_at__gte=after)
    if before is not None:
        sales = sales.filter(occurred_at__lt=before)
    if store_ids:
        sales = sales.filter(store_id__in=list(store_ids))
    return sales


def _end_of(day: date, days_later: int, zone: ZoneInfo) -> datetime | None:
    """The end of the local day `days_later` days after `day`; None past the calendar's ends."""
    try:
        return local_day_end(day + timedelta(days=days_later), zone)
    except OverflowError:
        return None


def replayed_sales_count(
    *, account_id: int, zone: ZoneInfo, date_from: date, date_to: date, store_ids: Sequence[int] = ()
) -> int:
    sales = replayed_sales_filter(
        account_id=account_id, zone=zone, date_from=date_from, date_to=date_to, store_ids=store_ids
    )
    return int(sales.count())


def replayed_sales(
    *,
    account_id: int,
    zone: ZoneInfo,
    date_from: date,
    date_to: date,
    store_ids: Sequence[int] = (),
    batch: int | None = None,
) -> Iterator[list[ReplayedSale]]:
    """The sales of the range as the simulator replays them, `batch` (default `BATCH`) at a
    time, oldest first."""
    batch = batch or BATCH
    rows = (
        replayed_sales_filter(
            account_id=account_id, zone=zone, date_from=date_from, date_to=date_to, store_ids=store_ids
        )
        .annotate(has_returns=Exists(SaleReturn.objects.filter(account_id=account_id, sale=OuterRef("pk"))))
        .order_by("occurred_at", "id")
        .values_list(*SALE_COLUMNS)
        .iterator(chunk_size=batch)
    )
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == batch:
            yield _batch(account_id, zone, chunk)
            chunk = []
    if chunk:
        yield _batch(account_id, zone, chunk)


def _batch(account_id: int, zone: ZoneInfo, rows: list[tuple[Any, ...]]) -> list[ReplayedSale]:
    ids = [row[0] for row in rows]
    items = _by_sale(
        SaleItem.objects.filter(account_id=account_id, sale_id__in=ids)
        .order_by("sale_id", "position")
        .values_list("sale_id", "total", "category_id"),
        lambda total, category_id: ItemFacts(total=total, category_id=category_id),
    )
    payments = _by_sale(
        SalePayment.objects.filter(account_id=account_id, sale_id__in=ids)
        .order_by("sale_id", "id")
        .values_list("sale_id", "method", "total"),
        lambda method, total: PaymentFacts(method=method, total=total),
    )
    returned, returned_amounts = _returns(account_id, [row[0] for row in rows if row[-1]])
    sales = []
    for sale_id, customer_id, store_id, sale_type, amount, occurred_at, day, has_returns in rows:
        facts = SaleFacts(
            occurred_at=occurred_at,
            weekday=occurred_at.astimezone(zone).weekday(),
            store_id=store_id,
            type=sale_type,
            amount=amount,
            items=tuple(items.get(sale_id, ())),
            payments=tuple(payments.get(sale_id, ())),
        )
        sales.append(
            ReplayedSale(
                id=sale_id,
                customer_id=customer_id,
                local_date=day,
                facts=facts,
                returned=tuple(returned.get(sale_id, ())),
                returned_amount=returned_amounts.get(sale_id, ZERO),
                has_returns=has_returns,
            )
        )
    return sales


def _by_sale(rows: Iterable[tuple[int, Any, Any]], fact: Callable[[Any, Any], Fact]) -> dict[int, list[Fact]]:
    """The facts of each sale's rows (sale id first, then the fact's two values). Equal facts
    are one object: a catalogue repeats its prices, and a million items cost less built once."""
    grouped: dict[int, list[Fact]] = {}
    made: dict[tuple[Any, Any], Fact] = {}
    for sale_id, first, second in rows:
        found = made.get((first, second))
        if found is None:
            found = made[(first, second)] = fact(first, second)
        grouped.setdefault(sale_id, []).append(found)
    return grouped


def _returns(account_id: int, sale_ids: list[int]) -> tuple[dict[int, list[ItemFacts]], dict[int, Decimal]]:
    """Every line returned from these sales, and what their returns were worth in all."""
    if not sale_ids:
        return {}, {}
    lines = _by_sale(
        SaleReturnLine.objects.filter(account_id=account_id, sale_return__sale_id__in=sale_ids)
        .order_by("sale_return_id", "id")
        .values_list("sale_return__sale_id", "total", "item__category_id"),
        lambda total, category_id: ItemFacts(total=total, category_id=category_id),
    )
    amounts = dict(
        SaleReturn.objects.filter(account_id=account_id, sale_id__in=sale_ids)
        .order_by()
        .values("sale_id")
        .annotate(amount=Sum("amount"))
        .values_list("sale_id", "amount")
    )
    return lines, amounts
