"""v2 categories: the account's two-level tree with product counts."""

import pytest

from promotions.models import Category
from promotions.services import category_create, category_get_or_create
from tests.builders import V2
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def create(tenant, **body):
    return tenant.v2.post(f"{V2}/categories", body, format="json")


def test_create_a_category_and_a_child(tenant):
    root = create(tenant, name="  Biscoitos e chocolates ")

    assert root.status_code == 201, root.content
    assert root.json() == {
        "id": root.json()["id"],
        "name": "Biscoitos e chocolates",
        "parent": None,
        "product_count": 0,
        "coupon_count": 0,
    }
    child = create(tenant, name="Salgadinho", parent=root.json()["id"])
    assert child.status_code == 201
    assert child.json()["parent"] == root.json()["id"]
    assert Category.objects.get(pk=child.json()["id"]).account == tenant.account


def test_a_name_taken_under_the_same_parent_is_400_naming_the_existing_one(tenant):
    root = category_create(account=tenant.account, name="Mercearia")
    child = category_create(account=tenant.account, name="Café", parent=root)

    response = create(tenant, name="MERCEARIA")
    assert response.status_code == 400
    assert response.json() == {
        "name": [f"A category named 'Mercearia' already exists at the top level (id {root.pk})."]
    }
    response = create(tenant, name="café", parent=root.pk)
    assert response.json() == {
        "name": [f"A category named 'Café' already exists under this parent (id {child.pk})."]
    }
    # The same name under another parent, or in another account, is another category.
    assert create(tenant, name="Café").status_code == 201


def test_a_parent_of_another_account_is_400(tenant, other_tenant):
    foreign = category_create(account=other_tenant.account, name="Bebidas")

    response = create(tenant, name="Sucos", parent=foreign.pk)

    assert response.status_code == 400
    assert response.json() == {"parent": [f"No category with id {foreign.pk} in this account."]}
    assert not Category.objects.filter(account=tenant.account).exists()


def test_a_subcategory_cannot_be_a_parent(tenant):
    root = category_create(account=tenant.account, name="Mercearia")
    child = category_create(account=tenant.account, name="Café", parent=root)

    response = create(tenant, name="Moído", parent=child.pk)

    assert response.status_code == 400
    assert "the parent must be a top-level category" in response.json()["parent"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Ab"}, "name"),
        ({"name": "A" * 101}, "name"),
        ({}, "name"),
        ({"name": "Bebidas", "parent": "x"}, "parent"),
        ({"name": "Bebidas", "parent": 999999}, "parent"),
    ],
)
def test_invalid_bodies_are_400(tenant, body, field):
    response = create(tenant, **body)

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_list_counts_products_and_filters(tenant, other_tenant):
    ProductFactory(account=tenant.account, category="Mercearia", subcategory="Café")
    ProductFactory(account=tenant.account, category="Mercearia", subcategory="Café")
    ProductFactory(account=tenant.account, category="Mercearia")
    ProductFactory(account=other_tenant.account, category="Mercearia", subcategory="Café")
    bebidas = category_create(account=tenant.account, name="Bebidas")
    root = Category.objects.get(account=tenant.account, name="Mercearia")

    def rows(**params):
        response = tenant.v2.get(f"{V2}/categories", params)
        assert response.status_code == 200, response.content
        return [(row["name"], row["parent"], row["product_count"]) for row in response.json()["results"]]

    assert rows() == [("Bebidas", None, 0), ("Café", root.pk, 2), ("Mercearia", None, 3)]
    assert rows(parent=root.pk) == [("Café", root.pk, 2)]
    assert rows(parent="none") == [("Bebidas", None, 0), ("Mercearia", None, 3)]
    assert rows(name="EBID") == [("Bebidas", None, 0)]
    assert rows(parent=bebidas.pk) == []
    assert tenant.v2.get(f"{V2}/categories").json()["count"] == 3


def test_a_bad_parent_filter_is_400(tenant):
    response = tenant.v2.get(f"{V2}/categories", {"parent": "roots"})

    assert response.status_code == 400
    assert list(response.json()) == ["parent"]


def test_needs_the_bearer_token(anonymous):
    assert anonymous.get(f"{V2}/categories").status_code == 401
    assert anonymous.post(f"{V2}/categories", {"name": "Bebidas"}, format="json").status_code == 401


def test_create_costs_a_fixed_number_of_queries(tenant, django_assert_num_queries):
    root = category_create(account=tenant.account, name="Mercearia")

    # The request's savepoint; credential, the parent, the name lookup, then the insert in a
    # savepoint (two tills may create the same category at once).
    with django_assert_num_queries(8):
        assert create(tenant, name="Café", parent=root.pk).status_code == 201


def test_get_or_create_matches_any_case_within_the_parent(tenant):
    root = category_get_or_create(account=tenant.account, name="Mercearia")

    assert category_get_or_create(account=tenant.account, name=" MERCEARIA ") == root
    child = category_get_or_create(account=tenant.account, name="Mercearia", parent=root)
    assert child != root
    assert child.parent == root
    assert Category.objects.count() == 2
