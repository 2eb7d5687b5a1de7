"""Domain signals of the sales app.

The sales app records and cancels sales without knowing what rewards them. It sends these
signals inside the recording (or cancelling) transaction, once the sale and its lines are
saved and its own wallet movements made; a receiver that raises rolls the whole sale back.
Each receiver writes its own rows and returns what it did:

- `sale_recorded(recorded=RecordedSale)` → a `SaleRewards` (or None);
- `sale_cancelled(cancelled=CancelledSale)` → a `Reversal` (or None).

The engine receives both (it grants and reverses the rules' rewards); vouchers receives
`sale_cancelled` to give back the balance redeemed for the purchase.
"""

from django.dispatch import Signal

sale_recorded = Signal()
sale_cancelled = Signal()
