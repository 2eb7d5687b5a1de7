"""Recorded sales for the simulator's benchmark (`make bench-simulate`), loaded through bulk paths.

One account (its own time zone, `America/Sao_Paulo` by default) with customers and their
wallets, a few stores, a small category tree, a program in force and `SalesSize.sales`
recorded, identified sales of `SalesSize.items` lines each, over the `SalesSize.days` local
days before today, one payment each. Some of them had a partial return (whole lines given
back: the return's lines are the sale's, and its amount their sum); besides them, a few
cancelled sales lie in the same days, which a simulation must not replay.

A hundred thousand sales through `sale_record` would take most of an hour, so the rows are
written as `bench.seed.load` writes the ledger (`COPY` on PostgreSQL, `bulk_create`
elsewhere, foreign keys checked once at the end); the few objects with rules of their own
(account, stores, categories, rules, the reward that values points) go through the services.
Everything but the credentials is deterministic: a sale's customer, store, moment, lines and
payment follow from its position, and its amount is the sum of its lines.
"""

from collections.abc import Callable, Iterator
from dataclasses import astuple, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone

from bench.seed.bulk import CUSTOMER_COLUMNS, WALLET_COLUMNS, bulk_insert, columns_of
from bench.seed.data import CATEGORY_TREE, FIRST_NAMES, LAST_NAMES, ZERO, cents, customer_document
from bench.seed.load import BenchAccount, _foreign_keys_checked_once, _Stopwatch
from customers.models import Customer, Wallet
from loyalty.core.dates import local_date
from loyalty.core.money import round_money
from loyalty.core.vocabulary import PaymentMethod, SaleType, Unit
from loyalty.engine.program import rule_create
from loyalty.shell.merchants import merchant_create
from loyalty.tenancy.models import Account
from loyalty.tenancy.services import store_create
from promotions.models import Category
from promotions.services import category_get_or_create
from sales.models import Sale, SaleItem, SalePayment, SaleReturn, SaleReturnLine
from vouchers.services import reward_create

SALE_COLUMNS = columns_of(Sale, left_out=("cancelled_by_id",))
# Items as sent without a catalogue: no product, no promotion; the category is still known.
ITEM_COLUMNS = columns_of(SaleItem, left_out=("product_id", "promotion_id"))
PAYMENT_COLUMNS = columns_of(SalePayment)
RETURN_COLUMNS = columns_of(SaleReturn)
RETURN_LINE_COLUMNS = columns_of(SaleReturnLine)
BULK_MODELS = (Customer, Wallet, Sale, SaleItem, SalePayment, SaleReturn, SaleReturnLine)

# The categories of the sold lines: the first children of the first roots of the tree.
ROOTS, CHILDREN = 4, 3
PRODUCTS = 240
UNIT_QUANTITIES = tuple(Decimal(units) for units in ("1", "1", "1", "2", "3"))
WEIGHED_QUANTITIES = tuple(Decimal(kilos) for kilos in ("0.350", "0.500", "0.875", "1.200", "2.000"))
# Credit, debit, Pix, cash and, one sale in eight, a benefit card: the cashback rule leaves it out.
PAYMENT_METHODS = tuple(PaymentMethod(number) for number in (3, 2, 6, 1, 5, 3, 2, 6))
OPENING = time(8)
OPEN_SECONDS = 14 * 3_600
CATEGORY_RULE_ROOT = "Bebidas"


@dataclass(frozen=True)
class SalesSize:
    #: Recorded sales: what a simulation of the whole range replays.
    sales: int = 100_000
    customers: int = 20_000
    stores: int = 4
    days: int = 90
    items: int = 10
    #: One recorded sale in this many had a partial return.
    returned_every: int = 25
    #: One cancelled sale besides this many recorded ones.
    cancelled_every: int = 33

    def __post_init__(self) -> None:
        if min(astuple(self)) < 1:
            raise ValueError("Every count of the size must be at least one.")
        if not 2 <= self.items <= PRODUCTS:
            # A partial return leaves a line; the lines of a sale are distinct products.
            raise ValueError(f"A sale has 2 to {PRODUCTS} lines.")

    @property
    def cancelled(self) -> int:
        return self.sales // self.cancelled_every

    @property
    def rows(self) -> int:
        return self.sales + self.cancelled


@dataclass
class SeededSales:
    """What was loaded: the account, the local days its sales cover, counts and timings."""

    account: Account
    date_from: date
    date_to: date
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Plan:
    """Where everything of the sale at a position comes from. Positions run over the
    recorded and the cancelled sales alike, oldest first: in each block of
    `cancelled_every + 1` the last one is cancelled."""

    size: SalesSize
    account_id: int
    zone: ZoneInfo
    first_day: date
    store_ids: tuple[int, ...]
    customer_ids: tuple[int, ...]
    #: The catalogue, one entry per product and quantity: the item columns after the
    #: position, the total last.
    lines: tuple[tuple, ...]

    def cancelled(self, position: int) -> bool:
        block = self.size.cancelled_every + 1
        return position % block == block - 1

    def returned(self, position: int) -> bool:
        every = self.size.returned_every
        return not self.cancelled(position) and position % every == every // 2

    def returned_positions(self, position: int) -> tuple[int, ...]:
        """The line positions its return gave back: the first, and the second every other time."""
        return (1, 2) if position % 2 == 0 and self.size.items > 2 else (1,)

    def moment(self, position: int) -> tuple[datetime, date]:
        day = self.first_day + timedelta(days=position * self.size.days // self.size.rows)
        opened = datetime.combine(day, OPENING, tzinfo=self.zone)
        return (opened + timedelta(seconds=position * 7_919 % OPEN_SECONDS)).astimezone(UTC), day

    def line_entries(self, position: int) -> list[tuple]:
        # 53 is prime to the catalogue's size: the lines of a sale are distinct products.
        return [
            self.lines[(position * 37 + line * 53) % PRODUCTS * 5 + (position + line * 3) % 5]
            for line in range(1, self.size.items + 1)
        ]

    def amount(self, position: int) -> Decimal:
        return sum((entry[-1] for entry in self.line_entries(position)), ZERO)


def _leaves(account: Account) -> tuple[list[tuple[int, str, str]], dict[str, Category]]:
    """(leaf id, root name, leaf name) of the categories sold, and the roots by name."""
    leaves, roots = [], {}
    for root_name, children in list(CATEGORY_TREE.items())[:ROOTS]:
        root = roots[root_name] = category_get_or_create(account=account, name=root_name)
        for child_name in children[:CHILDREN]:
            child = category_get_or_create(account=account, name=child_name, parent=root)
            leaves.append((child.pk, root_name, child_name))
    return leaves, roots


def _catalogue(leaves: list[tuple[int, str, str]]) -> tuple[tuple, ...]:
    lines = []
    for number in range(PRODUCTS):
        category_id, root_name, leaf_name = leaves[number % len(leaves)]
        weighed = number % 6 == 5
        price = cents(149 + number * 7_717 % 4_900)
        for quantity in WEIGHED_QUANTITIES if weighed else UNIT_QUANTITIES:
            lines.append(
                (
                    f"789{number:010d}",
                    f"{leaf_name} {number:03d}",
                    Unit.KILOGRAM if weighed else Unit.UNIT,
                    root_name,
                    leaf_name,
                    category_id,
                    price,
                    quantity,
                    ZERO,
                    round_money(price * quantity),
                )
            )
    return tuple(lines)


def _program(account: Account, roots: dict[str, Category]) -> None:
    rule_create(account=account, name="1 point per R$ 1", kind="points", value=Decimal(1))
    rule_create(
        account=account,
        name="2% cashback, not on benefit cards",
        kind="cashback",
        value=Decimal(2),
        excluded_payment_methods=[PaymentMethod.BENEFIT_CARD],
    )
    rule_create(
        account=account,
        name=f"5% cashback on {CATEGORY_RULE_ROOT}",
        kind="cashback",
        value=Decimal(5),
        categories=[roots[CATEGORY_RULE_ROOT]],
    )
    rule_create(
        account=account,
        name="R$ 15 voucher from R$ 450",
        kind="voucher",
        value=Decimal(15),
        threshold=Decimal(450),
        valid_days=30,
    )
    # Points are valued by the cheapest reward: R$ 10 for 500 points.
    reward_create(
        account=account, name="Vale compras R$ 10", points_cost=Decimal(500), value=Decimal(10), stock=1_000
    )


def _customer_rows(account_id: int, size: SalesSize, now: datetime) -> Iterator[tuple]:
    for index in range(size.customers):
        name = f"{FIRST_NAMES[index % 10]} {LAST_NAMES[index // 10 % 10]} {index:06d}"
        yield (
            account_id,
            name,
            customer_document(index),
            f"+55219{70_000_000 + index:08d}",
            f"cliente{index:06d}@simulacao.example.com",
            "",
            "",
            {},
            now - timedelta(days=size.days + 30, minutes=size.customers - index),
            now,
        )


def _wallet_rows(account_id: int, customer_ids: tuple[int, ...], now: datetime) -> Iterator[tuple]:
    # No ledger history here: empty wallets are the exact sums of their (no) rows.
    empty = (ZERO,) * 6 + (0, ZERO)
    for customer_id in customer_ids:
        yield (account_id, customer_id, *empty, now)


def _sale_rows(plan: _Plan) -> Iterator[tuple]:
    for position in range(plan.size.rows):
        occurred_at, day = plan.moment(position)
        cancelled = plan.cancelled(position)
        yield (
            plan.account_id,
            plan.store_ids[position % len(plan.store_ids)],
            plan.customer_ids[position * 7_919 % len(plan.customer_ids)],
            Sale.Source.API,
            SaleType.NF if position % 10 == 0 else SaleType.CF,
            occurred_at,
            day,
            f"SIM-{position:08d}",
            "",
            "",
            "",
            plan.amount(position),
            ZERO,
            Sale.Status.CANCELLED if cancelled else Sale.Status.RECORDED,
            occurred_at + timedelta(hours=1) if cancelled else None,
            occurred_at,
        )


def _item_rows(plan: _Plan, sale_ids: list[int]) -> Iterator[tuple]:
    account_id = plan.account_id
    for position, sale_id in enumerate(sale_ids):
        for line, entry in enumerate(plan.line_entries(position), start=1):
            yield (account_id, sale_id, line, *entry)


def _payment_rows(plan: _Plan, sale_ids: list[int]) -> Iterator[tuple]:
    for position, sale_id in enumerate(sale_ids):
        method = PAYMENT_METHODS[position % len(PAYMENT_METHODS)]
        splits = 1 + position % 3 if method == PaymentMethod.CREDIT_CARD else 0
        occurred_at, _ = plan.moment(position)
        yield (plan.account_id, sale_id, 1, method, plan.amount(position), ZERO, splits, occurred_at)


def _return_rows(plan: _Plan, returned: list[tuple[int, int]], now: datetime) -> Iterator[tuple]:
    for position, sale_id in returned:
        entries = plan.line_entries(position)
        value = sum((entries[line - 1][-1] for line in plan.returned_positions(position)), ZERO)
        occurred_at, _ = plan.moment(position)
        yield (
            plan.account_id,
            sale_id,
            f"DEV-{position:08d}",
            value,
            ZERO,
            False,
            {},
            min(occurred_at + timedelta(days=2), now),
        )


def _return_line_rows(
    plan: _Plan, returned: list[tuple[int, int]], return_ids: list[int], item_ids: dict[tuple[int, int], int]
) -> Iterator[tuple]:
    for (position, sale_id), return_id in zip(returned, return_ids, strict=True):
        entries = plan.line_entries(position)
        for line in plan.returned_positions(position):
            entry = entries[line - 1]
            # Every unit of the line back: its quantity, total and (no) discount.
            yield (plan.account_id, return_id, item_ids[sale_id, line], entry[7], entry[-1], ZERO)


def _ids_in_order(model, account_id: int) -> list[int]:
    # Bulk rows take their ids in the order they were written.
    return list(model.objects.filter(account_id=account_id).order_by("id").values_list("id", flat=True))


def simulation_sales_load(
    *,
    name: str,
    size: SalesSize,
    now: datetime | None = None,
    report: Callable[[str, int, float], None] = lambda *_: None,
) -> SeededSales:
    """Load the account `name` with its recorded sales; `report(part, rows, seconds)` hears of
    each part. Its sales cover the `size.days` local days before `now`'s."""
    now = now or timezone.now()
    loaded = BenchAccount()
    stopwatch = _Stopwatch(loaded, report)
    with transaction.atomic(), _foreign_keys_checked_once(stopwatch, BULK_MODELS):
        with stopwatch.part("account, program, categories") as counted:
            merchant = loaded.merchant = merchant_create(name=name, store_name="Loja 1")
            account = merchant.account
            store_ids = (
                merchant.store.pk,
                *(
                    store_create(account=account, name=f"Loja {number}")[0].pk
                    for number in range(2, size.stores + 1)
                ),
            )
            leaves, roots = _leaves(account)
            _program(account, roots)
            counted["stores"] = len(store_ids)
            counted["categories"] = len(leaves)
            counted["root_categories"] = len(roots)
        with stopwatch.part("customers and wallets") as counted:
            counted["customers"] = bulk_insert(
                Customer, CUSTOMER_COLUMNS, _customer_rows(account.pk, size, now)
            )
            customer_ids = tuple(_ids_in_order(Customer, account.pk))
            counted["wallets"] = bulk_insert(
                Wallet, WALLET_COLUMNS, _wallet_rows(account.pk, customer_ids, now)
            )
        today = local_date(now, account.tzinfo)
        plan = _Plan(
            size=size,
            account_id=account.pk,
            zone=account.tzinfo,
            first_day=today - timedelta(days=size.days),
            store_ids=store_ids,
            customer_ids=customer_ids,
            lines=_catalogue(leaves),
        )
        with stopwatch.part("sales") as counted:
            counted["sales"] = bulk_insert(Sale, SALE_COLUMNS, _sale_rows(plan))
            sale_ids = _ids_in_order(Sale, account.pk)
        with stopwatch.part("items") as counted:
            counted["items"] = bulk_insert(SaleItem, ITEM_COLUMNS, _item_rows(plan, sale_ids))
        with stopwatch.part("payments") as counted:
            counted["payments"] = bulk_insert(SalePayment, PAYMENT_COLUMNS, _payment_rows(plan, sale_ids))
        with stopwatch.part("returns") as counted:
            returned = [
                (position, sale_id) for position, sale_id in enumerate(sale_ids) if plan.returned(position)
            ]
            counted["returns"] = bulk_insert(SaleReturn, RETURN_COLUMNS, _return_rows(plan, returned, now))
            return_ids = _ids_in_order(SaleReturn, account.pk)
            item_ids = {
                (sale_id, line): item_id
                for sale_id, line, item_id in SaleItem.objects.filter(
                    account_id=account.pk,
                    sale_id__in=[sale_id for _, sale_id in returned],
                    position__in=(1, 2),
                ).values_list("sale_id", "position", "id")
            }
            counted["return_lines"] = bulk_insert(
                SaleReturnLine, RETURN_LINE_COLUMNS, _return_line_rows(plan, returned, return_ids, item_ids)
            )
    loaded.counts["sales_cancelled"] = size.cancelled
    with stopwatch.part("statistics"):
        _refresh_statistics()
    return SeededSales(
        account=account,
        date_from=plan.first_day,
        date_to=today - timedelta(days=1),
        counts=loaded.counts,
        seconds=loaded.seconds,
    )


def _refresh_statistics() -> None:
    """The planner's view of the new tables, as `bench.seed.load` gives it (VACUUM also fills
    the visibility map; within a transaction, the test suite's, ANALYZE alone runs)."""
    if connection.vendor != "postgresql":
        return
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for model in BULK_MODELS:
            cursor.execute(f"{command} {connection.ops.quote_name(model._meta.db_table)}")
