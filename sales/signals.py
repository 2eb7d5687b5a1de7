"""Domain signals of the sales app.

The sales app records and cancels sales without knowing what rewards them. It sends these
signals inside the recording (or cancelling) transaction, once the sale and its lines are
saved and its own wallet movements made; a receiver that raises rolls the whole sale back.
Each receiver writes its own rows and returns what it did:

- `sale_recorded(recorded=RecordedSale)` → a `SaleRewards` (or None);
- `sale_cancelled(cancelled=CancelledSale)` → a `Reversal` (or None);
- `sale_returned(returned=ReturnedSale)` → a `TakenBack` (or None).

The engine receives both (it grants and reverses the rules' rewards); vouchers receives
`sale_cancelled` to give back the balance redeemed for the purchase.
"""

from typing import cast

from django.dispatch import Signal

from sales.models import Sale
from sales.outcomes import CancelledSale, RecordedSale, ReturnedSale, Reversal, SaleRewards, TakenBack

sale_recorded = Signal()
sale_cancelled = Signal()
sale_returned = Signal()

# django-stubs types a receiver's answer as `str | None`; these signals' receivers answer as above.
_RewardsAnswers = list[tuple[object, SaleRewards | None]]
_ReversalAnswers = list[tuple[object, Reversal | None]]
_TakenBackAnswers = list[tuple[object, TakenBack | None]]


def sale_recorded_send(*, recorded: RecordedSale) -> list[SaleRewards]:
    """Send `sale_recorded`; what each receiver that answered granted."""
    answers = cast(_RewardsAnswers, sale_recorded.send(sender=Sale, recorded=recorded))
    return [answer for _, answer in answers if answer is not None]


def sale_cancelled_send(*, cancelled: CancelledSale) -> list[Reversal]:
    """Send `sale_cancelled`; what each receiver that answered undid."""
    answers = cast(_ReversalAnswers, sale_cancelled.send(sender=Sale, cancelled=cancelled))
    return [answer for _, answer in answers if answer is not None]


def sale_returned_send(*, returned: ReturnedSale) -> list[TakenBack]:
    """Send `sale_returned`; what each receiver that answered took back."""
    answers = cast(_TakenBackAnswers, sale_returned.send(sender=Sale, returned=returned))
    return [answer for _, answer in answers if answer is not None]
