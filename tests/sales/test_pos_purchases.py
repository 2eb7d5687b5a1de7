"""POS purchases: "Adicionar compra" (with the consumer's marketing consent) and "Cancelar compra"."""

from decimal import Decimal

import pytest

from customers.models import ConsentChange, Customer, CustomerConsent, LedgerEntry, Wallet
from customers.selectors import wallet_mismatches
from customers.services import consent_set, customer_create, wallet_credit
from sales.models import Sale, SaleItem
from tests.builders import POS
from tests.sales.builders import SEED_PURCHASE, cancel, item, purchase, put

pytestmark = pytest.mark.django_db


def test_the_seed_purchase_is_recorded_rewarded_and_answered(tenant, program):
    response = put(tenant, SEED_PURCHASE)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["purchase"]["consumer"] == "53933515009"
    assert body["purchase"]["amount"] == 24
    assert body["purchase"]["status"] == "recorded"
    assert body["purchase"]["date"] == "2024-05-24T18:10:00.000000Z"  # 15:10 in São Paulo
    assert body["purchase"]["items"][0]["barcode"] == "13456789"
    assert body["purchase"]["payments"][0] == {
        "method": 1,
        "total": 24,
        "digital_change": 0,
        "splits": 0,
        "date": "2023-12-21T18:32:00.000000Z",
    }
    assert body["rewards"] == {"cashback": 1.2, "points": 24, "vouchers": [], "messages": 0}
    assert body["wallet"] == {
        "total_points": 24,
        "total_balance": 1.2,
        "total_shoppings": 24,
        "count_shoppings": 1,
        "digital_change": 0,
        "total_discounts": 0,
    }
    assert body["warnings"] == []
    sale = Sale.objects.get()
    assert (sale.store, sale.source, sale.local_date.isoformat()) == (tenant.store, "pos", "2024-05-24")
    assert Customer.objects.get().document == "53933515009"
    assert wallet_mismatches() == []


def test_sending_it_again_answers_the_first_and_earns_nothing(tenant, program):
    first = put(tenant, SEED_PURCHASE).json()

    # A retry may carry another time of the same day and another operator: still the same sale.
    again = put(tenant, {**SEED_PURCHASE, "date": "2024-05-24 15:12", "operator": "Bia"})

    assert again.status_code == 200
    assert again.json()["purchase"] == first["purchase"]
    assert again.json()["rewards"] == first["rewards"]
    assert Sale.objects.count() == 1
    assert Wallet.objects.get().points == Decimal("24.00")


def test_same_pdv_and_coupon_without_reference_is_the_same_purchase(tenant, program):
    body = purchase(reference=None)
    assert put(tenant, body).status_code == 201
    assert put(tenant, body).status_code == 200
    assert put(tenant, {**body, "date": "2024-05-25 09:00"}).status_code == 201


def test_unidentified_purchase_is_recorded_and_earns_nothing(tenant, program):
    response = put(tenant, purchase(consumer=None))

    assert response.status_code == 201
    assert response.json()["wallet"] is None
    assert response.json()["rewards"]["cashback"] == 0
    assert Sale.objects.get().customer is None
    assert not LedgerEntry.objects.exists()


def test_unknown_consumer_is_created(tenant, program):
    put(tenant, purchase(consumer="111.444.777-35"))

    assert Customer.objects.get(account=tenant.account).document == "11144477735"


def test_item_total_mismatch_is_400_naming_the_item(tenant, program):
    body = purchase(items=[item(), item(barcode="999", unit_value=10, quantity=1, total=9.5)])

    response = put(tenant, body)

    assert response.status_code == 400
    errors = response.json()["items"]
    assert list(errors) == ["1"]  # the second item, counting from 0
    assert "differs from unit_value × quantity − discount = 10.00" in errors["1"]["total"][0]
    assert not Sale.objects.exists()


def test_a_total_within_one_cent_is_accepted(tenant, program):
    body = purchase(items=[item(unit_value=3.333, quantity=3, total=10)])

    assert put(tenant, body).status_code == 400  # 3 decimal places are not money
    body = purchase(items=[item(unit_value=3.33, quantity=3, total=10)])
    assert put(tenant, body).status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("consumer", "123"),
        ("type", "XX"),
        ("date", "2024-02-30 10:00"),
        ("items", []),
        ("payments", [{"method": 10, "total": 1}]),
    ],
)
def test_invalid_purchases_are_400(tenant, field, value):
    response = put(tenant, purchase(**{field: value}))

    assert response.status_code == 400
    assert field in response.json()
    assert not Sale.objects.exists()


def test_a_purchase_needs_reference_or_pdv_and_coupon(tenant):
    response = put(tenant, purchase(reference="", pdv="", coupon=""))

    assert response.status_code == 400
    assert "reference, or pdv and coupon" in response.json()["detail"][0]


def test_more_than_500_items_is_400(tenant):
    response = put(tenant, purchase(items=[item()] * 501))

    assert response.status_code == 400
    assert response.json()["items"] == ["A purchase has at most 500 items."]


def test_digital_change_is_credited_then_paid(tenant, program):
    change = purchase(payments=[{"method": 1, "total": 30, "digital_change": 6}])
    assert put(tenant, change).json()["wallet"]["digital_change"] == 6

    pay = purchase(
        reference="12", coupon="16", payments=[{"method": 9, "total": 4}, {"method": 1, "total": 20}]
    )
    response = put(tenant, pay)

    assert response.status_code == 201
    assert response.json()["wallet"]["digital_change"] == 2
    # What was paid with digital change earns nothing: 20 of 24 earns.
    assert response.json()["rewards"]["points"] == 20


def test_paying_with_more_digital_change_than_held_is_422_and_records_nothing(tenant, program):
    response = put(tenant, purchase(payments=[{"method": 9, "total": 24}]))

    assert response.status_code == 422
    assert response.json()["code"] == "insufficient_balance"
    assert response.json()["available"]["digital_change"] == 0
    assert not Sale.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_digital_change_needs_a_consumer(tenant):
    response = put(
        tenant, purchase(consumer=None, payments=[{"method": 1, "total": 30, "digital_change": 6}])
    )

    assert response.status_code == 400
    assert "consumer" in response.json()


def test_item_discounts_add_to_total_discounts(tenant, program):
    body = purchase(items=[item(unit_value=10, quantity=2, discount=3)])

    assert put(tenant, body).json()["wallet"]["total_discounts"] == 3


def test_cancel_by_pdv_and_coupon_reverses_everything(tenant, program):
    put(tenant, purchase(payments=[{"method": 1, "total": 30, "digital_change": 6}]))

    response = cancel(tenant, {"date": "2024-05-24", "pdv": "1", "coupon": "15", "type": "CF"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["already_cancelled"] is False
    assert body["purchase"]["status"] == "cancelled"
    assert body["wallet"] == {
        "total_points": 0,
        "total_balance": 0,
        "total_shoppings": 0,
        "count_shoppings": 0,
        "digital_change": 0,
        "total_discounts": 0,
    }
    assert body["reversed"]["balance"] == -1.2
    assert body["reversed"]["points"] == -24
    assert body["reversed"]["digital_change"] == -6
    assert body["reversed"]["count_shoppings"] == -1
    assert wallet_mismatches() == []


def test_cancel_by_reference_and_twice(tenant, program):
    put(tenant, SEED_PURCHASE)
    body = {"date": "2024-05-24", "type": "CF", "reference": "11"}

    first = cancel(tenant, body)
    second = cancel(tenant, body)

    assert first.json()["already_cancelled"] is False
    assert second.status_code == 200
    assert second.json()["already_cancelled"] is True
    assert second.json()["wallet"]["total_points"] == 0
    assert LedgerEntry.objects.filter(kind="reversal").count() == 3


def test_cancel_of_an_unknown_purchase_is_404(tenant, other_tenant, program):
    put(other_tenant, SEED_PURCHASE)

    assert cancel(tenant, {"date": "2024-05-24", "type": "CF", "reference": "11"}).status_code == 404
    assert cancel(tenant, {"date": "2024-05-23", "type": "CF", "reference": "11"}).status_code == 404


def test_the_seed_cancel_example_with_its_missing_comma_is_a_json_400(tenant):
    raw = '{\n    "date": "2024-05-22",\n    "type": "NF"\n    "reference": "1"\n}'

    response = tenant.pos.generic("POST", f"{POS}/shops/cancel", raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


def test_reversal_after_the_cashback_was_spent_leaves_a_visible_debt(tenant, program):
    put(tenant, purchase(items=[item(unit_value=100, quantity=1)], payments=[{"method": 1, "total": 100}]))
    customer = Customer.objects.get()
    from customers.services import wallet_debit

    wallet_debit(customer=customer, kind="balance_redeem", amounts={"balance": Decimal("5.00")})

    cancel(tenant, {"date": "2024-05-24", "type": "CF", "reference": "11"})

    wallet = Wallet.objects.get(customer=customer)
    assert wallet.balance == Decimal("-5.00")
    # Later earnings pay the debt off first.
    put(tenant, purchase(reference="12", coupon="16", items=[item(unit_value=200, quantity=1)]))
    wallet.refresh_from_db()
    assert wallet.balance == Decimal("5.00")
    assert wallet_mismatches() == []


def test_items_resolve_product_and_category_names(tenant, program):
    from promotions.models import Category

    root = Category.objects.create(account=tenant.account, name="Biscoitos e chocolates")
    child = Category.objects.create(account=tenant.account, name="Salgadinho", parent=root)

    put(tenant, SEED_PURCHASE)

    assert SaleItem.objects.get().category_id == child.pk


def test_existing_customer_keeps_its_wallet(tenant, program):
    customer = customer_create(account=tenant.account, name="Maria", document="53933515009")
    wallet_credit(customer=customer, kind="adjustment", amounts={"points": Decimal("10.00")})

    body = put(tenant, SEED_PURCHASE).json()

    assert body["wallet"]["total_points"] == 34


# --- marketing consent given or withdrawn at the till ------------------------------------------


def consent_rows(tenant):
    return list(
        ConsentChange.objects.filter(account=tenant.account)
        .order_by("id")
        .values_list("customer__document", "channel", "granted", "source", "store_id")
    )


def test_a_purchase_may_carry_the_consumers_consent_recorded_with_its_store(tenant, program):
    plain = put(tenant, SEED_PURCHASE).json()

    response = put(tenant, purchase(coupon="16", reference="12", consent={"sms": True, "email": False}))

    assert response.status_code == 201, response.content
    # The answer is the same document as without consent.
    assert response.json().keys() == plain.keys()
    assert response.json()["purchase"].keys() == plain["purchase"].keys()
    assert consent_rows(tenant) == [
        ("53933515009", "email", False, "pos", tenant.store.pk),
        ("53933515009", "sms", True, "pos", tenant.store.pk),
    ]
    state = CustomerConsent.objects.get(account=tenant.account, channel="sms")
    assert (state.granted, state.source, state.store) == (True, "pos", tenant.store)


def test_a_purchase_without_consent_records_none(tenant, program):
    assert put(tenant, SEED_PURCHASE).status_code == 201

    assert not ConsentChange.objects.exists()
    assert not CustomerConsent.objects.exists()


def test_the_consent_of_a_new_consumer_is_recorded_with_the_consumer(tenant, program):
    put(tenant, purchase(consumer="111.444.777-35", consent={"whatsapp": True}))

    assert consent_rows(tenant) == [("11144477735", "whatsapp", True, "pos", tenant.store.pk)]


def test_a_replay_records_no_consent_again(tenant, program):
    body = purchase(consent={"sms": True})
    assert put(tenant, body).status_code == 201
    customer = Customer.objects.get(account=tenant.account)
    # The customer withdraws it elsewhere; the till then sends the same purchase again.
    consent_set(customer=customer, channel="sms", granted=False, source="api")

    again = put(tenant, body)
    other_answer = put(tenant, {**body, "consent": {"sms": True, "email": True}})

    assert (again.status_code, other_answer.status_code) == (200, 200)
    assert consent_rows(tenant) == [
        ("53933515009", "sms", True, "pos", tenant.store.pk),
        ("53933515009", "sms", False, "api", None),
    ]
    assert customer.marketing_channels() == frozenset()


def test_a_conflicting_purchase_records_no_consent(tenant, program):
    put(tenant, SEED_PURCHASE)

    response = put(tenant, {**SEED_PURCHASE, "consumer": "111.444.777-35", "consent": {"sms": True}})

    assert response.status_code == 409
    assert not ConsentChange.objects.exists()


def test_the_same_idempotency_key_replays_and_another_body_under_it_is_still_a_conflict(tenant, program):
    body = purchase(consent={"sms": True})
    headers = {"HTTP_IDEMPOTENCY_KEY": "till-1-purchase-15"}

    first = tenant.pos.put(f"{POS}/shops", body, format="json", **headers)
    retry = tenant.pos.put(f"{POS}/shops", body, format="json", **headers)
    changed = tenant.pos.put(f"{POS}/shops", {**body, "consent": {"sms": False}}, format="json", **headers)

    assert first.status_code == 201
    assert (retry.status_code, retry.content) == (201, first.content)
    assert changed.status_code == 422
    assert consent_rows(tenant) == [("53933515009", "sms", True, "pos", tenant.store.pk)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (purchase(consumer=None, consent={"sms": True}), "consent"),
        (purchase(consent={"telegram": True}), "consent"),
        (purchase(consent={"sms": "sim"}), "consent"),
        (purchase(consent="sms"), "consent"),
    ],
    ids=["no consumer", "unknown channel", "not a boolean", "not an object"],
)
def test_a_consent_that_cannot_be_recorded_is_a_400_and_records_nothing(tenant, program, body, field):
    response = put(tenant, body)

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Sale.objects.exists()
    assert not ConsentChange.objects.exists()


def test_an_empty_consent_of_an_unidentified_purchase_changes_nothing(tenant, program):
    assert put(tenant, purchase(consumer=None, consent={})).status_code == 201

    assert not ConsentChange.objects.exists()


def test_consent_given_at_one_account_s_till_stays_in_that_account(tenant, other_tenant, program):
    foreign = customer_create(account=other_tenant.account, name="Outra", document="53933515009")

    put(tenant, purchase(consent={"email": True}))

    assert foreign.marketing_channels() == frozenset()
    assert not ConsentChange.objects.filter(account=other_tenant.account).exists()
    assert consent_rows(tenant) == [("53933515009", "email", True, "pos", tenant.store.pk)]
