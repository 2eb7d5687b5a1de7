"""The program by API: `/api/v2/rules` creates, lists, reads, changes and retires reward rules,
validated as the admin validates them, within the caller's account."""

from datetime import timedelta
from decimal import Decimal

import pytest

from customers.models import LedgerEntry
from loyalty.engine.models import RewardRule, RuleCategory, RuleStore
from loyalty.engine.program import rule_create, rule_scope_set
from loyalty.outbox.models import Message
from loyalty.outbox.services import message_template_create
from loyalty.tenancy.services import store_create
from promotions.services import category_create
from tests.builders import V2
from tests.factories import RewardFactory
from tests.openapi import api_schema, assert_documented
from tests.sales.builders import purchase, put
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db

RULES = f"{V2}/rules"
MISSING_ID = 987654321


def create(tenant, **fields):
    body = {"name": "5% cashback", "kind": "cashback", "value": 5, **fields}
    return tenant.v2.post(RULES, body, format="json")


def created(tenant, **fields) -> dict:
    response = create(tenant, **fields)
    assert response.status_code == 201, response.content
    return response.json()


def patch(tenant, rule_id, body):
    return tenant.v2.patch(f"{RULES}/{rule_id}", body, format="json")


def sale(tenant, amount, reference, **extra):
    body = {"cpf": "53933515009", "sale_amount": amount, "reference": reference, **extra}
    response = tenant.v2.post(f"{V2}/sales", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["sale"]


def stored(rule_id) -> dict:
    """The rule's row as stored, links included: what a refused request must leave alone."""
    rule = RewardRule.objects.get(pk=rule_id)
    return {
        **{field.attname: getattr(rule, field.attname) for field in RewardRule._meta.concrete_fields},
        "stores": sorted(RuleStore.objects.filter(rewardrule=rule).values_list("store_id", flat=True)),
        "categories": sorted(
            RuleCategory.objects.filter(rewardrule=rule).values_list("category_id", flat=True)
        ),
    }


@pytest.fixture
def template(tenant):
    return message_template_create(
        account=tenant.account, name="Thanks", event="rule_message", channel="sms", body="Obrigado, {name}!"
    )


@pytest.fixture
def reward(tenant):
    return RewardFactory(account=tenant.account, name="Vale R$ 20", value=Decimal("20"), stock=5)


@pytest.fixture
def grocery(tenant):
    return category_create(account=tenant.account, name="Mercearia")


@pytest.fixture
def foreign(other_tenant):
    """Account B's objects, which no rule of A may name."""
    account = other_tenant.account
    return {
        "store_ids": other_tenant.store.pk,
        "category_ids": category_create(account=account, name="Beta Mercearia").pk,
        "reward_id": RewardFactory(account=account, name="Beta Vale").pk,
        "template_id": message_template_create(
            account=account, name="Beta", event="rule_message", channel="sms", body="{name}"
        ).pk,
    }


# --- create ------------------------------------------------------------------------------


def test_a_cashback_rule_is_created_with_the_defaults_of_the_admin(tenant):
    body = created(tenant)

    assert body == {
        "id": body["id"],
        "name": "5% cashback",
        "kind": "cashback",
        "value": 5.0,
        "threshold": None,
        "reward_id": None,
        "template_id": None,
        "starts_at": None,
        "ends_at": None,
        "weekdays": [],
        "store_ids": [],
        "category_ids": [],
        "excluded_payment_methods": [9],
        "minimum_amount": 0.0,
        "maximum_reward": None,
        "sale_types": [],
        "pending_days": None,
        "valid_days": None,
        "active": True,
        "granted": False,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert body["created_at"].endswith("Z")
    rule = RewardRule.objects.get(pk=body["id"])
    assert (rule.account, rule.kind, rule.value) == (tenant.account, "cashback", Decimal("5"))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"kind": "points", "value": 1.5}, {"kind": "points", "value": 1.5}),
        ({"kind": "voucher", "value": 20, "threshold": 200}, {"kind": "voucher", "threshold": 200.0}),
        ({"kind": "message", "value": 0}, {"kind": "message", "value": 0.0}),
    ],
    ids=["points", "voucher", "message"],
)
def test_each_kind_is_created(tenant, template, fields, expected):
    if fields["kind"] == "message":
        fields = {**fields, "template_id": template.pk}
        expected = {**expected, "template_id": template.pk}

    body = created(tenant, **fields)

    assert {name: body[name] for name in expected} == expected
    assert RewardRule.objects.get(pk=body["id"]).kind == fields["kind"]


def test_a_voucher_rule_names_a_reward_of_the_catalogue(tenant, reward):
    body = created(tenant, kind="voucher", value=0, threshold=100, reward_id=reward.pk, valid_days=15)

    assert (body["reward_id"], body["threshold"], body["valid_days"]) == (reward.pk, 100.0, 15)
    assert RewardRule.objects.get(pk=body["id"]).reward == reward


def test_every_condition_is_taken_and_shaped(tenant, grocery):
    second_store, _ = store_create(account=tenant.account, name="Loja Sul")

    body = created(
        tenant,
        value="2.5",
        starts_at="2024-06-01 08:00",  # the account's local time (America/Sao_Paulo, UTC-3)
        ends_at="2024-12-31T23:59:00+00:00",
        weekdays=[4, 0, 0],
        store_ids=[second_store.pk, tenant.store.pk],
        category_ids=[grocery.pk],
        excluded_payment_methods=[9, 6, "9"],
        minimum_amount="10.50",
        maximum_reward=30,
        sale_types=["NF", "CF"],
        pending_days=7,
        valid_days=90,
        active=False,
    )

    assert body["value"] == 2.5
    assert body["starts_at"] == "2024-06-01T11:00:00.000000Z"
    assert body["ends_at"] == "2024-12-31T23:59:00.000000Z"
    assert body["weekdays"] == [0, 4]
    assert body["store_ids"] == sorted([second_store.pk, tenant.store.pk])
    assert body["category_ids"] == [grocery.pk]
    assert body["excluded_payment_methods"] == [6, 9]
    assert (body["minimum_amount"], body["maximum_reward"]) == (10.5, 30.0)
    assert body["sale_types"] == ["CF", "NF"]
    assert (body["pending_days"], body["valid_days"], body["active"]) == (7, 90, False)
    # The links carry the account, as the admin's do.
    assert set(RuleStore.objects.filter(rewardrule_id=body["id"]).values_list("account_id", flat=True)) == {
        tenant.account.pk
    }
    assert RuleCategory.objects.get(rewardrule_id=body["id"]).account_id == tenant.account.pk


@pytest.mark.parametrize("starts_at", ["2024-06-01", "2024-06-01 00:00", "2024-06-01T00:00:00-03:00"])
def test_dates_take_the_platforms_formats(tenant, starts_at):
    assert created(tenant, starts_at=starts_at)["starts_at"] == "2024-06-01T03:00:00.000000Z"


def test_money_is_never_a_float(tenant):
    body = created(tenant, value="0.1", minimum_amount=0.1, maximum_reward="0.3")

    rule = RewardRule.objects.get(pk=body["id"])
    assert (rule.value, rule.minimum_amount, rule.maximum_reward) == (
        Decimal("0.1"),
        Decimal("0.1"),
        Decimal("0.3"),
    )


# --- refusals ------------------------------------------------------------------------------

REFUSALS = [
    # A rule's fields must make sense for its kind.
    ("threshold", {"kind": "cashback", "threshold": 100}, "only voucher rules"),
    ("reward_id", {"kind": "points", "value": 1, "reward_id": "<reward>"}, "only voucher rules"),
    ("template_id", {"kind": "cashback", "template_id": "<template>"}, "only message rules"),
    ("template_id", {"kind": "voucher", "threshold": 10, "template_id": "<template>"}, "only message rules"),
    ("threshold", {"kind": "voucher", "value": 20}, "needs the amount that earns the voucher"),
    ("threshold", {"kind": "message", "template_id": "<template>", "threshold": 5}, "only voucher rules"),
    ("template_id", {"kind": "message", "value": 0}, "needs the template"),
    ("value", {"kind": "cashback", "value": 0}, "value above zero"),
    ("value", {"kind": "voucher", "value": 0, "threshold": 10}, "a value, or a reward"),
    ("value", {"value": -1}, "greater than or equal to 0"),
    ("value", {"value": "0.00001"}, "decimal places"),
    ("value", {"value": "cinco"}, "valid number"),
    ("kind", {"kind": "bonus"}, "not a valid choice"),
    ("name", {"name": "   "}, "may not be blank"),
    ("name", {"name": "x" * 121}, "120"),
    ("weekdays", {"weekdays": [7]}, "less than or equal to 6"),
    ("weekdays", {"weekdays": [-1]}, "greater than or equal to 0"),
    ("weekdays", {"weekdays": "monday"}, "list"),
    ("sale_types", {"sale_types": ["CF", "XX"]}, "not a valid choice"),
    ("excluded_payment_methods", {"excluded_payment_methods": [0]}, "not a valid choice"),
    ("excluded_payment_methods", {"excluded_payment_methods": [10]}, "not a valid choice"),
    ("valid_days", {"valid_days": 0}, "greater than or equal to 1"),
    ("valid_days", {"valid_days": 3651}, "less than or equal to 3650"),
    ("pending_days", {"pending_days": -1}, "greater than or equal to 0"),
    ("pending_days", {"pending_days": 3651}, "less than or equal to 3650"),
    ("minimum_amount", {"minimum_amount": -0.01}, "greater than or equal to 0"),
    ("maximum_reward", {"maximum_reward": -1}, "greater than or equal to 0"),
    ("threshold", {"kind": "voucher", "value": 5, "threshold": -1}, "greater than or equal to 0"),
    ("starts_at", {"starts_at": "2024-02-30"}, "Invalid date/time"),
    ("starts_at", {"starts_at": "9999-12-31 23:59"}, "out of range"),  # past UTC's last year
    ("ends_at", {"ends_at": "0001-01-01T00:00:00+14:00"}, "out of range"),
    ("ends_at", {"starts_at": "2024-06-02", "ends_at": "2024-06-01"}, "Must be after the start"),
    ("store_ids", {"store_ids": [MISSING_ID]}, f"No store with id {MISSING_ID} in this account."),
    ("store_ids", {"store_ids": [0]}, "greater than or equal to 1"),
    ("category_ids", {"category_ids": [MISSING_ID]}, f"No category with id {MISSING_ID} in this account."),
    ("reward_id", {"kind": "voucher", "threshold": 1, "reward_id": MISSING_ID}, "No reward with id"),
    ("template_id", {"kind": "message", "template_id": MISSING_ID}, "No message template with id"),
    ("reward_id", {"kind": "voucher", "threshold": 1, "reward_id": "um"}, "valid integer"),
]


def resolved(fields: dict, template, reward) -> dict:
    placeholders = {"<template>": template.pk, "<reward>": reward.pk}
    return {
        name: placeholders.get(value, value) if isinstance(value, str) else value
        for name, value in fields.items()
    }


@pytest.mark.parametrize(
    ("field", "fields", "message"), REFUSALS, ids=[f"{f}-{i}" for i, (f, *_) in enumerate(REFUSALS)]
)
def test_a_refused_rule_is_a_400_naming_the_field_and_nothing_is_created(
    tenant, template, reward, field, fields, message
):
    response = create(tenant, **resolved(fields, template, reward))

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert message in str(response.json()[field]), response.json()
    assert not RewardRule.objects.filter(account=tenant.account).exists()
    assert not RuleStore.objects.exists()
    assert_documented(response, "POST", RULES)


@pytest.mark.parametrize("field", ["store_ids", "category_ids", "reward_id", "template_id"])
def test_another_accounts_id_is_refused_like_an_id_that_names_nothing(tenant, foreign, field):
    kind = {"reward_id": "voucher", "template_id": "message"}.get(field, "cashback")
    extra = {"threshold": 10} if kind == "voucher" else {}
    foreign_id = foreign[field]
    value = (lambda pk: [pk]) if field.endswith("_ids") else (lambda pk: pk)

    refused = create(tenant, kind=kind, **extra, **{field: value(foreign_id)})
    missing = create(tenant, kind=kind, **extra, **{field: value(MISSING_ID)})

    assert refused.status_code == missing.status_code == 400
    assert str(refused.json()).replace(str(foreign_id), "<id>") == str(missing.json()).replace(
        str(MISSING_ID), "<id>"
    )
    assert not RewardRule.objects.filter(account=tenant.account).exists()


def test_every_missing_id_is_named(tenant):
    response = create(tenant, store_ids=[tenant.store.pk, MISSING_ID, MISSING_ID + 1])

    assert response.json() == {
        "store_ids": [f"No store with id {MISSING_ID}, {MISSING_ID + 1} in this account."]
    }


def test_the_body_never_sets_the_account_the_id_the_dates_or_granted(tenant, other_tenant):
    body = created(
        tenant,
        id=MISSING_ID,
        account=other_tenant.account.pk,
        account_id=other_tenant.account.pk,
        granted=True,
        created_at="2000-01-01T00:00:00Z",
        updated_at="2000-01-01T00:00:00Z",
    )

    rule = RewardRule.objects.get(pk=body["id"])
    assert rule.pk != MISSING_ID
    assert rule.account == tenant.account
    assert body["granted"] is False
    assert not body["created_at"].startswith("2000")
    assert not RewardRule.objects.filter(account=other_tenant.account).exists()


# --- lists ------------------------------------------------------------------------------------


@pytest.fixture
def three_rules(tenant):
    return [
        created(tenant, name="Cashback"),
        created(tenant, name="Points off", kind="points", value=1, active=False),
        created(tenant, name="Voucher", kind="voucher", value=20, threshold=200),
    ]


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [rule["name"] for rule in response.json()["results"]]


def test_the_list_is_paginated_newest_first(tenant, three_rules):
    response = tenant.v2.get(RULES, {"page_size": 2})

    assert response.json()["count"] == 3
    assert names(response) == ["Voucher", "Points off"]
    assert response.json()["next"].endswith("page=2&page_size=2")
    assert names(tenant.v2.get(RULES, {"page": 2, "page_size": 2})) == ["Cashback"]
    assert_documented(response, "GET", RULES)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"kind": "cashback"}, ["Cashback"]),
        ({"kind": "voucher", "active": "true"}, ["Voucher"]),
        ({"active": "0"}, ["Points off"]),
        ({"active": "1"}, ["Voucher", "Cashback"]),
        ({"active": "false", "kind": "cashback"}, []),
    ],
)
def test_the_list_filters_by_kind_and_active(tenant, three_rules, query, expected):
    assert names(tenant.v2.get(RULES, query)) == expected


@pytest.mark.parametrize(("query", "field"), [({"kind": "bonus"}, "kind"), ({"active": "maybe"}, "active")])
def test_a_bad_filter_is_a_400_naming_it(tenant, query, field):
    response = tenant.v2.get(RULES, query)

    assert response.status_code == 400
    assert field in response.json()
    assert_documented(response, "GET", RULES)


def test_the_list_shows_only_the_callers_rules(tenant, other_tenant, three_rules):
    created(other_tenant, name="Beta cashback")

    assert names(tenant.v2.get(RULES)) == ["Voucher", "Points off", "Cashback"]
    assert names(other_tenant.v2.get(RULES)) == ["Beta cashback"]


def test_the_list_shows_each_rules_stores_and_categories(tenant, grocery):
    scoped = created(tenant, name="Scoped", store_ids=[tenant.store.pk], category_ids=[grocery.pk])
    created(tenant, name="Open")

    results = {rule["name"]: rule for rule in tenant.v2.get(RULES).json()["results"]}

    assert (results["Scoped"]["store_ids"], results["Scoped"]["category_ids"]) == (
        [tenant.store.pk],
        [grocery.pk],
    )
    assert (results["Open"]["store_ids"], results["Open"]["category_ids"]) == ([], [])
    assert results["Scoped"]["id"] == scoped["id"]


# --- one rule, and its changes ---------------------------------------------------------------


def test_one_rule(tenant, three_rules):
    rule = three_rules[2]

    response = tenant.v2.get(f"{RULES}/{rule['id']}")

    assert response.status_code == 200
    assert response.json() == rule
    assert_documented(response, "GET", f"{RULES}/{{id}}")


def test_another_accounts_rule_is_a_404_and_cannot_be_changed(tenant, other_tenant):
    foreign = created(other_tenant, name="Beta cashback")
    before = stored(foreign["id"])

    for response in (
        tenant.v2.get(f"{RULES}/{foreign['id']}"),
        patch(tenant, foreign["id"], {"active": False, "name": "Hacked"}),
    ):
        assert response.status_code == 404
        assert response.json() == tenant.v2.get(f"{RULES}/{MISSING_ID}").json()

    assert stored(foreign["id"]) == before


def test_a_patch_changes_only_what_it_sends(tenant, grocery):
    rule = created(
        tenant, name="Cashback", store_ids=[tenant.store.pk], category_ids=[grocery.pk], valid_days=30
    )

    response = patch(tenant, rule["id"], {"name": "Cashback 7%", "value": "7"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["value"]) == ("Cashback 7%", 7.0)
    unchanged = {name: value for name, value in rule.items() if name not in ("name", "value", "updated_at")}
    assert {name: body[name] for name in unchanged} == unchanged
    assert body["updated_at"] >= rule["updated_at"]
    assert stored(rule["id"])["categories"] == [grocery.pk]
    assert_documented(response, "PATCH", f"{RULES}/{{id}}")


def test_a_patch_replaces_one_list_and_leaves_the_other(tenant, grocery):
    second_store, _ = store_create(account=tenant.account, name="Loja Sul")
    rule = created(tenant, store_ids=[tenant.store.pk], category_ids=[grocery.pk])

    body = patch(tenant, rule["id"], {"store_ids": [second_store.pk]}).json()

    assert (body["store_ids"], body["category_ids"]) == ([second_store.pk], [grocery.pk])
    assert patch(tenant, rule["id"], {"category_ids": []}).json()["category_ids"] == []
    assert stored(rule["id"])["stores"] == [second_store.pk]
    assert stored(rule["id"])["categories"] == []


@pytest.mark.parametrize(
    ("start", "change", "field"),
    [
        # The merged rule is validated: a partial change must leave a consistent rule.
        ({}, {"kind": "voucher"}, "threshold"),
        ({}, {"kind": "message"}, "template_id"),
        ({"kind": "voucher", "value": 20, "threshold": 100}, {"kind": "cashback"}, "threshold"),
        ({"kind": "voucher", "value": 20, "threshold": 100}, {"threshold": None}, "threshold"),
        ({"kind": "voucher", "value": 20, "threshold": 100}, {"value": 0}, "value"),
        ({}, {"value": 0}, "value"),
        ({}, {"threshold": 5}, "threshold"),
        ({"starts_at": "2024-06-10"}, {"ends_at": "2024-06-01"}, "ends_at"),
        ({}, {"valid_days": 0}, "valid_days"),
        ({}, {"valid_days": 3651}, "valid_days"),
        ({}, {"pending_days": 3651}, "pending_days"),
        ({}, {"weekdays": [1, 9]}, "weekdays"),
        ({}, {"weekdays": None}, "weekdays"),
        ({}, {"sale_types": ["PIX"]}, "sale_types"),
        ({}, {"excluded_payment_methods": [99]}, "excluded_payment_methods"),
        ({}, {"store_ids": [MISSING_ID]}, "store_ids"),
        ({}, {"name": ""}, "name"),
        ({}, {"active": "maybe"}, "active"),
    ],
)
def test_a_refused_patch_is_a_400_naming_the_field_and_changes_nothing(tenant, start, change, field):
    rule = created(tenant, **start)
    before = stored(rule["id"])

    response = patch(tenant, rule["id"], {"name": "Renamed", **change} if field != "name" else change)

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert stored(rule["id"]) == before


def test_a_kind_changes_with_the_fields_it_needs(tenant, reward):
    rule = created(tenant)

    voucher = patch(
        tenant, rule["id"], {"kind": "voucher", "value": 0, "threshold": 50, "reward_id": reward.pk}
    )
    back = patch(tenant, rule["id"], {"kind": "cashback", "value": 5, "threshold": None, "reward_id": None})

    assert voucher.status_code == 200, voucher.content
    assert (voucher.json()["kind"], voucher.json()["reward_id"]) == ("voucher", reward.pk)
    assert back.status_code == 200, back.content
    assert (back.json()["kind"], back.json()["threshold"], back.json()["reward_id"]) == (
        "cashback",
        None,
        None,
    )


def test_a_patch_refuses_another_accounts_ids_like_missing_ones(tenant, foreign):
    rule = created(tenant, kind="voucher", value=5, threshold=10)
    before = stored(rule["id"])

    refused = patch(
        tenant, rule["id"], {"reward_id": foreign["reward_id"], "store_ids": [foreign["store_ids"]]}
    )

    assert refused.status_code == 400
    assert set(refused.json()) == {"reward_id", "store_ids"}
    assert "in this account" in refused.json()["reward_id"][0]
    assert stored(rule["id"]) == before


def test_a_patch_never_sets_the_account_the_id_or_granted(tenant, other_tenant):
    rule = created(tenant)

    body = patch(
        tenant,
        rule["id"],
        {"account": other_tenant.account.pk, "id": MISSING_ID, "granted": True, "created_at": "2000-01-01"},
    ).json()

    assert (body["id"], body["granted"], body["created_at"]) == (rule["id"], False, rule["created_at"])
    assert RewardRule.objects.get(pk=rule["id"]).account == tenant.account


# --- retiring, never deleting -----------------------------------------------------------------


def test_a_rule_that_granted_is_retired_and_stays_readable(tenant):
    rule = created(tenant)
    assert sale(tenant, 100, "R1")["rewards"]["cashback"] == 5
    assert tenant.v2.get(f"{RULES}/{rule['id']}").json()["granted"] is True

    response = patch(tenant, rule["id"], {"active": False})

    assert response.status_code == 200
    assert (response.json()["active"], response.json()["granted"]) == (False, True)
    assert sale(tenant, 100, "R2")["rewards"]["cashback"] == 0
    assert names(tenant.v2.get(RULES, {"active": 0})) == ["5% cashback"]
    assert LedgerEntry.objects.filter(rule_id=rule["id"]).count() == 1


def test_a_voucher_it_issued_makes_a_rule_granted(tenant):
    rule = created(tenant, kind="voucher", value=20, threshold=10)

    sale(tenant, 50, "R1")

    assert Voucher.objects.filter(rule_id=rule["id"]).exists()
    assert tenant.v2.get(f"{RULES}/{rule['id']}").json()["granted"] is True


@pytest.mark.parametrize("method", ["delete", "put"])
def test_there_is_no_delete_nor_put(tenant, method):
    rule = created(tenant)
    sale(tenant, 100, "R1")

    response = getattr(tenant.v2, method)(f"{RULES}/{rule['id']}", format="json")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert "DELETE" not in response["Allow"]
    assert RewardRule.objects.filter(pk=rule["id"]).exists()


def test_the_docs_say_why_there_is_no_delete_and_that_changes_apply_to_later_grants():
    operations = api_schema()["paths"][f"{RULES}/{{id}}"]

    assert set(operations) - {"parameters"} == {"get", "patch"}
    assert "405" in operations["patch"]["description"]
    assert '{"active": false}' in operations["patch"]["description"]
    assert "later grants only" in operations["patch"]["description"]
    schema = api_schema()["components"]["schemas"]["PatchedRuleRequest"]["properties"]
    assert "later grants only" in schema["valid_days"]["description"]


# --- end to end -----------------------------------------------------------------------------


def test_a_rule_made_by_api_grants_on_a_till_purchase_in_its_store_only(tenant):
    second_store, _ = store_create(account=tenant.account, name="Loja Sul")
    created(
        tenant, name="Double points here", kind="points", value=2, store_ids=[tenant.store.pk], valid_days=30
    )
    created(tenant, name="Only elsewhere", kind="cashback", value=10, store_ids=[second_store.pk])

    response = put(tenant, purchase())  # R$ 24 at the tenant's own store

    assert response.status_code == 201, response.content
    assert response.json()["rewards"]["points"] == 48
    assert response.json()["rewards"]["cashback"] == 0
    assert LedgerEntry.objects.get(kind="points").rule.name == "Double points here"


def test_a_changed_rule_applies_to_the_next_sale_and_leaves_what_it_granted(tenant):
    rule = created(tenant, kind="voucher", value=20, threshold=100, valid_days=15)
    first = Voucher.objects.get(sale_id=sale(tenant, 100, "R1")["id"])

    patch(tenant, rule["id"], {"value": 30, "valid_days": 60})
    second = Voucher.objects.get(sale_id=sale(tenant, 100, "R2")["id"])

    first.refresh_from_db()
    assert (first.value, first.valid_until - first.valid_from) == (Decimal("20"), timedelta(days=15))
    assert (second.value, second.valid_until - second.valid_from) == (Decimal("30"), timedelta(days=60))


def test_a_message_rule_made_by_api_queues_its_template(tenant, template):
    created(tenant, name="Thanks", kind="message", value=0, template_id=template.pk)
    tenant.v2.post(
        f"{V2}/customers", {"name": "Maria", "cpf": "53933515009", "phone": "11987654321"}, format="json"
    )

    assert sale(tenant, 10, "R1")["rewards"]["messages"] == 1
    assert Message.objects.get().body == "Obrigado, Maria!"


# --- Idempotency-Key ------------------------------------------------------------------------


def test_a_retried_create_with_its_key_makes_one_rule(tenant):
    first = tenant.v2.post(
        RULES, {"name": "A", "kind": "points", "value": 1}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )
    again = tenant.v2.post(
        RULES, {"name": "A", "kind": "points", "value": 1}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )
    other = tenant.v2.post(
        RULES, {"name": "B", "kind": "points", "value": 1}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert other.status_code == 422
    assert RewardRule.objects.filter(account=tenant.account).count() == 1


def test_a_retried_patch_with_its_key_is_answered_as_first(tenant):
    rule = created(tenant)
    url = f"{RULES}/{rule['id']}"

    first = tenant.v2.patch(url, {"kind": "voucher"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    patch(tenant, rule["id"], {"kind": "voucher", "threshold": 10, "value": 5})
    again = tenant.v2.patch(url, {"kind": "voucher"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")

    assert first.status_code == again.status_code == 400
    assert again.content == first.content
    assert RewardRule.objects.get(pk=rule["id"]).kind == "voucher"


# --- queries ----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 100])
def test_the_list_costs_the_same_whatever_its_length(tenant, grocery, size, django_assert_num_queries):
    for number in range(size):
        rule = rule_create(account=tenant.account, name=f"R{number}", kind="points", value=Decimal("1"))
        if number % 2:
            rule_scope_set(rule=rule, stores=[tenant.store], categories=[grocery])

    # The credential, the count, the page (with `granted`), its stores, its categories.
    with django_assert_num_queries(5):
        response = tenant.v2.get(RULES, {"page_size": 500})

    assert len(response.json()["results"]) == size


def test_one_rule_costs_four_queries(tenant, grocery, django_assert_num_queries):
    rule = created(tenant, store_ids=[tenant.store.pk], category_ids=[grocery.pk])

    # The credential, the rule (with `granted`), its stores, its categories.
    with django_assert_num_queries(4):
        assert tenant.v2.get(f"{RULES}/{rule['id']}").status_code == 200


def test_create_costs_a_bounded_number_of_queries(tenant, grocery, reward, django_assert_num_queries):
    body = {
        "name": "Voucher",
        "kind": "voucher",
        "value": 0,
        "threshold": 100,
        "reward_id": reward.pk,
        "store_ids": [tenant.store.pk],
        "category_ids": [grocery.pk],
    }

    # The savepoint and its release, the credential; the reward, stores and categories named
    # (one query each); the model's own checks of the account and the reward; the insert; each
    # link list set (current links, existing ones, the insert); the change history's row; the
    # answer (the rule with `granted`, its stores, its categories).
    with django_assert_num_queries(19):
        assert tenant.v2.post(RULES, body, format="json").status_code == 201


def test_patch_costs_a_bounded_number_of_queries(tenant, grocery, django_assert_num_queries):
    rule = created(tenant, store_ids=[tenant.store.pk])

    # The savepoint and its release, the credential, the rule, the model's check of the
    # account, the update and its change history row, the answer's stores and categories.
    with django_assert_num_queries(9):
        assert patch(tenant, rule["id"], {"value": 7, "active": False}).status_code == 200
    # The same, plus the categories named and both link lists set again.
    with django_assert_num_queries(15):
        assert patch(tenant, rule["id"], {"category_ids": [grocery.pk]}).status_code == 200
