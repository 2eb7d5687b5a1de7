"""Domain signals of the sales app.

The sales app records and cancels sales without knowing what rewards them: it sends
these signals inside the recording (or cancelling) transaction, after the sale and its
items and payments are saved, and receivers contribute to the unit of work they carry.
A receiver that raises rolls the whole sale back.

- `sale_recorded(recording=SaleRecording)`: receivers may append wallet `postings`
  (written with the sale's own, on the wallet the recording has locked), and report
  `rewards` and `warnings` for the answer.
- `sale_cancelled(cancellation=SaleCancellation)`: receivers undo what they did.
"""

from django.dispatch import Signal

sale_recorded = Signal()
sale_cancelled = Signal()
