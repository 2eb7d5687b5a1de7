"""What a sale earns under a set of rules: a pure function of the sale's facts and the rules.

No database, no clock, no Django (import-linter forbids it): the same evaluation grants on a
recorded sale, and can be replayed on history or on part of a sale. The engine's services
read the facts and the rules from the database, call `evaluate`, and write what it returns.

Each matching rule grants on the sale's eligible amount: the item totals (or the declared
amount when there are no items), less the share paid with the rule's excluded payment
methods, restricted to its categories (children included, expanded by the caller) when it
names any. Rules add up. Every reward is rounded once, ROUND_HALF_UP, to the cent (points:
2 places).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loyalty.core.money import ZERO, round_money, round_points

CASHBACK, POINTS, VOUCHER, MESSAGE = "cashback", "points", "voucher", "message"


@dataclass(frozen=True)
class ItemFacts:
    total: Decimal
    category_id: int | None = None


@dataclass(frozen=True)
class PaymentFacts:
    method: int
    total: Decimal


@dataclass(frozen=True)
class SaleFacts:
    """What the rules look at in a sale."""

    occurred_at: datetime
    #: The local weekday (0 = Monday) in the account's time zone.
    weekday: int
    store_id: int | None
    type: str
    amount: Decimal
    items: tuple[ItemFacts, ...] = ()
    payments: tuple[PaymentFacts, ...] = ()


@dataclass(frozen=True)
class RuleFacts:
    """A rule as the evaluation sees it; `category_ids` already holds the children."""

    id: int
    kind: str
    value: Decimal
    threshold: Decimal | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: frozenset[int] = frozenset()
    store_ids: frozenset[int] = frozenset()
    category_ids: frozenset[int] = frozenset()
    excluded_payment_methods: frozenset[int] = frozenset()
    minimum_amount: Decimal = ZERO
    maximum_reward: Decimal | None = None
    sale_types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Grant:
    """What one rule earns on one sale: an amount of cashback or points, a voucher, a message."""

    rule_id: int
    kind: str
    eligible: Decimal
    amount: Decimal = ZERO


def applies(rule: RuleFacts, sale: SaleFacts) -> bool:
    """Whether the rule's window, weekdays, stores and sale types admit the sale."""
    if rule.starts_at and sale.occurred_at < rule.starts_at:
        return False
    if rule.ends_at and sale.occurred_at >= rule.ends_at:
        return False
    if rule.weekdays and sale.weekday not in rule.weekdays:
        return False
    if rule.store_ids and sale.store_id not in rule.store_ids:
        return False
    return not (rule.sale_types and sale.type not in rule.sale_types)


def eligible_amount(rule: RuleFacts, sale: SaleFacts) -> Decimal:
    """The part of the sale the rule rewards (not rounded: rewards round once, at the end)."""
    base = sum((item.total for item in sale.items), ZERO) if sale.items else sale.amount
    if base <= 0:
        return ZERO
    excluded = sum(
        (payment.total for payment in sale.payments if payment.method in rule.excluded_payment_methods), ZERO
    )
    paid_share = max(base - excluded, ZERO) / base
    scoped = base
    if rule.category_ids:
        scoped = sum((item.total for item in sale.items if item.category_id in rule.category_ids), ZERO)
    return scoped * paid_share


def _capped(amount: Decimal, rule: RuleFacts) -> Decimal:
    return min(amount, rule.maximum_reward) if rule.maximum_reward is not None else amount


def grant_of(rule: RuleFacts, sale: SaleFacts) -> Grant | None:
    """What `rule` earns on `sale`, or None."""
    if not applies(rule, sale):
        return None
    eligible = eligible_amount(rule, sale)
    if eligible <= 0 or eligible < rule.minimum_amount:
        return None
    if rule.kind == CASHBACK:
        amount = _capped(round_money(eligible * rule.value / 100), rule)
        return Grant(rule.id, CASHBACK, eligible, amount) if amount > 0 else None
    if rule.kind == POINTS:
        amount = _capped(round_points(eligible * rule.value), rule)
        return Grant(rule.id, POINTS, eligible, amount) if amount > 0 else None
    if rule.kind == VOUCHER:
        reached = rule.threshold is not None and eligible >= rule.threshold
        return Grant(rule.id, VOUCHER, eligible) if reached else None
    if rule.kind == MESSAGE:
        return Grant(rule.id, MESSAGE, eligible)
    return None


def evaluate(sale: SaleFacts, rules: Sequence[RuleFacts]) -> list[Grant]:
    """Every grant the rules make on the sale, in the rules' order."""
    return [grant for rule in rules if (grant := grant_of(rule, sale)) is not None]


# --- returns -------------------------------------------------------------------------------
#
# A return gives back some units of a sale. What each rule granted is taken back in proportion
# to the share of the rule's eligible amount that the returned units carried: the same scope
# (categories) as the grant; the excluded payment methods weigh every unit alike, so they
# cancel out of the share. Each return rounds once, on the cumulative share, so that returning
# everything takes back exactly what was granted, to the cent.


def returned_share(
    rule: RuleFacts, sale: SaleFacts, returned: Sequence[ItemFacts], returned_amount: Decimal = ZERO
) -> Decimal:
    """The share (0 to 1) of the rule's eligible amount on `sale` that the `returned` item
    values (or, for a sale without items, `returned_amount`) carried."""
    if not sale.items:
        return min(returned_amount / sale.amount, Decimal(1)) if sale.amount > 0 else ZERO

    def scoped(items: Sequence[ItemFacts]) -> Decimal:
        return sum(
            (item.total for item in items if not rule.category_ids or item.category_id in rule.category_ids),
            ZERO,
        )

    whole = scoped(sale.items)
    if whole <= 0:
        return ZERO
    return min(scoped(returned) / whole, Decimal(1))


def taken_back(*, granted: Decimal, already: Decimal, share: Decimal, kind: str) -> Decimal:
    """What a return takes back of a grant, once `share` of its eligible amount is returned in
    all (this return and the earlier ones, which took back `already`): the grant at that share,
    rounded once, less what was taken already; never below zero nor above what is left."""
    if share >= 1:
        return granted - already
    rounding = round_points if kind == POINTS else round_money
    due = rounding(granted * share) - already
    return min(max(due, ZERO), granted - already)


def still_earns_voucher(rule: RuleFacts, sale: SaleFacts, share: Decimal) -> bool:
    """Whether a voucher rule's threshold is still reached by what is left of the sale once
    `share` of its eligible amount was returned."""
    remaining = eligible_amount(rule, sale) * (1 - share)
    return rule.threshold is not None and remaining >= rule.threshold
