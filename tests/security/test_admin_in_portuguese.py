"""Every list and form of the back office, in pt-BR, for a scoped staff user and a superuser.

The ModelAdmins come from the admin site itself, as in the isolation tests: a newly
registered model is covered at once. Each page answers, speaks Portuguese (its model's
name as the catalogue says it) and shows no UTC time.
"""

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst

from tests.security.test_admin_isolation import product_admins

pytestmark = [pytest.mark.django_db, pytest.mark.language("pt-br")]

#: Names that are the same word in both languages.
SAME_IN_BOTH = {"Cashback", "Vouchers"}


@pytest.fixture
def staff_alfa(alfa, make_staff):
    return make_staff(alfa.account, username="staff-alfa")


def names(opts, language: str) -> tuple[str, str]:
    with translation.override(language):
        return capfirst(str(opts.verbose_name)), capfirst(str(opts.verbose_name_plural))


@pytest.mark.parametrize("model_admin", product_admins(), ids=lambda ma: ma.model._meta.label)
def test_every_list_and_form_answers_in_portuguese(client, alfa, staff_alfa, superuser, model_admin):
    opts = model_admin.model._meta
    obj = alfa.first_object_of(model_admin.model)
    singular, plural = names(opts, "pt-br")
    assert plural != names(opts, "en")[1] or plural in SAME_IN_BOTH, f"{opts.label} has no Portuguese name"
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")

    for user in (staff_alfa, superuser):
        client.force_login(user)
        request = RequestFactory().get(changelist)
        request.user = user
        if not model_admin.has_view_or_change_permission(request):
            assert client.get(changelist).status_code == 403  # memberships: superusers only
            continue
        pages = [changelist, change]
        if model_admin.has_add_permission(request):
            pages.append(add)
        for url in pages:
            response = client.get(url)
            html = response.content.decode()
            assert response.status_code == 200, (user, url)
            assert '<html lang="pt-br"' in html, url
            assert plural in html or singular in html, (url, plural)
            assert " UTC" not in html, url
