"""Tenant isolation in the admin: staff of B against A's objects, for every ModelAdmin.

The ModelAdmins and their object pages come from the admin site itself, so a newly
registered model is covered at once (and fails here until account A holds one of its
objects). Each object page of A answers B's staff exactly as a missing object does, its
actions change nothing of A's, its changelist and autocompletes show none of A's values.
"""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.builders import PRODUCT_APPS
from tests.snapshots import account_rows, changed_models

pytestmark = pytest.mark.django_db

MISSING_ID = 987654321
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def product_admins():
    return sorted(
        (
            model_admin
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in PRODUCT_APPS
        ),
        key=lambda model_admin: model_admin.model._meta.label,
    )


def object_urls(model_admin, pk) -> list[str]:
    """Every page of the ModelAdmin that takes an object id, for this id."""
    opts = model_admin.model._meta
    urls = [f"{reverse(f'admin:{opts.app_label}_{opts.model_name}_changelist')}{pk}/"]
    for pattern in model_admin.get_urls():
        if "object_id" in str(pattern.pattern) and pattern.name:
            urls.append(reverse(f"admin:{pattern.name}", args=[pk]))
    return urls


def seen(response) -> tuple[int, str]:
    return response.status_code, response.get("Location", "")


@pytest.fixture
def world(alfa, beta, make_staff, staff_b):
    make_staff(alfa.account, username="staff-alfa")
    return alfa, beta, staff_b


def test_every_product_model_admin_is_probed(world):
    alfa, _, _ = world
    admins = product_admins()

    assert len(admins) >= 15
    unheld = [ma.model._meta.label for ma in admins if alfa.first_object_of(ma.model) is None]
    assert unheld == [], f"Give account A an object of these models (tests/security/holdings.py): {unheld}"


@pytest.mark.parametrize("model_admin", product_admins(), ids=lambda ma: ma.model._meta.label)
def test_object_pages_of_a_answer_b_like_missing_objects(client, world, model_admin):
    alfa, _, staff_b = world
    foreign = alfa.first_object_of(model_admin.model)
    client.force_login(staff_b)
    before = account_rows(alfa.account)

    for foreign_url, missing_url in zip(
        object_urls(model_admin, foreign.pk), object_urls(model_admin, MISSING_ID), strict=True
    ):
        for method in ("get", "post"):
            foreign_answer = seen(getattr(client, method)(foreign_url, follow=False))
            missing_answer = seen(getattr(client, method)(missing_url, follow=False))

            # 403: the page is refused to this user whatever the object (e.g. deleting).
            assert foreign_answer[0] in (301, 302, 403, 404), (method, foreign_url, foreign_answer)
            assert foreign_answer == tuple(
                str(part).replace(str(MISSING_ID), str(foreign.pk)) if isinstance(part, str) else part
                for part in missing_answer
            ), (method, foreign_url)
            if foreign_answer[0] in (301, 302):
                assert str(foreign.pk) not in foreign_answer[1] or foreign_answer[1].endswith("/change/")

    assert changed_models(before, account_rows(alfa.account)) == []


@pytest.mark.parametrize("model_admin", product_admins(), ids=lambda ma: ma.model._meta.label)
def test_actions_on_a_selection_of_as_objects_change_nothing(client, world, model_admin, rf):
    alfa, _, staff_b = world
    foreign = alfa.first_object_of(model_admin.model)
    client.force_login(staff_b)
    request = rf.get("/admin/")
    request.user = staff_b
    changelist = reverse(
        f"admin:{model_admin.model._meta.app_label}_{model_admin.model._meta.model_name}_changelist"
    )
    before = account_rows(alfa.account)

    for action in model_admin.get_actions(request):
        response = client.post(
            changelist,
            {
                "action": action,
                admin.helpers.ACTION_CHECKBOX_NAME: [foreign.pk],
                "index": 0,
                "confirmed": "yes",
                "post": "yes",
            },
        )

        assert response.status_code in (200, 302), (action, response.status_code)

    assert changed_models(before, account_rows(alfa.account)) == []


def without_random_tokens(html: str) -> str:
    """The page without its CSRF tokens: 64 random letters and digits may spell "alfa"."""
    return CSRF_TOKEN.sub("", html)


@pytest.mark.parametrize("model_admin", product_admins(), ids=lambda ma: ma.model._meta.label)
def test_changelists_show_b_nothing_of_a(client, world, model_admin):
    alfa, _, staff_b = world
    client.force_login(staff_b)
    opts = model_admin.model._meta

    response = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))

    assert response.status_code in (200, 403)  # 403: not open to merchant staff at all
    html = without_random_tokens(response.content.decode())
    assert "alfa" not in html.lower()
    assert [marker for marker in alfa.markers if marker in html] == []
    assert (
        reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=[alfa.first_object_of(model_admin.model).pk],
        )
        not in html
    )


def autocomplete_cases():
    return [
        (model_admin, field_name)
        for model_admin in product_admins()
        for field_name in model_admin.autocomplete_fields
    ]


@pytest.mark.parametrize(
    ("model_admin", "field_name"),
    autocomplete_cases(),
    ids=[f"{ma.model._meta.label}.{name}" for ma, name in autocomplete_cases()],
)
def test_autocompletes_offer_b_nothing_of_a(client, world, model_admin, field_name):
    _, _, staff_b = world
    client.force_login(staff_b)
    opts = model_admin.model._meta

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": opts.app_label, "model_name": opts.model_name, "field_name": field_name, "term": ""},
    )

    assert response.status_code in (200, 403)
    assert "alfa" not in without_random_tokens(response.content.decode()).lower()
