"""A simulation's draft kept as JSON (its *spec*), and the draft rebuilt from it.

A simulation may run later, in another process, so what was asked is kept as plain JSON —
the range, the stores, and each draft rule's fields with ids for what it names — and rebuilt
and validated again when it runs, against the account as it is then (`simulation_draft`):
the API's inline run and the background runs go the same way.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext

from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_build, rule_draft_change
from loyalty.engine.simulation.services import Draft, DraftRule, Window
from loyalty.outbox.models import MessageTemplate
from loyalty.tenancy.models import Account, Store
from promotions.models import Category
from vouchers.models import Reward

DECIMALS = ("value", "threshold", "minimum_amount", "maximum_reward")
INSTANTS = ("starts_at", "ends_at")
#: A draft rule's single references: the model's field, the spec's key, the model named.
REFERENCES: tuple[tuple[str, str, type[Model]], ...] = (
    ("reward", "reward_id", Reward),
    ("template", "template_id", MessageTemplate),
)
#: A draft rule's scopes: the service's argument, the spec's key, the model named.
SCOPES: tuple[tuple[str, str, type[Model]], ...] = (
    ("stores", "store_ids", Store),
    ("categories", "category_ids", Category),
)


class RulesNotFound(Exception):
    """Rules the draft changes or retires that are not of the account."""

    def __init__(self, ids: Sequence[int]) -> None:
        self.ids = list(ids)
        super().__init__(
            gettext("No rule with id %(ids)s in this account.")
            % {"ids": ", ".join(str(pk) for pk in self.ids)}
        )


class DraftRefused(Exception):
    """A draft rule that would not be valid: `section` (`add` or `change`), its `index` and
    the model's refusal by field."""

    def __init__(self, section: str, index: int, error: ValidationError) -> None:
        super().__init__(section, index, error)
        self.section, self.index, self.error = section, index, error


def spec_of_rule(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A draft rule's fields (as `rule_create` / `rule_update` take them) as JSON."""
    spec: dict[str, Any] = {}
    for name, value in fields.items():
        reference = next((key for field, key, _ in REFERENCES if field == name), None)
        scope = next((key for field, key, _ in SCOPES if field == name), None)
        if reference is not None:
            spec[reference] = value.pk if value is not None else None
        elif scope is not None:
            spec[scope] = [item.pk for item in value]
        elif isinstance(value, Decimal):
            spec[name] = str(value)
        elif isinstance(value, datetime):
            spec[name] = value.isoformat()
        else:
            spec[name] = value
    return spec


def simulation_spec(
    *,
    window: Window,
    add: Iterable[Mapping[str, Any]] = (),
    change: Iterable[Mapping[str, Any]] = (),
    retire: Iterable[int] = (),
) -> dict[str, Any]:
    return {
        "date_from": window.date_from.isoformat(),
        "date_to": window.date_to.isoformat(),
        "store_ids": list(window.store_ids),
        "add": [spec_of_rule(fields) for fields in add],
        "change": [spec_of_rule(fields) for fields in change],
        "retire": list(retire),
    }


@dataclass(frozen=True)
class _Named:
    fields: dict[str, Any]
    scopes: dict[str, tuple[int, ...]]


def _fields_of(account: Account, spec: Mapping[str, Any]) -> _Named:
    """The rule's fields from its spec, what it names looked up in the account (a name that is
    no longer there is refused by field)."""
    fields: dict[str, Any] = {}
    scopes: dict[str, tuple[int, ...]] = {}
    missing: dict[str, list[str]] = {}
    for name, value in spec.items():
        if name == "id":
            continue
        reference = next(((field, model) for field, key, model in REFERENCES if key == name), None)
        scope = next(((field, model) for field, key, model in SCOPES if key == name), None)
        if reference is not None:
            field, model = reference
            found = model._default_manager.filter(account=account, pk=value).first() if value else None
            if value and found is None:
                missing[field] = [gettext("No such object in this account (id %(id)s).") % {"id": value}]
            fields[field] = found
        elif scope is not None:
            field, model = scope
            ids = tuple(value)
            known = set(
                model._default_manager.filter(account=account, pk__in=ids).values_list("pk", flat=True)
            )
            if known != set(ids):
                missing[field] = [
                    gettext("No such object in this account (id %(id)s).")
                    % {"id": ", ".join(str(pk) for pk in ids if pk not in known)}
                ]
            scopes[field] = ids
        elif name in DECIMALS:
            fields[name] = Decimal(value) if value is not None else None
        elif name in INSTANTS:
            fields[name] = datetime.fromisoformat(value) if value is not None else None
        else:
            fields[name] = value
    if missing:
        raise ValidationError(missing)
    return _Named(fields=fields, scopes=scopes)


def simulation_window(spec: Mapping[str, Any]) -> Window:
    """The days and stores a spec replays."""
    return Window(
        date_from=date.fromisoformat(spec["date_from"]),
        date_to=date.fromisoformat(spec["date_to"]),
        store_ids=tuple(spec.get("store_ids", ())),
    )


def simulation_draft(*, account: Account, spec: Mapping[str, Any]) -> tuple[Window, Draft]:
    """The range and the draft a spec asks for, each rule validated whole against the account
    as it is now. Raises `RulesNotFound` for rule ids not of the account and `DraftRefused`
    for a draft rule that would not be valid."""
    window = simulation_window(spec)
    named = [entry["id"] for entry in spec.get("change", [])] + list(spec.get("retire", []))
    rules = {
        rule.pk: rule
        for rule in RewardRule.objects.filter(account=account, pk__in=named).select_related("reward")
    }
    missing = [pk for pk in named if pk not in rules]
    if missing:
        raise RulesNotFound(missing)
    added = []
    for index, entry in enumerate(spec.get("add", [])):
        try:
            found = _fields_of(account, entry)
            rule = rule_build(account=account, **found.fields)
        except ValidationError as error:
            raise DraftRefused("add", index, error) from None
        added.append(
            DraftRule(
                rule=rule,
                store_ids=found.scopes.get("stores", ()),
                category_ids=found.scopes.get("categories", ()),
            )
        )
    changed = []
    for index, entry in enumerate(spec.get("change", [])):
        try:
            found = _fields_of(account, entry)
            rule = rule_draft_change(rule=rules[entry["id"]], changes=found.fields)
        except ValidationError as error:
            raise DraftRefused("change", index, error) from None
        changed.append(
            DraftRule(
                rule=rule, store_ids=found.scopes.get("stores"), category_ids=found.scopes.get("categories")
            )
        )
    return window, Draft(add=tuple(added), change=tuple(changed), retire=tuple(spec.get("retire", ())))
