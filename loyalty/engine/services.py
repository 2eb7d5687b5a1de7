"""The loyalty engine's writes on sales: the rules' rewards on a recorded sale and their
reversal on a cancel. (The rules themselves are written in `loyalty.engine.program`; what
happens to rewards with time, in `loyalty.engine.lifecycle`.)

What a sale earns is `loyalty.engine.rules.evaluate`, a pure function of the sale's facts
and the rules; this module reads those from the database and writes what it returns — ledger
rows on the wallet the recording has locked, vouchers, messages rendered from the wallet as
it really is after the grants — and returns a `SaleRewards` to the sales app.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Exists, Max, OuterRef
from django.utils import timezone
from django.utils.translation import gettext

from customers.models import LedgerEntry, Wallet
from customers.selectors import lots_expired_of, returned_of_entries
from customers.services import (
    LotTerms,
    Posting,
    entries_reversal,
    postings_total,
    wallet_expire_due,
    wallet_post,
    wallet_post_entries,
)
from loyalty.core.dates import local_day_end
from loyalty.core.money import ZERO, round_money
from loyalty.engine.models import PendingGrant, RewardRule, RuleCategory, RuleStore
from loyalty.engine.rules import (
    CASHBACK,
    MESSAGE,
    POINTS,
    VOUCHER,
    Grant,
    ItemFacts,
    PaymentFacts,
    RuleFacts,
    SaleFacts,
    evaluate,
)
from loyalty.outbox.services import messages_queue_for_sale, messages_withdraw_for_sale
from loyalty.tenancy.cache import account_cached
from promotions.models import Category
from sales.models import Sale, SaleItem, SalePayment
from sales.outcomes import CancelledSale, RecordedSale, Reversal, SaleRewards
from vouchers.models import Voucher
from vouchers.services import reward_take_one, voucher_issue, voucher_issued_event, vouchers_cancel_for_sale

REWARD_KINDS = (LedgerEntry.Kind.CASHBACK, LedgerEntry.Kind.POINTS, LedgerEntry.Kind.RELEASE)


def categories_with_descendants(roots: Iterable[int], parents: Mapping[int, int | None]) -> frozenset[int]:
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
    return frozenset(found)


def _ids_by_rule(
    links: type[RuleStore] | type[RuleCategory], target: str, account_id: int, rule_ids: list[int]
) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {}
    if rule_ids:
        rows = links.objects.filter(account_id=account_id, rewardrule_id__in=rule_ids)
        for rule_id, target_id in rows.values_list("rewardrule_id", target):
            found.setdefault(rule_id, set()).add(target_id)
    return found


def rule_facts(
    rule: RewardRule, *, store_ids: Iterable[int] = (), category_ids: Iterable[int] = ()
) -> RuleFacts:
    """The rule as the evaluation sees it (`category_ids` with their children already)."""
    return RuleFacts(
        id=rule.pk,
        kind=rule.kind,
        value=rule.value,
        threshold=rule.threshold,
        starts_at=rule.starts_at,
        ends_at=rule.ends_at,
        weekdays=frozenset(rule.weekdays),
        store_ids=frozenset(store_ids),
        category_ids=frozenset(category_ids),
        excluded_payment_methods=frozenset(rule.excluded_payment_methods),
        minimum_amount=rule.minimum_amount,
        maximum_reward=rule.maximum_reward,
        sale_types=frozenset(rule.sale_types),
    )


@dataclass(frozen=True)
class Program:
    """The account's active rules, oldest first, as models (for what they write) and as facts."""

    rules: dict[int, RewardRule]
    facts: tuple[RuleFacts, ...]


def program_in_force(*, account_id: int, rule_ids: Collection[int] | None = None) -> Program:
    """The account's active rules with their stores and categories (children included) — or,
    given `rule_ids`, those rules whether active or not (a return takes back what they granted).

    Every sale reads the active ones: they are kept in process memory under the account's
    configuration version (`loyalty.tenancy.cache`), which a change to a rule, its stores or
    categories, a category, a reward or a template renews. What is kept is shared: read-only.
    """
    if rule_ids is None:
        return account_cached(account_id, "program", lambda: _program_read(account_id, None))
    return _program_read(account_id, rule_ids)


def _program_read(account_id: int, rule_ids: Collection[int] | None) -> Program:
    # Few rules name stores or categories, so two EXISTS flags in the rules' own query spare
    # looking those up unless some rule does.
    chosen = (
        RewardRule.objects.filter(account_id=account_id, pk__in=list(rule_ids))
        if rule_ids is not None
        else RewardRule.objects.filter(account_id=account_id, active=True)
    )
    rules = list(
        chosen.select_related("template", "reward")
        .annotate(
            names_stores=Exists(RuleStore.objects.filter(account_id=account_id, rewardrule=OuterRef("pk"))),
            names_categories=Exists(
                RuleCategory.objects.filter(account_id=account_id, rewardrule=OuterRef("pk"))
            ),
        )
        .order_by("id")
    )
    store_ids = _ids_by_rule(
        RuleStore, "store_id", account_id, [rule.pk for rule in rules if rule.names_stores]
    )
    category_ids = _ids_by_rule(
        RuleCategory, "category_id", account_id, [rule.pk for rule in rules if rule.names_categories]
    )
    parents = (
        dict(Category.objects.filter(account_id=account_id).values_list("id", "parent_id"))
        if category_ids
        else {}
    )
    facts = tuple(
        rule_facts(
            rule,
            store_ids=store_ids.get(rule.pk, ()),
            category_ids=categories_with_descendants(category_ids[rule.pk], parents)
            if rule.pk in category_ids
            else (),
        )
        for rule in rules
    )
    return Program(rules={rule.pk: rule for rule in rules}, facts=facts)


def sale_facts(recorded: RecordedSale) -> SaleFacts:
    return facts_of_sale(recorded.sale, recorded.items, recorded.payments)


def facts_of_sale(sale: Sale, items: Iterable[SaleItem], payments: Iterable[SalePayment]) -> SaleFacts:
    return SaleFacts(
        occurred_at=sale.occurred_at,
        weekday=sale.occurred_at.astimezone(sale.account.tzinfo).weekday(),
        store_id=sale.store_id,
        type=sale.type,
        amount=sale.amount,
        items=tuple(ItemFacts(total=item.total, category_id=item.category_id) for item in items),
        payments=tuple(PaymentFacts(method=payment.method, total=payment.total) for payment in payments),
    )


def _grant_posting(rule: RewardRule, grant: Grant, sale: Sale) -> Posting:
    """The ledger row of a cashback or points grant. A pending grant waits for its release
    (its validity then counts from the release); an available one with a validity, or of an
    account that expires rewards by inactivity, opens an expiry lot."""
    bucket = "balance" if grant.kind == CASHBACK else "points"
    pending_days = rule.pending_days or 0
    pending = bool(pending_days)
    lot = None
    if not pending and rule.valid_days:
        lot = LotTerms(
            expires_at=local_day_end(sale.local_date + timedelta(days=rule.valid_days), sale.account.tzinfo)
        )
    elif not pending and sale.account.expiry_inactivity_days:
        lot = LotTerms(expires_at=None)
    return Posting(
        kind=LedgerEntry.Kind.CASHBACK if grant.kind == CASHBACK else LedgerEntry.Kind.POINTS,
        deltas={f"pending_{bucket}" if pending else bucket: grant.amount},
        reason=rule.name,
        store=sale.store,
        links={
            "sale": sale,
            "rule": rule,
            **({"releases_at": sale.occurred_at + timedelta(days=pending_days)} if pending else {}),
        },
        lot=lot,
    )


def _inactivity_deadline(sale: Sale, wallet: Wallet) -> dict[str, object]:
    """The wallet's new inactivity deadline after this purchase, as columns to set (none when
    it does not move). A purchase in an account without expiry by inactivity lifts it."""
    days = sale.account.expiry_inactivity_days
    if not days:
        return {"inactivity_expires_at": None} if wallet.inactivity_expires_at is not None else {}
    deadline = local_day_end(sale.local_date + timedelta(days=days), sale.account.tzinfo)
    # A purchase sent late (dated in the past) never brings the deadline forward.
    if wallet.inactivity_expires_at is not None and wallet.inactivity_expires_at >= deadline:
        return {}
    return {"inactivity_expires_at": deadline}


def _gone_of(sale: Sale, granted: Sequence[LedgerEntry]) -> dict[int, dict[str, Decimal]]:
    """What of each grant left the wallet before the cancel: expired, or taken back by returns."""
    gone = lots_expired_of(account_id=sale.account_id, entries=granted)
    for entry_id, taken in returned_of_entries(sale=sale, entries=granted).items():
        into = gone.setdefault(entry_id, {})
        for bucket, amount in taken.items():
            into[bucket] = into.get(bucket, ZERO) + amount
    return gone


def _inactivity_deadline_without(sale: Sale, wallet: Wallet) -> dict[str, object]:
    """The wallet's inactivity deadline once this purchase is cancelled: counted from the
    customer's latest purchase still standing (none: no deadline), as columns to set."""
    days = sale.account.expiry_inactivity_days
    if not days or wallet.inactivity_expires_at is None or sale.customer_id is None:
        return {}
    latest = (
        Sale.objects.filter(
            account_id=sale.account_id, customer_id=sale.customer_id, status=Sale.Status.RECORDED
        )
        .exclude(pk=sale.pk)
        .aggregate(latest=Max("local_date"))["latest"]
    )
    if latest is None:
        return {"inactivity_expires_at": None}
    return {"inactivity_expires_at": local_day_end(latest + timedelta(days=days), sale.account.tzinfo)}


def _queue_pending(entries: Iterable[LedgerEntry], rules: Mapping[int, RewardRule]) -> None:
    PendingGrant.objects.bulk_create(
        [
            PendingGrant(
                account_id=entry.account_id,
                wallet_id=entry.wallet_id,
                entry=entry,
                releases_at=entry.releases_at,
                valid_days=rules[entry.rule_id].valid_days if entry.rule_id else None,
            )
            for entry in entries
            if entry.releases_at is not None
        ]
    )


def _voucher_of(rule: RewardRule, recorded: RecordedSale) -> Voucher | str:
    """A voucher of the rule's reward (taking its stock) or of the rule's fixed value; or the
    warning that the reward is not available."""
    reward = None
    if rule.reward_id is not None:
        # The recording holds the wallet lock: the stock lock comes second, as everywhere.
        reward = reward_take_one(
            account_id=rule.account_id, reward_id=rule.reward_id, reason=f"Handed out by rule '{rule.name}'"
        )
        if reward is None:
            return gettext(
                "Rule '%(rule)s' earned a voucher of '%(reward)s', which is not available "
                "(out of stock, inactive or outside its dates); no voucher was issued."
            ) % {"rule": rule.name, "reward": rule.reward}
    assert recorded.customer is not None
    return voucher_issue(
        account=recorded.sale.account,
        customer=recorded.customer,
        value=reward.value if reward else round_money(rule.value),
        valid_days=(reward.voucher_valid_days if reward else None) or rule.valid_days,
        sale=recorded.sale,
        rule=rule,
        reward=reward,
        # Announced with the sale (`SaleRewards.events`): one statement for all its events.
        announce=False,
    )


def rewards_grant(*, recorded: RecordedSale) -> SaleRewards:
    """Grant what the account's active rules give an identified sale (the engine's
    `sale_recorded` receiver); an unidentified sale earns nothing."""
    customer, sale = recorded.customer, recorded.sale
    if customer is None:
        return SaleRewards()
    assert recorded.wallet is not None, "an identified sale's recording locks the wallet"
    deadline = _inactivity_deadline(sale, recorded.wallet)
    program = program_in_force(account_id=sale.account_id)
    if not program.facts:
        if deadline:
            wallet_post(postings=[], locked_wallet=recorded.wallet, also_set=deadline)
        return SaleRewards()
    grants = evaluate(sale_facts(recorded), program.facts)
    postings = [
        _grant_posting(program.rules[grant.rule_id], grant, sale)
        for grant in grants
        if grant.kind in (CASHBACK, POINTS)
    ]
    wallet, entries = wallet_post_entries(postings=postings, locked_wallet=recorded.wallet, also_set=deadline)
    if any(posting.links.get("releases_at") for posting in postings):
        _queue_pending(entries, program.rules)
    vouchers: list[Voucher] = []
    warnings: list[str] = []
    for grant in grants:
        if grant.kind == VOUCHER:
            issued = _voucher_of(program.rules[grant.rule_id], recorded)
            if isinstance(issued, str):
                warnings.append(issued)
            else:
                vouchers.append(issued)
    cashback = sum((grant.amount for grant in grants if grant.kind == CASHBACK), ZERO)
    points = sum((grant.amount for grant in grants if grant.kind == POINTS), ZERO)
    messages = messages_queue_for_sale(
        sale=sale,
        customer=customer,
        wallet=wallet,
        cashback=cashback,
        points=points,
        vouchers=vouchers,
        rule_templates=[program.rules[grant.rule_id].template for grant in grants if grant.kind == MESSAGE],
    )
    return SaleRewards(
        cashback=cashback,
        points=points,
        vouchers=tuple(vouchers),
        messages=messages,
        warnings=tuple(warnings),
        wallet=wallet,
        events=tuple(voucher_issued_event(voucher) for voucher in vouchers),
    )


def rewards_reverse(*, cancelled: CancelledSale) -> Reversal:
    """Compensate every reward a sale granted, cancel its unused vouchers and withdraw its
    queued messages (the engine's `sale_cancelled` receiver)."""
    sale, customer = cancelled.sale, cancelled.customer
    moved: Mapping[str, Decimal | int] = {}
    wallet = cancelled.wallet
    if customer is not None:
        assert wallet is not None, "a cancel locks the customer's wallet"
        # What is past its end leaves first: an expired grant is not taken back a second time.
        wallet, _ = wallet_expire_due(wallet=wallet)
        granted = list(
            LedgerEntry.objects.filter(
                account_id=sale.account_id, sale=sale, kind__in=REWARD_KINDS, reversed_by__isnull=True
            )
            .select_related("store")
            .order_by("id")
        )
        postings = entries_reversal(
            granted,
            reason=f"Sale {sale.pk} cancelled",
            already_gone=_gone_of(sale, granted),
        )
        # The customer may have spent the cashback already: the reversal may leave a debt.
        wallet = wallet_post(
            postings=postings,
            overdraw=True,
            locked_wallet=wallet,
            also_set=_inactivity_deadline_without(sale, wallet),
        )
        moved = postings_total(postings)
        if any(entry.releases_at is not None for entry in granted):
            # A grant reversed while pending is never released.
            PendingGrant.objects.filter(
                account_id=sale.account_id, entry__in=granted, settled_at__isnull=True
            ).update(settled_at=timezone.now())
    vouchers = vouchers_cancel_for_sale(sale=sale)
    # "You earned R$ 7,65" must not reach the customer once the purchase is undone.
    messages_withdraw_for_sale(sale=sale)
    return Reversal(moved=moved, vouchers_cancelled=tuple(vouchers), wallet=wallet)
