"""The liability report as CSV rows: one table, a section per split."""

from zoneinfo import ZoneInfo

from django.utils.translation import gettext, ngettext

from loyalty.core.dates import local_date
from loyalty.shell.liability.report import Amounts, LiabilityReport

CSV_HEADER = ("section", "key", "label", "balance", "digital_change", "points", "points_value", "total_value")


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
        ["totals", "", gettext("Outstanding"), *_csv_amounts(report.totals)],
        ["debts", "", gettext("Debts (negative wallets)"), *_csv_amounts(report.debts)],
    ]
    for row in report.by_store:
        if not row.amounts.is_zero:
            rows.append(
                [
                    "store",
                    _key(row.store_id),
                    _text(row.store_name or gettext("No store")),
                    *_csv_amounts(row.amounts),
                ]
            )
    for row in report.by_store:
        if not row.debts.is_zero:
            rows.append(
                [
                    "store_debts",
                    _key(row.store_id),
                    _text(row.store_name or gettext("No store")),
                    *_csv_amounts(row.debts),
                ]
            )
    for month in report.by_expiry_month:
        rows.append(
            [
                "expiry_month",
                month.label or "",
                month.label or gettext("No expiry"),
                *_csv_amounts(month.amounts),
            ]
        )
    for window in report.expiring:
        until = local_date(window.until, zone).isoformat()
        rows.append(
            [
                "expiring",
                str(window.days),
                ngettext(
                    "Within %(days)s day (by %(date)s)", "Within %(days)s days (by %(date)s)", window.days
                )
                % {"days": window.days, "date": until},
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
