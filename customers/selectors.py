"""Reads of the customers app: customers, their consent, wallets, the ledger, exports and
ledger checks."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from django.db.models import (
    DecimalField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from customers.documents import normalize_document, normalize_email, normalize_phone
from customers.models import (
    POINTS_FIELDS,
    WALLET_FIELDS,
    ConsentChange,
    Customer,
    CustomerConsent,
    ExpiryLot,
    LedgerEntry,
    Wallet,
)
from loyalty.core.dates import format_api_datetime, last_local_day, local_date, local_day_end
from loyalty.core.money import ZERO, round_money, round_points
from loyalty.outbox.models import Channel
from loyalty.tenancy.models import Account

#: Where `customer_queryset` puts each customer's current consent rows.
CONSENTS_PREFETCHED = "consents_now"


def customer_queryset(*, account: Account) -> QuerySet[Customer]:
    """The account's customers with their wallet and current consent (one query each per page)."""
    wallets = Prefetch("wallet", queryset=Wallet.objects.filter(account=account))
    # Unordered: `consent_of` reads them by channel, and their default order (by customer)
    # joins the customers and sorts, only to be thrown away.
    consents = Prefetch(
        "consents",
        queryset=CustomerConsent.objects.filter(account=account).order_by(),
        to_attr=CONSENTS_PREFETCHED,
    )
    return Customer.objects.filter(account=account).prefetch_related(wallets, consents)


def consent_of(customer: Customer) -> dict[str, dict[str, Any]]:
    """The customer's marketing consent on every channel: `granted`, when it last `changed_at`
    and its `source` (both None for a channel never answered, which is no consent).

    Reads what `customer_queryset` prefetched, or else one query.
    """
    states: Iterable[CustomerConsent] | None = getattr(customer, CONSENTS_PREFETCHED, None)
    if states is None:
        states = CustomerConsent.objects.filter(account_id=customer.account_id, customer_id=customer.pk)
    by_channel = {state.channel: state for state in states}
    summary: dict[str, dict[str, Any]] = {}
    for channel in Channel.values:
        state = by_channel.get(channel)
        summary[channel] = {
            "granted": bool(state and state.granted),
            "changed_at": state.changed_at if state else None,
            "source": state.source if state else None,
        }
    return summary


def consent_forget_prefetched(customer: Customer) -> None:
    """Drop the consent read with the customer, so that the next read sees a change just made."""
    customer.__dict__.pop(CONSENTS_PREFETCHED, None)


def consent_history(*, customer: Customer) -> QuerySet[ConsentChange]:
    """Every change of the customer's marketing consent, newest first."""
    return ConsentChange.objects.filter(account_id=customer.account_id, customer_id=customer.pk).order_by(
        "-id"
    )


def customer_find(
    *, account: Account, document: str | None = None, phone: str | None = None, email: str | None = None
) -> Customer | None:
    """The account's customer with this CPF/CNPJ, phone or e-mail (any written form), or None."""
    queryset = customer_queryset(account=account)
    if document:
        return queryset.filter(document=normalize_document(document)).first()
    if phone:
        return queryset.filter(phone=normalize_phone(phone)).first()
    if email:
        return queryset.filter(email=normalize_email(email)).first()
    return None


def wallet_by_document(*, account: Account, document: str) -> Wallet | None:
    """The wallet of the account's customer with this (already normalised) document."""
    return Wallet.objects.filter(
        account=account, customer__account=account, customer__document=document
    ).first()


def ledger_entries(*, customer: Customer) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(account_id=customer.account_id, wallet__customer=customer).order_by(
        "-id"
    )


def customer_export(*, customer: Customer) -> dict[str, Any]:
    """The customer's own part of an LGPD export: their record, wallet, ledger, and marketing
    consent with its whole history (the whole export is
    `loyalty.shell.privacy.customer_data_export`)."""
    wallet = customer.wallet
    data: dict[str, Any] = {
        "customer": {
            "id": customer.pk,
            "name": customer.name,
            "cpf": customer.document,
            "phone": customer.phone,
            "email": customer.email,
            "has_password": bool(customer.password),
            "birth_date": customer.birth_date.isoformat() if customer.birth_date else None,
            "gender": customer.gender,
            "extra": customer.extra,
            "created_at": format_api_datetime(customer.created_at),
            "updated_at": format_api_datetime(customer.updated_at),
            "anonymized_at": format_api_datetime(customer.anonymized_at) if customer.anonymized_at else None,
        },
        "wallet": {name: getattr(wallet, name) for name in WALLET_FIELDS},
        "ledger": [
            {
                "id": entry.id,
                "kind": entry.kind,
                **entry.moved(),
                "reason": entry.reason,
                "store_id": entry.store_id,
                "created_at": format_api_datetime(entry.created_at),
            }
            for entry in ledger_entries(customer=customer).order_by("id")
        ],
        "consent": {
            channel: {
                **state,
                "changed_at": format_api_datetime(state["changed_at"]) if state["changed_at"] else None,
            }
            for channel, state in consent_of(customer).items()
        },
        "consent_history": [
            {
                "channel": change.channel,
                "granted": change.granted,
                "source": change.source,
                "store_id": change.store_id,
                "occurred_at": format_api_datetime(change.occurred_at),
            }
            for change in consent_history(customer=customer).order_by("id")
        ],
    }
    return data


def round_amount(name: str, value: Decimal) -> Decimal:
    return round_points(value) if name in POINTS_FIELDS else round_money(value)


@dataclass(frozen=True)
class WalletMismatch:
    wallet_id: int
    customer_id: int
    field: str
    wallet_value: Decimal | int
    ledger_sum: Decimal | int

    def __str__(self) -> str:
        return (
            f"wallet {self.wallet_id} (customer {self.customer_id}): {self.field} is {self.wallet_value} "
            f"but its ledger rows sum to {self.ledger_sum}"
        )


def wallet_mismatches(*, account: Account | None = None) -> list[WalletMismatch]:
    """Every wallet field that differs from the sum of its ledger rows (one grouped query)."""
    sums = {
        f"ledger_{name}": Coalesce(
            Sum(f"entries__{name}"),
            Value(0),
            output_field=IntegerField()
            if name == "count_shoppings"
            else DecimalField(max_digits=20, decimal_places=2),
        )
        for name in WALLET_FIELDS
    }
    wallets = Wallet.objects.annotate(**sums)
    if account is not None:
        wallets = wallets.filter(customer__account=account)
    # Compare within half a cent: SQLite sums decimals as floating point.
    half_cent = Decimal("0.005")
    differs = Q()
    for name in WALLET_FIELDS:
        differs |= Q(**{f"{name}__gt": F(f"ledger_{name}") + half_cent})
        differs |= Q(**{f"{name}__lt": F(f"ledger_{name}") - half_cent})
    mismatches = []
    for wallet in wallets.filter(differs).order_by("id"):
        for name in WALLET_FIELDS:
            raw_sum = getattr(wallet, f"ledger_{name}")
            ledger_sum = raw_sum if name == "count_shoppings" else round_amount(name, raw_sum)
            if getattr(wallet, name) != ledger_sum:
                mismatches.append(
                    WalletMismatch(
                        wallet_id=wallet.pk,
                        customer_id=wallet.customer_id,
                        field=name,
                        wallet_value=getattr(wallet, name),
                        ledger_sum=ledger_sum,
                    )
                )
    return mismatches


@dataclass(frozen=True)
class LotMismatch:
    wallet_id: int
    customer_id: int
    bucket: str
    problem: str

    def __str__(self) -> str:
        return f"wallet {self.wallet_id} (customer {self.customer_id}): {self.bucket} {self.problem}"


def lot_mismatches(*, account: Account | None = None) -> list[LotMismatch]:
    """Every wallet whose expiry lots do not add up to its buckets (one query per bucket).

    A wallet's `lot_<bucket>` must be the sum of its lots' `remaining`, and lie between zero
    and the bucket (a negative bucket holds no lot: a debt is paid before anything expires).
    """
    mismatches = []
    for bucket in ("points", "balance"):
        in_lots = Subquery(
            ExpiryLot.objects.filter(account_id=OuterRef("account_id"), wallet=OuterRef("pk"), bucket=bucket)
            .values("wallet")
            .annotate(left=Sum("remaining"))
            .values("left"),
            output_field=DecimalField(max_digits=20, decimal_places=2),
        )
        wallets = Wallet.objects.annotate(lots_left=Coalesce(in_lots, Value(ZERO)))
        if account is not None:
            wallets = wallets.filter(account=account)
        field = f"lot_{bucket}"
        # Within half a cent: SQLite adds decimals as floating point.
        half_cent = Decimal("0.005")
        wrong = (
            Q(**{f"{field}__gt": F("lots_left") + half_cent})
            | Q(**{f"{field}__lt": F("lots_left") - half_cent})
            | Q(**{f"{field}__lt": -half_cent})
            | (Q(**{f"{field}__gt": half_cent}) & Q(**{f"{field}__gt": F(bucket) + half_cent}))
        )
        for wallet in wallets.filter(wrong).order_by("id"):
            held = getattr(wallet, field)
            problem = (
                f"lots hold {round_amount(bucket, wallet.lots_left)} but the wallet says {held}"
                if round_amount(bucket, wallet.lots_left) != held
                else f"lots hold {held}, outside 0..{max(getattr(wallet, bucket), ZERO)}"
            )
            mismatches.append(LotMismatch(wallet.pk, wallet.customer_id, bucket, problem))
    return mismatches


def lots_expired_of(*, account_id: int, entries: Sequence[LedgerEntry]) -> dict[int, dict[str, Decimal]]:
    """What of the lots each of these ledger rows opened has expired, by row and bucket."""
    if not entries:
        return {}
    expired: dict[int, dict[str, Decimal]] = {}
    rows = (
        ExpiryLot.objects.filter(account_id=account_id, entry__in=entries, expired__gt=0)
        .values("entry_id", "bucket")
        .annotate(total=Sum("expired"))
        .order_by()
    )
    for row in rows:
        expired.setdefault(row["entry_id"], {})[row["bucket"]] = round_amount(row["bucket"], row["total"])
    return expired


@dataclass(frozen=True)
class NextExpiry:
    """The soonest local day within `NEXT_EXPIRY_DAYS` on which something expires, and what."""

    date: date
    points: Decimal
    balance: Decimal


NEXT_EXPIRY_DAYS = 30


def wallet_next_expiry(*, wallet: Wallet, account: Account, now: datetime) -> NextExpiry | None:
    """What of the wallet expires first within the next 30 days, or None (no query at all for
    a wallet without lots or an inactivity deadline)."""
    zone = account.tzinfo
    horizon = local_day_end(local_date(now, zone) + timedelta(days=NEXT_EXPIRY_DAYS), zone)
    deadline = wallet.inactivity_expires_at
    if deadline is not None and not (account.expiry_inactivity_days and now < deadline <= horizon):
        deadline = None
    soonest: tuple[datetime, dict[str, Decimal]] | None = None
    if wallet.lot_points > 0 or wallet.lot_balance > 0:
        rows = (
            ExpiryLot.objects.filter(
                account_id=wallet.account_id,
                wallet=wallet,
                remaining__gt=0,
                expires_at__gt=now,
                expires_at__lte=deadline or horizon,
            )
            .values("expires_at", "bucket")
            .annotate(left=Sum("remaining"))
            .order_by("expires_at")
        )
        for row in rows:
            ends = row["expires_at"]
            assert ends is not None, "bounded above, so never null"
            if soonest is None:
                soonest = (ends, {})
            if last_local_day(ends, zone) != last_local_day(soonest[0], zone):
                break
            soonest[1][row["bucket"]] = soonest[1].get(row["bucket"], ZERO) + row["left"]
    if deadline is not None and (
        soonest is None or last_local_day(deadline, zone) <= last_local_day(soonest[0], zone)
    ):
        # Inactivity takes everything the customer holds.
        soonest = (deadline, {"points": max(wallet.points, ZERO), "balance": max(wallet.balance, ZERO)})
    if soonest is None or not any(amount > 0 for amount in soonest[1].values()):
        return None
    return NextExpiry(
        date=last_local_day(soonest[0], zone),
        points=round_points(soonest[1].get("points", ZERO)),
        balance=round_money(soonest[1].get("balance", ZERO)),
    )


class LedgeredSale(Protocol):
    """A sale, as its ledger rows name it (the sales app, a floor above, owns the model)."""

    @property
    def pk(self) -> int: ...
    @property
    def account_id(self) -> int: ...


def returned_by_rule(*, sale: "LedgeredSale") -> dict[int, dict[str, Decimal]]:
    """What the sale's returns took back of each rule's grant, by bucket (positive amounts)."""
    rows = (
        LedgerEntry.objects.filter(
            account_id=sale.account_id,
            sale_id=sale.pk,
            kind=LedgerEntry.Kind.RETURN,
            rule__isnull=False,
            voucher=None,
        )
        .values("rule_id")
        .annotate(
            points=Sum("points"),
            balance=Sum("balance"),
            pending_points=Sum("pending_points"),
            pending_balance=Sum("pending_balance"),
        )
        .order_by()
    )
    # Rounded: SQLite adds the amounts up as floats, and a hundred returns' sum is then a cent
    # and some 1e-14 (PostgreSQL's NUMERIC sum is exact, and unchanged by it).
    return {
        row["rule_id"]: {
            bucket: -round_amount(bucket, Decimal(row[bucket] or 0))
            for bucket in ("points", "balance", "pending_points", "pending_balance")
            if row[bucket]
        }
        for row in rows
    }


def returned_of_entries(
    *, sale: "LedgeredSale", entries: Iterable[LedgerEntry]
) -> dict[int, dict[str, Decimal]]:
    """What the sale's returns already took back of each of these grant or release rows, by
    bucket: a cancel reverses only what is left."""
    already = returned_by_rule(sale=sale)
    found: dict[int, dict[str, Decimal]] = {}
    available: tuple[str, ...] = ("points", "balance")
    pending: tuple[str, ...] = ("pending_points", "pending_balance")
    for entry in entries:
        taken = already.get(entry.rule_id or 0, {})
        # A grant still pending when returned gave back from pending; once released, from its release.
        buckets = (
            pending if entry.kind != LedgerEntry.Kind.RELEASE and entry.releases_at is not None else available
        )
        picked = {bucket: taken[bucket] for bucket in buckets if bucket in taken}
        if picked:
            found[entry.pk] = picked
    return found
