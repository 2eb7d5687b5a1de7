"""What a wallet movement is made of: a `Posting` (one ledger row to write) and the
`LotTerms` of a credit that expires. `wallet_post` writes postings; the lot plan reads them."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from customers.models import POINTS_FIELDS, WALLET_FIELDS, LedgerEntry
from loyalty.core.money import round_money, round_points
from loyalty.tenancy.models import Store

if TYPE_CHECKING:
    from django.contrib.auth.models import User  # the project's AUTH_USER_MODEL


@dataclass(frozen=True)
class LotTerms:
    """A credit that opens an expiry lot: the first instant it can no longer be spent
    (`None`: only inactivity expires it)."""

    expires_at: datetime | None


@dataclass(frozen=True)
class Posting:
    """One ledger row to write: its kind, signed deltas per wallet field, and its origin.

    `links` sets further foreign keys of the row (`sale`, `rule`, `voucher`, ...).
    """

    kind: str
    deltas: Mapping[str, Decimal | int]
    reason: str = ""
    store: Store | None = None
    staff_user: "User | None" = None
    reverses: LedgerEntry | None = None
    links: Mapping[str, object] = field(default_factory=dict)
    #: A credit of points or balance that expires opens an expiry lot (`customers.services.lots`).
    lot: LotTerms | None = None
    #: A debit that takes back part of this credit (a return): it spends that credit's lots
    #: first, as a reversal does (a reversal names its row in `reverses`).
    takes_back: LedgerEntry | None = None

    def __post_init__(self) -> None:
        unknown = set(self.deltas) - set(WALLET_FIELDS)
        if unknown:
            raise ValueError(f"Unknown wallet fields: {sorted(unknown)}")
        for name, value in self.deltas.items():
            if name == "count_shoppings":
                if not isinstance(value, int):
                    raise ValueError("count_shoppings moves by whole purchases.")
                continue
            rounded = round_points(value) if name in POINTS_FIELDS else round_money(value)
            if Decimal(value) != rounded:
                raise ValueError(
                    f"{name}={value!r} is not rounded; round amounts once, where they are computed."
                )
