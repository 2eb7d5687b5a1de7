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

from loyalty.shell.liability.export import CSV_HEADER, liability_csv_filename, liability_csv_rows
from loyalty.shell.liability.report import (
    Amounts,
    ExpiringWithin,
    LiabilityReport,
    MonthLiability,
    PointsValuation,
    StoreLiability,
    liability_report,
)
from loyalty.shell.liability.sources import EXPIRY_WINDOWS

__all__ = [
    "CSV_HEADER",
    "EXPIRY_WINDOWS",
    "Amounts",
    "ExpiringWithin",
    "LiabilityReport",
    "MonthLiability",
    "PointsValuation",
    "StoreLiability",
    "liability_csv_filename",
    "liability_csv_rows",
    "liability_report",
]
