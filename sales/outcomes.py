"""What recording or cancelling a sale takes, tells its signal's receivers, and answers.

Every value here is frozen. The sales app hands a receiver the facts (`RecordedSale`,
`CancelledSale`); each receiver writes its own rows and returns what it did (`SaleRewards`,
`Reversal`); the sales app adds the returns up for the answer. No receiver fills a shared
object.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Protocol

from customers.models import Customer, Wallet
from loyalty.core.money import ZERO, round_money
from loyalty.core.receipts import Receipt
from loyalty.core.vocabulary import PaymentMethod
from loyalty.outbox.services import AnnouncedVoucher
from loyalty.outbox.webhooks.services import WebhookEventData
from loyalty.tenancy.models import Store
from sales.models import Sale, SaleItem, SalePayment, SaleReturn, SaleReturnLine

# The vouchers app, a floor above, issues and cancels vouchers and gives redemptions back on the
# sales' signals; the answers carry them as these descriptions, without importing its models.


class IssuedVoucher(AnnouncedVoucher, Protocol):
    """A voucher a sale's receiver issued or cancelled, as an answer shows it."""

    @property
    def pk(self) -> int: ...
    @property
    def status(self) -> str: ...


class ReturnedRedemption(Protocol):
    """A balance redemption given back on a cancel, as the answer names it."""

    @property
    def pk(self) -> int: ...


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


@dataclass(frozen=True)
class SaleInput:
    """A sale as a till or an ERP sent it, in neither dialect's words.

    The customer is named by `document` (created when unknown) or by `customer_id`, or not
    at all (an unidentified sale); an identified one may give or withdraw their marketing
    consent with it. `declared_amount` is the v2 `sale_amount`; a POS purchase is the sum of
    its items.
    """

    source: str
    occurred_at: datetime
    store: Store | None = None
    document: str | None = None
    customer_id: int | None = None
    type: str = ""
    receipt: Receipt = field(default_factory=Receipt)
    operator: str = ""
    declared_amount: Decimal | None = None
    items: tuple[ItemData, ...] = ()
    payments: tuple[PaymentData, ...] = ()
    #: Marketing consent the customer gave (True) or withdrew (False) with this sale, by
    #: channel; recorded with a new sale only, never with a replay.
    consent: tuple[tuple[str, bool], ...] = ()

    @cached_property
    def amount(self) -> Decimal:
        if self.declared_amount is not None:
            return self.declared_amount
        return round_money(sum((item.total for item in self.items), ZERO))

    @property
    def uses_digital_change(self) -> bool:
        return any(
            payment.digital_change or payment.method == PaymentMethod.DIGITAL_CHANGE
            for payment in self.payments
        )


@dataclass(frozen=True)
class RecordedSale:
    """The facts of a sale just saved with its lines, as `sale_recorded` carries them.

    `wallet` is the customer's wallet, locked by the recording and already moved by the
    sale's own postings (totals, digital change).
    """

    sale: Sale
    items: tuple[SaleItem, ...]
    payments: tuple[SalePayment, ...]
    customer: Customer | None
    wallet: Wallet | None


@dataclass(frozen=True)
class SaleRewards:
    """What a sale earned: what one receiver granted, or all of them added up."""

    cashback: Decimal = ZERO
    points: Decimal = ZERO
    vouchers: tuple[IssuedVoucher, ...] = ()
    messages: int = 0
    warnings: tuple[str, ...] = ()
    #: The wallet as the receiver left it (None: it did not touch it).
    wallet: Wallet | None = None
    #: Webhook events of what the receiver did (the vouchers it issued), for the recording
    #: to queue with the sale's own in one statement.
    events: tuple[WebhookEventData, ...] = ()

    @classmethod
    def combine(cls, parts: Iterable["SaleRewards"]) -> "SaleRewards":
        total = cls()
        for part in parts:
            total = cls(
                cashback=total.cashback + part.cashback,
                points=total.points + part.points,
                vouchers=total.vouchers + tuple(part.vouchers),
                messages=total.messages + part.messages,
                warnings=total.warnings + tuple(part.warnings),
                wallet=part.wallet or total.wallet,
                events=total.events + tuple(part.events),
            )
        return total


@dataclass(frozen=True)
class SaleOutcome:
    sale: Sale
    created: bool
    rewards: SaleRewards
    wallet: Wallet | None
    warnings: list[str]
    items: list[SaleItem] | None = None
    payments: list[SalePayment] | None = None


@dataclass(frozen=True)
class CancelledSale:
    """A sale just marked cancelled, as `sale_cancelled` carries it; `wallet` is locked and
    already moved back by the sale's own reversal."""

    sale: Sale
    customer: Customer | None
    wallet: Wallet | None


@dataclass(frozen=True)
class Reversal:
    """What one receiver of `sale_cancelled` undid, or all of them added up."""

    moved: Mapping[str, Decimal | int] = field(default_factory=dict)
    vouchers_cancelled: tuple[IssuedVoucher, ...] = ()
    redemptions_returned: tuple[ReturnedRedemption, ...] = ()
    wallet: Wallet | None = None

    @classmethod
    def combine(cls, parts: Iterable["Reversal"]) -> "Reversal":
        moved: dict[str, Decimal | int] = {}
        vouchers: tuple[IssuedVoucher, ...] = ()
        redemptions: tuple[ReturnedRedemption, ...] = ()
        wallet = None
        for part in parts:
            for name, value in part.moved.items():
                moved[name] = moved.get(name, 0) + value
            vouchers += tuple(part.vouchers_cancelled)
            redemptions += tuple(part.redemptions_returned)
            wallet = part.wallet or wallet
        moved = {name: value for name, value in moved.items() if value}
        return cls(moved=moved, vouchers_cancelled=vouchers, redemptions_returned=redemptions, wallet=wallet)


@dataclass(frozen=True)
class CancelOutcome:
    sale: Sale
    already_cancelled: bool
    reversed: Mapping[str, Decimal | int]
    vouchers_cancelled: tuple[IssuedVoucher, ...]
    promotion_uses_released: int
    wallet: Wallet | None
    redemptions_returned: tuple[ReturnedRedemption, ...] = ()


@dataclass(frozen=True)
class ReturnedUnits:
    """Units of one barcode a till or ERP gives back."""

    barcode: str
    quantity: Decimal


@dataclass(frozen=True)
class ReturnedSale:
    """A return just recorded, as `sale_returned` carries it.

    `lines` are every line returned from the sale so far, this return's included, and
    `amount` what all its returns were worth: the engine takes back each rule's grant by the
    share they carried. `wallet` is locked and already moved by the return's own postings.
    """

    sale: Sale
    sale_return: SaleReturn
    items: tuple[SaleItem, ...]
    payments: tuple[SalePayment, ...]
    lines: tuple[SaleReturnLine, ...]
    amount: Decimal
    customer: Customer | None
    wallet: Wallet | None


@dataclass(frozen=True)
class TakenBack:
    """What one receiver of `sale_returned` took back, or all of them added up."""

    moved: Mapping[str, Decimal | int] = field(default_factory=dict)
    vouchers_cancelled: tuple[IssuedVoucher, ...] = ()
    #: Vouchers already used whose value the return debited from the cashback balance.
    vouchers_charged: tuple[IssuedVoucher, ...] = ()
    wallet: Wallet | None = None

    @classmethod
    def combine(cls, parts: Iterable["TakenBack"]) -> "TakenBack":
        moved: dict[str, Decimal | int] = {}
        cancelled: tuple[IssuedVoucher, ...] = ()
        charged: tuple[IssuedVoucher, ...] = ()
        wallet = None
        for part in parts:
            for name, value in part.moved.items():
                moved[name] = moved.get(name, 0) + value
            cancelled += tuple(part.vouchers_cancelled)
            charged += tuple(part.vouchers_charged)
            wallet = part.wallet or wallet
        moved = {name: value for name, value in moved.items() if value}
        return cls(moved=moved, vouchers_cancelled=cancelled, vouchers_charged=charged, wallet=wallet)


@dataclass(frozen=True)
class ReturnOutcome:
    sale_return: SaleReturn
    created: bool
    #: What the return took back (its own totals and the rules' rewards), as first answered.
    taken_back: Mapping[str, object]
    wallet: Wallet | None
