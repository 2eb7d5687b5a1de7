"""The liability report: what an account owes its customers now, and when it stops owing it.

It reads the wallets (customers), their expiry lots and ledger, and the rewards catalogue
(vouchers) to value points, so it lives in the project shell, above the apps. It only reads.

What is owed ("outstanding") is the sum of the wallets' positive buckets: cashback balance
("vale compras"), digital change ("troco digital") and points, the points also valued in R$
at the catalogue's cheapest R$ per point. A negative bucket is a customer's debt to the
merchant, not a negative liability: debts are summed apart, so that outstanding − debts is
the plain sum of the buckets. Pending grants (not yet released) are not owed yet and are left
out; so are vouchers already issued, which are the catalogue's, not the wallets'.

**By store of origin.** A lot's amount belongs to the store where it was earned. The part of
a bucket outside lots (all of digital change) belongs to the stores of that wallet's most
recent credits of the bucket that opened no lot, newest first, until it is covered: debits
spend lots first and what never expires last, so what is left of it is its newest credits.
A debt is attributed the same way to the wallet's most recent debits. Credits without a store
(staff adjustments) and whatever the ledger cannot explain fall under "no store" (`None`), so
the store rows always add up to the totals.

**By expiry.** A lot expires at its own end or at its wallet's inactivity deadline, whichever
comes first; the part of points and balance outside lots expires at the deadline, or never
without one; digital change never expires. Months are the account's local months of the last
spendable day. The 30/60/90-day windows are cumulative, from `now`: what can no longer be
spent at `now` + N days — including what is already past its end and waits for the expiry job.

**Cost.** Five queries whatever the number of wallets (four with a store filter), each
returning aggregated rows: at most one per store, bucket and expiry instant (expiry instants
are local midnights, so their number is bounded by days, not by customers). The attribution
is one window-function query over the account's ledger (portable SQL: SQLite and PostgreSQL).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Case, DecimalField, F, Q, Sum, When
from django.db.models.expressions import Col
from django.utils import timezone

from customers.models import ExpiryLot, LedgerEntry, Wallet
from loyalty.core.dates import last_local_day, local_date
from loyalty.core.money import AMOUNT_MAX_DIGITS, MONEY_PLACES, ZERO, round_money, round_points
from loyalty.tenancy.models import Account, Store
from vouchers.models import Reward

BUCKETS = ("balance", "digital_change", "points")
#: The buckets that expire (by lot or by inactivity); digital change is the customer's money.
EXPIRING_BUCKETS = ("points", "balance")
EXPIRY_WINDOWS = (30, 60, 90)
#: Places of the R$-per-point rate shown; amounts are valued with the exact ratio.
RATE_QUANTUM = Decimal("0.000001")
CSV_HEADER = ("section", "key", "label", "balance", "digital_change", "points", "points_value", "total_value")

_SUM_FIELD = DecimalField(max_digits=AMOUNT_MAX_DIGITS + 6, decimal_places=MONEY_PLACES)


@dataclass(frozen=True)
class Amounts:
    """What is owed (or, for debts, due): each bucket, the points valued in R$, and the total."""

    balance: Decimal = ZERO
    digital_change: Decimal = ZERO
    points: Decimal = ZERO
    points_value: Decimal = ZERO

    @property
    def total_value(self) -> Decimal:
        """R$: cashback balance, digital change and the points' value."""
        return self.balance + self.digital_change + self.points_value

    @property
    def is_zero(self) -> bool:
        return not (self.balance or self.digital_change or self.points)


@dataclass(frozen=True)
class PointsValuation:
    """The catalogue's cheapest R$ per point: the active reward with a points cost that gives
    the fewest R$ for each point (`reward_id` None: no such reward, and points are valued 0)."""

    reward_id: int | None = None
    reward_name: str | None = None
    value: Decimal = ZERO
    points_cost: Decimal = ZERO

    @property
    def value_per_point(self) -> Decimal | None:
        if not self.points_cost:
            return None
        return (self.value / self.points_cost).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)

    @property
    def value_per_point_text(self) -> str:
        """The rate without needless zeros (`0.2`, `10`), for people."""
        rate = self.value_per_point
        return format(rate.normalize(), "f") if rate is not None else ""

    def of(self, points: Decimal) -> Decimal:
        """The R$ value of `points`, with the exact ratio, rounded once."""
        if not self.points_cost:
            return round_money(ZERO)
        return round_money(points * self.value / self.points_cost)


@dataclass(frozen=True)
class StoreLiability:
    """What is owed by store of origin (`store_id` None: no store)."""

    store_id: int | None
    store_name: str | None
    amounts: Amounts
    debts: Amounts


@dataclass(frozen=True)
class MonthLiability:
    """What expires in a local month (`month`: its first day; None: never expires)."""

    month: date | None
    amounts: Amounts

    @property
    def label(self) -> str | None:
        return self.month.strftime("%Y-%m") if self.month else None


@dataclass(frozen=True)
class ExpiringWithin:
    """What can no longer be spent `days` days from the report's `now` (at `until`)."""

    days: int
    until: datetime
    amounts: Amounts


@dataclass(frozen=True)
class LiabilityReport:
    account_id: int
    account_name: str
    time_zone: str
    generated_at: datetime
    store_id: int | None
    valuation: PointsValuation
    totals: Amounts
    debts: Amounts
    by_store: tuple[StoreLiability, ...]
    by_expiry_month: tuple[MonthLiability, ...]
    expiring: tuple[ExpiringWithin, ...]


# A tally of raw bucket amounts, before rounding and valuation.
Tally = dict[str, Decimal]


class _Slice(NamedTuple):
    """An amount of one bucket, where it came from and when it stops being spendable."""

    bucket: str
    store_id: int | None
    ends_at: datetime | None
    amount: Decimal


def liability_report(
    *, account: Account, now: datetime | None = None, store_id: int | None = None
) -> LiabilityReport:
    """The account's liability at `now` (see the module's docstring); with `store_id`, only the
    part attributed to that store (a store that is not the account's owes nothing)."""
    now = now or timezone.now()
    stores = dict(Store.objects.filter(account=account).values_list("pk", "name"))
    valuation = _points_valuation(account)
    lots = _lots(account, store_id)
    outside, debt_parts = _attributed(account, store_id)

    owed: dict[int | None, Tally] = defaultdict(_tally)
    for part in (*lots, *outside):
        owed[part.store_id][part.bucket] += part.amount
    due: dict[int | None, Tally] = defaultdict(_tally)
    for part in debt_parts:
        due[part.store_id][part.bucket] += part.amount

    if store_id is None:
        # The whole account: totals straight from the wallets, and what lies outside lots by
        # deadline from them too, so that neither depends on the attribution. What the
        # ledger cannot attribute (nothing, in a consistent ledger) goes under no store.
        totals, debts, outside = _wallet_totals(account)
        _add(owed[None], _minus(totals, _sum(owed.values())))
        _add(due[None], _minus(debts, _sum(due.values())))
    else:
        totals, debts = _sum(owed.values()), _sum(due.values())

    by_store = sorted(
        (
            StoreLiability(
                store_id=key,
                store_name=stores.get(key) if key is not None else None,
                amounts=_amounts(owed.get(key, _tally()), valuation),
                debts=_amounts(due.get(key, _tally()), valuation),
            )
            for key in {*owed, *due}
        ),
        key=lambda row: (row.store_id is None, row.store_name or "", row.store_id or 0),
    )
    # Outside lots, points and balance expire at the wallet's deadline; digital change never.
    timeline = [
        *lots,
        *(part if part.bucket in EXPIRING_BUCKETS else part._replace(ends_at=None) for part in outside),
    ]
    return LiabilityReport(
        account_id=account.pk,
        account_name=account.name,
        time_zone=account.time_zone,
        generated_at=now,
        store_id=store_id,
        valuation=valuation,
        totals=_amounts(totals, valuation),
        debts=_amounts(debts, valuation),
        by_store=tuple(row for row in by_store if not (row.amounts.is_zero and row.debts.is_zero)),
        by_expiry_month=_by_month(timeline, account, valuation),
        expiring=tuple(
            ExpiringWithin(
                days=days,
                until=now + timedelta(days=days),
                amounts=_amounts(
                    _sum_of(
                        part
                        for part in timeline
                        if part.ends_at is not None and part.ends_at <= now + timedelta(days=days)
                    ),
                    valuation,
                ),
            )
            for days in EXPIRY_WINDOWS
        ),
    )


# --- tallies -----------------------------------------------------------------------------


def _tally() -> Tally:
    return dict.fromkeys(BUCKETS, ZERO)


def _add(into: Tally, other: Tally) -> None:
    for bucket in BUCKETS:
        into[bucket] += other[bucket]


def _minus(first: Tally, second: Tally) -> Tally:
    return {bucket: first[bucket] - second[bucket] for bucket in BUCKETS}


def _sum(tallies: Iterable[Tally]) -> Tally:
    total = _tally()
    for tally in tallies:
        _add(total, tally)
    return total


def _sum_of(parts: Iterable[_Slice]) -> Tally:
    total = _tally()
    for part in parts:
        total[part.bucket] += part.amount
    return total


def _amounts(tally: Tally, valuation: PointsValuation) -> Amounts:
    points = round_points(tally["points"])
    return Amounts(
        balance=round_money(tally["balance"]),
        digital_change=round_money(tally["digital_change"]),
        points=points,
        points_value=valuation.of(points),
    )


def _by_month(
    timeline: list[_Slice], account: Account, valuation: PointsValuation
) -> tuple[MonthLiability, ...]:
    zone = account.tzinfo
    months: dict[date | None, Tally] = defaultdict(_tally)
    for part in timeline:
        month = last_local_day(part.ends_at, zone).replace(day=1) if part.ends_at is not None else None
        months[month][part.bucket] += part.amount
    rows = (
        MonthLiability(month=month, amounts=_amounts(tally, valuation)) for month, tally in months.items()
    )
    return tuple(
        sorted(
            (row for row in rows if not row.amounts.is_zero),
            key=lambda row: (row.month is None, row.month or date.min),
        )
    )


# --- reads -------------------------------------------------------------------------------


def _points_valuation(account: Account) -> PointsValuation:
    # Compared in Python with exact decimals: SQLite would divide integers as integers.
    # A catalogue is tens of rewards, not customers.
    offers = Reward.objects.filter(account=account, active=True, points_cost__gt=0, value__gt=0).values_list(
        "pk", "name", "value", "points_cost"
    )
    cheapest = min(offers, key=lambda offer: (offer[2] / offer[3], offer[0]), default=None)
    if cheapest is None:
        return PointsValuation()
    pk, name, value, points_cost = cheapest
    return PointsValuation(reward_id=pk, reward_name=name, value=value, points_cost=points_cost)


def _lots(account: Account, store_id: int | None) -> list[_Slice]:
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
    return [_Slice(row["bucket"], row["store_id"], row["ends_at"], row["left"]) for row in rows]


def _wallet_totals(account: Account) -> tuple[Tally, Tally, list[_Slice]]:
    """Outstanding and debts of every wallet, and what lies outside lots by inactivity
    deadline — one row per deadline, not per wallet."""

    def positive(expression: Any, condition: Q) -> Sum:
        return Sum(Case(When(condition, then=expression), default=ZERO, output_field=_SUM_FIELD))

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
    owed, due, outside = _tally(), _tally(), list[_Slice]()
    for row in rows:
        for bucket in BUCKETS:
            owed[bucket] += row[f"{bucket}_owed"]
            due[bucket] += row[f"{bucket}_due"]
            left = row[f"{bucket}_outside"] if bucket in EXPIRING_BUCKETS else row[f"{bucket}_owed"]
            if left:
                outside.append(_Slice(bucket, None, row["inactivity_expires_at"], left))
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


def _attributed(account: Account, store_id: int | None) -> tuple[list[_Slice], list[_Slice]]:
    """What lies outside lots, and debts, by bucket, store of origin and inactivity deadline."""
    sql, accounts = _attribution_sql(by_store=store_id is not None)
    params: list[int] = [account.pk] * accounts + ([store_id] if store_id is not None else [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)  # the SQL names only tables and columns of the models
        rows = cursor.fetchall()
    convert = _deadline_converter()
    outside: list[_Slice] = []
    debts: list[_Slice] = []
    for bucket, side, row_store_id, deadline, cents in rows:
        amount = Decimal(cents) / 100
        if amount:
            part = _Slice(bucket, row_store_id, convert(deadline), amount)
            (outside if side > 0 else debts).append(part)
    return outside, debts


# --- CSV ---------------------------------------------------------------------------------


def _csv_amounts(amounts: Amounts) -> list[str]:
    return [
        str(amounts.balance),
        str(amounts.digital_change),
        str(amounts.points),
        str(amounts.points_value),
        str(amounts.total_value),
    ]


def liability_csv_rows(report: LiabilityReport) -> list[list[str]]:
    """The report as one table, header first: a `section` column says what each row is
    (`totals`, `debts`, `store`, `store_debts`, `expiry_month`, `expiring`), `key` names it
    (store id, `YYYY-MM`, days; empty for none) and `label` says it for a person. Amounts are
    plain decimals with a point (`1234.50`), R$ except points."""
    zone = ZoneInfo(report.time_zone)
    rows = [
        list(CSV_HEADER),
        ["totals", "", "Outstanding", *_csv_amounts(report.totals)],
        ["debts", "", "Debts (negative wallets)", *_csv_amounts(report.debts)],
    ]
    for row in report.by_store:
        if not row.amounts.is_zero:
            rows.append(
                ["store", _key(row.store_id), _text(row.store_name or "No store"), *_csv_amounts(row.amounts)]
            )
    for row in report.by_store:
        if not row.debts.is_zero:
            rows.append(
                [
                    "store_debts",
                    _key(row.store_id),
                    _text(row.store_name or "No store"),
                    *_csv_amounts(row.debts),
                ]
            )
    for month in report.by_expiry_month:
        rows.append(
            ["expiry_month", month.label or "", month.label or "No expiry", *_csv_amounts(month.amounts)]
        )
    for window in report.expiring:
        until = local_date(window.until, zone).isoformat()
        rows.append(
            [
                "expiring",
                str(window.days),
                f"Within {window.days} days (by {until})",
                *_csv_amounts(window.amounts),
            ]
        )
    return rows


def _key(value: int | None) -> str:
    return "" if value is None else str(value)


def _text(value: str) -> str:
    """A name as a CSV cell that a spreadsheet shows and never runs as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def liability_csv_filename(report: LiabilityReport) -> str:
    day = local_date(report.generated_at, ZoneInfo(report.time_zone))
    store = f"-store-{report.store_id}" if report.store_id is not None else ""
    return f"liability-{report.account_id}{store}-{day.isoformat()}.csv"
