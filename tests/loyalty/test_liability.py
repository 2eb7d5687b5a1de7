"""The liability report: what an account owes its customers, by store and by expiry, through
the selector, `GET /api/v2/reports/liability` (JSON and CSV) and the admin.

One account, two stores, a program with validities (cashback 10 % for 30 days, 1 point per
R$ 1 for 90 days), and four customers, at 10 March 2025 12:00 in São Paulo (15:00 UTC):

- Ana: R$ 100 at the main store on 20 Feb (R$ 10 until 22 Mar, 100 points until 21 May), R$ 200
  at Norte on 5 Mar with R$ 5 of digital change (R$ 20 until 4 Apr, 200 points until 3 Jun),
  then spends R$ 12 — the whole March lot (a spent lot) and R$ 2 of the April one.
- Bruno: a staff credit of R$ 50 and 30 points (no store, no expiry), R$ 50 at the main store on
  1 Mar with R$ 3 of digital change (R$ 5 until 31 Mar, 50 points until 30 May), then a coupon
  of 40 points, taken from that lot.
- Carla: R$ 100 at Norte on 2 Mar, spends its R$ 10 cashback, then the sale is cancelled:
  R$ 10 of debt, by Norte.
- Davi, once the account expires rewards after 45 days without purchases: a staff credit of
  20 points, then R$ 100 at Norte on 3 Mar (R$ 10 until 2 Apr, 100 points until 1 Jun) — all of
  which, his deadline being 17 Apr, expires by 17 Apr at the latest.

Points are worth R$ 0.20: "Vale R$ 20" for 100 points is the catalogue's cheapest R$ per point.
"""

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from customers.services import wallet_credit, wallet_debit
from loyalty.core.receipts import Receipt
from loyalty.engine.lifecycle import rewards_process_due
from loyalty.engine.program import rule_create
from loyalty.shell.liability import CSV_HEADER, Amounts, liability_report
from loyalty.tenancy.services import account_settings_update, store_create
from sales.models import Sale
from sales.outcomes import PaymentData, SaleInput
from sales.services import sale_cancel, sale_record
from tests.builders import V2
from tests.factories import CustomerFactory, RewardFactory
from tests.openapi import assert_documented
from vouchers.services import balance_redeem, reward_redeem

pytestmark = pytest.mark.django_db

ZONE = ZoneInfo("America/Sao_Paulo")
NOW = datetime(2025, 3, 10, 15, 0, tzinfo=UTC)
URL = f"{V2}/reports/liability"


def local(month: int, day: int) -> datetime:
    return datetime(2025, month, day, 12, 0, tzinfo=ZONE)


def amounts(balance="0", digital_change="0", points="0", points_value="0") -> Amounts:
    return Amounts(
        balance=Decimal(balance),
        digital_change=Decimal(digital_change),
        points=Decimal(points),
        points_value=Decimal(points_value),
    )


def sell(account, *, store, customer, when, amount, reference, digital_change="0") -> Sale:
    payments = (
        (PaymentData(method=1, total=Decimal(amount), digital_change=Decimal(digital_change)),)
        if digital_change != "0"
        else ()
    )
    return sale_record(
        account=account,
        sent=SaleInput(
            source=Sale.Source.API,
            occurred_at=when,
            store=store,
            customer_id=customer.pk,
            receipt=Receipt(reference=reference),
            declared_amount=Decimal(amount),
            payments=payments,
        ),
    ).sale


def redeem(account, *, store, customer, value, when, reference):
    balance_redeem(
        account=account,
        store=store,
        customer=customer,
        value=Decimal(value),
        digital_change=Decimal("0"),
        occurred_at=when,
        reference=reference,
    )


@pytest.fixture(autouse=True)
def _at_now(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def norte(tenant):
    return store_create(account=tenant.account, name="Loja Norte")[0]


@pytest.fixture
def program(tenant, norte):
    """The account of the module's docstring; answers its customers by name."""
    account, main = tenant.account, tenant.store
    rule_create(account=account, name="10% cashback", kind="cashback", value=Decimal("10"), valid_days=30)
    rule_create(account=account, name="1 pt per R$", kind="points", value=Decimal("1"), valid_days=90)
    RewardFactory(account=account, name="Vale R$ 20", value=Decimal("20"), points_cost=Decimal("100"))
    vale_10 = RewardFactory(
        account=account, name="Vale R$ 10", value=Decimal("10"), points_cost=Decimal("40")
    )
    RewardFactory(
        account=account, name="Retired", value=Decimal("50"), points_cost=Decimal("1000"), active=False
    )
    RewardFactory(account=account, name="Handed out by a rule", value=Decimal("5"), points_cost=Decimal("0"))
    customers = {
        name: CustomerFactory(account=account, name=name) for name in ("Ana", "Bruno", "Carla", "Davi")
    }
    ana, bruno, carla, davi = customers.values()

    sell(account, store=main, customer=ana, when=local(2, 20), amount="100", reference="A-1")
    sell(
        account,
        store=norte,
        customer=ana,
        when=local(3, 5),
        amount="200",
        reference="A-2",
        digital_change="5",
    )
    redeem(account, store=main, customer=ana, value="12", when=local(3, 8), reference="R-A")

    wallet_credit(
        customer=bruno, kind="adjustment", amounts={"balance": Decimal("50"), "points": Decimal("30")}
    )
    sell(
        account,
        store=main,
        customer=bruno,
        when=local(3, 1),
        amount="50",
        reference="B-1",
        digital_change="3",
    )
    reward_redeem(reward=vale_10, customer=bruno)

    cancelled = sell(account, store=norte, customer=carla, when=local(3, 2), amount="100", reference="C-1")
    redeem(account, store=norte, customer=carla, value="10", when=local(3, 4), reference="R-C")
    sale_cancel(sale=cancelled)

    account_settings_update(account=account, expiry_inactivity_days=45)
    wallet_credit(customer=davi, kind="adjustment", amounts={"points": Decimal("20")})
    sell(account, store=norte, customer=davi, when=local(3, 3), amount="100", reference="D-1")
    account.refresh_from_db()
    return customers


@pytest.fixture
def other_program(other_tenant):
    """Account B: one customer with R$ 7 and 70 points, and no catalogue to value them."""
    customer = CustomerFactory(account=other_tenant.account, name="Beto")
    wallet_credit(
        customer=customer, kind="adjustment", amounts={"balance": Decimal("7"), "points": Decimal("70")}
    )
    return customer


def by_store(report):
    return {row.store_name: (row.amounts, row.debts) for row in report.by_store}


def by_month(report):
    return {row.label: row.amounts for row in report.by_expiry_month}


def by_window(report):
    return {row.days: row.amounts for row in report.expiring}


# --- the selector -------------------------------------------------------------------------


def test_totals_and_debts_with_points_valued_at_the_cheapest_reward(tenant, program):
    report = liability_report(account=tenant.account, now=NOW)

    assert report.valuation.reward_name == "Vale R$ 20"
    assert report.valuation.value_per_point == Decimal("0.200000")
    assert report.totals == amounts(
        balance="83.00", digital_change="8.00", points="460.00", points_value="92.00"
    )
    assert report.totals.total_value == Decimal("183.00")
    assert report.debts == amounts(balance="10.00")
    assert report.generated_at == NOW


def test_split_by_store_of_origin(tenant, program):
    report = liability_report(account=tenant.account, now=NOW)

    assert by_store(report) == {
        # Lots: Ana's 100 points, Bruno's R$ 5 and 10 points left; outside lots: Bruno's change.
        "Main store": (amounts("5.00", "3.00", "110.00", "22.00"), amounts()),
        # Lots: Ana's R$ 18 left and 200 points, Davi's R$ 10 and 100 points; Ana's change;
        # Carla's debt comes from the cancellation there.
        "Loja Norte": (amounts("28.00", "5.00", "300.00", "60.00"), amounts(balance="10.00")),
        # Staff credits: Bruno's R$ 50 and 30 points, Davi's 20 points.
        None: (amounts("50.00", "0.00", "50.00", "10.00"), amounts()),
    }
    assert [row.store_name for row in report.by_store] == ["Loja Norte", "Main store", None]
    rows = [row.amounts for row in report.by_store]
    for bucket in ("balance", "digital_change", "points"):
        assert sum(getattr(row, bucket) for row in rows) == getattr(report.totals, bucket)


def test_split_by_local_month_of_expiry(tenant, program):
    report = liability_report(account=tenant.account, now=NOW)

    assert by_month(report) == {
        "2025-03": amounts(balance="5.00"),  # Bruno's lot, last day 31 Mar
        # Ana's R$ 18 (4 Apr); Davi's R$ 10 (2 Apr), and his 100 + 20 points at his deadline (17 Apr).
        "2025-04": amounts(balance="28.00", points="120.00", points_value="24.00"),
        "2025-05": amounts(points="110.00", points_value="22.00"),  # Ana's 100 and Bruno's 10
        "2025-06": amounts(points="200.00", points_value="40.00"),  # Ana's, 3 Jun
        None: amounts("50.00", "8.00", "30.00", "6.00"),  # Bruno's staff credit, and every change
    }
    assert [row.label for row in report.by_expiry_month] == ["2025-03", "2025-04", "2025-05", "2025-06", None]


def test_what_expires_in_the_next_30_60_and_90_days(tenant, program):
    report = liability_report(account=tenant.account, now=NOW)

    assert by_window(report) == {
        30: amounts(balance="33.00"),
        60: amounts(balance="33.00", points="120.00", points_value="24.00"),
        90: amounts(balance="33.00", points="430.00", points_value="86.00"),
    }
    assert [row.until for row in report.expiring] == [
        datetime(2025, 4, 9, 15, 0, tzinfo=UTC),
        datetime(2025, 5, 9, 15, 0, tzinfo=UTC),
        datetime(2025, 6, 8, 15, 0, tzinfo=UTC),
    ]


def test_one_store_only(tenant, program, norte):
    report = liability_report(account=tenant.account, now=NOW, store_id=norte.pk)

    assert report.totals == amounts("28.00", "5.00", "300.00", "60.00")
    assert report.debts == amounts(balance="10.00")
    assert by_store(report) == {"Loja Norte": (report.totals, report.debts)}
    assert by_month(report) == {
        "2025-04": amounts(balance="28.00", points="100.00", points_value="20.00"),
        "2025-06": amounts(points="200.00", points_value="40.00"),
        None: amounts(digital_change="5.00"),
    }
    assert by_window(report) == {
        30: amounts(balance="28.00"),
        60: amounts(balance="28.00", points="100.00", points_value="20.00"),
        90: amounts(balance="28.00", points="300.00", points_value="60.00"),
    }


def test_the_report_follows_the_expiry_job(tenant, program, time_machine):
    # 6 Apr: Bruno's R$ 5 (31 Mar), Davi's R$ 10 (2 Apr) and Ana's R$ 18 (4 Apr) have expired.
    later = datetime(2025, 4, 6, 12, 0, tzinfo=UTC)
    time_machine.move_to(later, tick=False)
    before = liability_report(account=tenant.account, now=later)
    assert before.totals.balance == Decimal("83.00")  # the job has not run: still owed, and due
    assert by_window(before)[30].balance == Decimal("33.00")

    assert rewards_process_due(now=later).expired_wallets == 3
    report = liability_report(account=tenant.account, now=later)

    assert report.totals == amounts(
        balance="50.00", digital_change="8.00", points="460.00", points_value="92.00"
    )
    assert by_store(report) == {
        "Main store": (amounts("0.00", "3.00", "110.00", "22.00"), amounts()),
        "Loja Norte": (amounts("0.00", "5.00", "300.00", "60.00"), amounts(balance="10.00")),
        None: (amounts("50.00", "0.00", "50.00", "10.00"), amounts()),
    }
    assert by_month(report) == {
        "2025-04": amounts(points="120.00", points_value="24.00"),
        "2025-05": amounts(points="110.00", points_value="22.00"),
        "2025-06": amounts(points="200.00", points_value="40.00"),
        None: amounts("50.00", "8.00", "30.00", "6.00"),
    }
    assert by_window(report) == {
        30: amounts(points="120.00", points_value="24.00"),
        60: amounts(points="430.00", points_value="86.00"),
        90: amounts(points="430.00", points_value="86.00"),
    }

    # 20 Apr: Davi's deadline (17 Apr) has passed: his 120 points go, lots and staff credit alike.
    later = datetime(2025, 4, 20, 12, 0, tzinfo=UTC)
    time_machine.move_to(later, tick=False)
    rewards_process_due(now=later)
    report = liability_report(account=tenant.account, now=later)

    assert report.totals == amounts(
        balance="50.00", digital_change="8.00", points="340.00", points_value="68.00"
    )
    assert by_store(report)["Loja Norte"][0] == amounts("0.00", "5.00", "200.00", "40.00")
    assert by_store(report)[None][0] == amounts("50.00", "0.00", "30.00", "6.00")
    assert "2025-04" not in by_month(report)


def test_what_lies_outside_lots_belongs_to_the_newest_credits(tenant, norte):
    customer = CustomerFactory(account=tenant.account, name="Eva")
    sell(
        tenant.account,
        store=tenant.store,
        customer=customer,
        when=local(3, 1),
        amount="30",
        reference="E-1",
        digital_change="30",
    )
    sell(
        tenant.account,
        store=norte,
        customer=customer,
        when=local(3, 2),
        amount="20",
        reference="E-2",
        digital_change="20",
    )
    wallet_debit(
        customer=customer, kind="digital_change_debit", amounts={"digital_change": Decimal("15")}, store=norte
    )

    report = liability_report(account=tenant.account, now=NOW)

    # R$ 35 left: Norte's R$ 20, the newest credit, whole; R$ 15 of the main store's R$ 30.
    assert report.totals.digital_change == Decimal("35.00")
    assert {name: row.digital_change for name, (row, _) in by_store(report).items()} == {
        "Main store": Decimal("15.00"),
        "Loja Norte": Decimal("20.00"),
    }


def test_an_account_without_a_catalogue_values_points_at_nothing(other_tenant, other_program):
    report = liability_report(account=other_tenant.account, now=NOW)

    assert report.valuation.value_per_point is None
    assert report.totals == amounts(balance="7.00", points="70.00")
    assert by_store(report) == {None: (amounts(balance="7.00", points="70.00"), amounts())}
    assert by_month(report) == {None: amounts(balance="7.00", points="70.00")}


def test_an_empty_account_owes_nothing(tenant):
    report = liability_report(account=tenant.account, now=NOW)

    assert report.totals == amounts()
    assert report.debts == amounts()
    assert (report.by_store, report.by_expiry_month) == ((), ())
    assert [window.amounts for window in report.expiring] == [amounts()] * 3


def wallets(tenant, store, up_to: int) -> None:
    """Customers up to `up_to`, each with a staff credit, a lot and a redemption at `store`."""
    for index in range(Sale.objects.filter(account=tenant.account).count(), up_to):
        customer = CustomerFactory(account=tenant.account)
        wallet_credit(
            customer=customer, kind="adjustment", amounts={"balance": Decimal("1"), "points": Decimal("5")}
        )
        sell(
            tenant.account,
            store=store,
            customer=customer,
            when=local(3, 1),
            amount="10",
            reference=f"Q-{index}",
        )
        redeem(
            tenant.account,
            store=store,
            customer=customer,
            value="1.50",
            when=local(3, 2),
            reference=f"Q-{index}",
        )


@pytest.mark.parametrize("store_filter", [False, True])
def test_the_report_costs_the_same_queries_for_1_and_20_wallets(
    tenant, norte, django_assert_num_queries, store_filter
):
    rule_create(account=tenant.account, name="10%", kind="cashback", value=Decimal("10"), valid_days=30)
    RewardFactory(account=tenant.account)
    store_id = norte.pk if store_filter else None
    wallets(tenant, norte, 1)
    with django_assert_num_queries(4 if store_filter else 5):
        liability_report(account=tenant.account, now=NOW, store_id=store_id)

    wallets(tenant, tenant.store, 20)
    with django_assert_num_queries(4 if store_filter else 5):
        report = liability_report(account=tenant.account, now=NOW, store_id=store_id)
    if not store_filter:
        # Each: R$ 1 credited, R$ 1 cashback in a lot, R$ 1.50 spent (the lot first).
        assert report.totals.balance == Decimal("10.00")
        assert by_store(report)[None][0].balance == Decimal("10.00")


# --- the API ------------------------------------------------------------------------------


def test_the_api_answers_the_report_as_json(tenant, program):
    response = tenant.v2.get(URL)

    assert response.status_code == 200
    assert_documented(response, "GET", URL)
    body = response.json()
    assert body["account"] == tenant.account.pk
    assert body["store"] is None
    assert body["generated_at"] == "2025-03-10T15:00:00.000000Z"
    assert body["points_valuation"]["value_per_point"] == 0.2
    assert body["points_valuation"]["reward_name"] == "Vale R$ 20"
    assert body["totals"] == {
        "balance": 83,
        "digital_change": 8,
        "points": 460,
        "points_value": 92,
        "total_value": 183,
    }
    assert body["debts"]["balance"] == 10
    assert [
        (row["store_name"], row["amounts"]["total_value"], row["debts"]["total_value"])
        for row in body["by_store"]
    ] == [
        ("Loja Norte", 93, 10),
        ("Main store", 30, 0),
        (None, 60, 0),
    ]
    assert [(row["month"], row["amounts"]["total_value"]) for row in body["by_expiry_month"]] == [
        ("2025-03", 5),
        ("2025-04", 52),
        ("2025-05", 22),
        ("2025-06", 40),
        (None, 64),
    ]
    assert [(row["days"], row["amounts"]["total_value"]) for row in body["expiring"]] == [
        (30, 33),
        (60, 57),
        (90, 119),
    ]


def csv_rows(response) -> list[list[str]]:
    return list(
        csv.reader(
            io.StringIO(
                # The admin's download starts with a byte-order mark, for spreadsheets.
                b"".join(response.streaming_content).decode("utf-8-sig")
                if response.streaming
                else response.content.decode()
            )
        )
    )


def test_format_csv_answers_the_same_figures_as_a_csv_file(tenant, program, norte):
    response = tenant.v2.get(URL, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="liability-{tenant.account.pk}-2025-03-10.csv"'
    )
    rows = csv_rows(response)
    assert rows[0] == list(CSV_HEADER)
    assert rows[1] == ["totals", "", "Outstanding", "83.00", "8.00", "460.00", "92.00", "183.00"]
    assert rows[2] == ["debts", "", "Debts (negative wallets)", "10.00", "0.00", "0.00", "0.00", "10.00"]
    assert ["store", str(norte.pk), "Loja Norte", "28.00", "5.00", "300.00", "60.00", "93.00"] in rows
    assert ["store", "", "No store", "50.00", "0.00", "50.00", "10.00", "60.00"] in rows
    assert ["store_debts", str(norte.pk), "Loja Norte", "10.00", "0.00", "0.00", "0.00", "10.00"] in rows
    assert ["expiry_month", "2025-04", "2025-04", "28.00", "0.00", "120.00", "24.00", "52.00"] in rows
    assert ["expiry_month", "", "No expiry", "50.00", "8.00", "30.00", "6.00", "64.00"] in rows
    assert [
        "expiring",
        "30",
        "Within 30 days (by 2025-04-09)",
        "33.00",
        "0.00",
        "0.00",
        "0.00",
        "33.00",
    ] in rows
    assert [row[0] for row in rows].count("expiring") == 3
    assert tenant.v2.get(URL, HTTP_ACCEPT="text/csv")["Content-Type"] == "text/csv; charset=utf-8"


def test_the_store_filter(tenant, program, norte):
    body = tenant.v2.get(URL, {"store": norte.pk}).json()

    assert body["store"] == norte.pk
    assert body["totals"]["total_value"] == 93
    assert body["debts"]["balance"] == 10
    assert [row["store"] for row in body["by_store"]] == [norte.pk]
    rows = csv_rows(tenant.v2.get(URL, {"store": norte.pk, "format": "csv"}))
    assert rows[1][3:] == ["28.00", "5.00", "300.00", "60.00", "93.00"]


@pytest.mark.parametrize("query", [{"store": "abc"}, {"store": "0"}, {"store": "1.5"}, {"store": str(2**63)}])
def test_a_malformed_store_is_a_400_in_json_whatever_the_format(tenant, query):
    for extra in ({}, {"format": "csv"}):
        response = tenant.v2.get(URL, {**query, **extra})

        assert response.status_code == 400
        assert response["Content-Type"] == "application/json"
        assert "whole number" in response.json()["store"][0]
        assert_documented(response, "GET", URL)


def test_an_unknown_format_is_a_400(tenant):
    response = tenant.v2.get(URL, {"format": "xml"})

    assert response.status_code == 400
    assert response.json() == {"format": ["Use json or csv."]}
    assert_documented(response, "GET", URL)


@pytest.mark.parametrize("query", [{}, {"format": "csv"}])
def test_without_a_token_it_is_a_401_in_json(anonymous, query):
    response = anonymous.get(URL, query)

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert_documented(response, "GET", URL)


def test_each_account_sees_only_its_own_figures(tenant, other_tenant, program, other_program, norte):
    body = other_tenant.v2.get(URL).json()

    assert body["account"] == other_tenant.account.pk
    assert body["totals"] == {
        "balance": 7,
        "digital_change": 0,
        "points": 70,
        "points_value": 0,
        "total_value": 7,
    }
    assert body["debts"]["total_value"] == 0
    assert [row["store"] for row in body["by_store"]] == [None]
    # A's store answers like a store of B's without figures: nothing of A's shows.
    filtered = other_tenant.v2.get(URL, {"store": norte.pk}).json()
    assert filtered["totals"]["total_value"] == 0
    assert (filtered["by_store"], filtered["by_expiry_month"]) == ([], [])
    assert "Norte" not in str(filtered)
    rows = csv_rows(other_tenant.v2.get(URL, {"store": norte.pk, "format": "csv"}))
    assert [row[0] for row in rows] == ["section", "totals", "debts", "expiring", "expiring", "expiring"]
    assert "Norte" not in str(rows)


def test_the_api_costs_the_same_queries_for_1_and_20_wallets(tenant, norte, django_assert_num_queries):
    rule_create(account=tenant.account, name="10%", kind="cashback", value=Decimal("10"), valid_days=30)
    wallets(tenant, norte, 1)
    assert tenant.v2.get(URL).status_code == 200  # the bearer's credential is then in memory
    # The report's five statements.
    with django_assert_num_queries(5):
        assert tenant.v2.get(URL).status_code == 200
    wallets(tenant, tenant.store, 20)
    with django_assert_num_queries(5):
        assert tenant.v2.get(URL, {"format": "csv"}).status_code == 200


# --- the admin ----------------------------------------------------------------------------


def test_a_staff_user_sees_the_liability_of_their_account(client, staff_a, tenant, program, other_program):
    client.force_login(staff_a)

    response = client.get(reverse("admin:liability"))

    assert response.status_code == 200
    report = response.context["report"]
    assert report.account_id == tenant.account.pk
    assert report.totals.total_value == Decimal("183.00")
    html = response.content.decode()
    assert "Download CSV" in html
    assert "R$ 183.00" in html  # the outstanding total
    assert "R$ 93.00" in html  # Loja Norte
    assert "No store" in html
    assert "2025-06" in html
    assert "No expiry" in html
    assert "Beto" not in html


def test_the_admin_filters_one_store_and_downloads_csv(client, staff_a, tenant, program, norte):
    client.force_login(staff_a)

    page = client.get(reverse("admin:liability"), {"store": norte.pk})
    assert page.context["report"].totals.total_value == Decimal("93.00")
    download = client.get(reverse("admin:liability"), {"store": norte.pk, "format": "csv"})

    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"].startswith('attachment; filename="liability-')
    rows = csv_rows(download)
    assert rows[0] == list(CSV_HEADER)
    assert rows[1] == ["totals", "", "Outstanding", "28.00", "5.00", "300.00", "60.00", "93.00"]


def test_staff_of_b_never_sees_a(client, staff_b, tenant, program, other_program, norte):
    client.force_login(staff_b)

    response = client.get(reverse("admin:liability"), {"account": tenant.account.pk, "store": norte.pk})

    assert response.status_code == 200
    report = response.context["report"]
    assert report.account_id != tenant.account.pk
    assert report.totals.total_value == Decimal("7.00")
    assert "Norte" not in response.content.decode()


def test_a_superuser_chooses_the_account(client, superuser, tenant, other_tenant, program, other_program):
    client.force_login(superuser)

    first = client.get(reverse("admin:liability"))
    chosen = client.get(reverse("admin:liability"), {"account": other_tenant.account.pk})

    assert first.status_code == chosen.status_code == 200
    assert first.context["report"].account_id == tenant.account.pk  # "Mercado Alfa" sorts first
    assert chosen.context["report"].totals.total_value == Decimal("7.00")
    assert f'value="{other_tenant.account.pk}" selected' in chosen.content.decode()


def test_a_staff_user_without_wallet_access_gets_no_liability(client, make_staff, tenant, program):
    user = make_staff(tenant.account, username="cashier")
    user.user_permissions.remove(*user.user_permissions.filter(codename="view_wallet"))
    client.force_login(user)

    assert client.get(reverse("admin:liability")).status_code == 403
    assert client.get(reverse("admin:index")).context["liability"] is None


def test_the_dashboard_shows_the_liability_tile(client, staff_a, program):
    client.force_login(staff_a)

    response = client.get(reverse("admin:index"))

    assert response.status_code == 200
    assert response.context["liability"].totals.total_value == Decimal("183.00")
    html = response.content.decode()
    assert 'id="figure-liability">R$ 183.00<' in html
    assert 'id="figure-liability-expiring">R$ 33.00 ' in html
    assert reverse("admin:liability") in html
