"""Purchases in the POS dialect: "Adicionar compra" (`purchases`), "Cancelar compra" and
"Devolução" (`undo`).

`PUT /shops` is idempotent: a purchase is identified by its store, type, local date and
receipt — `pdv` + `coupon` when both are sent, otherwise `reference`. Sending it again
answers the purchase as first recorded (200) and earns nothing more; the same keys with
another consumer, amount, items or payments are a 409 `purchase_conflict` that names the
recorded purchase (never its consumer) and records nothing.

Cancel and return name a recorded purchase by the same keys (`purchase_of`): none is a 404,
and a bare reference that names several purchases of the day is a 409 `ambiguous_reference`.
A return has its own key, `return_reference`: sent again, it answers the first result.
"""

from sales.api.pos.purchases import PurchaseView
from sales.api.pos.undo import CancelPurchaseView, ReturnPurchaseView

__all__ = ["CancelPurchaseView", "PurchaseView", "ReturnPurchaseView"]
