"""Returns through the real URLs and authentication, in both dialects: the POS
`POST /shops/returns` ("Devolução") and the v2 `POST` / `GET /sales/{id}/returns`.

Returning every unit ends where a cancel ends (compared with the same purchase cancelled in
another account); the same reference answers the first answer; refusals change nothing; and
the requests cost a fixed number of statements, whatever the number of items or returns.
"""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.engine.program import rule_create
from sales.models import Sale, SaleReturn
from sales.outcomes import ReturnedUnits
from sales.services import sale_return
from tests.builders import POS, V2
from tests.openapi import assert_documented
from tests.sales.builders import cancel, item, purchase, put
from vouchers.models import Voucher
from vouchers.services import voucher_use

pytestmark = pytest.mark.django_db

CPF = "53933515009"
RETURNS = f"{POS}/shops/returns"
SEED_KEYS = {"date": "2024-05-24", "type": "CF", "pdv": "1", "coupon": "15"}
WALLET = f"{POS}/consumers/document/{CPF}/wallet"

# A POS return of 1 item and of 10 items alike (the program's cashback and points rules):
# the request's savepoint (2); the purchase by its keys (the credential with its store in
# memory); then
# the service — the sale locked, the return's reference looked up, the sale's items, what
# earlier returns were worth, the units they took (read once), the return and its lines (one
# insert each), the wallet locked, the totals' ledger row and wallet move, every line returned
# from the sale and its payments; the engine's reads
# (the sale's grants, its vouchers, the rules, what returns took by rule, expired lots), its
# ledger rows and wallet move; the outcome stored (the account's webhook endpoints, none, in
# memory) — and the answer's lines.
RETURN_QUERIES = 24
# The same return again, 1 or 10 items: the savepoint (2), the purchase, the
# sale locked, the return by its reference and its lines (compared), the answer's lines and
# the wallet as it stands.
RETURN_REPLAY_QUERIES = 8
# A page of a sale's returns, of 5 or of 100: the sale, the returns' count, the page, and the
# page's lines with their items.
RETURNS_LIST_QUERIES = 4


def returned(tenant, body, **headers):
    return tenant.pos.post(RETURNS, body, format="json", **headers)


def units(barcode="13456789", quantity=1) -> list[dict]:
    return [{"barcode": barcode, "quantity": quantity}]


def pos_return(return_reference="DEV-1", items=None, **keys) -> dict:
    return {**SEED_KEYS, **keys, "return_reference": return_reference, "items": items or units()}


def bought(tenant, **overrides) -> dict:
    response = put(tenant, purchase(**overrides))
    assert response.status_code == 201, response.content
    return response.json()["purchase"]


def wallet_of(tenant) -> dict:
    return tenant.pos.get(WALLET).json()


def clean() -> bool:
    call_command("check_wallets", stdout=StringIO())  # raises on any mismatch
    return True


@pytest.fixture
def other_program(other_tenant):
    """The `program` of the sales tests, in the other account."""
    rule_create(account=other_tenant.account, name="5% cashback", kind="cashback", value=Decimal("5"))
    rule_create(account=other_tenant.account, name="1 point per real", kind="points", value=Decimal("1"))


# --- the POS dialect -------------------------------------------------------------------------


def test_the_seed_purchase_returned_one_unit_then_the_other_ends_as_a_cancel(
    tenant, program, other_tenant, other_program
):
    sale = bought(tenant)  # 2 × R$ 12: 1.20 cashback, 24 points
    bought(other_tenant)

    first = returned(tenant, pos_return("DEV-1"))

    assert first.status_code == 201, first.content
    assert_documented(first, "POST", RETURNS)
    answer = first.json()
    assert answer["return"]["return_reference"] == "DEV-1"
    assert answer["return"]["purchase"] == {
        "id": sale["id"],
        "type": "CF",
        "date": "2024-05-24",
        "reference": "11",
        "pdv": "1",
        "coupon": "15",
        "status": "recorded",
    }
    assert answer["return"]["items"] == [{"barcode": "13456789", "quantity": 1, "total": 12}]
    assert answer["return"]["amount"] == 12
    assert answer["reversed"] == {"balance": -0.6, "points": -12, "total_shoppings": -12}
    assert (answer["vouchers_cancelled"], answer["vouchers_charged"], answer["warnings"]) == ([], [], [])
    assert answer["wallet"] == {
        "total_points": 12,
        "total_balance": 0.6,
        "total_shoppings": 12,
        "count_shoppings": 1,
        "digital_change": 0,
        "total_discounts": 0,
    }

    last = returned(tenant, pos_return("DEV-2"))
    cancelled = cancel(other_tenant, SEED_KEYS)

    assert last.status_code == 201, last.content
    assert last.json()["reversed"] == {
        "balance": -0.6,
        "points": -12,
        "total_shoppings": -12,
        "count_shoppings": -1,
    }
    assert (
        last.json()["wallet"]
        == cancelled.json()["wallet"]
        == {
            "total_points": 0,
            "total_balance": 0,
            "total_shoppings": 0,
            "count_shoppings": 0,
            "digital_change": 0,
            "total_discounts": 0,
        }
    )
    assert clean()


def test_odd_cents_returned_unit_by_unit_end_exactly_as_a_cancel(
    tenant, program, other_tenant, other_program
):
    items = [
        item(barcode="11", unit_value=3.33, quantity=3),
        item(barcode="22", unit_value=7.77, quantity=1, discount=0.5),
        item(barcode="11", unit_value=3.33, quantity=1),
    ]
    bought(tenant, items=items)
    bought(other_tenant, items=items)

    for number, (barcode, quantity) in enumerate([("11", 1), ("22", 1), ("11", 2), ("11", 1)], start=1):
        response = returned(tenant, pos_return(f"DEV-{number}", units(barcode, quantity)))
        assert response.status_code == 201, response.content
    cancel(other_tenant, SEED_KEYS)

    assert wallet_of(tenant) == wallet_of(other_tenant)
    assert wallet_of(tenant)["count_shoppings"] == 0
    assert clean()


def test_the_same_return_reference_answers_the_first_answer_byte_for_byte(tenant, program):
    bought(tenant)
    first = returned(tenant, pos_return())

    again = returned(tenant, pos_return())

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.content == first.content
    assert_documented(again, "POST", RETURNS)
    assert SaleReturn.objects.filter(account=tenant.account).count() == 1
    assert wallet_of(tenant)["total_balance"] == 0.6


def test_the_same_return_reference_with_other_items_is_a_conflict(tenant, program):
    bought(tenant)
    first = returned(tenant, pos_return()).json()

    response = returned(tenant, pos_return(items=units(quantity=2)))

    assert response.status_code == 409
    assert_documented(response, "POST", RETURNS)
    assert response.json()["code"] == "return_conflict"
    assert response.json()["return"] == {"id": first["return"]["id"], "return_reference": "DEV-1"}
    assert wallet_of(tenant) == {**first["wallet"], "next_expiry": None}


@pytest.mark.parametrize(
    ("items", "item_named", "available"),
    [
        (units(quantity=2), "13456789", 1),  # 1 of the 2 bought was returned already
        (units(barcode="999"), "999", None),  # not in the purchase
        (units(quantity=1) + units(quantity=1), "13456789", 1),  # the same barcode twice adds up
    ],
    ids=["more-than-left", "unknown-barcode", "repeated-barcode"],
)
def test_more_than_is_left_or_an_unknown_item_is_refused_naming_the_item(
    tenant, program, items, item_named, available
):
    bought(tenant)
    returned(tenant, pos_return("DEV-1"))
    before = wallet_of(tenant)

    response = returned(tenant, pos_return("DEV-2", items))

    assert response.status_code == 422
    assert_documented(response, "POST", RETURNS)
    body = response.json()
    assert (body["code"], body["item"], body.get("available")) == ("return_refused", item_named, available)
    assert wallet_of(tenant) == before
    assert SaleReturn.objects.filter(account=tenant.account).count() == 1


def test_a_cancelled_purchase_has_nothing_to_return(tenant, program):
    bought(tenant)
    cancel(tenant, SEED_KEYS)

    response = returned(tenant, pos_return())

    assert response.status_code == 409
    assert_documented(response, "POST", RETURNS)
    assert response.json()["code"] == "sale_cancelled"
    assert response.json()["purchase"]["status"] == "cancelled"


def test_an_unknown_purchase_is_a_404(tenant, program):
    bought(tenant)

    response = returned(tenant, pos_return(coupon="16"))

    assert response.status_code == 404
    assert_documented(response, "POST", RETURNS)


def test_a_reference_of_two_tills_is_ambiguous_and_pdv_and_coupon_say_which(tenant, program):
    first = bought(tenant)
    second = bought(tenant, pdv="2", coupon="77")
    by_reference = {"date": "2024-05-24", "type": "CF", "reference": "11"}

    ambiguous = returned(tenant, {**by_reference, "return_reference": "DEV-1", "items": units()})

    assert ambiguous.status_code == 409
    assert_documented(ambiguous, "POST", RETURNS)
    assert ambiguous.json()["code"] == "ambiguous_reference"
    assert ambiguous.json()["detail"].endswith("Nothing was returned.")
    assert [keys["id"] for keys in ambiguous.json()["purchases"]] == [first["id"], second["id"]]
    assert not SaleReturn.objects.filter(account=tenant.account).exists()

    chosen = returned(tenant, pos_return(pdv="2", coupon="77"))
    assert chosen.status_code == 201
    assert chosen.json()["return"]["purchase"]["id"] == second["id"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"return_reference": ""}, "return_reference"),
        ({"return_reference": "x" * 65}, "return_reference"),
        ({"items": []}, "items"),
        ({"items": units(quantity=0)}, "quantity"),
        ({"items": units(barcode="abc")}, "barcode"),
        ({"items": units() * 501}, "items"),
        ({"date": "2024-02-30"}, "date"),
        ({"type": "XX"}, "type"),
        ({"pdv": None, "coupon": None}, "detail"),
    ],
)
def test_a_malformed_return_is_a_400_naming_the_field(tenant, program, change, field):
    bought(tenant)

    response = returned(tenant, {**pos_return(), **change})

    assert response.status_code == 400
    assert f'"{field}"' in response.content.decode()
    assert not SaleReturn.objects.filter(account=tenant.account).exists()


def test_a_used_threshold_voucher_is_charged_with_a_warning_and_an_unused_one_cancelled(tenant):
    rule_create(
        account=tenant.account,
        name="R$ 5 from R$ 20",
        kind="voucher",
        value=Decimal("5"),
        threshold=Decimal("20"),
    )
    bought(tenant)
    bought(tenant, coupon="16", reference="12")
    unused, used = Voucher.objects.filter(account=tenant.account).order_by("id")
    voucher_use(account=tenant.account, code=used.code, reference="X")

    kept = returned(tenant, pos_return("DEV-1"))
    charged = returned(tenant, pos_return("DEV-2", coupon="16", reference="12"))

    assert kept.json()["vouchers_cancelled"] == [unused.code]
    assert kept.json()["warnings"] == []
    assert charged.json()["vouchers_charged"] == [{"code": used.code, "value": 5}]
    assert charged.json()["reversed"]["balance"] == -5
    assert charged.json()["wallet"]["total_balance"] == -5
    (warning,) = charged.json()["warnings"]
    assert used.code in warning
    assert "debited from the consumer's cashback balance" in warning
    assert_documented(charged, "POST", RETURNS)
    assert clean()


def test_an_unidentified_purchase_is_returned_without_a_wallet(tenant, program):
    bought(tenant, consumer=None)

    response = returned(tenant, pos_return())

    assert response.status_code == 201, response.content
    assert_documented(response, "POST", RETURNS)
    assert (response.json()["reversed"], response.json()["wallet"]) == ({}, None)


@pytest.mark.parametrize("dialect", ["pos", "v2"])
def test_an_idempotency_key_replays_the_first_answer(tenant, program, dialect):
    sale = bought(tenant)
    if dialect == "pos":
        client, url, body = tenant.pos, RETURNS, pos_return()
    else:
        client, url, body = (
            tenant.v2,
            f"{V2}/sales/{sale['id']}/returns",
            {"reference": "DEV-1", "items": units()},
        )

    first = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="return-1")
    again = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="return-1")
    other = client.post(
        url, {**body, "items": units(quantity=2)}, format="json", HTTP_IDEMPOTENCY_KEY="return-1"
    )

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert SaleReturn.objects.filter(account=tenant.account).count() == 1


def test_another_accounts_store_finds_no_purchase(tenant, program, other_tenant):
    bought(tenant)

    response = returned(other_tenant, pos_return())

    assert response.status_code == 404
    assert not SaleReturn.objects.exists()


# --- the v2 dialect --------------------------------------------------------------------------

SALE_WITH_ITEMS = {
    "cpf": CPF,
    "sale_amount": 24,
    "reference": "ERP-1",
    "date": "2024-06-19 17:13",
    "items": [{"barcode": "13456789", "name": "Pringles", "quantity": 2, "unit_value": 12, "total": 24}],
}
SALE_WITHOUT_ITEMS = {"cpf": CPF, "sale_amount": 100, "reference": "ERP-2", "date": "2024-06-19 10:00"}


def recorded(tenant, body) -> int:
    response = tenant.v2.post(f"{V2}/sales", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["sale"]["id"]


def v2_return(tenant, sale_id, body):
    return tenant.v2.post(f"{V2}/sales/{sale_id}/returns", body, format="json")


def test_v2_units_returned_one_then_the_other_end_as_a_cancel(tenant, program, other_tenant, other_program):
    sale_id = recorded(tenant, SALE_WITH_ITEMS)
    other_id = recorded(other_tenant, SALE_WITH_ITEMS)

    first = v2_return(tenant, sale_id, {"reference": "DEV-1", "items": units()})
    last = v2_return(tenant, sale_id, {"reference": "DEV-2", "items": units()})
    cancelled = other_tenant.v2.post(f"{V2}/sales/{other_id}/cancel")

    assert (first.status_code, last.status_code) == (201, 201)
    assert_documented(first, "POST", f"{V2}/sales/{{id}}/returns")
    answer = first.json()
    assert answer["return"]["reference"] == "DEV-1"
    assert answer["return"]["sale"] == {"id": sale_id, "reference": "ERP-1", "status": "recorded"}
    assert answer["return"]["items"] == [{"barcode": "13456789", "quantity": 1, "total": 12}]
    assert answer["reversed"] == {"balance": -0.6, "points": -12, "total_shoppings": -12}
    assert answer["wallet"]["balance"] == 0.6
    assert last.json()["wallet"] == cancelled.json()["wallet"]
    assert last.json()["wallet"]["count_shoppings"] == 0
    assert clean()


def test_v2_replay_conflict_refusal_and_cancelled(tenant, program):
    sale_id = recorded(tenant, SALE_WITH_ITEMS)
    path = f"{V2}/sales/{{id}}/returns"
    first = v2_return(tenant, sale_id, {"reference": "DEV-1", "items": units()})

    again = v2_return(tenant, sale_id, {"reference": "DEV-1", "items": units()})
    conflict = v2_return(tenant, sale_id, {"reference": "DEV-1", "items": units(quantity=2)})
    refused = v2_return(tenant, sale_id, {"reference": "DEV-2", "items": units(quantity=2)})
    unknown = v2_return(tenant, sale_id, {"reference": "DEV-2", "items": units(barcode="999")})

    assert (again.status_code, again.content) == (200, first.content)
    assert (conflict.status_code, conflict.json()["code"]) == (409, "return_conflict")
    assert conflict.json()["return"] == {"id": first.json()["return"]["id"], "reference": "DEV-1"}
    assert (refused.status_code, refused.json()["item"], refused.json()["available"]) == (422, "13456789", 1)
    assert (unknown.status_code, unknown.json()["item"]) == (422, "999")
    for response in (again, conflict, refused, unknown):
        assert_documented(response, "POST", path)

    tenant.v2.post(f"{V2}/sales/{sale_id}/cancel")
    cancelled = v2_return(tenant, sale_id, {"reference": "DEV-3", "items": units()})

    assert (cancelled.status_code, cancelled.json()["code"]) == (409, "sale_cancelled")
    assert cancelled.json()["sale"]["status"] == "cancelled"
    assert_documented(cancelled, "POST", path)


def test_v2_a_sale_without_items_is_returned_by_amount(tenant, program):
    sale_id = recorded(tenant, SALE_WITHOUT_ITEMS)

    part = v2_return(tenant, sale_id, {"reference": "DEV-1", "amount": 40})
    too_much = v2_return(tenant, sale_id, {"reference": "DEV-2", "amount": 60.01})
    by_items = v2_return(tenant, sale_id, {"reference": "DEV-2", "items": units()})
    rest = v2_return(tenant, sale_id, {"reference": "DEV-3", "amount": 60})

    assert part.status_code == 201, part.content
    assert (part.json()["return"]["items"], part.json()["return"]["amount"]) == ([], 40)
    assert part.json()["reversed"] == {"balance": -2, "points": -40, "total_shoppings": -40}
    assert (too_much.status_code, too_much.json()["field"], too_much.json()["available"]) == (
        422,
        "amount",
        60,
    )
    assert (by_items.status_code, by_items.json()["field"]) == (422, "amount")
    assert rest.status_code == 201
    assert rest.json()["wallet"]["count_shoppings"] == rest.json()["wallet"]["balance"] == 0
    assert clean()


def test_v2_an_amount_is_refused_for_a_sale_with_items(tenant, program):
    sale_id = recorded(tenant, SALE_WITH_ITEMS)

    response = v2_return(tenant, sale_id, {"reference": "DEV-1", "amount": 5})

    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        422,
        "return_refused",
        "items",
    )
    assert not SaleReturn.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"reference": "DEV-1"},
        {"reference": "DEV-1", "amount": 5, "items": units()},
        {"reference": "DEV-1", "amount": 0},
        {"items": units()},
    ],
    ids=["neither", "both", "zero-amount", "no-reference"],
)
def test_v2_a_return_needs_a_reference_and_items_or_an_amount(tenant, program, body):
    sale_id = recorded(tenant, SALE_WITH_ITEMS)

    response = v2_return(tenant, sale_id, body)

    assert response.status_code == 400, response.content
    assert not SaleReturn.objects.exists()


def test_v2_lists_a_sales_returns_newest_first_and_the_sale_counts_them(tenant, program):
    sale_id = recorded(tenant, SALE_WITH_ITEMS)
    v2_return(tenant, sale_id, {"reference": "DEV-1", "items": units()})
    v2_return(tenant, sale_id, {"reference": "DEV-2", "items": units()})

    listed = tenant.v2.get(f"{V2}/sales/{sale_id}/returns")

    assert listed.status_code == 200
    assert_documented(listed, "GET", f"{V2}/sales/{{id}}/returns")
    assert listed.json()["count"] == 2
    newest, oldest = listed.json()["results"]
    assert (newest["reference"], oldest["reference"]) == ("DEV-2", "DEV-1")
    assert oldest["reversed"] == {"balance": -0.6, "points": -12, "total_shoppings": -12}
    assert newest["reversed"]["count_shoppings"] == -1
    assert newest["items"] == [{"barcode": "13456789", "quantity": 1, "total": 12}]
    assert tenant.v2.get(f"{V2}/sales/{sale_id}").json()["returns"] == 2
    assert tenant.v2.get(f"{V2}/sales").json()["results"][0]["returns"] == 2


def test_v2_a_sale_counts_no_returns_when_recorded_and_when_resent(tenant, program):
    created = tenant.v2.post(f"{V2}/sales", SALE_WITH_ITEMS, format="json")
    v2_return(tenant, created.json()["sale"]["id"], {"reference": "DEV-1", "items": units()})

    resent = tenant.v2.post(f"{V2}/sales", SALE_WITH_ITEMS, format="json")

    assert created.json()["sale"]["returns"] == 0
    assert (resent.status_code, resent.json()["sale"]["returns"]) == (200, 1)


def test_v2_another_account_cannot_return_or_list_a_sale(tenant, program, other_tenant):
    sale_id = recorded(tenant, SALE_WITH_ITEMS)

    posted = v2_return(other_tenant, sale_id, {"reference": "DEV-1", "items": units()})
    listed = other_tenant.v2.get(f"{V2}/sales/{sale_id}/returns")

    assert (posted.status_code, listed.status_code) == (404, 404)
    assert (
        posted.json() == v2_return(other_tenant, 987654321, {"reference": "DEV-1", "items": units()}).json()
    )
    assert not SaleReturn.objects.exists()


# --- what they cost ----------------------------------------------------------------------------


def queries_of(send) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = send()
    assert response.status_code < 300, response.content
    return len(captured.captured_queries), response


def test_a_pos_return_costs_the_same_for_1_and_10_items(tenant, program):
    barcodes = [str(index) for index in range(1, 11)]
    bought(tenant, coupon="1", reference="1", items=[item(barcode=code) for code in barcodes])
    bought(tenant, coupon="10", reference="10", items=[item(barcode=code) for code in barcodes])

    def send(coupon, codes):
        items = [{"barcode": code, "quantity": 1} for code in codes]
        return lambda: returned(tenant, pos_return(coupon=coupon, reference=coupon, items=items))

    one, _ = queries_of(send("1", barcodes[:1]))
    ten, answer = queries_of(send("10", barcodes))
    one_again, _ = queries_of(send("1", barcodes[:1]))
    ten_again, _ = queries_of(send("10", barcodes))

    assert len(answer.json()["return"]["items"]) == 10
    assert one == ten == RETURN_QUERIES
    assert one_again == ten_again == RETURN_REPLAY_QUERIES


def test_a_sales_returns_cost_the_same_for_a_page_of_5_and_of_100(tenant, program):
    bought(tenant, items=[item(quantity=100, unit_value=1)])
    sale = Sale.objects.get(account=tenant.account)
    for number in range(100):
        sale_return(sale=sale, reference=f"DEV-{number}", items=[ReturnedUnits("13456789", Decimal("1"))])
    url = f"{V2}/sales/{sale.pk}/returns"
    assert tenant.v2.get(url).status_code == 200  # the bearer's credential is then in memory

    small, small_page = queries_of(lambda: tenant.v2.get(url, {"page_size": 5}))
    large, large_page = queries_of(lambda: tenant.v2.get(url, {"page_size": 100}))

    assert (len(small_page.json()["results"]), len(large_page.json()["results"])) == (5, 100)
    assert small == large == RETURNS_LIST_QUERIES


def test_the_sales_list_counts_returns_without_a_statement_more(tenant, program):
    sale_ids = [recorded(tenant, {**SALE_WITH_ITEMS, "reference": f"ERP-{number}"}) for number in range(100)]

    def pages(returns: int) -> tuple[int, int]:
        small, small_page = queries_of(lambda: tenant.v2.get(f"{V2}/sales", {"page_size": 5}))
        large, large_page = queries_of(lambda: tenant.v2.get(f"{V2}/sales", {"page_size": 100}))
        assert len(small_page.json()["results"]) == 5
        assert {sale["returns"] for sale in large_page.json()["results"]} == {returns}
        return small, large

    before = pages(returns=0)
    for sale in Sale.objects.filter(pk__in=sale_ids):
        sale_return(sale=sale, reference="DEV-1", items=[ReturnedUnits("13456789", Decimal("1"))])

    assert pages(returns=1) == before
    assert before[0] == before[1]
