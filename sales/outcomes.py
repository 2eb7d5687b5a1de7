"""What recording or cancelling a sale takes, hands to the signal receivers, and answers.

The sales services fill these; the engine's receivers add to them (postings, rewards,
warnings); the API shapes them.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from customers.models import Customer, Wallet
from customers.services import Posting
from loyalty.core.money import ZERO
from sales.models import Sale, SaleItem, SalePayment


@dataclass(frozen=True)
class ItemData:
    total: Decimal
    unit_value: Decimal = ZERO
    quantity: Decimal = Decimal("1")
    discount: Decimal = ZERO
    barcode: str = ""
    name: str = ""
    unit: str = ""
    category: str = ""
    subcategory: str = ""
    promotion_id: str = ""


@dataclass(frozen=True)
class PaymentData:
    method: int
    total: Decimal
    digital_change: Decimal = ZERO
    splits: int = 0
    paid_at: datetime | None = None


@dataclass
class SaleRewards:
    """What a sale earned, as the API answers it."""

    cashback: Decimal = ZERO
    points: Decimal = ZERO
    vouchers: list = field(default_factory=list)
    messages: int = 0


@dataclass
class SaleRecording:
    """The unit of work of one sale, handed to `sale_recorded` receivers."""

    sale: Sale
    items: list[SaleItem]
    payments: list[SalePayment]
    customer: Customer | None
    wallet: Wallet | None
    postings: list[Posting] = field(default_factory=list)
    rewards: SaleRewards = field(default_factory=SaleRewards)
    warnings: list[str] = field(default_factory=list)


@dataclass
class SaleOutcome:
    sale: Sale
    created: bool
    rewards: SaleRewards
    wallet: Wallet | None
    warnings: list[str]
    items: list[SaleItem] | None = None
    payments: list[SalePayment] | None = None


@dataclass
class SaleCancellation:
    """The unit of work of one cancellation, handed to `sale_cancelled` receivers."""

    sale: Sale
    customer: Customer | None
    wallet: Wallet | None
    postings: list[Posting] = field(default_factory=list)
    reversed: dict[str, Decimal | int] = field(default_factory=dict)
    vouchers_cancelled: list = field(default_factory=list)
    promotion_uses_released: int = 0
    redemptions_returned: list = field(default_factory=list)


@dataclass
class CancelOutcome:
    sale: Sale
    already_cancelled: bool
    reversed: dict[str, Decimal | int]
    vouchers_cancelled: list
    promotion_uses_released: int
    wallet: Wallet | None
    redemptions_returned: list = field(default_factory=list)
