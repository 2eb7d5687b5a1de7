"""The SQL query budgets of `docs/performance.md`: each request's exact count, under a ceiling.

| request | ceiling | today |
| --- | --- | --- |
| POS `PUT /shops`, identified, 1 item and 50 items | the same count, at most 14 | `PURCHASE_QUERIES` |
| POS `POST /shops/discounts`, 1 item and 50 items | the same count, at most 5 | `QUOTE_QUERIES` |
| v2 `POST /sales` with 10 items | at most 14 | `V2_SALE_QUERIES` |
| POS balance redeem | at most 8 | `REDEEM_QUERIES` (`tests/vouchers/test_balance_redeem.py`) |
| POS `GET /consumers/document/{document}/wallet` | at most 2, auth included | `WALLET_QUERIES` |
| every list endpoint, a page of 5 and a page of 100 | the same count | `LIST_QUERIES` |
| POS `PUT /shops` with marketing templates | at most 14 | `PURCHASE_QUERIES` + `MARKETING_CONSENT_READ` |
| POS `PUT /shops` carrying a consumer's first consent | at most 20 | `PURCHASE_QUERIES` + `CONSENT_*_EXTRA` |

The "today" counts are exact (savepoints included, as a test's transaction makes them), so
that any change to them is seen and made on purpose. They are a warm process's: the account's
configuration (the credential and store behind the tokens, the rules, the message templates,
the webhook endpoints) is kept in memory (`loyalty.tenancy.cache`) once a request has read
it, so each test first sends the requests a till sends at the start of its day (`warm`). A
cold process reads it once more (`COLD_PURCHASE_EXTRA`).
"""

import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer, ExpiryLot
from customers.services import consent_set, customer_create, wallet_credit
from loyalty.engine.models import RewardRule
from loyalty.engine.program import rule_create
from loyalty.outbox.services import message_template_create
from loyalty.tenancy.cache import account_config_changed, forget_all
from tests.builders import POS, V2
from tests.factories import CustomerFactory, ProductFactory, PromotionFactory, RewardFactory
from tests.sales.builders import item, purchase
from vouchers.services import voucher_issue

pytestmark = pytest.mark.django_db

CPF = "53933515009"
OTHER_CPF = "39053344705"
PURCHASE_BUDGET = 14
QUOTE_BUDGET = 5
V2_SALE_BUDGET = 14
REDEEM_BUDGET = 8
# A consumer's first answers to consent, given at the till, write their rows (rare: once).
PURCHASE_WITH_CONSENT_CEILING = 20
WALLET_BUDGET = 2

# The consumer's wallet locked with the consumer and whether the purchase's keys are taken
# (one query); the sale (one insert that takes its keys unless another till did); the
# products; items; payments; the sale's own ledger row and wallet move; the grants' ledger rows
# and wallet move; the messages; and the request's savepoint (2). The credential and store,
# the rules, the message templates and the webhook endpoints (none: nothing is queued for
# them) come from the process's memory.
PURCHASE_QUERIES = 12
# What a process reads the first time, and after any change to the account's configuration:
# the credential with its store, the rules, the templates and the webhook endpoints.
COLD_PURCHASE_EXTRA = 4
# The wallet; the promotions of every barcode with the consumer's uses of each.
QUOTE_QUERIES = 2
# As a POS purchase, less the payments' insert: the v2 sale here sends none.
V2_SALE_QUERIES = 11
# The wallet locked with the consumer and whether the keys are taken; the redemption's insert;
# its ledger row and wallet move; the request's savepoint (2).
REDEEM_QUERIES = 6
# The wallet locked with whether the keys are taken (they are), the purchase by its identity
# with what it earned, its items, its payments, then the vouchers it issued (a replay) or the
# rollback of the refused request (a conflict), within the request's savepoint.
REPLAY_QUERIES = 7
CONFLICT_QUERIES = 7
# The wallet, with its customer (the credential and store from memory).
WALLET_QUERIES = 1
# Grants that expire add one statement: the lots, in one insert (the wallet's move carries
# their sum). A purchase of an account with expiry by inactivity moves its deadline in the
# same wallet update.
PURCHASE_WITH_LOTS_QUERIES = PURCHASE_QUERIES + 1
# Spending lots adds their read and one update; a wallet with lots reads what expires next.
LOTS_SPENT_EXTRA = 2
WALLET_WITH_LOTS_QUERIES = WALLET_QUERIES + 1
# A marketing template that could reach the customer reads their consent: one statement, for any
# number of templates; none when every template is transactional.
MARKETING_CONSENT_READ = 1
# Consent sent with a purchase: its state read (locked); first answers' rows inserted in a
# savepoint (3); the history rows. A changed answer updates its row instead; the same answer
# again is the read alone.
CONSENT_FIRST_EXTRA = 5
CONSENT_CHANGED_EXTRA = 3
CONSENT_SAME_EXTRA = 1
# The customers' page reads their wallets and their marketing consent, one query each.
LIST_QUERIES = {"customers": 4, "sales": 5, "coupons": 2, "vouchers": 2, "categories": 2, "products": 2}


def warm_callers(tenant) -> None:
    """A first request of each dialect: the credential and store behind the tokens are then
    in the process's memory."""
    assert tenant.pos.get(f"{POS}/consumers/document/{OTHER_CPF}/wallet").status_code in (200, 404)
    assert tenant.v2.get(f"{V2}/account").status_code == 200


_warm_ups = itertools.count(1)


def warm(tenant) -> None:
    """What a till sends first thing: a purchase of another consumer, after which the rules,
    templates and webhook endpoints are in memory too."""
    warm_callers(tenant)
    number = str(900 + next(_warm_ups))
    response = tenant.pos.put(
        f"{POS}/shops",
        purchase(consumer=OTHER_CPF, reference=f"warm-{number}", coupon=number, items=[item(barcode="1")]),
        format="json",
    )
    assert response.status_code == 201, response.content


def queries_of(send) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    assert response.status_code < 300, response.content
    return len(captured.captured_queries), response


@pytest.fixture
def busy_program(tenant):
    """Cashback, points and a message on every sale, to a customer with a phone."""
    rule_create(account=tenant.account, name="5% cashback", kind="cashback", value=Decimal("5"))
    rule_create(account=tenant.account, name="1 point per real", kind="points", value=Decimal("1"))
    message_template_create(
        account=tenant.account, name="R", event="sale_rewarded", channel="sms", body="Ganhou {cashback}"
    )
    customer_create(account=tenant.account, name="Maria", document=CPF, phone="11987654321")
    warm(tenant)


def test_identified_purchase_costs_the_same_for_1_and_50_items(tenant, busy_program):
    def send(count, reference):
        items = [item(barcode=str(index + 1)) for index in range(count)]
        return lambda: tenant.pos.put(
            f"{POS}/shops", purchase(reference=reference, coupon=reference, items=items), format="json"
        )

    one, _ = queries_of(send(1, "1"))
    fifty, _ = queries_of(send(50, "50"))

    assert one == fifty == PURCHASE_QUERIES <= PURCHASE_BUDGET


def test_a_cold_process_reads_the_accounts_configuration_once(tenant, busy_program):
    def send(reference):
        body = purchase(reference=reference, coupon=reference, items=[item(barcode="1")])
        return lambda: tenant.pos.put(f"{POS}/shops", body, format="json")

    forget_all()
    cold, _ = queries_of(send("1"))
    again, _ = queries_of(send("2"))
    rule_create(account=tenant.account, name="2 points per real", kind="points", value=Decimal("2"))
    changed, _ = queries_of(send("3"))

    assert cold == again + COLD_PURCHASE_EXTRA
    assert again == PURCHASE_QUERIES
    # Any change to the configuration makes the next request read all of it again.
    assert changed == cold


@pytest.mark.parametrize("setting", ["valid_days", "inactivity"])
def test_a_purchase_whose_grants_expire_costs_one_statement_more(tenant, busy_program, setting):
    if setting == "valid_days":
        RewardRule.objects.filter(account=tenant.account).update(valid_days=30)
        account_config_changed(tenant.account.pk)  # an update() sends no signal
    else:
        tenant.account.expiry_inactivity_days = 60
        tenant.account.save(update_fields=["expiry_inactivity_days"])
    warm(tenant)  # the changed configuration is read once

    today = timezone.localdate(
        timezone=tenant.account.tzinfo
    ).isoformat()  # what the grants open is not past its end

    def send(count, reference):
        items = [item(barcode=str(index + 1)) for index in range(count)]
        return lambda: tenant.pos.put(
            f"{POS}/shops",
            purchase(reference=reference, coupon=reference, items=items, date=today),
            format="json",
        )

    one, _ = queries_of(send(1, "1"))
    fifty, _ = queries_of(send(50, "50"))

    assert one == fifty == PURCHASE_WITH_LOTS_QUERIES <= PURCHASE_QUERIES + 2
    # Cashback and points, twice.
    assert ExpiryLot.objects.filter(account=tenant.account, wallet__customer__document=CPF).count() == 4


def test_a_redemption_spending_lots_costs_two_statements_more(tenant, busy_program):
    today = timezone.localdate(
        timezone=tenant.account.tzinfo
    ).isoformat()  # the lot is not past its end when spent
    redeem = {"date": today, "value": 1, "digital_change": 0, "pdv": "2", "type": "NF"}
    tenant.pos.put(f"{POS}/shops", purchase(date=today), format="json")
    plain, _ = queries_of(
        lambda: tenant.pos.post(
            f"{POS}/consumers/{CPF}/balance/redeem", {**redeem, "coupon": "1"}, format="json"
        )
    )
    RewardRule.objects.filter(account=tenant.account).update(valid_days=30)
    account_config_changed(tenant.account.pk)  # an update() sends no signal
    tenant.pos.put(f"{POS}/shops", purchase(coupon="16", reference="12", date=today), format="json")

    spending, _ = queries_of(
        lambda: tenant.pos.post(
            f"{POS}/consumers/{CPF}/balance/redeem", {**redeem, "coupon": "2"}, format="json"
        )
    )

    assert spending == plain + LOTS_SPENT_EXTRA
    assert ExpiryLot.objects.filter(account=tenant.account, bucket="balance").get().remaining == Decimal(
        "0.20"
    )


def test_a_replay_and_a_conflict_cost_the_same_for_1_and_50_items(tenant, busy_program):
    def send(count, reference, quantity=2):
        items = [item(barcode=str(index + 1), quantity=quantity) for index in range(count)]
        return lambda: tenant.pos.put(
            f"{POS}/shops", purchase(reference=reference, coupon=reference, items=items), format="json"
        )

    counts = {}
    for count in (1, 50):
        queries_of(send(count, str(count)))
        counts[count] = queries_of(send(count, str(count)))[0]
        with CaptureQueriesContext(connection) as conflict:
            assert send(count, str(count), quantity=3)().status_code == 409
        counts[(count, "conflict")] = len(conflict.captured_queries)

    assert counts[1] == counts[50] == REPLAY_QUERIES
    assert counts[(1, "conflict")] == counts[(50, "conflict")] == CONFLICT_QUERIES


def test_purchase_with_promotions_at_their_limit_costs_the_same(tenant, busy_program):
    """Warnings about promotions at their limit name them without a query each."""
    promotions = [
        PromotionFactory(product=ProductFactory(account=tenant.account, barcode=str(index)), limit=1)
        for index in range(1, 6)
    ]
    items = [
        item(barcode=str(index), promotion_id=str(promotion.pk))
        for index, promotion in enumerate(promotions, 1)
    ]
    warm(tenant)  # the products' new categories changed the configuration

    def send(reference):
        return lambda: tenant.pos.put(
            f"{POS}/shops", purchase(reference=reference, coupon=reference, items=items), format="json"
        )

    first, first_response = queries_of(send("1"))
    second, second_response = queries_of(send("2"))

    assert first_response.json()["warnings"] == []
    assert len(second_response.json()["warnings"]) == 5
    # The items' promotions with the consumer's uses of each (one query) and the uses' insert.
    assert first == second == PURCHASE_QUERIES + 2 <= PURCHASE_BUDGET


def test_marketing_templates_cost_one_consent_read_whatever_the_items_or_the_answer(tenant, busy_program):
    for channel in ("sms", "whatsapp"):
        message_template_create(
            account=tenant.account,
            name=f"Ofertas {channel}",
            event="sale_rewarded",
            channel=channel,
            purpose="marketing",
            body="Ofertas, {name}!",
        )
    warm(tenant)  # the new templates are read once

    def send(count, reference):
        items = [item(barcode=str(index + 1)) for index in range(count)]
        return lambda: tenant.pos.put(
            f"{POS}/shops", purchase(reference=reference, coupon=reference, items=items), format="json"
        )

    one, refused = queries_of(send(1, "1"))
    fifty, _ = queries_of(send(50, "50"))
    consent_set(
        customer=Customer.objects.get(account=tenant.account, document=CPF),
        channel="sms",
        granted=True,
        source="api",
    )
    accepted, granted = queries_of(send(1, "2"))

    assert one == fifty == accepted == PURCHASE_QUERIES + MARKETING_CONSENT_READ <= PURCHASE_BUDGET
    # The receipt alone, then the receipt and the SMS offers (WhatsApp was never accepted).
    assert (refused.json()["rewards"]["messages"], granted.json()["rewards"]["messages"]) == (1, 2)


def test_consent_sent_with_a_purchase_costs_statements_only_as_it_changes(tenant, busy_program):
    def send(reference, consent):
        body = purchase(reference=reference, coupon=reference, items=[item()], consent=consent)
        return lambda: tenant.pos.put(f"{POS}/shops", body, format="json")

    first, _ = queries_of(send("1", {"sms": True, "email": True}))
    same, _ = queries_of(send("2", {"sms": True, "email": True}))
    changed, _ = queries_of(send("3", {"sms": False}))
    replay, _ = queries_of(send("3", {"sms": False}))

    assert first == PURCHASE_QUERIES + CONSENT_FIRST_EXTRA <= PURCHASE_WITH_CONSENT_CEILING
    assert same == PURCHASE_QUERIES + CONSENT_SAME_EXTRA
    assert changed == PURCHASE_QUERIES + CONSENT_CHANGED_EXTRA
    assert replay == REPLAY_QUERIES


@pytest.mark.parametrize("size", [1, 50])
def test_quote_costs_the_same_whatever_the_number_of_items(tenant, size):
    CustomerFactory(account=tenant.account, document=CPF)
    lines = []
    for index in range(size):
        product = ProductFactory(account=tenant.account, barcode=str(1000 + index))
        PromotionFactory(product=product, limit=1)
        lines.append(
            {"barcode": product.barcode, "unit_value": 10, "quantity": 2, "discount": 0, "total": 20}
        )
    body = {"consumer": CPF, "date": "2024-06-19", "items": lines}
    warm_callers(tenant)

    queries, response = queries_of(lambda: tenant.pos.post(f"{POS}/shops/discounts", body, format="json"))

    assert len(response.json()["discounts"]) == size
    assert queries == QUOTE_QUERIES <= QUOTE_BUDGET


@pytest.mark.parametrize("size", [1, 50])
@pytest.mark.parametrize("hidden", [False, True], ids=["discounts-shown", "not_show_discounts"])
def test_a_quote_under_redemption_limits_costs_the_same(tenant, size, hidden):
    """`max_redeemable` reads the account loaded with the credential and the wallet already
    read; hidden discounts are read only when a limit needs the basket's total."""
    wallet_credit(
        customer=CustomerFactory(account=tenant.account, document=CPF),
        kind="adjustment",
        amounts={"balance": Decimal("5000")},
        reason="Opening",
    )
    tenant.account.redeem_max_share = Decimal("10")
    tenant.account.save(update_fields=["redeem_max_share"])
    lines = []
    for index in range(size):
        product = ProductFactory(account=tenant.account, barcode=str(1000 + index))
        PromotionFactory(product=product, limit=1)
        lines.append({"barcode": product.barcode, "unit_value": 10, "quantity": 2, "total": 20})
    body = {"consumer": CPF, "date": "2024-06-19", "items": lines}
    query = "?not_show_discounts=1" if hidden else ""
    warm_callers(tenant)

    queries, response = queries_of(
        lambda: tenant.pos.post(f"{POS}/shops/discounts{query}", body, format="json")
    )

    assert response.json()["max_redeemable"]["balance"] < 5000  # the share holds it back
    assert queries == QUOTE_QUERIES <= QUOTE_BUDGET


def test_a_quote_hiding_its_discounts_without_limits_reads_no_promotion(tenant):
    CustomerFactory(account=tenant.account, document=CPF)
    body = {"consumer": CPF, "items": [{"barcode": "1", "unit_value": 10, "quantity": 1}]}
    warm_callers(tenant)

    queries, _ = queries_of(
        lambda: tenant.pos.post(f"{POS}/shops/discounts?not_show_discounts=1", body, format="json")
    )

    assert queries == QUOTE_QUERIES - 1


def test_v2_sale_with_10_items_stays_in_budget(tenant, busy_program):
    items = [
        {"barcode": str(index), "name": "x", "quantity": 1, "unit_value": 10, "total": 10}
        for index in range(1, 11)
    ]

    queries, _ = queries_of(
        lambda: tenant.v2.post(f"{V2}/sales", {"cpf": CPF, "sale_amount": 100, "items": items}, format="json")
    )

    assert queries == V2_SALE_QUERIES <= V2_SALE_BUDGET


def test_pos_wallet_stays_in_budget_with_authentication(tenant):
    CustomerFactory(account=tenant.account, document=CPF)
    warm_callers(tenant)

    queries, _ = queries_of(lambda: tenant.pos.get(f"{POS}/consumers/document/{CPF}/wallet"))

    assert queries == WALLET_QUERIES <= WALLET_BUDGET


def test_pos_wallet_with_lots_reads_what_expires_next_in_one_more_statement(tenant):
    rule_create(account=tenant.account, name="5%", kind="cashback", value=Decimal("5"), valid_days=30)
    tenant.pos.put(
        f"{POS}/shops",
        purchase(date=timezone.localdate(timezone=tenant.account.tzinfo).isoformat()),
        format="json",
    )
    warm_callers(tenant)

    queries, response = queries_of(lambda: tenant.pos.get(f"{POS}/consumers/document/{CPF}/wallet"))

    assert response.json()["next_expiry"]["balance"] == 1.2
    assert queries == WALLET_WITH_LOTS_QUERIES <= WALLET_BUDGET


def _customers(tenant, count):
    for index in range(count):
        CustomerFactory(account=tenant.account, email=f"bulk{index}@example.com")


def _sales(tenant, count):
    rule_create(account=tenant.account, name="5% cashback", kind="cashback", value=Decimal("5"))
    for index in range(count):
        body = {"cpf": CPF, "sale_amount": 24, "reference": f"R{index}", "items": [item()]}
        assert tenant.v2.post(f"{V2}/sales", body, format="json").status_code == 201


def _coupons(tenant, count):
    for index in range(count):
        RewardFactory(account=tenant.account, name=f"R{index:03d}")


def _vouchers(tenant, count):
    customer = CustomerFactory(account=tenant.account, document=CPF)
    for _ in range(count):
        voucher_issue(account=tenant.account, customer=customer, value=Decimal("20.00"))


def _categories(tenant, count):
    for index in range(count):
        ProductFactory(account=tenant.account, category=f"Category {index:03}")


def _products(tenant, count):
    for index in range(count):
        ProductFactory(account=tenant.account, subcategory=f"Sub {index}")


LISTS = {
    "customers": (_customers, "v2", f"{V2}/customers"),
    "sales": (_sales, "v2", f"{V2}/sales"),
    "coupons": (_coupons, "v2", f"{V2}/coupons"),
    "vouchers": (_vouchers, "v2", f"{V2}/vouchers"),
    "categories": (_categories, "v2", f"{V2}/categories"),
    "products": (_products, "pos", f"{POS}/products"),
}


@pytest.mark.parametrize("name", sorted(LISTS))
def test_a_list_costs_the_same_for_a_page_of_5_and_of_100(tenant, name):
    make_rows, dialect, path = LISTS[name]
    make_rows(tenant, 100)
    client = getattr(tenant, dialect)
    warm_callers(tenant)

    small, small_page = queries_of(lambda: client.get(path, {"page_size": 5}))
    large, large_page = queries_of(lambda: client.get(path, {"page_size": 100}))

    assert len(small_page.json()["results"]) == 5
    assert len(large_page.json()["results"]) == 100
    assert small == large == LIST_QUERIES[name]
