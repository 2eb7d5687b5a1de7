"""Writes of the sales app: recording a sale (`recording.py`), cancelling it (`cancelling.py`)
and returning part of it (`returning.py`)."""

from sales.services.cancelling import sale_cancel
from sales.services.recording import CustomerRequired, sale_record
from sales.services.returning import (
    ReturnConflict,
    ReturnPreview,
    ReturnRefused,
    SaleAlreadyCancelled,
    sale_return,
    sale_return_preview,
)

__all__ = [
    "CustomerRequired",
    "ReturnConflict",
    "ReturnPreview",
    "ReturnRefused",
    "SaleAlreadyCancelled",
    "sale_cancel",
    "sale_record",
    "sale_return",
    "sale_return_preview",
]
