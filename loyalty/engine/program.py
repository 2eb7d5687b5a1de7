"""The program: the account's rules written — created (`rule_create`), scoped to stores
and categories (`rule_scope_set`) and changed (`rule_update`), the one way a rule is written
for the admin and the API alike — and the reads that answer for them.

`RewardRule.clean()` decides what a rule may hold: fields that fit its kind (a cashback rule
has no threshold), a reward and template of its own account; an update is validated on the
merged rule, as a new rule would be. Nothing here touches what a rule already granted: a
change applies to later grants only.
"""

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils.translation import gettext

from customers.models import LedgerEntry
from loyalty.core.money import ZERO
from loyalty.engine.models import RewardRule, RuleCategory, RuleStore
from loyalty.outbox.models import MessageTemplate
from loyalty.tenancy.models import Account, Store
from promotions.models import Category
from vouchers.models import Reward, Voucher

_UNSET: Any = object()


def rule_build(
    *,
    account: Account,
    name: str,
    kind: str,
    value: Decimal = ZERO,
    threshold: Decimal | None = None,
    reward: Reward | None = None,
    template: MessageTemplate | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    weekdays: list[int] | None = None,
    excluded_payment_methods: list[int] | None = None,
    minimum_amount: Decimal = ZERO,
    maximum_reward: Decimal | None = None,
    sale_types: list[str] | None = None,
    valid_days: int | None = None,
    pending_days: int | None = None,
    active: bool = True,
) -> RewardRule:
    """A new rule of the account, validated as the admin validates it, not saved: what
    `rule_create` saves, and what the simulator replays as a draft."""
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
    return rule


@transaction.atomic(savepoint=False)
def rule_create(
    *,
    account: Account,
    stores: Iterable[Store] = (),
    categories: Iterable[Category] = (),
    **fields: Any,
) -> RewardRule:
    """A new rule of the account, validated as the admin validates it (`rule_build`'s fields),
    limited to these stores and categories."""
    rule = rule_build(account=account, **fields)
    rule.save()
    rule_scope_set(rule=rule, stores=stores, categories=categories)
    return rule


def rule_scope_refusals(
    *, account_id: int, stores: Iterable[Store], categories: Iterable[Category]
) -> dict[str, list[str]]:
    """Why these stores and categories cannot limit a rule of the account, by field; empty when
    they can (each must be of the rule's own account)."""
    refusals = {
        name: [
            gettext("%(object)s is not of the rule's account.") % {"object": item}
            for item in items
            if item.account_id != account_id
        ]
        for name, items in (("stores", stores), ("categories", categories))
    }
    return {name: reasons for name, reasons in refusals.items() if reasons}


@transaction.atomic(savepoint=False)
def rule_scope_set(
    *, rule: RewardRule, stores: Iterable[Store], categories: Iterable[Category]
) -> RewardRule:
    """Limit the rule to these stores and categories (none: all), each link carrying the
    rule's account. A store or category of another account is refused (`ValidationError`)."""
    stores, categories = list(stores), list(categories)
    refused = rule_scope_refusals(account_id=rule.account_id, stores=stores, categories=categories)
    if refused:
        raise ValidationError(refused)
    links = {"account_id": rule.account_id}
    rule.stores.set(stores, through_defaults=links)
    rule.categories.set(categories, through_defaults=links)
    return rule


@transaction.atomic(savepoint=False)
def rule_update(
    *,
    rule: RewardRule,
    name: str = _UNSET,
    kind: str = _UNSET,
    value: Decimal = _UNSET,
    threshold: Decimal | None = _UNSET,
    reward: Reward | None = _UNSET,
    template: MessageTemplate | None = _UNSET,
    starts_at: datetime | None = _UNSET,
    ends_at: datetime | None = _UNSET,
    weekdays: list[int] = _UNSET,
    stores: Iterable[Store] = _UNSET,
    categories: Iterable[Category] = _UNSET,
    excluded_payment_methods: list[int] = _UNSET,
    minimum_amount: Decimal = _UNSET,
    maximum_reward: Decimal | None = _UNSET,
    sale_types: list[str] = _UNSET,
    valid_days: int | None = _UNSET,
    pending_days: int | None = _UNSET,
    active: bool = _UNSET,
) -> RewardRule:
    """Change the given fields of a rule. The merged rule is validated as a new one is: a
    partial change that leaves it inconsistent (a voucher rule without a threshold) is a
    `ValidationError` by field, and nothing is written.

    What the rule granted before keeps its amounts, release and expiry: ledger rows, lots
    and vouchers are never re-read from the rule, so a change applies to later grants only.
    `{"active": False}` retires a rule; rules are never deleted once they granted something.
    """
    # Field values of several types, set by name.
    changes: dict[str, Any] = {
        key: given
        for key, given in {
            "name": name,
            "kind": kind,
            "value": value,
            "threshold": threshold,
            "reward": reward,
            "template": template,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "weekdays": weekdays,
            "excluded_payment_methods": excluded_payment_methods,
            "minimum_amount": minimum_amount,
            "maximum_reward": maximum_reward,
            "sale_types": sale_types,
            "valid_days": valid_days,
            "pending_days": pending_days,
            "active": active,
        }.items()
        if given is not _UNSET
    }
    _changed(rule, changes)
    # Only the columns sent: a concurrent change of other fields is not undone.
    rule.save(update_fields=[*changes, "updated_at"])
    if stores is not _UNSET or categories is not _UNSET:
        rule_scope_set(
            rule=rule,
            stores=rule.stores.all() if stores is _UNSET else stores,
            categories=rule.categories.all() if categories is _UNSET else categories,
        )
    return rule


def _changed(rule: RewardRule, changes: Mapping[str, Any]) -> RewardRule:
    for key, given in changes.items():
        setattr(rule, key, given)
    rule.full_clean()
    return rule


def rule_draft_change(*, rule: RewardRule, changes: Mapping[str, Any]) -> RewardRule:
    """The rule as these field changes would leave it, validated whole as `rule_update`
    validates it (a `ValidationError` by field), without touching the rule or saving: what the
    simulator replays. `changes` holds `rule_update`'s fields but the stores and categories."""
    return _changed(copy.copy(rule), changes)


# --- reads ------------------------------------------------------------------------------


def rule_queryset(*, account: Account) -> QuerySet[RewardRule]:
    """The account's rules, each with `granted`: whether a ledger row or a voucher names it
    (such a rule is part of the wallets' history and is retired, never deleted)."""
    granted = Q(Exists(LedgerEntry.objects.filter(account_id=account.pk, rule=OuterRef("pk")))) | Q(
        Exists(Voucher.objects.filter(account_id=account.pk, rule=OuterRef("pk")))
    )
    return RewardRule.objects.filter(account=account).annotate(
        granted=ExpressionWrapper(granted, output_field=models.BooleanField())
    )


@dataclass(frozen=True)
class RuleScope:
    """The stores and categories a rule is limited to, by id (none: all)."""

    store_ids: tuple[int, ...] = ()
    category_ids: tuple[int, ...] = ()


def rules_scopes(*, account_id: int, rule_ids: Sequence[int]) -> dict[int, RuleScope]:
    """The scope of each of these rules of the account: two queries, whatever their number."""
    if not rule_ids:
        return {}
    stores: dict[int, list[int]] = {}
    categories: dict[int, list[int]] = {}
    for links, target, found in ((RuleStore, "store_id", stores), (RuleCategory, "category_id", categories)):
        rows = (
            links.objects.filter(account_id=account_id, rewardrule_id__in=rule_ids)
            .order_by(target)
            .values_list("rewardrule_id", target)
        )
        for rule_id, target_id in rows:
            found.setdefault(rule_id, []).append(target_id)
    return {
        rule_id: RuleScope(
            store_ids=tuple(stores.get(rule_id, ())), category_ids=tuple(categories.get(rule_id, ()))
        )
        for rule_id in rule_ids
    }


def rule_has_grants(*, rule: RewardRule) -> bool:
    """Whether anything points at the rule that it granted (ledger rows, vouchers, messages,
    pending grants): such a rule can only be retired, never deleted."""
    for relation in RewardRule._meta.related_objects:
        if relation.on_delete is not models.PROTECT:
            continue  # its store and category links go with it
        related = relation.related_model._default_manager.filter(**{relation.field.name: rule})
        if related.exists():
            return True
    return False
