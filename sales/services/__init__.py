"""Writes of the sales app: recording a sale (`recording.py`) and cancelling it (`cancelling.py`)."""

from sales.services.cancelling import sale_cancel
from sales.services.recording import CustomerRequired, sale_record

__all__ = ["CustomerRequired", "sale_cancel", "sale_record"]
