"""Writes of the sales app: recording a sale (`recording.py`), cancelling it (`cancelling.py`)
and returning part of it (`returning.py`)."""

from sales.services.cancelling import sale_cancel
from sales.services.recording import CustomerRequired, sale_record
from sales.services.returning import ReturnConflict, ReturnRefused, SaleAlreadyCancelled, sale_return

__all__ = [
    "CustomerRequired",
    "ReturnConflict",
    "ReturnRefused",
    "SaleAlreadyCancelled",
    "sale_cancel",
    "sale_record",
    "sale_return",
]
