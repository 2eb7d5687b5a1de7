"""The customers list is served by indexes at scale: its statements, planned by PostgreSQL
over a table of several accounts (one of them 20,000 customers), read no table whole and sort
no more than a filter's few matches, whichever filter is asked."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from tests.builders import V2
from tests.factories import MerchantFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="plans are PostgreSQL's planner's: needs PostgreSQL (set DATABASE_URL)",
    ),
]

CUSTOMERS_PER_ACCOUNT = 20_000
LIST_TABLES = ("customers_customer", "customers_wallet", "customers_customerconsent")
#: Most rows a plan may sort: those an index found for a filter, never the account's.
MOST_ROWS_SORTED = 100
CPF = "53933515009"

SEED_SQL = [
    # Customers created a minute apart, each with a document, a phone and an e-mail, and
    # consent on one channel for one in ten: an account of the benchmark's shape.
    """INSERT INTO customers_customer (account_id, name, document, phone, email, password, gender, extra,
         created_at, updated_at)
       SELECT %(account)s, 'Cliente ' || lpad(n::text, 6, '0'), lpad(n::text, 11, '0'),
         '+55119' || lpad(n::text, 8, '0'), 'cliente' || n || '@example.com', '', '', '{}',
         now() - n * interval '1 minute', now()
       FROM generate_series(1, %(customers)s) n""",
    """INSERT INTO customers_wallet (account_id, customer_id, points, balance, digital_change, pending_points,
         pending_balance, total_shoppings, count_shoppings, total_discounts, lot_points, lot_balance, updated_at)
       SELECT account_id, id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, now()
       FROM customers_customer WHERE account_id = %(account)s""",
    """INSERT INTO customers_customerconsent (account_id, customer_id, channel, granted, changed_at, source)
       SELECT account_id, id, 'email', true, now(), 'api'
       FROM customers_customer WHERE account_id = %(account)s AND id %% 10 = 0""",
]


def seed(account_id: int) -> None:
    with connection.cursor() as cursor:
        for statement in SEED_SQL:
            cursor.execute(statement, {"account": account_id, "customers": CUSTOMERS_PER_ACCOUNT})


def plan_of(sql: str) -> dict:
    # Run, not only planned: what a sort really received, whatever the planner expected.
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        (plan,) = cursor.fetchone()
    return plan[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def problems_of(plan: dict) -> list[str]:
    found = []
    for node in nodes(plan):
        kind = node["Node Type"]
        if kind == "Seq Scan" and node["Relation Name"] in LIST_TABLES:
            found.append(f"reads {node['Relation Name']} whole")
        if kind in ("Sort", "Incremental Sort"):
            sorted_rows = node["Plans"][0]["Actual Rows"]
            if sorted_rows > MOST_ROWS_SORTED:
                found.append(f"sorts {sorted_rows} rows")
    return found


def found_through_an_account_index(plan: dict) -> bool:
    return any(
        "Index" in node["Node Type"] and "account_id" in node.get("Index Cond", "") for node in nodes(plan)
    )


@pytest.fixture
def big_accounts(tenant, other_tenant):
    """The tenant's account and two others of 20,000 customers each, the statistics fresh."""
    third = MerchantFactory(name="Mercado Gama")
    for account in (tenant.account, other_tenant.account, third.account):
        seed(account.pk)
    # A valid CPF to filter by (the seeded documents are only unique).
    Customer.objects.filter(account=tenant.account, name="Cliente 012345").update(document=CPF)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer, customers_wallet, customers_customerconsent")
    return tenant


def list_filters() -> list[dict[str, str]]:
    return [
        {},
        {"page": "3"},
        {"cpf": CPF},
        {"phone": "+5511900012345"},
        {"email": "cliente12345@example.com"},
        # A name most customers bear, and one only ten of each account's do.
        {"search": "cliente"},
        {"search": "Cliente 01234"},
        {"created_after": "2000-01-01"},
        # Half an hour: the newest 30 of each account's.
        {"created_after": (timezone.now() - timedelta(minutes=30)).isoformat()},
    ]


def test_every_statement_of_the_list_is_served_by_an_index(big_accounts):
    tenant = big_accounts
    problems = {}
    for filters in list_filters():
        with CaptureQueriesContext(connection) as ran:
            response = tenant.v2.get(f"{V2}/customers", filters)
        assert response.status_code == 200, (filters, response.content)
        assert response.json()["results"], f"{filters} found no one: its plan would prove little"
        statements = [
            query["sql"]
            for query in ran.captured_queries
            if query["sql"].startswith("SELECT")
            and any(f'"{table}"' in query["sql"] for table in LIST_TABLES)
        ]
        # The count, the page, its wallets and its consent.
        assert len(statements) == 4, (filters, statements)
        for sql in statements:
            plan = plan_of(sql)
            found = problems_of(plan)
            if '"customers_customer"' in sql.split(" WHERE ")[0] and not found_through_an_account_index(plan):
                found.append("finds the customers through no index of the account")
            if found:
                problems[f"{filters}: {sql}"] = (found, plan)

    assert not problems, problems
