"""POS promotions: list in the seed's shape, add, replace, delete (withdraw)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from promotions.models import Promotion
from tests.builders import POS
from tests.factories import ProductFactory, PromotionFactory

pytestmark = pytest.mark.django_db

# The seed's body, verbatim.
SEED_PROMOTION = {
    "limit": 0,
    "barcode": "1234",
    "minimum_quantity": 0,
    "percent_off": 10,
    "quantity_limit": 0,
    "starts_at": "2024-05-22 15:45:00",
    "active": True,
}


@pytest.fixture
def coffee(tenant):
    return ProductFactory(account=tenant.account, barcode="1234", name="Café Torrado 500g")


@pytest.fixture
def rice(tenant):
    return ProductFactory(
        account=tenant.account, barcode="123456789", name="Arroz", category="Arroz", subcategory="Arroz"
    )


def post_promotion(tenant, **overrides):
    return tenant.pos.post(f"{POS}/promotions", {**SEED_PROMOTION, **overrides}, format="json")


def test_the_seed_payload_creates_the_promotion(tenant, coffee):
    response = post_promotion(tenant)

    assert response.status_code == 201, response.content
    body = response.json()
    promotion = Promotion.objects.get()
    assert body["id"] == promotion.pk
    assert body["product"]["barcode"] == "1234"
    assert (body["percent_off"], body["limit"], body["quantity_limit"], body["minimum_quantity"]) == (
        10,
        0,
        0,
        0,
    )
    # A time without an offset is the account's local time (America/Sao_Paulo, UTC-3).
    assert body["starts_at"] == "2024-05-22T18:45:00.000000Z"
    assert (body["expires_at"], body["disabled_at"], body["active"]) == (None, None, True)
    assert promotion.account == tenant.account
    assert promotion.product == coffee


def test_list_has_exactly_the_seeds_shape(tenant, rice):
    promotion = PromotionFactory(
        product=rice,
        percent_off=Decimal("10"),
        limit=1,
        quantity_limit=Decimal("2"),
        minimum_quantity=Decimal("1"),
        starts_at=datetime(2024, 5, 20, 12, 6, 23, tzinfo=UTC),
    )
    Promotion.objects.filter(pk=promotion.pk).update(
        created_at=datetime(2024, 5, 20, 12, 6, 27, tzinfo=UTC),
        updated_at=datetime(2024, 5, 21, 12, 24, 52, tzinfo=UTC),
    )
    rice.refresh_from_db()

    response = tenant.pos.get(f"{POS}/promotions")

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": promotion.pk,
            "product": {
                "id": rice.pk,
                "account_id": tenant.account.pk,
                "unit": "un",
                "name": "Arroz",
                "category": "Arroz",
                "subcategory": "Arroz",
                "barcode": "123456789",
                "active": 1,
                "created_at": rice.created_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "updated_at": rice.updated_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
            "percent_off": 10,
            "limit": 1,
            "quantity_limit": 2,
            "minimum_quantity": 1,
            "starts_at": "2024-05-20T12:06:23.000000Z",
            "expires_at": None,
            "disabled_at": None,
            "active": True,
            "created_at": "2024-05-20T12:06:27.000000Z",
            "updated_at": "2024-05-21T12:24:52.000000Z",
        }
    ]
    # Numbers are JSON numbers, as in the seed.
    assert b'"percent_off":10,"limit":1,"quantity_limit":2,"minimum_quantity":1,' in response.content


def test_list_filters_by_switch_and_barcode_and_never_leaks(tenant, other_tenant, coffee, rice):
    on = PromotionFactory(product=coffee)
    off = PromotionFactory(product=rice, active=False)
    PromotionFactory(product=ProductFactory(account=other_tenant.account, barcode="1234"))

    def ids(**params):
        response = tenant.pos.get(f"{POS}/promotions", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()]

    assert ids() == [off.pk, on.pk]
    assert ids(active=1) == [on.pk]
    assert ids(active=0) == [off.pk]
    assert ids(barcode="1234") == [on.pk]
    assert ids(barcode="1234", active=0) == []
    assert tenant.pos.get(f"{POS}/promotions", {"active": "sim"}).status_code == 400


def test_put_replaces_every_field(tenant, coffee, rice):
    promotion = PromotionFactory(product=coffee, limit=3, quantity_limit=Decimal(5))

    response = tenant.pos.put(
        f"{POS}/promotions/{promotion.pk}",
        {
            "barcode": "123456789",
            "percent_off": 12.5,
            "starts_at": "2024-06-01T00:00:00Z",
            "expires_at": "2024-07-01",
            "active": False,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == promotion.pk
    assert body["product"]["barcode"] == "123456789"
    assert (body["percent_off"], body["limit"], body["quantity_limit"], body["active"]) == (12.5, 0, 0, False)
    assert body["expires_at"] == "2024-07-01T03:00:00.000000Z"
    promotion.refresh_from_db()
    assert (promotion.product, promotion.percent_off) == (rice, Decimal("12.50"))


def test_the_seed_payload_replaces_with_put(tenant, coffee):
    promotion = PromotionFactory(product=coffee, percent_off=Decimal(50))

    response = tenant.pos.put(f"{POS}/promotions/{promotion.pk}", SEED_PROMOTION, format="json")

    assert response.status_code == 200
    assert response.json()["percent_off"] == 10


def test_delete_withdraws_it_from_the_list_and_later_calls(tenant, coffee):
    promotion = PromotionFactory(product=coffee)
    url = f"{POS}/promotions/{promotion.pk}"

    response = tenant.pos.delete(url)

    assert response.status_code == 204
    promotion.refresh_from_db()
    assert promotion.disabled_at is not None
    assert tenant.pos.get(f"{POS}/promotions").json() == []
    assert tenant.pos.get(url).status_code == 404
    assert tenant.pos.put(url, SEED_PROMOTION, format="json").status_code == 404
    assert tenant.pos.delete(url).status_code == 404
    assert Promotion.objects.filter(pk=promotion.pk).exists()


def test_another_accounts_promotion_is_404_for_get_put_and_delete(tenant, other_tenant, coffee):
    promotion = PromotionFactory(product=coffee)
    ProductFactory(account=other_tenant.account, barcode="1234")
    url = f"{POS}/promotions/{promotion.pk}"

    assert other_tenant.pos.get(url).status_code == 404
    response = other_tenant.pos.put(url, SEED_PROMOTION, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert other_tenant.pos.delete(url).status_code == 404
    promotion.refresh_from_db()
    assert (promotion.disabled_at, promotion.percent_off) == (None, Decimal("10.00"))
    assert tenant.pos.get(f"{POS}/promotions/{promotion.pk + 1000}").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("percent_off", 0, "percent_off must be more than 0 and at most 100. Got 0."),
        ("percent_off", -5, "percent_off must be more than 0 and at most 100. Got -5."),
        ("percent_off", 100.01, "percent_off must be more than 0 and at most 100. Got 100.01."),
        ("percent_off", 1000, "percent_off must be more than 0 and at most 100."),
        ("limit", -1, "Ensure this value is greater than or equal to 0."),
        ("quantity_limit", -1, "Ensure this value is greater than or equal to 0."),
        ("minimum_quantity", -0.5, "Ensure this value is greater than or equal to 0."),
        ("barcode", "12-34", "Invalid barcode: a barcode is 1 to 20 digits (0-9)."),
        ("barcode", "9" * 21, "Invalid barcode: a barcode is 1 to 20 digits (0-9)."),
        (
            "barcode",
            "4321",
            "No product with this barcode in this account; register it with POST /products.",
        ),
        ("starts_at", "2024-02-30", "Invalid date/time '2024-02-30'."),
        ("starts_at", "22/05/2024", "Invalid date/time '22/05/2024'."),
        ("expires_at", "2024-05-22 15:45", "Must be after starts_at, or null for an open-ended promotion."),
        ("expires_at", "2024-05-01", "Must be after starts_at, or null for an open-ended promotion."),
    ],
)
def test_invalid_fields_are_400_saying_what_is_accepted(tenant, coffee, field, value, message):
    response = post_promotion(tenant, **{field: value})

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert body[field][0].startswith(message)
    assert not Promotion.objects.exists()


def test_a_barcode_of_another_account_is_400_on_barcode(tenant, other_tenant, coffee):
    response = post_promotion(other_tenant)

    assert response.status_code == 400
    assert list(response.json()) == ["barcode"]


@pytest.mark.parametrize(
    ("starts_at", "expected"),
    [
        ("2024-05-22 15:45:00", "2024-05-22T18:45:00.000000Z"),
        ("2024-05-22 15:45", "2024-05-22T18:45:00.000000Z"),
        ("2024-05-22", "2024-05-22T03:00:00.000000Z"),
        ("2024-05-22T15:45:00-03:00", "2024-05-22T18:45:00.000000Z"),
        ("2024-05-22T18:45:00Z", "2024-05-22T18:45:00.000000Z"),
    ],
)
def test_dates_in_every_accepted_format(tenant, coffee, starts_at, expected):
    response = post_promotion(tenant, starts_at=starts_at)

    assert response.status_code == 201, response.content
    assert response.json()["starts_at"] == expected


def test_omitted_fields_take_their_defaults(tenant, coffee):
    before = timezone.now()

    response = tenant.pos.post(f"{POS}/promotions", {"barcode": "1234", "percent_off": 5}, format="json")

    assert response.status_code == 201
    promotion = Promotion.objects.get()
    assert (promotion.limit, promotion.quantity_limit, promotion.minimum_quantity) == (0, 0, 0)
    assert (promotion.active, promotion.expires_at) == (True, None)
    assert promotion.starts_at >= before


def test_missing_required_fields_are_named(tenant):
    response = tenant.pos.post(f"{POS}/promotions", {}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"barcode", "percent_off"}


@pytest.mark.parametrize("size", [5, 100])
def test_list_costs_the_same_whatever_its_length(tenant, size, django_assert_num_queries):
    for _ in range(size):
        PromotionFactory(product=ProductFactory(account=tenant.account, subcategory="Sub"))

    # Credential with the store, promotions with their products and categories joined.
    with django_assert_num_queries(2):
        response = tenant.pos.get(f"{POS}/promotions")

    assert len(response.json()) == size


def test_create_costs_a_bounded_number_of_queries(tenant, coffee, django_assert_num_queries):
    # The request's savepoint; credential with the store, product by barcode, insert and its
    # change history row.
    with django_assert_num_queries(6):
        assert post_promotion(tenant).status_code == 201


def test_get_put_and_delete_cost_a_fixed_number_of_queries(tenant, coffee, django_assert_num_queries):
    url = f"{POS}/promotions/{PromotionFactory(product=coffee).pk}"

    # Credential with the store, the promotion with its product and categories.
    with django_assert_num_queries(2):
        assert tenant.pos.get(url).status_code == 200
    # ... then, in the request's savepoint, the product by barcode, the update and its change
    # history row (the credential and store are in memory since the GET).
    with django_assert_num_queries(6):
        assert tenant.pos.put(url, SEED_PROMOTION, format="json").status_code == 200
    # ... or only the update (and its history row).
    with django_assert_num_queries(5):
        assert tenant.pos.delete(url).status_code == 204
