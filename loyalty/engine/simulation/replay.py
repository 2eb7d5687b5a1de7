"""What two sets of rules would have granted on the same recorded sales: a pure function.

Each sale is evaluated by `loyalty.engine.rules` — the very evaluation that grants on a real
sale — under the current rules and under the draft, and what its returns took back is taken
back the way a return does (`returned_share` and `taken_back`, rounded once on the
cumulative share). A rule that is the same object in both sets is evaluated once. Nothing
here reads or writes the database, and nothing reads the clock: `today` and `now` are given.

The tallies are raw (exact `Decimal` sums, customers as sets); `loyalty.engine.simulation.results`
values and rounds them for an answer.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from loyalty.core.money import ZERO
from loyalty.engine.rules import (
    CASHBACK,
    POINTS,
    VOUCHER,
    ItemFacts,
    RuleFacts,
    SaleFacts,
    grant_of,
    returned_share,
    still_earns_voucher,
    taken_back,
)

CURRENT, DRAFT = 0, 1


@dataclass(frozen=True)
class RuleTerms:
    """What a rule's grants are worth and how long they last, beside what it grants."""

    #: A voucher rule's voucher value (its reward's, or its own fixed value), in R$.
    voucher_value: Decimal = ZERO
    #: Days a voucher it issues is valid.
    voucher_valid_days: int = 0
    #: Days its cashback or points stay spendable once available (None: no expiry).
    valid_days: int | None = None
    #: Days before its cashback or points become available.
    pending_days: int = 0


@dataclass(frozen=True)
class ReplayedSale:
    """A recorded sale as the simulator replays it: the engine's facts, whose it is, and what
    its returns gave back so far (every returned line, and the returns' amount)."""

    id: int
    customer_id: int
    local_date: date
    facts: SaleFacts
    returned: tuple[ItemFacts, ...] = ()
    returned_amount: Decimal = ZERO
    has_returns: bool = False

    @property
    def category_totals(self) -> dict[int | None, Decimal]:
        totals: dict[int | None, Decimal] = {}
        for item in self.facts.items:
            totals[item.category_id] = totals.get(item.category_id, ZERO) + item.total
        return totals


@dataclass
class Tally:
    """What one set of rules granted on some sales: exact sums, and the customers reached."""

    cashback: Decimal = ZERO
    points: Decimal = ZERO
    vouchers: int = 0
    vouchers_value: Decimal = ZERO
    customers: set[int] = field(default_factory=set)


@dataclass
class Liability:
    """What one set of rules granted that would still be owed `today`: not yet expired."""

    cashback: Decimal = ZERO
    points: Decimal = ZERO
    vouchers_value: Decimal = ZERO


def _pair() -> tuple[Tally, Tally]:
    return Tally(), Tally()


@dataclass
class Replay:
    """The tallies of the current rules and the draft, side by side (index `CURRENT`, `DRAFT`),
    in all and by local day, store and item category."""

    sales: int = 0
    customers: set[int] = field(default_factory=set)
    total: tuple[Tally, Tally] = field(default_factory=_pair)
    by_day: dict[date, tuple[Tally, Tally]] = field(default_factory=dict)
    by_store: dict[int | None, tuple[Tally, Tally]] = field(default_factory=dict)
    #: Cashback and points only, shared among the eligible items by their value.
    by_category: dict[int | None, tuple[Tally, Tally]] = field(default_factory=dict)
    liability: tuple[Liability, Liability] = field(default_factory=lambda: (Liability(), Liability()))


@dataclass(frozen=True)
class _Member:
    rule: RuleFacts
    terms: RuleTerms
    #: The scenarios (`CURRENT`, `DRAFT`) the rule belongs to.
    scenarios: tuple[int, ...]


class Replayer:
    """Replays sales under the current rules and the draft, one batch at a time, into one
    `Replay` (constant memory in the number of sales, but for the days, stores and customers
    it counts). Each rule comes with its terms; a rule object given in both sets (unchanged
    by the draft) is evaluated once per sale."""

    def __init__(
        self,
        *,
        current: Sequence[tuple[RuleFacts, RuleTerms]],
        draft: Sequence[tuple[RuleFacts, RuleTerms]],
        today: date,
        now: datetime,
    ) -> None:
        in_current = {id(rule) for rule, _ in current}
        in_draft = {id(rule) for rule, _ in draft}
        members: list[_Member] = []
        for rule, terms in [
            *current,
            *((rule, terms) for rule, terms in draft if id(rule) not in in_current),
        ]:
            scenarios = tuple(
                scenario
                for scenario, held in ((CURRENT, id(rule) in in_current), (DRAFT, id(rule) in in_draft))
                if held
            )
            members.append(_Member(rule=rule, terms=terms, scenarios=scenarios))
        self.members = tuple(members)
        self.today, self.now = today, now
        self.replay = Replay()

    def add(self, sales: Iterable[ReplayedSale]) -> None:
        for sale in sales:
            self._add(sale)

    def _add(self, sale: ReplayedSale) -> None:
        replay = self.replay
        replay.sales += 1
        replay.customers.add(sale.customer_id)
        facts = sale.facts
        category_totals: dict[int | None, Decimal] | None = None
        for member in self.members:
            rule = member.rule
            grant = grant_of(rule, facts)
            if grant is None:
                continue
            share = (
                returned_share(rule, facts, sale.returned, sale.returned_amount) if sale.has_returns else ZERO
            )
            if grant.kind == VOUCHER:
                if share and not still_earns_voucher(rule, facts, share):
                    continue
                self._voucher(sale, member)
            elif grant.kind in (CASHBACK, POINTS):
                amount = grant.amount
                if share:
                    amount -= taken_back(granted=amount, already=ZERO, share=share, kind=grant.kind)
                if amount <= 0:
                    continue
                if category_totals is None:
                    category_totals = sale.category_totals
                self._reward(sale, member, grant.kind, amount, category_totals)

    def _tallies(self, sale: ReplayedSale) -> tuple[tuple[Tally, Tally], ...]:
        replay = self.replay
        day = replay.by_day.get(sale.local_date)
        if day is None:
            day = replay.by_day[sale.local_date] = _pair()
        store = replay.by_store.get(sale.facts.store_id)
        if store is None:
            store = replay.by_store[sale.facts.store_id] = _pair()
        return replay.total, day, store

    def _voucher(self, sale: ReplayedSale, member: _Member) -> None:
        value = member.terms.voucher_value
        valid_until = sale.facts.occurred_at + timedelta(days=member.terms.voucher_valid_days)
        for tallies in self._tallies(sale):
            for scenario in member.scenarios:
                tally = tallies[scenario]
                tally.vouchers += 1
                tally.vouchers_value += value
                tally.customers.add(sale.customer_id)
        if valid_until > self.now:
            for scenario in member.scenarios:
                self.replay.liability[scenario].vouchers_value += value

    def _reward(
        self,
        sale: ReplayedSale,
        member: _Member,
        kind: str,
        amount: Decimal,
        category_totals: dict[int | None, Decimal],
    ) -> None:
        bucket = "cashback" if kind == CASHBACK else "points"
        for tallies in self._tallies(sale):
            for scenario in member.scenarios:
                tally = tallies[scenario]
                setattr(tally, bucket, getattr(tally, bucket) + amount)
                tally.customers.add(sale.customer_id)
        terms = member.terms
        if terms.valid_days is None or (
            sale.local_date + timedelta(days=terms.pending_days + terms.valid_days) >= self.today
        ):
            for scenario in member.scenarios:
                owed = self.replay.liability[scenario]
                setattr(owed, bucket, getattr(owed, bucket) + amount)
        self._by_category(sale, member, bucket, amount, category_totals)

    def _by_category(
        self,
        sale: ReplayedSale,
        member: _Member,
        bucket: str,
        amount: Decimal,
        category_totals: dict[int | None, Decimal],
    ) -> None:
        scope = member.rule.category_ids
        shares = {
            category: total
            for category, total in category_totals.items()
            if total > 0 and (not scope or category in scope)
        }
        whole = sum(shares.values(), ZERO)
        if whole <= 0:
            shares, whole = {None: Decimal(1)}, Decimal(1)
        by_category = self.replay.by_category
        for category, total in shares.items():
            pair = by_category.get(category)
            if pair is None:
                pair = by_category[category] = _pair()
            part = amount * total / whole
            for scenario in member.scenarios:
                tally = pair[scenario]
                setattr(tally, bucket, getattr(tally, bucket) + part)
                tally.customers.add(sale.customer_id)
