"""The timed jobs: expiry reminders, `process_rewards`, the job beside tills redeeming, and
how the jobs find their work at the benchmark's size (PostgreSQL)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from customers.models import LedgerEntry, Wallet
from customers.services import LotTerms, Posting, customer_create, wallet_credit, wallet_post
from loyalty.engine.lifecycle import rewards_expire_due, rewards_process_due
from loyalty.engine.models import ExpiryReminder
from loyalty.engine.program import rule_create
from loyalty.outbox.models import Message
from loyalty.outbox.services import message_template_create
from tests.builders import POS, V2, make_tenant
from tests.concurrency import run_concurrently
from tests.loyalty.test_expiry import local

CPF = "53933515009"


@pytest.fixture
def tenant(merchant, monkeypatch):
    monkeypatch.setattr(AccessToken, "lifetime", timedelta(days=3650))
    with time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC)):
        return make_tenant(merchant)


@pytest.fixture
def ana(tenant):
    customer = customer_create(account=tenant.account, name="Ana", document=CPF, email="ana@example.com")
    message_template_create(
        account=tenant.account,
        name="Vencendo",
        event="rewards_expiring",
        channel="email",
        body="{name}: {points} pontos e R$ {balance} vencem em {expiry_date}.",
    )
    return customer


def sell(tenant, at: str, amount, reference: str):
    with time_machine.travel(local(at), tick=False):
        response = tenant.v2.post(
            f"{V2}/sales",
            {"cpf": CPF, "sale_amount": amount, "reference": reference, "date": at},
            format="json",
        )
    assert response.status_code == 201, response.content


def process(at: str) -> str:
    out = StringIO()
    with time_machine.travel(local(at), tick=False):
        call_command("process_rewards", stdout=out)
    return out.getvalue()


def reminders(tenant):
    return list(
        Message.objects.filter(account=tenant.account, event="rewards_expiring")
        .order_by("id")
        .values_list("body", flat=True)
    )


@pytest.mark.django_db
def test_a_reminder_is_queued_once_expiry_reminder_days_before(tenant, ana):
    rule_create(account=tenant.account, name="10 %", kind="cashback", value=Decimal("10"), valid_days=30)
    rule_create(account=tenant.account, name="pts", kind="points", value=Decimal("1"), valid_days=30)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # spendable through 1 July

    assert "queued 0 expiry reminder(s)" in process("2026-06-23 23:59")
    assert reminders(tenant) == []

    assert "queued 1 expiry reminder(s)" in process("2026-06-24 00:00")
    process("2026-06-24 08:00")
    process("2026-06-30 08:00")

    assert reminders(tenant) == ["Ana: 100,00 pontos e R$ 10,00 vencem em 01/07/2026."]
    reminder = ExpiryReminder.objects.get(account=tenant.account)
    assert (reminder.expires_on.isoformat(), reminder.points, reminder.balance, reminder.messages) == (
        "2026-07-01",
        Decimal("100.00"),
        Decimal("10.00"),
        1,
    )


@pytest.mark.django_db
def test_each_expiry_date_gets_its_own_reminder(tenant, ana):
    rule_create(account=tenant.account, name="10 %", kind="cashback", value=Decimal("10"), valid_days=30)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # through 1 July
    sell(tenant, "2026-06-03 12:00", 50, "R2")  # through 3 July

    process("2026-06-26 08:00")

    assert reminders(tenant) == [
        "Ana: 0,00 pontos e R$ 10,00 vencem em 01/07/2026.",
        "Ana: 0,00 pontos e R$ 5,00 vencem em 03/07/2026.",
    ]


@pytest.mark.django_db
def test_inactivity_is_reminded_too(tenant, ana):
    tenant.account.expiry_inactivity_days = 30
    tenant.account.expiry_reminder_days = 3
    tenant.account.save(update_fields=["expiry_inactivity_days", "expiry_reminder_days"])
    rule_create(account=tenant.account, name="10 %", kind="cashback", value=Decimal("10"))
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # everything expires after 1 July

    process("2026-06-27 08:00")
    assert reminders(tenant) == []
    process("2026-06-28 08:00")

    assert reminders(tenant) == ["Ana: 0,00 pontos e R$ 10,00 vencem em 01/07/2026."]


@pytest.mark.django_db
def test_no_reminder_when_the_account_turns_them_off(tenant, ana):
    tenant.account.expiry_reminder_days = 0
    tenant.account.save(update_fields=["expiry_reminder_days"])
    rule_create(account=tenant.account, name="10 %", kind="cashback", value=Decimal("10"), valid_days=2)
    sell(tenant, "2026-06-01 12:00", 100, "R1")

    process("2026-06-03 08:00")

    assert reminders(tenant) == []
    assert ExpiryReminder.objects.count() == 0


@pytest.mark.django_db
def test_process_rewards_reports_what_it_did(tenant, ana):
    rule_create(
        account=tenant.account,
        name="10 %",
        kind="cashback",
        value=Decimal("10"),
        valid_days=1,
        pending_days=1,
    )
    sell(tenant, "2026-06-01 12:00", 100, "R1")

    assert process("2026-06-02 13:00") == (
        "Released 1 pending grant(s); expired rewards in 0 wallet(s); queued 1 expiry reminder(s).\n"
    )
    assert process("2026-06-04 00:00").startswith(
        "Released 0 pending grant(s); expired rewards in 1 wallet(s)"
    )
    assert LedgerEntry.objects.filter(account=tenant.account, kind="expiry").get().balance == Decimal(
        "-10.00"
    )


# --- PostgreSQL: the job beside the tills, and how it finds its work ------------------------


def _pos_client(tenant) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=tenant.merchant.store_token
    )
    return client


@pytest.mark.django_db(transaction=True)
def test_the_expiry_job_beside_ten_tills_redeeming_never_overdraws(postgres_only, tenant):
    customer = customer_create(account=tenant.account, name="Ana", document=CPF)
    past = timezone.now() - timedelta(days=1)
    wallet_post(
        customer=customer,
        postings=[Posting(kind="cashback", deltas={"balance": Decimal("50")}, lot=LotTerms(expires_at=past))],
    )
    wallet_credit(
        customer=customer, kind="adjustment", amounts={"balance": Decimal("60")}, reason="Unexpiring"
    )
    body = {"date": "2026-06-19 17:13", "value": 10, "digital_change": 0, "pdv": "5", "type": "NF"}

    def act(index: int):
        if index == 10:
            return rewards_expire_due()
        return _pos_client(tenant).post(
            f"{POS}/consumers/{CPF}/balance/redeem", {**body, "coupon": str(index)}, format="json"
        )

    results = run_concurrently(11, act)

    assert not [result for result in results if isinstance(result, BaseException)], results
    answers = [result.status_code for result in results[:10]]
    assert set(answers) <= {201, 422}
    redeemed = Decimal(10 * answers.count(201))
    expired = -sum(
        (entry.balance for entry in LedgerEntry.objects.filter(account=tenant.account, kind="expiry")),
        Decimal(0),
    )
    wallet = Wallet.objects.get(account=tenant.account, customer=customer)
    assert wallet.balance >= 0
    assert wallet.balance == Decimal("110") - redeemed - expired
    # Whatever the interleaving, the 50 past its end is never spent: the job or the first till
    # to lock the wallet expires it, and the tills share the 60 that never expires.
    assert redeemed == Decimal("60")
    assert expired == Decimal("50")
    call_command("check_wallets", stdout=StringIO())


BENCH_SIZE_SQL = [
    # 100,000 customers and wallets, 1,000,000 ledger rows, 200,000 lots of which 0.2 % still
    # hold something, 50,000 pending grants of which 0.1 % wait: the benchmark's shape.
    """INSERT INTO customers_customer (account_id, name, password, gender, extra, created_at, updated_at)
       SELECT %(account)s, 'c' || n, '', '', '{}', now(), now() FROM generate_series(1, 100000) n""",
    """INSERT INTO customers_wallet (account_id, customer_id, points, balance, digital_change, pending_points,
         pending_balance, total_shoppings, count_shoppings, total_discounts, lot_points, lot_balance,
         inactivity_expires_at, updated_at)
       SELECT account_id, id, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0,
         CASE WHEN id %% 500 = 0 THEN now() + (id %% 90 - 45) * interval '1 day' END, now()
       FROM customers_customer WHERE account_id = %(account)s""",
    """INSERT INTO customers_ledgerentry (account_id, wallet_id, kind, points, balance, digital_change,
         pending_points, pending_balance, total_shoppings, count_shoppings, total_discounts, reason, created_at)
       SELECT w.account_id, w.id, 'cashback', 0, 1, 0, 0, 0, 0, 0, 0, '', now()
       FROM customers_wallet w CROSS JOIN generate_series(1, 10) n WHERE w.account_id = %(account)s""",
    """INSERT INTO customers_expirylot (account_id, wallet_id, bucket, amount, remaining, expires_at, entry_id,
         created_at)
       SELECT account_id, wallet_id, 'balance', 1, CASE WHEN id %% 500 = 0 THEN 1 ELSE 0 END,
         now() + (id %% 400 - 200) * interval '1 day', id, now()
       FROM customers_ledgerentry WHERE account_id = %(account)s AND id %% 5 = 0""",
    """INSERT INTO loyalty_pendinggrant (account_id, wallet_id, entry_id, releases_at, settled_at)
       SELECT account_id, wallet_id, id, now() + (id %% 60 - 30) * interval '1 day',
         CASE WHEN id %% 1000 = 1 THEN NULL ELSE now() END
       FROM customers_ledgerentry WHERE account_id = %(account)s AND id %% 20 = 1""",
    "ANALYZE customers_customer, customers_wallet, customers_ledgerentry, customers_expirylot, loyalty_pendinggrant",
]


BIG_TABLES = ("customers_ledgerentry", "customers_expirylot", "loyalty_pendinggrant", "customers_wallet")


def _explain(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
def test_the_jobs_find_their_work_through_indexes_at_the_benchmarks_size(postgres_only, tenant):
    with connection.cursor() as cursor:
        for statement in BENCH_SIZE_SQL:
            cursor.execute(statement, {"account": tenant.account.pk})
    assert LedgerEntry.objects.count() >= 1_000_000
    tenant.account.expiry_inactivity_days = 30
    tenant.account.save(update_fields=["expiry_inactivity_days"])

    # Every statement the jobs really run, planned against the benchmark's shape.
    with CaptureQueriesContext(connection) as ran:
        done = rewards_process_due()
    statements = {
        query["sql"] for query in ran.captured_queries if query["sql"].startswith(("SELECT", "UPDATE"))
    }
    plans = {sql: _explain(sql) for sql in statements}

    # Each job had work to find.
    assert done.released > 0
    assert done.expired_wallets > 0
    assert done.reminders > 0
    for sql, plan in plans.items():
        for table in BIG_TABLES:
            assert f"Seq Scan on {table}" not in plan, (sql, plan)
    everything = "\n".join(plans.values())
    for index in ("pending_grant_due", "lot_account_due", "wallet_inactivity_due"):
        assert index in everything, index


@pytest.mark.django_db
def test_inactivity_and_later_lots_are_reminded_once_not_twice(tenant, ana):
    tenant.account.expiry_inactivity_days = 30
    tenant.account.save(update_fields=["expiry_inactivity_days"])
    rule_create(account=tenant.account, name="10 %", kind="cashback", value=Decimal("10"), valid_days=32)
    sell(tenant, "2026-06-01 12:00", 100, "R1")  # inactivity ends with 1 July; the lot with 3 July

    process("2026-06-27 08:00")

    # Everything goes on 1 July: the lot's own later end is no second reminder.
    assert reminders(tenant) == ["Ana: 0,00 pontos e R$ 10,00 vencem em 01/07/2026."]
