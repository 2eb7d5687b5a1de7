"""The liability report's reads: what the account's lots, wallets and ledger hold, as
aggregated slices (bucket, store of origin, end), each query bounded by stores and days, not
by customers. See the package's docstring for how amounts are attributed."""

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from django.db import connection
from django.db.models import Case, DecimalField, F, Q, Sum, When
from django.db.models.expressions import Col

from customers.models import ExpiryLot, LedgerEntry, Wallet
from customers.services import LOT_BUCKETS
from loyalty.core.money import AMOUNT_MAX_DIGITS, MONEY_PLACES, ZERO
from loyalty.tenancy.models import Account

BUCKETS = ("balance", "digital_change", "points")
#: The buckets that expire (by lot or by inactivity); digital change is the customer's money.
EXPIRING_BUCKETS = LOT_BUCKETS
EXPIRY_WINDOWS = (30, 60, 90)
SUM_FIELD = DecimalField(max_digits=AMOUNT_MAX_DIGITS + 6, decimal_places=MONEY_PLACES)

# A tally of raw bucket amounts, before rounding and valuation.
Tally = dict[str, Decimal]


def new_tally() -> Tally:
    return dict.fromkeys(BUCKETS, ZERO)


class Slice(NamedTuple):
    """An amount of one bucket, where it came from and when it stops being spendable."""

    bucket: str
    store_id: int | None
    ends_at: datetime | None
    amount: Decimal


def lot_slices(account: Account, store_id: int | None) -> list[Slice]:
    """What is left in lots, by bucket, store and the instant it stops being spendable."""
    deadline = F("wallet__inactivity_expires_at")
    lots = ExpiryLot.objects.filter(account=account, remaining__gt=0)
    if store_id is not None:
        lots = lots.filter(store_id=store_id)
    rows = (
        lots.annotate(
            ends_at=Case(
                When(wallet__inactivity_expires_at__isnull=True, then=F("expires_at")),
                When(expires_at__isnull=True, then=deadline),
                When(expires_at__lte=deadline, then=F("expires_at")),
                default=deadline,
            )
        )
        .values("bucket", "store_id", "ends_at")
        .annotate(left=Sum("remaining"))
        .order_by()
    )
    return [Slice(row["bucket"], row["store_id"], row["ends_at"], row["left"]) for row in rows]


def wallet_totals(account: Account) -> tuple[Tally, Tally, list[Slice]]:
    """Outstanding and debts of every wallet, and what lies outside lots by inactivity
    deadline — one row per deadline, not per wallet."""

    def positive(expression: Any, condition: Q) -> Sum:
        return Sum(Case(When(condition, then=expression), default=ZERO, output_field=SUM_FIELD))

    sums: dict[str, Sum] = {}
    for bucket in BUCKETS:
        sums[f"{bucket}_owed"] = positive(F(bucket), Q(**{f"{bucket}__gt": 0}))
        sums[f"{bucket}_due"] = positive(-F(bucket), Q(**{f"{bucket}__lt": 0}))
        if bucket in EXPIRING_BUCKETS:
            lot = F(f"lot_{bucket}")
            sums[f"{bucket}_outside"] = positive(F(bucket) - lot, Q(**{f"{bucket}__gt": lot}))
    # The stubs type `values()` rows by the field names only, not by the annotations.
    rows = cast(
        Iterable[dict[str, Any]],
        Wallet.objects.filter(account=account).values("inactivity_expires_at").annotate(**sums).order_by(),
    )
    owed, due, outside = new_tally(), new_tally(), list[Slice]()
    for row in rows:
        for bucket in BUCKETS:
            owed[bucket] += row[f"{bucket}_owed"]
            due[bucket] += row[f"{bucket}_due"]
            left = row[f"{bucket}_outside"] if bucket in EXPIRING_BUCKETS else row[f"{bucket}_owed"]
            if left:
                outside.append(Slice(bucket, None, row["inactivity_expires_at"], left))
    return owed, due, outside


# The attribution of what lies outside lots (side 1) and of debts (side -1) to stores, for
# every wallet at once. Amounts are whole hundredths in here: SQLite adds decimals as floating
# point, and a comparison of running sums must be exact. Per wallet and bucket:
# - `open_amounts`: what lies outside lots (a positive bucket less its lots), or the debt;
# - `moves`: its credits (less what they put into lots, which the lots already attribute),
#   or its debits;
# - `ranked`: those rows newest first, with the running sum up to each;
# - a row covers what is left of the open amount after the newer rows: all of itself, a part
#   (the oldest row needed), or nothing (older rows).
_ATTRIBUTION_SQL = """
WITH open_amounts AS (
    {open_amounts}
),
lot_credits AS (
    SELECT {lot_entry} AS entry_id, {lot_bucket} AS bucket, SUM({lot_amount}) AS amount
    FROM {lot} WHERE {lot_account} = %s
    GROUP BY {lot_entry}, {lot_bucket}
),
moves AS (
    {moves}
),
ranked AS (
    SELECT o.bucket, o.side, o.deadline, m.store_id, m.cents, o.open_cents,
           SUM(m.cents) OVER (
               PARTITION BY m.wallet_id, m.bucket, m.side
               ORDER BY m.id DESC
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
           ) AS covered
    FROM open_amounts o
    JOIN moves m ON m.wallet_id = o.wallet_id AND m.bucket = o.bucket AND m.side = o.side
    WHERE o.open_cents > 0 AND m.cents > 0
)
SELECT bucket, side, store_id, deadline,
       SUM(CASE WHEN covered <= open_cents THEN cents ELSE open_cents - (covered - cents) END)
FROM ranked
WHERE covered - cents < open_cents {store_condition}
GROUP BY bucket, side, store_id, deadline
"""

_OPEN_AMOUNT_SQL = """
    SELECT {id} AS wallet_id, {deadline} AS deadline, '{bucket}' AS bucket,
           CASE WHEN {amount} < 0 THEN -1 ELSE 1 END AS side,
           CAST(ROUND((CASE WHEN {amount} < 0 THEN -{amount} ELSE {amount} - {in_lots} END) * 100) AS BIGINT)
               AS open_cents
    FROM {wallet} WHERE {account} = %s AND ({amount} < 0 OR {amount} > {in_lots})"""

_MOVE_SQL = """
    SELECT e.{wallet} AS wallet_id, e.{id} AS id, e.{store} AS store_id, '{bucket}' AS bucket,
           CASE WHEN e.{amount} < 0 THEN -1 ELSE 1 END AS side,
           CAST(ROUND((CASE WHEN e.{amount} < 0 THEN -e.{amount}
                            ELSE e.{amount} - COALESCE(lc.amount, 0) END) * 100) AS BIGINT) AS cents
    FROM {ledger} e
    LEFT JOIN lot_credits lc ON lc.entry_id = e.{id} AND lc.bucket = '{bucket}'
    WHERE e.{account} = %s AND e.{amount} <> 0"""


def _column(model: type[Any], name: str) -> str:
    return connection.ops.quote_name(model._meta.get_field(name).column)


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _attribution_sql(by_store: bool) -> tuple[str, int]:
    """The attribution query, and how many times it names the account."""
    union = "\n    UNION ALL"
    open_amounts = union.join(
        _OPEN_AMOUNT_SQL.format(
            id=_column(Wallet, "id"),
            deadline=_column(Wallet, "inactivity_expires_at"),
            bucket=bucket,
            amount=_column(Wallet, bucket),
            in_lots=_column(Wallet, f"lot_{bucket}") if bucket in EXPIRING_BUCKETS else "0",
            wallet=_table(Wallet),
            account=_column(Wallet, "account"),
        )
        for bucket in BUCKETS
    )
    moves = union.join(
        _MOVE_SQL.format(
            wallet=_column(LedgerEntry, "wallet"),
            id=_column(LedgerEntry, "id"),
            store=_column(LedgerEntry, "store"),
            bucket=bucket,
            amount=_column(LedgerEntry, bucket),
            ledger=_table(LedgerEntry),
            account=_column(LedgerEntry, "account"),
        )
        for bucket in BUCKETS
    )
    sql = _ATTRIBUTION_SQL.format(
        open_amounts=open_amounts,
        moves=moves,
        lot=_table(ExpiryLot),
        lot_entry=_column(ExpiryLot, "entry"),
        lot_bucket=_column(ExpiryLot, "bucket"),
        lot_amount=_column(ExpiryLot, "amount"),
        lot_account=_column(ExpiryLot, "account"),
        store_condition="AND store_id = %s" if by_store else "",
    )
    return sql, 2 * len(BUCKETS) + 1


def _deadline_converter() -> Any:
    """Turns the deadline column of a raw row into an aware datetime, as the ORM would
    (SQLite answers text)."""
    column = Col(Wallet._meta.db_table, Wallet._meta.get_field("inactivity_expires_at"))
    converters = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]

    def convert(value: Any) -> datetime | None:
        for converter in converters:
            value = converter(value, column, connection)
        return value  # type: ignore[no-any-return]

    return convert


def attributed_slices(account: Account, store_id: int | None) -> tuple[list[Slice], list[Slice]]:
    """What lies outside lots, and debts, by bucket, store of origin and inactivity deadline."""
    sql, accounts = _attribution_sql(by_store=store_id is not None)
    params: list[int] = [account.pk] * accounts + ([store_id] if store_id is not None else [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # the SQL names only tables and columns of the models
        rows = cursor.fetchall()
    convert = _deadline_converter()
    outside: list[Slice] = []
    debts: list[Slice] = []
    for bucket, side, row_store_id, deadline, cents in rows:
        amount = Decimal(cents) / 100
        if amount:
            part = Slice(bucket, row_store_id, convert(deadline), amount)
            (outside if side > 0 else debts).append(part)
    return outside, debts
