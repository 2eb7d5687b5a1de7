"""The loyalty engine: the account's rules applied to a recorded sale, and their reversal.

Each matching rule grants its reward on the sale's eligible amount: the item totals (or
the declared amount when there are no items), less the share paid with excluded payment
methods, restricted to the rule's categories (children included) when it has any. Rules
add up. Every reward is rounded once, ROUND_HALF_UP, to the cent (points: 2 places).
Grants are ledger postings that the recording writes with the sale, so sale and rewards
commit or roll back together.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from customers.models import LedgerEntry
from customers.services import Posting, entries_reversal, wallet_lock, wallet_post, wallet_projection
from loyalty.core.money import ZERO, round_money, round_points
from loyalty.engine.models import RewardRule
from loyalty.outbox.services import messages_queue_for_sale, messages_withdraw_for_sale
from promotions.models import Category
from vouchers.services import reward_take_one, voucher_issue, vouchers_cancel_for_sale

REWARD_KINDS = (LedgerEntry.Kind.CASHBACK, LedgerEntry.Kind.POINTS, LedgerEntry.Kind.RELEASE)


def _descendants(roots: Iterable[int], parents: dict[int, int | None]) -> set[int]:
    """The categories in `roots` and every category below them."""
    children: dict[int | None, list[int]] = {}
    for category_id, parent_id in parents.items():
        children.setdefault(parent_id, []).append(category_id)
    found: set[int] = set()
    pending = list(roots)
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found.add(current)
        pending.extend(children.get(current, ()))
    return found


def eligible_amount(rule: RewardRule, recording, category_scope: set[int] | None) -> Decimal:
    """The part of the sale this rule rewards (not rounded: rewards round once, at the end)."""
    items = recording.items
    base = sum((item.total for item in items), ZERO) if items else recording.sale.amount
    if base <= 0:
        return ZERO
    excluded = sum(
        (payment.total for payment in recording.payments if payment.method in rule.excluded_payment_methods),
        ZERO,
    )
    paid_share = max(base - excluded, ZERO) / base
    scoped = base
    if category_scope is not None:
        scoped = sum((item.total for item in items if item.category_id in category_scope), ZERO)
    return scoped * paid_share


@dataclass(frozen=True)
class RuleInForce:
    """An active rule, with the stores and categories it is limited to (none: all)."""

    rule: RewardRule
    store_ids: frozenset[int]
    category_ids: frozenset[int]


def _ids_by_rule(through, target: str, rule_ids: list[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    if rule_ids:
        for rule_id, target_id in through.objects.filter(rewardrule_id__in=rule_ids).values_list(
            "rewardrule_id", target
        ):
            found.setdefault(rule_id, set()).add(target_id)
    return found


def rules_in_force(*, account_id: int) -> list[RuleInForce]:
    """The account's active rules, oldest first, with their stores and categories.

    Every sale reads them. Few rules name stores or categories, so two EXISTS flags in
    the rules' own query spare looking them up unless some rule does.
    """
    stores = RewardRule.stores.through
    categories = RewardRule.categories.through
    rules = list(
        RewardRule.objects.filter(account_id=account_id, active=True)
        .select_related("template", "reward")
        .annotate(
            names_stores=Exists(stores.objects.filter(rewardrule=OuterRef("pk"))),
            names_categories=Exists(categories.objects.filter(rewardrule=OuterRef("pk"))),
        )
        .order_by("id")
    )
    store_ids = _ids_by_rule(stores, "store_id", [rule.pk for rule in rules if rule.names_stores])
    category_ids = _ids_by_rule(
        categories, "category_id", [rule.pk for rule in rules if rule.names_categories]
    )
    return [
        RuleInForce(
            rule=rule,
            store_ids=frozenset(store_ids.get(rule.pk, ())),
            category_ids=frozenset(category_ids.get(rule.pk, ())),
        )
        for rule in rules
    ]


def rule_applies(rule: RewardRule, recording, store_ids: Collection[int] = ()) -> bool:
    """Whether the rule's window, weekdays, stores (`store_ids`; none: all) and sale types admit the sale."""
    sale = recording.sale
    if rule.starts_at and sale.occurred_at < rule.starts_at:
        return False
    if rule.ends_at and sale.occurred_at >= rule.ends_at:
        return False
    if rule.weekdays and sale.occurred_at.astimezone(sale.account.tzinfo).weekday() not in rule.weekdays:
        return False
    if store_ids and sale.store_id not in store_ids:
        return False
    return not (rule.sale_types and sale.type not in rule.sale_types)


def _capped(amount: Decimal, rule: RewardRule) -> Decimal:
    return min(amount, rule.maximum_reward) if rule.maximum_reward is not None else amount


def _grant_posting(rule: RewardRule, amount: Decimal, recording, bucket: str, kind: str) -> Posting:
    pending = bool(rule.pending_days)
    return Posting(
        kind=kind,
        deltas={f"pending_{bucket}" if pending else bucket: amount},
        reason=rule.name,
        store=recording.sale.store,
        links={
            "sale": recording.sale,
            "rule": rule,
            **(
                {"releases_at": recording.sale.occurred_at + timedelta(days=rule.pending_days)}
                if pending
                else {}
            ),
        },
    )


def rewards_grant(*, recording) -> None:
    """Apply the account's active rules to an identified sale (a `sale_recorded` receiver)."""
    if recording.customer is None:
        return
    sale = recording.sale
    rules = rules_in_force(account_id=sale.account_id)
    if not rules:
        return
    parents: dict[int, int | None] | None = None
    granted_vouchers = []
    message_rules = []
    for in_force in rules:
        rule = in_force.rule
        if not rule_applies(rule, recording, in_force.store_ids):
            continue
        scope = None
        roots = in_force.category_ids
        if roots:
            if parents is None:
                parents = dict(
                    Category.objects.filter(account_id=sale.account_id).values_list("id", "parent_id")
                )
            scope = _descendants(roots, parents)
        eligible = eligible_amount(rule, recording, scope)
        if eligible <= 0 or eligible < rule.minimum_amount:
            continue
        if rule.kind == RewardRule.Kind.CASHBACK:
            amount = _capped(round_money(eligible * rule.value / 100), rule)
            if amount > 0:
                recording.postings.append(
                    _grant_posting(rule, amount, recording, "balance", LedgerEntry.Kind.CASHBACK)
                )
                recording.rewards.cashback += amount
        elif rule.kind == RewardRule.Kind.POINTS:
            amount = _capped(round_points(eligible * rule.value), rule)
            if amount > 0:
                recording.postings.append(
                    _grant_posting(rule, amount, recording, "points", LedgerEntry.Kind.POINTS)
                )
                recording.rewards.points += amount
        elif rule.kind == RewardRule.Kind.VOUCHER:
            if rule.threshold is not None and eligible >= rule.threshold:
                granted_vouchers.append(_issue_voucher(rule, recording))
        elif rule.kind == RewardRule.Kind.MESSAGE:
            message_rules.append(rule)
    recording.rewards.vouchers.extend(voucher for voucher in granted_vouchers if voucher is not None)
    wallet_after = wallet_projection(wallet=recording.wallet, postings=recording.postings)
    recording.rewards.messages += messages_queue_for_sale(
        recording=recording, wallet_after=wallet_after, message_rules=message_rules
    )


def _issue_voucher(rule: RewardRule, recording):
    """A voucher of the rule's reward (taking its stock) or of the rule's fixed value."""
    reward = None
    if rule.reward_id is not None:
        # The recording holds the wallet lock: the stock lock comes second, as everywhere.
        reward = reward_take_one(reward=rule.reward_id, reason=f"Handed out by rule '{rule.name}'")
        if reward is None:
            recording.warnings.append(
                f"Rule '{rule.name}' earned a voucher of '{rule.reward}', which is not available "
                "(out of stock, inactive or outside its dates); no voucher was issued."
            )
            return None
    return voucher_issue(
        account=recording.sale.account,
        customer=recording.customer,
        value=reward.value if reward else round_money(rule.value),
        valid_days=(reward.voucher_valid_days if reward else None) or rule.valid_days,
        sale=recording.sale,
        rule=rule,
        reward=reward,
    )


def rewards_reverse(*, cancellation) -> None:
    """Compensate every reward a sale granted and cancel its unused vouchers (a `sale_cancelled` receiver)."""
    sale = cancellation.sale
    if cancellation.customer is not None:
        granted = list(
            LedgerEntry.objects.filter(sale=sale, kind__in=REWARD_KINDS, reversed_by__isnull=True)
            .select_related("store")
            .order_by("id")
        )
        cancellation.postings.extend(entries_reversal(granted, reason=f"Sale {sale.pk} cancelled"))
    cancellation.vouchers_cancelled.extend(vouchers_cancel_for_sale(sale=sale))
    # "You earned R$ 7,65" must not reach the customer once the purchase is undone.
    messages_withdraw_for_sale(sale=sale)


@transaction.atomic
def rule_create(
    *,
    account,
    name: str,
    kind: str,
    value: Decimal = ZERO,
    threshold: Decimal | None = None,
    reward=None,
    template=None,
    starts_at=None,
    ends_at=None,
    weekdays: list[int] | None = None,
    stores: Iterable = (),
    categories: Iterable = (),
    excluded_payment_methods: list[int] | None = None,
    minimum_amount: Decimal = ZERO,
    maximum_reward: Decimal | None = None,
    sale_types: list[str] | None = None,
    valid_days: int | None = None,
    pending_days: int | None = None,
    active: bool = True,
) -> RewardRule:
    """A new rule of the account, validated as the admin validates it."""
    rule = RewardRule(
        account=account,
        name=name,
        kind=kind,
        value=value,
        threshold=threshold,
        reward=reward,
        template=template,
        starts_at=starts_at,
        ends_at=ends_at,
        weekdays=weekdays or [],
        minimum_amount=minimum_amount,
        maximum_reward=maximum_reward,
        sale_types=sale_types or [],
        valid_days=valid_days,
        pending_days=pending_days,
        active=active,
    )
    if excluded_payment_methods is not None:
        rule.excluded_payment_methods = excluded_payment_methods
    rule.full_clean()
    rule.save()
    rule.stores.set(stores)
    rule.categories.set(categories)
    return rule


def _release_posting(entry: LedgerEntry) -> Posting:
    return Posting(
        kind=LedgerEntry.Kind.RELEASE,
        deltas={
            name: value
            for name, value in {
                "pending_points": -entry.pending_points,
                "points": entry.pending_points,
                "pending_balance": -entry.pending_balance,
                "balance": entry.pending_balance,
            }.items()
            if value
        },
        reason=f"Released: {entry.reason}" if entry.reason else "Released",
        store=entry.store,
        links={"sale_id": entry.sale_id, "rule_id": entry.rule_id, "releases": entry},
    )


def _due_pending(now, wallet_id: int | None = None):
    entries = LedgerEntry.objects.filter(
        releases_at__lte=now, released_by__isnull=True, reversed_by__isnull=True
    ).exclude(kind=LedgerEntry.Kind.REVERSAL)
    return entries.filter(wallet_id=wallet_id) if wallet_id is not None else entries


def rewards_release_due(*, now=None) -> int:
    """Move pending grants whose time has come to the available buckets; returns how many.

    Idempotent: each pending grant is released once (a one-to-one link), and a grant
    whose sale was cancelled meanwhile is not released. One transaction per wallet.
    """
    now = now or timezone.now()
    released = 0
    for wallet_id, customer_id in (
        _due_pending(now).values_list("wallet_id", "wallet__customer_id").distinct().order_by("wallet_id")
    ):
        with transaction.atomic():
            wallet = wallet_lock(customer=customer_id)
            # Re-read under the lock: a cancellation may have reversed a grant meanwhile.
            entries = list(_due_pending(now, wallet_id).select_related("store").order_by("id"))
            wallet_post(
                customer=customer_id,
                postings=[_release_posting(entry) for entry in entries],
                locked_wallet=wallet,
            )
            released += len(entries)
    return released
