"""CSV downloads of the customers and ledger lists: what the list shows, streamed.

The export is the list as the staff user sees it (filters, search, account scope), in the
account's local time, and it streams: 100,000 ledger rows download in the memory that
10,000 take.
"""

import csv
import io
import os
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import LedgerEntry
from customers.services import wallet_credit
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def download(client, name, **params):
    response = client.get(reverse(f"admin:{name}_export"), params)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.fixture
def customers(merchant, other_merchant):
    maria = CustomerFactory(account=merchant.account, name="Maria Souza", document="53933515009")
    wallet_credit(customer=maria, kind="cashback", amounts={"balance": Decimal("20.50")})
    CustomerFactory(account=merchant.account, name="João Lima", document="11144477735")
    CustomerFactory(account=other_merchant.account, name="Outra Conta", document="52998224725")
    return maria


def test_the_customers_list_links_to_its_export_with_the_same_search(client, staff_a, customers):
    client.force_login(staff_a)

    page = client.get(reverse("admin:customers_customer_changelist"), {"q": "maria"}).content.decode()

    assert reverse("admin:customers_customer_export") + "?q=maria" in page


def test_customers_export_is_the_scoped_searched_list(client, staff_a, customers):
    client.force_login(staff_a)

    everyone = download(client, "customers_customer")
    searched = download(client, "customers_customer", q="maria")

    assert sorted(row[1] for row in everyone[1:]) == ["João Lima", "Maria Souza"]  # not the other account's
    header, row = searched
    assert header[:3] == ["id", "name", "CPF/CNPJ"]
    assert row[1:3] == ["Maria Souza", "539.335.150-09"]
    assert row[header.index("cashback balance")] == "20.50"


@pytest.mark.language("pt-br")
def test_headers_follow_the_language_and_cells_stay_machine_readable(client, staff_a, customers):
    client.force_login(staff_a)

    header, row = download(client, "customers_customer", q="maria")

    assert header[:3] == ["id", "nome", "CPF/CNPJ"]
    assert row[header.index("saldo de cashback")] == "20.50"


def test_ledger_export_reads_the_receipt_and_local_time(client, staff_a, customers):
    client.force_login(staff_a)
    entry = LedgerEntry.objects.get(wallet__customer=customers)

    header, row = download(client, "customers_ledgerentry")

    assert row[header.index("cashback")] == "20.50"
    local = entry.created_at.astimezone(customers.account.tzinfo).strftime("%Y-%m-%d %H:%M:%S")
    assert row[header.index("when")] == local


def test_a_name_that_looks_like_a_formula_is_disarmed(client, staff_a, merchant):
    CustomerFactory(account=merchant.account, name="=HYPERLINK(1)", document="52998224725")
    client.force_login(staff_a)

    _, row = download(client, "customers_customer")

    assert row[1] == "'=HYPERLINK(1)"


def test_staff_without_the_list_cannot_export(client, make_staff, merchant, customers):
    from django.contrib.auth import get_user_model

    stranger = get_user_model().objects.create_user(username="x", password="pw", is_staff=True)
    client.force_login(stranger)

    assert client.get(reverse("admin:customers_customer_export")).status_code == 403


def _resident_kib() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def _ledger_rows(customer, count: int) -> None:
    # Volume for a memory test: inserted in bulk, not through the wallet services.
    wallet = customer.wallet
    LedgerEntry.objects.bulk_create(
        (
            LedgerEntry(
                account=customer.account,
                wallet=wallet,
                kind=LedgerEntry.Kind.ADJUSTMENT,
                balance=Decimal("1.00"),
                reason=f"bulk {index}",
            )
            for index in range(count)
        ),
        batch_size=5000,
    )


@pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="reads the resident memory from /proc (Linux)"
)
def test_a_100000_row_export_streams_in_constant_memory(client, staff_a, merchant):
    customer = CustomerFactory(account=merchant.account, name="Volume", document="53933515009")
    _ledger_rows(customer, 100_000)
    client.force_login(staff_a)
    before = _resident_kib()

    response = client.get(reverse("admin:customers_ledgerentry_export"))
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)

    # The process' resident memory grows by one chunk of rows at most: the file built whole, or
    # the rows read at once, would take well over 100 MiB (100,000 rows of 15 cells).
    assert lines == 100_001
    assert _resident_kib() - before < 16 * 1024


def test_an_unknown_filter_goes_back_to_the_list_as_the_list_does(client, staff_a, customers):
    client.force_login(staff_a)

    response = client.get(reverse("admin:customers_customer_export"), {"no_such_field__exact": "1"})

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:customers_customer_changelist") + "?e=1"
