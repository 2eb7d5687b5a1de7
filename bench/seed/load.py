"""Loading the benchmark account, part by part, timing each."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from time import perf_counter

from django.db import connection, models, transaction
from django.utils import timezone

from bench.seed.bulk import (
    CUSTOMER_COLUMNS,
    LEDGER_COLUMNS,
    PRODUCT_COLUMNS,
    PROMOTION_COLUMNS,
    VOUCHER_COLUMNS,
    WALLET_COLUMNS,
    bulk_insert,
)
from bench.seed.data import (
    CASHBACK_PERCENT,
    CATEGORY_TREE,
    FIRST_NAMES,
    HISTORY_REASON,
    LAST_NAMES,
    REWARDS,
    SAMPLE_DOCUMENTS,
    SAMPLE_PRODUCTS,
    SAMPLE_VOUCHERS,
    ZERO,
    BenchSize,
    amounts,
    cents,
    customer_document,
    customer_history,
    history_totals,
    ledger_rows_of,
)
from customers.models import Customer, LedgerEntry, Wallet
from loyalty.core.vocabulary import Unit
from loyalty.engine.program import rule_create
from loyalty.outbox.models import Channel, Event
from loyalty.outbox.services import message_template_create
from loyalty.shell.merchants import MerchantCreated, merchant_create
from loyalty.tenancy.models import Account
from promotions.models import Product, Promotion
from promotions.services import category_get_or_create
from vouchers.models import Voucher
from vouchers.services import new_voucher_code, reward_create


@dataclass
class BenchAccount:
    """What was loaded, how long each part took, and samples the load generator drives."""

    merchant: MerchantCreated | None = None
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    documents: list[str] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    voucher_codes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "account_id": self.merchant.account.pk,
            "store_id": self.merchant.store.pk,
            "api_key": self.merchant.credential.api_key,
            "api_secret": self.merchant.api_secret,
            "store_token": self.merchant.store_token,
            "counts": self.counts,
            "seconds": self.seconds,
            "documents": self.documents,
            "products": self.products,
            "voucher_codes": self.voucher_codes,
        }


class AccountExists(Exception):
    """An account of that name exists: the benchmark account is loaded once, into a new account."""


class _Stopwatch:
    def __init__(self, loaded: BenchAccount, report: Callable[[str, int, float], None]) -> None:
        self.loaded = loaded
        self.report = report

    @contextmanager
    def part(self, name: str):
        started = perf_counter()
        counted: dict[str, int] = {}
        yield counted
        seconds = perf_counter() - started
        self.loaded.seconds[name] = round(seconds, 2)
        self.loaded.counts.update(counted)
        self.report(name, sum(counted.values()), seconds)


def _program(merchant: MerchantCreated) -> None:
    account = merchant.account
    rule_create(account=account, name="5% cashback", kind="cashback", value=Decimal(CASHBACK_PERCENT))
    rule_create(account=account, name="1 point per R$ 1", kind="points", value=Decimal(1))
    message_template_create(
        account=account,
        name="Cashback by e-mail",
        event=Event.SALE_REWARDED,
        channel=Channel.EMAIL,
        subject="Você ganhou R$ {cashback} de cashback",
        body="Olá {name}! Sua compra de R$ {amount} rendeu R$ {cashback}. Saldo: R$ {balance}.",
    )


def _categories(account: Account) -> list[tuple[int, int, str, str]]:
    """(root id, child id, root name, child name) of every leaf of the category tree."""
    leaves = []
    for root_name, children in CATEGORY_TREE.items():
        root = category_get_or_create(account=account, name=root_name)
        for child_name in children:
            child = category_get_or_create(account=account, name=child_name, parent=root)
            leaves.append((root.pk, child.pk, root_name, child_name))
    return leaves


def product_barcode(index: int) -> str:
    return f"789{index:010d}"


def product_price(index: int) -> Decimal:
    return cents(199 + index * 7_717 % 9_800)


def _product_rows(account: Account, size: BenchSize, leaves, now: datetime) -> Iterator[tuple]:
    units = (Unit.UNIT, Unit.UNIT, Unit.KILOGRAM, Unit.PACKAGE, Unit.BOX)
    for index in range(size.products):
        root_id, child_id, _, child_name = leaves[index % len(leaves)]
        yield (
            account.pk,
            product_barcode(index),
            f"{child_name} {index:05d}",
            units[index % len(units)],
            root_id,
            child_id,
            product_price(index),
            True,
            now,
            now,
        )


def promoted_positions(size: BenchSize) -> range:
    """Products with a promotion: spread evenly over the catalogue, one promotion each."""
    if not size.promotions:
        return range(0)
    return range(0, size.promotions * (size.products // size.promotions), size.products // size.promotions)


def _promotion_rows(account: Account, size: BenchSize, product_ids: dict[str, int], now: datetime):
    for number, position in enumerate(promoted_positions(size)):
        yield (
            account.pk,
            product_ids[product_barcode(position)],
            Decimal(5 + number % 26),
            2 if number % 10 == 0 else 0,
            Decimal(3 if number % 4 == 0 else 0),
            ZERO,
            now - timedelta(days=30),
            None if number % 2 else now + timedelta(days=365),
            None,
            True,
            now,
            now,
        )


def _customer_rows(account: Account, size: BenchSize, now: datetime) -> Iterator[tuple]:
    for index in range(size.customers):
        name = f"{FIRST_NAMES[index % 10]} {LAST_NAMES[index // 10 % 10]} {index:06d}"
        yield (
            account.pk,
            name,
            customer_document(index),
            f"+55119{60_000_000 + index:08d}",
            f"cliente{index:06d}@bench.example.com",
            "",
            "",
            {},
            now - timedelta(minutes=size.customers - index),
            now,
        )


ONE_DAY = timedelta(days=1)
HISTORY_SPAN = timedelta(days=3_650)


def _wallet_rows(
    account: Account, size: BenchSize, customer_ids: list[int], now: datetime
) -> Iterator[tuple]:
    for index, customer_id in enumerate(customer_ids):
        yield (account.pk, customer_id, *amounts(history_totals(index, ledger_rows_of(index, size))), now)


def _ledger_rows(account: Account, size: BenchSize, wallet_ids: list[int], now: datetime) -> Iterator[tuple]:
    for index, wallet_id in enumerate(wallet_ids):
        rows = ledger_rows_of(index, size)
        # A row a day, over ten years at most; customers differ by the time of day.
        step = min(ONE_DAY, HISTORY_SPAN / max(rows, 1))
        first = now - step * rows - timedelta(seconds=index % 86_400)
        for position, (kind, deltas) in enumerate(customer_history(index, rows)):
            yield (account.pk, wallet_id, kind, *amounts(deltas), HISTORY_REASON, first + step * position)


def _voucher_rows(account: Account, size: BenchSize, customer_ids, rewards, now: datetime):
    codes: set[str] = set()
    for number in range(size.vouchers):
        code = new_voucher_code()
        while code in codes:
            code = new_voucher_code()
        codes.add(code)
        reward = rewards[number % len(rewards)]
        used = number % 10 == 9
        expired = number % 10 == 8
        issued = now - timedelta(days=40 if expired else number % 20)
        yield (
            account.pk,
            customer_ids[number * 7 % len(customer_ids)],
            reward.pk,
            code,
            reward.value,
            issued,
            issued + timedelta(days=reward.voucher_valid_days),
            Voucher.Status.USED if used else Voucher.Status.ACTIVE,
            issued + timedelta(days=1) if used else None,
            "",
            issued,
        )


def _spread(values: Sequence, count: int) -> list:
    """At most `count` of `values`, evenly spread from the first to the last."""
    if len(values) <= count:
        return list(values)
    step = len(values) / count
    return [values[int(position * step)] for position in range(count)]


def bench_account_load(
    *, name: str, size: BenchSize, report: Callable[[str, int, float], None] = lambda *_: None
) -> BenchAccount:
    """Load the benchmark account `name`; `report(part, rows, seconds)` hears of each part."""
    if Account.objects.filter(name=name).exists():
        raise AccountExists(f"An account named {name!r} exists already: load into a new account name.")
    now = timezone.now()
    loaded = BenchAccount()
    stopwatch = _Stopwatch(loaded, report)
    with transaction.atomic(), _foreign_keys_checked_once(stopwatch, BULK_MODELS):
        with stopwatch.part("account, rules, categories") as counted:
            merchant = loaded.merchant = merchant_create(name=name, store_name="Loja Benchmark")
            account = merchant.account
            _program(merchant)
            leaves = _categories(account)
            counted["categories"] = len(leaves) + len(CATEGORY_TREE)
        with stopwatch.part("products") as counted:
            counted["products"] = bulk_insert(
                Product, PRODUCT_COLUMNS, _product_rows(account, size, leaves, now)
            )
        product_ids = dict(Product.objects.filter(account=account).values_list("barcode", "id"))
        with stopwatch.part("promotions") as counted:
            counted["promotions"] = bulk_insert(
                Promotion, PROMOTION_COLUMNS, _promotion_rows(account, size, product_ids, now)
            )
        with stopwatch.part("customers") as counted:
            counted["customers"] = bulk_insert(Customer, CUSTOMER_COLUMNS, _customer_rows(account, size, now))
        customer_ids = list(
            Customer.objects.filter(account=account).order_by("id").values_list("id", flat=True)
        )
        with stopwatch.part("wallets") as counted:
            counted["wallets"] = bulk_insert(
                Wallet, WALLET_COLUMNS, _wallet_rows(account, size, customer_ids, now)
            )
        wallet_ids = list(
            Wallet.objects.filter(customer__account=account)
            .order_by("customer_id")
            .values_list("id", flat=True)
        )
        with stopwatch.part("ledger") as counted:
            counted["ledger_rows"] = bulk_insert(
                LedgerEntry, LEDGER_COLUMNS, _ledger_rows(account, size, wallet_ids, now)
            )
        with stopwatch.part("rewards and vouchers") as counted:
            rewards = [
                reward_create(
                    account=account,
                    name=reward_name,
                    points_cost=Decimal(points),
                    value=Decimal(value),
                    stock=size.rewards_stock,
                )
                for reward_name, points, value in REWARDS
            ]
            counted["rewards"] = len(rewards)
            counted["vouchers"] = bulk_insert(
                Voucher, VOUCHER_COLUMNS, _voucher_rows(account, size, customer_ids, rewards, now)
            )
    with stopwatch.part("statistics"):
        _refresh_statistics()
    with stopwatch.part("samples"):
        _samples(loaded, size)
    return loaded


BULK_MODELS = (Customer, Wallet, LedgerEntry, Voucher)


@contextmanager
def _foreign_keys_checked_once(stopwatch: _Stopwatch, bulk_models: Sequence[type[models.Model]]):
    """On PostgreSQL, drop the foreign keys of these tables, and add them back at the end.

    Each row inserted would otherwise queue a check of its foreign keys (a locking lookup
    per key, half a minute for the default size); adding a key back validates every row
    in one join instead. The keys come back exactly as they were, in the same
    transaction: if anything fails, the drop rolls back too. Meanwhile the tables are
    locked: load a benchmark database, not one serving traffic.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in bulk_models]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid, conname",
            [tables],
        )
        keys = cursor.fetchall()
        for table, name, _ in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    yield
    with stopwatch.part("foreign keys"), connection.cursor() as cursor:
        for table, name, definition in keys:
            cursor.execute(
                f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}"
            )


def _refresh_statistics() -> None:
    """Give the planner the new table sizes, as a production database would have them.

    VACUUM also fills the visibility map (index-only scans); it cannot run inside a
    transaction, so within one (the test suite's) ANALYZE alone does.
    """
    if connection.vendor != "postgresql":
        return
    tables = [model._meta.db_table for model in (Customer, Wallet, LedgerEntry, Product, Promotion, Voucher)]
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")


def _samples(loaded: BenchAccount, size: BenchSize) -> None:
    account = loaded.merchant.account
    loaded.documents = [
        customer_document(index) for index in _spread(range(size.customers), SAMPLE_DOCUMENTS)
    ]
    promoted = set(promoted_positions(size))
    plain = [position for position in range(size.products) if position not in promoted]
    positions = _spread(sorted(promoted), SAMPLE_PRODUCTS // 2) + _spread(plain, SAMPLE_PRODUCTS // 2)
    products = {
        product.barcode: product
        for product in Product.objects.filter(
            account=account, barcode__in=[product_barcode(position) for position in positions]
        ).select_related("category", "subcategory")
    }
    promotions = {promotion.product_id: promotion for promotion in Promotion.objects.filter(account=account)}
    for position in positions:
        product = products[product_barcode(position)]
        promotion = promotions.get(product.pk)
        loaded.products.append(
            {
                "barcode": product.barcode,
                "name": product.name,
                "unit": product.unit,
                "category": product.category.name,
                "subcategory": product.subcategory.name,
                "price": str(product.price),
                "promotion_id": promotion.pk if promotion else None,
                "percent_off": str(promotion.percent_off) if promotion else None,
            }
        )
    loaded.voucher_codes = list(
        Voucher.objects.filter(account=account, status=Voucher.Status.ACTIVE, valid_until__gt=timezone.now())
        .order_by("id")
        .values_list("code", flat=True)[:SAMPLE_VOUCHERS]
    )
