"""Bulk writing of the benchmark rows: `COPY` on PostgreSQL, batched `bulk_create` elsewhere."""

import json
from collections.abc import Iterable, Sequence
from itertools import islice

from django.db import connection, models

from bench.seed.data import BATCH_SIZE
from customers.models import Customer, LedgerEntry, Wallet
from promotions.models import Product, Promotion
from vouchers.models import Voucher


def columns_of(model: type[models.Model], *, left_out: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The columns a bulk row of `model` gives, in the model's order: all but the id and
    `left_out` (nullable ones, left empty)."""
    return tuple(
        field.attname
        for field in model._meta.concrete_fields
        if not field.primary_key and field.attname not in left_out
    )


PRODUCT_COLUMNS = columns_of(Product)
PROMOTION_COLUMNS = columns_of(Promotion)
CUSTOMER_COLUMNS = columns_of(Customer, left_out=("birth_date", "anonymized_at"))
# The seeded history has no expiry lots: their sums and the inactivity deadline keep their defaults.
WALLET_COLUMNS = columns_of(Wallet, left_out=("lot_points", "lot_balance", "inactivity_expires_at"))
LEDGER_COLUMNS = columns_of(
    LedgerEntry,
    left_out=(
        "sale_id",
        "rule_id",
        "voucher_id",
        "redemption_id",
        "store_id",
        "staff_user_id",
        "reverses_id",
        "releases_at",
        "releases_id",
        "lots_spent",
        "sale_return_id",
    ),
)
VOUCHER_COLUMNS = columns_of(Voucher, left_out=("sale_id", "rule_id", "used_store_id", "cancelled_at"))


def bulk_insert(model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert `rows` (tuples of the `columns` attribute names) and return how many.

    `COPY` on PostgreSQL; elsewhere `bulk_create` in batches.
    """
    if connection.vendor == "postgresql":
        return _copy(model, columns, rows)
    count = 0
    rows = iter(rows)
    while batch := list(islice(rows, BATCH_SIZE)):
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in batch])
        count += len(batch)
    return count


def _copy(model: type[models.Model], columns: Sequence[str], rows: Iterable[tuple]) -> int:
    fields = {field.attname: field for field in model._meta.concrete_fields}
    json_positions = [
        position for position, name in enumerate(columns) if isinstance(fields[name], models.JSONField)
    ]
    quote = connection.ops.quote_name
    statement = "COPY {} ({}) FROM STDIN".format(
        quote(model._meta.db_table), ", ".join(quote(fields[name].column) for name in columns)
    )
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            if json_positions:
                row = list(row)
                for position in json_positions:
                    row[position] = json.dumps(row[position])
            copy.write_row(row)
            count += 1
    return count
