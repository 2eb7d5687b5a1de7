"""POS products: "Cadastrar produto" (upsert by barcode), the list and one product by barcode."""

from decimal import Decimal

import pytest

from promotions.models import Category, Product
from tests.builders import POS
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db

# The seed's body, verbatim.
SEED_PRODUCT = {
    "unit": "un",
    "name": "Batata Pringles Cheddar Bacon 105g",
    "category": "Biscoitos e chocolates",
    "subcategory": "Salgadinho",
    "barcode": "13456789",
    "price": 12.99,
    "active": True,
}


def post_product(tenant, **overrides):
    return tenant.pos.post(f"{POS}/products", {**SEED_PRODUCT, **overrides}, format="json")


def test_the_seed_payload_creates_the_product_with_its_categories(tenant):
    response = post_product(tenant)

    assert response.status_code == 201, response.content
    body = response.json()
    product = Product.objects.get()
    assert list(body) == [
        "id",
        "account_id",
        "unit",
        "name",
        "category",
        "subcategory",
        "barcode",
        "active",
        "created_at",
        "updated_at",
        "price",
    ]
    assert body["id"] == product.pk
    assert body["account_id"] == tenant.account.pk
    assert (body["unit"], body["name"], body["barcode"]) == ("un", SEED_PRODUCT["name"], "13456789")
    assert (body["category"], body["subcategory"]) == ("Biscoitos e chocolates", "Salgadinho")
    assert body["active"] == 1
    assert body["price"] == 12.99
    assert body["created_at"].endswith("Z")
    assert product.price == Decimal("12.99")
    assert product.subcategory.parent == product.category
    assert product.category.parent is None


def test_posting_a_known_barcode_updates_it_and_reuses_categories_in_any_case(tenant):
    first = post_product(tenant).json()

    response = post_product(
        tenant, name="Pringles Original 105g", category="BISCOITOS E CHOCOLATES", price=13.5, active=False
    )

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == first["id"]
    assert (body["name"], body["price"], body["active"]) == ("Pringles Original 105g", 13.5, 0)
    assert body["category"] == "Biscoitos e chocolates"
    assert Product.objects.count() == 1
    assert Category.objects.count() == 2


def test_the_same_barcode_in_another_account_is_another_product(tenant, other_tenant):
    assert post_product(tenant).status_code == 201
    assert post_product(other_tenant).status_code == 201
    assert Category.objects.filter(account=other_tenant.account).count() == 2


def test_a_product_without_categories(tenant):
    response = post_product(tenant, category=None, subcategory=None)

    assert response.status_code == 201
    assert (response.json()["category"], response.json()["subcategory"]) == (None, None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit", "kilo", '"kilo" is not a unit; use one of pc, kg, mt, cx, jg, pr, cj, un, hr, pt, lt.'),
        ("name", "Ab", "The name must be 3 to 100 characters long."),
        ("name", "A" * 101, "The name must be 3 to 100 characters long."),
        ("category", "Ab", "The category must be 3 to 100 characters long."),
        ("category", "C" * 101, "The category must be 3 to 100 characters long."),
        ("subcategory", "Ab", "The subcategory must be 3 to 100 characters long."),
        ("subcategory", "S" * 101, "The subcategory must be 3 to 100 characters long."),
        ("barcode", "12A45", "Invalid barcode: a barcode is 1 to 20 digits (0-9)."),
        ("barcode", "1" * 21, "Invalid barcode: a barcode is 1 to 20 digits (0-9)."),
        ("barcode", "", "This field may not be blank."),
        ("price", -1, "Ensure this value is greater than or equal to 0."),
        ("price", "abc", "A valid number is required."),
    ],
)
def test_invalid_fields_are_400_saying_what_is_accepted(tenant, field, value, message):
    response = post_product(tenant, **{field: value})

    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not Product.objects.exists()
    assert not Category.objects.exists()


def test_a_subcategory_needs_its_category(tenant):
    response = post_product(tenant, category=None)

    assert response.status_code == 400
    assert response.json() == {"subcategory": ["A subcategory needs its category: send both."]}


def test_a_numeric_barcode_is_read_as_its_digits(tenant):
    response = post_product(tenant, barcode=13456789)

    assert response.status_code == 201
    assert response.json()["barcode"] == "13456789"


def test_trailing_slash_is_accepted(tenant):
    assert tenant.pos.post(f"{POS}/products/", SEED_PRODUCT, format="json").status_code == 201


def test_get_one_by_barcode(tenant):
    product = ProductFactory(account=tenant.account, barcode="13456789", price=Decimal("12.99"))

    response = tenant.pos.get(f"{POS}/products/13456789")

    assert response.status_code == 200
    assert response.json()["id"] == product.pk
    assert response.json()["price"] == 12.99


def test_another_accounts_barcode_is_404(tenant, other_tenant):
    ProductFactory(account=tenant.account, barcode="13456789")

    response = other_tenant.pos.get(f"{POS}/products/13456789")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert tenant.pos.get(f"{POS}/products/99999").status_code == 404


def test_list_is_paginated_newest_first_and_filters(tenant, other_tenant):
    old = ProductFactory(account=tenant.account, category="Bebidas", subcategory="Sucos", active=False)
    new = ProductFactory(account=tenant.account, category="Mercearia")
    ProductFactory(account=other_tenant.account)

    def ids(**params):
        response = tenant.pos.get(f"{POS}/products", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    body = tenant.pos.get(f"{POS}/products").json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert ids() == [new.pk, old.pk]
    assert ids(barcode=old.barcode) == [old.pk]
    assert ids(active=1) == [new.pk]
    assert ids(active="false") == [old.pk]
    assert ids(category="bebidas") == [old.pk]
    assert ids(category="SUCOS") == [old.pk]
    assert ids(page_size=1, page=2) == [old.pk]


@pytest.mark.parametrize(
    ("params", "field"), [({"active": "yes"}, "active"), ({"page_size": 501}, "page_size")]
)
def test_bad_list_parameters_are_400(tenant, params, field):
    response = tenant.pos.get(f"{POS}/products", params)

    assert response.status_code == 400
    assert field in response.json()


def test_needs_the_store_token(tenant, anonymous):
    anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.access_token}")

    assert anonymous.post(f"{POS}/products", SEED_PRODUCT, format="json").status_code == 401
    assert not Product.objects.exists()


def test_get_one_costs_two_queries(tenant, django_assert_num_queries):
    ProductFactory(account=tenant.account, barcode="13456789", subcategory="Salgadinho")

    with django_assert_num_queries(2):
        assert tenant.pos.get(f"{POS}/products/13456789").status_code == 200


def test_registering_costs_a_fixed_number_of_queries(tenant, django_assert_num_queries):
    # The request's savepoint; credential with the store; each category looked up, then inserted
    # in a savepoint; the product looked up (locked), then inserted in a savepoint.
    with django_assert_num_queries(15):
        assert post_product(tenant).status_code == 201
    # Known categories and product: three lookups and one update.
    with django_assert_num_queries(7):
        assert post_product(tenant).status_code == 200
