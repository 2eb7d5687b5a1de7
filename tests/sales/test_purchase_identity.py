"""Purchase identity: a sale is never dropped, and never answered with another's.

A POS purchase is identified by store, type, local day and its receipt (`pdv` + `coupon`
when both are sent, else `reference`); a v2 sale by its reference. The same identity with
the same content is a replay (200, as first recorded); with other content, a conflict (409)
that records nothing and names the recorded sale, never its consumer.
"""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from customers.models import Customer, LedgerEntry, Wallet
from customers.selectors import wallet_mismatches
from customers.services import customer_create
from loyalty.core.receipts import Receipt
from loyalty.tenancy.services import store_create
from sales.models import Sale
from sales.selectors import AmbiguousReference, purchase_named
from tests.builders import POS, V2
from tests.sales.builders import SEED_PURCHASE, cancel, item, purchase, put
from tests.snapshots import database_rows

pytestmark = pytest.mark.django_db

MARIA, JOAO = "53933515009", "52998224725"
# The second till's sale of the same day: same reference "11", its own receipt, R$ 48.
SECOND_TILL = purchase(consumer=JOAO, pdv="2", coupon="77", items=[item(quantity=4)])
SECOND_TILL["payments"] = [{**SEED_PURCHASE["payments"][0], "total": 48}]


def test_a_second_tills_sale_with_the_same_reference_is_recorded_and_rewarded(tenant, program):
    first = put(tenant, SEED_PURCHASE)

    second = put(tenant, SECOND_TILL)

    assert (first.status_code, second.status_code) == (201, 201), second.content
    body = second.json()
    assert body["purchase"]["consumer"] == JOAO
    assert body["purchase"]["amount"] == 48
    assert (body["purchase"]["pdv"], body["purchase"]["coupon"]) == ("2", "77")
    assert body["rewards"]["points"] == 48
    assert body["wallet"]["total_shoppings"] == 48
    assert Sale.objects.count() == 2
    assert Wallet.objects.get(customer__document=JOAO).points == Decimal("48.00")
    assert wallet_mismatches() == []


@pytest.mark.parametrize(
    ("changes", "differences"),
    [
        ({"consumer": JOAO}, ["consumer"]),
        ({"items": [item(quantity=4)]}, ["amount", "items"]),
        ({"items": [item(unit_value=6, quantity=4)]}, ["items"]),
        ({"payments": [{"method": 6, "total": 24}]}, ["payments"]),
        ({"consumer": None}, ["consumer"]),
    ],
)
def test_the_same_keys_with_other_content_are_a_conflict_that_records_nothing(
    tenant, program, changes, differences
):
    first = put(tenant, SEED_PURCHASE).json()["purchase"]
    before = database_rows()

    response = put(tenant, purchase(**changes))

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "purchase_conflict"
    assert body["differences"] == differences
    assert body["purchase"] == {
        "id": first["id"],
        "type": "CF",
        "date": "2024-05-24",
        "reference": "11",
        "pdv": "1",
        "coupon": "15",
        "status": "recorded",
    }
    assert f"Purchase {first['id']}" in body["detail"]
    assert database_rows() == before


def test_a_conflict_never_shows_the_recorded_consumers_document(tenant, program):
    put(tenant, SEED_PURCHASE)

    response = put(tenant, purchase(consumer=JOAO, items=[item(quantity=4)]))

    assert response.status_code == 409
    assert MARIA.encode() not in response.content
    assert b"539.335" not in response.content
    assert not Customer.objects.filter(document=JOAO).exists()  # nothing recorded, not even the consumer


def test_a_replay_of_a_cancelled_purchase_says_so_and_shows_what_it_holds_now(tenant, program):
    recorded = put(tenant, SEED_PURCHASE).json()
    assert cancel(tenant, {"date": "2024-05-24", "type": "CF", "pdv": "1", "coupon": "15"}).status_code == 200

    replay = put(tenant, SEED_PURCHASE)

    assert replay.status_code == 200
    body = replay.json()
    assert body["purchase"]["id"] == recorded["purchase"]["id"]
    assert body["purchase"]["status"] == "cancelled"
    assert body["rewards"] == {"cashback": 0, "points": 0, "vouchers": [], "messages": 0}
    assert recorded["rewards"]["cashback"] == 1.2  # what it had earned before the cancel
    assert len(body["warnings"]) == 1
    cancelled_at = Sale.objects.get().cancelled_at.astimezone(tenant.account.tzinfo)
    assert f"cancelled on {cancelled_at:%Y-%m-%d %H:%M}" in body["warnings"][0]
    assert body["wallet"]["total_points"] == 0
    assert LedgerEntry.objects.filter(kind="points").count() == 1


def test_other_content_after_a_cancel_is_a_conflict_not_the_old_answer(tenant, program):
    put(tenant, SEED_PURCHASE)
    cancel(tenant, {"date": "2024-05-24", "type": "CF", "reference": "11"})

    response = put(tenant, purchase(items=[item(quantity=3)]))

    assert response.status_code == 409
    assert response.json()["purchase"]["status"] == "cancelled"
    assert Sale.objects.count() == 1


# The second purchase of each case is sent after the seed one (pdv 1, coupon 15, reference 11,
# CF, 2024-05-24, Maria, R$ 24): its keys, whether its content is the seed's, and the answer.
IDENTITY_CASES = {
    "both forms, sent again": ({}, True, 200),
    "same receipt, another reference": ({"reference": "99"}, True, 200),
    "same receipt, no reference": ({"reference": None}, True, 200),
    "same receipt, other content": ({"reference": "99"}, False, 409),
    "another receipt, same reference": ({"pdv": "2", "coupon": "77"}, False, 201),
    "another coupon of the same till": ({"coupon": "16"}, True, 201),
    "the reference alone": ({"pdv": None, "coupon": None}, True, 201),
    "pdv without coupon: the reference identifies": ({"coupon": ""}, True, 201),
    "another day": ({"date": "2024-05-25 09:00"}, True, 201),
    "the same day in São Paulo, another in UTC": ({"date": "2024-05-24 23:30"}, True, 200),
    "another type": ({"type": "NF"}, True, 201),
}


@pytest.mark.parametrize("case", list(IDENTITY_CASES))
def test_identity_rules_of_a_purchase_with_both_forms(tenant, program, case):
    changes, same_content, expected = IDENTITY_CASES[case]
    content = {} if same_content else {"consumer": JOAO, "items": [item(quantity=4)]}
    seed = put(tenant, SEED_PURCHASE).json()["purchase"]

    response = put(tenant, purchase(**changes, **content))

    assert response.status_code == expected, response.content
    assert Sale.objects.count() == (2 if expected == 201 else 1)
    if expected == 200:
        assert response.json()["purchase"]["id"] == seed["id"]


REFERENCE_ONLY = purchase(pdv=None, coupon=None)
REFERENCE_CASES = {
    "sent again": ({}, True, 200),
    "other content": ({}, False, 409),
    "with a receipt now: another identity": ({"pdv": "1", "coupon": "15"}, True, 201),
    "another reference": ({"reference": "12"}, True, 201),
}


@pytest.mark.parametrize("case", list(REFERENCE_CASES))
def test_identity_rules_of_a_purchase_named_by_its_reference_alone(tenant, program, case):
    changes, same_content, expected = REFERENCE_CASES[case]
    content = {} if same_content else {"items": [item(quantity=4)]}
    assert put(tenant, REFERENCE_ONLY).status_code == 201

    response = put(tenant, {**REFERENCE_ONLY, **changes, **content})

    assert response.status_code == expected, response.content
    if expected == 409:
        assert response.json()["purchase"]["pdv"] == ""


def test_the_same_receipt_at_another_store_is_another_purchase(tenant, program):
    _, token = store_create(account=tenant.account, name="Loja Norte")
    other_store = APIClient()
    other_store.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}", HTTP_X_STORE_TOKEN=token)
    put(tenant, SEED_PURCHASE)

    response = other_store.put(f"{POS}/shops", SEED_PURCHASE, format="json")

    assert response.status_code == 201
    assert Sale.objects.values("store").distinct().count() == 2


def test_cancel_by_a_reference_that_names_two_purchases_is_409_and_cancels_nothing(tenant, program):
    first = put(tenant, SEED_PURCHASE).json()["purchase"]
    second = put(tenant, SECOND_TILL).json()["purchase"]

    response = cancel(tenant, {"date": "2024-05-24", "type": "CF", "reference": "11"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "ambiguous_reference"
    assert "pdv and coupon" in body["detail"]
    assert [(row["id"], row["pdv"], row["coupon"]) for row in body["purchases"]] == [
        (first["id"], "1", "15"),
        (second["id"], "2", "77"),
    ]
    assert MARIA.encode() not in response.content
    assert set(Sale.objects.values_list("status", flat=True)) == {"recorded"}


def test_a_reference_naming_more_purchases_than_listed_says_there_are_more(tenant, program):
    for till in ("1", "2", "3"):
        put(tenant, purchase(pdv=till, coupon=f"{till}5"))
    store = Sale.objects.first().store
    keys = {"type": "CF", "day": date(2024, 5, 24), "receipt": Receipt(reference="11")}

    with pytest.raises(AmbiguousReference) as capped:
        purchase_named(account=tenant.account, store=store, listed=2, **keys)
    with pytest.raises(AmbiguousReference) as whole:
        purchase_named(account=tenant.account, store=store, listed=3, **keys)

    assert (len(capped.value.purchases), capped.value.more) == (2, True)
    assert (len(whole.value.purchases), whole.value.more) == (3, False)


def test_cancel_by_receipt_cancels_only_that_purchase(tenant, program):
    put(tenant, SEED_PURCHASE)
    second = put(tenant, SECOND_TILL).json()["purchase"]

    response = cancel(
        tenant, {"date": "2024-05-24", "type": "CF", "pdv": "2", "coupon": "77", "reference": "11"}
    )

    assert response.status_code == 200
    assert response.json()["purchase"]["id"] == second["id"]
    assert dict(Sale.objects.values_list("coupon", "status")) == {"15": "recorded", "77": "cancelled"}
    assert Wallet.objects.get(customer__document=MARIA).points == Decimal("24.00")
    assert Wallet.objects.get(customer__document=JOAO).points == 0
    assert wallet_mismatches() == []


def test_cancel_by_a_receipt_that_names_nothing_is_404_even_if_the_reference_would(tenant, program):
    put(tenant, SEED_PURCHASE)

    response = cancel(
        tenant, {"date": "2024-05-24", "type": "CF", "pdv": "2", "coupon": "77", "reference": "11"}
    )

    assert response.status_code == 404
    assert Sale.objects.get().status == "recorded"


# --- the server-to-server dialect ------------------------------------------------------------

V2_SALE = {"cpf": MARIA, "sale_amount": 152.99, "reference": "ERP-0001", "date": "2024-06-19 17:13"}


def post_sale(tenant, body):
    return tenant.v2.post(f"{V2}/sales", body, format="json")


@pytest.mark.parametrize(
    ("changes", "differences"),
    [
        ({"cpf": JOAO}, ["customer"]),
        ({"sale_amount": 10}, ["sale_amount"]),
        ({"payments": [{"method": 3, "total": 152.99}]}, ["payments"]),
        ({"type": "NF"}, ["type"]),
    ],
)
def test_a_known_reference_with_other_content_is_a_sale_conflict(tenant, program, changes, differences):
    first = post_sale(tenant, V2_SALE).json()["sale"]
    before = database_rows()

    response = post_sale(tenant, {**V2_SALE, **changes})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "sale_conflict"
    assert body["differences"] == differences
    assert body["sale"] == {"id": first["id"], "reference": "ERP-0001", "status": "recorded"}
    assert MARIA.encode() not in response.content
    assert database_rows() == before


def test_a_known_reference_with_the_same_content_is_a_replay_by_cpf_or_by_id(tenant, program):
    first = post_sale(tenant, V2_SALE).json()
    by_id = {**V2_SALE, "cpf": None, "customer_id": first["sale"]["customer_id"], "date": "2024-06-20 10:00"}

    again = post_sale(tenant, V2_SALE)
    again_by_id = post_sale(tenant, by_id)

    assert (again.status_code, again_by_id.status_code) == (200, 200)
    assert again.json()["sale"] == again_by_id.json()["sale"] == first["sale"]
    assert Sale.objects.count() == 1


def test_a_replay_of_a_cancelled_v2_sale_says_so(tenant, program):
    sale_id = post_sale(tenant, V2_SALE).json()["sale"]["id"]
    tenant.v2.post(f"{V2}/sales/{sale_id}/cancel")

    response = post_sale(tenant, V2_SALE)

    assert response.status_code == 200
    assert response.json()["sale"]["status"] == "cancelled"
    assert response.json()["sale"]["rewards"]["cashback"] == 0
    assert "cancelled on" in response.json()["warnings"][0]


def test_v2_references_and_pos_receipts_are_separate_names(tenant, program):
    customer_create(account=tenant.account, name="Maria", document=MARIA)
    post_sale(tenant, {**V2_SALE, "reference": "11"})

    assert put(tenant, SEED_PURCHASE).status_code == 201
