"""Products, categories and promotions in the admin: pages, search, status, actions, scoping."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from promotions.models import Category, Product, Promotion
from promotions.selectors import PromotionStatus, promotion_status, promotion_status_condition
from promotions.services import promotion_disable
from tests.factories import CustomerFactory, ProductFactory, PromotionFactory, record_promotion_use

pytestmark = pytest.mark.django_db


@pytest.fixture
def chips(merchant):
    return ProductFactory(
        account=merchant.account,
        barcode="13456789",
        name="Batata Pringles Cheddar Bacon 105g",
        category="Biscoitos e chocolates",
        subcategory="Salgadinho",
    )


@pytest.fixture
def rice(merchant):
    return ProductFactory(account=merchant.account, barcode="123456789", name="Arroz", category="Arroz")


@pytest.fixture
def promotion(chips):
    return PromotionFactory(product=chips, limit=2)


def changelist(client, model, **params):
    response = client.get(reverse(f"admin:promotions_{model}_changelist"), params)
    assert response.status_code == 200, response.content
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize("user", ["staff_a", "superuser"])
def test_every_changelist_change_and_add_form_loads(client, request, user, promotion):
    client.force_login(request.getfixturevalue(user))
    category = Category.objects.get(name="Salgadinho")

    for model, obj in (("promotion", promotion), ("product", promotion.product), ("category", category)):
        assert client.get(reverse(f"admin:promotions_{model}_changelist")).status_code == 200
        assert client.get(reverse(f"admin:promotions_{model}_change", args=[obj.pk])).status_code == 200
        assert client.get(reverse(f"admin:promotions_{model}_add")).status_code == 200


@pytest.mark.parametrize(("term", "expected"), [("1345", "chips"), ("pringles", "chips"), ("ARROZ", "rice")])
def test_search_by_barcode_and_name(client, staff_a, chips, rice, term, expected):
    client.force_login(staff_a)
    product = {"chips": chips, "rice": rice}[expected]
    promotions = {product.pk: PromotionFactory(product=product) for product in (chips, rice)}

    assert changelist(client, "product", q=term) == [product]
    assert changelist(client, "promotion", q=term) == [promotions[product.pk]]


def test_category_tree_shows_paths_and_filters_by_parent(client, staff_a, chips, rice):
    client.force_login(staff_a)
    root = Category.objects.get(name="Biscoitos e chocolates")

    html = client.get(reverse("admin:promotions_category_changelist")).content.decode()
    assert "Biscoitos e chocolates › Salgadinho" in html
    assert [category.name for category in changelist(client, "category", parent=root.pk)] == ["Salgadinho"]
    assert {category.name for category in changelist(client, "category", parent="none")} == {
        "Biscoitos e chocolates",
        "Arroz",
    }
    assert [category.name for category in changelist(client, "category", q="salg")] == ["Salgadinho"]


def test_product_and_promotion_category_filters(client, staff_a, chips, rice):
    client.force_login(staff_a)
    on_chips = PromotionFactory(product=chips)
    PromotionFactory(product=rice)
    subcategory = Category.objects.get(name="Salgadinho")

    assert changelist(client, "product", category=subcategory.pk) == [chips]
    assert changelist(client, "product", category=subcategory.parent_id) == [chips]
    assert changelist(client, "promotion", category=subcategory.pk) == [on_chips]


def test_status_column_and_filter(client, staff_a, chips, rice, merchant):
    client.force_login(staff_a)
    now = timezone.now()
    active = PromotionFactory(product=chips)
    scheduled = PromotionFactory(product=chips, starts_at=now + timedelta(days=2))
    expired = PromotionFactory(
        product=rice, starts_at=now - timedelta(days=9), expires_at=now - timedelta(days=1)
    )
    switched_off = PromotionFactory(product=rice, active=False)
    withdrawn = promotion_disable(promotion=PromotionFactory(product=rice))

    expected = {
        "active": [active],
        "scheduled": [scheduled],
        "expired": [expired],
        "disabled": [withdrawn, switched_off],
    }
    for status, promotions in expected.items():
        assert changelist(client, "promotion", status=status) == promotions
        for promotion in promotions:
            assert promotion_status(promotion, at=timezone.now()) == status
            assert (
                Promotion.objects.filter(promotion_status_condition(PromotionStatus(status), at=now))
                .filter(pk=promotion.pk)
                .exists()
            )
    html = client.get(reverse("admin:promotions_promotion_changelist")).content.decode()
    for label in ("Scheduled", "Active", "Expired", "Disabled"):
        assert f'<td class="field-status">{label}</td>' in html


def page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_uses_column_counts_unreleased_uses_without_a_query_per_row(client, staff_a, merchant, chips, rice):
    client.force_login(staff_a)
    promotion = PromotionFactory(product=chips, limit=0)
    customer = CustomerFactory(account=merchant.account)
    record_promotion_use(promotion, customer, reference="1")
    record_promotion_use(promotion, customer, reference="2")
    record_promotion_use(promotion, customer, reference="3", released=True)
    url = reverse("admin:promotions_promotion_changelist")
    one_row = page_queries(client, url)

    for _ in range(20):
        PromotionFactory(product=rice)

    assert page_queries(client, url) == one_row
    rows = changelist(client, "promotion", o="6")  # sorted by the uses column, ascending
    assert (len(rows), rows[-1], rows[-1].live_uses) == (21, promotion, 2)


def test_bulk_actions_disable_and_activate_through_the_services(client, staff_a, promotion):
    client.force_login(staff_a)
    url = reverse("admin:promotions_promotion_changelist")

    client.post(url, {"action": "disable_selected", "_selected_action": [promotion.pk]})
    promotion.refresh_from_db()
    assert promotion.disabled_at is not None

    client.post(url, {"action": "activate_selected", "_selected_action": [promotion.pk]})
    promotion.refresh_from_db()
    assert (promotion.disabled_at, promotion.active) == (None, True)


def test_promotions_cannot_be_deleted_only_disabled(client, staff_a, promotion):
    client.force_login(staff_a)

    assert client.get(reverse("admin:promotions_promotion_delete", args=[promotion.pk])).status_code == 403


def test_add_a_promotion_in_the_form(client, staff_a, merchant, chips):
    client.force_login(staff_a)
    url = reverse("admin:promotions_promotion_add")
    form = {
        "product": chips.pk,
        "percent_off": "15",
        "limit": "1",
        "quantity_limit": "2",
        "minimum_quantity": "0",
        "starts_at_0": "2024-05-22",
        "starts_at_1": "15:45:00",
        "active": "on",
    }

    refused = client.post(
        url, {**form, "percent_off": "0", "expires_at_0": "2024-05-01", "expires_at_1": "00:00"}
    )
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert errors == {
        "percent_off": ["Must be more than 0 and at most 100."],
        "expires_at": ["Must be after the start, or empty for an open-ended promotion."],
    }

    response = client.post(url, form)

    assert response.status_code == 302
    promotion = Promotion.objects.get()
    assert (promotion.account, promotion.product, promotion.percent_off) == (merchant.account, chips, 15)


def test_add_a_duplicate_category_names_the_existing_one(client, staff_a, chips):
    client.force_login(staff_a)
    root = Category.objects.get(name="Biscoitos e chocolates")

    response = client.post(reverse("admin:promotions_category_add"), {"name": "BISCOITOS E CHOCOLATES"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "name": [f"This parent already has a category of that name (id {root.pk})."]
    }
    assert client.post(reverse("admin:promotions_category_add"), {"name": "Bebidas"}).status_code == 302
    assert Category.objects.get(name="Bebidas").account == root.account


def test_a_product_subcategory_must_belong_to_its_category(client, staff_a, chips, rice):
    client.force_login(staff_a)
    form = {
        "barcode": "555",
        "name": "Bolacha",
        "unit": "un",
        "category": rice.category_id,
        "subcategory": chips.subcategory_id,
        "price": "3.50",
        "active": "on",
    }

    response = client.post(reverse("admin:promotions_product_add"), form)

    assert response.context["adminform"].form.errors == {
        "subcategory": ["Choose a subcategory of the chosen category."]
    }
    response = client.post(reverse("admin:promotions_product_add"), {**form, "category": chips.category_id})
    assert response.status_code == 302
    assert Product.objects.get(barcode="555").subcategory == chips.subcategory


def test_staff_of_b_sees_none_of_as_rows(client, staff_b, promotion):
    client.force_login(staff_b)

    assert changelist(client, "promotion") == []
    assert changelist(client, "product") == []
    assert changelist(client, "category") == []
    assert changelist(client, "product", q="13456789") == []
    for model, obj in (("promotion", promotion), ("product", promotion.product)):
        assert client.get(reverse(f"admin:promotions_{model}_change", args=[obj.pk])).status_code == 302
    html = client.get(reverse("admin:promotions_promotion_changelist")).content.decode()
    assert "Salgadinho" not in html  # not even in the category filter


def test_staff_of_b_gets_no_product_of_a_in_the_autocomplete(
    client, staff_a, staff_b, promotion, other_merchant
):
    own = ProductFactory(account=other_merchant.account, barcode="13456780", name="Batata Lisa 100g")
    params = {"app_label": "promotions", "model_name": "promotion", "field_name": "product", "term": "Batata"}

    client.force_login(staff_b)
    response = client.get("/admin/autocomplete/", params)
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [str(own.pk)]

    client.force_login(staff_a)
    response = client.get("/admin/autocomplete/", params)
    assert [row["id"] for row in response.json()["results"]] == [str(promotion.product.pk)]


def test_staff_of_b_cannot_act_on_as_promotion(client, staff_b, promotion):
    client.force_login(staff_b)

    client.post(
        reverse("admin:promotions_promotion_changelist"),
        {"action": "disable_selected", "_selected_action": [promotion.pk]},
    )

    promotion.refresh_from_db()
    assert promotion.disabled_at is None


def test_superuser_sees_every_account(client, superuser, promotion, other_merchant):
    other = PromotionFactory(product=ProductFactory(account=other_merchant.account, barcode="13456789"))
    client.force_login(superuser)

    assert set(changelist(client, "promotion", q="13456789")) == {promotion, other}
    assert len(changelist(client, "product", q="13456789")) == 2


def test_window_is_shown_in_the_accounts_time(client, staff_a, chips):
    client.force_login(staff_a)
    PromotionFactory(
        product=chips,
        starts_at=datetime(2024, 5, 22, 18, 45, tzinfo=UTC),
        expires_at=datetime(2024, 6, 1, 3, tzinfo=UTC),
    )

    html = client.get(reverse("admin:promotions_promotion_changelist")).content.decode()

    assert "05/22/2024 15:45 – 06/01/2024 00:00" in html
