"""Every row of the product's models, to prove that a request changed nothing (or what)."""

from django.apps import apps

from loyalty.backoffice.scoping import account_lookup
from tests.builders import PRODUCT_APPS


def product_models() -> list:
    return [model for label in PRODUCT_APPS for model in apps.get_app_config(label).get_models()]


def database_rows() -> dict[str, dict[int, dict]]:
    """Every row of every model of the product apps, by model and primary key."""
    return {
        # By the primary key: a change-history row's `id` is its object's, `history_id` its own.
        model._meta.label: {row[model._meta.pk.attname]: row for row in model._default_manager.values()}
        for model in product_models()
    }


def account_rows(account) -> dict[str, list[dict]]:
    """Every row the account owns, in every model of the product apps."""
    rows = {}
    for model in product_models():
        lookup = account_lookup(model)
        assert lookup is not None, f"{model._meta.label} has no path to its account"
        value = account.pk if lookup == "pk" else account
        rows[model._meta.label] = list(
            model._default_manager.filter(**{lookup: value}).order_by("pk").values()
        )
    return rows


def changed_models(before: dict, after: dict) -> list[str]:
    return [label for label in before if before[label] != after[label]]
