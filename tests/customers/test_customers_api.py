"""The v2 customers API: create, find, update, wallet, ledger, export and anonymise."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer, LedgerEntry
from customers.services import wallet_credit
from loyalty.api import pagination
from loyalty.api.pagination import PageNumberPagination
from tests.builders import V2
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MARIA = {
    "name": "Maria Souza",
    "cpf": "539.335.150-09",
    "phone": "(11) 98765-4321",
    "email": "Maria@Example.com",
    "password": "s3cret-pass",
    "birth_date": "1990-04-12",
    "gender": "female",
    "extra": {"loyalty_card": "0001234"},
}


def create(tenant, **overrides):
    return tenant.v2.post(f"{V2}/customers", {**MARIA, **overrides}, format="json")


def test_create_normalises_and_answers_the_customer_with_a_wallet(tenant):
    response = create(tenant)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["cpf"] == "53933515009"
    assert body["phone"] == "+5511987654321"
    assert body["email"] == "maria@example.com"
    assert body["birth_date"] == "1990-04-12"
    assert body["extra"] == {"loyalty_card": "0001234"}
    assert "password" not in body
    assert body["wallet"] == {
        "points": 0.0,
        "balance": 0.0,
        "digital_change": 0.0,
        "pending_points": 0.0,
        "pending_balance": 0.0,
        "total_shoppings": 0.0,
        "count_shoppings": 0,
        "total_discounts": 0.0,
    }
    assert body["created_at"].endswith("Z")
    customer = Customer.objects.get(pk=body["id"])
    assert customer.account == tenant.account
    assert check_password("s3cret-pass", customer.password)


def test_create_needs_a_name_and_one_contact(tenant):
    response = tenant.v2.post(f"{V2}/customers", {"name": "  "}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()

    response = tenant.v2.post(f"{V2}/customers", {"name": "Sem Contato"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": ["Send at least one of cpf, phone or email."]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cpf", "539.335.150-00", "Invalid CPF/CNPJ: check digits do not match."),
        ("phone", "12345", "Invalid phone number"),
        ("email", "maria@", "Invalid e-mail address."),
        ("birth_date", "1990-02-30", "Invalid date"),
        ("gender", "robot", "is not a valid choice"),
        ("extra", [1, 2], "Must be a JSON object."),
    ],
)
def test_invalid_fields_are_400_saying_what_is_wrong(tenant, field, value, message):
    response = create(tenant, **{field: value})

    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("cpf", "53933515009"), ("phone", "+55 11 98765 4321"), ("email", "MARIA@example.com")],
)
def test_duplicates_are_400_naming_the_existing_customer(tenant, field, value):
    first = create(tenant).json()
    other = {"cpf": None, "phone": None, "email": "other@example.com", field: value}
    if field == "email":
        other["cpf"] = "11144477735"

    response = create(tenant, **other)

    assert response.status_code == 400
    assert response.json() == {
        field: [
            f"A customer with this {'CPF/CNPJ' if field == 'cpf' else 'phone' if field == 'phone' else 'e-mail'} already exists (id {first['id']})."
        ]
    }


def test_the_same_cpf_in_another_account_is_another_customer(tenant, other_tenant):
    assert create(tenant).status_code == 201
    assert create(other_tenant).status_code == 201


def test_get_and_patch(tenant):
    customer_id = create(tenant).json()["id"]

    response = tenant.v2.patch(
        f"{V2}/customers/{customer_id}", {"name": "Maria S. Lima", "phone": ""}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Maria S. Lima"
    assert response.json()["phone"] is None
    assert response.json()["cpf"] == "53933515009"
    assert tenant.v2.get(f"{V2}/customers/{customer_id}").json()["name"] == "Maria S. Lima"


def test_patch_cannot_remove_every_contact(tenant):
    customer_id = create(tenant, phone=None, email=None).json()["id"]

    response = tenant.v2.patch(f"{V2}/customers/{customer_id}", {"cpf": None}, format="json")

    assert response.status_code == 400


def test_patch_duplicate_names_the_other_customer(tenant):
    first = create(tenant).json()
    second = create(tenant, cpf="11144477735", phone=None, email="joao@example.com").json()

    response = tenant.v2.patch(
        f"{V2}/customers/{second['id']}", {"email": "maria@example.com"}, format="json"
    )

    assert response.status_code == 400
    assert f"(id {first['id']})" in response.json()["email"][0]


def test_put_and_delete_are_not_offered(tenant):
    customer_id = create(tenant).json()["id"]

    assert tenant.v2.put(f"{V2}/customers/{customer_id}", MARIA, format="json").status_code == 405
    assert tenant.v2.delete(f"{V2}/customers/{customer_id}").status_code == 405


def test_the_wallet_never_moves_through_the_customer_api(tenant):
    body = create(tenant, wallet={"points": 1000, "balance": 500}, points=1000, balance=500).json()

    assert body["wallet"]["points"] == 0
    tenant.v2.patch(
        f"{V2}/customers/{body['id']}",
        {"wallet": {"balance": 99}, "balance": 99, "account": 999},
        format="json",
    )
    wallet = Customer.objects.get(pk=body["id"]).wallet
    assert (wallet.points, wallet.balance) == (0, 0)
    assert not LedgerEntry.objects.exists()
    assert Customer.objects.get(pk=body["id"]).account == tenant.account


@pytest.mark.parametrize("path", ["", "/wallet", "/transactions", "/export"])
def test_unknown_or_foreign_customer_is_404(tenant, other_tenant, path):
    foreign = create(other_tenant).json()["id"]

    assert tenant.v2.get(f"{V2}/customers/{foreign}{path}").status_code == 404
    assert tenant.v2.get(f"{V2}/customers/999999{path}").status_code == 404


def test_foreign_customer_cannot_be_patched_or_anonymised(tenant, other_tenant):
    foreign = create(other_tenant).json()["id"]

    assert tenant.v2.patch(f"{V2}/customers/{foreign}", {"name": "X"}, format="json").status_code == 404
    assert tenant.v2.post(f"{V2}/customers/{foreign}/anonymize").status_code == 404
    assert Customer.objects.get(pk=foreign).name == "Maria Souza"


# --- lists, filters, lookup ---------------------------------------------------------


@pytest.fixture
def three_customers(tenant):
    return [
        create(tenant).json(),
        create(
            tenant, name="João Lima", cpf="111.444.777-35", phone="21 99876 5432", email="joao@example.com"
        ).json(),
        create(tenant, name="Ana Costa", cpf=None, phone=None, email="ana@example.com").json(),
    ]


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_list_is_paginated_newest_first(tenant, three_customers, other_tenant):
    create(other_tenant)

    response = tenant.v2.get(f"{V2}/customers", {"page_size": 2})

    body = response.json()
    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [three_customers[2]["id"], three_customers[1]["id"]]
    assert body["next"].endswith("page=2&page_size=2")
    assert body["previous"] is None


@pytest.mark.parametrize("phone", ["(11) 98765-4321", "11987654321", "+55 11 98765 4321"])
def test_filter_by_phone_written_three_ways(tenant, three_customers, phone):
    assert ids(tenant.v2.get(f"{V2}/customers", {"phone": phone})) == [three_customers[0]["id"]]


@pytest.mark.parametrize("cpf", ["539.335.150-09", "53933515009"])
def test_filter_by_cpf_formatted_or_not(tenant, three_customers, cpf):
    assert ids(tenant.v2.get(f"{V2}/customers", {"cpf": cpf})) == [three_customers[0]["id"]]


def test_filter_by_email_and_name(tenant, three_customers):
    assert ids(tenant.v2.get(f"{V2}/customers", {"email": "JOAO@example.com"})) == [three_customers[1]["id"]]
    assert ids(tenant.v2.get(f"{V2}/customers", {"search": "cost"})) == [three_customers[2]["id"]]


def test_filter_created_after_reads_local_time(tenant, three_customers):
    Customer.objects.filter(pk=three_customers[0]["id"]).update(created_at="2024-05-20T12:00:00Z")

    # 09:30 in São Paulo is 12:30 UTC: after the first customer's creation.
    newer = ids(tenant.v2.get(f"{V2}/customers", {"created_after": "2024-05-20 09:30"}))
    older = ids(tenant.v2.get(f"{V2}/customers", {"created_after": "2024-05-20 08:30"}))

    assert three_customers[0]["id"] not in newer
    assert three_customers[0]["id"] in older


@pytest.mark.parametrize(
    ("params", "field"),
    [({"cpf": "123"}, "cpf"), ({"phone": "x"}, "phone"), ({"created_after": "2024-13-01"}, "created_after")],
)
def test_invalid_filters_are_400(tenant, params, field):
    response = tenant.v2.get(f"{V2}/customers", params)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("size", ["0", "501", "abc"])
def test_page_size_over_the_cap_is_400(tenant, size):
    response = tenant.v2.get(f"{V2}/customers", {"page_size": size})

    assert response.status_code == 400
    assert "from 1 to 500" in response.json()["page_size"][0]


# --- counting and paging a long list ----------------------------------------------------

ON_POSTGRESQL = connection.vendor == "postgresql"
CAP = 5


@pytest.fixture
def cap(monkeypatch):
    """Lists count exactly only up to `CAP` rows."""
    monkeypatch.setattr(PageNumberPagination, "count_exact_up_to", CAP)


def newest_first(tenant, count: int) -> list[int]:
    """`count` customers of the tenant, created through the service; their ids, newest first."""
    return [CustomerFactory(account=tenant.account).pk for _ in range(count)][::-1]


def bulk_customers(tenant, count: int) -> None:
    """`count` customers in one statement (without wallets, which no list test reads)."""
    Customer.objects.bulk_create(
        Customer(account=tenant.account, name=f"Cliente {n}", email=f"cliente{n}@example.com")
        for n in range(count)
    )


def listed(tenant, params) -> tuple[dict, list[str]]:
    with CaptureQueriesContext(connection) as ran:
        response = tenant.v2.get(f"{V2}/customers", params)
    assert response.status_code == 200, response.content
    return response.json(), [query["sql"] for query in ran.captured_queries]


def counts_in(statements: list[str]) -> list[str]:
    return [sql for sql in statements if "COUNT(" in sql]


def test_a_count_up_to_the_cap_is_exact_and_reads_no_row_past_it(tenant, cap):
    newest_first(tenant, CAP)

    body, statements = listed(tenant, {"page_size": 2})

    assert body["count"] == CAP
    [count] = counts_in(statements)
    assert f"LIMIT {CAP + 1}" in count
    assert not [sql for sql in statements if sql.startswith("EXPLAIN")]


@pytest.mark.skipif(ON_POSTGRESQL, reason="SQLite's count: PostgreSQL estimates above the cap")
def test_above_the_cap_sqlite_counts_exactly(tenant, cap):
    newest_first(tenant, CAP + 3)

    body, statements = listed(tenant, {"page_size": 2})

    assert body["count"] == CAP + 3
    # The capped count found more than the cap; the second counts them all.
    assert len(counts_in(statements)) == 2


@pytest.mark.skipif(not ON_POSTGRESQL, reason="an estimate needs PostgreSQL's planner (set DATABASE_URL)")
def test_above_the_cap_postgresql_answers_the_planners_estimate(tenant, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "count_exact_up_to", 100)
    bulk_customers(tenant, 2_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    # Deleted after the statistics were taken: the planner still expects 2,000.
    oldest = (
        Customer.objects.filter(account=tenant.account).order_by("id").values_list("id", flat=True)[:1_000]
    )
    Customer.objects.filter(pk__in=list(oldest)).delete()

    body, statements = listed(tenant, {"page_size": 50})

    assert 1_600 <= body["count"] <= 2_400
    assert all("LIMIT 101" in sql for sql in counts_in(statements)), statements
    assert [sql for sql in statements if sql.startswith("EXPLAIN")]
    # The last page knows where the list ends, and says so.
    last, _ = listed(tenant, {"page_size": 50, "page": "last"})
    assert last["count"] == 1_000
    assert last["next"] is None
    assert len(last["results"]) == 50


@pytest.mark.skipif(not ON_POSTGRESQL, reason="an estimate needs PostgreSQL's planner (set DATABASE_URL)")
def test_each_account_gets_its_own_estimate_once_the_statement_is_prepared(tenant, other_tenant, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "count_exact_up_to", 100)
    bulk_customers(tenant, 3_000)
    bulk_customers(other_tenant, 300)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")

    # psycopg prepares a statement from its third run on a connection (settings); a plan
    # made once for any account would give both the same figure.
    answered = {
        (
            tenant.v2.get(f"{V2}/customers").json()["count"],
            other_tenant.v2.get(f"{V2}/customers").json()["count"],
        )
        for _ in range(8)
    }

    [(big, small)] = answered
    assert 2_700 <= big <= 3_300
    assert 270 <= small <= 330


@pytest.mark.skipif(not ON_POSTGRESQL, reason="an estimate needs PostgreSQL's planner (set DATABASE_URL)")
def test_an_estimate_is_never_below_what_the_capped_count_saw(tenant, cap, monkeypatch):
    monkeypatch.setattr(pagination, "planner_row_estimate", lambda queryset: 1)
    newest_first(tenant, CAP + 10)

    body, _ = listed(tenant, {"page_size": 2})

    assert body["count"] == CAP + 1
    assert body["next"]


# Too low an estimate must not end the walk early, nor too high a one lead past its end.
@pytest.mark.parametrize("estimate", [None, 1, 1_000], ids=["planner", "too-low", "too-high"])
def test_next_and_previous_walk_every_customer_once_whatever_the_count(tenant, cap, monkeypatch, estimate):
    if estimate is not None:
        monkeypatch.setattr(pagination, "planner_row_estimate", lambda queryset: estimate)
    ids = newest_first(tenant, 9)

    pages = [tenant.v2.get(f"{V2}/customers", {"page_size": 4}).json()]
    while pages[-1]["next"]:
        pages.append(tenant.v2.get(pages[-1]["next"]).json())

    assert [row["id"] for page in pages for row in page["results"]] == ids
    assert pages[0]["count"] >= CAP + 1
    assert pages[-1]["count"] == 9
    assert [page["previous"] for page in pages] == [
        None,
        "http://testserver/api/v2/customers?page_size=4",
        "http://testserver/api/v2/customers?page=2&page_size=4",
    ]
    past_the_end = tenant.v2.get(f"{V2}/customers", {"page": 4, "page_size": 4})
    assert past_the_end.status_code == 404
    assert past_the_end.json()["detail"] == "No page 4: it is past the last page."
    last = tenant.v2.get(f"{V2}/customers", {"page": "last", "page_size": 4}).json()
    assert [row["id"] for row in last["results"]] == ids[8:]
    assert (last["count"], last["next"]) == (9, None)
    assert last["previous"].endswith("page=2&page_size=4")


@pytest.mark.parametrize("page", ["9" * 30, "9" * 5_000])
def test_a_page_number_past_any_list_is_404(tenant, cap, page):
    newest_first(tenant, CAP + 1)

    response = tenant.v2.get(f"{V2}/customers", {"page": page})

    assert response.status_code == 404
    assert response.json()["detail"].endswith("it is past the last page.")


def test_above_the_cap_a_page_of_5_costs_what_a_page_of_100_does(tenant, cap):
    bulk_customers(tenant, 120)
    listed(tenant, {"page_size": 1})  # the credential, read once and kept

    small, small_statements = listed(tenant, {"page_size": 5})
    large, large_statements = listed(tenant, {"page_size": 100})

    assert (len(small["results"]), len(large["results"])) == (5, 100)
    assert len(small_statements) == len(large_statements)


@pytest.mark.parametrize(
    "params", [{"cpf": "539.335.150-09"}, {"phone": "11 98765-4321"}, {"email": "MARIA@EXAMPLE.COM"}]
)
def test_lookup_finds_by_any_identifier(tenant, three_customers, params):
    response = tenant.v2.get(f"{V2}/customers/lookup", params)

    assert response.status_code == 200
    assert response.json()["id"] == three_customers[0]["id"]


def test_lookup_errors(tenant, three_customers, other_tenant):
    create(other_tenant, cpf="52998224725", phone=None, email=None)

    assert tenant.v2.get(f"{V2}/customers/lookup").status_code == 400
    assert (
        tenant.v2.get(f"{V2}/customers/lookup", {"cpf": "53933515009", "email": "a@b.c"}).status_code == 400
    )
    assert tenant.v2.get(f"{V2}/customers/lookup", {"cpf": "123"}).json()["cpf"]
    assert tenant.v2.get(f"{V2}/customers/lookup", {"cpf": "529.982.247-25"}).status_code == 404


# --- wallet, ledger, LGPD -----------------------------------------------------------


def test_wallet_and_transactions_newest_first_with_a_cursor(tenant):
    customer = create(tenant).json()
    for amount in ("1.00", "2.00", "3.00"):
        wallet_credit(
            customer=Customer.objects.get(pk=customer["id"]),
            kind="cashback",
            amounts={"balance": Decimal(amount)},
        )

    wallet = tenant.v2.get(f"{V2}/customers/{customer['id']}/wallet").json()
    first = tenant.v2.get(f"{V2}/customers/{customer['id']}/transactions", {"page_size": 2}).json()
    second = tenant.v2.get(first["next"]).json()

    assert wallet["balance"] == 6.0
    assert [row["balance"] for row in first["results"]] == [3.0, 2.0]
    assert [row["balance"] for row in second["results"]] == [1.0]
    assert second["next"] is None
    assert first["results"][0]["kind"] == "cashback"


def test_export_holds_the_person_and_the_ledger_but_not_the_password(tenant):
    customer = create(tenant).json()
    wallet_credit(
        customer=Customer.objects.get(pk=customer["id"]), kind="points", amounts={"points": Decimal("10.00")}
    )

    export = tenant.v2.get(f"{V2}/customers/{customer['id']}/export").json()

    assert export["customer"]["cpf"] == "53933515009"
    assert export["customer"]["has_password"] is True
    assert "s3cret" not in str(export)
    assert export["wallet"]["points"] == 10.0
    assert export["ledger"][0]["points"] == 10.0


def test_anonymise_erases_the_person_and_keeps_the_ledger(tenant):
    customer = create(tenant).json()
    wallet_credit(
        customer=Customer.objects.get(pk=customer["id"]),
        kind="cashback",
        amounts={"balance": Decimal("5.00")},
    )

    response = tenant.v2.post(f"{V2}/customers/{customer['id']}/anonymize")

    assert response.status_code == 200
    body = response.json()
    assert (body["cpf"], body["phone"], body["email"], body["birth_date"], body["extra"]) == (
        None,
        None,
        None,
        None,
        {},
    )
    assert body["name"] == "Anonymised customer"
    assert body["wallet"]["balance"] == 5.0
    stored = Customer.objects.get(pk=customer["id"])
    assert stored.password == ""
    assert stored.anonymized_at is not None
    assert LedgerEntry.objects.filter(wallet__customer=stored).count() == 1
    assert tenant.v2.get(f"{V2}/customers", {"cpf": "53933515009"}).json()["count"] == 0
    # The person may come back as a new customer.
    assert create(tenant).status_code == 201
    # Anonymising again is harmless; editing is refused.
    assert tenant.v2.post(f"{V2}/customers/{customer['id']}/anonymize").status_code == 200
    refused = tenant.v2.patch(f"{V2}/customers/{customer['id']}", {"name": "Back"}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "anonymized"


@pytest.mark.parametrize(
    ("path", "param", "value"),
    [
        ("customers", "created_after", "9999-12-31 23:59"),
        ("sales", "date_after", "0001-01-01T00:00:00+14:00"),
        ("sales", "date_before", "9999-12-31T23:59:00-03:00"),
    ],
)
def test_a_date_filter_at_the_edge_of_the_calendar_is_a_400_naming_it(tenant, path, param, value):
    response = tenant.v2.get(f"{V2}/{path}", {param: value})

    assert response.status_code == 400, response.content
    assert param in json.dumps(response.json())
