"""What a draft of the program would have granted on the account's recorded sales, beside
what the rules in force grant on them (`rules_simulate`): it reads, replays and writes nothing.

The current rules are the account's active ones, as a sale is granted today; the draft is
those with some retired, some changed (validated whole, as `rule_update` validates a change)
and some added (validated as `rule_create` validates a new rule). Both are replayed over the
same sales by `loyalty.engine.simulation.replay`.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from loyalty.core.dates import local_date
from loyalty.core.money import round_money
from loyalty.engine.models import RewardRule
from loyalty.engine.program import rules_scopes
from loyalty.engine.rules import RuleFacts
from loyalty.engine.services import categories_with_descendants, program_in_force, rule_facts
from loyalty.engine.simulation.reading import replayed_sales
from loyalty.engine.simulation.replay import Replayer, RuleTerms
from loyalty.engine.simulation.results import simulation_result
from loyalty.tenancy.models import Account, Store
from promotions.models import Category
from vouchers.selectors import points_valuation
from vouchers.services import DEFAULT_VALID_DAYS

#: The longest range a simulation replays, in days, and the range it replays when none is given.
MAX_RANGE_DAYS = 400
DEFAULT_RANGE_DAYS = 90


@dataclass(frozen=True)
class DraftRule:
    """A rule as the draft would have it: a new one (unsaved) or a changed copy of a rule.
    `store_ids` / `category_ids` None: the rule's own (a new rule: none)."""

    rule: RewardRule
    store_ids: tuple[int, ...] | None = None
    category_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Draft:
    add: tuple[DraftRule, ...] = ()
    change: tuple[DraftRule, ...] = ()
    retire: tuple[int, ...] = ()


@dataclass(frozen=True)
class Window:
    """The recorded sales replayed: of these local days (both included), and of these stores
    (none: every store)."""

    date_from: date
    date_to: date
    store_ids: tuple[int, ...] = ()

    @classmethod
    def ending(cls, date_to: date) -> "Window":
        """The default range that ends on `date_to`: `DEFAULT_RANGE_DAYS` days."""
        return cls(date_from=date_to - timedelta(days=DEFAULT_RANGE_DAYS - 1), date_to=date_to)

    @classmethod
    def default(cls, account: Account, now: datetime | None = None) -> "Window":
        """The default range: the last `DEFAULT_RANGE_DAYS` local days of the account, today's included."""
        return cls.ending(local_date(now or timezone.now(), account.tzinfo))


def rule_terms(rule: RewardRule) -> RuleTerms:
    """What the rule's grants are worth and how long they last (a voucher: its reward's value
    and validity, else the rule's own, as `loyalty.engine.services` issues it)."""
    reward = rule.reward if rule.reward_id is not None else None
    return RuleTerms(
        voucher_value=reward.value if reward is not None else round_money(rule.value),
        voucher_valid_days=(reward.voucher_valid_days if reward is not None else None)
        or rule.valid_days
        or DEFAULT_VALID_DAYS,
        valid_days=rule.valid_days,
        pending_days=rule.pending_days or 0,
    )


@dataclass(frozen=True)
class Programs:
    """The rules replayed: in force, and as the draft would have them, each with its terms."""

    current: tuple[tuple[RuleFacts, RuleTerms], ...]
    draft: tuple[tuple[RuleFacts, RuleTerms], ...]
    summary: dict[str, Any]


def simulation_programs(*, account: Account, draft: Draft) -> Programs:
    """The current rules and the draft's, as facts. An added rule is known by a negative id
    (-1 for the first)."""
    program = program_in_force(account_id=account.pk)
    current = [(facts, rule_terms(program.rules[facts.id])) for facts in program.facts]
    touched = {change.rule.pk for change in draft.change} | set(draft.retire)
    scopes = rules_scopes(account_id=account.pk, rule_ids=[change.rule.pk for change in draft.change])
    drafted: list[tuple[RewardRule, Sequence[int], Sequence[int], str]] = []
    for change in draft.change:
        scope = scopes[change.rule.pk]
        stores: Sequence[int] = scope.store_ids if change.store_ids is None else change.store_ids
        categories: Sequence[int] = scope.category_ids if change.category_ids is None else change.category_ids
        drafted.append((change.rule, stores, categories, "changed"))
    for addition in draft.add:
        drafted.append((addition.rule, addition.store_ids or (), addition.category_ids or (), "added"))
    parents = (
        dict(Category.objects.filter(account_id=account.pk).values_list("id", "parent_id"))
        if any(categories for _, _, categories, _ in drafted)
        else {}
    )
    new_rules: list[tuple[RuleFacts, RuleTerms]] = []
    summary_draft: list[dict[str, Any]] = []
    for index, (rule, stores, categories, status) in enumerate(drafted):
        if not rule.active:
            continue
        facts = rule_facts(
            rule, store_ids=stores, category_ids=categories_with_descendants(categories, parents)
        )
        if rule.pk is None:
            facts = replace(facts, id=-(index - len(draft.change) + 1))
        new_rules.append((facts, rule_terms(rule)))
        summary_draft.append({"id": rule.pk, "name": rule.name, "kind": rule.kind, "status": status})
    kept = [(facts, terms) for facts, terms in current if facts.id not in touched]
    summary = {
        "current": [_summary(program.rules[facts.id]) for facts, _ in current],
        "draft": [
            *({**_summary(program.rules[facts.id]), "status": "unchanged"} for facts, _ in kept),
            *summary_draft,
        ],
        "retired": sorted(set(draft.retire)),
    }
    return Programs(current=tuple(current), draft=(*kept, *new_rules), summary=summary)


def _summary(rule: RewardRule) -> dict[str, Any]:
    return {"id": rule.pk, "name": rule.name, "kind": rule.kind}


def rules_simulate(
    *,
    account: Account,
    window: Window,
    draft: Draft,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """What the current rules and the draft would have granted on the window's recorded sales
    (returns taken back), and the difference: written nowhere, answered.

    `progress` is told the number of sales replayed after each batch, and may write it down:
    no transaction is opened here, so that such a write is seen while the replay goes on.
    (The sales are streamed by one query; each batch's items are read as they are then.)"""
    now = now or timezone.now()
    programs = simulation_programs(account=account, draft=draft)
    replayer = Replayer(
        current=programs.current, draft=programs.draft, today=local_date(now, account.tzinfo), now=now
    )
    for batch in replayed_sales(
        account_id=account.pk,
        zone=account.tzinfo,
        date_from=window.date_from,
        date_to=window.date_to,
        store_ids=window.store_ids,
    ):
        replayer.add(batch)
        if progress is not None:
            progress(replayer.replay.sales)
    replay = replayer.replay
    store_names = dict(Store.objects.filter(account=account).values_list("id", "name"))
    category_names = dict(
        Category.objects.filter(
            account=account, pk__in=[pk for pk in replay.by_category if pk is not None]
        ).values_list("id", "name")
    )
    return {
        "date_from": window.date_from.isoformat(),
        "date_to": window.date_to.isoformat(),
        "store_ids": list(window.store_ids),
        "rules": programs.summary,
        **simulation_result(
            replay=replay,
            valuation=points_valuation(account_id=account.pk),
            date_from=window.date_from,
            date_to=window.date_to,
            store_names=store_names,
            category_names=category_names,
        ),
    }
