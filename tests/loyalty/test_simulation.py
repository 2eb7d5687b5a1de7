"""The what-if simulator (`POST /api/v2/rules/simulate`): the recorded sales replayed under the
rules in force and under a draft, writing nothing, with the difference by day, store and
category — checked against hand-computed figures and against the ledger itself."""

from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from customers.models import LedgerEntry
from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_create
from loyalty.tenancy.services import store_create
from promotions.models import Category
from sales.models import Sale
from sales.outcomes import ReturnedUnits
from sales.services import sale_cancel, sale_return
from tests.builders import obtain_token
from vouchers.models import Voucher

pytestmark = pytest.mark.django_db

SIMULATE = "/api/v2/rules/simulate"
SATURDAY, MONDAY = "2024-06-15", "2024-06-17"
JUNE = {"date_from": "2024-06-01", "date_to": "2024-06-30"}


def cpf(base: int) -> str:
    """A valid CPF for the customer numbered `base`."""
    digits = [int(char) for char in f"{123456000 + base:09d}"]
    for size in (9, 10):
        total = sum(digit * weight for digit, weight in zip(digits, range(size + 1, 1, -1), strict=True))
        digits.append(total * 10 % 11 % 10)
    return "".join(map(str, digits))


def sale(tenant, customer: int, amount, day: str, *, store=None, items=None, reference=None) -> Sale:
    body = {
        "cpf": cpf(customer),
        "sale_amount": amount,
        "reference": reference or f"S-{customer}-{day}-{amount}-{store.pk if store else 0}",
        "date": f"{day} 12:00",
        **({"store": store.pk} if store else {}),
        **({"items": items} if items else {}),
    }
    response = tenant.v2.post("/api/v2/sales", body, format="json")
    assert response.status_code == 201, response.content
    return Sale.objects.get(pk=response.json()["sale"]["id"])


def line(barcode: str, total, category: str | None = None, quantity=1) -> dict:
    return {
        "barcode": barcode,
        "name": f"Item {barcode}",
        "unit_value": Decimal(str(total)) / quantity,
        "quantity": quantity,
        "total": total,
        **({"category": category} if category else {}),
    }


def simulate(tenant, **body):
    response = tenant.v2.post(SIMULATE, {**JUNE, **body}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def simulate_on(tenant, moment: str, body: dict):
    """The simulation's answer as it would be at `moment` (a token of that moment)."""
    with time_machine.travel(moment, tick=False):
        client = APIClient()
        token = obtain_token(tenant.merchant.credential.api_key, tenant.merchant.api_secret)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.post(SIMULATE, body, format="json")


def by_key(rows, key):
    return {row[key]: row for row in rows}


def test_double_points_on_saturdays_adds_the_saturdays_points_by_day_and_store(tenant):
    rule_create(account=tenant.account, name="1 point per R$", kind="points", value=Decimal("1"))
    other, _ = store_create(account=tenant.account, name="Loja Centro")
    sale(tenant, 1, "100.00", SATURDAY, store=tenant.store)
    sale(tenant, 2, "50.50", SATURDAY, store=tenant.store)
    sale(tenant, 1, "20.25", SATURDAY, store=other)
    sale(tenant, 3, "80.00", MONDAY, store=tenant.store)
    sale(tenant, 2, "10.00", MONDAY, store=other)

    result = simulate(
        tenant, add=[{"name": "Double points on Saturdays", "kind": "points", "value": 1, "weekdays": [5]}]
    )

    assert result["sales"] == 5
    assert result["customers"] == 3
    assert result["current"]["points"] == 260.75
    assert result["draft"]["points"] == 260.75 + 170.75
    assert result["difference"]["points"] == 170.75
    assert result["difference"]["customers"] == 0  # the Saturday customers earned already
    assert result["difference"]["cashback"] == 0
    days = by_key(result["by_day"], "date")
    assert len(days) == 30
    assert days[SATURDAY]["difference"]["points"] == 170.75
    assert days[SATURDAY]["draft"]["customers"] == 2
    assert days[MONDAY]["difference"]["points"] == 0
    assert days[MONDAY]["current"]["points"] == 90
    assert days["2024-06-16"]["current"]["points"] == 0
    stores = by_key(result["by_store"], "store_id")
    assert stores[tenant.store.pk]["difference"]["points"] == 150.5
    assert stores[other.pk]["difference"]["points"] == 20.25
    assert stores[other.pk]["store_name"] == "Loja Centro"
    assert [rule["status"] for rule in result["rules"]["draft"]] == ["unchanged", "added"]


def test_a_simulation_writes_nothing(tenant):
    rule = rule_create(account=tenant.account, name="5 %", kind="cashback", value=Decimal("5"))
    sale(tenant, 1, "100.00", SATURDAY)
    before = (LedgerEntry.objects.count(), Voucher.objects.count(), RewardRule.objects.count())

    simulate(
        tenant,
        add=[{"name": "R$ 10 from R$ 50", "kind": "voucher", "value": 10, "threshold": 50}],
        change=[{"id": rule.pk, "value": 10}],
    )

    assert (LedgerEntry.objects.count(), Voucher.objects.count(), RewardRule.objects.count()) == before
    rule.refresh_from_db()
    assert rule.value == Decimal("5")


def test_retiring_a_rule_gives_the_negative_of_its_grants(tenant):
    rule_create(account=tenant.account, name="1 point", kind="points", value=Decimal("1"))
    cashback = rule_create(account=tenant.account, name="3 %", kind="cashback", value=Decimal("3"))
    sale(tenant, 1, "33.33", SATURDAY)
    sale(tenant, 2, "152.99", MONDAY)
    granted = sum(LedgerEntry.objects.filter(rule=cashback).values_list("balance", flat=True), Decimal(0))

    result = simulate(tenant, retire=[cashback.pk])

    assert granted == Decimal("5.59")  # 1.00 + 4.59
    assert result["difference"]["cashback"] == -5.59
    assert result["difference"]["points"] == 0
    assert result["difference"]["cost"] == -5.59
    assert result["rules"]["retired"] == [cashback.pk]
    assert [rule["id"] for rule in result["rules"]["draft"]] == [
        rule["id"] for rule in result["rules"]["current"] if rule["id"] != cashback.pk
    ]


def test_a_category_rule_and_a_cap_are_replayed_as_they_would_grant(tenant):
    points = rule_create(
        account=tenant.account, name="2 points, at most 50", kind="points", value=Decimal("2")
    )
    hortifruti = Category.objects.create(account=tenant.account, name="Hortifruti")
    bebidas = Category.objects.create(account=tenant.account, name="Bebidas")
    sale(
        tenant,
        1,
        "100.00",
        SATURDAY,
        items=[line("1", "30.00", "Hortifruti"), line("2", "70.00", "Bebidas")],
    )
    sale(tenant, 2, "20.00", MONDAY, items=[line("3", "20.00", "Hortifruti")])

    result = simulate(
        tenant,
        change=[{"id": points.pk, "maximum_reward": 50}],
        add=[
            {
                "name": "10 % on Hortifruti",
                "kind": "cashback",
                "value": 10,
                "category_ids": [hortifruti.pk],
            }
        ],
    )

    assert result["current"]["points"] == 240
    # The first sale's 200 points are capped at 50; the second's 40 are under the cap.
    assert result["draft"]["points"] == 90
    assert result["draft"]["cashback"] == 5  # 10 % of 30 + 10 % of 20
    categories = by_key(result["by_category"], "category_id")
    assert categories[hortifruti.pk]["draft"]["cashback"] == 5
    assert categories[hortifruti.pk]["category_name"] == "Hortifruti"
    assert bebidas.pk not in categories or categories[bebidas.pk]["draft"]["cashback"] == 0
    # The points are shared among the items by their value: 60 + 40 current on Hortifruti.
    assert categories[hortifruti.pk]["current"]["points"] == 100
    assert categories[bebidas.pk]["current"]["points"] == 140
    assert categories[bebidas.pk]["draft"]["points"] == 35  # 70 % of the capped 50


def test_the_replay_of_the_rules_in_force_equals_the_ledger_to_the_cent(tenant):
    """Sales of every shape through the real services; the simulator, with no draft, must find
    exactly what the ledger holds for them — returns and cancels included."""
    hortifruti = Category.objects.create(account=tenant.account, name="Hortifruti")
    rule_create(account=tenant.account, name="3.5 %", kind="cashback", value=Decimal("3.5"))
    rule_create(
        account=tenant.account,
        name="10 % Hortifruti, pending",
        kind="cashback",
        value=Decimal("10"),
        categories=[hortifruti],
        pending_days=7,
        valid_days=30,
    )
    rule_create(
        account=tenant.account,
        name="1.5 points, cap 120",
        kind="points",
        value=Decimal("1.5"),
        maximum_reward=Decimal("120"),
    )
    rule_create(
        account=tenant.account, name="Saturday bonus", kind="points", value=Decimal("1"), weekdays=[5]
    )
    rule_create(
        account=tenant.account,
        name="R$ 15 from R$ 90",
        kind="voucher",
        value=Decimal("15"),
        threshold=Decimal("90"),
        valid_days=10,
    )
    sales = []
    for number in range(1, 13):
        day = f"2024-06-{number + 9:02d}"
        sales.append(
            sale(
                tenant,
                number % 5 + 1,
                Decimal("12.34") * number,
                day,
                items=[
                    line("1", Decimal("4.11") * number, "Hortifruti"),
                    line("2", Decimal("8.23") * number, "Bebidas", quantity=number),
                ],
                reference=f"R-{number}",
            )
        )
    sales.append(sale(tenant, 9, "99.99", "2024-06-22", reference="no-items"))
    sale_cancel(sale=sales[2])
    sale_return(sale=sales[7], reference="D1", items=[ReturnedUnits(barcode="1", quantity=Decimal(1))])
    sale_return(sale=sales[9], reference="D2", items=[ReturnedUnits(barcode="2", quantity=Decimal(3))])
    sale_return(sale=sales[9], reference="D3", items=[ReturnedUnits(barcode="2", quantity=Decimal(4))])
    sale_return(sale=sales[-1], reference="D4", amount=Decimal("33.33"))

    result = simulate(tenant)

    entries = LedgerEntry.objects.filter(account=tenant.account, rule__isnull=False)
    balance = sum((entry.balance + entry.pending_balance for entry in entries), Decimal(0))
    points = sum((entry.points + entry.pending_points for entry in entries), Decimal(0))
    vouchers = Voucher.objects.filter(account=tenant.account, status__in=["active", "used"])
    assert balance > 0
    assert points > 0
    assert vouchers.exists()
    assert Decimal(str(result["current"]["cashback"])) == balance
    assert Decimal(str(result["current"]["points"])) == points
    assert result["current"]["vouchers"] == vouchers.count()
    assert Decimal(str(result["current"]["vouchers_value"])) == sum(v.value for v in vouchers)
    assert result["difference"] == {name: 0 for name in result["difference"]}
    assert result["sales"] == 12  # the cancelled one is not replayed
    for day in result["by_day"]:
        day_entries = [entry for entry in entries if entry.sale.local_date.isoformat() == day["date"]]
        assert Decimal(str(day["current"]["cashback"])) == sum(
            (entry.balance + entry.pending_balance for entry in day_entries), Decimal(0)
        )


def test_what_the_draft_adds_still_owed_today_counts_only_unexpired_grants(tenant):
    sale(tenant, 1, "100.00", "2024-06-10")
    sale(tenant, 2, "100.00", "2024-06-28")

    response = simulate_on(
        tenant,
        "2024-07-05 12:00Z",
        {
            **JUNE,
            "add": [
                {"name": "5 % for 10 days", "kind": "cashback", "value": 5, "valid_days": 10},
                {"name": "2 points for ever", "kind": "points", "value": 2},
            ],
        },
    )
    result = response.json()

    assert result["difference"]["cashback"] == 10
    # The 10 June grant was spendable through 20 June; the 28 June one through 8 July.
    assert result["liability_added"]["cashback"] == 5
    assert result["liability_added"]["points"] == 400


def test_stores_limit_the_sales_replayed(tenant):
    rule_create(account=tenant.account, name="1 point", kind="points", value=Decimal("1"))
    other, _ = store_create(account=tenant.account, name="Loja Centro")
    sale(tenant, 1, "10.00", SATURDAY, store=tenant.store)
    sale(tenant, 2, "20.00", SATURDAY, store=other)

    result = simulate(tenant, store_ids=[other.pk])

    assert (result["sales"], result["current"]["points"], result["store_ids"]) == (1, 20, [other.pk])


def test_the_queries_do_not_grow_with_the_sales(tenant):
    rule_create(account=tenant.account, name="1 point", kind="points", value=Decimal("1"))
    counted = []
    for batch in (3, 12):
        for number in range(batch):
            sale(
                tenant,
                number + 1,
                "10.00",
                SATURDAY,
                items=[line("1", "10.00", "Hortifruti")],
                reference=f"{batch}-{number}",
            )
        sale_return(
            sale=Sale.objects.filter(account=tenant.account).first(),
            reference=f"D{batch}",
            items=[ReturnedUnits(barcode="1", quantity=Decimal(1))],
        )
        with CaptureQueriesContext(connection) as queries:
            simulate(tenant, add=[{"name": "More", "kind": "points", "value": 1}])
        counted.append(len(queries))

    assert counted[0] == counted[1]
    # Authentication, the draft's validation, the slot (lock, sales counted, runs counted, the
    # run recorded), the draft rebuilt, one batch (sales, items, payments, returns' lines and
    # amounts), its progress, the names and the points' value, and the answer recorded (each
    # write in a savepoint of its own here, inside the test's transaction).
    assert counted[0] <= 24


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"date_from": "2024-07-01", "date_to": "2024-06-01"},
            {"date_from": ["date_from is after date_to."]},
        ),
        (
            {"date_from": "2023-01-01", "date_to": "2024-06-01"},
            {"date_from": ["A simulation covers at most 400 days."]},
        ),
        ({"date_from": "2024-13-01"}, None),
        ({"add": [{"name": "No threshold", "kind": "voucher", "value": 10}]}, None),
        ({"add": [{"name": "x", "kind": "points", "value": -1}]}, None),
        ({"add": "nope"}, None),
        ({"retire": ["a"]}, None),
        ({"store_ids": [999999]}, {"store_ids": ["No store with id 999999 in this account."]}),
    ],
)
def test_bad_input_is_a_400_naming_the_field(tenant, body, errors):
    response = tenant.v2.post(SIMULATE, body, format="json")

    assert response.status_code == 400, response.content
    if errors is not None:
        assert response.json() == errors
    else:
        assert set(response.json()) <= {"date_from", "date_to", "add", "change", "retire", "store_ids"}


def test_a_draft_rule_invalid_as_a_whole_names_its_entry_and_field(tenant):
    rule = rule_create(account=tenant.account, name="5 %", kind="cashback", value=Decimal("5"))

    added = tenant.v2.post(SIMULATE, {"add": [{"name": "V", "kind": "voucher", "value": 10}]}, format="json")
    changed = tenant.v2.post(SIMULATE, {"change": [{"id": rule.pk, "kind": "voucher"}]}, format="json")

    assert added.status_code == changed.status_code == 400
    assert set(added.json()["add"]["0"]) == {"threshold"}
    assert set(changed.json()["change"]["0"]) == {"threshold"}


def test_a_rule_changed_twice_or_changed_and_retired_is_refused(tenant):
    rule = rule_create(account=tenant.account, name="5 %", kind="cashback", value=Decimal("5"))

    twice = tenant.v2.post(
        SIMULATE, {"change": [{"id": rule.pk, "value": 1}, {"id": rule.pk, "value": 2}]}, format="json"
    )
    both = tenant.v2.post(
        SIMULATE, {"change": [{"id": rule.pk, "value": 1}], "retire": [rule.pk]}, format="json"
    )

    assert (twice.status_code, both.status_code) == (400, 400)
    assert set(twice.json()) == {"change"}
    assert set(both.json()) == {"retire"}


def test_the_calendars_ends_are_a_range_like_any_other(tenant):
    sale(tenant, 1, "10.00", SATURDAY)

    first = simulate(tenant, date_from="0001-01-01", date_to="0001-12-31")
    last = simulate(tenant, date_from="9999-01-01", date_to="9999-12-31")

    assert (first["sales"], last["sales"], len(last["by_day"])) == (0, 0, 365)


def test_another_accounts_rule_is_not_found(tenant, other_tenant):
    theirs = rule_create(account=other_tenant.account, name="5 %", kind="cashback", value=Decimal("5"))

    for body in ({"retire": [theirs.pk]}, {"change": [{"id": theirs.pk, "value": 1}]}):
        response = tenant.v2.post(SIMULATE, body, format="json")
        assert response.status_code == 404, response.content
        assert response.json()["detail"] == f"No rule with id {theirs.pk} in this account."


def test_another_accounts_sales_are_never_replayed(tenant, other_tenant):
    rule_create(account=tenant.account, name="1 point", kind="points", value=Decimal("1"))
    rule_create(account=other_tenant.account, name="1 point", kind="points", value=Decimal("1"))
    sale(other_tenant, 1, "10.00", SATURDAY)

    assert simulate(tenant)["sales"] == 0
    assert simulate(other_tenant)["sales"] == 1


def test_a_simulation_needs_credentials(anonymous):
    assert anonymous.post(SIMULATE, {}, format="json").status_code == 401


def test_the_default_range_is_the_last_90_days(tenant):
    sale(tenant, 1, "10.00", "2024-04-02")
    sale(tenant, 1, "10.00", "2024-04-01")

    response = simulate_on(tenant, "2024-06-30 12:00Z", {})

    assert response.status_code == 200
    assert (response.json()["date_from"], response.json()["date_to"]) == ("2024-04-02", "2024-06-30")
    assert response.json()["sales"] == 1
